// A CloudTrail record scanner: walks the decoded text of a log document once, validating it as
// strictly as JSON.parse does, and extracts only the depth-1 fields of each record that the
// accumulator reads, without building objects for the rest of the record. It mostly jumps
// between string delimiters with String.prototype.indexOf (memchr speed) and looks at the few
// structural characters in between.
//
// Opt-in (ParseOptions.scanner, default off). Measured on the bench machine (2 vCPU Xeon, Node
// 24, bench corpus): the scanner alone ≈ JSON.parse alone (~4 µs per 1.4 KB record), and whole
// parseLogFile with it was within noise of JSON.parse on small files and ~25% slower than
// RecordSplitter + JSON.parse on a 73 MB file. A JS loop that must validate every byte (NOT_JSON
// has to stay NOT_JSON) does not beat V8's native parser there; the scanner is kept, proven equal
// by test/unit/scan.test.ts, for machines or Node versions where it does (A/B with the option).
// The WebAssembly scanner (workers/wasm.ts, native/scan.c) does the same job in one compiled pass
// and is the whole-file default; it fills this file's ScannedRecord. StreamScanner below (the
// opt-in streaming scanner) is JS only.
//
// Contract: scanDocument() either returns true, having added every record to the accumulator
// exactly as JSON.parse + Accumulator.add would have, or returns false (the text is not valid
// JSON, not a CloudTrail document, or uses something the scanner does not handle, such as a
// second "Records" key) and the caller must throw the accumulator away and take the JSON.parse
// path, which then decides the error code. It never accepts text that JSON.parse rejects:
// - strings: a backslash or a control character inside a string sends it to a char-by-char
//   check (escapes validated as JSON.parse does); both are found with native searches, so a
//   string without them costs one indexOf;
// - control characters: JSON allows only \t \n \r, and only between tokens. The caller passes
//   `controls`: whether the bytes hold any byte below 0x20 (checked with a SWAR loop before
//   decoding). Without any, strings need no control check at all; with some, the next
//   \t, \n and \r are tracked with indexOf and any other control character sends the file back;
// - numbers, literals, commas, colons and nesting are checked in full.
//
// Values are decoded exactly as JSON.parse decodes them: a string without a backslash is a slice
// of the text; anything else (escaped strings, numbers, null, objects where strings belong) is
// JSON.parse of the value's own text. Duplicate keys: the last one wins, as in JSON.parse.
//
// Retained strings: slices of the document text keep the whole text alive in V8 (sliced
// strings). The accumulator copies what it keeps beyond a record (see flat() in accumulate.ts;
// its EventIdSet keeps a UUID's bits, a copy of any other id), so a delta never pins a file's
// text or a chunk.

import { REQUEST_MAY_HOLD } from '../src/catalog/resources.ts';

const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const COLON = 58;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;

/** Bit per char code: JSON whitespace. */
const isWs = (c: number): boolean => c === 32 || c === 10 || c === 13 || c === 9;

/** Control characters other than \t \n \r: invalid anywhere in JSON text. */
// eslint-disable-next-line no-control-regex -- control characters are what it finds
const BAD_CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f]/;

/** Copies a string so that it no longer references the text it was sliced from. */
export function flat(s: string): string {
  return (' ' + s).slice(1);
}

/**
 * True when `bytes` holds a byte below 0x20 (a control character, whitespace \t\n\r included).
 * Four bytes at a time (the classic "hasless" bit trick); exact for "is there any".
 */
export function hasControlBytes(bytes: Uint8Array): boolean {
  const n = bytes.length;
  let i = 0;
  const head = (4 - (bytes.byteOffset & 3)) & 3;
  for (; i < head && i < n; i++) if (bytes[i] < 0x20) return true;
  const words = (n - i) >>> 2;
  if (words > 0) {
    const w = new Uint32Array(bytes.buffer, bytes.byteOffset + i, words);
    let acc = 0;
    for (let k = 0; k < words; k++) {
      const x = w[k];
      acc |= (x - 0x20202020) & ~x;
      // Checked every 1024 words: an early exit is cheap and a clean file is the common case.
      if ((k & 1023) === 1023 && (acc & 0x80808080) !== 0) return true;
    }
    if ((acc & 0x80808080) !== 0) return true;
    i += words << 2;
  }
  for (; i < n; i++) if (bytes[i] < 0x20) return true;
  return false;
}

/**
 * The fields of one record the accumulator and the catalog functions read, under the same names
 * as on a JSON.parse'd record, so Accumulator.add, resourcesOf and passRolesOf take either. One
 * instance per document, refilled for every record (no per-record allocation); the large
 * fields are parsed from their text only when read.
 */
