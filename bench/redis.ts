// Redis store benchmark: the day-set encodings side by side, then the store itself.
//
//   node bench/redis.ts [--principals 1000] [--days 90] [--deliveries 4] [--runs 3]
//                       [--files 2000] [--redis redis://127.0.0.1:6379] [--json]
//                       [--only encodings|store]
//
// 1. Encodings (what src/state/redis.ts chose from): the same principal-day merges applied to
//    - bitmap/day-key   one string per principal-day, SETBIT per principal-local id
//    - intset/day-key   one set per principal-day, SADD (intset encoding)
//    - idset/day-key    one string per principal-day, idset.ts bytes merged by Lua
//    - idset/32-day     one hash per principal per 32 days, field = day, idset bytes, Lua (chosen)
//    - bitmap/32-day    the same hash with plain bitmaps, OR in Lua
//    each with EXPIREAT, pipelined in batches of 500 merges (one script call per batch for Lua).
//    Reported: bytes per principal-day by MEMORY USAGE (key + value, SAMPLES 0) and by the
//    server's used_memory delta (adds the expires dict and allocator slack), merges/s (median
//    run), and 90-day window reads/s (one principal at a time, decode included).
// 2. Store: RedisStore.commit of generated FileDeltas (20 principals per file, uses with
//    resources), 64 files per commit like the consumer, by 1 and by 2 replica processes at
//    once (same files split between them); files/s, and all bytes under the prefix per
//    principal-day.
//
// Every key lives under a fresh `trailmint-bench:<pid>:` prefix, removed afterwards. The data is
// seeded: principals use 10–600 actions (Zipf over them), ~80% are active on a day, a day's set
// arrives split over `deliveries` files. Setup (data generation, store open) is untimed.
import { Redis } from 'ioredis';
import { loadCatalog } from '../src/catalog/catalog.ts';
import { emptyStats, MS_PER_DAY, type FileDelta } from '../src/state/delta.ts';
import { orInto } from '../src/state/idset.ts';
import { parseRedisUrl, RedisStore, LUA_IDSET } from '../src/state/redis.ts';
import type { CommitEntry } from '../src/state/store.ts';
import { emit, flags, median, Rng, runChild, WeightedSampler, zipfWeights } from './lib.ts';

const args = flags(process.argv.slice(2));
const URL = args.get('redis') ?? 'redis://127.0.0.1:6379';
const PRINCIPALS = Number(args.get('principals') ?? 1000);
const DAYS = Number(args.get('days') ?? 90);
const DELIVERIES = Number(args.get('deliveries') ?? 4);
const RUNS = Number(args.get('runs') ?? 3);
const FILES = Number(args.get('files') ?? 2000);
const BATCH = 500;
const RETENTION = 400;
const TODAY = Math.floor(Date.now() / MS_PER_DAY);

interface Merge {
  pid: number;
  day: number;
  ids: number[];
}

type Shape = 'typical' | 'wide';

/**
 * Principal-day sets over principal-local ids, each split over `DELIVERIES` merges. typical:
 * 10–600 actions per principal, Zipf over them, 10–50% of them on a day. wide: admin-like
 * roles with 2,000 actions, 5–15 of them (any) on a day: the sets are sparse.
 */
function workload(seed: string, shape: Shape) {
  const rng = new Rng(seed);
  const merges: Merge[] = [];
  let principalDays = 0;
  const principals = shape === 'typical' ? PRINCIPALS : Math.max(10, Math.round(PRINCIPALS / 10));
  for (let pid = 0; pid < principals; pid++) {
    const r = rng.float();
    const pool =
      shape === 'wide'
        ? 2000
        : r < 0.7
          ? rng.range(10, 40)
          : r < 0.95
            ? rng.range(40, 120)
            : rng.range(200, 600);
    const pick = new WeightedSampler(zipfWeights(pool, shape === 'wide' ? 0 : 0.8));
    for (let d = 0; d < DAYS; d++) {
      if (!rng.chance(0.8)) continue;
      const want =
        shape === 'wide'
          ? rng.range(5, 15)
          : Math.max(1, Math.round(pool * (0.1 + 0.4 * rng.float())));
      const set = new Set<number>();
      for (let t = 0; t < want * 3 && set.size < want; t++) set.add(pick.sample(rng));
      const parts: number[][] = Array.from({ length: DELIVERIES }, () => []);
      for (const id of set) {
        parts[rng.int(DELIVERIES)].push(id);
        for (const p of parts) if (rng.chance(0.3) && p.at(-1) !== id) p.push(id);
      }
      const day = TODAY - DAYS + d;
      for (const p of parts)
        if (p.length) merges.push({ pid, day, ids: [...new Set(p)].sort((a, b) => a - b) });
      principalDays++;
    }
  }
  // files arrive roughly in day order: shuffle within a day
  const byDay = new Map<number, Merge[]>();
  for (const m of merges) byDay.set(m.day, [...(byDay.get(m.day) ?? []), m]);
  const ordered = [...byDay.keys()]
    .sort((a, b) => a - b)
    .flatMap((d) => rng.shuffle(byDay.get(d)!));
  return { merges: ordered, principalDays, principals };
}

