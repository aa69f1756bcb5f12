// The store contract against a real redis-server (127.0.0.1:6379, TRAILMINT_TEST_REDIS to point
// elsewhere), plus what only the shared backend does: replicas racing id appends and commits of
// the same objects, the Lua merge agreeing with the JavaScript one, retention, an unreachable or
// hung Redis, and Redis losing its data under a running store. Every store here gets its own key
// prefix under one per-run base, removed at the end, so parallel test files never collide.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { MS_PER_DAY } from '../../src/state/delta.ts';
import { encodeIds, unionEncoded } from '../../src/state/idset.ts';
import { openStore } from '../../src/state/open.ts';
import {
  BUCKET_DAYS,
  DEFAULT_PREFIX,
  LUA_IDSET,
  LUA_SAMPLE,
  parseRedisUrl,
  RedisStore,
  type RedisStoreOptions,
} from '../../src/state/redis.ts';
import type { CommitEntry, Store } from '../../src/state/store.ts';
import { mergeSample } from '../../src/state/sample.ts';
import { deltaOf, snapshot, storeContract, versionContract } from './store-contract.ts';

const SERVER = process.env.TRAILMINT_TEST_REDIS ?? 'redis://127.0.0.1:6379';
const BASE = `tmtest:${process.pid}:${Date.now().toString(36)}:`;
const admin = new Redis(SERVER, { lazyConnect: true });
let n = 0;
const prefixes = new WeakMap<Store, string>();

/** Far enough back for the contract's 2024 days: retention is tested on its own below. */
const KEEP_ALL = 36_500;

async function fresh(opts: RedisStoreOptions = {}, prefix = `${BASE}${n++}:`): Promise<Store> {
  const s = await openStore(`${SERVER}/?prefix=${encodeURIComponent(prefix)}`, {
    retentionDays: KEEP_ALL,
    ...opts,
  });
  prefixes.set(s, prefix);
  return s;
}

