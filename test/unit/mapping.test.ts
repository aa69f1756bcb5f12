// CloudTrail (eventSource, eventName) → IAM actions: every table row, every source rename, the
// version-suffix rule and its negative cases, the memo, and a sweep over every fixture pair
// against the documented lists of pairs left unmapped or unknown.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/catalog.ts';
import { createMapper, prefixOfService, serviceOf } from '../../src/catalog/mapping.ts';
import {
  ACTION_ROWS,
  NO_PERMISSION_ROWS,
  SOURCE_FAMILY_RENAMES,
  SOURCE_RENAMES,
  VERB_RULES,
} from '../../src/catalog/mapping-data.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../../../shared/fixtures/cloudtrail');
const catalog = loadCatalog();
const services = new Set(catalog.services());
const map = createMapper(catalog);

/** Fixture pairs deliberately left unmapped ([]): no IAM action authorizes them. */
const DOCUMENTED_UNMAPPED: readonly (readonly [string, string, string])[] = [
  ['signin.amazonaws.com', 'ConsoleLogin', 'console sign-in, no IAM action'],
  ['signin.amazonaws.com', 'CheckMfa', 'console sign-in step, no IAM action'],
  ['signin.amazonaws.com', 'ExternalIdPDirectoryLogin', 'console sign-in, no IAM action'],
  ['signin.amazonaws.com', 'PasswordUpdated', 'console sign-in step, no IAM action'],
  ['signin.amazonaws.com', 'AssumeRole', 'console sign-in event, no IAM action of its own'],
  ['signin.amazonaws.com', 'GetSigninToken', 'federation endpoint, uses existing credentials'],
  ['sso.amazonaws.com', 'CreateToken', 'OIDC token call, client secret / device code'],
  ['sso.amazonaws.com', 'Authenticate', 'service event'],
  ['kms.amazonaws.com', 'DeleteKey', 'service event: scheduled deletion ran'],
  ['kms.amazonaws.com', 'RotateKey', 'service event: automatic rotation'],
  ['kms.amazonaws.com', 'DeleteExpiredKeyMaterial', 'service event'],
  ['secretsmanager.amazonaws.com', 'RotationFailed', 'service event'],
  ['organizations.amazonaws.com', 'CreateAccountResult', 'service event'],
  ['s3.amazonaws.com', 'JobStatusChanged', 'service event (S3 Batch Operations)'],
  ['ec2.amazonaws.com', 'SharedSnapshotVolumeCreated', 'service event'],
];

/**
 * Fixture pairs that end as unknown actions ([`prefix:Name`], kept and reported): the prefix is
 * real but no IAM action has that name. All but one are hand-edited rule-test records that put an
 * event name under the wrong source or invent it; GetListingView is an internal call made by
 * Bedrock with no public IAM action.
 */
const DOCUMENTED_UNKNOWN: readonly (readonly [string, string, string])[] = [
  ['cloudtrail.amazonaws.com', 'DeleteRule', 'hand-edited (panther); not a CloudTrail API'],
  ['cloudtrail.amazonaws.com', 'DescribeTrail', 'hand-edited; the API is DescribeTrails'],
  ['cloudtrail.amazonaws.com', 'EnableRegion', 'hand-edited; account:EnableRegion'],
  ['discovery-marketplace.amazonaws.com', 'GetListingView', 'internal Bedrock call'],
  ['ec2.amazonaws.com', 'DeleteBucketEncryption', 'hand-edited; an S3 name under ec2'],
  ['ec2.amazonaws.com', 'DeleteBucketPublicAccessBlock', 'hand-edited; S3 name under ec2'],
  ['ec2.amazonaws.com', 'DeleteBucketReplication', 'hand-edited; an S3 name under ec2'],
  ['ec2.amazonaws.com', 'PutBucketLogging', 'hand-edited; an S3 name under ec2'],
  ['ec2.amazonaws.com', 'PutBucketVersioning', 'hand-edited; an S3 name under ec2'],
  ['ec2.amazonaws.com', 'RegisterManagedInstance', 'hand-edited; an SSM name under ec2'],
  ['ec2messages.amazonaws.com', 'SendHeartbeat', 'hand-edited; no such ec2messages API'],
  ['iam.amazonaws.com', 'DescribePolicy', 'hand-edited; no such IAM API'],
  ['iam.amazonaws.com', 'DetachUserGroup', 'hand-edited; no such IAM API'],
  ['iam.amazonaws.com', 'NotCreateUser', 'hand-edited negative test name'],
  ['iam.amazonaws.com', 'PutPolicy', 'hand-edited; no such IAM API'],
  ['s3.amazonaws.com', 'CreateServiceLinkedRole', 'hand-edited; an IAM name under s3'],
  ['s3.amazonaws.com', 'SetQueueAttributes', 'hand-edited; an SQS name under s3'],
];

