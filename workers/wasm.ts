// The WebAssembly record scanner (native/scan.c, built into workers/scan-wasm.ts by
// `npm run build:wasm`): the whole-file path's default reader of a decoded log document.
//
// The module scans the document's text once, validating it as JSON.parse would, and writes one
// row of offsets per record: where each field the accumulator reads lies in the text. This side
// turns a row into the ScannedRecord that workers/scan.ts's JS scanner fills (same fields, same
// values: a string without escapes is a slice of the text, anything else JSON.parse of the
// value's own text), so Accumulator.add and the catalog functions cannot tell the three readers
// apart. test/unit/scan.test.ts checks it against JSON.parse on the fixtures and on generated,
// mutated and truncated documents.
//
// The text goes in as bytes (wasmInflate inflates a file straight into them), and JS reads the
// records through latin1 strings of ~64 KB windows of whole records (byte i is char i): an ASCII
// document's text; a UTF-8 document's strings that hold other characters (a few records of a
// file, when any) are marked not plain by the scanner and decoded from the bytes. Neither an
// inflated buffer nor a string of the whole document is made per file: both were ~1 MB each,
// outside V8's young generation, and set off a full collection every few dozen files. The
// instance belongs to the thread that loads this module; its memory grows to the largest
// document scanned (about 1.2× its bytes, so ≤ 20 MB at the 16 MiB whole-file limit: arithmetic,
// not measured) and stays that size.
//
// WasmRecordStream (below) runs the same scanner over a file too large to hold, a piece at a
// time: the C side keeps where it is in the Records array between pieces, and each piece's
// records are filled from that piece's own text.
import { isUtf8 } from 'node:buffer';
import { constants, createGunzip, type Gunzip } from 'node:zlib';
import { parseRange, ScannedRecord } from './scan.ts';
import { SCAN_WASM_BASE64 } from './scan-wasm.ts';

// @types/node leaves WebAssembly to lib.dom: the members used here.
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
};
interface Memory {
  readonly buffer: ArrayBuffer;
}

/** The layout native/scan.c writes; its ABI constant must match. */
const ABI = 10;
const F_EVENT_ID = 0;
const F_EVENT_TYPE = 1;
const F_EVENT_CATEGORY = 2;
const F_INSIGHT = 3;
const F_SOURCE = 4;
const F_NAME = 5;
const F_TIME = 6;
const F_TIMESTAMP = 7;
const F_ERROR_CODE = 8;
const F_ERROR_MESSAGE = 9;
const F_REGION = 10;
const F_RECIPIENT = 11;
const F_RESOURCES = 12;
const F_REQUEST = 13;
const F_RESPONSE = 14;
const F_IDENTITY = 15;
const F_U_TYPE = 16;
const F_U_ARN = 17;
const F_U_ACCOUNT = 18;
const F_U_INVOKED_BY = 19;
const F_U_CONTEXT = 20;
const F_U_ISSUER = 21;
const F_U_ISSUER_ARN = 22;
const NFIELDS = 23;
/** row words before the fields: kind, plain bits, dup, pair id, identity id, uuid flag and its
 * four words, inputs id, eventTime's day and second, the element's start and end (native/scan.c) */
const ROW_FIELDS = 15;
const R_START = 13;
const R_END = 14;
/**
 * A document's records are read through latin1 strings of about this many bytes each, a window of
 * whole records: a regular young-generation string, which a scavenge frees, where one string of
 * the whole document (~1 MB) was a large object or external memory, freed only by a full
 * collection, and set off one every few dozen files (bench/README.md).
 */
const WINDOW_BYTES = 64 * 1024;
const ROW_WORDS = ROW_FIELDS + 2 * NFIELDS;

interface Exports {
  memory: Memory;
  abi(): number;
  row_words(): number;
  fields(): number;
  input(bytes: number): number;
  rows(): number;
  scan(bytes: number): number;
  ids_deduped(): number;
  high_bytes(): number;
  stream_start(): void;
  elements(bytes: number, final: number): number;
  stream_consumed(): number;
  stream_closed(): number;
}