// ---------------------------------------------------------------------------------------------
// Encodings

interface Variant {
  name: string;
  /** applies one batch of merges */
  merge(r: Redis, pre: string, batch: Merge[]): Promise<unknown>;
  /** the window [from, to]: the number of distinct ids (decoded) */
  read(r: Redis, pre: string, pid: number, from: number, to: number): Promise<number>;
}

const expireAtDay = (day: number) => (day + 1 + RETENTION) * 86_400;
const dayKey = (pre: string, m: { pid: number; day: number }) => `${pre}{p:${m.pid}}:d:${m.day}`;

const LUA_KEY_IDSET = `${LUA_IDSET}
local ops = cjson.decode(ARGV[1])
for _, op in ipairs(ops) do
  local key = ARGV[2] .. '{p:' .. string.format('%d', op[1]) .. '}:d:' .. string.format('%d', op[2])
  local v, changed = unionIds(redis.call('GET', key) or '', op[3])
  if changed then
    redis.call('SET', key, v)
    redis.call('EXPIREAT', key, string.format('%d', (op[2] + 1 + ${RETENTION}) * 86400))
  end
end
return 1`;

const LUA_HASH_IDSET = `${LUA_IDSET}
local ops = cjson.decode(ARGV[1])
for _, op in ipairs(ops) do
  local b = math.floor(op[2] / 32)
  local key = ARGV[2] .. '{p:' .. string.format('%d', op[1]) .. '}:d:' .. string.format('%d', b)
  local field = string.format('%d', op[2] - b * 32)
  local v, changed = unionIds(redis.call('HGET', key, field) or '', op[3])
  if changed then
    redis.call('HSET', key, field, v)
    redis.call('EXPIREAT', key, string.format('%d', ((b + 1) * 32 + ${RETENTION}) * 86400))
  end
end
return 1`;

const LUA_HASH_BITMAP = `
local ops = cjson.decode(ARGV[1])
for _, op in ipairs(ops) do
  local b = math.floor(op[2] / 32)
  local key = ARGV[2] .. '{p:' .. string.format('%d', op[1]) .. '}:d:' .. string.format('%d', b)
  local field = string.format('%d', op[2] - b * 32)
  local old = redis.call('HGET', key, field) or ''
  local t = { string.byte(old, 1, -1) }
  local changed = false
  for _, id in ipairs(op[3]) do
    local j = math.floor(id / 8) + 1
    for k = #t + 1, j do t[k] = 0 end
    local bit1 = bit.lshift(1, id % 8)
    if bit.band(t[j], bit1) == 0 then
      t[j] = bit.bor(t[j], bit1)
      changed = true
    end
  end
  if changed then
    redis.call('HSET', key, field, string.char(unpack(t)))
    redis.call('EXPIREAT', key, string.format('%d', ((b + 1) * 32 + ${RETENTION}) * 86400))
  end
end
return 1`;

const payload = (batch: Merge[]) => JSON.stringify(batch.map((m) => [m.pid, m.day, m.ids]));

function orBitmapBytes(acc: Uint8Array, b: Buffer): Uint8Array {
  let out = acc;
  if (b.length > out.length) {
    out = new Uint8Array(b.length);
    out.set(acc);
  }
  for (let i = 0; i < b.length; i++) out[i] |= b[i];
  return out;
}

