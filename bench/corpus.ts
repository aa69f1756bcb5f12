// Deterministic CloudTrail corpus generator: real record shapes (the fixtures' records used as
// templates), an organization's skew (Zipf over principals and over (source, name) pairs, a few
// very busy roles), ~5% errors, non-API events mixed in, and the S3 layout CloudTrail writes.
//
//   node bench/corpus.ts --out bench/.corpus/small --files 300 --records 800 --seed 1
//
// The same options always give byte-identical files (one seeded PRNG per file), so a corpus is
// cached by the hash of its options and of this generator: a rerun finds `manifest.json` and
// returns at once. Big files are streamed through zlib.createGzip: the generator holds about a
// megabyte of JSON at a time, never the file.
import { once } from 'node:events';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createGzip, gunzipSync } from 'node:zlib';
import {
  CORPUS_ROOT,
  ROOT,
  Rng,
  WeightedSampler,
  flags,
  hash32,
  sha256,
  zipfWeights,
} from './lib.ts';

/** Bump when the output changes for the same options (the source hash covers edits too). */
const GENERATOR_VERSION = 1;
export const FIXTURES_DIR = path.resolve(ROOT, '../shared/fixtures/cloudtrail');

export interface CorpusOptions {
  seed: number;
  /** regular (small) files */
  files: number;
  /** mean records per regular file */
  records: number;
  /** log-normal sigma of records per file; 0 = every file has exactly `records` */
  spread: number;
  principals: number;
  accounts: number;
  /** days the files are spread over, from `startDate` */
  days: number;
  startDate: string;
  /** extra big files, by inflated size in bytes */
  bigFiles: number[];
}

export const DEFAULT_CORPUS: CorpusOptions = {
  seed: 1,
  files: 300,
  records: 800,
  spread: 0.6,
  principals: 300,
  accounts: 12,
  days: 90,
  startDate: '2026-06-01',
  bigFiles: [],
};

export interface FileInfo {
  /** relative to the corpus directory */
  path: string;
  account: string;
  region: string;
  records: number;
  inflatedBytes: number;
  compressedBytes: number;
}

export interface Manifest {
  generator: number;
  hash: string;
  options: CorpusOptions;
  files: FileInfo[];
  totals: { files: number; records: number; inflatedBytes: number; compressedBytes: number };
  generatedSeconds: number;
}

// ---------------------------------------------------------------------------------------------
// Templates: the fixtures' records, account ids replaced by a placeholder

const ACCOUNT_TOKEN = '@@ACCOUNT@@';
const ACCOUNT_ID = /(?<![0-9])[0-9]{12}(?![0-9])/g;

interface Template {
  json: string;
  source: string;
  name: string;
}

interface Templates {
  /** API calls by IAM principals, grouped by "source name", pairs in popularity order */
  pairs: { key: string; source: string; name: string; templates: Template[] }[];
  serviceEvents: Template[];
  signIns: Template[];
  awsServiceCalls: Template[];
}

// The head of a real organization's event mix; the rest of the pairs follow in seeded order.
const HOT_PAIRS = [
  's3.amazonaws.com GetObject',
  'kms.amazonaws.com Decrypt',
  'sts.amazonaws.com AssumeRole',
  'ec2.amazonaws.com DescribeInstances',
  's3.amazonaws.com PutObject',
  'sts.amazonaws.com GetCallerIdentity',
  'ssm.amazonaws.com GetParameters',
  's3.amazonaws.com ListObjects',
  'kms.amazonaws.com GenerateDataKey',
  'secretsmanager.amazonaws.com GetSecretValue',
  'ssm.amazonaws.com GetParameter',
  's3.amazonaws.com ListBuckets',
];

function listFixtureFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    )) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'digest') walk(full);
      } else if (e.name.endsWith('.json.gz')) {
        out.push(full);
      }
    }
  };
  walk(dir);
  return out;
}

