// `npm run bench` — every benchmark in one run, then bench/RESULTS.md and bench/throughput.svg.
//
//   npm run bench                 full run (~5–10 minutes; the first run also generates corpora)
//   npm run bench -- --quick      under a minute: smaller corpora, fewer runs, a 70 MiB big file;
//                                 writes bench/.corpus/RESULTS-quick.md (+ throughput-quick.svg)
//   --out FILE                    write the report elsewhere
//   --base REF                    also run (a) with the engine of git commit REF (our previous
//                                 version; extracted read-only with `git archive`)
//   --max-wait S                  full mode: wait up to S s (default 45) before each step for other
//                                 processes to leave the CPUs alone
//   --only a,b                    run some steps only (micro e2e workers cli bigfile sizes
//                                 principals service); the report marks the rest as not run
//
// Each benchmark runs in its own child process (peak RSS is per benchmark, a crash is reported
// and the run goes on); the baselines (DuckDB, jq) run in the same session, interleaved with
// trailmint, so the ratios hold on a noisy machine.
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runDuckdb, runJq, runTrailmint, type TriplesRun } from './baselines.ts';
import { bytesFormat, chartSvg, type Panel } from './chart.ts';
import {
  DEFAULT_CORPUS,
  corpusDir,
  corpusFiles,
  corpusHash,
  generateCorpus,
  readManifest,
  type CorpusOptions,
  type Manifest,
} from './corpus.ts';
import type { StateSize } from './e2e.ts';
import {
  BENCH_DIR,
  CORPUS_ROOT,
  ROOT,
  flags,
  machineInfo,
  median,
  runChild,
  type MachineInfo,
  type Row,
} from './lib.ts';

interface Config {
  mode: 'full' | 'quick';
  small: Partial<CorpusOptions>;
  microFiles: number;
  runs: number;
  poolRuns: number;
  cliRuns: number;
  bigBytes: number;
  bigRuns: number;
  sizes: number[];
  principals: number[];
  principalFiles: number;
  materializeCalls: number;
}

const MiB = 2 ** 20;

const FULL: Config = {
  mode: 'full',
  small: { files: 300, records: 800, principals: 300, accounts: 12, days: 90, spread: 0.6 },
  microFiles: 80,
  runs: 5,
  poolRuns: 3,
  cliRuns: 3,
  bigBytes: 300 * MiB,
  bigRuns: 3,
  sizes: [10e3, 100e3, 1e6, 10e6, 50e6, 100e6],
  principals: [10, 100, 1000, 10000],
  principalFiles: 40,
  materializeCalls: 2000,
};

const QUICK: Config = {
  mode: 'quick',
  small: { files: 40, records: 500, principals: 300, accounts: 12, days: 90, spread: 0.6 },
  microFiles: 20,
  runs: 2,
  poolRuns: 1,
  cliRuns: 2,
  // Above parse.ts's 16 MiB whole-file threshold, so the streaming path is still the one measured.
  bigBytes: 70 * MiB,
  bigRuns: 1,
  sizes: [10e3, 100e3, 1e6, 10e6],
  principals: [10, 1000],
  principalFiles: 10,
  materializeCalls: 200,
};

/** Issue 4's targets. */
const TARGET = {
  singleRecordsPerSec: 200_000,
  cliVsDuckdb: 2,
  twoWorkers: 1.8,
  bigRecordsPerSec: 150_000,
  bigRssMb: 256,
  materializeP99Ms: 2,
  bytesPerPrincipalDay: 64,
};

interface CorpusRef {
  label: string;
  dir: string;
  m: Manifest;
}

interface CliRound {
  trailmint: TriplesRun;
  duckdb: TriplesRun;
  jq: TriplesRun;
}

interface BigFileRun {
  records: number;
  inflatedBytes: number;
  compressedBytes: number;
  seconds: number;
  recordsPerSec: number;
  mbPerSec: number;
  peakRssMb: number;
  setupRssMb: number;
  streaming: boolean;
  /** the reference streaming path (RecordSplitter + JSON.parse), for the ratio */
  reference: boolean;
}

interface SizePoint {
  inflatedBytes: number;
  records: number;
  recordsPerSec: number;
  mbPerSec: number;
  msPerFile: number;
  streaming: boolean;
  iterations: number;
  /** the same file through the other path (1 MB to 64 MiB files) */
  otherRecordsPerSec?: number;
}

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

/** What bench/service.ts emits (trailmint serve + fauxqs + autocannon). */
interface ServiceResult {
  files: number;
  records: number;
  timedRecords: number;
  ingestSeconds: number;
  recordsPerSecond: number;
  principal: string;
  principalActions: number;
  connections: number;
  idle: Latency;
  /** a bare node:http server sending the same bytes under the same load; absent in older results */
  floor?: Latency & { bytes: number };
  whileIngesting: Latency;
  serviceRssMb: number | null;
  /** store commits during the run (the service's histogram); absent in older results */
  commits?: { count: number; meanSeconds: number; maxSecondsAtMost: number };
  /** GET /v1/policy answers by source (trailmint_policy_responses_total); absent in older results */
  policyResponses?: { fast_path: number; cache: number; materialized: number };
}

interface Results {
  machine: MachineInfo;
  config: Config;
  started: Date;
  seconds: number;
  corpora: (CorpusRef & { generatedNow: boolean })[];
  micro: Row[];
  single?: Row;
  state?: StateSize;
  workers: Row[];
  cli: CliRound[];
  /** the default path's runs; bigReference: the same file through the reference streaming path */
  big: BigFileRun[];
  bigReference?: BigFileRun[];
  sizes: SizePoint[];
  principals: { principals: number; row: Row; distinct: number }[];
  /**
   * --base: (a) with that commit's engine (`row`) and again with this one's (`head`), children
   * alternating (head, base, head, base), each side the child with the median records/s.
   */
  base?: { ref: string; sha: string; row: Row; head: Row; rounds: number };
  service?: ServiceResult;
  errors: { step: string; message: string }[];
  skipped: string[];
  /** the engine measured: commit and uncommitted files under src/ and workers/ */
  engine: { commit: string; dirty: string[] };
  /** 1-minute load average at start and end */
  load: [number, number];
  /** CPU share used by other processes before and during each step (the kept attempt) */
  busy: { step: string; share: number; waitedSecs: number; during: number; attempts: number }[];
}

const log = (s: string): void => void process.stderr.write(s + '\n');

const QUIET_SHARE = 0.2;
const DEFAULT_QUIET_WAIT_SECS = 45;
let MAX_QUIET_WAIT_SECS = DEFAULT_QUIET_WAIT_SECS;

/** Share of all CPUs busy over the next `ms` (from /proc/stat; 0 where it is unavailable). */
async function cpuBusyShare(ms = 1000): Promise<number> {
  const sample = (): number[] | undefined => {
    try {
      const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
      return line.trim().split(/\s+/).slice(1).map(Number);
    } catch {
      return undefined;
    }
  };
  const a = sample();
  await new Promise((r) => setTimeout(r, ms));
  const b = sample();
  if (!a || !b) return 0;
  const d = b.map((v, i) => v - a[i]);
  const total = d.reduce((x, y) => x + y, 0);
  const idle = d[3] + (d[4] ?? 0); // idle + iowait
  return total > 0 ? 1 - idle / total : 0;
}