/** A new one per document or streamed piece: the scope of its interning ids (ScannedRecord.epoch). */
let epochs = 0;

let instance: Exports | undefined;
let loadError: Error | undefined;

/** The module's exports, loaded once per thread; undefined (and loadError set) when it cannot load. */
function wasm(): Exports | undefined {
  if (instance !== undefined || loadError !== undefined) return instance;
  try {
    const mod = new WebAssembly.Module(Buffer.from(SCAN_WASM_BASE64, 'base64'));
    const exports = new WebAssembly.Instance(mod, {}).exports as unknown as Exports;
    if (exports.abi() !== ABI || exports.row_words() !== ROW_WORDS || exports.fields() !== NFIELDS)
      throw new Error('workers/scan-wasm.ts is from another version (npm run build:wasm)');
    instance = exports;
  } catch (err) {
    loadError = err instanceof Error ? err : new Error(String(err));
  }
  return instance;
}

/** The bytes of the module's memory on this thread (0 before it loads): what it grew to. */
export function wasmMemoryBytes(): number {
  return instance?.memory.buffer.byteLength ?? 0;
}

/** Why the WebAssembly scanner is not available (undefined when it is). */
export function wasmScannerError(): Error | undefined {
  wasm();
  return loadError;
}

/**
 * Scans a document with the WebAssembly scanner, calling onRecord for each Records element (a
 * ScannedRecord, reused, for an object; null for anything else). `bytes`: the document, ASCII or
 * valid UTF-8 (the caller checked: isUtf8), read through latin1 strings of windows of whole
 * records (byte i is char i), of which the records' plain strings are slices; strings holding
 * other characters are decoded from the bytes. False when the scanner does not vouch for the
 * document (or is not available): onRecord has not been called at all (the whole text is
 * scanned first), and the caller takes the JSON.parse path.
 */
export function wasmScanDocument(
  bytes: Buffer,
  onRecord: (record: ScannedRecord | null) => void,
): boolean {
  const w = wasm();
  if (w === undefined) return false;
  const n = bytes.length;
  const at = w.input(n);
  if (at === 0) return false;
  // wasmInflate's bytes are there already; any others are copied in (set() copies even a view
  // of this memory that overlaps the input correctly, over what that view showed).
  if (bytes.buffer !== w.memory.buffer || bytes.byteOffset !== at)
    new Uint8Array(w.memory.buffer, at, n).set(bytes);
  const count = w.scan(n);
  if (count < 0) return false;
  const deduped = w.ids_deduped() === 1;
  const high = w.high_bytes() === 1;
  // Views after the scan: the memory may have grown (a new buffer) while rows were written.
  const src = Buffer.from(w.memory.buffer, at, n);
  const rows = new Int32Array(w.memory.buffer, w.rows(), count * ROW_WORDS);
  const rec = new ScannedRecord();
  rec.epoch = ++epochs;
  const identities: unknown[] = [];
  let text = '';
  let utf8: Buffer | undefined;
  let base = 0;
  let limit = -1;
  for (let r = 0, b = 0; r < count; r++, b += ROW_WORDS) {
    if (rows[b] !== 0) {
      onRecord(null);
      continue;
    }
    if (rows[b + R_END] > limit) {
      // The next window: this record and those after it that end within WINDOW_BYTES.
      base = rows[b + R_START];
      limit = Math.max(rows[b + R_END], Math.min(n, base + WINDOW_BYTES));
      text = src.toString('latin1', base, limit);
      if (high) utf8 = src.subarray(base, limit);
    }
    fill(rec, text, utf8, rows, b, base, deduped, identities);
    onRecord(rec);
  }
  return true;
}

/**
 * Field f of the row at b, as JSON.parse would give it; undefined when absent. `utf8`: the bytes
 * `text` is the latin1 view of, when some string held other characters (those are not plain).
 */
