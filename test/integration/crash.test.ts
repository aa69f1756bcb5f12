// Crash safety with real kills. `trailmint serve` (LMDB store on disk) consumes the fixture corpus
// through the S3 + SQS emulator and is SIGKILLed at seeded random points — right after a commit
// log line (with one object per commit the next commit is then under way), or at a random time
// since start (start-up and store open included) — and restarted on the same store and queue
// until the queue is empty. Then every principal's GET /v1/policy and GET /v1/actions (counts,
// first and last seen: a double merge would show) must equal a clean `trailmint ingest` of the
// same files, and the store must open. Same for `trailmint ingest <dir>`, killed mid-run and
// resumed by running it again.
//
// CI runs CRASH_KILLS=20 serve kills and CRASH_INGEST_KILLS=5 ingest kills (about a minute);
// longer: CRASH_KILLS=200 CRASH_INGEST_KILLS=30 npx vitest run test/integration/crash.test.ts
// (CRASH_SEED=<n> replays a run; the seed is printed).
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as runCli } from '../helpers/cli.ts';
import { loadCatalog } from '../../src/catalog/catalog.ts';
import { buildApp } from '../../src/http/app.ts';
import { listLocal } from '../../src/sources/local.ts';
import { openStore } from '../../src/state/open.ts';
import type { ObjectRef, Store } from '../../src/state/store.ts';
import { Telemetry } from '../../src/telemetry.ts';
import { cloudTrail, s3Event, until } from '../helpers/bodies.ts';
import { startEmulator, TEST_CREDENTIALS, type Emulator } from '../helpers/emulator.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin/trailmint');
const FIXTURES = path.resolve(ROOT, '../shared/fixtures/cloudtrail');

const KILLS = Number(process.env.CRASH_KILLS ?? 20);
const INGEST_KILLS = Number(process.env.CRASH_INGEST_KILLS ?? 5);
const SEED = Number(process.env.CRASH_SEED ?? Date.now() % 2 ** 31);
const WINDOW = 'from=2000-01-01&to=2030-12-31';

/** mulberry32: a small seeded generator, so a failing run can be replayed with CRASH_SEED. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'trailmint-crash-'));

const run = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(args, { cwd: tmp, env });
const children = new Set<ChildProcess>();

/** `copies` copies of every fixture log file under dir/copy-<r>/<folder>/. */
function corpus(dir: string, copies: number): string[] {
  const files: string[] = [];
  for (let r = 0; r < copies; r++) {
    for (const folder of readdirSync(FIXTURES).sort()) {
      const from = path.join(FIXTURES, folder);
      let names: string[];
      try {
        names = readdirSync(from).filter((f) => f.endsWith('.json.gz'));
      } catch {
        continue; // README.md
      }
      mkdirSync(path.join(dir, `copy-${r}`, folder), { recursive: true });
      for (const name of names.sort()) {
        const to = path.join(dir, `copy-${r}`, folder, name);
        copyFileSync(path.join(from, name), to);
        files.push(to);
      }
    }
  }
  return files;
}

/** Every principal's /v1/policy and /v1/actions over all time, as the HTTP API answers them. */
type Answers = Map<string, { policy: unknown; actions: unknown }>;

async function answersOf(store: Store): Promise<Answers> {
  const app = buildApp({
    store,
    catalog: loadCatalog(),
    telemetry: new Telemetry({ store }),
    ready: () => true,
  });
  const out: Answers = new Map();
  for (const { principal } of await store.principals()) {
    const q = `principal=${encodeURIComponent(principal)}&${WINDOW}`;
    const policy = await app.inject(`/v1/policy?${q}`);
    const actions = await app.inject(`/v1/actions?${q}`);
    expect(actions.statusCode, principal).toBe(200);
    out.set(principal, {
      policy: policy.statusCode === 200 ? policy.json() : policy.statusCode,
      actions: actions.json(),
    });
  }
  await app.close();
  return out;
}