function engineVersion(): { commit: string; dirty: string[] } {
  const git = (args: string[]): string => {
    try {
      return execFileSync('git', args, {
        cwd: ROOT,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      });
    } catch {
      return '';
    }
  };
  const dirty = git(['status', '--porcelain', '--', 'src', 'workers'])
    .split('\n')
    .filter(Boolean)
    .map((l) => l.slice(3));
  return { commit: git(['rev-parse', '--short=10', 'HEAD']).trim() || 'unknown', dirty };
}

const RETRY_SHARE = 0.25;

interface Ticks {
  busy: number;
  total: number;
  /** this process and its waited-for descendants (utime + stime + cutime + cstime) */
  own: number;
}

function cpuTicks(): Ticks {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8')
      .split('\n')[0]
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    const total = cpu.reduce((a, b) => a + b, 0);
    const self = readFileSync('/proc/self/stat', 'utf8');
    const f = self
      .slice(self.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number); // f[0] is field 3
    return { busy: total - cpu[3] - (cpu[4] ?? 0), total, own: f[11] + f[12] + f[13] + f[14] };
  } catch {
    return { busy: 0, total: 0, own: 0 };
  }
}

/** Share of all CPUs that processes other than this run's used between two samples. */
function othersShare(a: Ticks, b: Ticks): number {
  const total = b.total - a.total;
  if (total <= 0) return 0;
  return Math.max(0, (b.busy - a.busy - (b.own - a.own)) / total);
}

async function waitForQuiet(maxSecs: number): Promise<{ share: number; waitedSecs: number }> {
  const t = performance.now();
  let share = await cpuBusyShare();
  while (share > QUIET_SHARE && (performance.now() - t) / 1000 < maxSecs)
    share = await cpuBusyShare(2000);
  return { share, waitedSecs: (performance.now() - t) / 1000 };
}

