// Micro-benchmarks, one hot module at a time. Each runs in its own child process (run.ts spawns
// `node --expose-gc bench/micro.ts <name> …`) so that its peak RSS is its own; inputs are
// prepared before the timed part and every figure is the median of several runs.
//
//   node --expose-gc bench/micro.ts inflate --corpus DIR [--runs 5] [--files 60] [--quick]
//   names: inflate parse accumulate scanacc idset materialize
import { isAscii, isUtf8 } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { gunzipSync as fflateGunzip } from 'fflate';
import chain from 'stream-chain';
import parser from 'stream-json';
import pick from 'stream-json/filters/pick.js';
import streamArray from 'stream-json/streamers/stream-array.js';
import { loadCatalog } from '../src/catalog/catalog.ts';
import { decodeIds, encodeIds, orInto, unionEncoded } from '../src/state/idset.ts';
import { emptyStats, type ActionUse, type DaySet, type FileDelta } from '../src/state/delta.ts';
import { openStore } from '../src/state/open.ts';
import type { Store } from '../src/state/store.ts';
import { DEFAULT_PARSE_OPTIONS, gzipSizeHint, inflateChunk } from '../workers/parse.ts';
import { hasControlBytes, Scanner } from '../workers/scan.ts';
import { RecordSplitter } from '../workers/split.ts';
import { wasmInflate, wasmScanDocument } from '../workers/wasm.ts';
import { corpusFiles, readManifest, type FileInfo } from './corpus.ts';
import {
  Rng,
  emit,
  flags,
  settle,
  percentile,
  median,
  row,
  rssMb,
  timeRuns,
  type Row,
} from './lib.ts';

export interface MicroArgs {
  corpus: string;
  runs: number;
  /** regular files of the corpus to use (the first N) */
  files: number;
  /** calls per materialize run */
  calls: number;
  /** smaller inputs (run.ts --quick) */
  quick: boolean;
}

interface Loaded {
  files: FileInfo[];
  gz: Buffer[];
  records: number;
  compressed: number;
  inflated: number;
}

function load(args: MicroArgs): Loaded {
  const m = readManifest(args.corpus);
  if (!m) throw new Error(`no corpus at ${args.corpus} (run bench/corpus.ts first)`);
  const files = corpusFiles(args.corpus, m, 'regular').slice(0, args.files);
  const gz = files.map((f) => readFileSync(f.path));
  return {
    files,
    gz,
    records: files.reduce((s, f) => s + f.records, 0),
    compressed: gz.reduce((s, b) => s + b.length, 0),
    inflated: files.reduce((s, f) => s + f.inflatedBytes, 0),
  };
}

const CHUNK = 256 * 1024; // what the streaming path gets from createGunzip({ chunkSize })

// ---------------------------------------------------------------------------------------------

async function inflate(args: MicroArgs): Promise<Row[]> {
  const l = load(args);
  const work = { records: l.records, bytes: l.inflated };
  const setup = rssMb();
  const zlib = await timeRuns(args.runs, () => {
    for (const b of l.gz) gunzipSync(b);
  });
  const zlibRow = row(
    'inflate',
    'node:zlib gunzipSync, 16 KB output chunks (default)',
    work,
    zlib,
    setup,
    {
      compressedMB: l.compressed / 1e6,
    },
  );
  const max = DEFAULT_PARSE_OPTIONS.wholeFileMaxBytes;
  const one = await timeRuns(args.runs, () => {
    for (const b of l.gz) gunzipSync(b, { maxOutputLength: max, chunkSize: inflateChunk(b, max) });
  });
  const oneRow = row(
    'inflate',
    'node:zlib gunzipSync, one output chunk (parse.ts when the trailer lies)',
    work,
    one,
    setup,
    {
      compressedMB: l.compressed / 1e6,
    },
  );
  const into = await timeRuns(args.runs, () => {
    for (const b of l.gz) {
      if (wasmInflate(b, gzipSizeHint(b)) === undefined) throw new Error('wasmInflate declined');
    }
  });
  const intoRow = row(
    'inflate',
    "node:zlib into the WebAssembly scanner's memory (wasmInflate, parse.ts)",
    work,
    into,
    setup,
    { compressedMB: l.compressed / 1e6 },
  );
  const ff = await timeRuns(args.runs, () => {
    for (const b of l.gz) fflateGunzip(b);
  });
  const ffRow = row('inflate', 'fflate gunzipSync', work, ff, setup, {
    compressedMB: l.compressed / 1e6,
  });
  return [intoRow, oneRow, zlibRow, ffRow];
}