async function withStore<T>(dir: string, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(dir, { catalog: loadCatalog() });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** How many of `refs` the store at `dir` holds as ingested (opening it is part of the check). */
async function committed(dir: string, refs: readonly ObjectRef[]): Promise<number> {
  return withStore(dir, async (store) => {
    let n = 0;
    for (const ref of refs) if (await store.isIngested(ref)) n++;
    return n;
  });
}

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

// ---- trailmint serve ------------------------------------------------------------------------

const MODES = ['after commit', 'in a flush', 'at a random time'] as const;

// x86_64 and aarch64 numbers of the calls that flush a store to disk (LMDB: fdatasync).
const SYNC_SYSCALLS: Record<string, Record<string, string>> = {
  x64: { '74': 'fsync', '75': 'fdatasync', '26': 'msync' },
  arm64: { '82': 'fsync', '83': 'fdatasync', '227': 'msync' },
};

// A busy loop in its own process (the test's event loop is busy serving the emulator): watches
// /proc/<pid>/task/*/syscall and SIGKILLs <pid> while a thread is inside the (skip+1)-th flush.
// Prints the call's name and exits 0; exits 1 when it saw none within <ms>.
const FLUSH_KILLER = `
const fs = require('fs');
const [pid, skip, ms, names] = [+process.argv[1], +process.argv[2], +process.argv[3], JSON.parse(process.argv[4])];
const end = Date.now() + ms;
let tasks = [], listed = 0, seen = 0, inside = false;
while (Date.now() < end) {
  if (Date.now() - listed > 20) {
    try { tasks = fs.readdirSync('/proc/' + pid + '/task'); } catch { process.exit(1); }
    listed = Date.now();
  }
  let hit;
  for (const t of tasks) {
    try {
      const nr = fs.readFileSync('/proc/' + pid + '/task/' + t + '/syscall', 'utf8').split(' ', 1)[0];
      if (names[nr]) { hit = names[nr]; break; }
    } catch {}
  }
  if (hit && !inside && seen++ >= skip) { process.kill(pid, 'SIGKILL'); process.stdout.write(hit); process.exit(0); }
  inside = hit !== undefined;
}
process.exit(1);
`;

/** Kills `pid` inside a flush (after skipping `skip`); resolves with the call's name, if it did. */
function killInFlush(pid: number, skip: number, ms: number): Promise<string | undefined> {
  const names = SYNC_SYSCALLS[process.arch];
  if (process.platform !== 'linux' || names === undefined) return Promise.resolve(undefined);
  const child = spawn(process.execPath, [
    '-e',
    FLUSH_KILLER,
    String(pid),
    String(skip),
    String(ms),
    JSON.stringify(names),
  ]);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  return new Promise((resolve) =>
    child.on('close', (code) => resolve(code === 0 ? out : undefined)),
  );
}

describe('trailmint serve, SIGKILLed and restarted', () => {
  const random = rng(SEED);
  const DAY_DIR = 'AWSLogs/123456789012/CloudTrail/us-east-1/2024/05/17/';
  let emu: Emulator;
  let files: string[];
  let refs: ObjectRef[];
  let expected: Answers;
  /** objects the clean run ingested (the corpus has two JSON files that are no log files) */
  let logFiles: number;
  const store = path.join(tmp, 'served');

  beforeAll(async () => {
    // Enough objects that the kills never run out of work (a random-time kill may come after a
    // few hundred commits).
    const copies = Math.max(2, Math.ceil((KILLS * 40) / 506));
    files = corpus(path.join(tmp, 'corpus'), copies);
    emu = await startEmulator();
    const keys = files.map(
      (f) =>
        DAY_DIR +
        '123456789012_CloudTrail_us-east-1_' +
        path.relative(path.join(tmp, 'corpus'), f).replaceAll('/', '-'),
    );
    refs = [];
    const bodies: string[] = [];
    for (const [i, f] of files.entries()) {
      const body = readFileSync(f);
      const out = await emu.s3.send(
        new PutObjectCommand({ Bucket: emu.bucket, Key: keys[i], Body: body }),
      );
      const etag = out.ETag!.replace(/"/g, '');
      refs.push({ key: `s3://${emu.bucket}/${keys[i]}`, tag: etag });
      // With the ETag a redelivery is skipped before GetObject; without (CloudTrail's own
      // notification), right after it.
      bodies.push(
        i % 2 === 0
          ? s3Event(emu.bucket, keys[i], 'ObjectCreated:Put', etag, body.length)
          : cloudTrail(emu.bucket, [keys[i]]),
      );
    }
    for (let i = 0; i < bodies.length; i += 10) {
      const Entries = bodies
        .slice(i, i + 10)
        .map((MessageBody, j) => ({ Id: String(j), MessageBody }));
      await emu.sqs.send(new SendMessageBatchCommand({ QueueUrl: emu.queueUrl, Entries }));
    }

    // The reference: a clean `trailmint ingest` of the same files.
    const reference = path.join(tmp, 'reference');
    const ingest = await run(['ingest', path.join(tmp, 'corpus'), '--store', reference, '--json']);
    expect(ingest.code, ingest.stderr).toBe(0);
    logFiles = (JSON.parse(ingest.stdout) as { files: { ingested: number } }).files.ingested;
    expected = await withStore(reference, answersOf);
    expect(expected.size).toBeGreaterThan(100);
  }, 120_000);

  afterAll(() => emu?.stop());

  const env = (over: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
    TRAILMINT_QUEUE_URL: emu.queueUrl,
    TRAILMINT_STORE: store,
    TRAILMINT_WAIT_TIME_SECS: '1',
    // Unacknowledged messages of a killed process come back within 3 s.
    TRAILMINT_VISIBILITY_TIMEOUT_SECS: '3',
    TRAILMINT_HEARTBEAT_SECS: '1',
    // One object per commit: many commits, and each kill after one lands as the next is under way.
    TRAILMINT_COMMIT_BATCH_FILES: '1',
    TRAILMINT_COMMIT_INTERVAL_MS: '20',
    TRAILMINT_MAX_IN_FLIGHT_OBJECTS: '16',
    TRAILMINT_THREADS: '2',
    TRAILMINT_LOG_LEVEL: 'debug',
    AWS_ENDPOINT_URL: emu.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    TRAILMINT_S3_FORCE_PATH_STYLE: 'true',
    ...over,
  });

  interface Started {
    child: ChildProcess;
    url: Promise<string>;
    /** resolves with each new log line */
    onLine: (fn: (line: string) => void) => void;
    exited: Promise<number | null>;
    output: () => string;
  }

  function start(over?: NodeJS.ProcessEnv): Started {
    const child = spawn(BIN, ['serve', '--port', '0', '--host', '127.0.0.1'], {
      env: { ...process.env, ...env(over) },
      cwd: tmp,
    });
    children.add(child);
    let out = '';
    let partial = '';
    const listeners: ((line: string) => void)[] = [];
    let resolveUrl: (url: string) => void;
    const url = new Promise<string>((resolve) => (resolveUrl = resolve));
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        const m = /"url":"(http:\/\/[^"]+)"/.exec(line);
        if (m) resolveUrl(m[1]);
        for (const fn of listeners) fn(line);
      }
    });
    child.stderr!.on('data', (d: Buffer) => (out += d));
    const exited = new Promise<number | null>((resolve) =>
      child.on('close', (code) => {
        children.delete(child);
        resolve(code);
      }),
    );
    return { child, url, onLine: (fn) => listeners.push(fn), exited, output: () => out };
  }

  it(
    `ends equal to a clean ingest after ${KILLS} SIGKILLs (seed ${SEED})`,
    async () => {
      console.log(
        `crash test: seed ${SEED} (CRASH_SEED=${SEED} replays it), ${files.length} objects`,
      );
      const points: {
        mode: string;
        ms: number;
        commits: number;
        committedBefore: number;
        committedAfter: number;
        logged: number;
      }[] = [];
      let logged = 0; // objects whose commit completed and was logged, over all runs
      let before = 0;
      for (let k = 0; k < KILLS; k++) {
        const s = start();
        const spawned = performance.now();
        // In turn: right after a commit log line (the next commit is then under way), while a
        // thread of the process is inside fdatasync/fsync/msync (a commit's flush to disk, seen in
        // /proc), or at a random time since start (start-up and store open included).
        const mode = MODES[k % MODES.length];
        const afterCommits = 1 + Math.floor(random() * 10);
        const atMs = random() * 2500;
        let commits = 0;
        let killed = false;
        let syscall: string | undefined;
        const kill = () => {
          if (killed) return;
          killed = true;
          s.child.kill('SIGKILL');
        };
        s.onLine((line) => {
          if (line.includes('"msg":"object ingested"')) logged++;
          if (line.includes('"msg":"commit"')) commits++;
          if (mode === 'after commit' && commits >= afterCommits) kill();
        });
        // Skip a random number of flushes first, so that kills do not all hit the first commit.
        const flush =
          mode === 'in a flush'
            ? killInFlush(s.child.pid!, Math.floor(random() * 6), 3_000).then((sc) => {
                if (sc === undefined) return kill(); // none seen: kill anyway
                killed = true;
                syscall = sc;
              })
            : undefined;
        const timer = setTimeout(kill, mode === 'at a random time' ? atMs : 4_000);
        const code = await s.exited;
        clearTimeout(timer);
        await flush;
        if (!killed) throw new Error(`serve exited ${code} by itself:\n${s.output()}`);
        const after = await committed(store, refs);
        points.push({
          mode: syscall ? `in ${syscall}` : mode,
          ms: Math.round(performance.now() - spawned),
          commits,
          committedBefore: before,
          committedAfter: after,
          logged,
        });
        before = after;
      }

      // The last run: to an empty queue (visible, in flight and delayed), every object accounted for.
      const s = start({ TRAILMINT_COMMIT_BATCH_FILES: '64', TRAILMINT_LOG_LEVEL: 'info' });
      const url = await s.url;
      await until(
        'queue empty',
        async () => {
          const d = await emu.queueDepth();
          return d.visible + d.inFlight + d.delayed === 0;
        },
        60_000,
      );
      const served = (await (await fetch(`${url}/v1/principals?limit=1000`)).json()) as {
        principals: { principal: string }[];
      };
      expect(served.principals.map((p) => p.principal).sort()).toEqual([...expected.keys()].sort());
      for (const [principal, want] of expected) {
        const q = `principal=${encodeURIComponent(principal)}&${WINDOW}`;
        const policy = await fetch(`${url}/v1/policy?${q}`);
        const actions = await fetch(`${url}/v1/actions?${q}`);
        expect(policy.status === 200 ? await policy.json() : policy.status, principal).toEqual(
          want.policy,
        );
        expect(await actions.json(), principal).toEqual(want.actions);
      }
      s.child.kill('SIGTERM');
      expect(await s.exited).toBe(0);

      // The store opens, holds every object once, and answers the same in-process.
      const final = await withStore(store, async (st) => {
        let n = 0;
        for (const ref of refs) if (await st.isIngested(ref)) n++;
        return { n, answers: await answersOf(st) };
      });
      expect(final.n).toBe(logFiles);
      expect(final.answers).toEqual(expected);

      // Where the kills landed. A run after which the store holds more new objects than the run
      // logged as committed was killed inside a commit: after its durable write, before the ack.
      const inCommit = points.filter(
        (p, i) => p.committedAfter - p.committedBefore > p.logged - (points[i - 1]?.logged ?? 0),
      ).length;
      const count = (m: string) => points.filter((p) => p.mode.startsWith(m)).length;
      console.log(
        `crash test: ${points.length} kills: ${count('after commit')} right after a commit line, ` +
          `${points.filter((p) => /^in (fsync|fdatasync|msync)$/.test(p.mode)).length} inside fdatasync/fsync/msync, ` +
          `${count('at a random')} at a random time (${points.filter((p) => p.committedAfter === p.committedBefore).length} before any commit of their run); ` +
          `${inCommit} after a commit was durable and before it was acknowledged; ` +
          `objects committed per run: ${points.map((p) => p.committedAfter - p.committedBefore).join(' ')}`,
      );
      if (process.platform === 'linux' && KILLS >= MODES.length) {
        expect(points.some((p) => /^in (fsync|fdatasync|msync)$/.test(p.mode))).toBe(true);
      }
      expect(points.length).toBe(KILLS);
    },
    60_000 + KILLS * 8_000,
  );
});

