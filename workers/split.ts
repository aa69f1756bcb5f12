// Splits one CloudTrail log document `{"Records":[{...},{...}]}`, fed as UTF-8 chunks of any size,
// into the exact text of each element of the top-level "Records" array, so that a 300 MB file
// needs one record of heap instead of the whole document (the caller JSON.parses each record).
// A purpose-built byte scanner: streaming JSON parsers (stream-json) build every value token by
// token and run 10-20x slower than JSON.parse; this one only tracks strings, escapes and nesting
// depth in one byte loop and decodes each record once.
//
// Memory: the bytes of the value in progress that arrived in earlier chunks (copied, so the caller
// may reuse a chunk as soon as push returns) plus the chunk being scanned.
//
// Outside the Records array the document is checked strictly (structure, keys and skipped values,
// which are buffered and validated with JSON.parse); inside it, records are only delimited, and a
// malformed one reaches onRecord as text that JSON.parse rejects (the caller counts a bad record).
// Elements that are not objects (null, numbers, strings) are emitted as their text too.
//
// Errors are thrown from push()/end() as a SplitError with a stable `code` rather than returned:
// the caller feeds chunks in a loop and handles every failure in one catch, and a failed splitter
// rethrows the same error on every later call, so no record is emitted after an error. An
// exception thrown by onRecord propagates unchanged and leaves the splitter unusable.

export type SplitErrorCode =
  'NOT_JSON' | 'NOT_UTF8' | 'NOT_CLOUDTRAIL' | 'TRUNCATED' | 'RECORD_TOO_LARGE';

export class SplitError extends Error {
  readonly code: SplitErrorCode;
  constructor(code: SplitErrorCode, message: string) {
    super(message);
    this.name = 'SplitError';
    this.code = code;
  }
}

export interface SplitterOptions {
  /** a record (or any top-level key or value) larger than this throws RECORD_TOO_LARGE */
  maxRecordBytes?: number;
}

export const DEFAULT_MAX_RECORD_BYTES = 64 * 1024 * 1024;

// Where the scanner is between values. Plain numbers: no enums (erasable syntax only).
const START = 0; // before the top-level `{`
const KEY_OR_CLOSE = 1; // after `{`
const KEY = 2; // after `,` in the top-level object
const COLON = 3;
const VALUE = 4; // after `:`
const AFTER_VALUE = 5; // after a top-level value: `,` or `}`
const ELEM_OR_CLOSE = 6; // after `[` of Records
const ELEM = 7; // after `,` in Records
const AFTER_ELEM = 8; // after a record: `,` or `]`
const IN_VALUE = 9; // inside a key, a skipped value or a record
const DONE = 10; // after the top-level `}`

// What the value in progress is, which decides what happens to its text.
const KIND_KEY = 0;
const KIND_SKIP = 1;
const KIND_RECORD = 2;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON_BYTE = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const BOM = [0xef, 0xbb, 0xbf];

const WHITESPACE = new Uint8Array(256);
for (const c of ' \t\n\r') WHITESPACE[c.charCodeAt(0)] = 1;
// First bytes of numbers, true, false, null.
const SCALAR_START = new Uint8Array(256);
for (const c of '-0123456789tfn') SCALAR_START[c.charCodeAt(0)] = 1;
// Bytes that end a scalar (not part of it).
const SCALAR_END = new Uint8Array(256);
for (const c of ' \t\n\r,]}') SCALAR_END[c.charCodeAt(0)] = 1;

// fatal: invalid UTF-8 is refused as NOT_UTF8, as the whole-file path refuses it, instead of
// becoming U+FFFD inside ARNs and names.
const decoder = new TextDecoder('utf-8', { fatal: true });

export class RecordSplitter {
  private readonly onRecord: (json: string) => void;
  private readonly maxRecordBytes: number;
  private state = START;
  private kind = KIND_KEY;
  private bomBytes = 0;
  private recordsKey = false; // the key just read is "Records"
  private seenRecords = false;
  // Scanner state inside a value, kept across chunks.
  private depth = 0;
  private inString = false;
  private escaped = false; // a backslash ended the previous chunk
  private scalar = false;
  // Bytes of the value in progress from earlier chunks.
  private carried: Buffer[] = [];
  private carriedBytes = 0;
  private valueStart = 0; // where the value in progress starts in the current chunk
  private offset = 0; // stream offset of the current chunk, for error messages
  private failure: SplitError | undefined;

