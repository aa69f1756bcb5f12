// Hostile and broken inputs through the service path: real AWS SDK clients against the fauxqs
// emulator, the real worker pool, the LMDB store on disk and the service's own Telemetry (metrics,
// /v1/status list, log lines). Every fixture is generated here (the big ones are a few KB or MB
// compressed). Each bad object must give a clear error code, a metric, a log line naming the
// object, and leave every good file's data exactly as a clean ingest of the good files alone; each
// odd but valid one must be read as JSON.parse reads it. Run on both parser paths: whole-file and
// streaming (wholeFileMaxBytes 1 forces every gzip file through the streaming path).
//
// The same hostile files through `trailmint ingest` (a directory) at the end.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { constants as zlib, createGzip, gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/catalog.ts';
import type { ObjectErrorCode } from '../../src/errors.ts';
import { ingestObjects } from '../../src/ingest.ts';
import { ParserPool } from '../../src/pool.ts';
import { listLocal } from '../../src/sources/local.ts';
import { S3Source } from '../../src/sources/s3.ts';
import { SqsConsumer } from '../../src/sources/sqs.ts';
import { dayOf } from '../../src/state/delta.ts';
import { openStore } from '../../src/state/open.ts';
import type { Store } from '../../src/state/store.ts';
import { Telemetry, createLogger } from '../../src/telemetry.ts';
import {
  DEFAULT_PARSE_OPTIONS,
  inflateChunk,
  parseLogFile,
  type ParseOptions,
} from '../../workers/parse.ts';
import { cloudTrail, eventBridge, s3Event, sns, until } from '../helpers/bodies.ts';
import { startEmulator, type Emulator } from '../helpers/emulator.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const FIXTURES = path.resolve(ROOT, '../shared/fixtures/cloudtrail');
const GOOD_FOLDERS = [
  'stratus-red-team-detonation-logs',
  'trailscraper-fixtures',
  'grycap-cloudtrail-tracker',
  'awsdocs-examples',
];
const GOOD_FILES = GOOD_FOLDERS.flatMap((folder) =>
  readdirSync(path.join(FIXTURES, folder))
    .filter((f) => f.endsWith('.json.gz'))
    .sort()
    .map((f) => path.join(FIXTURES, folder, f)),
);

const HOSTILE_ACCOUNT = '424242424242';
const HOSTILE_DIR = `AWSLogs/${HOSTILE_ACCOUNT}/CloudTrail/us-east-1/2024/05/17/`;
const GOOD_DIR = 'AWSLogs/123456789012/CloudTrail/us-east-1/2024/05/17/';
const hostileKey = (name: string) =>
  `${HOSTILE_DIR}${HOSTILE_ACCOUNT}_CloudTrail_us-east-1_${name}.json.gz`;
const goodKey = (i: number) =>
  `${GOOD_DIR}123456789012_CloudTrail_us-east-1_${String(i).padStart(3, '0')}.json.gz`;
const userOf = (name: string) => `arn:aws:iam::${HOSTILE_ACCOUNT}:user/${name}`;

/** Inflated-size cap of the pools here: the bomb inflates to 16 times this. */
const MAX_INFLATED = 64 * 1024 * 1024;
const MB = 1024 * 1024;

// ---- fixtures ------------------------------------------------------------------------------

type Rec = Record<string, unknown>;

/** One CloudTrail management event by `user` (s3:ListAllMyBuckets unless overridden). */
function rec(user: string, over: Rec = {}): Rec {
  return {
    eventVersion: '1.08',
    userIdentity: { type: 'IAMUser', arn: userOf(user), accountId: HOSTILE_ACCOUNT },
    eventTime: '2024-05-17T10:00:00Z',
    eventSource: 's3.amazonaws.com',
    eventName: 'ListBuckets',
    awsRegion: 'us-east-1',
    eventID: crypto.randomUUID(),
    eventType: 'AwsApiCall',
    recipientAccountId: HOSTILE_ACCOUNT,
    ...over,
  };
}
const doc = (records: unknown[]) => JSON.stringify({ Records: records });
const gz = (text: string | Uint8Array) => gzipSync(text);

/** A small file inflating to `bytes` of whitespace inside a Records array: valid JSON until the cap. */
async function gzipBomb(bytes: number): Promise<Buffer> {
  const z = createGzip({ level: 9, strategy: zlib.Z_RLE });
  const out: Buffer[] = [];
  z.on('data', (c: Buffer) => out.push(c));
  const ended = new Promise((resolve) => z.on('end', resolve));
  z.write('{"Records":[');
  const spaces = Buffer.alloc(MB, 0x20);
  for (let n = 0; n < bytes; n += MB) {
    if (!z.write(spaces)) await new Promise((resolve) => z.once('drain', resolve));
  }
  z.end(']}');
  await ended;
  return Buffer.concat(out);
}