async function parse(args: MicroArgs): Promise<Row[]> {
  const l = load(args);
  const text = l.gz.map((b) => gunzipSync(b));
  l.gz.length = 0;
  const work = { records: l.records, bytes: l.inflated };
  const setup = rssMb();
  const rows: Row[] = [];
  const decoder = new TextDecoder('utf-8', { fatal: true });

  let n = 0;
  const count = (doc: unknown): void => {
    n += (doc as { Records: unknown[] }).Records.length;
  };
  rows.push(
    row(
      'parse',
      'TextDecoder(fatal) + JSON.parse, whole file (parse.ts before the WebAssembly scanner)',
      work,
      await timeRuns(args.runs, () => {
        for (const b of text) count(JSON.parse(decoder.decode(b)));
      }),
      setup,
    ),
  );
  rows.push(
    row(
      'parse',
      'Buffer.toString + JSON.parse, whole file',
      work,
      await timeRuns(args.runs, () => {
        for (const b of text) count(JSON.parse(b.toString('utf8')));
      }),
      setup,
    ),
  );
  // The JS scanner's text, as parse.ts makes it: latin1 for ASCII, else a UTF-8 decode.
  const docText = (b: Buffer): string => (isAscii(b) ? b.toString('latin1') : decoder.decode(b));
  const counted = (r: unknown): void => {
    if (r !== undefined) n++;
  };
  rows.push(
    row(
      'parse',
      'WebAssembly scanner (workers/wasm.ts, parse.ts today): bytes copied in, scanned, records filled from latin1 strings of 64 KB windows (isUtf8 first when not ASCII), whole file',
      work,
      await timeRuns(args.runs, () => {
        for (const b of text) {
          if (!isAscii(b) && !isUtf8(b)) throw new Error('a corpus file is not UTF-8');
          if (!wasmScanDocument(b, counted))
            throw new Error('the WebAssembly scanner refused a corpus file');
        }
      }),
      setup,
    ),
  );
  rows.push(
    row(
      'parse',
      'JS scanner (workers/scan.ts), whole file, records filled',
      work,
      await timeRuns(args.runs, () => {
        for (const b of text) {
          const sc = new Scanner();
          if (!sc.init(docText(b), hasControlBytes(b)) || !sc.document(counted))
            throw new Error('the JS scanner refused a corpus file');
        }
      }),
      setup,
    ),
  );
  rows.push(
    row(
      'parse',
      'RecordSplitter + JSON.parse per record (256 KB chunks)',
      work,
      await timeRuns(args.runs, () => {
        for (const b of text) {
          const s = new RecordSplitter((json) => void JSON.parse(json));
          for (let i = 0; i < b.length; i += CHUNK) s.push(b.subarray(i, i + CHUNK));
          s.end();
        }
      }),
      setup,
    ),
  );
  rows.push(
    row(
      'parse',
      'RecordSplitter alone (split + decode, no JSON.parse)',
      work,
      await timeRuns(args.runs, () => {
        for (const b of text) {
          const s = new RecordSplitter(() => {});
          for (let i = 0; i < b.length; i += CHUNK) s.push(b.subarray(i, i + CHUNK));
          s.end();
        }
      }),
      setup,
    ),
  );
  // stream-json is 10–20× slower: a subset of the files keeps the run short; rates stay per byte.
  let subBytes = 0;
  let subRecords = 0;
  const sub: Buffer[] = [];
  for (let i = 0; i < text.length && subBytes < (args.quick ? 2e6 : 8e6); i++) {
    sub.push(text[i]);
    subBytes += text[i].length;
    subRecords += l.files[i].records;
  }
  const sj = await timeRuns(Math.min(args.runs, 3), async () => {
    for (const b of sub) {
      const c = chain([parser(), pick({ filter: 'Records' }), streamArray()]);
      c.on('data', () => {});
      const done = new Promise((resolve, reject) => {
        c.on('end', resolve);
        c.on('error', reject);
      });
      for (let i = 0; i < b.length; i += CHUNK) {
        if (!c.write(b.subarray(i, i + CHUNK))) await new Promise((r) => c.once('drain', r));
      }
      c.end();
      await done;
    }
  });
  rows.push(
    row(
      'parse',
      `stream-json parser + pick + streamArray (first ${sub.length} files)`,
      { records: subRecords, bytes: subBytes },
      sj,
      setup,
    ),
  );
  void n;
  return rows;
}