  constructor(onRecord: (json: string) => void, opts: SplitterOptions = {}) {
    const max = opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    if (!Number.isInteger(max) || max <= 0) {
      throw new RangeError(`maxRecordBytes must be a positive integer, got ${max}`);
    }
    this.onRecord = onRecord;
    this.maxRecordBytes = max;
  }

  push(chunk: Uint8Array): void {
    if (this.failure) throw this.failure;
    const buf = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const n = buf.length;
    this.valueStart = 0;
    let i = 0;
    // A UTF-8 byte order mark at the very start is allowed, as TextDecoder allows it.
    while (this.bomBytes < 3 && i < n && this.offset + i === this.bomBytes) {
      if (buf[i] !== BOM[this.bomBytes]) break;
      this.bomBytes++;
      i++;
    }
    while (i < n) {
      if (this.state === IN_VALUE) {
        const end = this.scalar ? this.scanScalar(buf, i, n) : this.scanComposite(buf, i, n);
        if (end < 0) break;
        this.finishValue(buf, end);
        i = end;
        continue;
      }
      const c = buf[i];
      if (WHITESPACE[c] === 1) {
        i++;
        continue;
      }
      switch (this.state) {
        case START:
          if (this.bomBytes === 1 || this.bomBytes === 2)
            this.fail('NOT_UTF8', 'a broken byte order mark', i);
          if (c !== OPEN_BRACE) {
            this.fail(
              SCALAR_START[c] === 1 || c === QUOTE || c === OPEN_BRACKET
                ? 'NOT_CLOUDTRAIL'
                : 'NOT_JSON',
              'the document is not an object',
              i,
            );
          }
          this.state = KEY_OR_CLOSE;
          i++;
          break;
        case KEY_OR_CLOSE:
        case KEY:
          if (c === CLOSE_BRACE && this.state === KEY_OR_CLOSE) {
            this.closeDocument(i);
            i++;
          } else if (c === QUOTE) {
            i = this.beginValue(buf, i, KIND_KEY);
          } else {
            this.fail('NOT_JSON', 'expected a key', i);
          }
          break;
        case COLON:
          if (c !== COLON_BYTE) this.fail('NOT_JSON', "expected ':'", i);
          this.state = VALUE;
          i++;
          break;
        case VALUE:
          if (!this.recordsKey) {
            i = this.beginValue(buf, i, KIND_SKIP);
          } else if (c === OPEN_BRACKET) {
            this.state = ELEM_OR_CLOSE;
            i++;
          } else {
            this.fail('NOT_CLOUDTRAIL', 'Records is not an array', i);
          }
          break;
        case AFTER_VALUE:
          if (c === COMMA) this.state = KEY;
          else if (c === CLOSE_BRACE) this.closeDocument(i);
          else this.fail('NOT_JSON', "expected ',' or '}'", i);
          i++;
          break;
        case ELEM_OR_CLOSE:
        case ELEM:
          if (c === CLOSE_BRACKET && this.state === ELEM_OR_CLOSE) {
            this.state = AFTER_VALUE;
            i++;
          } else {
            i = this.beginValue(buf, i, KIND_RECORD);
          }
          break;
        case AFTER_ELEM:
          if (c === COMMA) this.state = ELEM;
          else if (c === CLOSE_BRACKET) this.state = AFTER_VALUE;
          else this.fail('NOT_JSON', "expected ',' or ']' in Records", i);
          i++;
          break;
        default:
          this.fail('NOT_JSON', 'data after the end of the document', i);
      }
    }
    if (this.state === IN_VALUE) this.carry(buf, this.valueStart, n);
    this.offset += n;
  }

  /** The stream is complete: throws unless it held one whole CloudTrail document. */
  end(): void {
    if (this.failure) throw this.failure;
    if (this.state === DONE) return;
    if (this.state === START) this.fail('NOT_JSON', 'the document is empty', 0);
    this.fail('TRUNCATED', 'the stream ends inside the document', 0);
  }

