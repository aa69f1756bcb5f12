// S3 throttling and timeouts, injected in front of the emulator (an onRequest hook): the real AWS
// SDK retries 503 SlowDown and timed-out requests with its standard back-off, up to maxAttempts
// per request; beyond that the object is counted as failed (READ_FAILED, retry), its message is
// released and comes back, and it is ingested once S3 answers again. A request that never answers,
// or a body that stops half-way, is cut by the client's socket timeout instead of holding an
// in-flight slot (and its message, through the heartbeat) forever.
import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ParserPool } from '../../src/pool.ts';
import { createS3Client, S3Source } from '../../src/sources/s3.ts';
import { SqsConsumer } from '../../src/sources/sqs.ts';
import { openStore } from '../../src/state/open.ts';
import type { Store } from '../../src/state/store.ts';
import { Telemetry, createLogger } from '../../src/telemetry.ts';
import { DEFAULT_PARSE_OPTIONS } from '../../workers/parse.ts';
import { s3Event, until } from '../helpers/bodies.ts';
import { startEmulator, TEST_CREDENTIALS, type Emulator } from '../helpers/emulator.ts';

const FIXTURE = path.resolve(
  import.meta.dirname,
  '../../../shared/fixtures/cloudtrail/trailscraper-fixtures',
);
const BODY = readFileSync(
  path.join(
    FIXTURE,
    readdirSync(FIXTURE)
      .filter((f) => f.endsWith('.json.gz'))
      .sort()[0],
  ),
);
const DAY_DIR = 'AWSLogs/123456789012/CloudTrail/us-east-1/2024/05/17/';
const keyOf = (name: string) => `${DAY_DIR}123456789012_CloudTrail_us-east-1_${name}.json.gz`;

type Fault = 'slowdown' | 'hang' | 'stall';

/** What each GetObject of a key gets, attempt by attempt; past the plan, the emulator answers. */
const plans = new Map<string, Fault[]>();
const attempts: { key: string; at: number; header: string; fault: Fault | 'ok' }[] = [];
const held = new Set<Socket>();

async function inject(req: FastifyRequest, reply: FastifyReply): Promise<void> {
  const url = new URL(req.url, 'http://x');
  if (req.method !== 'GET' || url.searchParams.get('x-id') !== 'GetObject') return;
  const key = decodeURIComponent(url.pathname.split('/').slice(2).join('/'));
  const fault = plans.get(key)?.shift();
  attempts.push({
    key,
    at: performance.now(),
    header: String(req.headers['amz-sdk-request'] ?? ''),
    fault: fault ?? 'ok',
  });
  if (fault === 'slowdown') {
    await reply
      .code(503)
      .type('application/xml')
      .send(
        '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>' +
          '<Message>Please reduce your request rate.</Message></Error>',
      );
  } else if (fault === 'hang') {
    reply.hijack(); // headers never come
    held.add(req.raw.socket);
  } else if (fault === 'stall') {
    reply.hijack(); // headers and half the body, then nothing
    reply.raw.writeHead(200, {
      'content-length': BODY.length,
      etag: `"${createHash('md5').update(BODY).digest('hex')}"`,
    });
    reply.raw.write(BODY.subarray(0, BODY.length >> 1));
    held.add(req.raw.socket);
  }
}

let pool: ParserPool;
beforeAll(() => {
  pool = new ParserPool({ threads: 1 }, DEFAULT_PARSE_OPTIONS);
});
afterAll(() => pool?.close());

// One emulator per test: a long poll a stopped consumer gave up on may still take a message.
let emu: Emulator;
let consumer: SqsConsumer | undefined;
afterEach(async () => {
  await consumer?.stop();
  consumer = undefined;
  for (const s of held) s.destroy();
  held.clear();
  await emu?.stop();
});

async function setup(names: string[], socketTimeoutMs: number) {
  emu = await startEmulator({ onRequest: inject });
  const store: Store = await openStore('memory:');
  const lines: string[] = [];
  const telemetry = new Telemetry({
    store,
    logger: createLogger('debug', { write: (s: string) => void lines.push(s) }),
  });
  for (const name of names) {
    await emu.s3.send(new PutObjectCommand({ Bucket: emu.bucket, Key: keyOf(name), Body: BODY }));
  }
  const s3 = createS3Client({
    endpoint: emu.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: TEST_CREDENTIALS,
    socketTimeoutMs,
  });
  await emu.sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: emu.queueUrl,
      Entries: names.map((n, i) => ({ Id: String(i), MessageBody: s3Event(emu.bucket, keyOf(n)) })),
    }),
  );
  consumer = new SqsConsumer(
    {
      sqs: emu.sqs,
      s3: new S3Source(s3, { maxObjectBytes: 1024 * 1024 }),
      store,
      pool,
      observer: telemetry,
    },
    {
      queueUrl: emu.queueUrl,
      waitTimeSecs: 1,
      visibilityTimeoutSecs: 30,
      heartbeatSecs: 10,
      commitIntervalMs: 20,
      retryBackoffSecs: 1,
    },
  );
  const logs = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  const ingested = async (name: string) =>
    (await telemetry.status()).objects.ingested > 0 &&
    logs().some(
      (l) => l.msg === 'object ingested' && l.object === `s3://${emu.bucket}/${keyOf(name)}`,
    );
  const drained = async () => {
    const d = await emu.queueDepth();
    return d.visible + d.inFlight + d.delayed === 0 && consumer!.inFlightMessages === 0;
  };
  return { store, telemetry, logs, ingested, drained };
}

