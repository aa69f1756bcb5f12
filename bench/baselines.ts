// What users would pick instead, run as whole processes on the same files as `trailmint ingest`
// (process start included for all three), computing the distinct (principal, eventSource,
// eventName) triples — the core of what trailmint keeps:
//   DuckDB   @duckdb/node-api, read_json with an explicit schema, SET threads = 2
//   jq       gzip -dc | jq, two pipelines at once (xargs -P 2), then sort -u
//   trailmint ./bin/trailmint ingest <dir> --store <tmp> --json
// Peak RSS comes from GNU time (`/usr/bin/time -f %M`) when it is installed.
//
//   node bench/baselines.ts duckdb <dir> [--threads 2] [--max-object-mb 64]   (the DuckDB child)
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NODE, ROOT, emit, flags } from './lib.ts';

const GNU_TIME = '/usr/bin/time';

export interface ProcessRun {
  seconds: number;
  /** peak RSS of the process tree's largest member, MB (decimal); NaN without GNU time */
  peakRssMb: number;
  stdout: string;
}

/** Runs a command, timing it from spawn to exit (process start included). */
export function timeProcess(
  cmd: string,
  args: readonly string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<ProcessRun> {
  const withTime = existsSync(GNU_TIME);
  const argv = withTime ? ['-f', '@@RSS %M', cmd, ...args] : [...args];
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(withTime ? GNU_TIME : cmd, argv, {
      cwd: opts.cwd ?? ROOT,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = (performance.now() - t0) / 1000;
      const rss = /@@RSS (\d+)/.exec(err);
      if (code !== 0) {
        reject(
          new Error(
            `${cmd} ${args.join(' ')} exited ${code}: ${err
              .replace(/@@RSS \d+/, '')
              .trim()
              .slice(-1500)}`,
          ),
        );
        return;
      }
      resolve({ seconds, peakRssMb: rss ? (Number(rss[1]) * 1024) / 1e6 : NaN, stdout: out });
    });
  });
}

export interface TriplesRun extends ProcessRun {
  /** distinct (principal, source, name) triples, or records for trailmint */
  count: number;
}

/** `./bin/trailmint ingest <dir> --store <fresh tmp> --json`; count = records ingested. */
export async function runTrailmint(
  dir: string,
  threads?: number,
): Promise<TriplesRun & { summary: Record<string, unknown> }> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'trailmint-bench-cli-'));
  try {
    const env = { ...process.env };
    delete env.TRAILMINT_STORE;
    if (threads === undefined) delete env.TRAILMINT_THREADS;
    else env.TRAILMINT_THREADS = String(threads);
    const r = await timeProcess(
      path.join(ROOT, 'bin', 'trailmint'),
      ['ingest', dir, '--store', path.join(tmp, 'store'), '--json'],
      { env },
    );
    const summary = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
      records: { records: number };
      files: { failed: number };
    };
    if (summary.files.failed)
      throw new Error(`trailmint ingest: ${summary.files.failed} files failed`);
    return {
      ...r,
      count: summary.records.records,
      summary: summary as unknown as Record<string, unknown>,
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export async function runDuckdb(
  target: string,
  threads = 2,
  maxObjectMb = 64,
): Promise<TriplesRun> {
  const r = await timeProcess(NODE, [
    fileURLToPath(import.meta.url),
    'duckdb',
    target,
    '--threads',
    String(threads),
    '--max-object-mb',
    String(maxObjectMb),
  ]);
  const line = r.stdout.split('\n').findLast((l) => l.startsWith('@@RESULT '));
  const v = JSON.parse(line!.slice(9)) as { triples: number };
  return { ...r, count: v.triples };
}

const JQ_FILTER =
  '.Records[] | (.userIdentity.sessionContext.sessionIssuer.arn // .userIdentity.arn) as $p ' +
  '| select($p != null) | [$p, .eventSource, .eventName] | @tsv';

/**
 * Two `gzip -dc | jq | sort -u` pipelines at once over batches of files (xargs -P 2), each into
 * its own file (two writers on one pipe would interleave lines past PIPE_BUF), then one merge.
 */
export async function runJq(target: string, parallel = 2): Promise<TriplesRun> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'trailmint-bench-jq-'));
  try {
    const list = target.endsWith('.gz')
      ? `printf '%s\\0' '${target}'`
      : `find '${target}' -name '*.json.gz' -print0`;
    const filter = JQ_FILTER.replaceAll('"', '\\"');
    const script =
      `${list} | xargs -0 -P ${parallel} -n 32 sh -c ` +
      `'gzip -dc "$@" | jq -r "$0" | LC_ALL=C sort -u > "$(mktemp -p ${tmp})"' '${filter}' ` +
      `&& LC_ALL=C sort -u -m ${tmp}/* | wc -l`;
    const r = await timeProcess('sh', ['-c', script]);
    return { ...r, count: Number(r.stdout.trim()) };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// The DuckDB child

const SCHEMA =
  "{Records: 'STRUCT(eventSource VARCHAR, eventName VARCHAR, userIdentity STRUCT(type VARCHAR, arn VARCHAR, " +
  "sessionContext STRUCT(sessionIssuer STRUCT(arn VARCHAR))))[]'}";

export function duckdbSql(glob: string, maxObjectMb: number): string {
  return `
    SELECT count(*)::INTEGER AS triples FROM (
      SELECT DISTINCT principal, source, name FROM (
        SELECT coalesce(r.userIdentity.sessionContext.sessionIssuer.arn, r.userIdentity.arn) AS principal,
               r.eventSource AS source, r.eventName AS name
        FROM (SELECT unnest(Records) AS r
              FROM read_json('${glob.replaceAll("'", "''")}', columns = ${SCHEMA}, format = 'auto',
                             maximum_object_size = ${maxObjectMb * 1024 * 1024}))
      ) WHERE principal IS NOT NULL
    )`;
}

async function duckdbChild(target: string, threads: number, maxObjectMb: number): Promise<void> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  await conn.run(`SET threads = ${threads}`);
  const glob = target.endsWith('.gz') ? target : path.join(target, '**', '*.json.gz');
  const t0 = performance.now();
  const reader = await conn.runAndReadAll(duckdbSql(glob, maxObjectMb));
  const triples = Number(reader.getRows()[0][0]);
  emit({ triples, querySeconds: (performance.now() - t0) / 1000 });
  conn.closeSync();
  db.closeSync();
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [what, target, ...rest] = process.argv.slice(2);
  const f = flags(rest);
  if (what !== 'duckdb' || !target) {
    console.error(
      'usage: node bench/baselines.ts duckdb <dir|file.json.gz> [--threads N] [--max-object-mb N]',
    );
    process.exit(2);
  }
  await duckdbChild(
    path.resolve(target),
    Number(f.get('threads') ?? 2),
    Number(f.get('max-object-mb') ?? 64),
  );
}