let templateCache: { dir: string; seed: number; t: Templates } | undefined;

export function loadTemplates(dir = FIXTURES_DIR, seed = 1): Templates {
  if (templateCache?.dir === dir && templateCache.seed === seed) return templateCache.t;
  const byPair = new Map<string, Template[]>();
  const serviceEvents: Template[] = [];
  const signIns: Template[] = [];
  const awsServiceCalls: Template[] = [];
  for (const file of listFixtureFiles(dir)) {
    let doc: unknown;
    try {
      doc = JSON.parse(gunzipSync(readFileSync(file)).toString('utf8'));
    } catch {
      continue;
    }
    const records = (doc as { Records?: unknown }).Records;
    if (!Array.isArray(records)) continue;
    for (const r of records as Record<string, unknown>[]) {
      if (typeof r !== 'object' || r === null) continue;
      const source = r.eventSource;
      const name = r.eventName;
      if (typeof source !== 'string' || typeof name !== 'string') continue;
      if (r.eventCategory === 'Insight' || r.insightDetails !== undefined) continue;
      const rec = { ...r };
      delete rec['@timestamp'];
      delete rec.errorCode;
      delete rec.errorMessage;
      const t: Template = {
        json: JSON.stringify(rec).replace(ACCOUNT_ID, ACCOUNT_TOKEN),
        source,
        name,
      };
      const idType = (r.userIdentity as { type?: unknown } | undefined)?.type;
      if (r.eventType === 'AwsServiceEvent') serviceEvents.push(t);
      else if (r.eventType === 'AwsConsoleSignIn') signIns.push(t);
      else if (r.eventType !== 'AwsApiCall') continue;
      else if (idType === 'AWSService') awsServiceCalls.push(t);
      else if (idType === 'IAMUser' || idType === 'AssumedRole' || idType === 'Root') {
        const key = source + ' ' + name;
        let list = byPair.get(key);
        if (!list) byPair.set(key, (list = []));
        list.push(t);
      }
    }
  }
  const rng = new Rng(seed * 7919 + 17);
  const keys = [...byPair.keys()].sort();
  const hot = HOT_PAIRS.filter((k) => byPair.has(k));
  const rest = rng.shuffle(keys.filter((k) => !hot.includes(k)));
  const pairs = [...hot, ...rest].map((key) => {
    const [source, name] = key.split(' ');
    return { key, source, name, templates: byPair.get(key)! };
  });
  const t = { pairs, serviceEvents, signIns, awsServiceCalls };
  templateCache = { dir, seed, t };
  return t;
}

// ---------------------------------------------------------------------------------------------
// The organization: accounts, principals and what each of them does

type PrincipalKind = 'role' | 'user' | 'root';

interface Principal {
  kind: PrincipalKind;
  account: string;
  /** the ARN trailmint keys on (the role for AssumedRole sessions) */
  arn: string;
  name: string;
  path: string;
  principalId: string;
  sessions: { name: string; accessKeyId: string }[];
  /** indexes into Templates.pairs: the principal's working set, and how often it uses each */
  pairs: number[];
  pairSampler: WeightedSampler;
  buckets: string[];
  ip: string;
  /** distinct resource names per parameter (functionName, tableName, …) */
  variety: number;
}

interface Org {
  orgId: string;
  accounts: string[];
  principals: Principal[];
  accountSampler: WeightedSampler;
  /** per account: its principals and a sampler by weight */
  byAccount: { principals: Principal[]; sampler: WeightedSampler }[];
  globalSampler: WeightedSampler;
}

