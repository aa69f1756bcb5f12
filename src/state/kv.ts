// The ordered key-value layer under the embedded stores: one Store implementation
// (kvstore.ts) runs on LMDB (lmdb.ts) or on this file's in-memory map, so both backends share
// every merge rule and the contract suite checks the encoding too.
//
// Reads and writes are synchronous inside `read`/`write`; `write` is one atomic, durable
// transaction: everything `fn` put lands, or (it threw) nothing does.

export type Table =
  | 'meta'
  | 'actions'
  | 'principals'
  | 'pmeta'
  | 'days'
  | 'uses'
  | 'passroles'
  | 'objects'
  | 'unmapped'
  | 'unknown'
  | 'profiles';

export const TABLES: readonly Table[] = [
  'meta',
  'actions',
  'principals',
  'pmeta',
  'days',
  'uses',
  'passroles',
  'objects',
  'unmapped',
  'unknown',
  'profiles',
];

/** Tables whose values are raw bytes (the rest hold structured values). */
export const BINARY_TABLES: ReadonlySet<Table> = new Set(['days']);

export type Key = number | string;

export interface KvReader {
  /** Values are owned by the store: never mutate one. */
  get(table: Table, key: Key): unknown;
  /** Entries with start <= key < end, ascending; the whole table when both are omitted. */
  range(table: Table, start?: Key, end?: Key): Iterable<{ key: Key; value: unknown }>;
  /**
   * The value's encoded bytes (msgpack) where the layer stores bytes (LMDB), valid until the next
   * read; absent on the memory layer, which stores values as they are.
   */
  bytes?(table: Table, key: Key): Uint8Array | undefined;
}

export interface KvWriter extends KvReader {
  put(table: Table, key: Key, value: unknown): void;
}

export interface Kv {
  readonly kind: 'memory' | 'lmdb';
  read<T>(fn: (r: KvReader) => T): T;
  write<T>(fn: (w: KvWriter) => T): Promise<T>;
  close(): Promise<void>;
}

function compareKeys(a: Key, b: Key): number {
  if (typeof a === typeof b) return a < b ? -1 : a > b ? 1 : 0;
  return typeof a === 'number' ? -1 : 1; // numbers before strings, as ordered-binary does
}

class MemoryTable {
  readonly map = new Map<Key, unknown>();
  private sorted: Key[] | undefined;

  set(key: Key, value: unknown): void {
    if (!this.map.has(key)) this.sorted = undefined;
    this.map.set(key, value);
  }

  *range(start?: Key, end?: Key): Iterable<{ key: Key; value: unknown }> {
    const keys = (this.sorted ??= [...this.map.keys()].sort(compareKeys));
    let lo = 0;
    if (start !== undefined) {
      let hi = keys.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (compareKeys(keys[mid], start) < 0) lo = mid + 1;
        else hi = mid;
      }
    }
    for (let i = lo; i < keys.length; i++) {
      if (end !== undefined && compareKeys(keys[i], end) >= 0) return;
      yield { key: keys[i], value: this.map.get(keys[i]) };
    }
  }
}

/** The `memory:` backend: the same transactions over Maps; gone when the process ends. */
export class MemoryKv implements Kv {
  readonly kind = 'memory';
  private readonly tables = new Map<Table, MemoryTable>(TABLES.map((t) => [t, new MemoryTable()]));

  read<T>(fn: (r: KvReader) => T): T {
    return fn({
      get: (t, k) => this.tables.get(t)!.map.get(k),
      range: (t, s, e) => this.tables.get(t)!.range(s, e),
    });
  }

  write<T>(fn: (w: KvWriter) => T): Promise<T> {
    // Writes go to an overlay first and land only if fn returns: the same atomicity as LMDB.
    const overlay = new Map<Table, Map<Key, unknown>>();
    const result = fn({
      get: (t, k) => {
        const o = overlay.get(t);
        return o?.has(k) ? o.get(k) : this.tables.get(t)!.map.get(k);
      },
      range: (t, s, e) => {
        if (overlay.get(t)?.size) throw new Error(`range over ${t} inside a write that changed it`);
        return this.tables.get(t)!.range(s, e);
      },
      put: (t, k, v) => {
        let o = overlay.get(t);
        if (!o) overlay.set(t, (o = new Map()));
        o.set(k, BINARY_TABLES.has(t) ? Uint8Array.from(v as Uint8Array) : v);
      },
    });
    for (const [t, o] of overlay) {
      const table = this.tables.get(t)!;
      for (const [k, v] of o) table.set(k, v);
    }
    return Promise.resolve(result);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
