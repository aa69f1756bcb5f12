// Which resource ARNs an authorized event used for one of its actions: the ARNs a least-privilege
// policy should name. Pure; runs once per (record, action) on the hot path.
//
// Candidates come from, in order: the record's `resources` array ({ARN|arn, accountId, type}),
// then the rows of RESOURCE_ROWS for the action's service prefix (request parameters such as S3
// bucketName/key, Lambda functionName, SQS queueUrl, … and a few response fields naming what the
// call created). Every candidate is then checked against the ARN formats of the action's own
// resource types (catalog), so a row may offer several shapes (bucket and object, table and
// index) and only those the action can be scoped to survive: a wrong-type ARN is never granted.
// Actions without resource types get nothing (their statements use "*").
//
// Per action name, the first call compiles one RegExp from the action's ARN formats and picks the
// rows; later calls are one Map lookup plus a test per candidate. Nothing allocates when no
// candidate is found: the shared frozen NO_RESOURCES comes back.
import type { Catalog } from './types.ts';

/** ARNs longer than this are dropped (IAM's own limit on a resource ARN is 2048). */
export const MAX_ARN_LENGTH = 2048;

export const NO_RESOURCES: readonly string[] = Object.freeze([]);

type Rec = Record<string, unknown>;

/**
 * Implemented by records whose requestParameters are parsed only when read (the scanner's
 * ScannedRecord): `record[REQUEST_MAY_HOLD](needle)` is false only when the requestParameters
 * text holds neither `needle` nor any escape, so no key or string in them spells it. A symbol: a
 * JSON.parse'd record can never carry it.
 */
export const REQUEST_MAY_HOLD = Symbol('requestParametersMayHold');

interface LazyRequest {
  [REQUEST_MAY_HOLD]?: (needle: string) => boolean;
}

/** The record's fields needed to build ARNs, resolved once per call (lazily). */
export interface ArnContext {
  partition: string;
  /** awsRegion, '' when missing */
  region: string;
  /** recipientAccountId (else userIdentity.accountId) when 12 digits, else '' */
  account: string;
}

export interface ResourceRow {
  /** short unique name (tests refer to rows by it) */
  id: string;
  /** IAM service prefix of the actions this row serves ('*': every action) */
  prefix: string;
  /** eventName filter (API-version suffixes such as 20150331v2 ignored); all events when absent */
  events?: readonly string[];
  /** the row names the event's resources precisely; the `resources` array is then not read */
  replacesResources?: boolean;
  /** the fields read, for humans and tests */
  params: string;
  /**
   * When set, the row finds nothing unless requestParameters' text holds this (every key it
   * reads contains it, and it reads nothing else): records with lazy request parameters skip
   * their parse when no row needs them.
   */
  needle?: string;
  /** appends candidate ARNs (unvalidated) to `out` */
  extract(rp: Rec, record: Rec, action: string, cx: ArnContext, out: string[]): void;
}

// ---------------------------------------------------------------------------------------------
// Small readers. All of them tolerate any input type.

const EMPTY: Rec = Object.freeze({}) as Rec;

function obj(v: unknown): Rec | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Rec) : undefined;
}

/** A non-empty string of bounded length, else undefined. */
function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_ARN_LENGTH ? v : undefined;
}

/** A plain identifier usable as one ARN field or segment: no ':' or '/'. */
function token(v: unknown): string | undefined {
  const s = str(v);
  return s !== undefined && s.indexOf(':') < 0 && s.indexOf('/') < 0 ? s : undefined;
}

function isArn(s: string): boolean {
  return s.startsWith('arn:');
}

/** `v` when it is an ARN string. */
function arnOf(v: unknown): string | undefined {
  const s = str(v);
  return s !== undefined && isArn(s) ? s : undefined;
}

/** EC2-style `{items: [...]}` lists, and plain arrays. */
function items(v: unknown): readonly unknown[] {
  if (Array.isArray(v)) return v;
  const o = obj(v);
  return o !== undefined && Array.isArray(o.items) ? o.items : NO_RESOURCES;
}