interface Case {
  name: string;
  bytes: Buffer;
  /** a bad object: the error code it must get */
  code?: ObjectErrorCode;
  /** a valid one: what the store must hold for the case's principal(s) */
  actions?: Record<string, string[]>;
  /** principals that must not appear */
  absent?: string[];
}

async function hostileCases(): Promise<Case[]> {
  const truncated = gz(doc([rec('truncated'), rec('truncated', { eventName: 'GetBucketAcl' })]));
  const three = doc([
    rec('multi-member'),
    rec('multi-member', { eventName: 'GetBucketAcl' }),
    rec('multi-member', { eventName: 'GetBucketPolicy' }),
  ]);
  const cut = three.indexOf('GetBucketAcl'); // the member boundary falls inside a record
  const nest = (levels: number) => '{"a":'.repeat(levels) + '"x"' + '}'.repeat(levels);
  const deep = JSON.stringify(rec('deep-nesting')).slice(0, -1);
  const deepRole = JSON.stringify(
    rec('deep-nesting', {
      eventSource: 'lambda.amazonaws.com',
      eventName: 'CreateFunction20150331',
    }),
  ).slice(0, -1);
  const dupKeys = JSON.stringify(rec('duplicate-keys'))
    .replace('"eventName":"ListBuckets"', '"eventName":"DeleteBucket","eventName":"ListBuckets"')
    .replace('"userIdentity":{', `"userIdentity":{"arn":"${userOf('duplicate-shadowed')}",`);
  return [
    {
      name: 'truncated-gzip',
      bytes: truncated.subarray(0, truncated.length >> 1),
      code: 'GZIP_CORRUPT',
    },
    {
      name: 'not-gzip-binary', // bzip2 magic and bytes that are no UTF-8
      bytes: Buffer.concat([Buffer.from('BZh91AY&SY'), Buffer.alloc(64, 0xff)]),
      code: 'NOT_UTF8',
    },
    {
      name: 'not-gzip-text',
      bytes: Buffer.from('PK this is no gzip and no JSON'),
      code: 'NOT_JSON',
    },
    { name: 'gzip-bomb', bytes: await gzipBomb(16 * MAX_INFLATED), code: 'TOO_LARGE' },
    {
      name: 'multi-member-gzip', // valid: gzip readers must read every member
      bytes: Buffer.concat([gz(three.slice(0, cut)), gz(three.slice(cut))]),
      actions: { 'multi-member': ['s3:GetBucketAcl', 's3:GetBucketPolicy', 's3:ListAllMyBuckets'] },
    },
    { name: 'empty-file', bytes: Buffer.alloc(0), code: 'NOT_JSON' },
    { name: 'empty-gzip', bytes: gz(''), code: 'NOT_JSON' },
    { name: 'empty-object', bytes: gz('{}'), code: 'NOT_CLOUDTRAIL' },
    { name: 'records-null', bytes: gz('{"Records": null}'), code: 'NOT_CLOUDTRAIL' },
    { name: 'records-object', bytes: gz('{"Records": {"0": {}}}'), code: 'NOT_CLOUDTRAIL' },
    { name: 'records-string', bytes: gz('{"Records": "[]"}'), code: 'NOT_CLOUDTRAIL' },
    {
      name: 'records-not-objects', // counted as bad records; the file and its good record count
      bytes: gz(JSON.stringify({ Records: [1, 'x', null, [], true, rec('records-not-objects')] })),
      actions: { 'records-not-objects': ['s3:ListAllMyBuckets'] },
    },
    {
      name: 'invalid-utf8',
      // 0xC3 opens a two-byte sequence; the quote after it cannot continue one
      bytes: gz(
        Buffer.from(doc([rec('invalid-utf8')]).replace('ListBuckets', 'List\u0000')).map((b) =>
          b === 0 ? 0xc3 : b,
        ),
      ),
      code: 'NOT_UTF8',
    },
    {
      name: 'record-50mb', // one record of 50 MB: under the 64 MiB record cap, read
      bytes: gz(doc([rec('record-50mb', { requestParameters: { blob: 'A'.repeat(50 * MB) } })])),
      actions: { 'record-50mb': ['s3:ListAllMyBuckets'] },
    },
    {
      name: 'deep-nesting', // 10,000 levels of requestParameters, also where PassRole looks
      bytes: gz(
        `{"Records":[${deep},"requestParameters":${nest(10_000)}},` +
          `${deepRole},"requestParameters":{"role":${nest(10_000)},"functionName":${nest(5_000)}}}]}`,
      ),
      actions: { 'deep-nesting': ['lambda:CreateFunction', 's3:ListAllMyBuckets'] },
    },
    {
      name: 'duplicate-keys', // JSON.parse semantics: the last one wins
      bytes: gz(`{"Records":[${dupKeys}]}`),
      actions: { 'duplicate-keys': ['s3:ListAllMyBuckets'] },
      absent: [userOf('duplicate-shadowed')],
    },
    {
      name: 'wrong-types', // numbers (and others) where strings belong: records skipped, not fatal
      bytes: gz(
        doc([
          rec('wrong-types-1', { eventName: 5 }),
          rec('wrong-types-2', { eventSource: 7 }),
          rec('wrong-types-3', { userIdentity: { type: 'IAMUser', arn: 42 } }),
          rec('wrong-types-4', { eventTime: 1715940000 }),
          rec('wrong-types-5', { userIdentity: 'arn:aws:iam::424242424242:user/x' }),
          rec('wrong-types-6', { eventType: 12 }),
          rec('wrong-types', { errorCode: 403, requestParameters: 17, resources: 'x' }),
        ]),
      ),
      actions: { 'wrong-types': ['s3:ListAllMyBuckets'] },
      absent: [1, 2, 3, 4, 5, 6].map((i) => userOf(`wrong-types-${i}`)),
    },
    {
      name: 'bad-event-time',
      bytes: gz(
        doc([
          rec('bad-event-time-1', { eventTime: undefined }),
          rec('bad-event-time-2', { eventTime: 'yesterday' }),
          rec('bad-event-time-3', { eventTime: '2024-13-45T99:99:99Z' }),
          rec('bad-event-time-4', { eventTime: '' }),
          rec('bad-event-time'),
        ]),
      ),
      actions: { 'bad-event-time': ['s3:ListAllMyBuckets'] },
      absent: [1, 2, 3, 4].map((i) => userOf(`bad-event-time-${i}`)),
    },
    {
      name: 'unicode-arn',
      bytes: gz(doc([rec('ユーザー-ü-👩‍💻')])),
      actions: { 'ユーザー-ü-👩‍💻': ['s3:ListAllMyBuckets'] },
    },
    {
      name: 'arn-10kb', // longer than any IAM ARN (2048): not a principal
      bytes: gz(doc([rec('x'.repeat(10_000)), rec('arn-10kb-neighbour')])),
      actions: { 'arn-10kb-neighbour': ['s3:ListAllMyBuckets'] },
      absent: [userOf('x'.repeat(10_000))],
    },
    {
      name: 'arn-2kb', // within IAM's 2048 characters, beyond LMDB's 1978-byte key limit
      bytes: gz(doc([rec('y'.repeat(2000))])),
      actions: { ['y'.repeat(2000)]: ['s3:ListAllMyBuckets'] },
    },
    {
      name: 'arn-unicode-2kb', // 700 characters, 2.1 KB of UTF-8
      bytes: gz(doc([rec('ユ'.repeat(700))])),
      actions: { ['ユ'.repeat(700)]: ['s3:ListAllMyBuckets'] },
    },
    {
      // a 10 KB name cannot be an IAM action: unmapped (counted), never a new action id
      name: 'event-name-10kb',
      bytes: gz(
        doc([rec('event-name-10kb', { eventName: 'Z'.repeat(10_000) }), rec('event-name-10kb')]),
      ),
      actions: { 'event-name-10kb': ['s3:ListAllMyBuckets'] },
    },
    {
      name: 'event-source-10kb', // an unmapped (source, name) pair of 10 KB each
      bytes: gz(
        doc([
          rec('event-source-10kb', {
            eventSource: 'q'.repeat(10_000),
            eventName: 'W'.repeat(10_000),
          }),
          rec('event-source-10kb'),
        ]),
      ),
      actions: { 'event-source-10kb': ['s3:ListAllMyBuckets'] },
    },
  ];
}

