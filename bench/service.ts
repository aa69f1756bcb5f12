// The service end to end: `trailmint serve` (a real process, LMDB store, 2 worker threads)
// consuming S3 notifications from the fauxqs emulator on loopback, while autocannon fires
// policy queries at it. Reports sustained ingest throughput (records/s from the first message
// sent to the last object committed) and the policy endpoint's latency under load, plus the
// same latency on an idle service for comparison.
//
//   node bench/service.ts [--quick]          (npm run bench runs it too)
// The emulator and the SDK calls that feed it run in this process: its CPU competes with the
// service on this 2-core machine, so the figures are a lower bound for a real deployment. The
// same load against a bare node:http server sending the same bytes (bench/floor-server.ts) gives
// the floor: what Node's HTTP stack and the co-located load generator alone cost here.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import autocannon from 'autocannon';
import { startEmulator } from '../test/helpers/emulator.ts';
import { corpusDir, corpusFiles, generateCorpus, type CorpusOptions } from './corpus.ts';
import { BENCH_DIR, emit, NODE, ROOT } from './lib.ts';

const quick = process.argv.includes('--quick');
const CORPUS: Partial<CorpusOptions> = quick
  ? { files: 60, records: 500, principals: 300, days: 30, seed: 11, bigFiles: [] }
  : { files: 300, records: 800, principals: 300, days: 30, seed: 11, bigFiles: [] };
const CONNECTIONS = 200;
const LOAD_SECS = quick ? 4 : 10;
/** load sent, not measured, before the idle service's and the floor's measured load */
const WARM_SECS = 2;

interface Latency {
  requests: number;
  errors: number;
  non2xx: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  rps: number;
}

/**
 * Store commits while it ran, from the service's own histogram: they run on the thread that also
 * answers HTTP, so their length bounds the latency tail. `maxSecondsAtMost`: the upper bound of
 * the bucket holding the slowest commit.
 */
function commitStats(metrics: string): {
  count: number;
  meanSeconds: number;
  maxSecondsAtMost: number;
} {
  const value = (name: string) =>
    Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1] ?? 0);
  const count = value('trailmint_store_commit_seconds_count');
  const buckets = metrics.matchAll(
    /^trailmint_store_commit_seconds_bucket\{le="([^"]+)"\} (\S+)$/gm,
  );
  // the first bucket that holds every commit
  const all = [...buckets].find((m) => Number(m[2]) >= count);
  return {
    count,
    meanSeconds: count ? value('trailmint_store_commit_seconds_sum') / count : 0,
    maxSecondsAtMost: all === undefined || all[1] === '+Inf' ? Infinity : Number(all[1]),
  };
}

async function load(url: string, seconds: number): Promise<Latency> {
  const r = await autocannon({ url, connections: CONNECTIONS, duration: seconds, pipelining: 1 });
  return {
    requests: r.requests.total,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
    p50: r.latency.p50,
    p90: r.latency.p90,
    p99: r.latency.p99,
    max: r.latency.max,
    rps: r.requests.average,
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the service's JSON answers
async function json(url: string): Promise<any> {
  return (await fetch(url)).json();
}

/** Starts a process and resolves once it prints `"url":"http://..."` (a pino line or JSON). */
function spawnListening(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(command, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d;
      const m = /"url":"(http:\/\/[^"]+)"/.exec(out);
      if (m) resolve({ child, url: m[1] });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('close', (code) =>
      reject(new Error(`${command} exited ${code}: ${out.slice(-2000)}`)),
    );
  });
}

const serve = (env: NodeJS.ProcessEnv) =>
  spawnListening(
    path.join(ROOT, 'bin/trailmint'),
    ['serve', '--host', '127.0.0.1', '--port', '0'],
    env,
  );