export class ScannedRecord {
  eventID: unknown = undefined;
  eventType: unknown = undefined;
  eventCategory: unknown = undefined;
  insightDetails: unknown = undefined;
  eventSource: unknown = undefined;
  eventName: unknown = undefined;
  eventTime: unknown = undefined;
  '@timestamp': unknown = undefined;
  errorCode: unknown = undefined;
  errorMessage: unknown = undefined;
  awsRegion: unknown = undefined;
  recipientAccountId: unknown = undefined;
  /** userIdentity: a minimal object holding exactly the members principalOf & co. read */
  identity: unknown = undefined;
  /** text and value ranges of the lazily parsed fields; start -1 when absent */
  text = '';
  /** the bytes `text` is the latin1 view of, when some of its strings are UTF-8 (see parseRange) */
  utf8: Buffer | undefined = undefined;
  resStart = -1;
  resEnd = -1;
  rpStart = -1;
  rpEnd = -1;
  reStart = -1;
  reEnd = -1;
  /**
   * Hints from the WebAssembly scanner (workers/wasm.ts), -1 when it gave none (the JS scanner
   * never does): dup 1 / 0 whether the eventID repeats an earlier record's of this document,
   * exactly; pair: an id per distinct (eventSource, eventName) of this document; ident: an id per
   * distinct userIdentity as principalOf reads it. Equal ids mean equal values; the accumulator
   * keys its memos by them instead of by string. pair and ident ids hold within one `epoch` (a
   * whole document, or one piece of a streamed one); the accumulator forgets them when it changes.
   * uuid: the eventID is a lowercase UUID whose 128 bits are uuid0..uuid3 (EventIdSet's words),
   * which the accumulator dedups by where dup is not exact (a streamed piece). inputs: an id per
   * distinct text of eventName, awsRegion, recipientAccountId, resources, requestParameters and
   * responseElements (what resourcesOf reads besides userIdentity), within the epoch. timeDay:
   * when eventTime is a plain "YYYY-MM-DDTHH:MM:SSZ" of a real date from 1970 on, its day since
   * 1970-01-01 (and timeSecond its second of the day), else -1: the accumulator parses the string.
   */
  dup = -1;
  epoch = 0;
  pair = -1;
  ident = -1;
  inputs = -1;
  timeDay = -1;
  timeSecond = 0;
  uuid = false;
  uuid0 = 0;
  uuid1 = 0;
  uuid2 = 0;
  uuid3 = 0;
  private res: unknown = undefined;
  private rp: unknown = undefined;
  private re: unknown = undefined;
  private parsed = 0; // bits: 1 resources, 2 requestParameters, 4 responseElements

  get userIdentity(): unknown {
    return this.identity;
  }

  get resources(): unknown {
    if ((this.parsed & 1) === 0) {
      this.parsed |= 1;
      this.res = this.lazy(this.resStart, this.resEnd);
    }
    return this.res;
  }

  get requestParameters(): unknown {
    if ((this.parsed & 2) === 0) {
      this.parsed |= 2;
      this.rp = this.lazy(this.rpStart, this.rpEnd);
    }
    return this.rp;
  }

  /** See REQUEST_MAY_HOLD (src/catalog/resources.ts). */
  [REQUEST_MAY_HOLD](needle: string): boolean {
    if (this.rpStart < 0 || (this.parsed & 2) !== 0) return true;
    // A slice of a flat string is a view in V8: the two searches stay inside the range.
    const text = this.text.slice(this.rpStart, this.rpEnd);
    return text.includes(needle) || text.includes('\\');
  }

  get responseElements(): unknown {
    if ((this.parsed & 4) === 0) {
      this.parsed |= 4;
      this.re = this.lazy(this.reStart, this.reEnd);
    }
    return this.re;
  }

  /** The value at text[start, end), undefined when start is -1 (the field is absent). */
  private lazy(start: number, end: number): unknown {
    return start < 0 ? undefined : parseRange(this.text, start, end, this.utf8);
  }

  /**
   * A new record over `text`: forgets the lazily parsed values. The caller then sets every
   * field (the WebAssembly scanner fills all of them from its row); reset() clears them too.
   */
  begin(text: string, utf8?: Buffer): void {
    this.text = text;
    this.utf8 = utf8;
    this.res = this.rp = this.re = undefined;
    this.parsed = 0;
  }

  reset(text: string): void {
    this.begin(text);
    this.eventID = undefined;
    this.eventType = undefined;
    this.eventCategory = undefined;
    this.insightDetails = undefined;
    this.eventSource = undefined;
    this.eventName = undefined;
    this.eventTime = undefined;
    this['@timestamp'] = undefined;
    this.errorCode = undefined;
    this.errorMessage = undefined;
    this.awsRegion = undefined;
    this.recipientAccountId = undefined;
    this.identity = undefined;
    this.resStart = this.rpStart = this.reStart = -1;
    this.dup = this.pair = this.ident = this.inputs = this.timeDay = -1;
  }
}

