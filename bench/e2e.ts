// End-to-end benchmarks, each in its own child process (run.ts spawns them):
//
//   single  parseLogFile + LMDB commits in one thread: .gz bytes in memory → committed state;
//           with --state, also the store's size on disk per principal-day
//   pool    the real ParserPool (piscina, workers/task.ts) with --threads N: parse only, or
//           --mode ingest: the real ingestObjects() with LMDB commits on the main thread
//   file    one file through parseLogFile, once per process, for its peak RSS (the 300 MB file)
//   sizes   parseLogFile on files of growing size (the throughput-vs-size chart)
//
//   node --expose-gc bench/e2e.ts single --corpus DIR [--runs 5] [--state] [--root CHECKOUT]
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { open } from 'lmdb';
import { loadCatalog } from '../src/catalog/catalog.ts';
import { decodeIds } from '../src/state/idset.ts';
import { BINARY_TABLES, TABLES } from '../src/state/kv.ts';
import { unpackDay } from '../src/state/kvstore.ts';
import { openStore } from '../src/state/open.ts';
import type { CommitEntry, Store } from '../src/state/store.ts';
import { corpusFiles, readManifest, type FileInfo } from './corpus.ts';
import { ROOT, emit, flags, median, settle, peakRssMb, row, rssMb, timeRuns } from './lib.ts';

interface Args {
  corpus: string;
  runs: number;
  threads: number;
  mode: string;
  file: string;
  state: boolean;
  files: number;
  /** checkout whose engine `single` runs (default: this one) */
  root: string;
  /** file: the reference streaming path (no WebAssembly stream) */
  reference: boolean;
}

function loadCorpus(
  dir: string,
  limit = Infinity,
): { files: FileInfo[]; gz: Buffer[]; records: number; inflated: number } {
  const m = readManifest(dir);
  if (!m) throw new Error(`no corpus at ${dir} (run bench/corpus.ts first)`);
  const files = corpusFiles(dir, m, 'regular').slice(0, limit);
  return {
    files,
    gz: files.map((f) => readFileSync(f.path)),
    records: files.reduce((s, f) => s + f.records, 0),
    inflated: files.reduce((s, f) => s + f.inflatedBytes, 0),
  };
}

const COMMIT_BATCH_FILES = 64; // what `trailmint ingest` uses

// ---------------------------------------------------------------------------------------------