async function accumulate(args: MicroArgs): Promise<Row[]> {
  const l = load(args);
  const docs = l.gz.map(
    (b) => (JSON.parse(gunzipSync(b).toString('utf8')) as { Records: unknown[] }).Records,
  );
  l.gz.length = 0;
  const catalog = loadCatalog();
  // Imported here: these modules are written by others and may be missing while this is built.
  const { Accumulator } = await import('../workers/accumulate.ts');
  const work = { records: l.records, bytes: l.inflated };
  const setup = rssMb();
  const rows: Row[] = [];
  rows.push(
    row(
      'map+accumulate',
      'Accumulator.add over parsed records + finish()',
      work,
      await timeRuns(args.runs, () => {
        for (const records of docs) {
          const acc = new Accumulator(catalog);
          for (let i = 0; i < records.length; i++) acc.add(records[i]);
          acc.finish();
        }
      }),
      setup,
    ),
  );

  // The same work function by function, to see where a record's time goes.
  const { createMapper } = await import('../src/catalog/mapping.ts');
  const { principalOf } = await import('../src/catalog/principal.ts');
  const { outcomeOf } = await import('../src/catalog/outcome.ts');
  const { resourcesOf } = await import('../src/catalog/resources.ts');
  const { passRolesOf } = await import('../src/catalog/passrole.ts');
  const mapEvent = createMapper(catalog);
  const all = docs.flat() as Record<string, unknown>[];
  const api = all.filter(
    (r) => typeof r.eventSource === 'string' && typeof r.eventName === 'string',
  );
  const firstAction = api.map((r) => mapEvent(r.eventSource as string, r.eventName as string)[0]);
  const part = async (variant: string, fn: () => void): Promise<void> => {
    rows.push(
      row(
        'map+accumulate',
        variant,
        { records: api.length, bytes: 0 },
        await timeRuns(args.runs, fn),
        setup,
      ),
    );
  };
  let sink = 0;
  await part('  principalOf(userIdentity)', () => {
    for (const r of api) sink += principalOf(r.userIdentity).arn?.length ?? 0;
  });
  // Accumulator shares one mapper (and its memo) per catalog across the files of a thread.
  await part('  mapEvent(source, name), one warm mapper', () => {
    for (const r of api) sink += mapEvent(r.eventSource as string, r.eventName as string).length;
  });
  await part('  outcomeOf(errorCode, errorMessage)', () => {
    for (const r of api) sink += outcomeOf(r.errorCode, r.errorMessage).length;
  });
  await part('  resourcesOf(record, action)', () => {
    for (let i = 0; i < api.length; i++) {
      if (firstAction[i] !== undefined) sink += resourcesOf(api[i], firstAction[i], catalog).length;
    }
  });
  await part('  passRolesOf(record)', () => {
    for (const r of api) sink += passRolesOf(r).length;
  });
  const seen = new Set<string>();
  await part('  eventID dedup (Set<string>)', () => {
    seen.clear();
    for (const r of api) seen.add(r.eventID as string);
  });
  void sink;
  return rows;
}

/**
 * What parse.ts runs on a whole file: the WebAssembly scanner's records into Accumulator.add
 * (their requestParameters & co. are parsed lazily, inside add), and the scan alone on the same
 * files; the stage table subtracts one from the other. A process of its own: accumulating plain
 * JSON.parse objects first, in the same process, would leave the accumulator's call sites
 * polymorphic, which a worker (that only ever sees scanned records) never is.
 */