async function keysUnder(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

async function dropKeys(prefix: string): Promise<void> {
  const keys = await keysUnder(prefix);
  for (let i = 0; i < keys.length; i += 500) await admin.unlink(...keys.slice(i, i + 500));
}

afterAll(async () => {
  await dropKeys(BASE);
  admin.disconnect();
});

storeContract('redis', {
  fresh: () => fresh(),
  async reopen(store) {
    const prefix = prefixes.get(store)!;
    await store.close();
    return fresh({}, prefix);
  },
});

versionContract('redis', { fresh: () => fresh() });

const ROLE = 'arn:aws:iam::111122223333:role/app';
const D0 = 19_800;
const today = () => Math.floor(Date.now() / MS_PER_DAY);
const entry = (key: string, events: Parameters<typeof deltaOf>[0], tag = '1'): CommitEntry => ({
  object: { key, tag },
  delta: deltaOf(events),
});

describe('redis store: replicas', () => {
  it('two replicas appending action ids at once never assign one id twice', async () => {
    const a = await fresh();
    const prefix = prefixes.get(a)!;
    const b = await fresh({}, prefix);
    const names = Array.from({ length: 3000 }, (_, i) => `race:Action${i}`);
    const shuffled = [...names].sort(() => Math.random() - 0.5);
    // many small appends, interleaved between the two connections
    const run = async (s: Store, list: string[]) => {
      const out = new Map<string, number>();
      for (let i = 0; i < list.length; i += 50) {
        const chunk = list.slice(i, i + 50);
        const ids = await s.actionIds(chunk);
        chunk.forEach((name, j) => out.set(name, ids[j]));
      }
      return out;
    };
    const [ma, mb] = await Promise.all([run(a, names), run(b, shuffled)]);
    for (const name of names) expect(ma.get(name), name).toBe(mb.get(name));
    const ids = new Set(ma.values());
    expect(ids.size).toBe(names.length);
    const table = await a.actionNames();
    expect(table.length).toBe(names.length);
    expect(new Set(table).size).toBe(names.length);
    for (const [name, id] of ma) expect(table[id]).toBe(name);
    expect(await b.actionNames()).toEqual(table);
    await a.close();
    await b.close();
  });

  it('two replicas creating principals at once give each its own pid and keep all data', async () => {
    const a = await fresh();
    const prefix = prefixes.get(a)!;
    const b = await fresh({}, prefix);
    const arn = (i: number) => `arn:aws:iam::111122223333:role/r${i}`;
    const commits = (s: Store, from: number) =>
      Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          s.commit([
            entry(`f${from + i}`, [
              { principal: arn(i), action: `s3:Get${from}`, day: D0 },
              { principal: arn(i + 1), action: `s3:Put${from}`, day: D0 + 1 },
            ]),
          ]),
        ),
      );
    await Promise.all([commits(a, 0), commits(b, 1000)]);
    const pids = await admin.hgetall(`${prefix}{g}:principals`);
    expect(Object.keys(pids).length).toBe(41);
    expect(new Set(Object.values(pids)).size).toBe(41);
    const names = await a.actionNames();
    const used = async (i: number) =>
      Array.from((await b.windowActions(arn(i), D0, D0 + 1)).used, (id) => names[id]).sort();
    expect(await used(0)).toEqual(['s3:Get0', 's3:Get1000']);
    expect(await used(20)).toEqual(['s3:Get0', 's3:Get1000', 's3:Put0', 's3:Put1000']);
    expect(await used(40)).toEqual(['s3:Put0', 's3:Put1000']);
    await a.close();
    await b.close();
  });

  it('a file committed by two replicas at once is merged exactly once', async () => {
    const a = await fresh();
    const prefix = prefixes.get(a)!;
    const b = await fresh({}, prefix);
    const files = Array.from({ length: 60 }, (_, i) =>
      entry(`s3://bucket/f${i}`, [
        { principal: ROLE, action: 's3:GetObject', day: D0 + (i % 3) },
        { principal: ROLE, action: 'kms:Decrypt', day: D0, denied: i % 2 === 0 },
      ]),
    );
    // each replica gets every file, in batches of different shapes and order
    const batches = (list: CommitEntry[], size: number) =>
      Array.from({ length: Math.ceil(list.length / size) }, (_, i) =>
        list.slice(i * size, (i + 1) * size),
      );
    const run = async (s: Store, list: CommitEntry[][]) => {
      let merged = 0;
      let skipped = 0;
      for (const batch of list) {
        const r = await s.commit(batch);
        merged += r.merged;
        skipped += r.alreadyIngested;
        // the keys named are those of the batch the other replica had committed
        expect(r.alreadyIngestedKeys).toHaveLength(r.alreadyIngested);
        const keys = new Set(batch.map((e) => e.object.key));
        for (const k of r.alreadyIngestedKeys) expect(keys.has(k)).toBe(true);
      }
      return { merged, skipped };
    };
    const [ra, rb] = await Promise.all([
      run(a, batches(files, 7)),
      run(b, batches([...files].reverse(), 5)),
    ]);
    expect(ra.merged + rb.merged).toBe(files.length);
    expect(ra.skipped + rb.skipped).toBe(files.length);
    const names = await a.actionNames();
    const details = await b.actionDetails(ROLE);
    const byName = Object.fromEntries(details.map((d) => [names[d.action], d]));
    expect(byName['s3:GetObject'].count).toBe(60);
    expect(byName['kms:Decrypt'].count).toBe(30);
    expect(byName['kms:Decrypt'].deniedCount).toBe(30);
    await a.close();
    await b.close();
  });

  it('a commit on one replica moves the version another replica reads', async () => {
    const a = await fresh();
    const b = await fresh({}, prefixes.get(a)!);
    await a.commit([entry('f1', [{ principal: ROLE, action: 's3:GetObject', day: D0 }])]);
    const v1 = await b.version!(ROLE);
    expect(v1).toBe(await a.version!(ROLE));
    await a.commit([entry('f2', [{ principal: ROLE, action: 's3:PutObject', day: D0 }])]);
    expect(await b.version!(ROLE)).not.toBe(v1);
    await a.close();
    await b.close();
  });

  it('reads from another replica see what one committed, including ids it appended', async () => {
    const a = await fresh();
    const b = await fresh({}, prefixes.get(a)!);
    expect(await b.actionNames()).toEqual([]); // b mirrors the (empty) table now
    await a.commit([entry('f', [{ principal: ROLE, action: 'new:Thing', day: D0 }])]);
    const w = await b.windowActions(ROLE, D0, D0);
    const names = await b.actionNames();
    expect(Array.from(w.used, (id) => names[id])).toEqual(['new:Thing']);
    await a.close();
    await b.close();
  });
});