async function main(): Promise<void> {
  const f = flags(process.argv.slice(2));
  const cfg = f.has('quick') ? QUICK : FULL;
  MAX_QUIET_WAIT_SECS = Number(f.get('max-wait') ?? DEFAULT_QUIET_WAIT_SECS);
  const only = f.get('only')?.split(',');
  const want = (step: string): boolean => !only || only.includes(step);
  // Quick results go to the git-ignored corpus folder: the full run's RESULTS.md is the record.
  const outFile = path.resolve(
    f.get('out') ??
      (cfg.mode === 'quick'
        ? path.join(CORPUS_ROOT, 'RESULTS-quick.md')
        : path.join(BENCH_DIR, 'RESULTS.md')),
  );
  const svgFile = path.join(
    path.dirname(outFile),
    cfg.mode === 'quick' ? 'throughput-quick.svg' : 'throughput.svg',
  );
  const t0 = performance.now();
  const started = new Date();
  const res: Results = {
    machine: machineInfo(),
    config: cfg,
    started,
    seconds: 0,
    corpora: [],
    micro: [],
    workers: [],
    cli: [],
    big: [],
    sizes: [],
    principals: [],
    errors: [],
    skipped: [],
    load: [os.loadavg()[0], NaN],
    busy: [],
    engine: engineVersion(),
  };
  const step = async (name: string, fn: () => Promise<void>): Promise<void> => {
    if (!want(name)) {
      res.skipped.push(name);
      return;
    }
    // Between steps this process is idle, so CPU in use now is someone else's: wait a little for
    // a quiet machine (full mode). During the step, the machine's busy time minus this process
    // tree's CPU time is someone else's too; a step they disturbed is run once more (full mode).
    const attempts = cfg.mode === 'full' ? 2 : 1;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const busy = await waitForQuiet(cfg.mode === 'full' ? MAX_QUIET_WAIT_SECS : 0);
      const s0 = performance.now();
      log(
        `[${((s0 - t0) / 1000).toFixed(0).padStart(4)} s] ${name}${attempt > 1 ? ' (again)' : ''}` +
          (busy.share > QUIET_SHARE
            ? ` (others use ${(busy.share * 100).toFixed(0)}% of the CPUs)`
            : ''),
      );
      const before = cpuTicks();
      const errors = res.errors.length;
      try {
        await fn();
      } catch (err) {
        const message = (err as Error).message ?? String(err);
        log(`  FAILED: ${message.slice(0, 500)}`);
        res.errors.push({ step: name, message });
      }
      const during = othersShare(before, cpuTicks());
      res.busy = res.busy.filter((b) => b.step !== name);
      res.busy.push({ step: name, ...busy, during, attempts: attempt });
      if (during <= RETRY_SHARE || attempt === attempts || res.errors.length > errors) break;
      log(`  others used ${(during * 100).toFixed(0)}% of the CPUs during ${name}: once more`);
    }
  };

  // Corpora (cached by parameter hash in bench/.corpus/)
  const corpus = async (label: string, opts: Partial<CorpusOptions>): Promise<CorpusRef> => {
    const full: CorpusOptions = { ...DEFAULT_CORPUS, ...opts };
    // Quick and full corpora live side by side, so neither mode prunes the other's.
    const dir = corpusDir(cfg.mode === 'quick' ? `${label}-quick` : label, full);
    const g0 = performance.now();
    const generatedNow = readManifest(dir)?.hash !== corpusHash(full);
    const m = await generateCorpus(dir, full, (s) => log(`  ${label}:${s}`));
    // Corpora of the same label with other options or an older generator are stale.
    const stale = new RegExp(`^${path.basename(dir).slice(0, -13)}-[0-9a-f]{12}$`);
    for (const e of readdirSync(CORPUS_ROOT)) {
      if (stale.test(e) && path.join(CORPUS_ROOT, e) !== dir)
        rmSync(path.join(CORPUS_ROOT, e), { recursive: true, force: true });
    }
    const ref = { label, dir, m };
    res.corpora = res.corpora.filter((c) => c.dir !== dir);
    res.corpora.push({ ...ref, generatedNow });
    log(
      `  corpus ${label}: ${m.totals.files} files, ${m.totals.records} records, ${bytesFormat(m.totals.inflatedBytes)}${generatedNow ? ` (generated in ${((performance.now() - g0) / 1000).toFixed(1)} s)` : ' (cached)'}`,
    );
    return ref;
  };
  log(`trailmint bench, ${cfg.mode} mode → ${path.relative(process.cwd(), outFile)}`);
  const small = await corpus('small', cfg.small);

  await step('micro', async () => {
    res.micro = [];
    for (const name of ['inflate', 'parse', 'accumulate', 'scanacc', 'idset', 'materialize']) {
      try {
        const args = [
          name,
          '--corpus',
          small.dir,
          '--runs',
          String(cfg.runs),
          '--files',
          String(cfg.microFiles),
          '--calls',
          String(cfg.materializeCalls),
        ];
        if (cfg.mode === 'quick') args.push('--quick');
        const r = await runChild<Row[]>('micro.ts', args);
        res.micro.push(...r.value);
      } catch (err) {
        res.errors.push({ step: `micro ${name}`, message: (err as Error).message });
        log(`  micro ${name} FAILED: ${(err as Error).message.slice(0, 300)}`);
      }
    }
  });

  await step('e2e', async () => {
    const r = await runChild<{ rows: Row[]; state?: StateSize }>('e2e.ts', [
      'single',
      '--corpus',
      small.dir,
      '--runs',
      String(cfg.runs),
      '--state',
    ]);
    res.single = r.value.rows[0];
    res.state = r.value.state;
  });

  const baseRef = f.get('base');
  if (baseRef) {
    await step('base', async () => {
      const sha = execFileSync('git', ['rev-parse', '--verify', `${baseRef}^{commit}`], {
        cwd: ROOT,
        encoding: 'utf8',
      }).trim();
      const root = path.join(CORPUS_ROOT, `base-${sha.slice(0, 12)}`);
      if (!existsSync(path.join(root, '.extracted'))) {
        rmSync(root, { recursive: true, force: true });
        mkdirSync(root, { recursive: true });
        // Read-only for the repository: `git archive` writes a tarball of the commit to stdout.
        execFileSync('sh', ['-c', `git archive ${sha} | tar -x -C '${root}'`], { cwd: ROOT });
        symlinkSync(path.join(ROOT, 'node_modules'), path.join(root, 'node_modules'));
        writeFileSync(path.join(root, '.extracted'), sha);
      }
      // Alternating children: the machine's speed drifts by ±20% over minutes, which a ratio of
      // two steps run one after the other would take for a difference between the engines.
      const single = async (engine: string): Promise<Row> =>
        (
          await runChild<{ rows: Row[] }>('e2e.ts', [
            'single',
            '--corpus',
            small.dir,
            '--runs',
            String(cfg.runs),
            '--root',
            engine,
          ])
        ).value.rows[0];
      const rounds = 2;
      const heads: Row[] = [];
      const bases: Row[] = [];
      for (let k = 0; k < rounds; k++) {
        heads.push(await single(ROOT));
        bases.push(await single(root));
      }
      const mid = (rows: Row[]) =>
        [...rows].sort((a, b) => a.recordsPerSec - b.recordsPerSec)[rows.length >> 1];
      res.base = { ref: baseRef, sha, row: mid(bases), head: mid(heads), rounds };
    });
  }

  await step('workers', async () => {
    res.workers = [];
    for (const mode of cfg.mode === 'quick' ? ['parse'] : ['parse', 'ingest']) {
      for (const threads of [1, 2]) {
        const r = await runChild<{ rows: Row[] }>('e2e.ts', [
          'pool',
          '--corpus',
          small.dir,
          '--runs',
          String(cfg.poolRuns),
          '--threads',
          String(threads),
          '--mode',
          mode,
        ]);
        res.workers.push(r.value.rows[0]);
      }
    }
  });

  await step('cli', async () => {
    res.cli = [];
    const logs = path.join(small.dir, 'AWSLogs');
    // Untimed first round (full mode): page cache, and DuckDB's and the CLI's first-start costs.
    if (cfg.mode === 'full') {
      await runTrailmint(logs);
      await runDuckdb(logs);
      await runJq(logs);
    }
    for (let i = 0; i < cfg.cliRuns; i++) {
      const trailmint = await runTrailmint(logs);
      const duckdb = await runDuckdb(logs);
      const jq = await runJq(logs);
      res.cli.push({ trailmint, duckdb, jq });
    }
  });

  const big = want('bigfile')
    ? await corpus('big', { files: 0, bigFiles: [cfg.bigBytes], days: 1 })
    : undefined;
  await step('bigfile', async () => {
    res.big = [];
    res.bigReference = [];
    const file = corpusFiles(big!.dir, big!.m, 'big')[0].path;
    // Alternating with the reference path, a fresh process each: the ratio holds on a busy machine.
    for (let i = 0; i < cfg.bigRuns; i++) {
      const r = await runChild<BigFileRun>('e2e.ts', ['file', '--file', file]);
      res.big.push(r.value);
      const ref = await runChild<BigFileRun>('e2e.ts', ['file', '--file', file, '--reference']);
      res.bigReference.push(ref.value);
    }
  });

  await step('sizes', async () => {
    const c = await corpus('sizes', {
      files: 0,
      bigFiles: cfg.sizes.map(Math.round),
      days: cfg.sizes.length,
    });
    const r = await runChild<{ sizes: SizePoint[] }>('e2e.ts', ['sizes', '--corpus', c.dir]);
    res.sizes = r.value.sizes;
  });

  await step('principals', async () => {
    res.principals = [];
    for (const n of cfg.principals) {
      const c = await corpus(`principals-${n}`, {
        files: cfg.principalFiles,
        records: 1000,
        spread: 0,
        principals: n,
        accounts: Math.min(12, Math.max(1, Math.floor(n / 5))),
        days: 30,
      });
      const r = await runChild<{ rows: Row[]; state?: StateSize }>('e2e.ts', [
        'single',
        '--corpus',
        c.dir,
        '--runs',
        String(Math.min(3, cfg.runs)),
        '--state',
      ]);
      res.principals.push({
        principals: n,
        row: r.value.rows[0],
        distinct: r.value.state?.principals ?? NaN,
      });
    }
  });

  // The service end to end (bench/service.ts): HTTP latency at 200 connections while ingesting.
  // Full mode only: with the emulator's start and 200-connection load it would not fit a quick run.
  if (cfg.mode === 'quick' && !only?.includes('service')) res.skipped.push('service (quick mode)');
  else
    await step('service', async () => {
      if (!existsSync(path.join(BENCH_DIR, 'service.ts')))
        throw new Error('bench/service.ts is missing');
      const r = await runChild<ServiceResult>(
        'service.ts',
        cfg.mode === 'quick' ? ['--quick'] : [],
        {
          nodeArgs: [],
          timeoutSecs: 240,
        },
      );
      res.service = r.value;
    });

  res.seconds = (performance.now() - t0) / 1000;
  res.load[1] = os.loadavg()[0];
  mkdirSync(path.dirname(outFile), { recursive: true });
  writeFileSync(svgFile, chart(res));
  writeFileSync(outFile, report(res, path.basename(svgFile)));
  log(
    `[${res.seconds.toFixed(0).padStart(4)} s] wrote ${path.relative(process.cwd(), outFile)} and ${path.relative(process.cwd(), svgFile)}`,
  );
  if (res.errors.length) {
    log(`${res.errors.length} step(s) failed: ${res.errors.map((e) => e.step).join(', ')}`);
    process.exitCode = 1;
  }
}

// ---------------------------------------------------------------------------------------------
// Report

const n0 = (v: number): string =>
  Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '–';