  /** Starts a value at buf[i] (not whitespace); returns where scanning continues. */
  private beginValue(buf: Buffer, i: number, kind: number): number {
    const c = buf[i];
    this.kind = kind;
    this.valueStart = i;
    this.state = IN_VALUE;
    this.depth = 0;
    this.inString = false;
    this.scalar = false;
    if (c === QUOTE) this.inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) this.depth = 1;
    else if (SCALAR_START[c] === 1) this.scalar = true;
    else this.fail('NOT_JSON', `unexpected byte 0x${c.toString(16)}`, i);
    return i + 1;
  }

  /** End of a number/true/false/null (exclusive), or -1 if it runs past this chunk. */
  private scanScalar(buf: Buffer, i: number, n: number): number {
    for (; i < n; i++) if (SCALAR_END[buf[i]] === 1) return i;
    return -1;
  }

  /** End of a string, object or array (exclusive), or -1 if it runs past this chunk. */
  private scanComposite(buf: Buffer, i: number, n: number): number {
    let depth = this.depth;
    let inString = this.inString;
    let end = -1;
    if (this.escaped) {
      this.escaped = false;
      i++; // the byte escaped by the backslash that ended the previous chunk
    }
    scan: while (i < n) {
      let c: number;
      if (!inString) {
        c = buf[i++];
        if (c === OPEN_BRACE || c === OPEN_BRACKET) {
          depth++;
          continue;
        }
        if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
          if (--depth === 0) {
            end = i;
            break;
          }
          continue;
        }
        if (c !== QUOTE) continue;
        inString = true;
        if (i === n) break;
      }
      // Only `"` and `\` matter inside a string, and most bytes are inside strings: this loop is
      // the scanner's speed. (Buffer.indexOf per string measured 2x slower: CloudTrail strings
      // are short, and each call costs more than scanning them.)
      c = buf[i++];
      while (c !== QUOTE) {
        if (c === BACKSLASH) i++; // the escaped byte, `"` or `\` included; `\uXXXX` digits are plain
        if (i >= n) {
          this.escaped = i > n;
          break scan;
        }
        c = buf[i++];
      }
      inString = false;
      if (depth === 0) {
        end = i;
        break;
      }
    }
    this.depth = depth;
    this.inString = inString;
    return end;
  }

  /** The value in progress ends at buf[end] (exclusive): decode it once and hand it on. */
  private finishValue(buf: Buffer, end: number): void {
    let bytes = buf.subarray(this.valueStart, end);
    if (this.carriedBytes > 0) {
      this.carried.push(bytes);
      bytes = Buffer.concat(this.carried, this.carriedBytes + bytes.length);
      this.carried = [];
      this.carriedBytes = 0;
    }
    if (bytes.length > this.maxRecordBytes) this.tooLarge(bytes.length, end);
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch {
      this.fail('NOT_UTF8', 'invalid UTF-8', end);
    }
    if (this.kind === KIND_RECORD) {
      this.state = AFTER_ELEM;
      this.onRecord(text);
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      this.fail('NOT_JSON', (err as Error).message, end);
    }
    if (this.kind === KIND_SKIP) {
      this.state = AFTER_VALUE;
      return;
    }
    // A key. JSON.parse keeps the last of duplicate keys; records already emitted cannot be
    // taken back, so a second "Records" is refused rather than silently merged.
    this.recordsKey = value === 'Records';
    if (this.recordsKey) {
      if (this.seenRecords) this.fail('NOT_CLOUDTRAIL', 'duplicate Records key', end);
      this.seenRecords = true;
    }
    this.state = COLON;
  }

  /** Keeps a copy of the value's bytes from this chunk: the caller may reuse the chunk. */
  private carry(buf: Buffer, start: number, n: number): void {
    if (start === n) return;
    this.carriedBytes += n - start;
    if (this.carriedBytes > this.maxRecordBytes) this.tooLarge(this.carriedBytes, n);
    this.carried.push(Buffer.from(buf.subarray(start, n)));
  }

  private closeDocument(i: number): void {
    if (!this.seenRecords) this.fail('NOT_CLOUDTRAIL', 'no Records array', i);
    this.state = DONE;
  }

  private tooLarge(bytes: number, i: number): never {
    this.fail('RECORD_TOO_LARGE', `over ${this.maxRecordBytes} bytes (${bytes} so far)`, i);
  }

  private fail(code: SplitErrorCode, detail: string, i: number): never {
    this.failure = new SplitError(code, `${detail} (at byte ${this.offset + i})`);
    throw this.failure;
  }
}