/**
 * The JSON value at text[start, end), as JSON.parse gives it. `utf8`: the bytes `text` is the
 * latin1 view of (the WebAssembly scanner reads a UTF-8 document as bytes); the value is then
 * decoded from them.
 */
export function parseRange(text: string, start: number, end: number, utf8?: Buffer): unknown {
  // `"responseElements":null` is common: no JSON.parse call for it.
  if (end - start === 4 && text.charCodeAt(start) === 110 /* n */) return null;
  return JSON.parse(
    utf8 === undefined ? text.slice(start, end) : utf8.toString('utf8', start, end),
  );
}

// Record keys the scanner extracts. Slot numbers: plain constants (erasable syntax only).
const K_OTHER = 0;
const K_EVENT_ID = 1;
const K_EVENT_TYPE = 2;
const K_EVENT_CATEGORY = 3;
const K_INSIGHT = 4;
const K_SOURCE = 5;
const K_NAME = 6;
const K_TIME = 7;
const K_TIMESTAMP = 8;
const K_ERROR_CODE = 9;
const K_ERROR_MESSAGE = 10;
const K_REGION = 11;
const K_RECIPIENT = 12;
const K_IDENTITY = 13;
const K_RESOURCES = 14;
const K_REQUEST = 15;
const K_RESPONSE = 16;

/**
 * Wanted keys behind a small hash of (length and four chars): a key costs four
 * charCodeAt and one table load, and only a likely match is confirmed with startsWith. (Slicing
 * every key and looking it up in a Map measured 2-3x slower.)
 */
class KeyTable {
  static readonly SIZE = 1024;
  readonly table = new Int16Array(KeyTable.SIZE);
  readonly keys: string[] = [''];
  readonly slots: number[] = [0];
  readonly map: ReadonlyMap<string, number>;
  constructor(entries: readonly (readonly [string, number])[]) {
    this.map = new Map(entries);
    for (const [key, slot] of entries) {
      const h = keyHash(key, 0, key.length);
      if (this.table[h] !== 0)
        throw new Error(`KeyTable: ${key} collides with ${this.keys[this.table[h]]}`);
      this.table[h] = this.keys.length;
      this.keys.push(key);
      this.slots.push(slot);
    }
  }
}

/** Hash of the key s[at, at + len) (len > 0): length and four of its chars. */
function keyHash(s: string, at: number, len: number): number {
  return (
    (len * 37 +
      s.charCodeAt(at) * 11 +
      s.charCodeAt(at + (len >> 1)) * 5 +
      s.charCodeAt(at + len - 1) * 3 +
      s.charCodeAt(at + ((len * 3) >> 2))) &
    (KeyTable.SIZE - 1)
  );
}

const RECORD_KEYS = new KeyTable([
  ['eventID', K_EVENT_ID],
  ['eventType', K_EVENT_TYPE],
  ['eventCategory', K_EVENT_CATEGORY],
  ['insightDetails', K_INSIGHT],
  ['eventSource', K_SOURCE],
  ['eventName', K_NAME],
  ['eventTime', K_TIME],
  ['@timestamp', K_TIMESTAMP],
  ['errorCode', K_ERROR_CODE],
  ['errorMessage', K_ERROR_MESSAGE],
  ['awsRegion', K_REGION],
  ['recipientAccountId', K_RECIPIENT],
  ['userIdentity', K_IDENTITY],
  ['resources', K_RESOURCES],
  ['requestParameters', K_REQUEST],
  ['responseElements', K_RESPONSE],
]);

// userIdentity members read by principalOf, partitionOf and fillContext.
const U_TYPE = 1;
const U_ARN = 2;
const U_ACCOUNT = 3;
const U_INVOKED_BY = 4;
const U_SESSION_CONTEXT = 5;
const IDENTITY_KEYS = new KeyTable([
  ['type', U_TYPE],
  ['arn', U_ARN],
  ['accountId', U_ACCOUNT],
  ['invokedBy', U_INVOKED_BY],
  ['sessionContext', U_SESSION_CONTEXT],
]);
const TOP_KEYS = new KeyTable([['Records', 1]]);
const SESSION_CONTEXT_KEYS = new KeyTable([['sessionIssuer', 1]]);
const ISSUER_KEYS = new KeyTable([['arn', 1]]);

/** What principalOf & co. see of a userIdentity object: the members they read, nothing else. */
interface Identity {
  type: unknown;
  arn: unknown;
  accountId: unknown;
  invokedBy: unknown;
  sessionContext: unknown;
}

/**
 * The scanner over one text (a whole document, or in streaming mode the text of the records
 * cut from one chunk). Methods return the index after what they consumed, or -1 when the text
 * is not valid JSON or not something the scanner handles.
 */
