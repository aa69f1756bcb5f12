// The SQS → S3 → workers → store path against the fauxqs emulator, through the real AWS SDK
// clients, the real worker pool and the memory store. What the queue delivers must end up exactly
// as `trailmint ingest` of the same files; the ack travels with the work.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.ts';
import { ingestObjects } from '../../src/ingest.ts';
import { ParserPool } from '../../src/pool.ts';
import { listLocal } from '../../src/sources/local.ts';
import { createS3Client, S3Source } from '../../src/sources/s3.ts';
import {
  createSqsClient,
  resolveConsumerOptions,
  SqsConsumer,
  type ConsumerObserver,
  type ConsumerOptions,
} from '../../src/sources/sqs.ts';
import { dayOf } from '../../src/state/delta.ts';
import { openStore } from '../../src/state/open.ts';
import type { Store } from '../../src/state/store.ts';
import { DEFAULT_PARSE_OPTIONS } from '../../workers/parse.ts';
import { startEmulator, TEST_CREDENTIALS, type Emulator } from '../helpers/emulator.ts';
import { withCommit } from '../helpers/store.ts';
import { cloudTrail, eventBridge, s3Event, sns, TEST_EVENT, until } from '../helpers/bodies.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../../../shared/fixtures/cloudtrail');
const FOLDERS = [
  'stratus-red-team-detonation-logs',
  'awsdocs-examples',
  'grycap-cloudtrail-tracker',
  'otrf-ec2-proxy-s3-exfiltration',
  'trailscraper-fixtures',
  'plaso-testdata',
];
const FILES = FOLDERS.flatMap((folder) =>
  readdirSync(path.join(FIXTURES, folder))
    .filter((f) => f.endsWith('.json.gz'))
    .sort()
    .map((f) => path.join(FIXTURES, folder, f)),
);
const DAY_DIR = 'AWSLogs/123456789012/CloudTrail/us-east-1/2024/05/17/';
/** A CloudTrail-layout key for fixture i; some carry a space and a plus, which S3 events encode. */
const keyOf = (i: number) =>
  `${DAY_DIR}123456789012_CloudTrail_us-east-1_${String(i).padStart(3, '0')}${i % 3 === 0 ? ' a+b' : ''}.json.gz`;

/** S3 event notifications for the first `n` fixture files, as uploaded. */
const created = (bucket: string, etags: readonly string[], n: number) =>
  FILES.slice(0, n).map((_, i) => s3Event(bucket, keyOf(i), 'ObjectCreated:Put', etags[i]));

// ---- helpers -----------------------------------------------------------------------------

/** Counts every observer call; `calls` keeps the arguments. */
function recorder() {
  const calls: { [K in keyof ConsumerObserver]: Parameters<ConsumerObserver[K]>[] } = {
    messagesReceived: [],
    messagesDeleted: [],
    testEvent: [],
    poisonMessage: [],
    messageReleased: [],
    objectDone: [],
    objectFailed: [],
    objectSkipped: [],
    committed: [],
    pollError: [],
    sqsError: [],
    storeError: [],
  };
  const observer = Object.fromEntries(
    Object.keys(calls).map((k) => [
      k,
      (...args: never[]) => calls[k as keyof ConsumerObserver].push(args as never),
    ]),
  ) as unknown as ConsumerObserver;
  const sum = (k: 'messagesReceived' | 'messagesDeleted') => calls[k].reduce((a, [n]) => a + n, 0);
  return { calls, observer, sum };
}

async function snapshot(store: Store) {
  const names = await store.actionNames();
  const far = dayOf(Date.now()) + 1;
  const principals = (await store.principals()).sort((a, b) =>
    a.principal < b.principal ? -1 : 1,
  );
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
  const unmapped = (await store.unmapped()).sort((a, b) =>
    a.source + a.name < b.source + b.name ? -1 : 1,
  );
  return { principals, detail, unmapped };
}

const FAST: Partial<ConsumerOptions> = {
  waitTimeSecs: 1,
  visibilityTimeoutSecs: 30,
  heartbeatSecs: 10,
  commitIntervalMs: 50,
  retryBackoffSecs: 0,
};

let pool: ParserPool;
let expected: Awaited<ReturnType<typeof snapshot>>;
let emu: Emulator | undefined;
let consumer: SqsConsumer | undefined;