/** Renames the brief names that resolve through the default rule (host label = prefix). */
const SAME_NAME_SOURCES = [
  'elasticloadbalancing',
  'elasticfilesystem',
  'elasticmapreduce',
  'kinesisanalytics',
  'ssm-incidents',
  'identitystore',
  'sso',
  'sso-directory',
  'signin',
  'health',
  's3-outposts',
  'execute-api',
  'apigateway',
  'logs',
  'events',
  'scheduler',
  'securitylake',
  'bedrock',
  'iot',
  'iotevents',
  'iotsitewise',
  'iotwireless',
  'lex',
  'ds',
  'cognito-idp',
  'cognito-identity',
  'servicediscovery',
  'route53domains',
  'route53resolver',
  'states',
  'ec2-instance-connect',
  'ssm-guiconnect',
  'access-analyzer',
  'ecr-public',
  'es',
  'macie2',
  'marketplacecommerceanalytics',
] as const;

const CHIME_SDK_SOURCES = [
  'chime-sdk-meetings',
  'chime-sdk-identity',
  'chime-sdk-messaging',
  'chime-sdk-voice',
  'chime-sdk-media-pipelines',
] as const;

/** Some catalog action of a service, to drive a rename through the mapper. */
function someActionOf(prefix: string): string {
  const found = catalog.actions().find((a) => a.startsWith(prefix + ':'));
  if (found === undefined) throw new Error(`no action for ${prefix}`);
  return found;
}

function expectRenamed(service: string, prefix: string): void {
  expect(services.has(prefix), `${prefix} is a catalog service`).toBe(true);
  const action = someActionOf(prefix);
  const name = action.slice(prefix.length + 1);
  expect(map(`${service}.amazonaws.com`, name)).toEqual([action]);
}

describe('table rows', () => {
  it.each(ACTION_ROWS)('$source $name → $actions', (row) => {
    expect(map(row.source, row.name)).toEqual(row.actions);
  });

  it.each(NO_PERMISSION_ROWS)('$source $name → [] ($why)', (row) => {
    expect(map(row.source, row.name)).toEqual([]);
  });

  it('every target action is in the real catalog, spelled as the catalog spells it', () => {
    const targets = [...ACTION_ROWS, ...VERB_RULES].flatMap((r) => r.actions);
    expect(targets.filter((a) => !catalog.has(a))).toEqual([]);
  });

  it('every row source is an AWS host, and no pair is listed twice', () => {
    const all = [...ACTION_ROWS, ...NO_PERMISSION_ROWS];
    expect(all.filter((r) => serviceOf(r.source) === undefined)).toEqual([]);
    const keys = all.map((r) => `${serviceOf(r.source)} ${r.name}`);
    expect(keys.length).toBe(new Set(keys).size);
  });

  it('rows only exist where the default rule would answer differently', () => {
    const redundant = ACTION_ROWS.filter((r) => {
      const prefix = prefixOfService(serviceOf(r.source) ?? '');
      const direct = catalog.canonical(prefix, r.name);
      return r.actions.length === 1 && r.actions[0] === direct;
    });
    expect(redundant).toEqual([]);
  });

  it('no-permission rows do not hide a real catalog action', () => {
    const hiding = NO_PERMISSION_ROWS.filter((r) => {
      const service = serviceOf(r.source) ?? '';
      return catalog.canonical(prefixOfService(service), r.name) !== undefined;
    });
    expect(hiding).toEqual([]);
  });
});