// ---- store snapshots -----------------------------------------------------------------------

async function snapshot(store: Store, only?: (principal: string) => boolean) {
  const names = await store.actionNames();
  const far = dayOf(Date.now()) + 1;
  const principals = (await store.principals())
    .filter((p) => !only || only(p.principal))
    .sort((a, b) => (a.principal < b.principal ? -1 : 1));
  const detail: Record<string, unknown> = {};
  for (const { principal } of principals) {
    const w = await store.windowActions(principal, 0, far);
    const details = await store.actionDetails(principal);
    detail[principal] = {
      used: [...w.used].map((id) => names[id]).sort(),
      denied: [...w.denied].map((id) => names[id]).sort(),
      details: details
        .map((d) => ({ ...d, action: names[d.action], resources: [...d.resources].sort() }))
        .sort((a, b) => (a.action < b.action ? -1 : 1)),
    };
  }
  return { principals, detail };
}

async function usedActions(store: Store, principal: string): Promise<string[]> {
  const names = await store.actionNames();
  const w = await store.windowActions(principal, 0, dayOf(Date.now()) + 1);
  return [...w.used].map((id) => names[id]).sort();
}

const notHostile = (principal: string) => !principal.includes(`::${HOSTILE_ACCOUNT}:`);

// ---- shared state --------------------------------------------------------------------------