function popcount(bytes: Uint8Array): number {
  let n = 0;
  for (let x of bytes) {
    while (x) {
      x &= x - 1;
      n++;
    }
  }
  return n;
}

function popcount32(words: Uint32Array): number {
  let n = 0;
  for (let x of words) {
    while (x) {
      x &= x - 1;
      n++;
    }
  }
  return n;
}

const dayKeys = (pre: string, pid: number, from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => dayKey(pre, { pid, day: from + i }));

async function bucketReads(r: Redis, pre: string, pid: number, from: number, to: number) {
  const p = r.pipeline();
  const b0 = Math.floor(from / 32);
  const b1 = Math.floor(to / 32);
  for (let b = b0; b <= b1; b++) p.hgetallBuffer(`${pre}{p:${pid}}:d:${b}`);
  const out = (await p.exec()) ?? [];
  const values: Buffer[] = [];
  out.forEach(([, fields], i) => {
    for (const [f, v] of Object.entries(fields as Record<string, Buffer>)) {
      const day = (b0 + i) * 32 + Number(f);
      if (day >= from && day <= to) values.push(v);
    }
  });
  return values;
}

const VARIANTS: Variant[] = [
  {
    name: 'bitmap/day-key',
    async merge(r, pre, batch) {
      const p = r.pipeline();
      for (const m of batch) {
        const key = dayKey(pre, m);
        for (const id of m.ids) p.setbit(key, id, 1);
        p.expireat(key, expireAtDay(m.day));
      }
      await p.exec();
    },
    async read(r, pre, pid, from, to) {
      let acc: Uint8Array = new Uint8Array(0);
      for (const v of await r.mgetBuffer(...dayKeys(pre, pid, from, to)))
        if (v) acc = orBitmapBytes(acc, v);
      return popcount(acc);
    },
  },
  {
    name: 'intset/day-key',
    async merge(r, pre, batch) {
      const p = r.pipeline();
      for (const m of batch) {
        const key = dayKey(pre, m);
        p.sadd(key, ...m.ids);
        p.expireat(key, expireAtDay(m.day));
      }
      await p.exec();
    },
    async read(r, pre, pid, from, to) {
      return (await r.sunion(...dayKeys(pre, pid, from, to))).length;
    },
  },
  {
    name: 'idset/day-key (Lua)',
    merge: (r, pre, batch) => r.eval(LUA_KEY_IDSET, 0, payload(batch), pre),
    async read(r, pre, pid, from, to) {
      let acc: Uint32Array = new Uint32Array(0);
      for (const v of await r.mgetBuffer(...dayKeys(pre, pid, from, to)))
        if (v) acc = orInto(acc, v);
      return popcount32(acc);
    },
  },
  {
    name: 'idset/32-day hash (Lua) — chosen',
    merge: (r, pre, batch) => r.eval(LUA_HASH_IDSET, 0, payload(batch), pre),
    async read(r, pre, pid, from, to) {
      let acc: Uint32Array = new Uint32Array(0);
      for (const v of await bucketReads(r, pre, pid, from, to)) acc = orInto(acc, v);
      return popcount32(acc);
    },
  },
  {
    name: 'bitmap/32-day hash (Lua)',
    merge: (r, pre, batch) => r.eval(LUA_HASH_BITMAP, 0, payload(batch), pre),
    async read(r, pre, pid, from, to) {
      let acc: Uint8Array = new Uint8Array(0);
      for (const v of await bucketReads(r, pre, pid, from, to)) acc = orBitmapBytes(acc, v);
      return popcount(acc);
    },
  },
];