export class Scanner {
  private s = '';
  private n = 0;
  /** the next backslash (n when none), valid while it is not behind the scan position */
  private bs = -1;
  /** whether the text may hold \t \n \r (the caller checked that no other control is present) */
  private controls = false;
  private nl = -1;
  private cr = -1;
  private tab = -1;
  /** set by str(): the string just scanned holds a backslash */
  private escaped = false;
  /** set by member(): start of the value of the member just read */
  keyEnd = 0;
  /** value extracted by the last sub-object scan, by slot */
  private readonly slots: unknown[] = [];
  readonly rec = new ScannedRecord();

  /**
   * Prepares for scanning `text`. Returns false when the text holds a control character other
   * than \t \n \r: JSON never allows one, so JSON.parse decides (NOT_JSON).
   */
  init(text: string, controls: boolean): boolean {
    this.s = text;
    this.n = text.length;
    this.bs = -1;
    this.controls = controls;
    if (controls && BAD_CONTROL.test(text)) return false;
    this.nl = this.cr = this.tab = -1;
    return true;
  }

  /** Index of the first non-whitespace char at or after i (n at the end). */
  ws(i: number): number {
    const s = this.s;
    if (!isWs(s.charCodeAt(i))) return i; // minified JSON: no whitespace, no loop
    const n = this.n;
    while (i < n && isWs(s.charCodeAt(i))) i++;
    return i;
  }

  /** i at a `"`: index after the closing quote, or -1. Sets `escaped`. */
  str(i: number): number {
    const s = this.s;
    const j = s.indexOf('"', i + 1);
    if (j < 0) return -1;
    if (this.bs < i) {
      // The cached next backslash is behind us (or unknown): search again from here.
      const b = s.indexOf('\\', i);
      this.bs = b < 0 ? this.n : b;
    }
    if (j < this.bs && (!this.controls || !this.controlBefore(i, j))) {
      this.escaped = false;
      return j + 1;
    }
    return this.slowStr(i);
  }

  /** Whether a \t, \n or \r lies in (i, j). */
  private controlBefore(i: number, j: number): boolean {
    const s = this.s;
    if (this.nl < i) {
      const k = s.indexOf('\n', i);
      this.nl = k < 0 ? this.n : k;
    }
    if (this.cr < i) {
      const k = s.indexOf('\r', i);
      this.cr = k < 0 ? this.n : k;
    }
    if (this.tab < i) {
      const k = s.indexOf('\t', i);
      this.tab = k < 0 ? this.n : k;
    }
    return this.nl < j || this.cr < j || this.tab < j;
  }

  /** A string with a backslash or a control character in it: checked char by char. */
  private slowStr(i: number): number {
    const s = this.s;
    const n = this.n;
    let escaped = false;
    for (let k = i + 1; k < n; k++) {
      const c = s.charCodeAt(k);
      if (c === QUOTE) {
        this.escaped = escaped;
        return k + 1;
      }
      if (c < 0x20) return -1;
      if (c !== BACKSLASH) continue;
      escaped = true;
      const e = s.charCodeAt(++k);
      if (e === 117 /* u */) {
        if (k + 4 >= n) return -1;
        for (let h = 1; h <= 4; h++) if (!isHex(s.charCodeAt(k + h))) return -1;
        k += 4;
      } else if (
        e !== QUOTE &&
        e !== BACKSLASH &&
        e !== 47 /* / */ &&
        e !== 98 /* b */ &&
        e !== 102 /* f */ &&
        e !== 110 /* n */ &&
        e !== 114 /* r */ &&
        e !== 116 /* t */
      ) {
        return -1;
      }
    }
    return -1;
  }

  /** A number at i: index after it, or -1 (JSON grammar: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?). */
  private num(i: number): number {
    const s = this.s;
    let k = i;
    if (s.charCodeAt(k) === 45 /* - */) k++;
    let c = s.charCodeAt(k);
    if (c === 48 /* 0 */) {
      k++;
    } else if (c >= 49 && c <= 57) {
      k++;
      while (isDigit(s.charCodeAt(k))) k++;
    } else {
      return -1;
    }
    c = s.charCodeAt(k);
    if (c === 46 /* . */) {
      k++;
      if (!isDigit(s.charCodeAt(k))) return -1;
      while (isDigit(s.charCodeAt(k))) k++;
      c = s.charCodeAt(k);
    }
    if (c === 101 || c === 69 /* e E */) {
      k++;
      c = s.charCodeAt(k);
      if (c === 43 || c === 45) k++;
      if (!isDigit(s.charCodeAt(k))) return -1;
      while (isDigit(s.charCodeAt(k))) k++;
    }
    return k;
  }