async function scanacc(args: MicroArgs): Promise<Row[]> {
  const l = load(args);
  const catalog = loadCatalog();
  const { Accumulator } = await import('../workers/accumulate.ts');
  const work = { records: l.records, bytes: l.inflated };
  const inflated = l.gz.map((b) => gunzipSync(b));
  l.gz.length = 0;
  const setup = rssMb();
  const rows: Row[] = [];
  rows.push(
    row(
      'map+accumulate',
      'WebAssembly scan + Accumulator.add + finish() (parse.ts today, whole file)',
      work,
      await timeRuns(args.runs, () => {
        for (let i = 0; i < inflated.length; i++) {
          const acc = new Accumulator(catalog);
          const b = inflated[i];
          if (!wasmScanDocument(b, (r) => acc.add(r)))
            throw new Error('the WebAssembly scanner refused a corpus file');
          acc.finish();
        }
      }),
      setup,
    ),
  );
  rows.push(
    row(
      'map+accumulate',
      'WebAssembly scan alone (same files)',
      work,
      await timeRuns(args.runs, () => {
        for (let i = 0; i < inflated.length; i++) {
          const b = inflated[i];
          if (!wasmScanDocument(b, () => {}))
            throw new Error('the WebAssembly scanner refused a corpus file');
        }
      }),
      setup,
    ),
  );

  return rows;
}

// ---------------------------------------------------------------------------------------------

function randomSet(rng: Rng, n: number, max: number): number[] {
  const s = new Set<number>();
  while (s.size < Math.min(n, max)) s.add(rng.int(max));
  return [...s].sort((a, b) => a - b);
}