async function keysUnder(r: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 2000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

async function drop(r: Redis, prefix: string): Promise<void> {
  const keys = await keysUnder(r, prefix);
  for (let i = 0; i < keys.length; i += 1000) await r.unlink(...keys.slice(i, i + 1000));
}

async function memoryUsage(r: Redis, keys: string[]): Promise<number> {
  let total = 0;
  for (let i = 0; i < keys.length; i += 1000) {
    const p = r.pipeline();
    for (const k of keys.slice(i, i + 1000)) p.call('MEMORY', 'USAGE', k, 'SAMPLES', '0');
    for (const [, v] of (await p.exec()) ?? []) total += Number(v ?? 0);
  }
  return total;
}

async function usedMemory(r: Redis): Promise<number> {
  // unlinked keys are freed in the background: let it settle
  for (let i = 0; i < 20; i++) {
    const info = await r.info('memory');
    const lazy = Number(/lazyfree_pending_objects:(\d+)/.exec(info)?.[1] ?? 0);
    if (lazy === 0) return Number(/used_memory:(\d+)/.exec(info)![1]);
    await new Promise((res) => setTimeout(res, 50));
  }
  return Number(/used_memory:(\d+)/.exec(await r.info('memory'))![1]);
}

interface EncodingRow {
  workload: Shape;
  variant: string;
  keys: number;
  bytesPerPrincipalDay: number;
  usedMemoryPerPrincipalDay: number;
  mergesPerSec: number;
  windowReadsPerSec: number;
  distinctIdsChecksum: number;
}

interface EncodingRun {
  workload: Shape;
  rows: EncodingRow[];
  merges: number;
  principalDays: number;
}

async function encodings(r: Redis, shape: Shape): Promise<EncodingRun> {
  const { merges, principalDays, principals } = workload(`redis-encodings-${shape}`, shape);
  const readers = new Rng('readers');
  const readPids = Array.from({ length: 300 }, () => readers.int(principals));
  const pre = (v: number) => `trailmint-bench:${process.pid}:${v}:`;
  const seconds: number[][] = VARIANTS.map(() => []);
  const memory = VARIANTS.map(() => ({ bytes: 0, used: 0, keys: 0 }));
  // runs interleave the variants, so that a noisy machine hits them all alike
  for (let run = 0; run < RUNS; run++) {
    for (const [v, variant] of VARIANTS.entries()) {
      await drop(r, pre(v));
      const before = await usedMemory(r);
      const t0 = performance.now();
      for (let i = 0; i < merges.length; i += BATCH)
        await variant.merge(r, pre(v), merges.slice(i, i + BATCH));
      seconds[v].push((performance.now() - t0) / 1000);
      const used = (await usedMemory(r)) - before;
      const all = await keysUnder(r, pre(v));
      memory[v] = { bytes: await memoryUsage(r, all), used, keys: all.length };
      if (run < RUNS - 1) await drop(r, pre(v));
    }
    process.stderr.write(`  encodings (${shape}): run ${run + 1} of ${RUNS} done\n`);
  }
  const rows: EncodingRow[] = [];
  for (const [v, variant] of VARIANTS.entries()) {
    let checksum = 0;
    const t0 = performance.now();
    for (const pid of readPids)
      checksum += await variant.read(r, pre(v), pid, TODAY - DAYS, TODAY - 1);
    const readSecs = (performance.now() - t0) / 1000;
    await drop(r, pre(v));
    rows.push({
      workload: shape,
      variant: variant.name,
      keys: memory[v].keys,
      bytesPerPrincipalDay: memory[v].bytes / principalDays,
      usedMemoryPerPrincipalDay: memory[v].used / principalDays,
      mergesPerSec: merges.length / median(seconds[v]),
      windowReadsPerSec: readPids.length / readSecs,
      distinctIdsChecksum: checksum,
    });
  }
  return { workload: shape, rows, merges: merges.length, principalDays };
}

// ---------------------------------------------------------------------------------------------
// The store: generated FileDeltas, committed by one or two replica processes.

function storeFiles(): { entries: CommitEntry[]; principalDays: number } {
  const rng = new Rng('redis-store');
  const names = loadCatalog().actions();
  const accounts = 20;
  const perAccount = Math.max(20, Math.round(PRINCIPALS / accounts));
  // each principal: its own action pool (catalog names), Zipf over it
  const pools = Array.from({ length: accounts * perAccount }, () => {
    const k = rng.chance(0.9) ? rng.range(10, 60) : rng.range(100, 400);
    return {
      actions: Array.from({ length: k }, () => names[rng.int(names.length)]),
      pick: new WeightedSampler(zipfWeights(k, 0.8)),
    };
  });
  const entries: CommitEntry[] = [];
  const days = new Set<string>();
  for (let f = 0; f < FILES; f++) {
    const account = f % accounts;
    const day = TODAY - DAYS + Math.floor((f / FILES) * DAYS);
    const principals: string[] = [];
    const actions: string[] = [];
    const aIndex = new Map<string, number>();
    const delta: FileDelta = {
      principals,
      actions,
      unknownActions: [],
      days: [],
      uses: [],
      passRoles: [],
      unmapped: [],
      stats: emptyStats(),
    };
    for (let j = 0; j < 20; j++) {
      const pid = account * perAccount + rng.int(perAccount);
      const arn = `arn:aws:iam::${String(100000000000 + account)}:role/app-${pid}`;
      if (principals.includes(arn)) continue;
      const p = principals.push(arn) - 1;
      const pool = pools[pid];
      const used = new Set<number>();
      for (let t = rng.range(1, 12); t > 0; t--) {
        const name = pool.actions[pool.pick.sample(rng)];
        let a = aIndex.get(name);
        if (a === undefined) aIndex.set(name, (a = actions.push(name) - 1));
        used.add(a);
      }
      const sorted = [...used].sort((x, y) => x - y);
      delta.days.push({ p, day, used: sorted, denied: [] });
      days.add(`${pid}/${day}`);
      const t = day * MS_PER_DAY + rng.int(MS_PER_DAY);
      for (const a of sorted) {
        delta.uses.push({
          p,
          a,
          firstSeen: t,
          lastSeen: t + 1000,
          count: rng.range(1, 20),
          deniedCount: 0,
          deniedLast: 0,
          deniedCode: '',
          resources: rng.chance(0.5)
            ? [`arn:aws:s3:::bucket-${account}/data/${rng.int(40)}.json`]
            : [],
        });
      }
    }
    entries.push({ object: { key: `s3://trail/f${f}.json.gz`, tag: '1' }, delta });
  }
  return { entries, principalDays: days.size };
}

interface ChildRun {
  files: number;
  startedAt: number;
  endedAt: number;
}

async function childCommit(prefix: string, slice: number, of: number, startAt: number) {
  const { entries } = storeFiles();
  const mine = entries.filter((_, i) => i % of === slice);
  const store = await RedisStore.open(
    parseRedisUrl(`${URL}/?prefix=${encodeURIComponent(prefix)}`),
    {
      catalog: loadCatalog(),
      retentionDays: RETENTION,
    },
  );
  await new Promise((res) => setTimeout(res, Math.max(0, startAt - Date.now())));
  const startedAt = Date.now();
  for (let i = 0; i < mine.length; i += 64) await store.commit(mine.slice(i, i + 64));
  const endedAt = Date.now();
  await store.close();
  emit({ files: mine.length, startedAt, endedAt } satisfies ChildRun);
}

interface StoreRow {
  replicas: number;
  files: number;
  seconds: number;
  filesPerSec: number;
  principalDaysPerSec: number;
}

async function storeBench(r: Redis) {
  const { principalDays } = storeFiles();
  const rows: StoreRow[] = [];
  let memory = { total: 0, daySets: 0, objects: 0 };
  for (const replicas of [1, 2]) {
    const secs: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const prefix = `trailmint-bench:${process.pid}:store${replicas}:`;
      await drop(r, prefix);
      // the catalog is seeded once, outside the timed part
      const seed = await RedisStore.open(
        parseRedisUrl(`${URL}/?prefix=${encodeURIComponent(prefix)}`),
        {
          catalog: loadCatalog(),
        },
      );
      await seed.close();
      const startAt = Date.now() + 4000;
      const runs = await Promise.all(
        Array.from({ length: replicas }, (_, i) =>
          runChild<ChildRun>('redis.ts', [
            '--child',
            prefix,
            String(i),
            String(replicas),
            String(startAt),
            '--files',
            String(FILES),
            '--principals',
            String(PRINCIPALS),
            '--days',
            String(DAYS),
            '--redis',
            URL,
          ]),
        ),
      );
      const start = Math.min(...runs.map((x) => x.value.startedAt));
      const end = Math.max(...runs.map((x) => x.value.endedAt));
      secs.push((end - start) / 1000);
      if (replicas === 1 && run === RUNS - 1) {
        const keys = await keysUnder(r, prefix);
        const global = keys.filter((k) => k.startsWith(prefix + '{g}:'));
        const daySets = keys.filter((k) => /\}:d:\d+$/.test(k));
        const objects = keys.filter((k) => k.startsWith(prefix + '{g}:o:'));
        memory = {
          total: (await memoryUsage(r, keys)) - (await memoryUsage(r, global)),
          daySets: await memoryUsage(r, daySets),
          objects: (await memoryUsage(r, objects)) / objects.length,
        };
      }
      await drop(r, prefix);
    }
    const m = median(secs);
    rows.push({
      replicas,
      files: FILES,
      seconds: m,
      filesPerSec: FILES / m,
      principalDaysPerSec: (FILES * 20) / m,
    });
    process.stderr.write(`  store, ${replicas} replica(s): done\n`);
  }
  return {
    rows,
    principalDays,
    bytesPerPrincipalDay: {
      daySets: memory.daySets / principalDays,
      perPrincipalKeys: memory.total / principalDays,
    },
    bytesPerObjectMark: memory.objects,
  };
}