const n1 = (v: number): string => (Number.isFinite(v) ? v.toFixed(1) : '–');
const n2 = (v: number): string => (Number.isFinite(v) ? v.toFixed(2) : '–');
const mark = (ok: boolean | undefined): string =>
  ok === undefined ? '❔ not measured' : ok ? '✅' : '❌';

function find(rows: Row[], stage: string, variant: string): Row | undefined {
  return rows.find((r) => r.stage === stage && r.variant.startsWith(variant));
}

interface Derived {
  cliRatio: number;
  cliVsJq: number;
  duckdbVsJq: number;
  cliRecordsPerSec: number;
  duckdbRecordsPerSec: number;
  jqRecordsPerSec: number;
  workerRatio: number;
  ingestWorkerRatio: number;
  bigRecordsPerSec: number;
  bigRssMb: number;
  matP99: number;
  matP50: number;
  lmdbP99: number;
  daysBytesPerPd: number;
  perPrincipalBytesPerPd: number;
  dataMdbPerPd: number;
}

function derive(r: Results): Derived {
  const records = r.cli[0]?.trailmint.count ?? NaN;
  const tm = median(r.cli.map((c) => c.trailmint.seconds));
  const dd = median(r.cli.map((c) => c.duckdb.seconds));
  const jq = median(r.cli.map((c) => c.jq.seconds));
  const w = (mode: string, t: number): Row | undefined =>
    r.workers.find((x) => x.variant.startsWith(mode) && x.extra?.threads === t);
  const pool1 = w('ParserPool', 1);
  const pool2 = w('ParserPool', 2);
  const ing1 = w('ingestObjects', 1);
  const ing2 = w('ingestObjects', 2);
  const mat = find(r.micro, 'materialize', 'policyFor, 500 actions, 90-day window (memory');
  const matLmdb = find(r.micro, 'materialize', 'policyFor, 500 actions, 90-day window (LMDB');
  const s = r.state;
  const perPrincipal = s
    ? ['days', 'uses', 'pmeta', 'principals', 'passroles'].reduce(
        (a, t) => a + (s.tables[t]?.bytes ?? 0),
        0,
      )
    : NaN;
  return {
    cliRatio: dd / tm,
    cliVsJq: jq / tm,
    duckdbVsJq: jq / dd,
    cliRecordsPerSec: records / tm,
    duckdbRecordsPerSec: records / dd,
    jqRecordsPerSec: records / jq,
    workerRatio: pool1 && pool2 ? pool2.recordsPerSec / pool1.recordsPerSec : NaN,
    ingestWorkerRatio: ing1 && ing2 ? ing2.recordsPerSec / ing1.recordsPerSec : NaN,
    bigRecordsPerSec: median(r.big.map((b) => b.recordsPerSec)),
    bigRssMb: r.big.length ? Math.max(...r.big.map((b) => b.peakRssMb)) : NaN,
    matP99: Number(mat?.extra?.p99ms ?? NaN),
    matP50: Number(mat?.extra?.p50ms ?? NaN),
    lmdbP99: Number(matLmdb?.extra?.p99ms ?? NaN),
    daysBytesPerPd: s ? s.tables.days.bytes / s.principalDays : NaN,
    perPrincipalBytesPerPd: s ? perPrincipal / s.principalDays : NaN,
    dataMdbPerPd: s ? s.dataMdbBytes / s.principalDays : NaN,
  };
}

function rowTable(rows: Row[], opts: { unit?: string } = {}): string[] {
  const unit = opts.unit ?? 'records/s';
  const out = [
    `| variant | ${unit} | MB/s | median s | runs | peak RSS MB | setup RSS MB | notes |`,
    '|---|--:|--:|--:|--:|--:|--:|---|',
  ];
  for (const r of rows) {
    const notes = Object.entries(r.extra ?? {})
      .filter(([k]) => k !== 'unit')
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    out.push(
      `| ${r.variant.replace(/^ +/, '↳ ')} | ${n0(r.recordsPerSec)} | ${r.bytes ? n1(r.mbPerSec) : '–'} | ${r.medianSeconds.toPrecision(3)} | ${r.runs} | ${n0(r.peakRssMb)} | ${n0(r.setupRssMb)} | ${notes} |`,
    );
  }
  return out;
}

