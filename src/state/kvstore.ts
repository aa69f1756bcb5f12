// The Store over an ordered key-value layer (LMDB or memory): every merge rule lives here once.
//
// Layout (tables of kv.ts):
//   meta        'format' → STORE_FORMAT; 'catalog' → catalog version; 'nextPid'
//   actions     id → "prefix:Action"          the global id table; only appended
//   principals  ARN → pid
//   pmeta       pid → PrincipalMeta            incl. the principal's local action list (a tuple
//                                              since format 2)
//   days        pid·2^17 + day → packed day set (idset.ts over principal-local ids)
//   uses        pid·2^21 + action id → UseRecord (a tuple since format 2)
//   passroles   pid·2^17 + day → PassRoleRecord[]
//   objects     object key → version tag       what was ingested (skip on replay)
//   unmapped    "source\0name" → count ; unknown  action name → 1
//
// Day sets are over principal-local ids (the n-th action a principal ever used is n), so a
// principal with 80 actions has 80-bit day sets whatever the catalog size: a typical
// principal-day is a dozen bytes (bench/RESULTS.md).
import { isProfileArn } from '../catalog/passrole.ts';
import { createHash } from 'node:crypto';
import { UsageError } from '../errors.ts';
import { dayToIso, type Day, type FileDelta } from './delta.ts';
import { bitmapIds, encodeIds, decodeIds, orInto, unionEncoded } from './idset.ts';
import type { Key, Kv, KvReader, KvWriter, Table } from './kv.ts';
import { mergeSample } from './sample.ts';
import type {
  ActionDetail,
  CommitEntry,
  CommitResult,
  ObjectRef,
  PassRoleDetail,
  PrincipalSummary,
  Store,
  UnmappedCount,
  WindowActions,
} from './store.ts';

/**
 * Bumped when the layout changes; a store written with a newer format refuses to open.
 * 2: `uses` and `pmeta` values are tuples. Format 1 wrote them as objects, which msgpack stores
 * with their key names inline in every value; decoding those was most of an LMDB policy read
 * (500 uses: 0.9-1.2 ms against 0.2 ms to fetch the bytes). Format-1 values are still read (and
 * rewritten as tuples when next merged); opening a format-1 store marks it 2, so an older
 * trailmint refuses it instead of misreading tuples.
 */
export const STORE_FORMAT = 2;

const DAY_SPAN = 2 ** 17; // days up to 2328-11-26
const ACTION_SPAN = 2 ** 21;
const NO_DENIED = new Uint8Array(0);

// LMDB refuses keys over 1978 bytes, and a refused key fails the whole commit: one log file with
// a 2 KB principal ARN or event name (anyone who can write to the bucket can shape one) would
// fail every batch it joins, good files included, forever. Lookup keys (ARNs, object keys) over
// the limit are stored by digest; names listed back (unmapped pairs, unknown actions) are cut.
// Keys within the limit are unchanged, so stores written before keep their meaning.
const MAX_KEY_BYTES = 1978;
const MAX_NAME_CHARS = 200; // two names of 200 code points fit in MAX_KEY_BYTES

/** A lookup key LMDB can hold: the key itself when it fits, else its SHA-256. */
function lookupKey(key: string): string {
  if (key.length * 3 <= MAX_KEY_BYTES || Buffer.byteLength(key, 'utf8') <= MAX_KEY_BYTES)
    return key;
  return '#sha256:' + createHash('sha256').update(key, 'utf8').digest('base64url');
}

/**
 * A string key as written. LMDB's key encoding (ordered-binary) separates array elements with a
 * 0 byte, and reads a long string key holding one ("source\0name" of a 62-character source) back
 * as the array of its pieces: join them again.
 */
function textOf(key: unknown): string {
  return Array.isArray(key) ? key.join('\u0000') : String(key);
}

/** A listed name LMDB can hold as a key: cut (by code points, marked …) when it does not fit. */
function listedKey(...parts: string[]): string {
  const key = parts.join('\u0000');
  if (key.length * 3 <= MAX_KEY_BYTES || Buffer.byteLength(key, 'utf8') <= MAX_KEY_BYTES)
    return key;
  return parts
    .map((p) => (p.length > MAX_NAME_CHARS ? [...p].slice(0, MAX_NAME_CHARS).join('') + '…' : p))
    .join('\u0000');
}