// ---- trailmint ingest -----------------------------------------------------------------------

describe('trailmint ingest, SIGKILLed and re-run', () => {
  const random = rng(SEED + 1);

  it(
    `ends equal to a clean run after ${INGEST_KILLS} SIGKILLs (seed ${SEED})`,
    async () => {
      const dir = path.join(tmp, 'ingest-corpus');
      // About 4 s of work on two threads: room for kills mid-run.
      const files = corpus(dir, 8);
      const refs = (await listLocal([dir])).objects.map((o) => o.ref);
      const reference = path.join(tmp, 'ingest-reference');
      const started = performance.now();
      const clean = await run(['ingest', dir, '--store', reference, '--json', '--threads', '2']);
      const cleanMs = performance.now() - started;
      expect(clean.code, clean.stderr).toBe(0);
      const expected = await withStore(reference, answersOf);

      // Start-up (process, imports, store open) without any work.
      const empty = path.join(tmp, 'ingest-empty');
      mkdirSync(empty);
      const t0 = performance.now();
      expect(
        (await run(['ingest', empty, '--store', path.join(tmp, 'ingest-empty-store')])).code,
      ).toBe(0);
      const startupMs = performance.now() - t0;

      const store = path.join(tmp, 'ingest-crashed');
      const progress: number[] = [];
      const signals: (string | null)[] = [];
      for (let k = 0; k < INGEST_KILLS; k++) {
        // After a part of start-up, somewhere in up to 70% of the work left: every run is killed
        // before it finishes, some during start-up or the listing, most after commits.
        const left = 1 - (progress.at(-1) ?? 0) / refs.length;
        const atMs =
          startupMs * (0.5 + random() / 2) + random() * 0.7 * (cleanMs - startupMs) * left;
        const child = spawn(BIN, ['ingest', dir, '--store', store, '--json', '--threads', '2'], {
          cwd: tmp,
        });
        children.add(child);
        const timer = setTimeout(() => child.kill('SIGKILL'), atMs);
        signals.push(
          await new Promise((resolve) => child.on('close', (_code, signal) => resolve(signal))),
        );
        clearTimeout(timer);
        children.delete(child);
        progress.push(await committed(store, refs));
      }
      const resumed = await run(['ingest', dir, '--store', store, '--json', '--threads', '2']);
      expect(resumed.code, resumed.stderr).toBe(0);
      const summary = JSON.parse(resumed.stdout) as {
        files: { ingested: number; alreadyIngested: number };
      };
      expect(summary.files.alreadyIngested).toBe(progress.at(-1));
      expect(summary.files.ingested + summary.files.alreadyIngested).toBe(
        (JSON.parse(clean.stdout) as { files: { ingested: number } }).files.ingested,
      );
      expect(await withStore(store, answersOf)).toEqual(expected);
      console.log(
        `ingest crash test: ${files.length} files, clean run ${Math.round(cleanMs)} ms; ` +
          `start-up ${Math.round(startupMs)} ms; committed after each kill: ${progress.join(' ')}`,
      );
      // Every run was killed before it finished, some after commits of their own.
      expect(signals).toEqual(Array(INGEST_KILLS).fill('SIGKILL'));
      expect(progress.at(-1)).toBeLessThan(refs.length);
      expect(progress.filter((n, i) => n > (progress[i - 1] ?? 0)).length).toBeGreaterThan(0);
    },
    60_000 + INGEST_KILLS * 10_000,
  );
});