describe('redis store: merges in Lua agree with the JavaScript ones', () => {
  const lua = (body: string, ...args: (string | Buffer)[]) =>
    admin.callBuffer('EVAL', LUA_IDSET + LUA_SAMPLE + body, '0', ...args) as Promise<Buffer[]>;

  it('resource samples: the Lua port of mergeSample gives the same lists (property)', async () => {
    // shared prefixes of every depth, patterns, non-ASCII (BMP), bounds near the list sizes
    const part = fc.constantFrom('a', 'ab', 'b/', 'x/y', 'é', 'ê', '日本', 'a*', '*', 'z9', '/');
    const arn = fc
      .tuple(
        fc.constantFrom('arn:aws:s3:::', 'arn:aws:sqs:us-east-1:1:', 'arn:aws:kms:eu-west-1:2:k/'),
        fc.array(part, { minLength: 1, maxLength: 4 }),
      )
      .map(([head, p]) => head + p.join(''));
    const list = fc.array(fc.oneof({ weight: 30, arbitrary: arn }, fc.constant('*')), {
      maxLength: 10,
    });
    await fc.assert(
      fc.asyncProperty(list, list, fc.integer({ min: 0, max: 9 }), async (a0, b, max) => {
        const a = mergeSample(a0, [], Math.max(max, 1)); // stored samples are normalized
        const want = mergeSample(a, b, max);
        for (const trusted of ['false', 'true']) {
          // trusted: the path for stored samples (known normalized, merged without a full sort)
          const got = (await lua(
            `return mergeSample(cjson.decode(ARGV[1]), cjson.decode(ARGV[2]), tonumber(ARGV[3]), ${trusted})`,
            JSON.stringify(a),
            JSON.stringify(b),
            String(max),
          )) as Buffer[];
          expect(got.map((x) => x.toString('utf8'))).toEqual(want);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('strings: the bytewise fallback comparator orders as JavaScript does (property)', async () => {
    // this server's collation passes the probe (native <); other servers use the fallback
    const text = fc.array(fc.constantFrom('a', 'B', '_', '-', '/', '*', 'é', '日', 'z'), {
      maxLength: 6,
    });
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(
          text.map((p) => p.join('')),
          { maxLength: 12 },
        ),
        async (xs) => {
          const got = (await lua(
            'local t = cjson.decode(ARGV[1]) table.sort(t, bytewiseLt) return t',
            JSON.stringify(xs),
          )) as Buffer[];
          expect(got.map((x) => x.toString('utf8'))).toEqual([...xs].sort());
        },
      ),
      { numRuns: 200 },
    );
  });

  it('id sets: the Lua encoder and union give the bytes idset.ts gives (property)', async () => {
    const ids = fc.uniqueArray(fc.oneof(fc.nat(40), fc.nat(3000)), { maxLength: 60 });
    await fc.assert(
      fc.asyncProperty(ids, ids, async (x, y) => {
        const a = encodeIds([...x].sort((p, q) => p - q));
        const sorted = [...y].sort((p, q) => p - q);
        const [enc, union] = (await lua(
          'local ids = cjson.decode(ARGV[2]) local u = unionIds(ARGV[1], ids) return { encodeIds(ids), u }',
          Buffer.from(a),
          JSON.stringify(sorted),
        )) as Buffer[];
        expect(new Uint8Array(enc)).toEqual(encodeIds(sorted));
        expect(new Uint8Array(union)).toEqual(unionEncoded(a, encodeIds(sorted)));
      }),
      { numRuns: 300 },
    );
  });

  it('same answers as the memory store, resource generalization included (property)', async () => {
    const segment = fc.constantFrom('logs', 'data', 'tmp', 'é', 'ü/x', '日本', 'a*', 'a/b');
    const resource = fc
      .tuple(segment, segment, fc.stringMatching(/^[a-z0-9]{1,4}$/))
      .map(([b, d, k]) => `arn:aws:s3:::${b}/${d}/${k}`);
    const ev = fc.record({
      principal: fc.constantFrom(ROLE, 'arn:aws:iam::111122223333:user/bob'),
      action: fc.constantFrom('s3:GetObject', 's3:PutObject', 'kms:Decrypt', 'nope:X'),
      day: fc.integer({ min: D0, max: D0 + 70 }),
      denied: fc.boolean(),
      resource: fc.option(resource, { nil: undefined }),
      passRole: fc.option(
        fc.tuple(
          fc.constantFrom('arn:aws:iam::1:role/a', 'arn:aws:iam::1:role/b'),
          fc.constantFrom('lambda.amazonaws.com', 'ecs-tasks.amazonaws.com'),
        ),
        { nil: undefined },
      ),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(ev, { minLength: 1, maxLength: 25 }), { minLength: 1, maxLength: 6 }),
        async (files) => {
          const entries = files.map((events, i) => entry(`f${i}`, events));
          entries.forEach((e, i) => {
            e.delta.unmapped = [{ source: 'x.amazonaws.com', name: `N${i % 2}`, count: i + 1 }];
          });
          const mem = await openStore('memory:', { maxResourcesPerAction: 4 });
          const red = await fresh({ maxResourcesPerAction: 4 });
          // one file per commit: the same merge order on both sides
          for (const e of entries) {
            await mem.commit([e]);
            await red.commit([e]);
          }
          const who = [ROLE, 'arn:aws:iam::111122223333:user/bob'];
          expect(await snapshot(red, who)).toEqual(await snapshot(mem, who));
          await mem.close();
          await red.close();
        },
      ),
      { numRuns: 25 },
    );
  });

  it('stores the same day-set bytes as LMDB, in listpack hashes of 32 days', async () => {
    const s = await fresh();
    const prefix = prefixes.get(s)!;
    const actions = Array.from({ length: 40 }, (_, i) => `svc:A${i}`);
    await s.commit([
      entry(
        'f',
        actions.map((action, i) => ({ principal: ROLE, action, day: D0 + (i % 2) })),
      ),
    ]);
    const keys = (await keysUnder(prefix)).sort();
    for (const k of keys) expect(k.slice(prefix.length)).toMatch(/^\{(g|p:\d+)\}:/);
    const bucket = `${prefix}{p:0}:d:${Math.floor(D0 / BUCKET_DAYS)}`;
    expect(keys).toContain(bucket);
    expect(await admin.object('ENCODING', bucket)).toBe('listpack');
    // local ids 0..39 alternate between the two days: 20 ids each, dense (1 + 5 bytes) wins
    const day0 = await admin.hgetBuffer(bucket, String(D0 % BUCKET_DAYS));
    expect(day0?.length).toBe(6);
    expect(day0?.[0]).toBe(2);
    await s.close();
  });
});

describe('redis store: retention', () => {
  it('drops days past the horizon, expires the others with their 32-day hash', async () => {
    const s = await fresh({ retentionDays: 30 });
    const prefix = prefixes.get(s)!;
    const t = today();
    await s.commit([
      entry('f', [
        { principal: ROLE, action: 's3:Old', day: t - 40 },
        { principal: ROLE, action: 's3:New', day: t - 5, passRole: ['arn:aws:iam::1:role/x', 'x'] },
      ]),
    ]);
    const names = await s.actionNames();
    const used = async (st: Store) =>
      Array.from((await st.windowActions(ROLE, t - 100, t)).used, (id) => names[id]);
    expect(await used(s)).toEqual(['s3:New']);
    expect(await admin.exists(`${prefix}{p:0}:d:${Math.floor((t - 40) / BUCKET_DAYS)}`)).toBe(
      Math.floor((t - 40) / BUCKET_DAYS) === Math.floor((t - 5) / BUCKET_DAYS) ? 1 : 0,
    );
    const b = Math.floor((t - 5) / BUCKET_DAYS);
    const expiry = ((b + 1) * BUCKET_DAYS + 30) * 86_400;
    expect(await admin.call('EXPIRETIME', `${prefix}{p:0}:d:${b}`)).toBe(expiry);
    expect(await admin.call('EXPIRETIME', `${prefix}{p:0}:r:${b}`)).toBe(expiry);
    expect(await admin.ttl(`${prefix}{g}:o:f`)).toBeGreaterThan(29 * 86_400);
    // all-time detail stays: first seen is the old day, both actions have detail
    expect((await s.principals())[0].firstSeen).toBe(
      new Date((t - 40) * MS_PER_DAY).toISOString().slice(0, 10),
    );
    expect((await s.actionDetails(ROLE)).length).toBe(2);
    // a replica with a shorter horizon reads as if each day expired on its own
    const short = await fresh({ retentionDays: 3 }, prefix);
    expect(await used(short)).toEqual([]);
    expect(await short.passRoles(ROLE, t - 100, t)).toEqual([]);
    await s.close();
    await short.close();
  });
});

describe('redis store: failures', () => {
  it('a commit that throws leaves nothing behind', async () => {
    const s = await fresh();
    const bad = deltaOf([{ principal: ROLE, action: 'x:New', day: D0 }]);
    bad.uses[0].a = 99;
    await expect(s.commit([{ object: { key: 'bad', tag: '1' }, delta: bad }])).rejects.toThrow(
      /malformed delta/,
    );
    expect(await s.actionNames()).toEqual([]);
    expect(await s.principals()).toEqual([]);
    expect(await s.isIngested({ key: 'bad', tag: '1' })).toBe(false);
    expect(await keysUnder(prefixes.get(s)!)).toEqual([`${prefixes.get(s)!}{g}:meta`]);
    await s.close();
  });

  it('survives Redis losing its data: mirrors are dropped, nothing stale is served', async () => {
    const a = await fresh();
    const prefix = prefixes.get(a)!;
    await a.commit([entry('f1', [{ principal: ROLE, action: 's3:GetObject', day: D0 }])]);
    await dropKeys(prefix); // FLUSHDB, for this prefix
    const b = await fresh({}, prefix);
    await b.commit([
      entry('f2', [
        { principal: 'arn:aws:iam::1:role/other', action: 'ec2:RunInstances', day: D0 },
      ]),
    ]);
    // a cached ROLE → pid 0 and s3:GetObject → id 0, which now belong to someone else
    expect((await a.windowActions(ROLE, D0, D0)).used.length).toBe(0);
    expect(await a.isIngested({ key: 'f1', tag: '1' })).toBe(false);
    await a.commit([entry('f1', [{ principal: ROLE, action: 's3:GetObject', day: D0 }])]);
    const names = await b.actionNames();
    const used = async (arn: string) =>
      Array.from((await b.windowActions(arn, D0, D0)).used, (id) => names[id]);
    expect(await used(ROLE)).toEqual(['s3:GetObject']);
    expect(await used('arn:aws:iam::1:role/other')).toEqual(['ec2:RunInstances']);
    await a.close();
    await b.close();
  });

  it('refuses to open with a clear error when nothing listens', async () => {
    const port = await freePort();
    await expect(openStore(`redis://127.0.0.1:${port}`)).rejects.toMatchObject({
      code: 'STORE_OPEN_FAILED',
      message: expect.stringMatching(
        /cannot open the Redis store at redis:\/\/127\.0\.0\.1:\d+\/0/,
      ),
    });
  });

  it('rejects at once while Redis is down or hung, and recovers when it is back', async () => {
    const port = await freePort();
    let server = await startRedis(port);
    const s = await openStore(`redis://127.0.0.1:${port}/?commandTimeoutMs=400`, {
      retentionDays: KEEP_ALL,
    });
    const e = (i: number) => entry(`f${i}`, [{ principal: ROLE, action: `s3:A${i}`, day: D0 }]);
    expect(await s.commit([e(1)])).toEqual({
      merged: 1,
      alreadyIngested: 0,
      alreadyIngestedKeys: [],
    });

    // hung: the command times out instead of waiting forever
    server.kill('SIGSTOP');
    let t0 = performance.now();
    await expect(s.commit([e(2)])).rejects.toMatchObject({
      code: 'STORE_UNAVAILABLE',
      message: expect.stringMatching(/did not answer in time/),
    });
    expect(performance.now() - t0).toBeLessThan(2000);
    server.kill('SIGCONT');
    await until(async () => (await s.commit([e(2)])).merged === 1);

    // down: rejects at once, reads too, nothing queued
    server.kill('SIGKILL');
    await once(server, 'exit');
    await sleep(50);
    t0 = performance.now();
    await expect(s.commit([e(3)])).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    await expect(s.principals()).rejects.toThrow(/is unavailable .*reconnecting/);
    expect(performance.now() - t0).toBeLessThan(500);

    // back (empty: no persistence): reconnects by itself, starts a new epoch, works
    server = await startRedis(port);
    await until(async () => (await s.commit([e(3)])).merged === 1);
    const names = await s.actionNames();
    expect(Array.from((await s.windowActions(ROLE, D0, D0)).used, (id) => names[id])).toEqual([
      's3:A3',
    ]);
    await s.close();
    server.kill('SIGKILL');
  }, 20_000);
});

describe('redis store URLs', () => {
  it('parses host, port, db, credentials, TLS and options', () => {
    const c = parseRedisUrl('rediss://me:p%40ss@cache.example.com:6380/3?prefix=prod:');
    expect(c.options).toMatchObject({
      host: 'cache.example.com',
      port: 6380,
      db: 3,
      username: 'me',
      password: 'p@ss',
      tls: { servername: 'cache.example.com' },
    });
    expect(c.prefix).toBe('prod:');
    expect(c.label).toBe('rediss://cache.example.com:6380/3?prefix=prod%3A');
    const d = parseRedisUrl('redis://localhost', 'from-env');
    expect(d.options).toMatchObject({ port: 6379, db: 0, password: 'from-env', tls: undefined });
    expect(d.prefix).toBe(DEFAULT_PREFIX);
  });

  it('refuses what it cannot use, naming it', () => {
    expect(() => parseRedisUrl('redis://h/x')).toThrow(/database number/);
    expect(() => parseRedisUrl('redis://h/?prefx=a')).toThrow(/unknown parameter "prefx"/);
    expect(() => parseRedisUrl('redis://h/?prefix={a}')).toThrow(/hash tags/);
    expect(() => parseRedisUrl('redis://h/?commandTimeoutMs=0')).toThrow(/commandTimeoutMs/);
  });

  it('the store kind is redis', async () => {
    const s = await fresh();
    expect(s.kind).toBe('redis');
    expect(s).toBeInstanceOf(RedisStore);
    await s.close();
  });
});

async function freePort(): Promise<number> {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address() as net.AddressInfo;
  srv.close();
  await once(srv, 'close');
  return port;
}

async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => 50 });
  probe.on('error', () => {});
  try {
    await until(async () => (await probe.ping()) === 'PONG');
  } finally {
    probe.disconnect();
  }
  return child;
}

async function until(check: () => Promise<boolean>, timeoutMs = 8000): Promise<void> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch (err) {
      if (performance.now() > end) throw err;
    }
    if (performance.now() > end) throw new Error('condition not met in time');
    await sleep(50);
  }
}