describe('source host → IAM prefix', () => {
  it.each(Object.entries(SOURCE_RENAMES))('%s.amazonaws.com → %s', (service, prefix) => {
    expectRenamed(service, prefix);
  });

  it.each(CHIME_SDK_SOURCES)('%s.amazonaws.com → chime', (service) => {
    expect(SOURCE_FAMILY_RENAMES.some(([family]) => service.startsWith(family))).toBe(true);
    expectRenamed(service, 'chime');
  });

  it.each(SAME_NAME_SOURCES)('%s.amazonaws.com → %s (default rule)', (service) => {
    expectRenamed(service, service);
  });

  it('the brief-named renames are all in the table', () => {
    expect(SOURCE_RENAMES).toMatchObject({
      monitoring: 'cloudwatch',
      tagging: 'tag',
      pinpoint: 'mobiletargeting',
      opensearchservice: 'es',
      amazonmq: 'mq',
      migrationhub: 'mgh',
      'application-insights': 'applicationinsights',
      billingconsole: 'billing',
      cloudcontrolapi: 'cloudformation',
      'contact-lens': 'connect',
      'participant-connect': 'connect',
      pricelist: 'pricing',
      qconnect: 'wisdom',
      rdsdata: 'rds-data',
      'servicecatalog-appregistry': 'servicecatalog',
      taxconsole: 'tax',
      transcribestreaming: 'transcribe',
      email: 'ses',
      'streams.dynamodb': 'dynamodb',
      'models.lex': 'lex',
      'runtime.lex': 'lex',
      'catalog.marketplace': 'aws-marketplace',
      'entitlement.marketplace': 'aws-marketplace',
      'metering.marketplace': 'aws-marketplace',
      'discovery.marketplace': 'aws-marketplace',
    });
  });

  it('lower-cases the host and drops a region label or the .cn partition suffix', () => {
    expect(map('S3.AMAZONAWS.COM', 'ListObjects')).toEqual(['s3:ListBucket']);
    expect(map('s3.us-west-2.amazonaws.com', 'ListObjects')).toEqual(['s3:ListBucket']);
    expect(map('kms.us-gov-west-1.amazonaws.com', 'Decrypt')).toEqual(['kms:Decrypt']);
    expect(map('monitoring.cn-north-1.amazonaws.com.cn', 'DescribeAlarms')).toEqual([
      'cloudwatch:DescribeAlarms',
    ]);
    expect(map(' ec2.amazonaws.com ', 'RunInstances')).toEqual(['ec2:RunInstances']);
  });

  it('returns [] for hosts that are not AWS services and for unknown prefixes', () => {
    expect(map('example.com', 'GetObject')).toEqual([]);
    expect(map('s3', 'GetObject')).toEqual([]);
    expect(map('', 'GetObject')).toEqual([]);
    expect(map('.amazonaws.com', 'GetObject')).toEqual([]);
    expect(map('amazonaws.com', 'GetObject')).toEqual([]);
    expect(map('s3.amazonaws.com.evil.example', 'GetObject')).toEqual([]);
    expect(map('nosuchservice.amazonaws.com', 'GetObject')).toEqual([]);
  });
});

describe('event names', () => {
  it.each([
    ['lambda.amazonaws.com', 'UpdateFunctionCode20150331v2', 'lambda:UpdateFunctionCode'],
    ['lambda.amazonaws.com', 'UpdateFunctionCode20150331', 'lambda:UpdateFunctionCode'],
    ['lambda.amazonaws.com', 'ListFunctions20150331', 'lambda:ListFunctions'],
    ['lambda.amazonaws.com', 'AddPermission20150331v2', 'lambda:AddPermission'],
    ['lambda.amazonaws.com', 'ListTags20170331', 'lambda:ListTags'],
    ['cloudfront.amazonaws.com', 'GetDistribution2020_05_31', 'cloudfront:GetDistribution'],
    ['cloudfront.amazonaws.com', 'CreateDistribution2020_05_31', 'cloudfront:CreateDistribution'],
    ['cloudfront.amazonaws.com', 'CreateFunction2020_05_31', 'cloudfront:CreateFunction'],
  ])('%s %s → %s (API-version suffix stripped)', (source, name, action) => {
    expect(map(source, name)).toEqual([action]);
  });

  it.each([
    ['rds.amazonaws.com', 'RestoreDBInstanceFromS3', 'rds:RestoreDBInstanceFromS3'],
    ['kafka.amazonaws.com', 'CreateClusterV2', 'kafka:CreateClusterV2'],
    ['kafka.amazonaws.com', 'DescribeClusterV2', 'kafka:DescribeClusterV2'],
    ['ec2.amazonaws.com', 'DescribeInstances', 'ec2:DescribeInstances'],
    ['s3.amazonaws.com', 'DeleteBucketWebsite', 's3:DeleteBucketWebsite'],
    ['s3.amazonaws.com', 'DeleteObjectTagging', 's3:DeleteObjectTagging'],
    ['dynamodb.amazonaws.com', 'BatchWriteItem', 'dynamodb:BatchWriteItem'],
  ])('%s %s stays %s (a real name is never rewritten)', (source, name, action) => {
    expect(catalog.has(action)).toBe(true);
    expect(map(source, name)).toEqual([action]);
  });

  it('keeps the suffix when the stripped name is not an action either', () => {
    expect(map('lambda.amazonaws.com', 'NoSuchCall20150331v2')).toEqual([
      'lambda:NoSuchCall20150331v2',
    ]);
  });

  it('looks names up case-insensitively and answers in the catalog spelling', () => {
    expect(map('iam.amazonaws.com', 'listusers')).toEqual(['iam:ListUsers']);
    expect(map('s3.amazonaws.com', 'GetBucketCors')).toEqual(['s3:GetBucketCORS']);
    expect(map('s3.amazonaws.com', 'PutBucketCors')).toEqual(['s3:PutBucketCORS']);
  });

  it('known prefix, unknown action → [prefix:Name] as logged', () => {
    expect(map('iam.amazonaws.com', 'NotCreateUser')).toEqual(['iam:NotCreateUser']);
    expect(map('monitoring.amazonaws.com', 'BrandNewApi')).toEqual(['cloudwatch:BrandNewApi']);
  });

  it('API Gateway names map by verb; named apigateway actions still win', () => {
    expect(map('apigateway.amazonaws.com', 'CreateRestApi')).toEqual(['apigateway:POST']);
    expect(map('apigateway.amazonaws.com', 'GetRestApis')).toEqual(['apigateway:GET']);
    expect(map('apigateway.amazonaws.com', 'UpdateStage')).toEqual(['apigateway:PATCH']);
    expect(map('apigateway.amazonaws.com', 'PutIntegration')).toEqual(['apigateway:PUT']);
    expect(map('apigateway.amazonaws.com', 'DeleteRoute')).toEqual(['apigateway:DELETE']);
    expect(map('apigateway.amazonaws.com', 'CreatePortal')).toEqual(['apigateway:CreatePortal']);
  });
});

