// The embedded default backend: one LMDB environment in a directory (`--store ./.trailmint`),
// one named database per table. A write is one LMDB transaction, committed synchronously and
// then awaited until flushed to disk, so a caller that deletes an SQS message after `write`
// resolves never deletes one whose data a crash could lose. A kill mid-commit leaves the last
// committed transaction (LMDB's copy-on-write B-tree never half-applies one).
import { mkdirSync } from 'node:fs';
import { open, type Database, type RootDatabase } from 'lmdb';
import {
  BINARY_TABLES,
  TABLES,
  type Key,
  type Kv,
  type KvReader,
  type KvWriter,
  type Table,
} from './kv.ts';

export interface LmdbOptions {
  /** initial map size; LMDB grows it as needed; default 1 GiB of address space, not disk */
  mapSizeBytes?: number;
}

export class LmdbKv implements Kv {
  readonly kind = 'lmdb';
  private readonly root: RootDatabase;
  private readonly dbs = new Map<Table, Database>();
  private readonly reader: KvReader;

  constructor(dir: string, opts: LmdbOptions = {}) {
    mkdirSync(dir, { recursive: true });
    this.root = open({
      path: dir,
      maxDbs: TABLES.length + 2,
      mapSize: opts.mapSizeBytes ?? 1024 ** 3,
      // Other processes (a second `trailmint` on the same directory) see commits at once.
      cache: false,
    });
    for (const t of TABLES) {
      this.dbs.set(
        t,
        this.root.openDB({ name: t, encoding: BINARY_TABLES.has(t) ? 'binary' : 'msgpack' }),
      );
    }
    this.reader = {
      get: (t, k) => this.db(t).get(k),
      range: (t, s, e) =>
        this.db(t).getRange({ start: s, end: e }) as Iterable<{ key: Key; value: unknown }>,
      bytes: (t, k) => this.db(t).getBinaryFast(k),
    };
  }

  private db(t: Table): Database {
    return this.dbs.get(t)!;
  }

  read<T>(fn: (r: KvReader) => T): T {
    return fn(this.reader);
  }

  async write<T>(fn: (w: KvWriter) => T): Promise<T> {
    const writer: KvWriter = {
      ...this.reader,
      put: (t: Table, k: Key, v: unknown) => void this.db(t).putSync(k, v),
    };
    const result = this.root.transactionSync(() => fn(writer));
    await this.root.flushed;
    return result;
  }

  async close(): Promise<void> {
    await this.root.close();
  }
}