const tmp = mkdtempSync(path.join(os.tmpdir(), 'trailmint-hostile-'));
let cases: Case[];
let reference: Awaited<ReturnType<typeof snapshot>>;

beforeAll(async () => {
  cases = await hostileCases();
  // The reference: the good files alone, through the same ingest engine.
  const pool = new ParserPool({ threads: 2 }, DEFAULT_PARSE_OPTIONS);
  const store = await openStore('memory:');
  const listing = await listLocal(GOOD_FILES);
  const summary = await ingestObjects(listing.objects, store, pool, {
    inFlightObjects: 4,
    commitBatchFiles: 16,
  });
  expect(summary.files.ingested).toBe(GOOD_FILES.length);
  reference = await snapshot(store);
  expect(reference.principals.length).toBeGreaterThan(10);
  await store.close();
  await pool.close();
}, 60_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// ---- the service path ----------------------------------------------------------------------

const PATHS: [string, Partial<ParseOptions>][] = [
  ['whole-file path', {}],
  ['streaming path', { wholeFileMaxBytes: 1 }],
];

describe.each(PATHS)('hostile objects through the SQS consumer (%s)', (label, parseOver) => {
  let emu: Emulator;
  let pool: ParserPool;
  let store: Store;
  let consumer: SqsConsumer;
  let telemetry: Telemetry;
  const lines: string[] = [];
  let peakRss = 0;
  const logs = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

  // The notification-borne cases: (description, body, expectation) — objects they name are below.
  const PCT_KEY = `${HOSTILE_DIR}${HOSTILE_ACCOUNT}_CloudTrail_us-east-1_100%+50% off+plus.json.gz`;
  const PCT_KEY_EB = `${HOSTILE_DIR}${HOSTILE_ACCOUNT}_CloudTrail_us-east-1_a%2Fb%zz+c.json.gz`;
  const OTHER_KEY = `${HOSTILE_DIR}${HOSTILE_ACCOUNT}_CloudTrail_us-east-1_elsewhere.json.gz`;

  beforeAll(async () => {
    emu = await startEmulator({
      maxReceiveCount: 2,
      // A bucket that exists but refuses us, as a bucket of another account would.
      onRequest: async (req, reply) => {
        if (req.url.startsWith('/forbidden-bucket/')) {
          await reply
            .code(403)
            .type('application/xml')
            .send(
              '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code>' +
                '<Message>Access Denied</Message></Error>',
            );
        }
      },
    });
    pool = new ParserPool(
      { threads: 2 },
      { ...DEFAULT_PARSE_OPTIONS, maxInflatedBytes: MAX_INFLATED, ...parseOver },
    );
    store = await openStore(path.join(tmp, label.replace(/\W+/g, '-')), { catalog: loadCatalog() });
    const logger = createLogger('debug', { write: (s: string) => void lines.push(s) });
    telemetry = new Telemetry({ store, logger, failedObjectsMax: 1000 });
    telemetry.watchPool(pool);

    const put = (key: string, body: Uint8Array) =>
      emu.s3.send(new PutObjectCommand({ Bucket: emu.bucket, Key: key, Body: body }));
    for (const [i, f] of GOOD_FILES.entries()) await put(goodKey(i), readFileSync(f));
    for (const c of cases) await put(hostileKey(c.name), c.bytes);
    const pct = gz(doc([rec('percent-plus')]));
    await put(PCT_KEY, pct);
    await put(PCT_KEY_EB, gz(doc([rec('percent-plus-eventbridge')])));

    // Every hostile object shares its message with good ones, so they share commits too.
    const bodies: string[] = [];
    cases.forEach((c, i) => {
      const goods = [
        goodKey((2 * i) % GOOD_FILES.length),
        goodKey((2 * i + 1) % GOOD_FILES.length),
      ];
      bodies.push(cloudTrail(emu.bucket, [goods[0], hostileKey(c.name), goods[1]]));
    });
    for (let i = 2 * cases.length; i < GOOD_FILES.length; i++) {
      bodies.push(s3Event(emu.bucket, goodKey(i)));
    }
    bodies.push(
      'this is not json {',
      sns('{"Records": [ not json'),
      sns(JSON.stringify({ nothing: 'here' })),
      // S3 form-encodes keys: `%` is %25, `+` is %2B, a space is `+`
      s3Event(emu.bucket, PCT_KEY),
      eventBridge(emu.bucket, PCT_KEY_EB), // EventBridge keys are raw: `%zz` is just three characters
      // A key S3 could never have sent: `%zz` is no escape
      JSON.stringify({
        Records: [
          {
            eventName: 'ObjectCreated:Put',
            s3: { bucket: { name: emu.bucket }, object: { key: 'AWSLogs/%zz.json.gz' } },
          },
        ],
      }),
      cloudTrail('no-such-bucket', [OTHER_KEY]),
      s3Event('forbidden-bucket', OTHER_KEY),
    );
    for (let i = 0; i < bodies.length; i += 10) {
      const Entries = bodies
        .slice(i, i + 10)
        .map((MessageBody, j) => ({ Id: String(j), MessageBody }));
      await emu.sqs.send(new SendMessageBatchCommand({ QueueUrl: emu.queueUrl, Entries }));
    }

    const rss = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 25);
    consumer = new SqsConsumer(
      {
        sqs: emu.sqs,
        s3: new S3Source(emu.s3, { maxObjectBytes: 64 * MB }),
        store,
        pool,
        observer: telemetry,
      },
      {
        queueUrl: emu.queueUrl,
        waitTimeSecs: 1,
        visibilityTimeoutSecs: 30,
        heartbeatSecs: 10,
        commitIntervalMs: 50,
        retryBackoffSecs: 0,
        maxInFlightObjects: 8,
      },
    );
    consumer.start();
    try {
      await until(
        'queue drained, the unreadable objects in the dead-letter queue',
        async () => {
          // A failed commit sends its whole batch back, so the queue would never drain: say why.
          const failed = lines.find((l) => l.includes('"code":"STORE_FAILED"'));
          if (failed) throw new Error(`a store commit failed: ${failed.slice(0, 500)}`);
          const d = await emu.queueDepth();
          const dlq = await emu.queueDepth(emu.dlqUrl);
          return (
            d.visible + d.inFlight + d.delayed === 0 &&
            consumer.inFlightMessages === 0 &&
            dlq.visible === 2
          );
        },
        90_000,
      );
    } finally {
      clearInterval(rss);
      await consumer.stop();
    }
  }, 150_000);

  afterAll(async () => {
    await consumer?.stop();
    await store?.close();
    await pool?.close();
    await emu?.stop();
  });

  it('no store error: no input can make a commit fail', async () => {
    expect(await telemetry.metrics()).toMatch(/^trailmint_store_errors_total 0$/m);
    expect(logs().filter((l) => l.code === 'STORE_FAILED')).toEqual([]);
  });

  it("the good files' data is exactly a clean ingest of them alone", async () => {
    expect(await snapshot(store, notHostile)).toEqual(reference);
    const status = await telemetry.status();
    // every good file, every valid hostile one, and the two percent-named ones
    const valid = cases.filter((c) => c.code === undefined).length;
    expect(status.objects.ingested).toBe(GOOD_FILES.length + valid + 2);
  });

  it('each bad object: its error code, the metric, a /v1/status entry and an ERROR line naming it', async () => {
    const status = await telemetry.status();
    const metrics = await telemetry.metrics();
    const bad = cases.filter((c) => c.code !== undefined);
    const got = Object.fromEntries(
      status.failedObjects
        .filter((f) => f.object.startsWith(`s3://${emu.bucket}/`))
        .map((f) => [f.object.split('_').at(-1)!.replace('.json.gz', ''), f.code]),
    );
    expect(got).toEqual(Object.fromEntries(bad.map((c) => [c.name, c.code])));
    const perCode = new Map<string, number>();
    for (const c of bad) perCode.set(c.code!, (perCode.get(c.code!) ?? 0) + 1);
    for (const [code, n] of perCode) {
      expect(metrics, code).toContain(`trailmint_object_errors_total{code="${code}"} ${n}\n`);
    }
    for (const c of bad) {
      const url = `s3://${emu.bucket}/${hostileKey(c.name)}`;
      const line = logs().find((l) => l.object === url && l.code === c.code);
      expect(line, c.name).toMatchObject({
        level: 'error',
        action: 'skip',
        msg: 'object failed permanently',
      });
      expect(String(line!.message).length, c.name).toBeLessThan(500);
    }
  });

  it('each odd but valid object is read as JSON.parse reads it', async () => {
    for (const c of cases.filter((x) => x.actions !== undefined)) {
      for (const [user, actions] of Object.entries(c.actions!)) {
        expect(await usedActions(store, userOf(user)), `${c.name}: ${user.slice(0, 40)}`).toEqual(
          actions,
        );
      }
      for (const arn of c.absent ?? []) {
        expect(
          (await store.principals()).map((p) => p.principal),
          c.name,
        ).not.toContain(arn);
      }
    }
    // what the files said that is not an action use, counted by reason (the debug line per object)
    const done = (name: string) =>
      logs().find(
        (l) => l.msg === 'object ingested' && l.object === `s3://${emu.bucket}/${hostileKey(name)}`,
      );
    expect(done('records-not-objects')).toMatchObject({ records: 6 });
    expect(done('record-50mb')).toMatchObject({ records: 1 });
    expect((await store.unknownActions()).some((a) => a.startsWith('s3:ZZZZ'))).toBe(false);
    expect((await store.unmapped()).find((u) => u.name.startsWith('ZZZZ'))).toMatchObject({
      source: 's3.amazonaws.com',
      count: 1,
      name: expect.stringMatching(/^Z{200}…$/),
    });
    const unmapped = (await store.unmapped()).find((u) => u.source.startsWith('qqqq'));
    expect(unmapped).toMatchObject({ count: 1, name: expect.stringMatching(/^W{200}…$/) });
    expect(unmapped!.source).toMatch(/^q{200}…$/);
  });

  it('the gzip bomb was refused at the cap: memory never held what it inflates to', () => {
    // 16 × the cap inflated would be 1 GiB; the peak of the whole run (50 MB record included) is far below.
    expect(peakRss).toBeLessThan(1.5 * 1024 * MB);
  });

  it('notification bodies: poison counted, logged and deleted; `%` and `+` keys ingested', async () => {
    const status = await telemetry.status();
    expect(status.messages.poison).toBe(4);
    expect(await telemetry.metrics()).toContain(
      'trailmint_sqs_messages_failed_total{reason="poison"} 4\n',
    );
    expect(
      logs()
        .filter((l) => l.code === 'POISON_MESSAGE')
        .map((l) => l.reason)
        .sort(),
    ).toEqual([
      'SNS Message: not an S3, EventBridge or CloudTrail notification',
      'SNS envelope whose Message is not JSON',
      'an S3 event whose object key is not URL-encoded: AWSLogs/%zz.json.gz',
      'body is not JSON',
    ]);
    expect(await usedActions(store, userOf('percent-plus'))).toEqual(['s3:ListAllMyBuckets']);
    expect(await usedActions(store, userOf('percent-plus-eventbridge'))).toEqual([
      's3:ListAllMyBuckets',
    ]);
  });

  it('a key in a bucket we cannot read: READ_FAILED, retried, then left in the dead-letter queue', async () => {
    const status = await telemetry.status();
    const failed = status.failedObjects.filter((f) => !f.object.startsWith(`s3://${emu.bucket}/`));
    expect(failed.map((f) => [f.object, f.code, f.action]).sort()).toEqual([
      [`s3://forbidden-bucket/${OTHER_KEY}`, 'READ_FAILED', 'retry'],
      [`s3://no-such-bucket/${OTHER_KEY}`, 'READ_FAILED', 'retry'],
    ]);
    expect(failed.find((f) => f.object.startsWith('s3://forbidden'))!.message).toMatch(
      /AccessDenied/,
    );
    expect(failed.find((f) => f.object.startsWith('s3://no-such'))!.message).toMatch(
      /NoSuchBucket/,
    );
    // both receives of each were released for a retry, each with a WARN line naming the object
    expect(status.messages.released).toBe(4);
    expect(await telemetry.metrics()).toContain(
      'trailmint_object_errors_total{code="READ_FAILED"} 4\n',
    );
    for (const bucket of ['forbidden-bucket', 'no-such-bucket']) {
      const warned = logs().filter(
        (l) => l.object === `s3://${bucket}/${OTHER_KEY}` && l.code === 'READ_FAILED',
      );
      expect(warned.map((l) => l.level)).toEqual(['warn', 'warn']);
    }
  });
});

