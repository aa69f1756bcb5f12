// Two `trailmint serve` replicas on one SQS queue (fauxqs emulator) and one Redis store (a real
// redis-server, a prefix of its own): together they must make exactly the policies and per-action
// detail (counts included: every file merged once) a single `trailmint ingest` into LMDB makes,
// answer the same from either replica, and leave the queue empty, even when every notification
// is delivered twice. Then one replica is SIGKILLed with messages in flight: the survivor picks
// those up once their visibility runs out and nothing is lost.
//
// Each replica's SQS traffic goes through a tap (a small HTTP proxy) that records which messages
// it received and deleted, and that stops forwarding the moment we kill it: the messages the dead
// replica held are then known exactly, not guessed from timing.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as runCli, serve as serveCli, type Serving } from '../helpers/cli.ts';
import { s3Event, until } from '../helpers/bodies.ts';
import { startEmulator, TEST_CREDENTIALS, type Emulator } from '../helpers/emulator.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const FIXTURES = path.resolve(ROOT, '../shared/fixtures/cloudtrail');
const FOLDERS = [
  'traildiscover-log-examples',
  'panther-analysis-tests',
  'stratus-red-team-detonation-logs',
  'trailscraper-fixtures',
];
const FILES = FOLDERS.flatMap((folder) =>
  readdirSync(path.join(FIXTURES, folder))
    .filter((f) => f.endsWith('.json.gz'))
    .sort()
    .map((f) => path.join(FIXTURES, folder, f)),
);
const keyOf = (i: number) =>
  `AWSLogs/o-abcdefghij/123456789012/CloudTrail/eu-west-1/2024/05/17/123456789012_CloudTrail_eu-west-1_${String(i).padStart(4, '0')}.json.gz`;

const REDIS = process.env.TRAILMINT_TEST_REDIS ?? 'redis://127.0.0.1:6379';
const BASE = `tmreplicas:${process.pid}:${Date.now().toString(36)}:`;
const WINDOW = 'from=2000-01-01&to=2030-12-31';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'trailmint-replicas-'));

const run = (args: string[]) => runCli(args, { cwd: tmp });
const children: ChildProcess[] = [];
const emulators: Emulator[] = [];
const taps: Tap[] = [];
let admin: Redis;

const serve = (env: NodeJS.ProcessEnv): Promise<Serving> => serveCli(env, { cwd: tmp, children });

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers of the API under test
async function get(url: string): Promise<{ status: number; body: any }> {
  try {
    const res = await fetch(url);
    return { status: res.status, body: await res.json() };
  } catch (err) {
    throw new Error(`GET ${url}: ${String((err as Error).cause ?? err)}`, { cause: err });
  }
}

/** Every page of GET /v1/principals. */
async function allPrincipals(base: string): Promise<{ principal: string }[]> {
  const out: { principal: string }[] = [];
  let token: string | undefined;
  do {
    const page = (await get(`${base}/v1/principals?limit=500${token ? `&nextToken=${token}` : ''}`))
      .body as { principals: { principal: string }[]; nextToken?: string };
    out.push(...page.principals);
    token = page.nextToken;
  } while (token !== undefined);
  return out;
}

/** Everything the API says about the principals: what the replicas must agree on. */
async function answers(base: string, principals: readonly string[]) {
  const out = new Map<string, unknown>();
  out.set('principals', await allPrincipals(base));
  for (const p of principals) {
    const q = `principal=${encodeURIComponent(p)}&${WINDOW}`;
    const [policy, actions] = await Promise.all([
      get(`${base}/v1/policy?${q}`),
      get(`${base}/v1/actions?${q}`),
    ]);
    out.set(`policy ${p}`, policy);
    out.set(`actions ${p}`, actions);
  }
  return out;
}

/** A proxy in front of SQS for one replica: who received and deleted what, and a kill switch. */
interface Tap {
  endpoint: string;
  /** message id → times (Date.now()) this replica received it */
  received: Map<string, number[]>;
  /** message ids this replica deleted (recorded as the delete is forwarded) */
  deleted: Set<string>;
  /** received and not deleted */
  holding(): string[];
  /** from now on nothing is forwarded either way: the replica is as good as dead to SQS */
  cut(): void;
  close(): Promise<void>;
}