async function idset(args: MicroArgs): Promise<Row[]> {
  const rng = new Rng(42);
  const SETS = args.quick ? 5_000 : 20_000;
  const shapes = [
    { label: 'sparse: 5 of 0..2000 (one day of a principal with a long history)', n: 5, max: 2000 },
    { label: 'small: 12 of 0..80 (a typical principal-day)', n: 12, max: 80 },
    { label: 'dense: 50 of 0..80 (a busy day)', n: 50, max: 80 },
    { label: 'big dense: 400 of 0..500', n: 400, max: 500 },
  ];
  const setup = rssMb();
  const rows: Row[] = [];
  for (const shape of shapes) {
    const a = Array.from({ length: SETS }, () => randomSet(rng, shape.n, shape.max));
    const b = Array.from({ length: SETS }, () => randomSet(rng, shape.n, shape.max));
    const ea = a.map(encodeIds);
    const eb = b.map(encodeIds);
    const bytes = ea.reduce((s, e) => s + e.length, 0) / SETS;
    const sparse = ea.filter((e) => e[0] === 0x01).length / SETS;
    const ops = { records: SETS, bytes: 0 };
    const extra = {
      unit: 'sets/s',
      bytesPerSet: +bytes.toFixed(1),
      sparseShare: +sparse.toFixed(2),
    };
    rows.push(
      row(
        'id-set',
        `encodeIds — ${shape.label}`,
        ops,
        await timeRuns(args.runs, () => a.forEach(encodeIds)),
        setup,
        extra,
      ),
    );
    rows.push(
      row(
        'id-set',
        `decodeIds — ${shape.label}`,
        ops,
        await timeRuns(args.runs, () => ea.forEach(decodeIds)),
        setup,
        extra,
      ),
    );
    rows.push(
      row(
        'id-set',
        `unionEncoded — ${shape.label}`,
        ops,
        await timeRuns(args.runs, () => {
          for (let i = 0; i < SETS; i++) unionEncoded(ea[i], eb[i]);
        }),
        setup,
        extra,
      ),
    );
    rows.push(
      row(
        'id-set',
        `orInto 90-day window — ${shape.label}`,
        { records: Math.floor(SETS / 90) * 90, bytes: 0 },
        await timeRuns(args.runs, () => {
          for (let w = 0; w + 90 <= SETS; w += 90) {
            let bm: Uint32Array = new Uint32Array(4);
            for (let d = 0; d < 90; d++) bm = orInto(bm, ea[w + d]);
          }
        }),
        setup,
        extra,
      ),
    );
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Materialize: policyFor against a store holding one principal with 500 actions over 90 days.

const DAY0 = 20_600; // 2026-05-28
const WINDOW = 90;

function arnFor(format: string, k: number): string {
  return format
    .replace('${Partition}', 'aws')
    .replace('${Region}', 'us-east-1')
    .replace('${Account}', '123456789012')
    .replace(/\$\{[^}]+\}/g, (m) => `${m.slice(2, -1).toLowerCase()}-${k}`);
}

/** Day deltas for one principal: `actions` distinct actions over `days` days, all present. */
function principalDeltas(
  rng: Rng,
  arn: string,
  actions: string[],
  days: number,
  perDay: number,
): FileDelta[] {
  const catalog = loadCatalog();
  const out: FileDelta[] = [];
  for (let d = 0; d < days; d++) {
    const idx = new Set<number>();
    // Every action appears at least once in the window; the rest of each day is Zipf-ish.
    for (let i = d; i < actions.length; i += days) idx.add(i);
    while (idx.size < Math.min(actions.length, perDay))
      idx.add(Math.floor(actions.length * rng.float() ** 2));
    const used = [...idx].sort((a, b) => a - b);
    const t = (DAY0 + d) * 86_400_000 + 3_600_000;
    const uses: ActionUse[] = used.map((a) => {
      const info = catalog.info(actions[a]);
      const fmt = info?.resourceTypes[0]?.arnFormats[0];
      return {
        p: 0,
        a,
        firstSeen: t,
        lastSeen: t + 60_000,
        count: 3,
        deniedCount: 0,
        deniedLast: 0,
        deniedCode: '',
        resources: fmt ? [arnFor(fmt, rng.int(4)), arnFor(fmt, rng.int(4))] : [],
      };
    });
    const denied = d % 7 === 0 ? [used[0]] : [];
    const day: DaySet = { p: 0, day: DAY0 + d, used, denied };
    out.push({
      principals: [arn],
      actions,
      unknownActions: [],
      days: [day],
      uses,
      passRoles:
        d % 30 === 0
          ? [
              {
                p: 0,
                day: DAY0 + d,
                role: arn.replace(/role\/.*/, 'role/app-exec'),
                service: 'lambda.amazonaws.com',
                lastSeen: t,
              },
            ]
          : [],
      unmapped: [],
      stats: emptyStats(),
    });
  }
  return out;
}

const COMMON_SERVICES = new Set(
  (
    'ec2 s3 iam kms sts ssm lambda dynamodb rds logs cloudwatch sns sqs secretsmanager ecr ecs eks ' +
    'cloudformation elasticloadbalancing autoscaling route53 cloudtrail config events apigateway ' +
    'glue athena states elasticache backup'
  ).split(' '),
);

export const BIG_PRINCIPAL = 'arn:aws:iam::123456789012:role/platform-admin';

/** A store with one 500-action principal and `others` typical ones, over a 90-day window. */
export async function materializeStore(url: string, others = 200): Promise<Store> {
  const catalog = loadCatalog();
  const store = await openStore(url, { catalog });
  const rng = new Rng(500);
  // 500 actions of the services a platform role really touches (not spread over all 450).
  const names = catalog.actions();
  const common = names.filter((n) => COMMON_SERVICES.has(n.slice(0, n.indexOf(':'))));
  const chosen = new Set<string>();
  while (chosen.size < 500) chosen.add(common[rng.int(common.length)]);
  const actions = [...chosen].sort();
  const deltas = principalDeltas(rng, BIG_PRINCIPAL, actions, WINDOW, 120);
  for (let i = 0; i < others; i++) {
    const own = Array.from({ length: 30 }, () => names[rng.int(names.length)]).filter(
      (v, j, a) => a.indexOf(v) === j,
    );
    const ds = principalDeltas(rng, `arn:aws:iam::123456789012:role/app-${i}`, own, WINDOW, 10);
    ds.forEach((d, j) => mergeInto(deltas, j, d));
  }
  let n = 0;
  for (const delta of deltas)
    await store.commit([{ object: { key: `day-${n++}`, tag: '1' }, delta }]);
  return store;
}

/** Appends another principal's delta to deltas[j] (shifting its indexes). */
function mergeInto(deltas: FileDelta[], j: number, d: FileDelta): void {
  const into = deltas[j];
  const p = into.principals.length;
  const a0 = into.actions.length;
  into.principals = [...into.principals, ...d.principals];
  into.actions = [...into.actions, ...d.actions];
  into.days.push(
    ...d.days.map((x) => ({
      ...x,
      p: p + x.p,
      used: x.used.map((a) => a + a0),
      denied: x.denied.map((a) => a + a0),
    })),
  );
  into.uses.push(...d.uses.map((u) => ({ ...u, p: p + u.p, a: u.a + a0 })));
}

async function materialize(args: MicroArgs): Promise<Row[]> {
  const catalog = loadCatalog();
  const { policyFor } = await import('../src/policy/query.ts');
  const { materialize: pure } = await import('../src/policy/materialize.ts');
  const window = { fromDay: DAY0, toDay: DAY0 + WINDOW - 1 };
  const rows: Row[] = [];
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'trailmint-bench-mat-'));
  try {
    for (const backend of args.quick ? ['memory:'] : ['memory:', path.join(tmp, 'lmdb')]) {
      const store = await materializeStore(backend, args.quick ? 50 : 200);
      const label = backend === 'memory:' ? 'memory store' : 'LMDB store';
      const setup = rssMb();
      const first = await policyFor(store, catalog, BIG_PRINCIPAL, window, { placeholders: false });
      if (!first || first.actions.length < 500)
        throw new Error(`expected 500 actions, got ${first?.actions.length}`);
      const latencies = async (fn: () => Promise<unknown>): Promise<number[]> => {
        for (let i = 0; i < (args.quick ? 20 : 50); i++) await fn(); // warm up
        await settle();
        const ms: number[] = [];
        for (let i = 0; i < args.calls; i++) {
          const t0 = performance.now();
          await fn();
          ms.push(performance.now() - t0);
        }
        return ms;
      };
      const add = (variant: string, ms: number[]): void => {
        const r = row(
          'materialize',
          `${variant} (${label})`,
          { records: 1, bytes: 0 },
          ms.map((x) => x / 1000),
          setup,
          {
            unit: 'calls',
            p50ms: +median(ms).toFixed(3),
            p99ms: +percentile(ms, 99).toFixed(3),
            maxms: +Math.max(...ms).toFixed(3),
            actions: first.actions.length,
            statements: first.policies.reduce((s, p) => s + p.Statement.length, 0),
            documents: first.policies.length,
          },
        );
        rows.push(r);
      };
      add(
        'policyFor, 500 actions, 90-day window',
        await latencies(() =>
          policyFor(store, catalog, BIG_PRINCIPAL, window, { placeholders: false }),
        ),
      );
      add(
        'policyFor --placeholders',
        await latencies(() =>
          policyFor(store, catalog, BIG_PRINCIPAL, window, { placeholders: true }),
        ),
      );
      add(
        '  store.windowActions (OR 90 day sets)',
        await latencies(() => store.windowActions(BIG_PRINCIPAL, window.fromDay, window.toDay)),
      );
      const ids = (await store.windowActions(BIG_PRINCIPAL, window.fromDay, window.toDay)).used;
      add(
        '  store.actionDetails (500 use records)',
        await latencies(() => store.actionDetails(BIG_PRINCIPAL, ids)),
      );
      const names = await store.actionNames();
      const details = await store.actionDetails(BIG_PRINCIPAL, ids);
      const resources = new Map(
        details.filter((d) => d.resources.length).map((d) => [names[d.action], d.resources]),
      );
      const input = {
        principal: BIG_PRINCIPAL,
        from: first.from,
        to: first.to,
        used: Array.from(ids, (id) => names[id]),
        denied: [],
        resources,
        passRoles: [],
        placeholders: false,
      };
      add(
        '  materialize() alone (pure: group, resources, split)',
        await latencies(() => Promise.resolve(pure(input, catalog))),
      );
      await store.close();
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------

export const MICRO: Record<string, (args: MicroArgs) => Promise<Row[]>> = {
  inflate,
  parse,
  accumulate,
  scanacc,
  idset,
  materialize,
};

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [name, ...rest] = process.argv.slice(2);
  const f = flags(rest);
  const bench = MICRO[name];
  if (!bench) {
    console.error(
      `usage: node --expose-gc bench/micro.ts <${Object.keys(MICRO).join('|')}> --corpus DIR [--runs N] [--files N]`,
    );
    process.exit(2);
  }
  const rows = await bench({
    corpus: path.resolve(f.get('corpus') ?? ''),
    runs: Number(f.get('runs') ?? 5),
    files: Number(f.get('files') ?? 1e9),
    calls: Number(f.get('calls') ?? 2000),
    quick: f.has('quick'),
  });
  emit(rows);
}