  /** Any JSON value at i (not whitespace): index after it, or -1. Iterative: no depth limit. */
  skip(i: number): number {
    const s = this.s;
    let c = s.charCodeAt(i);
    if (c === QUOTE) return this.str(i);
    if (c !== OPEN_BRACE && c !== OPEN_BRACKET) return this.scalar(i, c);
    // Containers: `stack` holds 1 for an object, 2 for an array, per open level.
    const stack: number[] = [];
    for (;;) {
      // At the start of a value at i.
      c = s.charCodeAt(i);
      if (c === OPEN_BRACE) {
        i = this.ws(i + 1);
        if (s.charCodeAt(i) === CLOSE_BRACE) {
          i++;
        } else {
          stack.push(1);
          i = this.key(i);
          if (i < 0) return -1;
          continue;
        }
      } else if (c === OPEN_BRACKET) {
        i = this.ws(i + 1);
        if (s.charCodeAt(i) === CLOSE_BRACKET) {
          i++;
        } else {
          stack.push(2);
          continue;
        }
      } else if (c === QUOTE) {
        i = this.str(i);
      } else {
        i = this.scalar(i, c);
      }
      if (i < 0) return -1;
      // After a value: close containers, or move to the next member or element.
      for (;;) {
        if (stack.length === 0) return i;
        i = this.ws(i);
        c = s.charCodeAt(i);
        const top = stack[stack.length - 1];
        if (c === COMMA) {
          i = this.ws(i + 1);
          if (top === 1) {
            i = this.key(i);
            if (i < 0) return -1;
          }
          break;
        }
        if ((c === CLOSE_BRACE && top === 1) || (c === CLOSE_BRACKET && top === 2)) {
          stack.pop();
          i++;
          continue;
        }
        return -1;
      }
    }
  }

  /** i at a member's key: index of its value (after `"key" :` and whitespace), or -1. */
  private key(i: number): number {
    if (this.s.charCodeAt(i) !== QUOTE) return -1;
    i = this.str(i);
    if (i < 0) return -1;
    i = this.ws(i);
    if (this.s.charCodeAt(i) !== COLON) return -1;
    return this.ws(i + 1);
  }

  private scalar(i: number, c: number): number {
    const s = this.s;
    if (c === 116 /* t */) return s.startsWith('true', i) ? i + 4 : -1;
    if (c === 102 /* f */) return s.startsWith('false', i) ? i + 5 : -1;
    if (c === 110 /* n */) return s.startsWith('null', i) ? i + 4 : -1;
    return this.num(i);
  }

  /**
   * i at a member's key inside an object: reads the key, returns its slot in `keys` (0 when not
   * wanted), and leaves the index of the value in `keyEnd`; -1 when invalid.
   */
  member(i: number, keys: KeyTable): number {
    const s = this.s;
    if (s.charCodeAt(i) !== QUOTE) return -1;
    const end = this.str(i);
    if (end < 0) return -1;
    let slot = 0;
    const len = end - i - 2;
    if (this.escaped) {
      slot = keys.map.get(JSON.parse(s.slice(i, end)) as string) ?? 0;
    } else if (len > 0) {
      const t = keys.table[keyHash(s, i + 1, len)];
      if (t !== 0) {
        const key = keys.keys[t];
        if (key.length === len && s.startsWith(key, i + 1)) slot = keys.slots[t];
      }
    }
    let k = end;
    if (s.charCodeAt(k) !== COLON) {
      k = this.ws(k);
      if (s.charCodeAt(k) !== COLON) return -1;
    }
    k++;
    if (isWs(s.charCodeAt(k))) k = this.ws(k);
    this.keyEnd = k;
    return slot;
  }

  /** The value at [i, end) as JSON.parse would give it (a string slice when it needs no decoding). */
  private value(i: number, end: number): unknown {
    const s = this.s;
    if (s.charCodeAt(i) === QUOTE && !this.escaped) return s.slice(i + 1, end - 1);
    return JSON.parse(s.slice(i, end));
  }

  /** Skips the value at i, remembering whether it was a string with escapes. */
  skipValue(i: number): number {
    if (this.s.charCodeAt(i) === QUOTE) return this.str(i);
    this.escaped = false;
    return this.skip(i);
  }

  /**
   * An object at i whose wanted members (keys → slot 1..) are decoded into `slots[slot]` (last
   * one wins); other members are validated and skipped. Returns the index after the object.
   */
  private object(i: number, keys: KeyTable, slots: unknown[]): number {
    const s = this.s;
    i = this.ws(i + 1);
    if (s.charCodeAt(i) === CLOSE_BRACE) return i + 1;
    for (;;) {
      const slot = this.member(i, keys);
      if (slot < 0) return -1;
      const v = this.keyEnd;
      const end = this.skipValue(v);
      if (end < 0) return -1;
      if (slot > 0) slots[slot] = this.value(v, end);
      i = end;
      let c = s.charCodeAt(i);
      if (isWs(c)) c = s.charCodeAt((i = this.ws(i)));
      if (c === COMMA) {
        i++;
        if (isWs(s.charCodeAt(i))) i = this.ws(i);
        continue;
      }
      if (c === CLOSE_BRACE) return i + 1;
      return -1;
    }
  }

