// `trailmint serve` as a real process: the real AWS SDK clients inside it talk to an S3 + SQS
// emulator on loopback (fauxqs), and the test talks to it over HTTP only. Checks the whole
// service against `trailmint ingest` of the same files: same policies, queue empty, a corrupt
// object and a poison message neither stop it nor lose the rest, redeliveries change nothing,
// SIGTERM finishes in-flight work and exits 0.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as runCli, serve as serveCli, type Serving } from '../helpers/cli.ts';
import { cloudTrail, eventBridge, s3Event, sns, TEST_EVENT, until } from '../helpers/bodies.ts';
import { startEmulator, TEST_CREDENTIALS, type Emulator } from '../helpers/emulator.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const FIXTURES = path.resolve(ROOT, '../shared/fixtures/cloudtrail');
const FOLDERS = [
  'stratus-red-team-detonation-logs',
  'trailscraper-fixtures',
  'grycap-cloudtrail-tracker',
];
const FILES = FOLDERS.flatMap((folder) =>
  readdirSync(path.join(FIXTURES, folder))
    .filter((f) => f.endsWith('.json.gz'))
    .sort()
    .map((f) => path.join(FIXTURES, folder, f)),
);
const DAY_DIR = 'AWSLogs/o-abcdefghij/123456789012/CloudTrail/eu-west-1/2024/05/17/';
const keyOf = (i: number) =>
  `${DAY_DIR}123456789012_CloudTrail_eu-west-1_${String(i).padStart(3, '0')}${i % 4 === 0 ? ' x+y' : ''}.json.gz`;

const tmp = mkdtempSync(path.join(os.tmpdir(), 'trailmint-service-'));

const run = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(args, { cwd: tmp, env });
let emu: Emulator;
const children: ChildProcess[] = [];

/** Runs the CLI to completion; resolves with its exit code and output. */

const serve = (env: NodeJS.ProcessEnv): Promise<Serving> => serveCli(env, { cwd: tmp, children });

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers of the API under test
async function get(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
}

const policyUrl = (base: string, principal: string) =>
  `${base}/v1/policy?principal=${encodeURIComponent(principal)}&from=2000-01-01&to=2030-12-31`;

let expected: Map<string, unknown>;

beforeAll(async () => {
  emu = await startEmulator({ visibilityTimeoutSecs: 30 });
  for (const [i, file] of FILES.entries()) {
    await emu.s3.send(
      new PutObjectCommand({ Bucket: emu.bucket, Key: keyOf(i), Body: readFileSync(file) }),
    );
  }
  // A corrupt object the service must count and report, never choke on.
  await emu.s3.send(
    new PutObjectCommand({
      Bucket: emu.bucket,
      Key: `${DAY_DIR}123456789012_CloudTrail_eu-west-1_corrupt.json.gz`,
      Body: Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3]),
    }),
  );

  // What `trailmint ingest` makes of the same files: the reference.
  const store = path.join(tmp, 'reference');
  const ingest = await run(['ingest', ...FILES, '--store', store, '--json']);
  expect(ingest.code, ingest.stderr).toBe(0);
  const principals = JSON.parse((await run(['principals', '--store', store, '--json'])).stdout) as {
    principal: string;
  }[];
  expect(principals.length).toBeGreaterThan(5);
  expected = new Map();
  for (const { principal } of principals) {
    const r = await run([
      'policy',
      principal,
      '--store',
      store,
      '--json',
      '--from',
      '2000-01-01',
      '--to',
      '2030-12-31',
    ]);
    expected.set(principal, r.code === 0 ? JSON.parse(r.stdout) : undefined);
  }
}, 120_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await emu?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

function send(bodies: string[]) {
  const batches = [];
  for (let i = 0; i < bodies.length; i += 10) {
    const Entries = bodies
      .slice(i, i + 10)
      .map((MessageBody, j) => ({ Id: String(j), MessageBody }));
    batches.push(emu.sqs.send(new SendMessageBatchCommand({ QueueUrl: emu.queueUrl, Entries })));
  }
  return Promise.all(batches);
}

async function queueEmpty() {
  const d = await emu.queueDepth();
  return d.visible + d.inFlight + d.delayed === 0;
}

