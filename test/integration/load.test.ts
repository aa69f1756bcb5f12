// Policy queries under load while the service ingests: `trailmint serve` (LMDB store) consumes
// notifications from the emulator while autocannon (loopback only, bounded in time) asks for the
// policies, actions and principal lists of principals already known. Every answer must be a 2xx:
// no errors, no timeouts, no resets — a commit never makes a reader fail or wait it out. Latency
// is printed, not asserted: bench/ measures and records it (bench/RESULTS.md).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import autocannon from 'autocannon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloudTrail, until } from '../helpers/bodies.ts';
import { startEmulator, TEST_CREDENTIALS, type Emulator } from '../helpers/emulator.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const FIXTURES = path.resolve(ROOT, '../shared/fixtures/cloudtrail');
const FILES = readdirSync(FIXTURES)
  .filter((d) => !d.includes('.'))
  .flatMap((d) =>
    readdirSync(path.join(FIXTURES, d))
      .filter((f) => f.endsWith('.json.gz'))
      .sort()
      .map((f) => path.join(FIXTURES, d, f)),
  );
/** Load duration, seconds. */
const SECONDS = Number(process.env.LOAD_SECONDS ?? 5);
const COPIES = 4; // one ingested before the load, the others during it

const tmp = mkdtempSync(path.join(os.tmpdir(), 'trailmint-load-'));
let emu: Emulator;
let child: ChildProcess | undefined;
let url: string;
const keyOf = (copy: number, i: number) =>
  `AWSLogs/12345678901${copy}/CloudTrail/us-east-1/2024/05/17/12345678901${copy}_CloudTrail_us-east-1_${i}.json.gz`;

async function announce(copy: number): Promise<void> {
  const bodies = FILES.map((_, i) => cloudTrail(emu.bucket, [keyOf(copy, i)]));
  for (let i = 0; i < bodies.length; i += 10) {
    const Entries = bodies
      .slice(i, i + 10)
      .map((MessageBody, j) => ({ Id: String(j), MessageBody }));
    await emu.sqs.send(new SendMessageBatchCommand({ QueueUrl: emu.queueUrl, Entries }));
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers of the API under test
const getJson = async (p: string): Promise<any> => (await fetch(`${url}${p}`)).json();

beforeAll(async () => {
  emu = await startEmulator();
  for (let copy = 0; copy < COPIES; copy++) {
    for (const [i, f] of FILES.entries()) {
      await emu.s3.send(
        new PutObjectCommand({ Bucket: emu.bucket, Key: keyOf(copy, i), Body: readFileSync(f) }),
      );
    }
  }
  child = spawn(path.join(ROOT, 'bin/trailmint'), ['serve', '--port', '0', '--host', '127.0.0.1'], {
    cwd: tmp,
    env: {
      ...process.env,
      TRAILMINT_QUEUE_URL: emu.queueUrl,
      TRAILMINT_STORE: path.join(tmp, 'store'),
      TRAILMINT_WAIT_TIME_SECS: '1',
      TRAILMINT_THREADS: '2',
      // Small commits: many of them while the queries run.
      TRAILMINT_COMMIT_BATCH_FILES: '8',
      TRAILMINT_COMMIT_INTERVAL_MS: '20',
      TRAILMINT_LOG_LEVEL: 'info', // the address it listens on is an info line
      AWS_ENDPOINT_URL: emu.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
      TRAILMINT_S3_FORCE_PATH_STYLE: 'true',
    },
  });
  let out = '';
  url = await new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d;
      const m = /"url":"(http:\/\/[^"]+)"/.exec(out);
      if (m) resolve(m[1]);
    };
    child!.stdout!.on('data', onData);
    child!.stderr!.on('data', onData);
    child!.on('close', (code) => reject(new Error(`serve exited ${code}:\n${out}`)));
  });
  await announce(0);
  await until(
    'the first copy ingested',
    async () => (await getJson('/v1/status')).objects.ingested >= FILES.length - 2,
    60_000,
  );
}, 120_000);

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await emu?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('policy queries during ingest', () => {
  it(`${SECONDS} s of concurrent queries while commits land: every answer 2xx`, async () => {
    const principals = (await getJson('/v1/principals?limit=1000')).principals as {
      principal: string;
    }[];
    expect(principals.length).toBeGreaterThan(100);
    const requests = principals.flatMap(({ principal }, i) => {
      const q = `principal=${encodeURIComponent(principal)}&from=2000-01-01&to=2030-12-31`;
      const paths = [`/v1/policy?${q}`];
      if (i % 4 === 0) paths.push(`/v1/actions?${q}`);
      if (i % 16 === 0) paths.push('/v1/principals?limit=50', '/v1/status');
      return paths.map((p) => ({ method: 'GET' as const, path: p }));
    });

    const before = (await getJson('/v1/status')).objects.ingested as number;
    // The other copies arrive as the load starts: their commits touch the same principals, so
    // the cached answers are invalidated and materialized again under load.
    const announcing = Promise.all([1, 2, 3].map((copy) => announce(copy)));
    const result = await autocannon({
      url,
      connections: 16,
      duration: SECONDS,
      requests,
      timeout: 10,
    });
    await announcing;
    const after = (await getJson('/v1/status')).objects.ingested as number;

    console.log(
      `load: ${result.requests.total} requests in ${SECONDS} s (${Math.round(result.requests.average)}/s), ` +
        `latency p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, max ${result.latency.max} ms; ` +
        `${after - before} objects ingested meanwhile`,
    );
    expect(result.requests.total).toBeGreaterThan(100);
    expect({
      errors: result.errors,
      timeouts: result.timeouts,
      non2xx: result.non2xx,
      resets: result.resets,
    }).toEqual({ errors: 0, timeouts: 0, non2xx: 0, resets: 0 });
    // The load really overlapped ingest.
    expect(after - before).toBeGreaterThan(FILES.length / 2);
  }, 60_000);
});