function isAccount(s: unknown): s is string {
  if (typeof s !== 'string' || s.length !== 12) return false;
  for (let i = 0; i < 12; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** "arn:P:svc:REGION:ACCT:" prefix for a regional resource, '' when region or account is unknown. */
function base(cx: ArnContext, service: string, account = cx.account): string {
  if (cx.region === '' || account === '') return '';
  return 'arn:' + cx.partition + ':' + service + ':' + cx.region + ':' + account + ':';
}

function pushIf(out: string[], prefix: string, rest: string | undefined): void {
  if (prefix !== '' && rest !== undefined) out.push(prefix + rest);
}

function pushArn(out: string[], v: unknown): void {
  const arn = arnOf(v);
  if (arn !== undefined) out.push(arn);
}

/** prefix + type + id when `v` is a plain identifier. */
function addId(out: string[], prefix: string, type: string, v: unknown): void {
  const id = token(v);
  if (id !== undefined) out.push(prefix + type + id);
}

// ---------------------------------------------------------------------------------------------
// Per-service identifiers → ARNs.

function s3Object(bucket: string, key: string | undefined, cx: ArnContext, out: string[]): void {
  if (isArn(bucket)) {
    // Access point ARNs (and aliases resolved to them) stand in for the bucket name.
    out.push(bucket);
    if (key !== undefined) out.push(bucket + '/object/' + key);
    return;
  }
  if (bucket.indexOf('/') >= 0) return;
  const b = 'arn:' + cx.partition + ':s3:::' + bucket;
  out.push(b);
  if (key !== undefined) out.push(b + '/' + key);
}

/** x-amz-copy-source: "[/]bucket/key[?versionId=…]", URL-encoded as the S3 API requires. */
function copySource(v: unknown): [bucket: string, key: string] | undefined {
  let s = str(v);
  if (s === undefined) return undefined;
  const q = s.indexOf('?versionId=');
  if (q >= 0) s = s.slice(0, q);
  if (s.indexOf('%') >= 0) {
    try {
      s = decodeURIComponent(s);
    } catch {
      return undefined;
    }
  }
  const start = s.charCodeAt(0) === 47 /* / */ ? 1 : 0;
  const slash = s.indexOf('/', start);
  if (slash <= start || slash === s.length - 1) return undefined;
  return [s.slice(start, slash), s.slice(slash + 1)];
}

/** Lambda FunctionName: a name (with optional :qualifier), a partial ACCT:function:NAME, or an ARN. */
function lambdaFunction(v: unknown, cx: ArnContext, out: string[]): void {
  const s = str(v);
  if (s === undefined) return;
  if (isArn(s)) out.push(s);
  else if (s.length > 22 && isAccount(s.slice(0, 12)) && s.startsWith(':function:', 12))
    pushIf(out, base(cx, 'lambda', s.slice(0, 12)), s.slice(13));
  else if (s.indexOf('/') < 0) pushIf(out, base(cx, 'lambda'), 'function:' + s);
}

/**
 * SQS queue URL https://sqs.REGION.amazonaws.com/ACCT/NAME (any host form) → queue ARN. The
 * account comes from the URL; the region is the record's (a queue is only reachable through its
 * own region's endpoint).
 */
function sqsQueueUrl(v: unknown, cx: ArnContext, out: string[]): void {
  const s = str(v);
  if (s === undefined) return;
  const scheme = s.indexOf('://');
  const path = s.indexOf('/', scheme < 0 ? 0 : scheme + 3);
  if (scheme < 0 || path < 0) return;
  const account = s.slice(path + 1, path + 13);
  const name = s.slice(path + 14);
  if (!isAccount(account) || s.charCodeAt(path + 13) !== 47 || token(name) === undefined) return;
  pushIf(out, base(cx, 'sqs', account), name);
}

/** SSM parameter name (a leading '/' is not doubled; a :version or :label selector is cut) or ARN. */
function ssmParameter(v: unknown, cx: ArnContext, out: string[]): void {
  const s = str(v);
  if (s === undefined) return;
  if (isArn(s)) {
    const at = s.indexOf(':parameter/');
    const sel = at < 0 ? -1 : s.indexOf(':', at + 11);
    out.push(sel < 0 ? s : s.slice(0, sel));
    return;
  }
  const sel = s.indexOf(':');
  const name = sel < 0 ? s : s.slice(0, sel);
  if (name === '' || name === '/') return;
  pushIf(
    out,
    base(cx, 'ssm'),
    name.charCodeAt(0) === 47 ? 'parameter' + name : 'parameter/' + name,
  );
}

/**
 * SSM document name or ARN. Names beginning with AWS/Amazon/AMZN are reserved for documents
 * AWS owns, whose ARNs have no account (arn:aws:ssm:REGION::document/AWS-RunShellScript) and
 * match no catalog format; only account-owned names are turned into ARNs.
 */
function ssmDocument(v: unknown, cx: ArnContext, out: string[]): void {
  const s = str(v);
  if (s === undefined) return;
  if (isArn(s)) out.push(s);
  else if (!AWS_OWNED_DOCUMENT.test(s)) pushIf(out, base(cx, 'ssm'), 'document/' + s);
}

const AWS_OWNED_DOCUMENT = /^(aws|amazon|amzn)/i;

function ec2Instance(v: unknown, cx: ArnContext, out: string[]): void {
  const id = token(v);
  if (id === undefined) return;
  // Hybrid (on-premises) nodes registered with SSM are managed instances, not EC2 instances.
  if (id.startsWith('mi-')) pushIf(out, base(cx, 'ssm'), 'managed-instance/' + id);
  else pushIf(out, base(cx, 'ec2'), 'instance/' + id);
}

/** CloudWatch Logs log group name or ARN (DescribeLogGroups prints ARNs with a trailing ":*"). */
function logGroup(v: unknown, cx: ArnContext): string | undefined {
  const s = str(v);
  if (s === undefined) return undefined;
  if (isArn(s)) return s.endsWith(':*') ? s.slice(0, -2) : s;
  const b = base(cx, 'logs');
  return b === '' || s.indexOf(':') >= 0 ? undefined : b + 'log-group:' + s;
}

function kmsKey(v: unknown, cx: ArnContext, out: string[]): void {
  const s = str(v);
  if (s === undefined) return;
  if (isArn(s)) out.push(s);
  else if (s.startsWith('alias/')) pushIf(out, base(cx, 'kms'), s);
  // A bare key id: KMS only accepts those for keys in the caller's own account.
  else if (token(s) !== undefined) pushIf(out, base(cx, 'kms'), 'key/' + s);
}

function simple(service: string, type: string) {
  return (v: unknown, cx: ArnContext, out: string[]): void => {
    const s = str(v);
    if (s === undefined) return;
    if (isArn(s)) out.push(s);
    else if (token(s) !== undefined) pushIf(out, base(cx, service), type + s);
  };
}

/** RDS identifier (or ARN): identifiers are case-insensitive and stored, and named, lower-cased. */
function rdsId(out: string[], cx: ArnContext, type: string, v: unknown): void {
  const s = str(v);
  if (s === undefined) return;
  if (isArn(s)) out.push(s);
  else if (token(s) !== undefined) pushIf(out, base(cx, 'rds'), type + s.toLowerCase());
}

const dynamodbTable = simple('dynamodb', 'table/');
const ecrRepository = (v: unknown, account: unknown, cx: ArnContext, out: string[]): void => {
  const s = str(v);
  if (s === undefined) return;
  if (isArn(s)) out.push(s);
  // Repository names may hold '/' namespaces ("team/app").
  else if (s.indexOf(':') < 0)
    pushIf(out, base(cx, 'ecr', isAccount(account) ? account : cx.account), 'repository/' + s);
};
const kinesisStream = simple('kinesis', 'stream/');
const firehoseStream = simple('firehose', 'deliverystream/');
const cloudtrailTrail = simple('cloudtrail', 'trail/');
const snsTopic = simple('sns', '');

/** Rows, one per (service, parameter family). Order inside a prefix is the order candidates are tried. */
export const RESOURCE_ROWS: readonly ResourceRow[] = [
  {
    id: 'generic-resource-arn',
    prefix: '*',
    params: 'resourceArn | resourceARN | ResourceArn | ResourceARN (tagging and policy APIs)',
    needle: 'esourceA',
    extract(rp, _r, _a, _cx, out) {
      pushArn(out, rp.resourceArn ?? rp.resourceARN ?? rp.ResourceArn ?? rp.ResourceARN);
    },
  },
  {
    id: 's3-copy',
    prefix: 's3',
    events: ['CopyObject', 'UploadPartCopy'],
    replacesResources: true,
    params: 'copies: x-amz-copy-source for s3:GetObject*, bucketName + key for the rest',
    extract(rp, _r, action, cx, out) {
      if (action.startsWith('s3:GetObject')) {
        const src = copySource(rp['x-amz-copy-source']);
        if (src !== undefined) s3Object(src[0], src[1], cx, out);
        return;
      }
      const bucket = str(rp.bucketName);
      if (bucket !== undefined) s3Object(bucket, str(rp.key), cx, out);
    },
  },
  {
    id: 's3',
    prefix: 's3',
    params: 'bucketName [+ key]: bucket ARN, object ARN (keys are logged raw, not URL-encoded)',
    extract(rp, record, _a, cx, out) {
      const name = record.eventName;
      if (name === 'CopyObject' || name === 'UploadPartCopy') return;
      const bucket = str(rp.bucketName);
      if (bucket !== undefined) s3Object(bucket, str(rp.key), cx, out);
    },
  },
  {
    id: 'lambda',
    prefix: 'lambda',
    params:
      'functionName (name[:qualifier] | ACCT:function:NAME | ARN); responseElements.functionArn',
    extract(rp, record, _a, cx, out) {
      lambdaFunction(rp.functionName, cx, out);
      pushArn(out, obj(record.responseElements)?.functionArn);
    },
  },
  {
    id: 'dynamodb',
    prefix: 'dynamodb',
    params: 'tableName (name | ARN) [+ indexName: also the index ARN]',
    extract(rp, _r, _a, cx, out) {
      const before = out.length;
      dynamodbTable(rp.tableName, cx, out);
      const index = token(rp.indexName);
      if (index !== undefined && out.length > before) out.push(out[before] + '/index/' + index);
    },
  },
  {
    id: 'sqs',
    prefix: 'sqs',
    params: 'queueUrl; queueName (+ queueOwnerAWSAccountId)',
    extract(rp, _r, _a, cx, out) {
      sqsQueueUrl(rp.queueUrl, cx, out);
      const name = token(rp.queueName);
      if (name !== undefined) {
        const owner = rp.queueOwnerAWSAccountId;
        pushIf(out, base(cx, 'sqs', isAccount(owner) ? owner : cx.account), name);
      }
    },
  },
  {
    id: 'sns',
    prefix: 'sns',
    params: 'topicArn; CreateTopic name; responseElements.topicArn',
    extract(rp, record, _a, cx, out) {
      pushArn(out, rp.topicArn);
      if (record.eventName === 'CreateTopic') snsTopic(rp.name, cx, out);
      pushArn(out, obj(record.responseElements)?.topicArn);
    },
  },
  {
    id: 'kms',
    prefix: 'kms',
    params: 'keyId | targetKeyId (ARN | alias/NAME | bare key id); aliasName',
    extract(rp, _r, _a, cx, out) {
      kmsKey(rp.keyId, cx, out);
      kmsKey(rp.targetKeyId, cx, out);
      const alias = str(rp.aliasName);
      if (alias !== undefined && alias.startsWith('alias/')) pushIf(out, base(cx, 'kms'), alias);
    },
  },
  {
    id: 'secretsmanager',
    prefix: 'secretsmanager',
    params: 'secretId when an ARN (names lack the random suffix); responseElements.arn',
    extract(rp, record, _a, _cx, out) {
      pushArn(out, rp.secretId);
      const re = obj(record.responseElements);
      if (re !== undefined) pushArn(out, re.arn ?? re.aRN);
    },
  },
  {
    id: 'ssm-parameter',
    prefix: 'ssm',
    events: [
      'GetParameter',
      'GetParameters',
      'PutParameter',
      'DeleteParameter',
      'DeleteParameters',
      'GetParameterHistory',
      'LabelParameterVersion',
      'UnlabelParameterVersion',
    ],
    params: 'parameters: name | names[] (name or ARN)',
    extract(rp, _r, _a, cx, out) {
      ssmParameter(rp.name, cx, out);
      for (const n of items(rp.names)) ssmParameter(n, cx, out);
    },
  },
  {
    id: 'ssm-command',
    prefix: 'ssm',
    events: ['SendCommand', 'StartSession', 'StartAutomationExecution'],
    params: 'documentName; instanceIds[] | target (EC2 instance or mi- managed instance)',
    extract(rp, _r, _a, cx, out) {
      ssmDocument(rp.documentName, cx, out);
      for (const id of items(rp.instanceIds)) ec2Instance(id, cx, out);
      ec2Instance(rp.target, cx, out);
    },
  },
  {
    id: 'ssm-document',
    prefix: 'ssm',
    events: [
      'GetDocument',
      'DescribeDocument',
      'CreateDocument',
      'UpdateDocument',
      'DeleteDocument',
    ],
    params: 'documents: name',
    extract(rp, _r, _a, cx, out) {
      ssmDocument(rp.name, cx, out);
    },
  },
  {
    id: 'iam',
    prefix: 'iam',
    params:
      'policyArn, sAMLProviderArn, openIDConnectProviderArn; responseElements.{role,user,group,policy,instanceProfile}.arn (names alone lack the path)',
    extract(rp, record, _a, _cx, out) {
      pushArn(out, rp.policyArn);
      pushArn(out, rp.sAMLProviderArn);
      pushArn(out, rp.openIDConnectProviderArn);
      const re = obj(record.responseElements);
      if (re === undefined) return;
      pushArn(out, obj(re.role)?.arn);
      pushArn(out, obj(re.user)?.arn);
      pushArn(out, obj(re.group)?.arn);
      pushArn(out, obj(re.policy)?.arn);
      pushArn(out, obj(re.instanceProfile)?.arn);
    },
  },
  {
    id: 'sts',
    prefix: 'sts',
    params: 'roleArn (AssumeRole, AssumeRoleWithSAML, AssumeRoleWithWebIdentity)',
    extract(rp, _r, _a, _cx, out) {
      pushArn(out, rp.roleArn);
    },
  },
  {
    id: 'logs',
    prefix: 'logs',
    params: 'logGroupName | logGroupIdentifier (name | ARN) [+ logStreamName]',
    extract(rp, _r, _a, cx, out) {
      const group = logGroup(rp.logGroupName ?? rp.logGroupIdentifier, cx);
      if (group === undefined) return;
      out.push(group);
      const stream = str(rp.logStreamName);
      if (stream !== undefined && stream.indexOf(':') < 0)
        out.push(group + ':log-stream:' + stream);
    },
  },
  {
    id: 'cloudformation',
    prefix: 'cloudformation',
    params: 'stackName when an ARN (stack ARNs carry a generated id); responseElements.stackId',
    extract(rp, record, _a, _cx, out) {
      pushArn(out, rp.stackName);
      pushArn(out, obj(record.responseElements)?.stackId);
    },
  },
  {
    id: 'states',
    prefix: 'states',
    params: 'stateMachineArn | executionArn | activityArn; responseElements.stateMachineArn',
    extract(rp, record, _a, _cx, out) {
      pushArn(out, rp.stateMachineArn);
      pushArn(out, rp.executionArn);
      pushArn(out, rp.activityArn);
      pushArn(out, obj(record.responseElements)?.stateMachineArn);
    },
  },
  {
    id: 'ecr',
    prefix: 'ecr',
    params: 'repositoryName (+ registryId as the account)',
    extract(rp, _r, _a, cx, out) {
      ecrRepository(rp.repositoryName, rp.registryId, cx, out);
    },
  },
  {
    id: 'kinesis',
    prefix: 'kinesis',
    params: 'streamName | streamARN',
    extract(rp, _r, _a, cx, out) {
      kinesisStream(rp.streamARN ?? rp.streamName, cx, out);
    },
  },
  {
    id: 'firehose',
    prefix: 'firehose',
    params: 'deliveryStreamName',
    extract(rp, _r, _a, cx, out) {
      firehoseStream(rp.deliveryStreamName, cx, out);
    },
  },
  {
    id: 'cloudtrail',
    prefix: 'cloudtrail',
    params: 'name | trailName (name | ARN)',
    extract(rp, _r, _a, cx, out) {
      cloudtrailTrail(rp.name ?? rp.trailName, cx, out);
    },
  },
  {
    id: 'glue',
    prefix: 'glue',
    params: 'databaseName [+ tableName]: root catalog, database, table (Glue checks all three)',
    extract(rp, _r, _a, cx, out) {
      const db = token(rp.databaseName);
      if (db === undefined) return;
      const b = base(cx, 'glue', isAccount(rp.catalogId) ? rp.catalogId : cx.account);
      if (b === '') return;
      out.push(b + 'catalog', b + 'database/' + db);
      const table = token(rp.tableName);
      if (table !== undefined) out.push(b + 'table/' + db + '/' + table);
    },
  },
  {
    id: 'events-rule',
    prefix: 'events',
    events: [
      'PutRule',
      'DeleteRule',
      'DescribeRule',
      'EnableRule',
      'DisableRule',
      'PutTargets',
      'RemoveTargets',
      'ListTargetsByRule',
    ],
    params: 'rules: name | rule [+ eventBusName when a name]',
    extract(rp, _r, _a, cx, out) {
      const rule = token(rp.name ?? rp.rule);
      if (rule === undefined) return;
      const bus = rp.eventBusName;
      if (bus === undefined || bus === 'default') pushIf(out, base(cx, 'events'), 'rule/' + rule);
      else {
        const b = token(bus);
        if (b !== undefined) pushIf(out, base(cx, 'events'), 'rule/' + b + '/' + rule);
      }
    },
  },
  {
    id: 'rds',
    prefix: 'rds',
    params:
      'dBInstanceIdentifier, dBClusterIdentifier, dBSnapshotIdentifier (lower-cased, as RDS stores them)',
    extract(rp, _r, _a, cx, out) {
      rdsId(out, cx, 'db:', rp.dBInstanceIdentifier);
      rdsId(out, cx, 'cluster:', rp.dBClusterIdentifier);
      rdsId(out, cx, 'snapshot:', rp.dBSnapshotIdentifier);
    },
  },
  {
    id: 'ec2',
    prefix: 'ec2',
    params:
      'instanceId, instancesSet.items[].{instanceId,imageId,keyName}, volumeId, snapshotId, imageId, groupId, groupSet.items[].groupId, subnetId, vpcId, networkAclId, routeTableId, internetGatewayId, keyName',
    extract(rp, _r, _a, cx, out) {
      const b = base(cx, 'ec2');
      if (b === '') return;
      // Images and snapshots are named without an account.
      const global = 'arn:' + cx.partition + ':ec2:' + cx.region + '::';
      addId(out, b, 'instance/', rp.instanceId);
      for (const it of items(rp.instancesSet)) {
        const o = obj(it);
        if (o === undefined) continue;
        addId(out, b, 'instance/', o.instanceId);
        addId(out, global, 'image/', o.imageId);
        addId(out, b, 'key-pair/', o.keyName);
      }
      addId(out, b, 'volume/', rp.volumeId);
      addId(out, global, 'snapshot/', rp.snapshotId);
      addId(out, global, 'image/', rp.imageId);
      addId(out, b, 'security-group/', rp.groupId);
      for (const it of items(rp.groupSet)) addId(out, b, 'security-group/', obj(it)?.groupId);
      addId(out, b, 'subnet/', rp.subnetId);
      addId(out, b, 'vpc/', rp.vpcId);
      addId(out, b, 'network-acl/', rp.networkAclId);
      addId(out, b, 'route-table/', rp.routeTableId);
      addId(out, b, 'internet-gateway/', rp.internetGatewayId);
      addId(out, b, 'key-pair/', rp.keyName);
    },
  },
];

// ---------------------------------------------------------------------------------------------
// ARN format matching.

/** Splits "a, b" (the data package joins alternative formats of one type that way). */
function formatsOf(arnFormats: readonly string[]): string[] {
  const out: string[] = [];
  for (const f of arnFormats) for (const g of f.split(', ')) if (g.startsWith('arn:')) out.push(g);
  return out;
}

const PLACEHOLDER = /\$\{[^}]*\}|\*/g;

/** ARN service field of a format (third field), '' when it is itself a placeholder. */
function serviceField(format: string): string {
  const a = format.indexOf(':', 4);
  const b = a < 0 ? -1 : format.indexOf(':', a + 1);
  const s = b < 0 ? '' : format.slice(a + 1, b);
  return s.indexOf('$') >= 0 ? '' : s;
}

/** Every format in the catalog, shapes only (placeholders → \u0001), grouped by ARN service field. */
function shapeIndex(catalog: Catalog): Map<string, string[]> {
  const seen = new Set<string>();
  const byService = new Map<string, string[]>();
  for (const f of formatsOf(catalog.arnFormats())) {
    if (seen.has(f)) continue;
    seen.add(f);
    const svc = serviceField(f);
    let list = byService.get(svc);
    if (list === undefined) byService.set(svc, (list = []));
    list.push(f.replace(PLACEHOLDER, '\u0001'));
  }
  return byService;
}

const escapeRe = (s: string): string => s.replace(/[.*+?^$()|[\]\\{}/-]/g, '\\$&');

/**
 * One format → RegExp source. A placeholder is one ARN field or path segment: `[^:]+` before a
 * ':', `[^:/]+` otherwise. The last one, ending the format, takes the rest (object keys, role
 * paths, log group names) unless another format of the same service extends this one through a
 * '/' or ':' (bucket vs bucket/object, table vs table/…/index/…, function vs function:alias):
 * then it stops at that separator, or a child ARN would pass for its parent's type.
 */
export function formatSource(
  format: string,
  shapes: ReadonlyMap<string, readonly string[]>,
): string {
  const literals = format.split(PLACEHOLDER);
  const last = literals.length - 1;
  let source = escapeRe(literals[0]);
  for (let i = 1; i <= last; i++) {
    const next = literals[i];
    if (i === last && next === '') {
      const shape = format.replace(PLACEHOLDER, '\u0001');
      let stops = '';
      for (const other of shapes.get(serviceField(format)) ?? []) {
        if (other.length > shape.length && other.startsWith(shape)) {
          const sep = other[shape.length];
          if ((sep === '/' || sep === ':') && stops.indexOf(sep) < 0) stops += sep;
        }
      }
      source += stops === '' ? '.+' : '[^' + escapeRe(stops) + ']+';
    } else {
      source += next.startsWith(':') ? '[^:]+' : '[^:/]+';
    }
    source += escapeRe(next);
  }
  return source;
}

interface ActionEntry {
  /** null: the action supports no resource-level permissions (or has no usable format) */
  matcher: RegExp | null;
  rows: readonly ResourceRow[];
  /** event names for which a row replaces the `resources` array */
  replacing: ReadonlySet<string>;
}

interface CatalogState {
  shapes: Map<string, string[]> | undefined;
  actions: Map<string, ActionEntry>;
}

const ROWS_BY_PREFIX = new Map<string, ResourceRow[]>();
for (const row of RESOURCE_ROWS) {
  let list = ROWS_BY_PREFIX.get(row.prefix);
  if (list === undefined) ROWS_BY_PREFIX.set(row.prefix, (list = []));
  list.push(row);
}
const GENERIC_ROWS = ROWS_BY_PREFIX.get('*') ?? [];
const ROW_EVENTS = new Map<ResourceRow, ReadonlySet<string>>();
for (const row of RESOURCE_ROWS) if (row.events) ROW_EVENTS.set(row, new Set(row.events));

const NO_ENTRY: ActionEntry = { matcher: null, rows: [], replacing: new Set() };

const states = new WeakMap<Catalog, CatalogState>();
let lastCatalog: Catalog | undefined;
let lastState: CatalogState | undefined;

function stateOf(catalog: Catalog): CatalogState {
  if (catalog === lastCatalog) return lastState!;
  let state = states.get(catalog);
  if (state === undefined) states.set(catalog, (state = { shapes: undefined, actions: new Map() }));
  lastCatalog = catalog;
  lastState = state;
  return state;
}

function compile(action: string, catalog: Catalog, state: CatalogState): ActionEntry {
  const info = catalog.info(action);
  if (info === undefined || info.resourceTypes.length === 0) return NO_ENTRY;
  state.shapes ??= shapeIndex(catalog);
  const sources = new Set<string>();
  for (const rt of info.resourceTypes)
    for (const f of formatsOf(rt.arnFormats)) sources.add(formatSource(f, state.shapes));
  if (sources.size === 0) return NO_ENTRY;
  const prefix = action.slice(0, action.indexOf(':'));
  const rows = [...GENERIC_ROWS, ...(ROWS_BY_PREFIX.get(prefix) ?? [])];
  const replacing = new Set<string>();
  for (const row of rows)
    if (row.replacesResources) for (const e of row.events ?? []) replacing.add(e);
  return { matcher: new RegExp('^(?:' + [...sources].join('|') + ')$'), rows, replacing };
}

/** Whether resourcesOf can name any resource for the action (else it returns none at once). */
export function namesResources(action: string, catalog: Catalog): boolean {
  return entryOf(action, catalog).matcher !== null;
}

/** The compiled entry of an action (exposed for tests and benchmarks). */
export function matcherOf(action: string, catalog: Catalog): RegExp | null {
  return entryOf(action, catalog).matcher;
}

function entryOf(action: string, catalog: Catalog): ActionEntry {
  const state = stateOf(catalog);
  let entry = state.actions.get(action);
  if (entry === undefined) {
    entry = compile(action, catalog, state);
    // Only catalog actions are remembered, so the memo is bounded by the catalog: names the
    // mapper passes through as unknown cost one catalog lookup per call instead.
    if (catalog.has(action)) state.actions.set(action, entry);
  }
  return entry;
}

// ---------------------------------------------------------------------------------------------
// The per-record part.

// Reused across calls (single-threaded per worker): candidates and the ARN context.
const scratch: string[] = [];
const cx: ArnContext = { partition: 'aws', region: '', account: '' };

const VERSION_SUFFIX = /(\d{8}(v\d+)?|\d{4}_\d{2}_\d{2})$/;

function rowApplies(row: ResourceRow, eventName: string): boolean {
  const events = ROW_EVENTS.get(row);
  if (events === undefined) return true;
  if (events.has(eventName)) return true;
  const c = eventName.charCodeAt(eventName.length - 1);
  return c >= 48 && c <= 57 && events.has(eventName.replace(VERSION_SUFFIX, ''));
}

/**
 * Partition of a record: the caller's (credentials are partition-scoped), else the region's
 * (cn-… → aws-cn, us-gov-… → aws-us-gov, …), else aws.
 */
export function partitionOf(record: Rec, region: string): string {
  const named = arnPartition(obj(record.userIdentity)?.arn);
  if (named !== undefined) return named;
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('us-isob-')) return 'aws-iso-b';
  if (region.startsWith('us-isof-')) return 'aws-iso-f';
  if (region.startsWith('eu-isoe-')) return 'aws-iso-e';
  if (region.startsWith('us-iso-')) return 'aws-iso';
  if (region.startsWith('eusc-')) return 'aws-eusc';
  return 'aws';
}