describe('trailmint serve on SQS', () => {
  it('serves the policies `trailmint ingest` makes, empties the queue, survives bad input, exits cleanly', async () => {
    const env = {
      TRAILMINT_QUEUE_URL: emu.queueUrl,
      TRAILMINT_STORE: path.join(tmp, 'served'),
      TRAILMINT_WAIT_TIME_SECS: '1',
      TRAILMINT_COMMIT_INTERVAL_MS: '50',
      TRAILMINT_THREADS: '2',
      TRAILMINT_LOG_LEVEL: 'info',
      AWS_ENDPOINT_URL: emu.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
      TRAILMINT_S3_FORCE_PATH_STYLE: 'true',
    };
    const svc = await serve(env);
    expect((await get(`${svc.url}/healthz`)).status).toBe(200);
    await until('ready', async () => (await get(`${svc.url}/readyz`)).status === 200);

    const bodies: string[] = [
      TEST_EVENT,
      'this is not json',
      sns('{"also": "not a notification"}'),
    ];
    FILES.forEach((_, i) => {
      const k = keyOf(i);
      bodies.push(
        [
          s3Event(emu.bucket, k),
          sns(s3Event(emu.bucket, k)),
          eventBridge(emu.bucket, k),
          cloudTrail(emu.bucket, [k]),
        ][i % 4],
      );
    });
    bodies.push(
      cloudTrail(emu.bucket, [
        `${DAY_DIR}123456789012_CloudTrail_eu-west-1_corrupt.json.gz`,
        keyOf(0),
      ]),
    );
    await send(bodies);

    await until('queue drained', queueEmpty, 30_000);
    await until('every object accounted for', async () => {
      const s = (await get(`${svc.url}/v1/status`)).body;
      return s.objects.ingested + s.objects.failed + s.objects.skipped >= FILES.length + 1;
    });
    const status = (await get(`${svc.url}/v1/status`)).body;
    expect(status.objects.ingested).toBe(FILES.length);
    expect(status.messages.poison).toBe(2);
    expect(status.messages.testEvents).toBe(1);
    expect(status.failedObjects.map((f: { code: string }) => f.code)).toEqual(['GZIP_CORRUPT']);
    expect(status.failedObjects[0].object).toMatch(/corrupt\.json\.gz$/);

    for (const [principal, want] of expected) {
      const r = await get(policyUrl(svc.url, principal));
      if (want === undefined) expect(r.status, principal).toBe(404);
      else expect(r.body, principal).toEqual(want);
    }

    // Redelivery of everything: harmless, and the answers do not move.
    const before = await get(`${svc.url}/v1/principals`);
    await send(FILES.map((_, i) => s3Event(emu.bucket, keyOf(i))));
    await until('redeliveries drained', queueEmpty, 30_000);
    expect((await get(`${svc.url}/v1/principals`)).body).toEqual(before.body);

    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    expect(metrics).toMatch(/^trailmint_objects_total\{result="ingested"\} (\d+)$/m);
    expect(metrics).toMatch(/^trailmint_sqs_messages_deleted_total \d+$/m);

    svc.child.kill('SIGTERM');
    expect(await svc.exited).toBe(0);
    expect(svc.logs()).toMatch(/"msg":"stopped"/);
    // The whole-file reader the workers use is the WebAssembly scanner (not the fallback).
    expect(svc.logs()).toMatch(/"scanner":"webassembly"/);
    expect(svc.logs()).not.toMatch(/scanner unavailable/);
  }, 90_000);

  it('refuses a bad configuration at start, naming every setting to fix', async () => {
    const r = await run(['serve'], {
      TRAILMINT_QUEUE_URL: 'not-a-url',
      TRAILMINT_HEARTBEAT_SECS: '100',
      TRAILMINT_VISIBILITY_TIMEOUT_SECS: '60',
      PORT: 'eighty',
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/TRAILMINT_QUEUE_URL/);
    expect(r.stderr).toMatch(/TRAILMINT_HEARTBEAT_SECS/);
    expect(r.stderr).toMatch(/PORT/);
  });
});

describe('trailmint serve on a directory', () => {
  it('follows a local directory: files that appear are ingested and served', async () => {
    const dir = mkdtempSync(path.join(tmp, 'watch-'));
    const svc = await serve({
      TRAILMINT_WATCH_DIR: dir,
      TRAILMINT_WATCH_INTERVAL_SECS: '1',
      TRAILMINT_STORE: 'memory:',
      TRAILMINT_LOG_LEVEL: 'info',
    });
    expect((await get(`${svc.url}/v1/principals`)).body.principals ?? []).toEqual([]);
    const { copyFileSync } = await import('node:fs');
    for (const f of FILES.slice(0, 5)) copyFileSync(f, path.join(dir, path.basename(f)));
    await until(
      'files ingested',
      async () => (await get(`${svc.url}/v1/status`)).body.objects.ingested === 5,
      20_000,
    );
    const principals = (await get(`${svc.url}/v1/principals`)).body;
    expect(JSON.stringify(principals)).toMatch(/arn:aws:iam::/);
    svc.child.kill('SIGTERM');
    expect(await svc.exited).toBe(0);
  }, 60_000);
});