const APPS = [
  'orders',
  'payments',
  'search',
  'ingest',
  'billing',
  'auth',
  'catalog',
  'analytics',
  'etl',
  'notify',
  'ledger',
  'inventory',
  'checkout',
  'reports',
  'ml',
  'media',
];
const COMPONENTS = ['lambda', 'ecs-task', 'eks-node', 'batch', 'glue', 'api', 'worker', 'cron'];
const SSO_SETS = [
  'AdministratorAccess',
  'ReadOnlyAccess',
  'PowerUserAccess',
  'DataEngineer',
  'Billing',
  'SecurityAudit',
];
const PEOPLE = [
  'alice',
  'bob',
  'carol',
  'dave',
  'erin',
  'frank',
  'grace',
  'heidi',
  'ivan',
  'judy',
  'mallory',
  'niaj',
  'olivia',
  'peggy',
  'rupert',
  'sybil',
  'trent',
  'victor',
  'walter',
  'yolanda',
];
const PURPOSES = ['data', 'logs', 'artifacts', 'backups', 'exports', 'models'];
const REGIONS = [
  'us-east-1',
  'eu-west-1',
  'us-west-2',
  'eu-central-1',
  'ap-southeast-2',
  'ap-northeast-1',
];
const REGION_WEIGHTS = [0.5, 0.2, 0.12, 0.1, 0.05, 0.03];