function report(r: Results, svgName: string): string {
  const d = derive(r);
  const m = r.machine;
  const L: string[] = [];
  const single = r.single;
  L.push('# trailmint benchmark results', '');
  L.push(
    `Written by \`npm run bench${r.config.mode === 'quick' ? ' -- --quick' : ''}\` (bench/run.ts) on ${r.started.toISOString().replace('T', ' ').slice(0, 16)} UTC, ` +
      `**${r.config.mode} mode**, in ${n0(r.seconds)} s. Every figure is the median of the runs shown (after one untimed warm-up run). ` +
      'MB = 10⁶ bytes of *inflated* JSON; records are all records in the files (API calls, service events, sign-ins, duplicates). ' +
      "Peak RSS is the benchmark process's high-water mark (`process.resourceUsage().maxRSS`), inputs held by the setup included; " +
      '"setup RSS" is the RSS before the timed runs, so peak − setup is what the stage itself needed.',
    '',
  );
  if (r.config.mode === 'quick') {
    L.push(
      `> Quick mode: ${r.config.small.files} small files, ${r.config.runs} runs, and a ${bytesFormat(r.config.bigBytes)} big file ` +
        'instead of 300 MB (still above the 16 MiB whole-file threshold, so the streaming path is measured); materialize on the memory ' +
        'store only; workers without the ingestObjects variant. Use the full run for the record.',
      '',
    );
  }
  L.push('## Machine and versions', '');
  L.push('| CPU | cores | memory | OS | Node | npm | jq |', '|---|--:|--:|---|---|---|---|');
  L.push(
    `| ${m.cpuModel} | ${m.cores} | ${n1(m.memoryGiB)} GiB | ${m.platform} ${m.kernel} | ${m.node} | ${m.npm} | ${m.jq} |`,
    '',
  );
  L.push(
    `Engine measured: commit \`${r.engine.commit}\`` +
      (r.engine.dirty.length
        ? ` plus uncommitted changes in ${r.engine.dirty.length} file(s) under src/ and workers/ (${r.engine.dirty.slice(0, 12).join(', ')}${r.engine.dirty.length > 12 ? ', …' : ''}).`
        : ', clean.'),
    '',
  );
  const noisy = r.busy.filter((b) => b.during > RETRY_SHARE);
  L.push(
    `Load average (1 min) at start ${n2(r.load[0])}, at end ${n2(r.load[1])}. The machine is shared with other work, so the run ` +
      'measures, for each step, the share of all CPUs that *other* processes used (machine busy time from /proc/stat minus this ' +
      "run's own CPU time)" +
      (r.config.mode === 'full'
        ? `, waits up to ${MAX_QUIET_WAIT_SECS} s before a step for it to drop below ${QUIET_SHARE * 100}%, and runs a step once more when others took over ${RETRY_SHARE * 100}% during it`
        : '') +
      '. ' +
      (noisy.length
        ? `**Other processes still took a large share during** ${noisy.map((b) => `${b.step} (${n0(b.during * 100)}%)`).join(', ')}: those figures are pessimistic. `
        : 'Every step ran on a quiet machine. ') +
      'Ratios inside one run (trailmint vs DuckDB vs jq, 2 vs 1 workers) hold better than absolute figures across runs.',
    '',
  );
  if (r.busy.length) {
    L.push(
      '| step | ' + r.busy.map((b) => b.step).join(' | ') + ' |',
      '|---|' + r.busy.map(() => '--:|').join(''),
      "| others' CPU share before | " +
        r.busy.map((b) => `${n0(b.share * 100)}%`).join(' | ') +
        ' |',
      "| others' CPU share during | " +
        r.busy.map((b) => `${n0(b.during * 100)}%`).join(' | ') +
        ' |',
      '| attempts | ' + r.busy.map((b) => String(b.attempts)).join(' | ') + ' |',
      '',
    );
  }
  L.push(
    'Packages: ' +
      Object.entries(m.packages)
        .map(([k, v]) => `\`${k}\` ${v}`)
        .join(', ') +
      '.',
    '',
  );

  L.push('## Corpora', '');
  L.push(
    "Generated by `bench/corpus.ts` (seeded, cached in `bench/.corpus/` by parameter hash): the fixtures' real records as templates; " +
      'AssumedRole sessions of many roles, IAM users and roots across accounts of one organization; Zipf over principals (three very busy roles) ' +
      'and over (source, name) pairs per principal; ~3% AccessDenied-style and ~2% other errors; ~2.5% AwsServiceEvent, 0.5% AwsConsoleSignIn, ' +
      '1% AWS-service calls, 0.1% duplicate deliveries.',
    '',
  );
  L.push(
    '| corpus | files | records | inflated | gzipped | bytes/record | principals (option) | days |',
    '|---|--:|--:|--:|--:|--:|--:|--:|',
  );
  for (const c of r.corpora) {
    const t = c.m.totals;
    L.push(
      `| ${c.label} | ${t.files} | ${n0(t.records)} | ${bytesFormat(t.inflatedBytes)} | ${bytesFormat(t.compressedBytes)} | ${n0(t.inflatedBytes / t.records)} | ${c.m.options.principals} | ${c.m.options.days} |`,
    );
  }
  L.push('');

  L.push('## Issue 4 targets', '');
  L.push('| target | measured | |', '|---|---|---|');
  const t = TARGET;
  L.push(
    `| Ingest end to end (.gz bytes → committed LMDB state), one thread, small files: ≥ ${n0(t.singleRecordsPerSec)} records/s per core | ` +
      (single
        ? `**${n0(single.recordsPerSec)} records/s** (${n1(single.mbPerSec)} MB/s; CPU/wall ${single.extra?.cpuPerWall}) — ${n2(single.recordsPerSec / t.singleRecordsPerSec)}× the target`
        : 'not run') +
      ` | ${mark(single ? single.recordsPerSec >= t.singleRecordsPerSec : undefined)} |`,
  );
  L.push(
    `| \`trailmint ingest <dir>\` (process start included) ≥ ${t.cliVsDuckdb}× DuckDB on the same ${r.corpora[0]?.m.totals.files ?? ''} files, 2 cores each | ` +
      (r.cli.length
        ? `**${n2(d.cliRatio)}×** (trailmint ${n0(d.cliRecordsPerSec)} records/s, DuckDB ${n0(d.duckdbRecordsPerSec)} records/s)`
        : 'not run') +
      ` | ${mark(r.cli.length ? d.cliRatio >= t.cliVsDuckdb : undefined)} |`,
  );
  L.push(
    `| Two workers ≥ ${t.twoWorkers}× one worker | ` +
      (Number.isFinite(d.workerRatio)
        ? `**${n2(d.workerRatio)}×** ParserPool parse only; ${n2(d.ingestWorkerRatio)}× through ingestObjects with LMDB commits`
        : 'not run') +
      ` | ${mark(Number.isFinite(d.workerRatio) ? d.workerRatio >= t.twoWorkers : undefined)} |`,
  );
  const bigOk = r.big.length
    ? d.bigRecordsPerSec >= t.bigRecordsPerSec && d.bigRssMb <= t.bigRssMb
    : undefined;
  L.push(
    `| A 300 MB (inflated) file: ≥ ${n0(t.bigRecordsPerSec)} records/s, peak RSS ≤ ${t.bigRssMb} MB | ` +
      (r.big.length
        ? `**${n0(d.bigRecordsPerSec)} records/s, ${n0(d.bigRssMb)} MB** peak RSS (${bytesFormat(r.big[0].inflatedBytes)} file${r.config.mode === 'quick' ? ', quick mode: not 300 MB' : ''}, ${r.big[0].streaming ? 'streaming path' : 'whole-file path'})`
        : 'not run') +
      ` | ${mark(bigOk)} |`,
  );
  L.push(
    `| Materialize a principal with 500 actions over 90 days: p99 ≤ ${t.materializeP99Ms} ms in process | ` +
      (Number.isFinite(d.matP99)
        ? `**p99 ${n2(d.matP99)} ms** (p50 ${n2(d.matP50)} ms) memory store; p99 ${n2(d.lmdbP99)} ms LMDB`
        : 'not run') +
      ` | ${mark(Number.isFinite(d.matP99) ? d.matP99 <= t.materializeP99Ms : undefined)} |`,
  );
  const svc = r.service;
  L.push(
    `| HTTP endpoint p99 ≤ 10 ms at 200 concurrent requests while ingesting | ` +
      (svc
        ? `**p99 ${n0(svc.whileIngesting.p99)} ms** at ${svc.connections} connections while \`trailmint serve\` ingests ${n0(svc.recordsPerSecond)} records/s from S3/SQS (idle: p99 ${n0(svc.idle.p99)} ms` +
          (svc.floor
            ? `; a bare node:http server sending the same bytes under the same load: p99 ${n0(svc.floor.p99)} ms, the floor on this machine)`
            : ')')
        : 'not run') +
      ` | ${mark(svc ? svc.whileIngesting.p99 <= 10 && svc.whileIngesting.errors + svc.whileIngesting.non2xx === 0 : undefined)} |`,
  );
  L.push(
    `| State ≤ ${t.bytesPerPrincipalDay} bytes per principal-day on disk (principals ≤ 50 actions/day) | ` +
      (r.state
        ? `**${n1(d.daysBytesPerPd)} B** per principal-day in the \`days\` table's B-tree pages (${n1(r.state.typicalDayValueBytes / r.state.typicalPrincipalDays)} B logical value); ` +
          `${n0(d.perPrincipalBytesPerPd)} B with every per-principal table (uses, pmeta, passroles); ${n0(d.dataMdbPerPd)} B = whole data.mdb ÷ principal-days`
        : 'not run') +
      ` | ${mark(r.state ? d.daysBytesPerPd <= t.bytesPerPrincipalDay : undefined)} |`,
  );
  const lin = r.sizes.length
    ? Math.min(...r.sizes.map((s) => s.recordsPerSec)) /
      Math.max(...r.sizes.map((s) => s.recordsPerSec))
    : NaN;
  L.push(
    `| Cost linear in records; chart of throughput vs file size and vs principals | ` +
      (r.sizes.length
        ? `records/s across file sizes varies by ${n2(1 / lin)}× (min/max); see [${svgName}](${svgName})`
        : 'not run') +
      ` | ${r.sizes.length ? (lin >= 0.5 ? '✅' : '❌') : '❔'} |`,
  );
  L.push('');

  L.push('## Ratios against the baselines (same run)', '');
  L.push('| comparison | ratio | detail |', '|---|--:|---|');
  if (r.cli.length) {
    L.push(
      `| trailmint ingest vs DuckDB (2 threads, explicit schema) | ${n2(d.cliRatio)}× | median ${n2(median(r.cli.map((c) => c.trailmint.seconds)))} s vs ${n2(median(r.cli.map((c) => c.duckdb.seconds)))} s |`,
    );
    L.push(
      `| trailmint ingest vs jq (2 pipelines) | ${n2(d.cliVsJq)}× | jq median ${n2(median(r.cli.map((c) => c.jq.seconds)))} s |`,
    );
    L.push(`| DuckDB vs jq | ${n2(d.duckdbVsJq)}× | |`);
  }
  const ratio = (a?: Row, b?: Row): string =>
    a && b ? `${n2(a.recordsPerSec / b.recordsPerSec)}×` : '–';
  L.push(
    `| fflate vs node:zlib (inflate) | ${ratio(find(r.micro, 'inflate', 'fflate'), find(r.micro, 'inflate', 'node:zlib gunzipSync, 16 KB'))} | |`,
    `| node:zlib, one output chunk vs 16 KB chunks (default) | ${ratio(find(r.micro, 'inflate', 'node:zlib gunzipSync, one'), find(r.micro, 'inflate', 'node:zlib gunzipSync, 16 KB'))} | |`,
    `| node:zlib into the scanner's memory (parse.ts) vs one output chunk | ${ratio(find(r.micro, 'inflate', 'node:zlib into'), find(r.micro, 'inflate', 'node:zlib gunzipSync, one'))} | |`,
  );
  const jp = find(r.micro, 'parse', 'TextDecoder');
  const wasmRow = find(r.micro, 'parse', 'WebAssembly scanner (workers/wasm.ts');
  L.push(
    `| WebAssembly scanner vs whole-file JSON.parse (decode included in both) | ${ratio(wasmRow, jp)} | |`,
  );
  L.push(
    `| JS scanner vs whole-file JSON.parse | ${ratio(find(r.micro, 'parse', 'JS scanner'), jp)} | |`,
  );
  L.push(
    `| stream-json vs whole-file JSON.parse | ${ratio(find(r.micro, 'parse', 'stream-json'), jp)} | |`,
  );
  L.push(
    `| RecordSplitter + JSON.parse vs whole-file JSON.parse | ${ratio(find(r.micro, 'parse', 'RecordSplitter +'), jp)} | |`,
  );
  if (r.big.length && r.bigReference?.length) {
    const fast = median(r.big.map((b) => b.recordsPerSec));
    const ref = median(r.bigReference.map((b) => b.recordsPerSec));
    L.push(
      `| WebAssembly stream vs RecordSplitter + JSON.parse (${bytesFormat(r.big[0].inflatedBytes)} file, parseLogFile) | ${n2(fast / ref)}× | ${n0(fast)} vs ${n0(ref)} records/s; peak RSS ${n0(Math.max(...r.big.map((b) => b.peakRssMb)))} vs ${n0(Math.max(...r.bigReference.map((b) => b.peakRssMb)))} MB |`,
    );
  }
  L.push(
    `| Buffer.toString vs TextDecoder(fatal) before JSON.parse | ${ratio(find(r.micro, 'parse', 'Buffer.toString'), jp)} | |`,
  );
  L.push(`| 2 vs 1 ParserPool workers | ${n2(d.workerRatio)}× | |`);
  L.push(`| 2 vs 1 workers through ingestObjects + LMDB | ${n2(d.ingestWorkerRatio)}× | |`);
  if (r.base) {
    L.push(
      `| this checkout vs previous version \`${r.base.ref}\` (${r.base.sha.slice(0, 10)}), (a) end to end | ${n2(r.base.head.recordsPerSec / r.base.row.recordsPerSec)}× | ${n0(r.base.head.recordsPerSec)} vs ${n0(r.base.row.recordsPerSec)} records/s, ${r.base.rounds} children each, alternating |`,
    );
  } else {
    L.push(
      '| this checkout vs our previous version | – | run with `--base <git ref>` (e.g. `--base HEAD` or `--base origin/main`) |',
    );
  }
  L.push('');

  L.push("## Where a record's time goes (one thread)", '');
  L.push(
    'Per-record cost of each stage from the micro-benchmarks (same corpus), against the measured end-to-end cost. ' +
      'The slowest stages are the ones to make faster first.',
    '',
  );
  const us = (row?: Row): number => (row ? 1e6 / row.recordsPerSec : NaN);
  const scanAcc = find(r.micro, 'map+accumulate', 'WebAssembly scan +');
  const scanAlone = find(r.micro, 'map+accumulate', 'WebAssembly scan alone');
  const stages: [string, number][] = [
    [
      "inflate (node:zlib into the WebAssembly scanner's memory)",
      us(find(r.micro, 'inflate', 'node:zlib into')),
    ],
    [
      'copy in + WebAssembly scan + records filled from 64 KB latin1 windows (workers/wasm.ts), whole file',
      us(wasmRow),
    ],
    [
      'map + accumulate over the scanned records (Accumulator.add incl. lazy requestParameters parse, finish)',
      us(scanAcc) - us(scanAlone),
    ],
  ];
  if (single) {
    const perRecord = 1e6 / single.recordsPerSec;
    stages.push([
      'store commit (LMDB, 64 files per transaction)',
      perRecord * Number(single.extra?.commitShare ?? NaN),
    ]);
  }
  L.push('| stage | µs/record | share of the sum |', '|---|--:|--:|');
  const sum = stages.reduce((a, [, v]) => a + (Number.isFinite(v) ? v : 0), 0);
  for (const [name, v] of stages) L.push(`| ${name} | ${n2(v)} | ${n0((v / sum) * 100)}% |`);
  L.push(`| **sum of stages** | **${n2(sum)}** | → ${n0(1e6 / sum)} records/s |`);
  if (single)
    L.push(
      `| measured end to end | ${n2(1e6 / single.recordsPerSec)} | ${n0(single.recordsPerSec)} records/s |`,
    );
  L.push('');
  const inflateUs = stages[0][1];
  const floor = inflateUs + us(jp);
  const wasmFloor = inflateUs + stages[1][1];
  if (Number.isFinite(floor) && Number.isFinite(wasmFloor)) {
    L.push(
      `Inflate + JSON.parse alone, before any mapping or commit, take ${n2(floor)} µs per record: ` +
        `**${n0(1e6 / floor)} records/s** is the ceiling of a pipeline built on \`JSON.parse\` on this core ` +
        `(the JS scanner, workers/scan.ts: ${ratio(find(r.micro, 'parse', 'JS scanner'), jp)} the speed of \`JSON.parse\` here). ` +
        `Inflate + the WebAssembly scan take ${n2(wasmFloor)} µs: **${n0(1e6 / wasmFloor)} records/s** before mapping. ` +
        `Accumulating the scanned records takes ${n2(stages[2][1])} µs per record against ` +
        `${n2(us(find(r.micro, 'map+accumulate', 'Accumulator')))} µs for JSON.parse'd ones (each measured in a process of its own): ` +
        `the scanned records' requestParameters, resources and responseElements are parsed there, when read.`,
      '',
    );
  }
  const parts = r.micro.filter((x) => x.stage === 'map+accumulate' && x.variant.startsWith('  '));
  if (parts.length) {
    L.push('Inside map + accumulate, each function alone over the same API-call records:', '');
    L.push('| function | µs/record | records/s |', '|---|--:|--:|');
    for (const p of [...parts].sort((a, b) => a.recordsPerSec - b.recordsPerSec))
      L.push(`| ${p.variant.trim()} | ${n2(us(p))} | ${n0(p.recordsPerSec)} |`);
    L.push('');
  }

  L.push('## Micro-benchmarks', '');
  for (const [stage, title, unit] of [
    ['inflate', 'Inflate', 'records/s'],
    ['parse', 'Parse', 'records/s'],
    ['map+accumulate', 'Mapping + accumulate (workers/accumulate.ts)', 'records/s'],
    ['id-set', 'Id-set merge (src/state/idset.ts), 20,000 sets per run', 'sets/s'],
    [
      'materialize',
      `Materialize (src/policy/query.ts policyFor), ${r.config.materializeCalls} calls per variant; the "median s" column is the median call`,
      'calls/s',
    ],
  ] as const) {
    const rows = r.micro.filter((x) => x.stage === stage);
    if (!rows.length) continue;
    L.push(`### ${title}`, '', ...rowTable(rows, { unit }), '');
  }

  L.push('## End to end', '');
  if (single) {
    L.push(
      '### (a) parseLogFile + LMDB commits, one thread, small-file corpus',
      '',
      ...rowTable([single]),
      '',
    );
  }
  if (r.workers.length) {
    L.push(
      '### (b) The real ParserPool (piscina) with 1 and 2 workers',
      '',
      ...rowTable(r.workers),
      '',
    );
  }
  if (r.cli.length) {
    L.push(
      `### (c) Whole processes on the same ${r.corpora[0].m.totals.files} files: \`./bin/trailmint ingest <dir> --store <tmp> --json\` vs DuckDB vs jq`,
      '',
      'Each run starts a process (Node + the CLI; Node + @duckdb/node-api; sh + gzip + jq + sort); the three alternate, ' +
        `${r.cli.length} rounds${r.config.mode === 'full' ? ' after one untimed round' : ''}. DuckDB and jq compute the distinct (principal, eventSource, eventName) triples; ` +
        'trailmint does its whole job (map, outcome, resources, commit). Peak RSS from GNU time (largest process of the tree).',
      '',
      '| tool | median s | records/s | peak RSS MB | result |',
      '|---|--:|--:|--:|---|',
    );
    const records = r.cli[0].trailmint.count;
    for (const tool of ['trailmint', 'duckdb', 'jq'] as const) {
      const s = median(r.cli.map((c) => c[tool].seconds));
      const rss = Math.max(...r.cli.map((c) => c[tool].peakRssMb));
      const what =
        tool === 'trailmint'
          ? `${n0(records)} records ingested`
          : `${n0(r.cli[0][tool].count)} distinct triples`;
      L.push(`| ${tool} | ${n2(s)} | ${n0(records / s)} | ${n0(rss)} | ${what} |`);
    }
    const agree = r.cli.every((c) => c.duckdb.count === c.jq.count);
    L.push('', `DuckDB and jq ${agree ? 'agree' : '**disagree**'} on the triple count.`, '');
  }
  if (r.big.length) {
    const b = r.big;
    L.push(
      `### (d) One ${bytesFormat(b[0].inflatedBytes)} file (${bytesFormat(b[0].compressedBytes)} gzipped, ${n0(b[0].records)} records) through parseLogFile, a fresh process per run`,
      '',
      '| run | seconds | records/s | MB/s | peak RSS MB | RSS before parse MB | path |',
      '|--:|--:|--:|--:|--:|--:|---|',
    );
    const pathOf = (x: BigFileRun) =>
      !x.streaming
        ? 'whole file'
        : x.reference
          ? 'streaming, RecordSplitter + JSON.parse (reference)'
          : 'streaming, WebAssembly stream (default)';
    b.forEach((x, i) => {
      for (const y of [x, r.bigReference?.[i]]) {
        if (y === undefined) continue;
        L.push(
          `| ${i + 1} | ${n2(y.seconds)} | ${n0(y.recordsPerSec)} | ${n1(y.mbPerSec)} | ${n0(y.peakRssMb)} | ${n0(y.setupRssMb)} | ${pathOf(y)} |`,
        );
      }
    });
    L.push('');
  }
  if (r.state) {
    const s = r.state;
    L.push(
      '### State size on disk (LMDB, after ingesting the small-file corpus)',
      '',
      `${n0(s.principalDays)} principal-days (${n0(s.typicalPrincipalDays)} with ≤ 50 actions, ${n1(s.typicalDayActions / Math.max(1, s.typicalPrincipalDays))} actions on average) over ${n0(s.principals)} principals. ` +
        `data.mdb: ${bytesFormat(s.dataMdbBytes)} apparent, ${bytesFormat(s.allocatedBytes)} allocated. ` +
        `Logical day-set values: ${n0(s.dayValueBytes)} bytes, ${n1(s.typicalDayValueBytes / Math.max(1, s.typicalPrincipalDays))} B per typical principal-day.`,
      '',
      '| table | entries | B-tree bytes | bytes/entry | bytes per principal-day |',
      '|---|--:|--:|--:|--:|',
    );
    for (const [name, x] of Object.entries(s.tables)) {
      L.push(
        `| ${name} | ${n0(x.entries)} | ${n0(x.bytes)} | ${x.entries ? n1(x.bytes / x.entries) : '–'} | ${n1(x.bytes / s.principalDays)} |`,
      );
    }
    L.push(
      '',
      'The `actions` table is the fixed ~22,000-name catalog id table, the same for every store; `objects` grows per file, not per principal-day.',
      '',
    );
  }
  if (svc) {
    L.push(
      '### (e) The service: `trailmint serve` consuming S3 notifications (fauxqs emulator) under HTTP load (bench/service.ts)',
      '',
      `${svc.files} files, ${n0(svc.records)} records; a tenth ingested first, then the rest timed (${n0(svc.timedRecords)} records in ${n2(svc.ingestSeconds)} s = ` +
        `**${n0(svc.recordsPerSecond)} records/s**) while autocannon sends \`GET /v1/policy\` for the busiest principal (${svc.principalActions} actions) ` +
        `over ${svc.connections} connections. The emulator and its feeder share the 2 cores with the service. Service RSS at the end: ${svc.serviceRssMb === null ? '–' : n0(svc.serviceRssMb)} MB.`,
      '',
      '| load | requests | req/s | p50 ms | p90 ms | p99 ms | max ms | errors + non-2xx |',
      '|---|--:|--:|--:|--:|--:|--:|--:|',
    );
    const loads: [string, Latency][] = [['idle service', svc.idle]];
    if (svc.floor)
      loads.push([
        `floor: bare node:http, same ${n0(svc.floor.bytes)} bytes (bench/floor-server.ts)`,
        svc.floor,
      ]);
    loads.push(['while ingesting', svc.whileIngesting]);
    for (const [name, l] of loads) {
      L.push(
        `| ${name} | ${n0(l.requests)} | ${n0(l.rps)} | ${n1(l.p50)} | ${n1(l.p90)} | ${n1(l.p99)} | ${n1(l.max)} | ${l.errors + l.non2xx} |`,
      );
    }
    if (svc.floor) {
      L.push(
        '',
        `The floor is what Node's HTTP stack and autocannon, on the same 2 cores, cost without trailmint: it answers ${n0(svc.floor.rps)} req/s, ` +
          `the idle service ${n2(svc.idle.rps / svc.floor.rps)}× that (p99 ${n2(svc.idle.p99 / Math.max(1, svc.floor.p99))}× the floor's). ` +
          `In a closed loop of ${svc.connections} connections the mean latency is ${svc.connections} ÷ req/s, so a p99 of 10 ms needs well over ${n0(svc.connections / 0.01)} req/s from one core shared with the load generator.`,
      );
    }
    const pr = svc.policyResponses;
    if (pr) {
      L.push(
        '',
        `Policy answers by source over the whole run (\`trailmint_policy_responses_total\`): ${n0(pr.fast_path)} by the fast path ahead of the router, ` +
          `${n0(pr.cache)} from the cache after routing, ${n0(pr.materialized)} materialized (one per commit touching the principal, and the first).`,
      );
    }
    const c = svc.commits;
    if (c && c.count > 0) {
      L.push(
        '',
        `Store commits during the run: ${c.count}, ${n1(c.meanSeconds * 1000)} ms on average, the slowest ≤ ${n0(c.maxSecondsAtMost * 1000)} ms ` +
          '(the histogram bucket holding it). They run on the thread that answers HTTP, so they bound the latency tail.',
      );
    }
    L.push('');
  }
  if (r.sizes.length || r.principals.length) {
    L.push('## How cost grows', '', `![throughput vs file size and vs principals](${svgName})`, '');
  }
  if (r.sizes.length) {
    L.push(
      'parseLogFile alone (no store), one thread, by file size; files of 1 MB to 64 MiB also through ' +
        'the path the threshold did not pick (what the whole-file threshold weighs):',
      '',
      '| inflated | records | records/s | MB/s | ms per file | path | iterations | other path, records/s |',
      '|--:|--:|--:|--:|--:|---|--:|--:|',
    );
    for (const s of r.sizes)
      L.push(
        `| ${bytesFormat(s.inflatedBytes)} | ${n0(s.records)} | ${n0(s.recordsPerSec)} | ${n1(s.mbPerSec)} | ${n2(s.msPerFile)} | ${s.streaming ? 'streaming' : 'whole file'} | ${s.iterations} | ${s.otherRecordsPerSec === undefined ? '–' : n0(s.otherRecordsPerSec)} |`,
      );
    L.push('');
  }
  if (r.principals.length) {
    L.push(
      `parseLogFile + LMDB commits, one thread, ${r.config.principalFiles} files × 1,000 records, by number of principals in the organization:`,
      '',
      '| principals (option) | distinct in store | records/s | commit share | peak RSS MB |',
      '|--:|--:|--:|--:|--:|',
    );
    for (const p of r.principals)
      L.push(
        `| ${n0(p.principals)} | ${n0(p.distinct)} | ${n0(p.row.recordsPerSec)} | ${p.row.extra?.commitShare ?? '–'} | ${n0(p.row.peakRssMb)} |`,
      );
    L.push('');
  }
  if (r.errors.length || r.skipped.length) {
    L.push('## Not run or failed', '');
    for (const s of r.skipped)
      L.push(`- ${s}: not run${s.includes('(') ? '' : ' (not selected with --only)'}`);
    for (const e of r.errors)
      L.push(`- **${e.step}** failed: \`${e.message.replace(/\s+/g, ' ').slice(0, 400)}\``);
    L.push('');
  }
  L.push(
    '## Rerun',
    '',
    '```sh',
    'npm run bench             # this report (full)',
    'npm run bench -- --quick  # under a minute: bench/.corpus/RESULTS-quick.md',
    '```',
    '',
    'See bench/README.md for what each benchmark measures.',
    '',
  );
  return L.join('\n');
}