  /** set by sessionContext(): what principalOf reads of it */
  private context: unknown = undefined;

  /**
   * sessionContext's value at i. principalOf follows sessionContext.sessionIssuer.arn only, so
   * an object becomes {sessionIssuer: {arn}} (sessionIssuer parsed as is when not an object).
   */
  private sessionContext(i: number): number {
    const s = this.s;
    if (s.charCodeAt(i) !== OPEN_BRACE) {
      const end = this.skipValue(i);
      if (end >= 0) this.context = this.value(i, end);
      return end;
    }
    let issuer: unknown = undefined;
    i = this.ws(i + 1);
    if (s.charCodeAt(i) === CLOSE_BRACE) {
      this.context = { sessionIssuer: undefined };
      return i + 1;
    }
    for (;;) {
      const slot = this.member(i, SESSION_CONTEXT_KEYS);
      if (slot < 0) return -1;
      const v = this.keyEnd;
      let end: number;
      if (slot === 1 && s.charCodeAt(v) === OPEN_BRACE) {
        const slots: unknown[] = [];
        end = this.object(v, ISSUER_KEYS, slots);
        issuer = { arn: slots[1] };
      } else {
        end = this.skipValue(v);
        if (slot === 1 && end >= 0) issuer = this.value(v, end);
      }
      if (end < 0) return -1;
      i = end;
      let c = s.charCodeAt(i);
      if (isWs(c)) c = s.charCodeAt((i = this.ws(i)));
      if (c === COMMA) {
        i++;
        if (isWs(s.charCodeAt(i))) i = this.ws(i);
        continue;
      }
      if (c === CLOSE_BRACE) {
        this.context = { sessionIssuer: issuer };
        return i + 1;
      }
      return -1;
    }
  }

  /** userIdentity's value at i: the minimal identity object, or the parsed non-object value. */
  private identity(i: number): number {
    const s = this.s;
    if (s.charCodeAt(i) !== OPEN_BRACE) {
      const end = this.skipValue(i);
      if (end >= 0) this.rec.identity = this.value(i, end);
      return end;
    }
    const slots = this.slots;
    slots.length = 0;
    let sessionContext: unknown = undefined;
    i = this.ws(i + 1);
    if (s.charCodeAt(i) === CLOSE_BRACE) {
      i++;
    } else {
      for (;;) {
        const slot = this.member(i, IDENTITY_KEYS);
        if (slot < 0) return -1;
        const v = this.keyEnd;
        let end: number;
        if (slot === U_SESSION_CONTEXT) {
          end = this.sessionContext(v);
          if (end < 0) return -1;
          sessionContext = this.context;
        } else {
          end = this.skipValue(v);
          if (end < 0) return -1;
          if (slot > 0) slots[slot] = this.value(v, end);
        }
        i = end;
        let c = s.charCodeAt(i);
        if (isWs(c)) c = s.charCodeAt((i = this.ws(i)));
        if (c === COMMA) {
          i = this.ws(i + 1);
          continue;
        }
        if (c === CLOSE_BRACE) {
          i++;
          break;
        }
        return -1;
      }
    }
    const identity: Identity = {
      type: slots[U_TYPE],
      arn: slots[U_ARN],
      accountId: slots[U_ACCOUNT],
      invokedBy: slots[U_INVOKED_BY],
      sessionContext,
    };
    this.rec.identity = identity;
    return i;
  }