function buildOrg(templates: Templates, opts: CorpusOptions): Org {
  const rng = new Rng(opts.seed * 104729 + 3);
  const orgId = 'o-' + rng.alnum(10, 'abcdefghijklmnopqrstuvwxyz0123456789');
  const accounts: string[] = [];
  while (accounts.length < opts.accounts) {
    const id = String(100000000000 + rng.int(2 ** 31) * 419 + rng.int(419)).slice(0, 12);
    if (!accounts.includes(id)) accounts.push(id);
  }
  const accountPick = new WeightedSampler(zipfWeights(accounts.length, 0.8));
  const nPairs = templates.pairs.length;
  const pairPick = new WeightedSampler(zipfWeights(nPairs, 1.0));

  const total = Math.max(opts.principals, accounts.length + 1);
  const nUsers = Math.round((total - accounts.length) * 0.1);
  const nRoles = total - accounts.length - nUsers;
  const made: Principal[] = [];
  let serial = 0;
  const make = (kind: PrincipalKind, account: string, busy: boolean): Principal => {
    serial++;
    const app = rng.pick(APPS);
    let name: string;
    let rolePath = '/';
    const sessions: string[] = [];
    if (kind === 'root') {
      name = 'root';
      sessions.push('root');
    } else if (kind === 'user') {
      name = rng.chance(0.5)
        ? `svc-${app}-${serial}`
        : `${rng.pick(PEOPLE)}.${rng.pick(PEOPLE)}${serial}`;
      sessions.push(name);
    } else {
      const style = busy ? 1 : rng.int(10);
      if (style < 3 && !busy) {
        name = `AWSReservedSSO_${rng.pick(SSO_SETS)}_${rng.hex(16)}`;
        rolePath = rng.chance(0.5)
          ? '/aws-reserved/sso.amazonaws.com/'
          : `/aws-reserved/sso.amazonaws.com/${rng.pick(REGIONS)}/`;
        for (let i = 0, n = rng.range(1, 6); i < n; i++)
          sessions.push(`${rng.pick(PEOPLE)}@example.com`);
      } else if (style < 9) {
        name = `${app}-${rng.pick(COMPONENTS)}-role-${serial}`;
        if (rng.chance(0.3)) rolePath = '/service-role/';
        for (let i = 0, n = rng.range(1, 8); i < n; i++) {
          sessions.push(
            rng.chance(0.5) ? `i-0${rng.hex(16)}` : `botocore-session-${1700000000 + rng.int(1e8)}`,
          );
        }
      } else {
        name = `github-actions-${app}-deploy-${serial}`;
        sessions.push(`GitHubActions-${rng.int(1e9)}`);
      }
    }
    const arn =
      kind === 'root'
        ? `arn:aws:iam::${account}:root`
        : kind === 'user'
          ? `arn:aws:iam::${account}:user/${name}`
          : `arn:aws:iam::${account}:role${rolePath}${name}`;
    // Working set: busy roles do a lot; most principals a dozen things (≤ 50 a day).
    const k = busy
      ? rng.range(40, 120)
      : Math.max(2, Math.min(60, Math.round(Math.exp(2.3 + 0.7 * rng.normal()))));
    const set = new Set<number>();
    for (let tries = 0; set.size < Math.min(k, nPairs) && tries < k * 50; tries++)
      set.add(pairPick.sample(rng));
    const pairs = rng.shuffle([...set].sort((a, b) => a - b));
    const buckets: string[] = [];
    for (let i = 0, n = rng.range(1, 3); i < n; i++)
      buckets.push(`${app}-${account}-${rng.pick(PURPOSES)}-${i}`);
    return {
      kind,
      account,
      arn,
      name,
      path: rolePath,
      principalId:
        (kind === 'user' ? 'AIDA' : 'AROA') + rng.alnum(17, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'),
      sessions: sessions.map((s) => ({
        name: s,
        accessKeyId: 'ASIA' + rng.alnum(16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'),
      })),
      pairs,
      pairSampler: new WeightedSampler(zipfWeights(pairs.length, 1.0)),
      buckets,
      ip: `${rng.range(3, 223)}.${rng.int(256)}.${rng.int(256)}.${rng.range(1, 254)}`,
      variety: rng.range(1, 6),
    };
  };

  // Rank order for the Zipf over principals: three very busy roles on top, roots near the bottom.
  const busyRoles = Math.min(3, nRoles);
  const ranked: Principal[] = [];
  for (let i = 0; i < busyRoles; i++)
    ranked.push(make('role', accounts[accountPick.sample(rng)], true));
  for (let i = busyRoles; i < nRoles; i++)
    made.push(make('role', accounts[accountPick.sample(rng)], false));
  for (let i = 0; i < nUsers; i++)
    made.push(make('user', accounts[accountPick.sample(rng)], false));
  rng.shuffle(made);
  const roots = accounts.map((a) => make('root', a, false));
  for (const r of roots)
    made.splice(Math.floor(made.length / 2 + rng.float() * (made.length / 2 + 1)), 0, r);
  ranked.push(...made);
  const weights = zipfWeights(ranked.length, 1.1);

  const byAccount = accounts.map((a) => {
    const idx = ranked.map((p, i) => (p.account === a ? i : -1)).filter((i) => i >= 0);
    return {
      principals: idx.map((i) => ranked[i]),
      sampler: new WeightedSampler(idx.map((i) => weights[i])),
      weight: idx.reduce((s, i) => s + weights[i], 0),
    };
  });
  return {
    orgId,
    accounts,
    principals: ranked,
    accountSampler: new WeightedSampler(byAccount.map((b) => b.weight)),
    byAccount,
    globalSampler: new WeightedSampler(weights),
  };
}

// ---------------------------------------------------------------------------------------------
// Records

const DENIED_RATE = 0.03;
const FAILED_RATE = 0.02;
const SERVICE_EVENT_RATE = 0.025;
const SIGN_IN_RATE = 0.005;
const AWS_SERVICE_CALL_RATE = 0.01;
const DUPLICATE_RATE = 0.001;
const CROSS_ACCOUNT_RATE = 0.05;
const VARIED_PARAMS = [
  'functionName',
  'tableName',
  'secretId',
  'name',
  'queueUrl',
  'roleName',
  'keyId',
  'logGroupName',
  'topicArn',
];
const KEY_PREFIXES = ['logs', 'data', 'exports', 'tmp', 'models', 'reports'];
const OTHER_ERRORS = [
  'ThrottlingException',
  'ResourceNotFoundException',
  'ValidationException',
  'InvalidParameterValueException',
];

function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19) + 'Z';
}

interface FileSpec {
  seed: number;
  account: string;
  region: string;
  startMs: number;
  windowMs: number;
  /** stop after this many records, or once this many inflated bytes are written */
  records?: number;
  inflatedBytes?: number;
}