// ---- the command line ----------------------------------------------------------------------

describe('hostile files through `trailmint ingest`', () => {
  it('reports each bad file with its code, exits 1, and keeps every good file', async () => {
    const dir = path.join(tmp, 'ingest-dir');
    mkdirSync(dir, { recursive: true });
    const cheap = cases.filter((c) => c.name !== 'gzip-bomb' && c.name !== 'record-50mb');
    for (const c of cheap) writeFileSync(path.join(dir, `${c.name}.json.gz`), c.bytes);
    for (const [i, f] of GOOD_FILES.entries())
      writeFileSync(path.join(dir, `good-${i}-${path.basename(f)}`), readFileSync(f));
    const store = path.join(tmp, 'ingest-store');
    const child = spawn(path.join(ROOT, 'bin/trailmint'), [
      'ingest',
      dir,
      '--store',
      store,
      '--json',
    ]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code, stderr).toBe(1);
    const summary = JSON.parse(stdout) as {
      files: { ingested: number; failed: number; skipped: number };
      errors: { file: string; code: string }[];
    };
    // NOT_CLOUDTRAIL is "JSON, but no log file": passed over and counted, as the CLI does for digests.
    const failing = cheap.filter((c) => c.code !== undefined && c.code !== 'NOT_CLOUDTRAIL');
    expect(summary.errors.map((e) => [path.basename(e.file, '.json.gz'), e.code]).sort()).toEqual(
      failing.map((c) => [c.name, c.code]).sort(),
    );
    expect(summary.files.ingested).toBe(GOOD_FILES.length + cheap.filter((c) => c.actions).length);
    const opened = await openStore(store, { catalog: loadCatalog() });
    try {
      expect(await snapshot(opened, notHostile)).toEqual(reference);
      expect(await usedActions(opened, userOf('y'.repeat(2000)))).toEqual(['s3:ListAllMyBuckets']);
    } finally {
      await opened.close();
    }
  }, 60_000);
});