function field(
  text: string,
  utf8: Buffer | undefined,
  rows: Int32Array,
  b: number,
  base: number,
  f: number,
): unknown {
  const start = rows[b + ROW_FIELDS + 2 * f];
  if (start < 0) return undefined;
  const end = rows[b + ROW_FIELDS + 1 + 2 * f] - base;
  if ((rows[b + 1] & (1 << f)) !== 0) return text.slice(start - base + 1, end - 1);
  return parseRange(text, start - base, end, utf8);
}

function isObjectAt(text: string, rows: Int32Array, b: number, base: number, f: number): boolean {
  const start = rows[b + ROW_FIELDS + 2 * f];
  return start >= 0 && text.charCodeAt(start - base) === 123; /* { */
}

/** Field f's start in `text` (which begins at byte `base`), or -1 when the field is absent. */
function startOf(rows: Int32Array, b: number, base: number, f: number): number {
  const start = rows[b + ROW_FIELDS + 2 * f];
  return start < 0 ? -1 : start - base;
}

/**
 * Every field of `rec` from the row at b (`deduped`: the row's dup word is exact). `identities`:
 * the text's userIdentity objects by ident id, shared by the records whose id is the same (the
 * id covers every member built here, and no reader changes them): 85% of the bench corpus's
 * records repeat an earlier identity of their file. A streamed piece passes `deduped` false: a
 * dup hint would cover that piece only, so the accumulator dedups by value (its EventIdSet keeps
 * no slice of the piece).
 */
function fill(
  rec: ScannedRecord,
  text: string,
  utf8: Buffer | undefined,
  rows: Int32Array,
  b: number,
  base: number,
  deduped: boolean,
  identities: unknown[],
): void {
  rec.begin(text, utf8);
  const ident = rows[b + 4];
  // The interning words: hints the accumulator takes instead of its own string lookups.
  rec.dup = deduped ? rows[b + 2] : -1;
  rec.pair = rows[b + 3];
  rec.ident = ident;
  rec.inputs = rows[b + 10];
  rec.timeDay = rows[b + 11];
  rec.timeSecond = rows[b + 12];
  rec.uuid = rows[b + 5] === 1;
  if (rec.uuid) {
    rec.uuid0 = rows[b + 6];
    rec.uuid1 = rows[b + 7];
    rec.uuid2 = rows[b + 8];
    rec.uuid3 = rows[b + 9];
  }
  rec.eventID = field(text, utf8, rows, b, base, F_EVENT_ID);
  rec.eventType = field(text, utf8, rows, b, base, F_EVENT_TYPE);
  rec.eventCategory = field(text, utf8, rows, b, base, F_EVENT_CATEGORY);
  rec.insightDetails = field(text, utf8, rows, b, base, F_INSIGHT);
  rec.eventSource = field(text, utf8, rows, b, base, F_SOURCE);
  rec.eventName = field(text, utf8, rows, b, base, F_NAME);
  rec.eventTime = field(text, utf8, rows, b, base, F_TIME);
  rec['@timestamp'] = field(text, utf8, rows, b, base, F_TIMESTAMP);
  rec.errorCode = field(text, utf8, rows, b, base, F_ERROR_CODE);
  rec.errorMessage = field(text, utf8, rows, b, base, F_ERROR_MESSAGE);
  rec.awsRegion = field(text, utf8, rows, b, base, F_REGION);
  rec.recipientAccountId = field(text, utf8, rows, b, base, F_RECIPIENT);
  rec.resStart = startOf(rows, b, base, F_RESOURCES);
  rec.resEnd = rows[b + ROW_FIELDS + 1 + 2 * F_RESOURCES] - base;
  rec.rpStart = startOf(rows, b, base, F_REQUEST);
  rec.rpEnd = rows[b + ROW_FIELDS + 1 + 2 * F_REQUEST] - base;
  rec.reStart = startOf(rows, b, base, F_RESPONSE);
  rec.reEnd = rows[b + ROW_FIELDS + 1 + 2 * F_RESPONSE] - base;
  if (!isObjectAt(text, rows, b, base, F_IDENTITY)) {
    rec.identity = field(text, utf8, rows, b, base, F_IDENTITY);
    return;
  }
  const known = ident >= 0 ? identities[ident] : undefined;
  if (known !== undefined) {
    rec.identity = known;
    return;
  }
  // What principalOf & co. read of userIdentity, in the shape the JS scanner builds.
  let sessionContext: unknown;
  if (!isObjectAt(text, rows, b, base, F_U_CONTEXT)) {
    sessionContext = field(text, utf8, rows, b, base, F_U_CONTEXT);
  } else {
    sessionContext = {
      sessionIssuer: isObjectAt(text, rows, b, base, F_U_ISSUER)
        ? { arn: field(text, utf8, rows, b, base, F_U_ISSUER_ARN) }
        : field(text, utf8, rows, b, base, F_U_ISSUER),
    };
  }
  rec.identity = {
    type: field(text, utf8, rows, b, base, F_U_TYPE),
    arn: field(text, utf8, rows, b, base, F_U_ARN),
    accountId: field(text, utf8, rows, b, base, F_U_ACCOUNT),
    invokedBy: field(text, utf8, rows, b, base, F_U_INVOKED_BY),
    sessionContext,
  };
  if (ident >= 0) identities[ident] = rec.identity;
}