function chart(r: Results): string {
  const sizePoints = r.sizes.map((s) => ({
    x: s.inflatedBytes,
    y: s.recordsPerSec,
    streaming: s.streaming,
  }));
  for (const b of r.big.slice(0, 1)) {
    const y = median(r.big.map((x) => x.recordsPerSec));
    sizePoints.push({ x: b.inflatedBytes, y, streaming: b.streaming });
  }
  const whole = sizePoints.filter((p) => !p.streaming);
  const streamed = sizePoints.filter((p) => p.streaming);
  const panels: Panel[] = [
    {
      title: 'Throughput vs file size (parseLogFile, 1 thread)',
      xLabel: 'inflated file size (log scale)',
      yLabel: 'records/s',
      xLog: true,
      xFormat: bytesFormat,
      series: [
        {
          name: 'whole-file path',
          color: '#1f77b4',
          points: whole,
        },
        {
          name: 'streaming path',
          color: '#d62728',
          points: streamed,
        },
      ],
      refs: [
        { y: TARGET.bigRecordsPerSec, label: 'target for a 300 MB file: 150k', color: '#888' },
      ],
    },
    {
      title: 'Throughput vs principals (parse + LMDB commit)',
      xLabel: 'principals in the organization (log scale)',
      yLabel: 'records/s',
      xLog: true,
      series: [
        {
          name: 'end to end, 1 thread',
          color: '#2ca02c',
          points: r.principals.map((p) => ({ x: p.principals, y: p.row.recordsPerSec })),
        },
      ],
      refs: [{ y: TARGET.singleRecordsPerSec, label: 'target: 200k records/s', color: '#888' }],
    },
  ];
  return chartSvg(
    panels,
    `trailmint ${r.config.mode} bench, ${r.started.toISOString().slice(0, 10)}, ${r.machine.cpuModel}, ${r.machine.cores} cores, Node ${r.machine.node}`,
  );
}

await main();