// ---- parser path consistency and caps (reported; see docs/reliability.md) -------------------

describe('parser edge cases', () => {
  const catalog = loadCatalog();
  const streaming = { ...DEFAULT_PARSE_OPTIONS, wholeFileMaxBytes: 1 };

  // Two top-level "Records" keys: JSON.parse would keep the last, the streaming splitter cannot;
  // both paths refuse the document, so a file means the same whatever its size.
  it('a duplicate top-level Records key is refused the same way on both paths', async () => {
    const bytes = gz(`{"Records":[],"Records":[${JSON.stringify(rec('dup-records'))}]}`);
    const whole = await parseLogFile(bytes, catalog);
    const stream = await parseLogFile(bytes, catalog, streaming);
    expect(whole.ok || whole.error.code).toBe('NOT_CLOUDTRAIL');
    expect(stream.ok || stream.error.code).toBe('NOT_CLOUDTRAIL');
    // "Records" as a key deeper down is nothing special
    const nested = gz(
      JSON.stringify({ Records: [{ ...rec('nested'), requestParameters: { Records: [] } }] }),
    );
    const ok = await parseLogFile(nested, catalog);
    expect(ok.ok && ok.delta.principals).toEqual([userOf('nested')]);
  });

  // The whole-file path sizes its inflate buffer from the gzip trailer: a trailer that lies
  // (too small, too large, or a multi-member file naming only its last member) changes neither
  // the result nor the memory bound, only the number of chunks.
  it('a gzip trailer that lies about the inflated size changes nothing but speed', async () => {
    const text = JSON.stringify({ Records: [rec('trailer-a'), rec('trailer-b')] });
    const honest = gz(text);
    const expected = await parseLogFile(honest, catalog);
    expect(expected.ok && expected.delta.principals).toHaveLength(2);
    const sansSize = (r: typeof expected) =>
      r.ok ? { ...r.delta, stats: { ...r.delta.stats, bytesCompressed: 0 } } : r;
    const lying = (size: number) => {
      const b = Buffer.from(honest);
      b.writeUInt32LE(size >>> 0, b.length - 4);
      return b;
    };
    // Multi-member: two gzip members of halves of the text; the trailer holds the last only.
    const cut = text.length >> 1;
    const multi = Buffer.concat([gz(text.slice(0, cut)), gz(text.slice(cut))]);
    for (const bytes of [lying(0), lying(10), lying(0xffffffff), multi]) {
      // zlib checks ISIZE against what it inflated: a lying one is corrupt on every path
      const result = await parseLogFile(bytes, catalog);
      if (bytes === multi) expect(sansSize(result)).toEqual(sansSize(expected));
      else expect(result.ok || result.error.code).toBe('GZIP_CORRUPT');
    }
    // the inflate buffer stays within 64× the compressed size whatever the trailer claims
    expect(inflateChunk(lying(0xffffffff), 64 * 2 ** 20)).toBeLessThanOrEqual(
      Math.max(64 * 1024, honest.length * 64),
    );
    expect(inflateChunk(honest, 64 * 2 ** 20)).toBe(Math.max(64 * 1024, text.length + 1));
  });

  // A cap on distinct principals (and actions, unmapped pairs) per file: without it a 3 MB gzip
  // naming 1,000,000 principals took 26 s and 2 GB of RSS to parse, then 22 s of one LMDB
  // transaction on the main thread. Past the cap the rest is only counted and the file refused.
  it('a file with more distinct principals than the cap is refused with a clear code', async () => {
    const bytes = await manyPrincipals(1_500);
    const capped = { ...DEFAULT_PARSE_OPTIONS, maxPrincipalsPerFile: 1_000 };
    for (const opts of [capped, { ...capped, wholeFileMaxBytes: 1 }]) {
      const result = await parseLogFile(bytes, catalog, opts);
      expect(result.ok || result.error).toEqual({
        code: 'TOO_MANY_DISTINCT',
        message: expect.stringMatching(/more than 1000 distinct principals/),
      });
    }
    const under = await parseLogFile(bytes, catalog, { ...capped, maxPrincipalsPerFile: 1_500 });
    expect(under.ok && under.delta.principals.length).toBe(1_500);
  });

  it('the default cap holds 150,000 principals back with bounded memory', async () => {
    const bytes = await manyPrincipals(150_000);
    const result = await parseLogFile(bytes, catalog);
    expect(result.ok || result.error.code).toBe('TOO_MANY_DISTINCT');
  }, 60_000);

  it('a junk event name is unmapped, not a new action id', async () => {
    const junk = { ...rec('junk'), eventName: 'x'.repeat(5000) };
    const result = await parseLogFile(gz(JSON.stringify({ Records: [junk] })), catalog);
    expect(result.ok && result.delta.actions).toEqual([]);
    expect(result.ok && result.delta.stats.skipped.unmapped).toBe(1);
  });

  it.runIf(process.env.HOSTILE_MILLION === '1')(
    'measures a million distinct principals in one file (HOSTILE_MILLION=1)',
    async () => {
      const bytes = await manyPrincipals(1_000_000);
      const pool = new ParserPool({ threads: 1 }, DEFAULT_PARSE_OPTIONS);
      let peak = 0;
      const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
      try {
        const started = performance.now();
        const result = await pool.parse(new Uint8Array(bytes));
        const parseMs = performance.now() - started;
        const store = await openStore(path.join(tmp, 'million'), { catalog });
        const committing = performance.now();
        if (result.ok)
          await store.commit([
            { object: { key: 's3://b/million', tag: 't' }, delta: result.delta },
          ]);
        const commitMs = performance.now() - committing;
        await store.close();
        console.log(
          `1,000,000 principals: ${(bytes.length / MB).toFixed(1)} MB gzip, parse ${Math.round(parseMs)} ms, ` +
            `commit ${Math.round(commitMs)} ms, peak RSS ${Math.round(peak / MB)} MB, ` +
            `result ${result.ok ? `ok (${result.delta.principals.length} principals)` : result.error.code}`,
        );
      } finally {
        clearInterval(timer);
        await pool.close();
      }
    },
    600_000,
  );
});

/** One small gzip file naming `n` distinct IAM users. */
async function manyPrincipals(n: number): Promise<Buffer> {
  const z = createGzip({ level: 1 });
  const out: Buffer[] = [];
  z.on('data', (c: Buffer) => out.push(c));
  const ended = new Promise((resolve) => z.on('end', resolve));
  z.write('{"Records":[');
  for (let i = 0; i < n; i += 10_000) {
    const part: string[] = [];
    for (let j = i; j < Math.min(n, i + 10_000); j++) {
      part.push(
        `${j ? ',' : ''}{"eventTime":"2024-05-17T10:00:00Z","eventSource":"s3.amazonaws.com",` +
          `"eventName":"ListBuckets","userIdentity":{"type":"IAMUser","arn":"${userOf(`u${j}`)}"}}`,
      );
    }
    if (!z.write(part.join(''))) await new Promise((resolve) => z.once('drain', resolve));
  }
  z.end(']}');
  await ended;
  return Buffer.concat(out);
}