/** What wasmInflate needs of node:zlib's native handle (see engine()). */
interface ZlibHandle {
  reset(): void;
  writeSync(
    flush: number,
    input: Uint8Array,
    inOffset: number,
    inLength: number,
    output: Uint8Array,
    outOffset: number,
    outLength: number,
  ): void;
}
type Engine = Gunzip & { _handle?: ZlibHandle; _writeState?: Uint32Array };

let gunzip: Engine | undefined;
/** where wasmInflate left its bytes: the scanner's input (see wasmInflated) */
let inflatedAt = 0;

/**
 * A Gunzip whose native handle inflates into memory it is given, as gunzipSync does into a new
 * buffer (node:zlib's processChunkSync calls the same writeSync). Not a public API, so it is used
 * only while it looks as expected; undefined otherwise (wasmInflate then declines).
 */
function engine(): { handle: ZlibHandle; state: Uint32Array } | undefined {
  if (gunzip === undefined || gunzip.destroyed) {
    gunzip = createGunzip() as Engine;
    gunzip.on('error', () => {}); // an error destroys it: the next call makes a new one
  }
  const handle = gunzip._handle;
  const state = gunzip._writeState;
  if (typeof handle?.writeSync !== 'function' || typeof handle.reset !== 'function') return;
  if (!(state instanceof Uint32Array) || state.length < 2) return;
  return { handle, state };
}

/**
 * Inflates a gzip file straight into the scanner's input when it inflates to exactly `size`
 * bytes (the trailer's hint): the bytes, viewed over the module's memory, which the next document
 * scanned takes over. Undefined when this path cannot vouch for them (a zlib error, another size,
 * trailing bytes, no handle to call): the caller then runs gunzipSync, which decides. A file costs
 * no new buffer this way, where gunzipSync's ~1 MB one per file, memory outside V8's heap, set
 * off a full garbage collection every few dozen files (bench/README.md).
 */
export function wasmInflate(gz: Uint8Array, size: number): Buffer | undefined {
  const w = wasm();
  const z = engine();
  if (w === undefined || z === undefined || size <= 0) return undefined;
  // One byte more than expected: a longer stream then shows as a full output.
  const at = w.input(size + 1);
  if (at === 0) return undefined;
  z.handle.reset();
  try {
    const out = new Uint8Array(w.memory.buffer, at, size + 1);
    z.handle.writeSync(constants.Z_FINISH, gz, 0, gz.length, out, 0, size + 1);
  } catch {
    gunzip?.destroy();
    return undefined;
  }
  // state: [output room left, input left]; an error destroyed the stream (its handler ran).
  if (gunzip!.destroyed || z.state[0] !== 1 || z.state[1] !== 0) return undefined;
  inflatedAt = at;
  return Buffer.from(w.memory.buffer, at, size);
}

