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
// The text goes in as bytes when it is ASCII (byte i is char i of the latin1 string) and as
// UTF-16 code units otherwise (written from the decoded string), so row offsets index the JS
// string in both cases. The instance belongs to the thread that loads this module; its memory
// grows to the largest document scanned (about 1.2× an ASCII file, 2.2× a non-ASCII one, so
// ≤ 40 MB at the 16 MiB whole-file limit) and stays that size.
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
const ABI = 3;
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
/** row words before the fields: kind, plain bits, dup, pair id, identity id (native/scan.c) */
const ROW_FIELDS = 5;
const ROW_WORDS = ROW_FIELDS + 2 * NFIELDS;

interface Exports {
  memory: Memory;
  abi(): number;
  row_words(): number;
  fields(): number;
  input(bytes: number): number;
  rows(): number;
  scan(units: number, wide: number): number;
  ids_deduped(): number;
}

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

/** Why the WebAssembly scanner is not available (undefined when it is). */
export function wasmScannerError(): Error | undefined {
  wasm();
  return loadError;
}

/**
 * Scans the document `text` with the WebAssembly scanner, calling onRecord for each Records
 * element (a ScannedRecord, reused, for an object; null for anything else). `ascii`: the
 * document's bytes when they are all ASCII (then `text` is their latin1 string), else undefined.
 * False when the scanner does not vouch for the document (or is not available): onRecord has
 * not been called at all (the whole text is scanned first), and the caller takes the JSON.parse
 * path.
 */
export function wasmScanDocument(
  text: string,
  ascii: Uint8Array | undefined,
  onRecord: (record: ScannedRecord | null) => void,
): boolean {
  const w = wasm();
  if (w === undefined) return false;
  const n = text.length;
  const wide = ascii === undefined;
  const at = w.input(wide ? n * 2 : n);
  if (at === 0) return false;
  if (wide) Buffer.from(w.memory.buffer, at, n * 2).write(text, 'utf16le');
  else new Uint8Array(w.memory.buffer, at, n).set(ascii);
  const count = w.scan(n, wide ? 1 : 0);
  if (count < 0) return false;
  const deduped = w.ids_deduped() === 1;
  // Views after the scan: the memory may have grown (a new buffer) while rows were written.
  const rows = new Int32Array(w.memory.buffer, w.rows(), count * ROW_WORDS);
  const rec = new ScannedRecord();
  const identities: unknown[] = [];
  for (let r = 0, b = 0; r < count; r++, b += ROW_WORDS) {
    if (rows[b] !== 0) {
      onRecord(null);
      continue;
    }
    fill(rec, text, rows, b, deduped, identities);
    onRecord(rec);
  }
  return true;
}

/** Field f of the row at b, as JSON.parse would give it; undefined when absent. */
function field(text: string, rows: Int32Array, b: number, f: number): unknown {
  const start = rows[b + ROW_FIELDS + 2 * f];
  if (start < 0) return undefined;
  const end = rows[b + ROW_FIELDS + 1 + 2 * f];
  if ((rows[b + 1] & (1 << f)) !== 0) return text.slice(start + 1, end - 1);
  return parseRange(text, start, end);
}

function isObjectAt(text: string, rows: Int32Array, b: number, f: number): boolean {
  const start = rows[b + ROW_FIELDS + 2 * f];
  return start >= 0 && text.charCodeAt(start) === 123; /* { */
}

/**
 * Every field of `rec` from the row at b (`deduped`: the row's dup word is exact). `identities`:
 * the document's userIdentity objects by ident id, shared by the records whose id is the same
 * (the id covers every member built here, and no reader changes them): 85% of the bench corpus's
 * records repeat an earlier identity of their file.
 */
function fill(
  rec: ScannedRecord,
  text: string,
  rows: Int32Array,
  b: number,
  deduped: boolean,
  identities: unknown[],
): void {
  rec.begin(text);
  // The interning words: hints the accumulator takes instead of its own string lookups.
  rec.dup = deduped ? rows[b + 2] : -1;
  rec.pair = rows[b + 3];
  rec.ident = rows[b + 4];
  rec.eventID = field(text, rows, b, F_EVENT_ID);
  rec.eventType = field(text, rows, b, F_EVENT_TYPE);
  rec.eventCategory = field(text, rows, b, F_EVENT_CATEGORY);
  rec.insightDetails = field(text, rows, b, F_INSIGHT);
  rec.eventSource = field(text, rows, b, F_SOURCE);
  rec.eventName = field(text, rows, b, F_NAME);
  rec.eventTime = field(text, rows, b, F_TIME);
  rec['@timestamp'] = field(text, rows, b, F_TIMESTAMP);
  rec.errorCode = field(text, rows, b, F_ERROR_CODE);
  rec.errorMessage = field(text, rows, b, F_ERROR_MESSAGE);
  rec.awsRegion = field(text, rows, b, F_REGION);
  rec.recipientAccountId = field(text, rows, b, F_RECIPIENT);
  rec.resStart = rows[b + ROW_FIELDS + 2 * F_RESOURCES];
  rec.resEnd = rows[b + ROW_FIELDS + 1 + 2 * F_RESOURCES];
  rec.rpStart = rows[b + ROW_FIELDS + 2 * F_REQUEST];
  rec.rpEnd = rows[b + ROW_FIELDS + 1 + 2 * F_REQUEST];
  rec.reStart = rows[b + ROW_FIELDS + 2 * F_RESPONSE];
  rec.reEnd = rows[b + ROW_FIELDS + 1 + 2 * F_RESPONSE];
  if (!isObjectAt(text, rows, b, F_IDENTITY)) {
    rec.identity = field(text, rows, b, F_IDENTITY);
    return;
  }
  const known = rec.ident >= 0 ? identities[rec.ident] : undefined;
  if (known !== undefined) {
    rec.identity = known;
    return;
  }
  // What principalOf & co. read of userIdentity, in the shape the JS scanner builds.
  let sessionContext: unknown;
  if (!isObjectAt(text, rows, b, F_U_CONTEXT)) {
    sessionContext = field(text, rows, b, F_U_CONTEXT);
  } else {
    sessionContext = {
      sessionIssuer: isObjectAt(text, rows, b, F_U_ISSUER)
        ? { arn: field(text, rows, b, F_U_ISSUER_ARN) }
        : field(text, rows, b, F_U_ISSUER),
    };
  }
  rec.identity = {
    type: field(text, rows, b, F_U_TYPE),
    arn: field(text, rows, b, F_U_ARN),
    accountId: field(text, rows, b, F_U_ACCOUNT),
    invokedBy: field(text, rows, b, F_U_INVOKED_BY),
    sessionContext,
  };
  if (rec.ident >= 0) identities[rec.ident] = rec.identity;
}