describe('memo', () => {
  it('returns the identical frozen array for a repeated pair', () => {
    const m = createMapper(catalog);
    const first = m('s3.amazonaws.com', 'CopyObject');
    expect(Object.isFrozen(first)).toBe(true);
    expect(m('s3.amazonaws.com', 'CopyObject')).toBe(first);
    const unknown = m('iam.amazonaws.com', 'NotCreateUser');
    expect(m('iam.amazonaws.com', 'NotCreateUser')).toBe(unknown);
    expect(Object.isFrozen(unknown)).toBe(true);
    const empty = m('example.com', 'X');
    expect(m('example.com', 'X')).toBe(empty);
    expect(Object.isFrozen(empty)).toBe(true);
  });

  it('stays correct when the memo cap makes it start over', () => {
    const m = createMapper(catalog, 2);
    for (let round = 0; round < 3; round++) {
      expect(m('s3.amazonaws.com', 'HeadObject')).toEqual(['s3:GetObject']);
      expect(m('lambda.amazonaws.com', 'Invoke')).toEqual(['lambda:InvokeFunction']);
      expect(m('kms.amazonaws.com', 'ReEncrypt')).toEqual(['kms:ReEncryptFrom', 'kms:ReEncryptTo']);
    }
  });
});

describe('fixture pairs', () => {
  const pairs = new Set<string>();
  for (const f of readdirSync(FIXTURES, { recursive: true, encoding: 'utf8' })) {
    if (!f.endsWith('.json.gz') || f.split(path.sep).includes('digest')) continue;
    const doc = JSON.parse(gunzipSync(readFileSync(path.join(FIXTURES, f))).toString('utf8'));
    for (const r of Array.isArray(doc?.Records) ? doc.Records : []) {
      if (typeof r?.eventSource === 'string' && typeof r?.eventName === 'string') {
        pairs.add(`${r.eventSource} ${r.eventName}`);
      }
    }
  }
  const split = (p: string): [string, string] => {
    const i = p.indexOf(' ');
    return [p.slice(0, i), p.slice(i + 1)];
  };
  const unmapped = [...pairs].filter((p) => map(...split(p)).length === 0);
  const unknown = [...pairs].filter((p) => map(...split(p)).some((a) => !catalog.has(a)));

  it('reads the fixtures', () => {
    expect(pairs.size).toBeGreaterThan(400);
    // Before the tables (host label as prefix, exact catalog name only), for comparison.
    let naiveUnmapped = 0;
    let naiveUnknown = 0;
    for (const p of pairs) {
      const [source, name] = split(p);
      const prefix = source.replace(/\.amazonaws\.com$/, '');
      if (!services.has(prefix)) naiveUnmapped++;
      else if (catalog.canonical(prefix, name) === undefined) naiveUnknown++;
    }
    console.log(
      `fixture pairs: ${pairs.size}; naive: unmapped ${naiveUnmapped}, unknown ${naiveUnknown};` +
        ` mapper: unmapped ${unmapped.length}, unknown ${unknown.length}`,
    );
  });

  it('at most the documented pairs stay unmapped', () => {
    const documented = new Set(DOCUMENTED_UNMAPPED.map(([s, n]) => `${s} ${n}`));
    expect(unmapped.filter((p) => !documented.has(p))).toEqual([]);
  });

  it('at most the documented pairs end as unknown actions', () => {
    const documented = new Set(DOCUMENTED_UNKNOWN.map(([s, n]) => `${s} ${n}`));
    expect(unknown.filter((p) => !documented.has(p))).toEqual([]);
  });

  it('the documented unmapped pairs are no-permission rows, not accidents', () => {
    const rows = new Set(NO_PERMISSION_ROWS.map((r) => `${r.source} ${r.name}`));
    expect(DOCUMENTED_UNMAPPED.filter(([s, n]) => !rows.has(`${s} ${n}`))).toEqual([]);
  });
});