async function single(args: Args): Promise<unknown> {
  // --root runs another checkout's engine (run.ts --base REF) against the same corpus.
  const from = (rel: string): string => pathToFileURL(path.join(args.root, rel)).href;
  const { parseLogFile, DEFAULT_PARSE_OPTIONS } = (await import(
    from('workers/parse.ts')
  )) as typeof import('../workers/parse.ts');
  const { openStore } = (await import(
    from('src/state/open.ts')
  )) as typeof import('../src/state/open.ts');
  const { loadCatalog } = (await import(
    from('src/catalog/catalog.ts')
  )) as typeof import('../src/catalog/catalog.ts');
  const catalog = loadCatalog();
  const c = loadCorpus(args.corpus, args.files);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'trailmint-bench-e2e-'));
  let store: Store | undefined;
  let dir = '';
  let parseMs = 0;
  let commitMs = 0;
  let cpuMs = 0;
  const setup = rssMb();
  let failed = 0;
  try {
    const seconds = await timeRuns(
      args.runs,
      async () => {
        const cpu0 = process.cpuUsage();
        let pending: CommitEntry[] = [];
        for (let i = 0; i < c.gz.length; i++) {
          const t0 = performance.now();
          const r = await parseLogFile(c.gz[i], catalog, DEFAULT_PARSE_OPTIONS);
          parseMs += performance.now() - t0;
          if (!r.ok) {
            failed++;
            continue;
          }
          pending.push({
            object: { key: 'file:' + c.files[i].path, tag: 'bench' },
            delta: r.delta,
          });
          if (pending.length >= COMMIT_BATCH_FILES || i === c.gz.length - 1) {
            const t1 = performance.now();
            await store!.commit(pending);
            commitMs += performance.now() - t1;
            pending = [];
          }
        }
        const cpu = process.cpuUsage(cpu0);
        cpuMs = (cpu.user + cpu.system) / 1000;
      },
      {
        before: async (run) => {
          if (store) await store.close();
          if (dir) rmSync(dir, { recursive: true, force: true });
          dir = path.join(tmp, `run${run + 1}`);
          store = await openStore(dir, { catalog });
          parseMs = commitMs = 0;
        },
      },
    );
    // parseMs / commitMs / cpuMs hold the last run's split (every run does the same work).
    const wall = parseMs + commitMs;
    const r = row(
      'end-to-end',
      'parseLogFile + LMDB commit, one thread',
      { records: c.records, bytes: c.inflated },
      seconds,
      setup,
      {
        files: c.files.length,
        parseShare: +(parseMs / wall).toFixed(3),
        commitShare: +(commitMs / wall).toFixed(3),
        cpuPerWall: +(cpuMs / 1000 / seconds[seconds.length - 1]).toFixed(2),
        failedFiles: failed / (args.runs + 1),
      },
    );
    await store!.close();
    store = undefined;
    const state = args.state ? stateSize(dir) : undefined;
    return { rows: [r], state };
  } finally {
    if (store) await store.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

export interface StateSize {
  /** apparent size of data.mdb (what `du --apparent-size` shows) */
  dataMdbBytes: number;
  /** blocks actually allocated (what `du` shows) */
  allocatedBytes: number;
  /** B-tree pages in use per table, × page size */
  tables: Record<string, { entries: number; bytes: number }>;
  principalDays: number;
  /** principal-days with at most 50 used actions */
  typicalPrincipalDays: number;
  principals: number;
  /** logical bytes of the stored day-set values */
  dayValueBytes: number;
  typicalDayValueBytes: number;
  typicalDayActions: number;
}

/** The LMDB store directory's size, per table, and the logical size of its day sets. */
export function stateSize(dir: string): StateSize {
  const file = path.join(dir, 'data.mdb');
  const st = statSync(file);
  const root = open({ path: dir, readOnly: true, maxDbs: TABLES.length + 2 });
  try {
    const tables: StateSize['tables'] = {};
    const days = { n: 0, typical: 0, bytes: 0, typicalBytes: 0, typicalActions: 0 };
    for (const t of TABLES) {
      const db = root.openDB({ name: t, encoding: BINARY_TABLES.has(t) ? 'binary' : 'msgpack' });
      const s = db.getStats() as {
        pageSize: number;
        treeBranchPageCount: number;
        treeLeafPageCount: number;
        overflowPages: number;
        entryCount: number;
      };
      tables[t] = {
        entries: s.entryCount,
        bytes: (s.treeBranchPageCount + s.treeLeafPageCount + s.overflowPages) * s.pageSize,
      };
      if (t === 'days') {
        for (const { value } of db.getRange({})) {
          const v = value as Uint8Array;
          const used = decodeIds(unpackDay(v)[0]).length;
          days.n++;
          days.bytes += v.length;
          if (used <= 50) {
            days.typical++;
            days.typicalBytes += v.length;
            days.typicalActions += used;
          }
        }
      }
    }
    const principals = tables.principals?.entries ?? 0;
    return {
      dataMdbBytes: st.size,
      allocatedBytes: st.blocks * 512,
      tables,
      principalDays: days.n,
      typicalPrincipalDays: days.typical,
      principals,
      dayValueBytes: days.bytes,
      typicalDayValueBytes: days.typicalBytes,
      typicalDayActions: days.typicalActions,
    };
  } finally {
    void root.close();
  }
}

// ---------------------------------------------------------------------------------------------

async function pool(args: Args): Promise<unknown> {
  const { ParserPool } = await import('../src/pool.ts');
  const { DEFAULT_PARSE_OPTIONS } = await import('../workers/parse.ts');
  const { ingestObjects } = await import('../src/ingest.ts');
  const catalog = loadCatalog();
  const c = loadCorpus(args.corpus, args.files);
  const threads = args.threads;
  const p = new ParserPool({ threads }, DEFAULT_PARSE_OPTIONS);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'trailmint-bench-pool-'));
  // Buffers are moved to the workers (detached here), so each run gets fresh owned copies.
  let copies: Uint8Array[] = [];
  const fresh = (): void => {
    copies = c.gz.map((b) => new Uint8Array(b));
  };
  let store: Store | undefined;
  try {
    // Start every worker and load its catalog before timing.
    fresh();
    await Promise.all(copies.slice(0, threads * 2).map((b) => p.parse(b)));
    const setup = rssMb();
    let seconds: number[];
    let variant: string;
    if (args.mode === 'ingest') {
      variant = `ingestObjects (ParserPool + LMDB commits), ${threads} worker${threads > 1 ? 's' : ''}`;
      let n = 0;
      seconds = await timeRuns(
        args.runs,
        async () => {
          const objects = copies.map((bytes, i) => ({
            ref: { key: 'file:' + c.files[i].path, tag: 'bench' },
            name: c.files[i].path,
            size: bytes.length,
            read: () => Promise.resolve(bytes),
          }));
          const s = await ingestObjects(objects, store!, p, {
            inFlightObjects: threads * 2,
            commitBatchFiles: COMMIT_BATCH_FILES,
          });
          if (s.files.failed)
            throw new Error(`${s.files.failed} files failed: ${JSON.stringify(s.errors[0])}`);
        },
        {
          before: async () => {
            fresh();
            if (store) await store.close();
            store = await openStore(path.join(tmp, `s${n++}`), { catalog });
          },
        },
      );
    } else {
      variant = `ParserPool.parse, ${threads} worker${threads > 1 ? 's' : ''} (no store)`;
      seconds = await timeRuns(
        args.runs,
        async () => {
          let next = 0;
          const lane = async (): Promise<void> => {
            while (next < copies.length) {
              const r = await p.parse(copies[next++]);
              if (!r.ok) throw new Error(`parse failed: ${r.error.code}`);
            }
          };
          await Promise.all(Array.from({ length: threads * 2 }, lane));
        },
        { before: fresh },
      );
    }
    return {
      rows: [
        row('workers', variant, { records: c.records, bytes: c.inflated }, seconds, setup, {
          threads,
          files: c.files.length,
        }),
      ],
    };
  } finally {
    if (store) await store.close();
    await p.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------

async function file(args: Args): Promise<unknown> {
  const { parseLogFile, DEFAULT_PARSE_OPTIONS } = await import('../workers/parse.ts');
  const catalog = loadCatalog();
  const bytes = readFileSync(args.file);
  await settle();
  const setup = rssMb();
  const t0 = performance.now();
  // --reference: the streaming path without the WebAssembly stream (RecordSplitter + JSON.parse)
  const opts = args.reference ? { ...DEFAULT_PARSE_OPTIONS, wasm: false } : DEFAULT_PARSE_OPTIONS;
  const r = await parseLogFile(bytes, catalog, opts);
  const seconds = (performance.now() - t0) / 1000;
  if (!r.ok) throw new Error(`${args.file}: ${r.error.code} ${r.error.message}`);
  const s = r.delta.stats;
  return {
    reference: args.reference,
    records: s.records,
    inflatedBytes: s.bytesInflated,
    compressedBytes: s.bytesCompressed,
    seconds,
    recordsPerSec: s.records / seconds,
    mbPerSec: s.bytesInflated / 1e6 / seconds,
    peakRssMb: peakRssMb(),
    setupRssMb: setup,
    streaming: s.bytesInflated > DEFAULT_PARSE_OPTIONS.wholeFileMaxBytes,
  };
}

async function sizes(args: Args): Promise<unknown> {
  const { parseLogFile, DEFAULT_PARSE_OPTIONS } = await import('../workers/parse.ts');
  const catalog = loadCatalog();
  const m = readManifest(args.corpus);
  if (!m) throw new Error(`no corpus at ${args.corpus}`);
  const out: {
    inflatedBytes: number;
    records: number;
    recordsPerSec: number;
    mbPerSec: number;
    msPerFile: number;
    streaming: boolean;
    iterations: number;
    /** the same file through the other path (files of 1 MB to 64 MiB): what the threshold weighs */
    otherRecordsPerSec?: number;
  }[] = [];
  // Warm the JIT on a mid-size file so the smallest files are not measured cold.
  const files = corpusFiles(args.corpus, m, 'all');
  const warm = readFileSync(files[Math.min(files.length - 1, 2)].path);
  for (let i = 0; i < 3; i++) await parseLogFile(warm, catalog, DEFAULT_PARSE_OPTIONS);
  for (const f of files) {
    const bytes = readFileSync(f.path);
    // Untimed first passes over this file (JIT and caches see its records first).
    for (let i = 0, n = f.inflatedBytes > 20e6 ? 0 : 3; i < n; i++)
      await parseLogFile(bytes, catalog, DEFAULT_PARSE_OPTIONS);
    await settle();
    const timed = async (opts: typeof DEFAULT_PARSE_OPTIONS): Promise<number[]> => {
      const perRun: number[] = [];
      let total = 0;
      // Small files repeat until about a second has passed; big ones run twice.
      while (perRun.length < 3 || (total < 1 && perRun.length < 10_000)) {
        const t0 = performance.now();
        const r = await parseLogFile(bytes, catalog, opts);
        const s = (performance.now() - t0) / 1000;
        if (!r.ok) throw new Error(`${f.path}: ${r.error.code}`);
        perRun.push(s);
        total += s;
        if (f.inflatedBytes > 32e6 && perRun.length >= 2) break;
      }
      return perRun;
    };
    const perRun = await timed(DEFAULT_PARSE_OPTIONS);
    const sec = median(perRun);
    const streaming = f.inflatedBytes > DEFAULT_PARSE_OPTIONS.wholeFileMaxBytes;
    let otherRecordsPerSec: number | undefined;
    if (f.inflatedBytes >= 1e6 && f.inflatedBytes <= 64 * 2 ** 20) {
      await settle();
      const other = { ...DEFAULT_PARSE_OPTIONS, wholeFileMaxBytes: streaming ? 64 * 2 ** 20 : 1 };
      otherRecordsPerSec = f.records / median(await timed(other));
    }
    out.push({
      inflatedBytes: f.inflatedBytes,
      records: f.records,
      recordsPerSec: f.records / sec,
      mbPerSec: f.inflatedBytes / 1e6 / sec,
      msPerFile: sec * 1000,
      streaming,
      iterations: perRun.length,
      otherRecordsPerSec,
    });
  }
  return { sizes: out, peakRssMb: peakRssMb() };
}

// ---------------------------------------------------------------------------------------------

const E2E: Record<string, (args: Args) => Promise<unknown>> = { single, pool, file, sizes };

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [name, ...rest] = process.argv.slice(2);
  const f = flags(rest);
  const bench = E2E[name];
  if (!bench) {
    console.error(
      `usage: node --expose-gc bench/e2e.ts <${Object.keys(E2E).join('|')}> --corpus DIR [--runs N] [--threads N] [--mode parse|ingest] [--file F] [--state]`,
    );
    process.exit(2);
  }
  const result = await bench({
    corpus: path.resolve(f.get('corpus') ?? ''),
    runs: Number(f.get('runs') ?? 5),
    threads: Number(f.get('threads') ?? 1),
    mode: f.get('mode') ?? 'parse',
    file: path.resolve(f.get('file') ?? ''),
    state: f.has('state'),
    reference: f.has('reference'),
    files: Number(f.get('files') ?? Infinity),
    root: path.resolve(f.get('root') ?? ROOT),
  });
  emit(result);
}