  /** A record object at i (`{`): fills `rec`. Returns the index after it, or -1. */
  record(i: number): number {
    const s = this.s;
    const rec = this.rec;
    rec.reset(s);
    i = this.ws(i + 1);
    if (s.charCodeAt(i) === CLOSE_BRACE) return i + 1;
    for (;;) {
      const slot = this.member(i, RECORD_KEYS);
      if (slot < 0) return -1;
      const v = this.keyEnd;
      let end: number;
      switch (slot) {
        case K_OTHER:
          end = this.skipValue(v);
          break;
        case K_IDENTITY:
          end = this.identity(v);
          break;
        case K_RESOURCES:
          end = this.skipValue(v);
          rec.resStart = v;
          rec.resEnd = end;
          break;
        case K_REQUEST:
          end = this.skipValue(v);
          rec.rpStart = v;
          rec.rpEnd = end;
          break;
        case K_RESPONSE:
          end = this.skipValue(v);
          rec.reStart = v;
          rec.reEnd = end;
          break;
        default: {
          end = this.skipValue(v);
          if (end < 0) return -1;
          const value = this.value(v, end);
          switch (slot) {
            case K_EVENT_ID:
              rec.eventID = value;
              break;
            case K_EVENT_TYPE:
              rec.eventType = value;
              break;
            case K_EVENT_CATEGORY:
              rec.eventCategory = value;
              break;
            case K_INSIGHT:
              rec.insightDetails = value;
              break;
            case K_SOURCE:
              rec.eventSource = value;
              break;
            case K_NAME:
              rec.eventName = value;
              break;
            case K_TIME:
              rec.eventTime = value;
              break;
            case K_TIMESTAMP:
              rec['@timestamp'] = value;
              break;
            case K_ERROR_CODE:
              rec.errorCode = value;
              break;
            case K_ERROR_MESSAGE:
              rec.errorMessage = value;
              break;
            case K_REGION:
              rec.awsRegion = value;
              break;
            case K_RECIPIENT:
              rec.recipientAccountId = value;
              break;
          }
        }
      }
      if (end < 0) return -1;
      i = end;
      let c = s.charCodeAt(i);
      if (isWs(c)) c = s.charCodeAt((i = this.ws(i)));
      if (c === COMMA) {
        i++;
        if (isWs(s.charCodeAt(i))) i = this.ws(i);
        continue;
      }
      if (c === CLOSE_BRACE) return i + 1;
      return -1;
    }
  }

  /**
   * The elements of a Records array whose `[` is at i: calls onRecord with `rec` for each object
   * and with null for any other element. Returns the index after the `]`, or -1.
   */
  records(i: number, onRecord: (record: ScannedRecord | null) => void): number {
    const s = this.s;
    i = this.ws(i + 1);
    if (s.charCodeAt(i) === CLOSE_BRACKET) return i + 1;
    for (;;) {
      if (s.charCodeAt(i) === OPEN_BRACE) {
        i = this.record(i);
        if (i < 0) return -1;
        onRecord(this.rec);
      } else {
        i = this.skip(i);
        if (i < 0) return -1;
        onRecord(null);
      }
      let c = s.charCodeAt(i);
      if (isWs(c)) c = s.charCodeAt((i = this.ws(i)));
      if (c === COMMA) {
        i++;
        if (isWs(s.charCodeAt(i))) i = this.ws(i);
        continue;
      }
      if (c === CLOSE_BRACKET) return i + 1;
      return -1;
    }
  }

  /**
   * A whole document `{..."Records":[...]...}`: records go to onRecord as they are scanned.
   * False when the document is not one the scanner vouches for (see the header).
   */
  document(onRecord: (record: ScannedRecord | null) => void): boolean {
    const s = this.s;
    let i = this.ws(0);
    if (s.charCodeAt(i) !== OPEN_BRACE) return false;
    let seenRecords = false;
    i = this.ws(i + 1);
    if (s.charCodeAt(i) === CLOSE_BRACE) return false; // no Records: NOT_CLOUDTRAIL
    for (;;) {
      const slot = this.member(i, TOP_KEYS);
      if (slot < 0) return false;
      const v = this.keyEnd;
      let end: number;
      if (slot === 1) {
        // A second Records would replace the first in JSON.parse: not handled here.
        if (seenRecords || s.charCodeAt(v) !== OPEN_BRACKET) return false;
        seenRecords = true;
        end = this.records(v, onRecord);
      } else {
        end = this.skipValue(v);
      }
      if (end < 0) return false;
      i = this.ws(end);
      const c = s.charCodeAt(i);
      if (c === COMMA) {
        i++;
        if (isWs(s.charCodeAt(i))) i = this.ws(i);
        continue;
      }
      if (c !== CLOSE_BRACE) return false;
      return seenRecords && this.ws(i + 1) === this.n;
    }
  }
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

// Top-level states of a streamed document.
const S_START = 0; // before `{`
const S_MEMBER = 1; // at a member (after `{` or `,`)
const S_ELEM_OR_CLOSE = 2; // after `[` of Records
const S_ELEM = 3; // after `,` in Records
const S_AFTER_ELEM = 4; // after a record
const S_AFTER_VALUE = 5; // after a top-level value: `,` or `}`
const S_DONE = 6; // after the top-level `}`

/**
 * The scanner over a document that arrives as text pieces (inflated chunks, decoded): each step
 * (a top-level token, a skipped top-level value, a record) is scanned once it is complete, and
 * the text of an incomplete step is carried into the next piece. A step that fails is taken as
 * incomplete until the document ends; then end() returns false, as it does for anything the
 * scanner does not vouch for, and the caller takes the RecordSplitter + JSON.parse path.
 * A failing step is retried only once the carried text has doubled, so a huge record or a bad
 * one costs linear time, not quadratic.
 */
export class StreamScanner {
  private readonly scanner = new Scanner();
  private readonly onRecord: (record: ScannedRecord | null) => void;
  private readonly maxRecordBytes: number;
  private state = S_START;
  private seenRecords = false;
  private carry = '';
  /** carried length at which the failed step is tried again */
  private retryAt = 0;
  private failed = false;

