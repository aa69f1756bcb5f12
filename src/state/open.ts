// `--store` URL → a Store: a directory path (LMDB, the default), `memory:`, or `redis://…` /
// `rediss://…` (see redis.ts). The only place that knows every backend; each is loaded when a URL
// names it (importing ioredis took ~0.08 s, lmdb ~0.06 s, timed by hand on the
// 2-core machine: start-up a CLI run does not need for another backend).
import path from 'node:path';
import { UsageError } from '../errors.ts';
import { MemoryKv } from './kv.ts';
import { KvStore, type StoreOptions } from './kvstore.ts';
import type { LmdbKv } from './lmdb.ts';
import type { Store } from './store.ts';

export type { StoreOptions } from './kvstore.ts';

export interface OpenStoreOptions extends StoreOptions {
  /** Redis store: day sets older than this many days expire; default TRAILMINT_RETENTION_DAYS or 400 */
  retentionDays?: number;
  /** Redis store: the password when the URL has none; default TRAILMINT_REDIS_PASSWORD */
  redisPassword?: string;
}

export function describeStore(url: string): string {
  if (url === 'memory:') return 'memory (gone when the process ends)';
  if (/^rediss?:\/\//.test(url)) return url.replace(/\/\/[^@/]*@/, '//***@');
  return `LMDB at ${path.resolve(url.replace(/^(file|lmdb):(\/\/)?/, ''))}`;
}

export async function openStore(url: string, opts: OpenStoreOptions = {}): Promise<Store> {
  if (url === '')
    throw new UsageError('BAD_STORE', '--store is empty: give a directory, memory: or redis://…');
  if (url === 'memory:') return KvStore.open(new MemoryKv(), opts);
  if (/^rediss?:\/\//.test(url)) {
    const env = process.env.TRAILMINT_RETENTION_DAYS;
    const retentionDays = opts.retentionDays ?? (env ? Number(env) : undefined);
    const password = opts.redisPassword ?? process.env.TRAILMINT_REDIS_PASSWORD;
    const { parseRedisUrl, RedisStore } = await import('./redis.ts');
    return RedisStore.open(parseRedisUrl(url, password), { ...opts, retentionDays });
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !/^(file|lmdb):/.test(url)) {
    throw new UsageError(
      'BAD_STORE',
      `unknown store "${url}": give a directory, memory: or redis://host:port`,
    );
  }
  const dir = path.resolve(url.replace(/^(file|lmdb):(\/\/)?/, ''));
  const { LmdbKv } = await import('./lmdb.ts');
  let kv: LmdbKv;
  try {
    kv = new LmdbKv(dir);
  } catch (err) {
    throw new UsageError(
      'STORE_OPEN_FAILED',
      `cannot open the LMDB store at ${dir}: ${(err as Error).message}`,
    );
  }
  return KvStore.open(kv, opts);
}