/**
 * A copy of the `n` bytes wasmInflate left in the scanner's input, for a reader after the
 * scanner: its view may have gone with the memory a scan grew. Valid until the next document.
 */
export function wasmInflated(n: number): Buffer {
  return Buffer.from(new Uint8Array(wasm()!.memory.buffer, inflatedAt, n));
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/** `{"Records":[` at the start of a document's bytes, as latin1 (a UTF-8 byte order mark and
 * white space allowed). */
const STREAM_PREFIX = /^(?:\xEF\xBB\xBF)?[ \t\n\r]*\{[ \t\n\r]*"Records"[ \t\n\r]*:[ \t\n\r]*\[/;
const STREAM_SUFFIX = /^[ \t\n\r]*\}[ \t\n\r]*$/;
/** Bytes the prefix may take (white space included) before the stream counts as another shape. */
const MAX_PREFIX_BYTES = 256;
/** What may follow the Records array's `]` before the stream counts as another shape. */
const MAX_SUFFIX_BYTES = 4096;

/** Bytes at the end of `b` that start a UTF-8 sequence it does not finish (0-3). */
function unfinished(b: Uint8Array): number {
  for (let k = 1; k <= 3 && k <= b.length; k++) {
    const c = b[b.length - k];
    if ((c & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    return len > k ? k : 0;
  }
  return 0; // three continuation bytes: complete, or invalid (isUtf8 decides)
}

/**
 * The WebAssembly scanner over a document too large to hold, fed its bytes as they inflate: the
 * streaming path's reader for the common shape, `{"Records":[…]}` and nothing else at the top
 * level. Each piece (the bytes carried from the last one, then the new ones, cut after the last
 * whole UTF-8 character) is scanned up to its last complete record, as bytes (valid UTF-8 read
 * through its latin1 string, as wasmScanDocument takes it; each piece on its own, as scan() takes
 * a whole document); the rest is carried, as bytes, into the next.
 *
 * Contract (as wasmScanDocument's): push() and end() return false as soon as the stream is
 * anything the scanner does not vouch for (another top-level shape, invalid JSON or UTF-8, a
 * record past `maxCarry` bytes); the caller then throws the accumulator away and takes the
 * reference path, which decides the error. Records reach onRecord as they complete, so a false
 * can come after some were delivered.
 */
export class WasmRecordStream {
  private readonly onRecord: (record: ScannedRecord | null) => void;
  private readonly maxCarry: number;
  private readonly pieceBytes: number;
  private started = false;
  private closed = false;
  private suffix = '';
  /** bytes not scanned yet: the carried rest of the last piece and what came since */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** scan again once this many bytes are pending (a record longer than a piece) */
  private need = 0;
  private readonly rec = new ScannedRecord();

  /** `pieceBytes`: a chunk pushed is scanned in pieces of at most this many new bytes. */
  constructor(
    onRecord: (record: ScannedRecord | null) => void,
    maxCarry: number,
    pieceBytes = Infinity,
  ) {
    this.onRecord = onRecord;
    this.maxCarry = maxCarry;
    this.pieceBytes = pieceBytes;
  }

  /** The next bytes of the document. */
  push(chunk: Uint8Array): boolean {
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    for (let at = 0; at < bytes.length; at += this.pieceBytes) {
      if (!this.piece(bytes.subarray(at, at + this.pieceBytes))) return false;
    }
    return true;
  }

  private piece(bytes: Buffer): boolean {
    if (this.closed) return this.after(bytes);
    this.pendingBytes += bytes.length;
    if (this.started && this.pendingBytes < this.need) {
      // Kept until a long record completes: a copy, not a view that would keep the whole chunk.
      this.pending.push(Buffer.from(bytes));
      return true;
    }
    this.pending.push(bytes);
    return this.started ? this.scan(false) : this.start(false);
  }

  /** The document ended: true when it was a whole document the scanner vouches for. */
  end(): boolean {
    if (!this.started && !this.start(true)) return false;
    if (!this.closed && !this.scan(true)) return false;
    return this.closed && STREAM_SUFFIX.test(this.suffix);
  }

  /** Reads `{"Records":[` off the pending bytes once there are enough to tell. */
  private start(final: boolean): boolean {
    const head = Buffer.concat(this.pending, this.pendingBytes);
    const m = STREAM_PREFIX.exec(head.subarray(0, MAX_PREFIX_BYTES).toString('latin1'));
    if (m === null) return !final && head.length < MAX_PREFIX_BYTES;
    const w = wasm();
    if (w === undefined) return false;
    w.stream_start();
    this.started = true;
    const rest = head.subarray(m[0].length);
    this.pending = [rest];
    this.pendingBytes = rest.length;
    return final || this.scan(false);
  }

  private scan(final: boolean): boolean {
    const w = wasm()!;
    const parts = this.pending;
    let total = this.pendingBytes;
    // The piece is assembled in the scanner's memory itself: no buffer per piece on this side
    // (allocating one per piece measurably raised peak RSS through malloc's arenas).
    const at = w.input(total);
    if (at === 0) return false;
    const memory = new Uint8Array(w.memory.buffer, at, total);
    let offset = 0;
    for (const part of parts) {
      memory.set(part, offset);
      offset += part.length;
    }
    // A character cut by the chunk goes with the next piece.
    const cut = final ? 0 : unfinished(memory);
    const next = cut > 0 ? Buffer.from(memory.subarray(total - cut)) : undefined;
    total -= cut;
    // Read as wasmScanDocument reads a document: UTF-8 checked first, as decoding it would.
    if (!isUtf8(memory.subarray(0, total))) return false;
    const text = latin1(memory.subarray(0, total));
    const count = w.elements(total, final ? 1 : 0);
    if (count < 0) return false;
    const consumed = w.stream_consumed();
    const rows = new Int32Array(w.memory.buffer, w.rows(), count * ROW_WORDS);
    // The records' non-plain strings decode from a copy: the scanner's memory is the next piece's.
    const utf8 =
      w.high_bytes() === 1 ? Buffer.from(new Uint8Array(w.memory.buffer, at, total)) : undefined;
    const rec = this.rec;
    rec.epoch = ++epochs;
    const identities: unknown[] = [];
    for (let r = 0, b = 0; r < count; r++, b += ROW_WORDS) {
      if (rows[b] !== 0) {
        this.onRecord(null);
        continue;
      }
      fill(rec, text, utf8, rows, b, 0, false, identities);
      this.onRecord(rec);
    }
    // The rest, as its own bytes: nothing keeps the piece or its text alive.
    const rest = Buffer.from(new Uint8Array(w.memory.buffer, at + consumed, total - consumed));
    if (rest.length > this.maxCarry) return false;
    this.pending = next === undefined ? [rest] : [rest, next];
    this.pendingBytes = rest.length + cut;
    // Nothing completed: wait for twice the bytes before scanning them again (a long record is
    // then scanned a bounded number of times, not once per piece).
    this.need = count === 0 ? 2 * total : 0;
    if (w.stream_closed() === 1) {
      this.closed = true;
      const after = Buffer.concat(this.pending);
      this.pending = [];
      this.pendingBytes = 0;
      return this.after(after);
    }
    return true;
  }

  /** Bytes after the array's `]`: only white space and the document's `}` may follow. */
  private after(bytes: Uint8Array): boolean {
    if (this.suffix.length + bytes.length > MAX_SUFFIX_BYTES) return false;
    this.suffix += latin1(bytes);
    return true;
  }
}