  constructor(onRecord: (record: ScannedRecord | null) => void, maxRecordBytes: number) {
    this.onRecord = onRecord;
    this.maxRecordBytes = maxRecordBytes;
  }

  /** Scans the next piece; `controls`: whether its bytes held any byte below 0x20. False: give up. */
  push(piece: string, controls: boolean): boolean {
    if (this.failed) return false;
    // join, not +: a cons string would stay a cons for every charCodeAt (measured ~1.6x slower).
    const text = this.carry === '' ? piece : [this.carry, piece].join('');
    this.controls ||= controls;
    if (text.length < this.retryAt) {
      this.carry = text;
      return true;
    }
    const sc = this.scanner;
    if (!sc.init(text, this.controls)) return this.fail();
    const n = text.length;
    let i = 0;
    for (;;) {
      i = sc.ws(i);
      if (i >= n) break;
      const next = this.step(text, i);
      if (next === -2) return this.fail();
      if (next < 0) break; // incomplete (or bad: decided at the end)
      i = next;
    }
    this.carry = i >= n ? '' : text.slice(i);
    // Retry the failed step only once its text has doubled (and at least a chunk arrived).
    this.retryAt = this.carry.length === 0 ? 0 : this.carry.length * 2;
    if (this.carry.length > this.maxRecordBytes) return this.fail();
    return true;
  }

  /** The document is complete: true when the whole of it was scanned and vouched for. */
  end(): boolean {
    if (this.failed) return false;
    if (this.carry !== '') {
      this.retryAt = 0;
      const carry = this.carry;
      this.carry = '';
      if (!this.push(carry, false) || this.carry !== '') return false;
    }
    return this.state === S_DONE;
  }

  private controls = false;

  private fail(): false {
    this.failed = true;
    this.carry = '';
    return false;
  }

  /** Whether [start, end) may be longer than maxRecordBytes in UTF-8 (exact check when close). */
  private tooLong(text: string, start: number, end: number): boolean {
    if ((end - start) * 3 <= this.maxRecordBytes) return false;
    return Buffer.byteLength(text.slice(start, end), 'utf8') > this.maxRecordBytes;
  }

  /** One step at i (not whitespace): the index after it, -1 when incomplete or bad, -2 to give up. */
  private step(text: string, i: number): number {
    const sc = this.scanner;
    const c = text.charCodeAt(i);
    switch (this.state) {
      case S_START:
        if (c !== 123) return -2;
        this.state = S_MEMBER;
        return i + 1;
      case S_MEMBER: {
        const slot = sc.member(i, TOP_KEYS);
        if (slot < 0) return -1;
        const v = sc.keyEnd;
        if (v >= text.length) return -1;
        if (slot === 1) {
          // A second Records would replace the first in JSON.parse; the splitter refuses it.
          if (this.seenRecords) return -2;
          if (text.charCodeAt(v) !== 91) return -2; // NOT_CLOUDTRAIL: the splitter says so
          this.seenRecords = true;
          this.state = S_ELEM_OR_CLOSE;
          return v + 1;
        }
        const end = sc.skipValue(v);
        // A value ending the text may go on (a number) in the next piece.
        if (end < 0 || end >= text.length) return -1;
        if (this.tooLong(text, i, end)) return -2;
        this.state = S_AFTER_VALUE;
        return end;
      }
      case S_ELEM_OR_CLOSE:
      case S_ELEM: {
        if (c === 93 && this.state === S_ELEM_OR_CLOSE) {
          this.state = S_AFTER_VALUE;
          return i + 1;
        }
        const end = c === 123 ? sc.record(i) : sc.skip(i);
        if (end < 0) return -1;
        // The record is complete only when what follows it is here too (a number could go on).
        if (end >= text.length) return -1;
        if (this.tooLong(text, i, end)) return -2;
        this.state = S_AFTER_ELEM;
        this.onRecord(c === 123 ? sc.rec : null);
        return end;
      }
      case S_AFTER_ELEM:
        if (c === 44) this.state = S_ELEM;
        else if (c === 93) this.state = S_AFTER_VALUE;
        else return -2;
        return i + 1;
      case S_AFTER_VALUE:
        if (c === 44) this.state = S_MEMBER;
        else if (c === 125) {
          if (!this.seenRecords) return -2;
          this.state = S_DONE;
        } else return -2;
        return i + 1;
      default:
        return -2; // data after the document
    }
  }
}