class RecordMaker {
  private readonly rng: Rng;
  private readonly t: Templates;
  private readonly org: Org;
  private readonly spec: FileSpec;
  private readonly accountIndex: number;
  private readonly substituted = new Map<Template, string>();
  private last = '';

  constructor(t: Templates, org: Org, spec: FileSpec) {
    this.rng = new Rng(spec.seed);
    this.t = t;
    this.org = org;
    this.spec = spec;
    this.accountIndex = org.accounts.indexOf(spec.account);
  }

  private parse(t: Template): Record<string, unknown> {
    let s = this.substituted.get(t);
    if (s === undefined) {
      s = t.json.replaceAll(ACCOUNT_TOKEN, this.spec.account);
      this.substituted.set(t, s);
    }
    return JSON.parse(s) as Record<string, unknown>;
  }

  private identity(p: Principal): Record<string, unknown> {
    const rng = this.rng;
    const session = rng.pick(p.sessions);
    if (p.kind === 'root') {
      return {
        type: 'Root',
        principalId: p.account,
        arn: p.arn,
        accountId: p.account,
        accessKeyId: session.accessKeyId,
      };
    }
    if (p.kind === 'user') {
      return {
        type: 'IAMUser',
        principalId: p.principalId,
        arn: p.arn,
        accountId: p.account,
        accessKeyId: 'AKIA' + session.accessKeyId.slice(4),
        userName: p.name,
      };
    }
    return {
      type: 'AssumedRole',
      principalId: `${p.principalId}:${session.name}`,
      arn: `arn:aws:sts::${p.account}:assumed-role/${p.name}/${session.name}`,
      accountId: p.account,
      accessKeyId: session.accessKeyId,
      sessionContext: {
        sessionIssuer: {
          type: 'Role',
          principalId: p.principalId,
          arn: p.arn,
          accountId: p.account,
          userName: p.name,
        },
        webIdFederationData: {},
        attributes: {
          creationDate: isoSeconds(this.spec.startMs - 3_600_000 + rng.int(3_600_000)),
          mfaAuthenticated: 'false',
        },
      },
    };
  }

  private principal(): Principal {
    const rng = this.rng;
    if (this.accountIndex < 0 || rng.chance(CROSS_ACCOUNT_RATE)) {
      return this.org.principals[this.org.globalSampler.sample(rng)];
    }
    const b = this.org.byAccount[this.accountIndex];
    return b.principals.length
      ? b.principals[b.sampler.sample(rng)]
      : this.org.principals[this.org.globalSampler.sample(rng)];
  }

  private common(r: Record<string, unknown>): void {
    const rng = this.rng;
    r.eventTime = isoSeconds(this.spec.startMs + rng.int(this.spec.windowMs));
    r.eventID = rng.uuid();
    if ('requestID' in r) r.requestID = rng.uuid();
    r.awsRegion = this.spec.region;
    r.recipientAccountId = this.spec.account;
  }

  /** The next record as compact JSON. */
  next(): string {
    const rng = this.rng;
    if (this.last && rng.chance(DUPLICATE_RATE)) return this.last; // CloudTrail redelivers, rarely
    const u = rng.float();
    let r: Record<string, unknown>;
    if (u < SERVICE_EVENT_RATE && this.t.serviceEvents.length) {
      r = this.parse(rng.pick(this.t.serviceEvents));
      this.common(r);
    } else if (u < SERVICE_EVENT_RATE + SIGN_IN_RATE && this.t.signIns.length) {
      r = this.parse(rng.pick(this.t.signIns));
      this.common(r);
      r.userIdentity = this.identity(this.principal());
    } else if (
      u < SERVICE_EVENT_RATE + SIGN_IN_RATE + AWS_SERVICE_CALL_RATE &&
      this.t.awsServiceCalls.length
    ) {
      r = this.parse(rng.pick(this.t.awsServiceCalls));
      this.common(r);
    } else {
      r = this.apiCall();
    }
    return (this.last = JSON.stringify(r));
  }