async function sqsTap(target: string): Promise<Tap> {
  const received = new Map<string, number[]>();
  const handles = new Map<string, string>();
  const deleted = new Set<string>();
  let cut = false;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (cut) return req.socket.destroy();
      const body = Buffer.concat(chunks);
      const action = String(req.headers['x-amz-target'] ?? '').replace(/^AmazonSQS\./, '');
      if (action === 'DeleteMessageBatch' || action === 'DeleteMessage') {
        const b = JSON.parse(body.toString()) as {
          ReceiptHandle?: string;
          Entries?: { ReceiptHandle: string }[];
        };
        for (const h of b.Entries?.map((e) => e.ReceiptHandle) ?? [b.ReceiptHandle])
          if (h && handles.has(h)) deleted.add(handles.get(h)!);
      }
      const up = http.request(
        target + (req.url ?? '/'),
        { method: req.method, headers: req.headers },
        (upRes) => {
          const parts: Buffer[] = [];
          upRes.on('data', (c: Buffer) => parts.push(c));
          upRes.on('end', () => {
            const reply = Buffer.concat(parts);
            if (action === 'ReceiveMessage' && upRes.statusCode === 200) {
              // recorded even after the cut: SQS counts them as received (in flight) anyway
              const r = JSON.parse(reply.toString()) as {
                Messages?: { MessageId: string; ReceiptHandle: string }[];
              };
              for (const m of r.Messages ?? []) {
                handles.set(m.ReceiptHandle, m.MessageId);
                received.set(m.MessageId, [...(received.get(m.MessageId) ?? []), Date.now()]);
              }
            }
            if (cut) return req.socket.destroy();
            res.writeHead(upRes.statusCode ?? 500, upRes.headers);
            res.end(reply);
          });
        },
      );
      up.on('error', () => req.socket.destroy());
      up.end(body);
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const tap: Tap = {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    deleted,
    holding: () => [...received.keys()].filter((id) => !deleted.has(id)),
    cut() {
      cut = true;
      server.closeAllConnections();
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  taps.push(tap);
  return tap;
}

async function emulatorWithFiles(): Promise<Emulator> {
  const emu = await startEmulator({ visibilityTimeoutSecs: 30 });
  emulators.push(emu);
  for (let i = 0; i < FILES.length; i += 50) {
    await Promise.all(
      FILES.slice(i, i + 50).map((file, j) =>
        emu.s3.send(
          new PutObjectCommand({ Bucket: emu.bucket, Key: keyOf(i + j), Body: readFileSync(file) }),
        ),
      ),
    );
  }
  return emu;
}

async function send(emu: Emulator, bodies: string[]) {
  for (let i = 0; i < bodies.length; i += 100) {
    await Promise.all(
      Array.from({ length: Math.ceil(Math.min(100, bodies.length - i) / 10) }, (_, b) => {
        const Entries = bodies
          .slice(i + b * 10, i + b * 10 + 10)
          .map((MessageBody, j) => ({ Id: String(j), MessageBody }));
        return emu.sqs.send(new SendMessageBatchCommand({ QueueUrl: emu.queueUrl, Entries }));
      }),
    );
  }
}

async function queueEmpty(emu: Emulator) {
  const d = await emu.queueDepth();
  return d.visible + d.inFlight + d.delayed === 0;
}

function replicaEnv(emu: Emulator, tap: Tap, prefix: string, extra: NodeJS.ProcessEnv = {}) {
  return {
    TRAILMINT_QUEUE_URL: emu.queueUrl,
    TRAILMINT_STORE: `${REDIS}/?prefix=${encodeURIComponent(prefix)}`,
    // the fixtures are from 2017–2024: keep them all
    TRAILMINT_RETENTION_DAYS: '36500',
    TRAILMINT_WAIT_TIME_SECS: '1',
    TRAILMINT_COMMIT_INTERVAL_MS: '50',
    // a few messages at a time each, so that both replicas get a share of the work
    TRAILMINT_MAX_IN_FLIGHT_OBJECTS: '8',
    TRAILMINT_THREADS: '1',
    TRAILMINT_LOG_LEVEL: 'info',
    AWS_ENDPOINT_URL_SQS: tap.endpoint,
    AWS_ENDPOINT_URL_S3: emu.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    TRAILMINT_S3_FORCE_PATH_STYLE: 'true',
    ...extra,
  };
}

let principals: string[];
let expected: Map<string, unknown>;

beforeAll(async () => {
  admin = new Redis(REDIS);
  // What `trailmint ingest` makes of the same files, into LMDB: the reference, read back through
  // a `serve` with no queue so that it answers with the same JSON as the replicas.
  const store = path.join(tmp, 'reference');
  const ingest = await run(['ingest', ...FILES, '--store', store, '--json']);
  expect(ingest.code, ingest.stderr).toBe(0);
  expect(JSON.parse(ingest.stdout).files.ingested).toBe(FILES.length);
  const ref = await serve({ TRAILMINT_STORE: store, TRAILMINT_LOG_LEVEL: 'info' });
  principals = (await allPrincipals(ref.url)).map((p) => p.principal);
  expect(principals.length).toBeGreaterThan(100);
  expected = await answers(ref.url, principals);
  ref.child.kill('SIGTERM');
  expect(await ref.exited).toBe(0);
}, 60_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const t of taps) await t.close();
  for (const e of emulators) await e.stop();
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `${BASE}*`, 'COUNT', 1000);
    if (keys.length) await admin.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
  admin.disconnect();
  rmSync(tmp, { recursive: true, force: true });
});