interface PrincipalMeta {
  arn: string;
  /** principal-local id → global action id */
  actions: number[];
  /** encoded set of local ids ever used (authorized) */
  used: Uint8Array;
  first: Day;
  last: Day;
  /** bumped by every commit that touches the principal (see Store.version) */
  v?: number;
}

type StoredMeta = [
  arn: string,
  actions: number[],
  used: Uint8Array,
  first: Day,
  last: Day,
  v: number | undefined,
];

/** A stored PrincipalMeta, tuple (format 2) or object (format 1). */
function principalMeta(value: unknown): PrincipalMeta | undefined {
  if (!Array.isArray(value)) return value as PrincipalMeta | undefined;
  const [arn, actions, used, first, last, v] = value as StoredMeta;
  return { arn, actions, used, first, last, v };
}

/**
 * The version (v, 0 when unset) of a StoredMeta tuple from its msgpack bytes, skipping the other
 * members instead of decoding them (the principal's whole action list, for the version alone,
 * was 8% of the serving thread under policy load). Undefined for anything but a six-member array
 * of the types a tuple holds (a format-1 object, an encoding this does not know): the caller then
 * decodes the value.
 */
export function metaVersionOf(b: Uint8Array): number | undefined {
  if (b.length === 0 || b[0] !== 0x96) return undefined; // fixarray of 6
  let i = 1;
  for (let member = 0; member < 5; member++) {
    i = skipValue(b, i, member === 1);
    if (i < 0) return undefined;
  }
  if (i >= b.length) return undefined;
  const t = b[i];
  let v: number | undefined;
  if (t <= 0x7f) v = t;
  else if (t === 0xcc && i + 1 < b.length) v = b[i + 1];
  else if (t === 0xcd && i + 2 < b.length) v = (b[i + 1] << 8) | b[i + 2];
  else if (t === 0xce && i + 4 < b.length)
    v = ((b[i + 1] << 24) | (b[i + 2] << 16) | (b[i + 3] << 8) | b[i + 4]) >>> 0;
  else if (t === 0xc0)
    v = 0; // nil
  else if (t === 0xd4 && b[i + 1] === 0 && b[i + 2] === 0)
    v = 0; // msgpackr's undefined
  else return undefined;
  const end = t <= 0x7f || t === 0xc0 ? i + 1 : t === 0xd4 ? i + 3 : i + 1 + (1 << (t - 0xcc));
  return end === b.length ? v : undefined;
}

/**
 * Past the msgpack value at i: a string, bin, integer or float, or (`list`) an array of those
 * scalars; -1 for anything else or bytes that end early.
 */
function skipValue(b: Uint8Array, i: number, list: boolean): number {
  if (i >= b.length) return -1;
  const t = b[i];
  if (list) {
    let n: number;
    if (t >= 0x90 && t <= 0x9f) {
      n = t & 0x0f;
      i += 1;
    } else if (t === 0xdc && i + 2 < b.length) {
      n = (b[i + 1] << 8) | b[i + 2];
      i += 3;
    } else if (t === 0xdd && i + 4 < b.length) {
      n = ((b[i + 1] << 24) | (b[i + 2] << 16) | (b[i + 3] << 8) | b[i + 4]) >>> 0;
      i += 5;
    } else return -1;
    for (let k = 0; k < n && i >= 0; k++) i = skipValue(b, i, false);
    return i;
  }
  if (t <= 0x7f || t >= 0xe0) return i + 1; // fixints
  if (t >= 0xa0 && t <= 0xbf) return i + 1 + (t & 0x1f); // fixstr
  switch (t) {
    case 0xcc:
    case 0xd0:
      return i + 2;
    case 0xcd:
    case 0xd1:
      return i + 3;
    case 0xce:
    case 0xd2:
    case 0xca:
      return i + 5;
    case 0xcf:
    case 0xd3:
    case 0xcb:
      return i + 9;
    case 0xd9: // str8
    case 0xc4: // bin8
      return i + 1 < b.length ? i + 2 + b[i + 1] : -1;
    case 0xda: // str16
    case 0xc5: // bin16
      return i + 2 < b.length ? i + 3 + ((b[i + 1] << 8) | b[i + 2]) : -1;
    case 0xdb: // str32
    case 0xc6: // bin32
      return i + 4 < b.length
        ? i + 5 + (((b[i + 1] << 24) | (b[i + 2] << 16) | (b[i + 3] << 8) | b[i + 4]) >>> 0)
        : -1;
    default:
      return -1;
  }
}