  private apiCall(): Record<string, unknown> {
    const rng = this.rng;
    const p = this.principal();
    const pair = this.t.pairs[p.pairs[p.pairSampler.sample(rng)]];
    const r = this.parse(rng.pick(pair.templates));
    this.common(r);
    r.userIdentity = this.identity(p);
    r.sourceIPAddress = p.ip;
    const params = r.requestParameters;
    let bucket: string | undefined;
    let key: string | undefined;
    if (typeof params === 'object' && params !== null && !Array.isArray(params)) {
      const q = params as Record<string, unknown>;
      if (typeof q.bucketName === 'string') q.bucketName = bucket = rng.pick(p.buckets);
      if (typeof q.key === 'string') {
        const day = (r.eventTime as string).slice(0, 10).replaceAll('-', '/');
        q.key = key = `${rng.pick(KEY_PREFIXES)}/${day}/${rng.hex(8)}.json`;
      }
      for (const k of VARIED_PARAMS) {
        const v = q[k];
        if (typeof v === 'string' && v.length > 0) q[k] = v + '-' + rng.int(p.variety);
      }
    }
    if (Array.isArray(r.resources) && bucket !== undefined) {
      for (const res of r.resources as Record<string, unknown>[]) {
        if (res?.type === 'AWS::S3::Bucket') res.ARN = `arn:aws:s3:::${bucket}`;
        else if (res?.type === 'AWS::S3::Object' && key !== undefined)
          res.ARN = `arn:aws:s3:::${bucket}/${key}`;
      }
    }
    const e = rng.float();
    if (e < DENIED_RATE) {
      r.responseElements = null;
      if (pair.source === 'ec2.amazonaws.com') {
        r.errorCode = 'Client.UnauthorizedOperation';
        r.errorMessage = 'You are not authorized to perform this operation.';
      } else if (pair.source === 's3.amazonaws.com') {
        r.errorCode = 'AccessDenied';
        r.errorMessage = 'Access Denied';
      } else {
        r.errorCode = rng.chance(0.5) ? 'AccessDenied' : 'AccessDeniedException';
        r.errorMessage = `User: ${(r.userIdentity as { arn: string }).arn} is not authorized to perform: ${pair.source.split('.')[0]}:${pair.name}`;
      }
    } else if (e < DENIED_RATE + FAILED_RATE) {
      r.responseElements = null;
      r.errorCode =
        pair.source === 's3.amazonaws.com' && pair.name === 'GetObject'
          ? 'NoSuchKey'
          : pair.source === 'ec2.amazonaws.com'
            ? rng.pick(['Client.DryRunOperation', 'Client.InvalidInstanceID.NotFound'])
            : rng.pick(OTHER_ERRORS);
      r.errorMessage = 'The request failed.';
    }
    return r;
  }
}

// ---------------------------------------------------------------------------------------------
// Files

export interface GenerateFileOptions {
  /** output path (directories are created) */
  file: string;
  spec: FileSpec;
  templates: Templates;
  org: Org;
}

const FLUSH_CHARS = 1 << 20;

/** Writes one `{"Records":[...]}` log file through a gzip stream; bounded memory at any size. */
export async function generateFile(
  opts: GenerateFileOptions,
): Promise<{ records: number; inflatedBytes: number; compressedBytes: number }> {
  mkdirSync(path.dirname(opts.file), { recursive: true });
  const maker = new RecordMaker(opts.templates, opts.org, opts.spec);
  const gzip = createGzip({ level: 6 });
  const done = pipeline(gzip, createWriteStream(opts.file));
  const maxRecords = opts.spec.records ?? Infinity;
  const maxBytes = opts.spec.inflatedBytes ?? Infinity;
  let parts: string[] = ['{"Records":['];
  let chars = parts[0].length;
  let inflated = 0;
  let records = 0;
  const flush = async (): Promise<void> => {
    const text = parts.join('');
    parts = [];
    chars = 0;
    inflated += Buffer.byteLength(text);
    if (!gzip.write(text)) await once(gzip, 'drain');
  };
  while (records < maxRecords && inflated + chars < maxBytes) {
    const json = maker.next();
    parts.push(records === 0 ? json : ',' + json);
    chars += json.length + 1;
    records++;
    if (chars >= FLUSH_CHARS) await flush();
  }
  parts.push(']}');
  await flush();
  gzip.end();
  await done;
  return { records, inflatedBytes: inflated, compressedBytes: statSync(opts.file).size };
}