beforeAll(async () => {
  pool = new ParserPool({ threads: 2 }, DEFAULT_PARSE_OPTIONS);
  const local = await openStore('memory:');
  const listing = await listLocal(FILES);
  const summary = await ingestObjects(listing.objects, local, pool, {
    inFlightObjects: 4,
    commitBatchFiles: 16,
  });
  expect(summary.files.ingested).toBe(FILES.length);
  expected = await snapshot(local);
  expect(expected.principals.length).toBeGreaterThan(10);
  await local.close();
});
afterAll(() => pool?.close());
afterEach(async () => {
  await consumer?.stop();
  consumer = undefined;
  await emu?.stop();
  emu = undefined;
});

async function setup(opts: { maxReceiveCount?: number } = {}) {
  emu = await startEmulator(opts);
  const store = await openStore('memory:');
  const s3 = new S3Source(emu.s3, { maxObjectBytes: 10 * 1024 * 1024 });
  const etags: string[] = [];
  for (const [i, file] of FILES.entries()) {
    const out = await emu.s3.send(
      new PutObjectCommand({ Bucket: emu.bucket, Key: keyOf(i), Body: readFileSync(file) }),
    );
    etags.push(out.ETag!.replace(/"/g, ''));
  }
  return { emu, store, s3, etags };
}

function send(e: Emulator, bodies: string[]) {
  const batches = [];
  for (let i = 0; i < bodies.length; i += 10) {
    const entries = bodies
      .slice(i, i + 10)
      .map((body, j) => ({ Id: String(j), MessageBody: body }));
    batches.push(
      e.sqs.send(new SendMessageBatchCommand({ QueueUrl: e.queueUrl, Entries: entries })),
    );
  }
  return Promise.all(batches);
}

/** Every fixture announced once, cycling through the notification routes. */
function allFormats(bucket: string, etags: string[]): string[] {
  const bodies: string[] = [];
  for (let i = 0; i < FILES.length; i++) {
    const size = readFileSync(FILES[i]).length;
    switch (i % 5) {
      case 0:
        bodies.push(s3Event(bucket, keyOf(i), 'ObjectCreated:Put', etags[i], size));
        break;
      case 1:
        bodies.push(
          sns(s3Event(bucket, keyOf(i), 'ObjectCreated:CompleteMultipartUpload', etags[i], size)),
        );
        break;
      case 2:
        bodies.push(eventBridge(bucket, keyOf(i)));
        break;
      case 3: // CloudTrail's own notification names several files (here this one and the next)
        bodies.push(
          sns(cloudTrail(bucket, [keyOf(i), ...(i + 1 < FILES.length ? [keyOf(++i)] : [])])),
        );
        break;
      default:
        bodies.push(cloudTrail(bucket, [keyOf(i)]));
    }
  }
  return bodies;
}

async function drained(e: Emulator, c: SqsConsumer, queueUrl = e.queueUrl) {
  await until('queue empty and consumer idle', async () => {
    const d = await e.queueDepth(queueUrl);
    return d.visible + d.inFlight + d.delayed === 0 && c.inFlightMessages === 0;
  });
}

// ---- tests -------------------------------------------------------------------------------

describe('SqsConsumer', () => {
  it('ingests every notification format exactly as `trailmint ingest` does, and empties the queue', async () => {
    const { emu, store, s3, etags } = await setup();
    const rec = recorder();
    const bodies = allFormats(emu.bucket, etags);
    const noise = [
      TEST_EVENT,
      sns(TEST_EVENT),
      s3Event(
        emu.bucket,
        'AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2024/05/17/123456789012_CloudTrail-Digest_us-east-1_x.json.gz',
      ),
      s3Event(emu.bucket, 'HappyFace.jpg'),
      s3Event(emu.bucket, keyOf(0), 'ObjectRemoved:Delete'),
    ];
    await send(emu, [...bodies, ...noise]);
    consumer = new SqsConsumer(
      { sqs: emu.sqs, s3, store, pool, observer: rec.observer },
      { ...FAST, queueUrl: emu.queueUrl, maxInFlightObjects: 8 },
    );
    consumer.start();
    await drained(emu, consumer);
    await consumer.stop();

    expect(await snapshot(store)).toEqual(expected);
    expect(rec.sum('messagesReceived')).toBe(bodies.length + noise.length);
    expect(rec.sum('messagesDeleted')).toBe(bodies.length + noise.length);
    expect(rec.calls.objectDone.length).toBe(FILES.length);
    expect(rec.calls.objectDone.reduce((n, [, stats]) => n + stats.records, 0)).toBeGreaterThan(
      100,
    );
    expect(rec.calls.committed.reduce((n, [files]) => n + files, 0)).toBe(FILES.length);
    expect(rec.calls.testEvent.length).toBe(2);
    expect(rec.calls.objectSkipped.map(([reason]) => reason).sort()).toEqual([
      'digest',
      'not a log file',
      'not an object creation',
    ]);
    for (const k of [
      'objectFailed',
      'poisonMessage',
      'messageReleased',
      'pollError',
      'sqsError',
      'storeError',
    ] as const) {
      expect(rec.calls[k], k).toEqual([]);
    }
    // Refs are s3://bucket/key (decoded) with the object's ETag, as the backfill lister makes them.
    for (const [i, etag] of etags.entries()) {
      expect(await store.isIngested({ key: `s3://${emu.bucket}/${keyOf(i)}`, tag: etag })).toBe(
        true,
      );
    }
    expect(await emu.queueDepth()).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('redelivered messages change nothing and are skipped before fetching', async () => {
    const { emu, store, s3, etags } = await setup();
    const rec = recorder();
    const bodies = allFormats(emu.bucket, etags);
    consumer = new SqsConsumer(
      { sqs: emu.sqs, s3, store, pool, observer: rec.observer },
      { ...FAST, queueUrl: emu.queueUrl },
    );
    consumer.start();
    await send(emu, bodies);
    await drained(emu, consumer);
    const first = await snapshot(store);
    const gets = () =>
      emu.requests.filter((r) => r.method === 'GET' && r.url.includes('x-id=GetObject')).length;
    const getsBefore = gets();

    await send(emu, bodies); // the same messages again, twice over
    await send(emu, bodies);
    await drained(emu, consumer);
    await consumer.stop();

    expect(await snapshot(store)).toEqual(first);
    expect(first).toEqual(expected);
    expect(rec.calls.objectDone.length).toBe(FILES.length);
    const already = rec.calls.objectSkipped.filter(
      ([reason]) => reason === 'already ingested',
    ).length;
    expect(already).toBe(2 * FILES.length);
    // Notifications with an ETag are skipped without a GetObject; the others (EventBridge without
    // etag here, CloudTrail's) are fetched for their ETag but never parsed or merged again.
    const withoutEtag = bodies
      .filter((b) => !b.includes('eTag'))
      .flatMap((b) => b.match(/\.json\.gz/g) ?? []).length;
    expect(gets() - getsBefore).toBe(2 * withoutEtag);
    expect(rec.sum('messagesDeleted')).toBe(3 * bodies.length);
  });

  it('a corrupt object and a poison message stop nothing and lose nothing (badObjectPolicy delete)', async () => {
    const { emu, store, s3, etags } = await setup({ maxReceiveCount: 2 });
    const rec = recorder();
    const corrupt = `${DAY_DIR}123456789012_CloudTrail_us-east-1_corrupt.json.gz`;
    const notJson = `${DAY_DIR}123456789012_CloudTrail_us-east-1_notjson.json.gz`;
    const gz = gzipSync(Buffer.from('{"Records": [ not json'));
    await emu.s3.send(
      new PutObjectCommand({
        Bucket: emu.bucket,
        Key: corrupt,
        Body: gz.subarray(0, gz.length - 9),
      }),
    );
    await emu.s3.send(new PutObjectCommand({ Bucket: emu.bucket, Key: notJson, Body: gz }));
    const bodies = allFormats(emu.bucket, etags);
    // A bad object shares a message with good ones; poison bodies sit between good messages.
    bodies.splice(
      3,
      0,
      'Hello world!',
      sns('not json either'),
      cloudTrail(emu.bucket, [keyOf(0), corrupt, notJson]),
    );
    await send(emu, bodies);
    consumer = new SqsConsumer(
      { sqs: emu.sqs, s3, store, pool, observer: rec.observer },
      { ...FAST, queueUrl: emu.queueUrl },
    );
    consumer.start();
    await drained(emu, consumer);
    await consumer.stop();

    expect(await snapshot(store)).toEqual(expected);
    expect(
      rec.calls.objectFailed
        .map(([ref, err, action]) => [ref.key.split('_').at(-1), err.code, action])
        .sort(),
    ).toEqual([
      ['corrupt.json.gz', 'GZIP_CORRUPT', 'skip'],
      ['notjson.json.gz', 'NOT_JSON', 'skip'],
    ]);
    expect(rec.calls.poisonMessage.map(([, reason]) => reason)).toEqual([
      'body is not JSON',
      'SNS envelope whose Message is not JSON',
    ]);
    expect(rec.sum('messagesDeleted')).toBe(bodies.length);
    expect(await emu.queueDepth(emu.dlqUrl)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it("badObjectPolicy 'keep' leaves bad objects and poison for the dead-letter queue", async () => {
    const { emu, store, s3, etags } = await setup({ maxReceiveCount: 2 });
    const rec = recorder();
    const corrupt = `${DAY_DIR}123456789012_CloudTrail_us-east-1_corrupt.json.gz`;
    await emu.s3.send(
      new PutObjectCommand({
        Bucket: emu.bucket,
        Key: corrupt,
        Body: Buffer.from([0x1f, 0x8b, 8, 0, 1]),
      }),
    );
    await send(emu, [
      s3Event(emu.bucket, keyOf(0), 'ObjectCreated:Put', etags[0]),
      'Hello world!',
      cloudTrail(emu.bucket, [keyOf(1), corrupt]),
      s3Event(emu.bucket, keyOf(2), 'ObjectCreated:Put', etags[2]),
    ]);
    consumer = new SqsConsumer(
      { sqs: emu.sqs, s3, store, pool, observer: rec.observer },
      { ...FAST, queueUrl: emu.queueUrl, badObjectPolicy: 'keep' },
    );
    consumer.start();
    await until(
      'bad messages in the DLQ',
      async () => (await emu.queueDepth(emu.dlqUrl)).visible === 2,
    );
    await drained(emu, consumer);
    await consumer.stop();

    expect(rec.sum('messagesDeleted')).toBe(2);
    // Each bad message was received maxReceiveCount times, released each time, then moved.
    expect(rec.calls.poisonMessage.length).toBe(2);
    expect(rec.calls.objectFailed.length).toBe(2);
    expect(rec.calls.messageReleased.length).toBe(4);
    // The good object next to the bad one was committed anyway: the retry skips it.
    for (const i of [0, 1, 2]) {
      expect(await store.isIngested({ key: `s3://${emu.bucket}/${keyOf(i)}`, tag: etags[i] })).toBe(
        true,
      );
    }
    expect(rec.calls.objectDone.length).toBe(3);
    const dlq = await emu.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: emu.dlqUrl, MaxNumberOfMessages: 10 }),
    );
    expect(dlq.Messages!.map((m) => m.Body).sort()).toEqual(
      ['Hello world!', cloudTrail(emu.bucket, [keyOf(1), corrupt])].sort(),
    );
  });

  it('a retryable failure leaves the message to come back, and it succeeds later', async () => {
    const { emu, store, s3 } = await setup();
    const rec = recorder();
    const late = `${DAY_DIR}123456789012_CloudTrail_us-east-1_late.json.gz`;
    await send(emu, [cloudTrail(emu.bucket, [keyOf(0), late])]);
    consumer = new SqsConsumer(
      { sqs: emu.sqs, s3, store, pool, observer: rec.observer },
      { ...FAST, queueUrl: emu.queueUrl, retryBackoffSecs: 1 },
    );
    consumer.start();
    await until('a release', () => rec.calls.messageReleased.length === 1);
    expect(rec.calls.objectFailed[0][1]).toMatchObject({
      code: 'READ_FAILED',
      message: expect.stringMatching(/NoSuchKey/),
    });
    expect(rec.calls.objectFailed[0][2]).toBe('retry');
    expect(rec.calls.messageReleased[0][1]).toBe(1); // first receive: retryBackoffSecs × 2^0
    expect(rec.sum('messagesDeleted')).toBe(0);
    await emu.s3.send(
      new PutObjectCommand({ Bucket: emu.bucket, Key: late, Body: readFileSync(FILES[1]) }),
    );
    await drained(emu, consumer);
    await consumer.stop();
    expect(rec.sum('messagesDeleted')).toBe(1);
    expect(rec.sum('messagesReceived')).toBeGreaterThanOrEqual(2);
    expect(rec.calls.objectDone.map(([ref]) => ref.key.split('_').at(-1)).sort()).toEqual([
      '000 a+b.json.gz',
      'late.json.gz',
    ]);
  });

  it('stop() during work commits what is in flight, deletes only committed messages, leaves the rest queued', async () => {
    const { emu, store, s3, etags } = await setup();
    const rec = recorder();
    const committed = new Set<string>();
    const commitsDone: { at: number; files: number }[] = [];
    // The memory store, slowed so that stop() lands in the middle of the run.
    const slow: Store = withCommit(store, async (entries) => {
      await new Promise((r) => setTimeout(r, 150));
      const result = await store.commit(entries);
      for (const e of entries) committed.add(e.object.key);
      commitsDone.push({ at: performance.now(), files: entries.length });
      return result;
    });
    const bodies = FILES.map((_, i) =>
      s3Event(emu.bucket, keyOf(i), 'ObjectCreated:Put', etags[i]),
    );
    await send(emu, bodies);
    consumer = new SqsConsumer(
      { sqs: emu.sqs, s3, store: slow, pool, observer: rec.observer },
      {
        ...FAST,
        queueUrl: emu.queueUrl,
        maxInFlightObjects: 3,
        commitBatchFiles: 2,
        visibilityTimeoutSecs: 2,
        heartbeatSecs: 1,
      },
    );
    consumer.start();
    await until('a first commit', () => rec.calls.committed.length > 0);
    await consumer.stop();
    const inFlightAtStop = rec.sum('messagesReceived');

    // Everything received was finished: committed and deleted. The rest was never received.
    expect(rec.sum('messagesDeleted')).toBe(inFlightAtStop);
    expect(committed.size).toBe(inFlightAtStop);
    expect(committed.size).toBeGreaterThan(0);
    expect(committed.size).toBeLessThan(FILES.length);
    // A receive cut short by stop() may have taken messages the consumer never saw: they are
    // not lost, they reappear when their visibility runs out (2 s here).
    await until('no message invisible', async () => (await emu.queueDepth()).inFlight === 0);
    const depth = await emu.queueDepth();
    expect(depth).toEqual({ visible: FILES.length - committed.size, inFlight: 0, delayed: 0 });
    const remaining: string[] = [];
    while (remaining.length < depth.visible) {
      const out = await emu.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: emu.queueUrl, MaxNumberOfMessages: 10 }),
      );
      for (const m of out.Messages ?? [])
        remaining.push(
          decodeURIComponent(JSON.parse(m.Body!).Records[0].s3.object.key.replace(/\+/g, ' ')),
        );
    }
    const all = FILES.map((_, i) => `s3://${emu.bucket}/${keyOf(i)}`).sort();
    expect([...committed, ...remaining.map((k) => `s3://${emu.bucket}/${k}`)].sort()).toEqual(all);
    // At every delete the emulator saw, no more messages (one object each) had been deleted than
    // objects committed: nothing was ever deleted ahead of its commit.
    const deletes = emu.requests.filter((r) => r.action === 'DeleteMessageBatch');
    expect(deletes.length).toBeGreaterThan(0);
    let deleted = 0;
    for (const d of deletes) {
      deleted += d.entries!;
      const done = commitsDone.filter((c) => c.at <= d.at).reduce((n, c) => n + c.files, 0);
      expect(deleted).toBeLessThanOrEqual(done);
    }
  });

  it('an object another replica commits first is counted as a skip, not a second ingest', async () => {
    const { emu, store, s3, etags } = await setup();
    const rec = recorder();
    // the other replica wins the race: it commits each object between this consumer's
    // isIngested check and its commit, so the commit reports it as already ingested
    const racing: Store = withCommit(store, async (entries) => {
      await store.commit(entries.filter((e) => e.object.key.endsWith(keyOf(0))));
      return store.commit(entries);
    });
    const n = 3;
    await send(emu, created(emu.bucket, etags, n));
    consumer = new SqsConsumer(
      { sqs: emu.sqs, s3, store: racing, pool, observer: rec.observer },
      { ...FAST, queueUrl: emu.queueUrl },
    );
    consumer.start();
    await drained(emu, consumer);
    await consumer.stop();
    expect(rec.calls.objectDone.map(([ref]) => ref.key).sort()).toEqual(
      [1, 2].map((i) => `s3://${emu.bucket}/${keyOf(i)}`),
    );
    expect(rec.calls.objectSkipped).toEqual([
      ['already ingested', `s3://${emu.bucket}/${keyOf(0)}`],
    ]);
    expect(rec.sum('messagesDeleted')).toBe(n);
  });

  it('a failed commit deletes nothing: the messages come back and are committed later', async () => {
    const { emu, store, s3, etags } = await setup();
    const rec = recorder();
    let failures = 1;
    const flaky: Store = withCommit(store, async (entries) => {
      if (failures-- > 0)
        throw Object.assign(new Error('store down'), { code: 'STORE_UNAVAILABLE' });
      return store.commit(entries);
    });
    const n = 4;
    await send(emu, created(emu.bucket, etags, n));
    consumer = new SqsConsumer(
      { sqs: emu.sqs, s3, store: flaky, pool, observer: rec.observer },
      { ...FAST, queueUrl: emu.queueUrl, commitIntervalMs: 500 },
    );
    consumer.start();
    await until('the failed commit', () => rec.calls.storeError.length === 1);
    const failedBatch = rec.calls.messageReleased.length;
    expect(rec.calls.storeError[0][0]).toMatchObject({ message: 'store down' });
    await drained(emu, consumer);
    await consumer.stop();
    expect(failedBatch).toBeGreaterThan(0);
    expect(rec.calls.messageReleased.length).toBe(failedBatch);
    expect(rec.sum('messagesReceived')).toBe(n + failedBatch);
    expect(rec.sum('messagesDeleted')).toBe(n);
    for (const i of [0, 1, 2, 3]) {
      expect(await store.isIngested({ key: `s3://${emu.bucket}/${keyOf(i)}`, tag: etags[i] })).toBe(
        true,
      );
    }
  });

  it('a delta the store refuses does not hold back the others committed with it', async () => {
    const { emu, store, s3, etags } = await setup();
    const rec = recorder();
    const badKey = `s3://${emu.bucket}/${keyOf(1)}`;
    const picky: Store = withCommit(store, async (entries) => {
      if (entries.some((e) => e.object.key === badKey)) throw new Error('refused');
      return store.commit(entries);
    });
    const n = 4;
    await send(emu, created(emu.bucket, etags, n));
    consumer = new SqsConsumer(
      { sqs: emu.sqs, s3, store: picky, pool, observer: rec.observer },
      // a long backoff keeps the refused message out of the way once released
      { ...FAST, queueUrl: emu.queueUrl, commitIntervalMs: 500, retryBackoffSecs: 60 },
    );
    consumer.start();
    await until('the others deleted', () => rec.sum('messagesDeleted') === n - 1);
    await until('the refused one released', () => rec.calls.messageReleased.length === 1);
    await consumer.stop();
    for (const i of [0, 2, 3]) {
      const ref = { key: `s3://${emu.bucket}/${keyOf(i)}`, tag: etags[i] };
      expect(await store.isIngested(ref)).toBe(true);
    }
    expect(await store.isIngested({ key: badKey, tag: etags[1] })).toBe(false);
    expect((await emu.queueDepth()).inFlight + (await emu.queueDepth()).visible).toBe(1);
  });

  /** The memory store with commits slowed down by `ms`. */
  const slowed = (store: Store, ms: number): Store =>
    withCommit(store, async (entries) => {
      await new Promise((r) => setTimeout(r, ms));
      return store.commit(entries);
    });

  it('keeps at most maxInFlightObjects objects in flight', async () => {
    const { emu, store, s3, etags } = await setup();
    const rec = recorder();
    const n = 8;
    await send(emu, created(emu.bucket, etags, n));
    consumer = new SqsConsumer(
      { sqs: emu.sqs, s3, store: slowed(store, 300), pool, observer: rec.observer },
      { ...FAST, queueUrl: emu.queueUrl, maxInFlightObjects: 2 },
    );
    consumer.start();
    let peak = 0;
    await until('all deleted', async () => {
      const d = await emu.queueDepth();
      peak = Math.max(peak, d.inFlight, consumer!.inFlightObjects);
      return rec.sum('messagesDeleted') === n;
    });
    await consumer.stop();
    expect(peak).toBe(2);
    expect(rec.calls.objectDone.length).toBe(n);
  });

  it('the heartbeat keeps messages invisible through a commit longer than their visibility', async () => {
    const { emu, store, s3, etags } = await setup();
    const rec = recorder();
    await send(
      emu,
      [0, 1].map((i) => s3Event(emu.bucket, keyOf(i), 'ObjectCreated:Put', etags[i])),
    );
    consumer = new SqsConsumer(
      { sqs: emu.sqs, s3, store: slowed(store, 3000), pool, observer: rec.observer },
      { ...FAST, queueUrl: emu.queueUrl, visibilityTimeoutSecs: 2, heartbeatSecs: 1 },
    );
    consumer.start();
    await until('both received', () => rec.sum('messagesReceived') === 2);
    let reappeared = 0;
    await until('both deleted', async () => {
      reappeared = Math.max(reappeared, (await emu.queueDepth()).visible);
      return rec.sum('messagesDeleted') === 2;
    });
    await consumer.stop();
    expect(reappeared).toBe(0);
    expect(rec.sum('messagesReceived')).toBe(2);
    expect(rec.calls.sqsError).toEqual([]);
  });

  it('backs off on SQS connection errors and still stops at once', async () => {
    const rec = recorder();
    const store = await openStore('memory:');
    // Nothing listens on port 9 of loopback (discard): every receive fails fast.
    const sqs = createSqsClient({
      endpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
      credentials: TEST_CREDENTIALS,
      maxAttempts: 1,
    });
    const s3 = new S3Source(
      createS3Client({ region: 'us-east-1', credentials: TEST_CREDENTIALS }),
      { maxObjectBytes: 1024 },
    );
    consumer = new SqsConsumer(
      { sqs, s3, store, pool, observer: rec.observer },
      { ...FAST, queueUrl: 'http://127.0.0.1:9/000000000000/q' },
    );
    consumer.start();
    await new Promise((r) => setTimeout(r, 2000));
    // Immediately, then after 0.5 s, then 1 s more: three attempts in two seconds, not hundreds.
    expect(rec.calls.pollError.length).toBeGreaterThanOrEqual(2);
    expect(rec.calls.pollError.length).toBeLessThanOrEqual(4);
    const t0 = Date.now();
    await consumer.stop();
    expect(Date.now() - t0).toBeLessThan(500);
    sqs.destroy();
  });
});

describe('consumer options', () => {
  const q = 'https://sqs.us-east-1.amazonaws.com/123456789012/trail';
  it('fills defaults and ignores undefined values', () => {
    const o = resolveConsumerOptions({
      queueUrl: q,
      waitTimeSecs: undefined,
      maxInFlightObjects: 5,
    });
    expect(o).toMatchObject({
      queueUrl: q,
      waitTimeSecs: 20,
      maxInFlightObjects: 5,
      badObjectPolicy: 'delete',
    });
  });
  it.each([
    [{ queueUrl: 'trail' }, /queueUrl must be an SQS queue URL/],
    [{ waitTimeSecs: 21 }, /waitTimeSecs must be a whole number from 0 to 20, got 21/],
    [{ visibilityTimeoutSecs: 0 }, /visibilityTimeoutSecs/],
    [
      { visibilityTimeoutSecs: 30, heartbeatSecs: 20 },
      /heartbeatSecs must be .* at most half of visibilityTimeoutSecs \(30\)/,
    ],
    [{ heartbeatSecs: 0 }, /heartbeatSecs/],
    [{ maxInFlightObjects: 0 }, /maxInFlightObjects/],
    [{ commitIntervalMs: 1.5 }, /commitIntervalMs/],
    [{ commitBatchFiles: -1 }, /commitBatchFiles/],
    [{ retryBackoffSecs: 901 }, /retryBackoffSecs/],
    [{ badObjectPolicy: 'drop' }, /badObjectPolicy must be "delete" or "keep", got "drop"/],
  ])('refuses %j', (bad, message) => {
    const attempt = () =>
      resolveConsumerOptions({ queueUrl: q, ...(bad as Partial<ConsumerOptions>) });
    expect(attempt).toThrow(UsageError);
    expect(attempt).toThrow(message);
  });
});