// ---------------------------------------------------------------------------------------------

const fmt = (x: number, digits = 0) =>
  x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main() {
  if (args.has('child')) {
    const [, prefix, slice, of, startAt] = process.argv.slice(process.argv.indexOf('--child'));
    await childCommit(prefix, Number(slice), Number(of), Number(startAt));
    return;
  }
  const r = new Redis(URL);
  const server = /redis_version:(\S+)/.exec(await r.info('server'))?.[1] ?? '?';
  const cfg = (await r.config('GET', 'hash-max-listpack-*')) as string[];
  process.stderr.write(`Redis ${server} at ${URL}\n`);
  const only = args.get('only');
  const enc: EncodingRun[] = [];
  if (only !== 'store')
    for (const shape of ['typical', 'wide'] as const) enc.push(await encodings(r, shape));
  const st = only === 'encodings' ? undefined : await storeBench(r);
  r.disconnect();

  const out: string[] = [];
  out.push(
    `Redis ${server} (${cfg.join(' ')}), ${DAYS} days, ${DELIVERIES} deliveries per principal-day, ` +
      `batches of ${BATCH} merges, median of ${RUNS} interleaved runs.`,
  );
  for (const e of enc) {
    out.push(
      '',
      `Workload **${e.workload}**: ${fmt(e.principalDays)} principal-days, ${fmt(e.merges)} merges.`,
      '',
      '| day-set encoding | keys | bytes / principal-day (MEMORY USAGE) | bytes / principal-day (used_memory Δ) | merges/s | 90-day window reads/s |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const x of e.rows) {
      out.push(
        `| ${x.variant} | ${fmt(x.keys)} | ${fmt(x.bytesPerPrincipalDay, 1)} | ${fmt(x.usedMemoryPerPrincipalDay, 1)} | ${fmt(x.mergesPerSec)} | ${fmt(x.windowReadsPerSec)} |`,
      );
    }
  }
  if (st) {
    out.push(
      '',
      `RedisStore.commit, ${fmt(FILES)} files × 20 principals, 64 files per commit, median of ${RUNS} runs:`,
      '',
      '| replicas (processes) | seconds | files/s | principal-day merges/s |',
      '| ---: | ---: | ---: | ---: |',
    );
    for (const x of st.rows) {
      out.push(
        `| ${x.replicas} | ${fmt(x.seconds, 2)} | ${fmt(x.filesPerSec)} | ${fmt(x.principalDaysPerSec)} |`,
      );
    }
    out.push(
      '',
      `Store memory: ${fmt(st.bytesPerPrincipalDay.daySets, 1)} bytes per principal-day in day-set ` +
        `hashes; ${fmt(st.bytesPerPrincipalDay.perPrincipalKeys, 1)} with every per-principal key ` +
        `(meta, local ids, per-action detail with resource samples) over ` +
        `${fmt(st.principalDays)} principal-days; ${fmt(st.bytesPerObjectMark, 1)} bytes per ` +
        `ingested-object mark (global, one per file, expires with the retention).`,
    );
  }
  if (args.has('json')) emit({ encodings: enc, store: st });
  else process.stdout.write(out.join('\n') + '\n');
}

await main();