function fileName(rng: Rng, account: string, region: string, startMs: number): string {
  const d = new Date(startMs).toISOString();
  const ts =
    d.slice(0, 4) + d.slice(5, 7) + d.slice(8, 10) + 'T' + d.slice(11, 13) + d.slice(14, 16) + 'Z';
  return `${account}_CloudTrail_${region}_${ts}_${rng.alnum(16)}.json.gz`;
}

export function corpusHash(opts: CorpusOptions): string {
  // The generator's own source, white space removed: reformatting does not regenerate corpora.
  const source = readFileSync(fileURLToPath(import.meta.url), 'utf8').replace(/\s+/g, '');
  return sha256(JSON.stringify({ GENERATOR_VERSION, opts }), source).slice(0, 12);
}

/** bench/.corpus/<label>-<hash>: where run.ts keeps a corpus with these options. */
export function corpusDir(label: string, opts: CorpusOptions): string {
  return path.join(CORPUS_ROOT, `${label}-${corpusHash(opts)}`);
}

export function readManifest(dir: string): Manifest | undefined {
  const file = path.join(dir, 'manifest.json');
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as Manifest;
}

/**
 * Generates the corpus into `dir`, or returns the cached manifest when `dir` already holds this
 * exact corpus. Files: `AWSLogs/<org-id>/<account>/CloudTrail/<region>/YYYY/MM/DD/…json.gz`.
 */
export async function generateCorpus(
  dir: string,
  partial: Partial<CorpusOptions> = {},
  log: (s: string) => void = () => {},
): Promise<Manifest> {
  const opts: CorpusOptions = { ...DEFAULT_CORPUS, ...partial };
  const hash = corpusHash(opts);
  const cached = readManifest(dir);
  if (cached?.hash === hash) return cached;
  const t0 = performance.now();
  rmSync(path.join(dir, 'AWSLogs'), { recursive: true, force: true });
  rmSync(path.join(dir, 'manifest.json'), { force: true });
  const templates = loadTemplates(FIXTURES_DIR, opts.seed);
  const org = buildOrg(templates, opts);
  const start = Date.parse(opts.startDate + 'T00:00:00Z');
  const files: FileInfo[] = [];
  const total = opts.files + opts.bigFiles.length;
  for (let i = 0; i < total; i++) {
    const rng = new Rng(hash32(`${opts.seed}/file/${i}`));
    const big = i >= opts.files;
    const account = org.accounts[org.accountSampler.sample(rng)];
    const region = REGIONS[new WeightedSampler(REGION_WEIGHTS).sample(rng)];
    const day = big
      ? (i - opts.files) % opts.days
      : Math.floor((i * opts.days) / Math.max(1, opts.files));
    const startMs = start + day * 86_400_000 + rng.int(288) * 300_000; // on a 5-minute boundary
    const records = big
      ? undefined
      : opts.spread === 0
        ? opts.records
        : Math.max(
            1,
            Math.round(
              opts.records * Math.exp(opts.spread * rng.normal() - (opts.spread * opts.spread) / 2),
            ),
          );
    const d = new Date(startMs).toISOString();
    const rel = path.join(
      'AWSLogs',
      org.orgId,
      account,
      'CloudTrail',
      region,
      d.slice(0, 4),
      d.slice(5, 7),
      d.slice(8, 10),
      fileName(rng, account, region, startMs),
    );
    const spec: FileSpec = {
      seed: rng.u32(),
      account,
      region,
      startMs,
      // Busy accounts deliver every 5 minutes; a big file covers a longer stretch of one.
      windowMs: big ? 3_600_000 : 300_000,
      records,
      inflatedBytes: big ? opts.bigFiles[i - opts.files] : undefined,
    };
    const info = await generateFile({ file: path.join(dir, rel), spec, templates, org });
    files.push({ path: rel, account, region, ...info });
    if (big || (i + 1) % 100 === 0) log(`  generated ${i + 1}/${total} files`);
  }
  const manifest: Manifest = {
    generator: GENERATOR_VERSION,
    hash,
    options: opts,
    files,
    totals: {
      files: files.length,
      records: files.reduce((s, f) => s + f.records, 0),
      inflatedBytes: files.reduce((s, f) => s + f.inflatedBytes, 0),
      compressedBytes: files.reduce((s, f) => s + f.compressedBytes, 0),
    },
    generatedSeconds: (performance.now() - t0) / 1000,
  };
  writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest, null, 1));
  return manifest;
}