const attemptsOf = (name: string) => attempts.filter((a) => a.key === keyOf(name));

describe('S3 faults', () => {
  it('503 SlowDown: the SDK retries with back-off and the object is ingested, no failure counted', async () => {
    plans.set(keyOf('slow'), ['slowdown', 'slowdown']);
    const t = await setup(['slow'], 5_000);
    consumer!.start();
    await until('ingested', () => t.ingested('slow'));
    await until('queue drained', t.drained);
    const seen = attemptsOf('slow');
    expect(seen.map((a) => a.fault)).toEqual(['slowdown', 'slowdown', 'ok']);
    // The SDK's own retries (amz-sdk-request: attempt=N; max=3), not a second message.
    expect(seen.map((a) => /attempt=(\d)/.exec(a.header)?.[1])).toEqual(['1', '2', '3']);
    const status = await t.telemetry.status();
    expect(status.objects).toMatchObject({ ingested: 1, failed: 0 });
    expect(status.messages).toMatchObject({ received: 1, deleted: 1, released: 0 });
    console.log(
      `SlowDown retries after ${seen
        .slice(1)
        .map((a, i) => Math.round(a.at - seen[i].at))
        .join(' ms, ')} ms`,
    );
  });

  it('persistent 503: bounded attempts, counted as READ_FAILED (retry), the message comes back and succeeds', async () => {
    plans.set(keyOf('throttled'), Array(3).fill('slowdown'));
    const t = await setup(['throttled'], 5_000);
    consumer!.start();
    await until('ingested on the second receive', () => t.ingested('throttled'), 20_000);
    await until('queue drained', t.drained);
    expect(attemptsOf('throttled').map((a) => a.fault)).toEqual([
      'slowdown',
      'slowdown',
      'slowdown', // maxAttempts 3: the SDK gives up
      'ok', // the message came back after retryBackoffSecs
    ]);
    const status = await t.telemetry.status();
    expect(status.objects).toMatchObject({ ingested: 1, failed: 1 });
    expect(status.messages).toMatchObject({ received: 2, deleted: 1, released: 1 });
    expect(await t.telemetry.metrics()).toContain(
      'trailmint_object_errors_total{code="READ_FAILED"} 1\n',
    );
    const warn = t.logs().find((l) => l.code === 'READ_FAILED');
    expect(warn).toMatchObject({
      level: 'warn',
      object: `s3://${emu.bucket}/${keyOf('throttled')}`,
      action: 'retry',
      message: expect.stringMatching(/SlowDown/),
    });
    // succeeded later: no longer listed as failed
    expect(status.failedObjects).toEqual([]);
  });

  it('a GetObject that never answers is cut by the socket timeout and retried by the SDK', async () => {
    plans.set(keyOf('hang'), ['hang']);
    const t = await setup(['hang'], 500);
    consumer!.start();
    await until('ingested', () => t.ingested('hang'), 10_000);
    await until('queue drained', t.drained);
    const seen = attemptsOf('hang');
    expect(seen.map((a) => a.fault)).toEqual(['hang', 'ok']);
    expect(seen[1].at - seen[0].at).toBeGreaterThanOrEqual(450);
    expect((await t.telemetry.status()).objects).toMatchObject({ ingested: 1, failed: 0 });
  });

  it('a body that stops half-way fails the read (READ_FAILED, retry) and the next receive ingests it', async () => {
    plans.set(keyOf('stall'), ['stall']);
    const t = await setup(['stall'], 500);
    consumer!.start();
    await until('ingested', () => t.ingested('stall'), 15_000);
    await until('queue drained', t.drained);
    expect(attemptsOf('stall').map((a) => a.fault)).toEqual(['stall', 'ok']);
    const warn = t.logs().find((l) => l.code === 'READ_FAILED');
    expect(warn).toMatchObject({
      level: 'warn',
      action: 'retry',
      message: expect.stringMatching(/timed out/i),
    });
    expect((await t.telemetry.status()).messages).toMatchObject({
      received: 2,
      deleted: 1,
      released: 1,
    });
  });
});