function arnPartition(arn: unknown): string | undefined {
  if (typeof arn === 'string' && arn.startsWith('arn:aws')) {
    const end = arn.indexOf(':', 4);
    if (end > 4 && end < 32) return arn.slice(4, end);
  }
  return undefined;
}

function fillContext(record: Rec): void {
  const region = token(record.awsRegion) ?? '';
  cx.region = region;
  cx.partition = partitionOf(record, region);
  const recipient = record.recipientAccountId;
  const caller = obj(record.userIdentity)?.accountId;
  cx.account = isAccount(recipient) ? recipient : isAccount(caller) ? caller : '';
}

/**
 * What resourcesOf reads of a record's userIdentity: the partition its arn names ('' when none)
 * and its accountId ('' when not an account id). Records alike in this and in eventName,
 * awsRegion, recipientAccountId, resources, requestParameters and responseElements get the same
 * resources for any action, so the accumulator memoizes by them (ScannedRecord.inputs).
 */
export function identityContextKey(userIdentity: unknown): string {
  const u = obj(userIdentity);
  const caller = u?.accountId;
  return (arnPartition(u?.arn) ?? '') + '\u0000' + (isAccount(caller) ? caller : '');
}

function accept(arn: unknown, matcher: RegExp, out: string[] | undefined): string[] | undefined {
  if (typeof arn !== 'string' || arn.length > MAX_ARN_LENGTH || !matcher.test(arn)) return out;
  if (out === undefined) return [arn];
  if (!out.includes(arn)) out.push(arn);
  return out;
}