/** Absolute paths of a manifest's files; `which` picks regular or big ones. */
export function corpusFiles(
  dir: string,
  m: Manifest,
  which: 'all' | 'regular' | 'big' = 'all',
): FileInfo[] {
  const n = m.options.files;
  const list =
    which === 'all' ? m.files : which === 'regular' ? m.files.slice(0, n) : m.files.slice(n);
  return list.map((f) => ({ ...f, path: path.join(dir, f.path) }));
}

// ---------------------------------------------------------------------------------------------
// CLI

const USAGE = `usage: node bench/corpus.ts --out DIR [--files N] [--records N] [--seed N] [--principals N]
       [--accounts N] [--days N] [--spread S] [--start YYYY-MM-DD] [--big-mb MB[,MB…]]`;

async function cli(argv: string[]): Promise<void> {
  const f = flags(argv);
  const out = f.get('out');
  if (out === undefined || f.has('help')) {
    console.error(USAGE);
    process.exitCode = 2;
    return;
  }
  const num = (k: string, d: number): number => {
    const v = f.get(k);
    if (v === undefined) return d;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0)
      throw new Error(`--${k} must be a non-negative number, got "${v}"`);
    return n;
  };
  const opts: CorpusOptions = {
    seed: num('seed', DEFAULT_CORPUS.seed),
    files: num('files', DEFAULT_CORPUS.files),
    records: num('records', DEFAULT_CORPUS.records),
    spread: num('spread', DEFAULT_CORPUS.spread),
    principals: num('principals', DEFAULT_CORPUS.principals),
    accounts: Math.max(1, num('accounts', DEFAULT_CORPUS.accounts)),
    days: Math.max(1, num('days', DEFAULT_CORPUS.days)),
    startDate: f.get('start') ?? DEFAULT_CORPUS.startDate,
    bigFiles: (f.get('big-mb') ?? '')
      .split(',')
      .filter(Boolean)
      .map((mb) => Math.round(Number(mb) * 2 ** 20)),
  };
  const t0 = performance.now();
  const m = await generateCorpus(path.resolve(out), opts, (s) => console.error(s));
  const secs = (performance.now() - t0) / 1000;
  console.log(
    `${out}: ${m.totals.files} files, ${m.totals.records.toLocaleString('en-US')} records, ` +
      `${(m.totals.inflatedBytes / 1e6).toFixed(1)} MB inflated, ${(m.totals.compressedBytes / 1e6).toFixed(1)} MB gzipped ` +
      `(hash ${m.hash}, ${secs < 0.5 ? 'cached' : `${secs.toFixed(1)} s`})`,
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await cli(process.argv.slice(2));
}