/** The same load against bench/floor-server.ts sending the bytes the service sent for `url`. */
async function floor(
  url: string,
  tmp: string,
  seconds: number,
): Promise<Latency & { bytes: number }> {
  const res = await fetch(url);
  const body = Buffer.from(await res.arrayBuffer());
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${body.toString().slice(0, 200)}`);
  const file = path.join(tmp, 'floor-body');
  writeFileSync(file, body);
  const bare = await spawnListening(NODE, [
    path.join(BENCH_DIR, 'floor-server.ts'),
    file,
    res.headers.get('content-type') ?? 'application/json',
  ]);
  try {
    await load(bare.url, WARM_SECS);
    return { ...(await load(bare.url, seconds)), bytes: body.length };
  } finally {
    bare.child.kill('SIGTERM');
  }
}

async function main(): Promise<void> {
  const dir = corpusDir('service', CORPUS as CorpusOptions);
  const manifest = await generateCorpus(dir, CORPUS);
  const files = corpusFiles(dir, manifest, 'regular');
  const records = files.reduce((s, f) => s + f.records, 0);

  const emu = await startEmulator({ visibilityTimeoutSecs: 60 });
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'trailmint-bench-service-'));
  let child: ChildProcess | undefined;
  try {
    const keys: string[] = [];
    for (const f of files) {
      const key = path.relative(dir, f.path);
      await emu.s3.send(
        new PutObjectCommand({ Bucket: emu.bucket, Key: key, Body: readFileSync(f.path) }),
      );
      keys.push(key);
    }
    const svc = await serve({
      TRAILMINT_QUEUE_URL: emu.queueUrl,
      TRAILMINT_STORE: path.join(tmp, 'store'),
      TRAILMINT_THREADS: '2',
      TRAILMINT_WAIT_TIME_SECS: '1',
      TRAILMINT_LOG_LEVEL: 'info',
      AWS_ENDPOINT_URL: emu.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      TRAILMINT_S3_FORCE_PATH_STYLE: 'true',
    });
    child = svc.child;

    // Warm the store with a tenth of the files so there is a principal to query.
    const seed = keys.slice(0, Math.ceil(keys.length / 10));
    const send = async (batch: string[]) => {
      for (let i = 0; i < batch.length; i += 10) {
        const Entries = batch.slice(i, i + 10).map((k, j) => ({
          Id: String(j),
          MessageBody: JSON.stringify({ s3Bucket: emu.bucket, s3ObjectKey: [k] }),
        }));
        await emu.sqs.send(new SendMessageBatchCommand({ QueueUrl: emu.queueUrl, Entries }));
      }
    };
    const ingested = async () => (await json(`${svc.url}/v1/status`)).objects.ingested as number;
    await send(seed);
    while ((await ingested()) < seed.length) await new Promise((r) => setTimeout(r, 50));
    const principals = (await json(`${svc.url}/v1/principals?limit=1000`)).principals as {
      principal: string;
      actions: number;
    }[];
    const busiest = principals.sort((a, b) => b.actions - a.actions)[0];
    const policyUrl =
      `${svc.url}/v1/policy?principal=${encodeURIComponent(busiest.principal)}` +
      `&from=2000-01-01&to=2030-12-31`;
    // Untimed first: the service's and the floor's first seconds are spent compiling their code.
    await load(policyUrl, WARM_SECS);
    const idle = await load(policyUrl, Math.max(2, LOAD_SECS / 2));
    const bare = await floor(policyUrl, tmp, Math.max(2, LOAD_SECS / 2));

    // The rest, timed, with the policy load running alongside.
    const rest = keys.slice(seed.length);
    const restRecords = files.slice(seed.length).reduce((s, f) => s + f.records, 0);
    const t0 = performance.now();
    const sending = send(rest);
    const loaded = load(policyUrl, LOAD_SECS);
    await sending;
    while ((await ingested()) < keys.length) await new Promise((r) => setTimeout(r, 20));
    const ingestSeconds = (performance.now() - t0) / 1000;
    const busy = await loaded;
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    const rss = metrics.match(/^process_resident_memory_bytes (\d+)/m);
    emit({
      quick,
      files: files.length,
      records,
      timedFiles: rest.length,
      timedRecords: restRecords,
      ingestSeconds,
      recordsPerSecond: restRecords / ingestSeconds,
      principal: busiest.principal,
      principalActions: busiest.actions,
      connections: CONNECTIONS,
      idle,
      floor: bare,
      whileIngesting: busy,
      serviceRssMb: rss ? Number(rss[1]) / 1e6 : null,
      commits: commitStats(metrics),
      policyResponses: Object.fromEntries(
        ['fast_path', 'cache', 'materialized'].map((source) => [
          source,
          Number(
            new RegExp(
              `^trailmint_policy_responses_total\\{source="${source}"\\} (\\S+)$`,
              'm',
            ).exec(metrics)?.[1] ?? 0,
          ),
        ]),
      ),
    });
  } finally {
    child?.kill('SIGTERM');
    await emu.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