export function resourcesOf(
  record: Record<string, unknown>,
  action: string,
  catalog: Catalog,
): readonly string[] {
  const entry = entryOf(action, catalog);
  const matcher = entry.matcher;
  if (matcher === null) return NO_RESOURCES;
  const eventName = typeof record.eventName === 'string' ? record.eventName : '';
  let out: string[] | undefined;

  if (!entry.replacing.has(eventName)) {
    const resources = record.resources;
    if (Array.isArray(resources)) {
      for (const r of resources) {
        if (typeof r !== 'object' || r === null) continue;
        const o = r as Rec;
        // ARNPrefix entries (S3 list events) name a key prefix, not a resource.
        out = accept(o.ARN ?? o.arn, matcher, out);
      }
    }
  }

  const mayHold = (record as LazyRequest)[REQUEST_MAY_HOLD];
  let rp: Rec | undefined;
  let filled = false;
  for (const row of entry.rows) {
    if (!rowApplies(row, eventName)) continue;
    if (row.needle !== undefined && mayHold !== undefined && !mayHold.call(record, row.needle))
      continue;
    rp ??= obj(record.requestParameters) ?? EMPTY;
    // The generic row reads ARNs only; the context is built once the first service row runs.
    if (!filled && row.prefix !== '*') {
      fillContext(record);
      filled = true;
    }
    scratch.length = 0;
    try {
      row.extract(rp, record, action, cx, scratch);
    } catch {
      // Rows read untrusted JSON defensively; a throw here is a bug in a row, not in the record.
      // Dropping that row's candidates is the safe outcome (fewer ARNs means a broader statement).
      continue;
    }
    for (let i = 0; i < scratch.length; i++) out = accept(scratch[i], matcher, out);
  }
  scratch.length = 0;
  return out ?? NO_RESOURCES;
}