describe('two replicas on one queue and one Redis', () => {
  it('together make exactly what one `trailmint ingest` makes, readable from either', async () => {
    const emu = await emulatorWithFiles();
    const prefix = `${BASE}union:`;
    const [tapA, tapB] = await Promise.all([sqsTap(emu.endpoint), sqsTap(emu.endpoint)]);
    const [a, b] = await Promise.all([
      serve(replicaEnv(emu, tapA, prefix)),
      serve(replicaEnv(emu, tapB, prefix)),
    ]);
    // every file announced twice, the copies far apart: both replicas see duplicates
    const bodies = FILES.map((_, i) => s3Event(emu.bucket, keyOf(i)));
    await send(emu, [...bodies, ...[...bodies].reverse()]);

    await until('queue drained', () => queueEmpty(emu), 60_000);
    const status = await Promise.all(
      [a, b].map(async (s) => (await get(`${s.url}/v1/status`)).body),
    );
    // each replica did part of the work, and every delivery was accounted for
    expect(tapA.deleted.size).toBeGreaterThan(FILES.length / 10);
    expect(tapB.deleted.size).toBeGreaterThan(FILES.length / 10);
    expect(tapA.deleted.size + tapB.deleted.size).toBe(2 * FILES.length);
    for (const s of status) expect(s.failedObjects).toEqual([]);

    // same answers from both, and the reference's: policies, and counts that say "once"
    const [fromA, fromB] = await Promise.all([
      answers(a.url, principals),
      answers(b.url, principals),
    ]);
    for (const [what, want] of expected) {
      expect(fromA.get(what), `replica A: ${what}`).toEqual(want);
      expect(fromB.get(what), `replica B: ${what}`).toEqual(want);
    }

    a.child.kill('SIGTERM');
    b.child.kill('SIGTERM');
    expect(await a.exited, a.logs()).toBe(0);
    expect(await b.exited, b.logs()).toBe(0);
  }, 90_000);

  it('when one is SIGKILLed mid-work, the survivor takes its messages after the visibility timeout', async () => {
    const emu = await emulatorWithFiles();
    const prefix = `${BASE}kill:`;
    const [tapA, tapB] = await Promise.all([sqsTap(emu.endpoint), sqsTap(emu.endpoint)]);
    const fast = {
      TRAILMINT_VISIBILITY_TIMEOUT_SECS: '4',
      TRAILMINT_HEARTBEAT_SECS: '1',
      TRAILMINT_MAX_IN_FLIGHT_OBJECTS: '4',
    };
    const [a, b] = await Promise.all([
      serve(replicaEnv(emu, tapA, prefix, fast)),
      serve(replicaEnv(emu, tapB, prefix, fast)),
    ]);
    await send(
      emu,
      FILES.map((_, i) => s3Event(emu.bucket, keyOf(i))),
    );

    // in the middle: A has done some work and holds messages it has not deleted
    await until(
      'replica A mid-work',
      () => tapA.deleted.size >= 20 && tapA.holding().length > 0,
      30_000,
    );
    tapA.cut();
    a.child.kill('SIGKILL');
    const killedAt = Date.now();
    const orphans = tapA.holding();
    expect(await a.exited).toBe(null); // killed by the signal
    expect(orphans.length).toBeGreaterThan(0);
    expect(tapA.deleted.size).toBeLessThan(FILES.length / 2);

    await until('queue drained by the survivor', () => queueEmpty(emu), 60_000);
    // every message A held came back to B once its visibility ran out, and B deleted it
    for (const id of orphans) {
      const seen = tapB.received.get(id) ?? [];
      expect(seen.length, `orphan ${id} received by B`).toBeGreaterThan(0);
      // A's heartbeat kept it hidden for 4 s from at most 1 s before the kill
      expect(Math.max(...seen) - killedAt).toBeGreaterThan(2000);
      expect(tapB.deleted.has(id)).toBe(true);
    }
    expect(tapA.deleted.size + tapB.deleted.size).toBe(FILES.length);

    // nothing lost, nothing merged twice
    const fromB = await answers(b.url, principals);
    for (const [what, want] of expected) expect(fromB.get(what), what).toEqual(want);
    b.child.kill('SIGTERM');
    expect(await b.exited, b.logs()).toBe(0);
  }, 90_000);
});