/** Per (principal, action), all time; one of these per pair is stored, as a tuple. */
type UseRecord = [
  firstSeen: number, // ms
  lastSeen: number, // ms
  count: number, // authorized events
  deniedCount: number,
  deniedLast: number, // ms
  deniedCode: string, // error code of the last denied
  resources: string[], // resource sample
];

/** A stored use, tuple (format 2) or object with short keys (format 1). */
function useOf(value: unknown): UseRecord | undefined {
  if (value === undefined || Array.isArray(value)) return value as UseRecord | undefined;
  const u = value as {
    f: number;
    l: number;
    c: number;
    dc: number;
    dl: number;
    dd: string;
    r: string[];
  };
  return [u.f, u.l, u.c, u.dc, u.dl, u.dd, u.r];
}

type PassRoleRecord = [role: string, service: string, lastSeen: number];

export interface StoreOptions {
  /** resource ARNs kept per (principal, action) before generalizing; default 16 */
  maxResourcesPerAction?: number;
  /**
   * The catalog's id order (catalog.ids()) and version: on open, names the store lacks are
   * appended, so a fresh store's ids equal the catalog's and an upgraded catalog only appends.
   */
  catalog?: { version: string; ids(): readonly string[] };
}

/** A day set as stored: the used set, or 0x00 + varint(used length) + used + denied. */
export function packDay(used: Uint8Array, denied: Uint8Array): Uint8Array {
  if (denied.length === 0) return used;
  const head: number[] = [0];
  let n = used.length;
  while (n >= 0x80) {
    head.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  head.push(n);
  const out = new Uint8Array(head.length + used.length + denied.length);
  out.set(head, 0);
  out.set(used, head.length);
  out.set(denied, head.length + used.length);
  return out;
}

export function unpackDay(value: Uint8Array): [used: Uint8Array, denied: Uint8Array] {
  if (value.length === 0 || value[0] !== 0) return [value, NO_DENIED];
  let n = 0;
  let shift = 0;
  let at = 1;
  let b: number;
  do {
    b = value[at++];
    n |= (b & 0x7f) << shift;
    shift += 7;
  } while (b & 0x80);
  return [value.subarray(at, at + n), value.subarray(at + n)];
}

export class KvStore implements Store {
  readonly kind: 'memory' | 'lmdb';
  private readonly kv: Kv;
  private readonly maxResources: number;
  /** the global id table, mirrored in memory (≈ 22,000 names) */
  private readonly names: string[] = [];
  private readonly ids = new Map<string, number>();
  private readonly pids = new Map<string, number>();

  private constructor(kv: Kv, opts: StoreOptions) {
    this.kv = kv;
    this.kind = kv.kind;
    this.maxResources = opts.maxResourcesPerAction ?? 16;
  }

  static async open(kv: Kv, opts: StoreOptions = {}): Promise<KvStore> {
    const store = new KvStore(kv, opts);
    try {
      await store.init(opts);
    } catch (err) {
      await kv.close();
      throw err;
    }
    return store;
  }

  private async init(opts: StoreOptions): Promise<void> {
    const format = this.kv.read((r) => r.get('meta', 'format')) as number | undefined;
    if (format !== undefined && format > STORE_FORMAT) {
      throw new UsageError(
        'STORE_TOO_NEW',
        `the store was written by a newer trailmint (store format ${format}, this version reads ` +
          `up to ${STORE_FORMAT}); upgrade trailmint or use another --store`,
      );
    }
    const stored = this.kv.read((r) => r.get('meta', 'catalog')) as string | undefined;
    const catalog = opts.catalog;
    if (catalog && stored !== undefined && compareVersions(stored, catalog.version) > 0) {
      throw new UsageError(
        'STORE_CATALOG_TOO_NEW',
        `the store was written with a newer action catalog (iam-data ${stored}; this trailmint ` +
          `has ${catalog.version}): its newer actions would read as unknown; upgrade trailmint`,
      );
    }
    this.kv.read((r) => {
      for (const { key, value } of r.range('actions')) {
        const id = key as number;
        if (id !== this.names.length) throw new Error(`action id table has a gap at ${id}`);
        this.names.push(value as string);
        this.ids.set(value as string, id);
      }
    });
    await this.transact((w) => {
      if (format !== STORE_FORMAT) w.put('meta', 'format', STORE_FORMAT);
      if (catalog) {
        this.appendActions(w, catalog.ids());
        if (stored === undefined || compareVersions(stored, catalog.version) < 0) {
          w.put('meta', 'catalog', catalog.version);
        }
      }
    });
  }

  /** Appends the names not yet in the id table (inside a write). */
  private appendActions(w: KvWriter, names: Iterable<string>): void {
    for (const name of names) {
      if (this.ids.has(name)) continue;
      const id = this.names.length;
      // `uses` keys are pid·ACTION_SPAN + id: a larger id would land in the next principal's range.
      if (id >= ACTION_SPAN) throw new RangeError(`action id table full (${ACTION_SPAN} names)`);
      w.put('actions', id, name);
      this.names.push(name);
      this.ids.set(name, id);
      this.undo?.names.push(name);
    }
  }

  /** What the running write added to the in-memory mirrors, to take back if it throws. */
  private undo: { names: string[]; pids: string[] } | undefined;

  /** Runs a write; the in-memory mirrors of ids and pids keep its additions only if it commits. */
  private async transact<T>(fn: (w: KvWriter) => T): Promise<T> {
    const undo = { names: [] as string[], pids: [] as string[] };
    let ran = false;
    // `fn` runs synchronously inside kv.write (both backends), so `undo` is this write's alone.
    this.undo = undo;
    try {
      return await this.kv.write((w) => {
        const result = fn(w);
        ran = true;
        return result;
      });
    } catch (err) {
      if (!ran) {
        for (const name of undo.names) this.ids.delete(name);
        this.names.length -= undo.names.length;
        for (const arn of undo.pids) this.pids.delete(arn);
      }
      throw err;
    } finally {
      if (this.undo === undo) this.undo = undefined;
    }
  }

  actionNames(): Promise<readonly string[]> {
    return Promise.resolve(this.names);
  }

  async actionIds(names: readonly string[]): Promise<Uint32Array> {
    if (names.some((n) => !this.ids.has(n))) {
      await this.transact((w) => this.appendActions(w, names));
    }
    return Uint32Array.from(names, (n) => this.ids.get(n)!);
  }

  async commit(entries: readonly CommitEntry[]): Promise<CommitResult> {
    return this.transact((direct) => {
      // Write-back within the batch: a (principal, day) or (principal, action) that several
      // files of the batch touch is read and encoded once, not once per file.
      const w = new BatchWriter(direct);
      const result: CommitResult = { merged: 0, alreadyIngested: 0, alreadyIngestedKeys: [] };
      const batch = new Map<string, string>(); // objects merged by this transaction
      const metas = new Map<number, MetaAcc>();
      for (const { object, delta } of entries) {
        const objectKey = lookupKey(object.key);
        if (batch.get(object.key) === object.tag || w.get('objects', objectKey) === object.tag) {
          result.alreadyIngested++;
          result.alreadyIngestedKeys.push(object.key);
          continue;
        }
        this.merge(w, delta, metas);
        w.put('objects', objectKey, object.tag);
        batch.set(object.key, object.tag);
        result.merged++;
      }
      for (const [pid, m] of metas) {
        const meta: StoredMeta = [m.arn, m.actions, m.used, m.first, m.last, m.version + 1];
        w.put('pmeta', pid, meta);
      }
      w.flush();
      return result;
    });
  }

  private merge(w: KvWriter, delta: FileDelta, metas: Map<number, MetaAcc>): void {
    this.appendActions(w, delta.actions);
    const gids = delta.actions.map((n) => this.ids.get(n)!);
    const pids = delta.principals.map((arn) => this.pidFor(w, arn));
    const metaOf = (p: number): MetaAcc => {
      const pid = pids[p];
      let m = metas.get(pid);
      if (m === undefined) {
        const stored = principalMeta(w.get('pmeta', pid));
        m = new MetaAcc(delta.principals[p], stored);
        metas.set(pid, m);
      }
      return m;
    };

    for (const d of delta.days) {
      const m = metaOf(d.p);
      if (
        d.used.some((a) => gids[a] === undefined) ||
        d.denied.some((a) => gids[a] === undefined)
      ) {
        throw new RangeError(`malformed delta: action index out of range`);
      }
      const used = d.used.map((a) => m.local(gids[a])).sort((x, y) => x - y);
      const denied = d.denied.map((a) => m.local(gids[a])).sort((x, y) => x - y);
      const key = pids[d.p] * DAY_SPAN + d.day;
      if (!Number.isInteger(key) || d.day < 0 || d.day >= DAY_SPAN) {
        throw new RangeError(`malformed delta: day set (${d.p}, ${d.day})`);
      }
      const usedBytes = encodeIds(used);
      let [oldUsed, oldDenied]: Uint8Array[] = [new Uint8Array(0), NO_DENIED];
      const prev = w.get('days', key) as Uint8Array | undefined;
      if (prev !== undefined) [oldUsed, oldDenied] = unpackDay(prev);
      w.put(
        'days',
        key,
        packDay(unionEncoded(oldUsed, usedBytes), unionEncoded(oldDenied, encodeIds(denied))),
      );
      if (used.length) m.used = unionEncoded(m.used, usedBytes);
      m.see(d.day);
    }

    for (const u of delta.uses) {
      const key = pids[u.p] * ACTION_SPAN + gids[u.a];
      if (!Number.isInteger(key)) throw new RangeError(`malformed delta: use (${u.p}, ${u.a})`);
      const prev = useOf(w.get('uses', key));
      let deniedLast = prev?.[4] ?? 0;
      let deniedCode = prev?.[5] ?? '';
      if (u.deniedLast > deniedLast || (u.deniedLast === deniedLast && u.deniedCode > deniedCode)) {
        deniedLast = u.deniedLast;
        deniedCode = u.deniedCode;
      }
      const next: UseRecord = [
        minTime(prev?.[0] ?? 0, u.firstSeen),
        Math.max(prev?.[1] ?? 0, u.lastSeen),
        (prev?.[2] ?? 0) + u.count,
        (prev?.[3] ?? 0) + u.deniedCount,
        deniedLast,
        deniedCode,
        prev
          ? mergeSample(prev[6], u.resources, this.maxResources, true)
          : mergeSample(u.resources, [], this.maxResources),
      ];
      w.put('uses', key, next);
    }

    for (const pr of delta.passRoles) {
      const key = pids[pr.p] * DAY_SPAN + pr.day;
      if (!Number.isInteger(key)) throw new RangeError(`malformed delta: pass role (${pr.p})`);
      const prev = (w.get('passroles', key) as PassRoleRecord[] | undefined) ?? [];
      const next = prev.map((r): PassRoleRecord => [...r]);
      const hit = next.find((r) => r[0] === pr.role && r[1] === pr.service);
      if (hit) hit[2] = Math.max(hit[2], pr.lastSeen);
      else next.push([pr.role, pr.service, pr.lastSeen]);
      w.put('passroles', key, next);
      metaOf(pr.p).see(pr.day);
    }

    for (const { source, name, count } of delta.unmapped) {
      const key = listedKey(source, name);
      w.put('unmapped', key, ((w.get('unmapped', key) as number | undefined) ?? 0) + count);
    }
    for (const name of delta.unknownActions) w.put('unknown', listedKey(name), 1);

    // Instance profile → roles, organization-wide (a set union: order and redelivery do not matter).
    for (const { profile, role } of delta.profileRoles ?? []) {
      const key = lookupKey(profile);
      const prev = (w.get('profiles', key) as string[] | undefined) ?? [];
      if (!prev.includes(role)) w.put('profiles', key, [...prev, role].sort());
    }
  }

  private pidFor(w: KvWriter, arn: string): number {
    let pid = this.pids.get(arn);
    if (pid !== undefined) return pid;
    pid = w.get('principals', lookupKey(arn)) as number | undefined;
    if (pid === undefined) {
      pid = ((w.get('meta', 'nextPid') as number | undefined) ?? 0) as number;
      w.put('meta', 'nextPid', pid + 1);
      w.put('principals', lookupKey(arn), pid);
      this.undo?.pids.push(arn);
    }
    this.pids.set(arn, pid);
    return pid;
  }

  private pidOf(r: KvReader, arn: string): number | undefined {
    const cached = this.pids.get(arn);
    if (cached !== undefined) return cached;
    const pid = r.get('principals', lookupKey(arn)) as number | undefined;
    if (pid !== undefined) this.pids.set(arn, pid);
    return pid;
  }

  version(principal: string): Promise<number | undefined> {
    const v = this.kv.read((r) => {
      const pid = this.pidOf(r, principal);
      if (pid === undefined) return undefined;
      // Asked before every cached policy answer: read it off the bytes when they are there.
      const bytes = r.bytes?.('pmeta', pid);
      const fast = bytes === undefined ? undefined : metaVersionOf(bytes);
      return fast ?? principalMeta(r.get('pmeta', pid))?.v ?? 0;
    });
    return Promise.resolve(v);
  }

  isIngested(object: ObjectRef): Promise<boolean> {
    return Promise.resolve(
      this.kv.read((r) => r.get('objects', lookupKey(object.key)) === object.tag),
    );
  }

  principals(): Promise<PrincipalSummary[]> {
    const out = this.kv.read((r) => {
      const list: PrincipalSummary[] = [];
      for (const { value } of r.range('pmeta')) {
        const m = principalMeta(value)!;
        list.push({
          principal: m.arn,
          firstSeen: dayToIso(m.first),
          lastSeen: dayToIso(m.last),
          actions: decodeIds(m.used).length,
        });
      }
      return list;
    });
    return Promise.resolve(out.sort((a, b) => cmp(a.principal, b.principal)));
  }

  windowActions(principal: string, fromDay: Day, toDay: Day): Promise<WindowActions> {
    const result = this.kv.read((r) => {
      const pid = this.pidOf(r, principal);
      if (pid === undefined || toDay < fromDay)
        return { used: new Uint32Array(0), denied: new Uint32Array(0) };
      const meta = principalMeta(r.get('pmeta', pid))!;
      let used: Uint32Array = new Uint32Array(Math.ceil(meta.actions.length / 32));
      let denied: Uint32Array = new Uint32Array(0);
      const start = pid * DAY_SPAN + Math.max(0, fromDay);
      const end = pid * DAY_SPAN + Math.min(DAY_SPAN - 1, toDay) + 1;
      for (const { value } of r.range('days', start, end)) {
        const [u, d] = unpackDay(value as Uint8Array);
        used = orInto(used, u);
        if (d.length) denied = orInto(denied, d);
      }
      const toGlobal = (bitmap: Uint32Array) => {
        const local = bitmapIds(bitmap);
        const ids = new Uint32Array(local.length);
        for (let i = 0; i < local.length; i++) ids[i] = meta.actions[local[i]];
        return ids.sort();
      };
      return { used: toGlobal(used), denied: toGlobal(denied) };
    });
    return Promise.resolve(result);
  }

  actionDetails(principal: string, actions?: Uint32Array): Promise<ActionDetail[]> {
    const out = this.kv.read((r) => {
      const pid = this.pidOf(r, principal);
      if (pid === undefined) return [];
      const list: ActionDetail[] = [];
      const add = (action: number, value: unknown) => {
        const u = useOf(value)!;
        list.push({
          action,
          firstSeen: u[0],
          lastSeen: u[1],
          count: u[2],
          deniedCount: u[3],
          deniedLast: u[4],
          deniedCode: u[5],
          resources: [...u[6]],
        });
      };
      if (actions === undefined) {
        const base = pid * ACTION_SPAN;
        for (const { key, value } of r.range('uses', base, base + ACTION_SPAN)) {
          add((key as number) - base, value);
        }
      } else {
        for (const a of actions) {
          const u = r.get('uses', pid * ACTION_SPAN + a);
          if (u !== undefined) add(a, u);
        }
      }
      return list.sort((a, b) => a.action - b.action);
    });
    return Promise.resolve(out);
  }

  passRoles(principal: string, fromDay: Day, toDay: Day): Promise<PassRoleDetail[]> {
    const out = this.kv.read((r) => {
      const pid = this.pidOf(r, principal);
      if (pid === undefined || toDay < fromDay) return [];
      const merged = new Map<string, PassRoleDetail>();
      const start = pid * DAY_SPAN + Math.max(0, fromDay);
      const end = pid * DAY_SPAN + Math.min(DAY_SPAN - 1, toDay) + 1;
      for (const { value } of r.range('passroles', start, end)) {
        for (const [target, service, lastSeen] of value as PassRoleRecord[]) {
          // an instance profile stands for the roles seen added to it (none known: left out)
          const roles = isProfileArn(target)
            ? ((r.get('profiles', lookupKey(target)) as string[] | undefined) ?? [])
            : [target];
          for (const role of roles) {
            const key = role + '\u0000' + service;
            const prev = merged.get(key);
            if (!prev) merged.set(key, { role, service, lastSeen });
            else if (lastSeen > prev.lastSeen) prev.lastSeen = lastSeen;
          }
        }
      }
      return [...merged.values()].sort((a, b) => cmp(a.service, b.service) || cmp(a.role, b.role));
    });
    return Promise.resolve(out);
  }

  unmapped(): Promise<UnmappedCount[]> {
    const out = this.kv.read((r) => {
      const list: UnmappedCount[] = [];
      for (const { key, value } of r.range('unmapped')) {
        const k = textOf(key);
        const cut = k.indexOf('\u0000');
        list.push({ source: k.slice(0, cut), name: k.slice(cut + 1), count: value as number });
      }
      return list;
    });
    return Promise.resolve(
      out.sort((a, b) => b.count - a.count || cmp(a.source, b.source) || cmp(a.name, b.name)),
    );
  }

  principalCount(): Promise<number> {
    // Principal ids are dense and assigned once: the next id is the count.
    return Promise.resolve(
      (this.kv.read((r) => r.get('meta', 'nextPid')) as number | undefined) ?? 0,
    );
  }

  unknownActions(): Promise<string[]> {
    const out = this.kv.read((r) => [...r.range('unknown')].map(({ key }) => textOf(key)));
    return Promise.resolve(out.sort());
  }

  close(): Promise<void> {
    return this.kv.close();
  }
}

/** Buffers puts of one transaction and writes each key once at the end. */
class BatchWriter implements KvWriter {
  private readonly w: KvWriter;
  private readonly pending = new Map<Table, Map<Key, unknown>>();

  constructor(w: KvWriter) {
    this.w = w;
  }

  get(t: Table, k: Key): unknown {
    const m = this.pending.get(t);
    if (m !== undefined && m.has(k)) return m.get(k);
    return this.w.get(t, k);
  }

  range(t: Table, start?: Key, end?: Key): Iterable<{ key: Key; value: unknown }> {
    if (this.pending.get(t)?.size)
      throw new Error(`range over ${t} inside a batch that changed it`);
    return this.w.range(t, start, end);
  }

  put(t: Table, k: Key, v: unknown): void {
    let m = this.pending.get(t);
    if (m === undefined) this.pending.set(t, (m = new Map()));
    m.set(k, v);
  }

  flush(): void {
    for (const [t, m] of this.pending) for (const [k, v] of m) this.w.put(t, k, v);
    this.pending.clear();
  }
}

/** A principal's meta inside one commit: local ids assigned as actions first appear. */
class MetaAcc {
  readonly arn: string;
  readonly actions: number[];
  private readonly localOf = new Map<number, number>();
  used: Uint8Array;
  first: Day;
  last: Day;
  readonly version: number;

  constructor(arn: string, stored: PrincipalMeta | undefined) {
    this.arn = arn;
    this.version = stored?.v ?? 0;
    this.actions = stored ? [...stored.actions] : [];
    this.actions.forEach((g, i) => this.localOf.set(g, i));
    this.used = stored?.used ?? new Uint8Array(0);
    this.first = stored?.first ?? Infinity;
    this.last = stored?.last ?? -Infinity;
  }

  local(gid: number): number {
    let l = this.localOf.get(gid);
    if (l === undefined) {
      l = this.actions.length;
      this.actions.push(gid);
      this.localOf.set(gid, l);
    }
    return l;
  }

  see(day: Day): void {
    if (day < this.first) this.first = day;
    if (day > this.last) this.last = day;
  }
}

function minTime(a: number, b: number): number {
  if (a === 0) return b;
  if (b === 0) return a;
  return Math.min(a, b);
}

/** Dotted numeric versions ("0.21.202609261"); non-numeric parts compare as text. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '0';
    const y = pb[i] ?? '0';
    const nx = Number(x);
    const ny = Number(y);
    const c = Number.isNaN(nx) || Number.isNaN(ny) ? cmp(x, y) : nx - ny;
    if (c !== 0) return c < 0 ? -1 : 1;
  }
  return 0;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export type { Key };
