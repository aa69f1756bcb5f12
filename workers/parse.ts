// One CloudTrail log file, as bytes, → FileDelta. Pure apart from CPU: the same code runs in a
// piscina worker, a benchmark and a unit test.
//
// Two paths, chosen by measurement (bench/RESULTS.md): a file that inflates to at most
// `wholeFileMaxBytes` is inflated at once, into the scanner's own memory when the gzip trailer's
// size holds (wasmInflate; else gunzipSync), and read by the WebAssembly scanner
// (workers/wasm.ts: one validating pass, no objects but the few fields the accumulator reads),
// with JSON.parse of the whole text deciding any document the scanner does not vouch for; above
// that, inflate in chunks of 256 KB and scan them in pieces of 48 KB, each up to its last
// complete record, with the same scanner (WasmRecordStream), so that a 300 MB file needs a piece
// and a record of memory, not the whole document. A stream it does not vouch for (another top-level shape than
// `{"Records":[…]}`, bad JSON) goes to the reference streaming path, RecordSplitter
// (workers/split.ts) + JSON.parse per record, which decides the error.
// The threshold, 16 MiB (bench/RESULTS.md: "How cost grows" runs each file of 1 MB-64 MiB through
// both paths, "Ratios" compares them on small files): bigger whole files would cost their text
// once more inside the scanner's memory, which a worker keeps at its largest size.
import { isAscii, isUtf8 } from 'node:buffer';
import { createGunzip, gunzipSync } from 'node:zlib';
import type { Catalog } from '../src/catalog/types.ts';
import { objectError, type ObjectError } from '../src/errors.ts';
import type { FileDelta } from '../src/state/delta.ts';
import { Accumulator, DEFAULT_ACCUMULATOR_OPTIONS } from './accumulate.ts';
import { hasControlBytes, Scanner, StreamScanner } from './scan.ts';
import { RecordSplitter, SplitError } from './split.ts';
import { wasmInflate, wasmInflated, wasmScanDocument, WasmRecordStream } from './wasm.ts';

export interface ParseOptions {
  /** inflated size up to which the whole file is parsed at once */
  wholeFileMaxBytes: number;
  /** inflated size cap: a bigger file (or a gzip bomb) is refused with TOO_LARGE */
  maxInflatedBytes: number;
  /** a single record larger than this is refused with RECORD_TOO_LARGE */
  maxRecordBytes: number;
  maxResourcesPerAction: number;
  /** bounds on distinct principals / actions and unmapped pairs per file (TOO_MANY_DISTINCT) */
  maxPrincipalsPerFile?: number;
  maxDistinctPerFile?: number;
  /**
   * Read records with the scanner (workers/scan.ts) instead of JSON.parse (default false).
   * Same deltas and error codes either way (test/unit/scan.test.ts); off by default because on
   * the bench machine JSON.parse (and RecordSplitter + JSON.parse) measured faster: a JS loop
   * that validates every byte cannot beat V8's native parser there (see the note in scan.ts).
   */
  scanner?: boolean;
  /**
   * Read files with the WebAssembly scanner (workers/wasm.ts, default true): whole files, and
   * streamed ones of the usual shape (`{"Records":[…]}` alone). Same deltas and error codes as
   * JSON.parse (test/unit/scan.test.ts), in less time (bench/RESULTS.md). A document it does not
   * vouch for goes on to the JS scanner (when `scanner`) and JSON.parse.
   */
  wasm?: boolean;
}

export const DEFAULT_PARSE_OPTIONS: ParseOptions = {
  wholeFileMaxBytes: 16 * 1024 * 1024,
  maxInflatedBytes: 4 * 1024 * 1024 * 1024,
  maxRecordBytes: 64 * 1024 * 1024,
  maxResourcesPerAction: DEFAULT_ACCUMULATOR_OPTIONS.maxResourcesPerAction,
  maxPrincipalsPerFile: DEFAULT_ACCUMULATOR_OPTIONS.maxPrincipalsPerFile,
  maxDistinctPerFile: DEFAULT_ACCUMULATOR_OPTIONS.maxDistinctPerFile,
};

/** A small CloudTrail record's bytes: stream() expects at most inflated size / this records. */
const STREAM_RECORD_BYTES_HINT = 1024;

export type ParseResult = { ok: true; delta: FileDelta } | { ok: false; error: ObjectError };

const decoder = new TextDecoder('utf-8', { fatal: true });

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

export async function parseLogFile(
  bytes: Uint8Array,
  catalog: Catalog,
  opts: ParseOptions = DEFAULT_PARSE_OPTIONS,
): Promise<ParseResult> {
  const newAcc = (): Accumulator => {
    const acc = new Accumulator(catalog, {
      maxResourcesPerAction: opts.maxResourcesPerAction,
      maxPrincipalsPerFile: opts.maxPrincipalsPerFile,
      maxDistinctPerFile: opts.maxDistinctPerFile,
    });
    acc.stats.bytesCompressed = bytes.length;
    return acc;
  };
  const wholeMax = Math.min(opts.wholeFileMaxBytes, opts.maxInflatedBytes);
  // The gzip trailer's ISIZE (inflated size mod 2^32) says when gunzipSync would only fail after
  // inflating wholeMax bytes for nothing: stream at once. Only a hint (it can lie): the result
  // stands only when the stream really was bigger than wholeMax, and any failure takes the path
  // below from the start.
  // Once the WebAssembly stream refused this file, it is not tried again below.
  const streamOpts = { ...opts };
  const hint = isGzip(bytes) && bytes.length >= 18 ? gzipSizeHint(bytes) : 0;
  if (hint > wholeMax) {
    const result = await stream(bytes, newAcc, streamOpts);
    if ('acc' in result && result.acc.stats.bytesInflated > wholeMax) return finished(result.acc);
  }
  let text: Uint8Array | undefined;
  let inScanner = false; // text views the WebAssembly scanner's memory (wasmInflate)
  if (!isGzip(bytes)) {
    text = bytes; // plain *.json
  } else {
    // Straight into the WebAssembly scanner's memory when the trailer's size holds.
    if (opts.wasm !== false && hint <= wholeMax) text = wasmInflate(bytes, hint);
    inScanner = text !== undefined;
    if (!inScanner) {
      try {
        text = gunzipSync(bytes, {
          maxOutputLength: wholeMax,
          chunkSize: inflateChunk(bytes, wholeMax),
        });
      } catch (err) {
        if (!isBufferTooLarge(err))
          return { ok: false, error: objectError('GZIP_CORRUPT', messageOf(err)) };
        // Too big to hold at once: fall through to the streaming path.
      }
    }
  }
  if (text !== undefined) {
    const inflated = text.length;
    const result = parseWhole(text, newAcc, inflated, opts, inScanner);
    return 'error' in result ? { ok: false, error: result.error } : finished(result.acc);
  }
  const result = await stream(bytes, newAcc, streamOpts);
  return 'error' in result ? { ok: false, error: result.error } : finished(result.acc);
}

/**
 * The streaming path: the WebAssembly stream, then (when asked) the JS streaming scanner, each
 * with a fresh accumulator, and RecordSplitter + JSON.parse for what neither vouches for, which
 * decides the error. Sets `opts.wasm` false when the WebAssembly stream refused the file.
 */
async function stream(
  bytes: Uint8Array,
  fresh: () => Accumulator,
  opts: ParseOptions,
): Promise<{ acc: Accumulator } | { error: ObjectError }> {
  // Records to expect, for the eventID set: the inflated size (the gzip trailer's, a hint: only
  // gzip streams) over a small record's size, so most files are not underestimated (the bench's
  // average 1.4 KB).
  const inflated = bytes.length >= 18 ? gzipSizeHint(bytes) : 0;
  const newAcc = (): Accumulator => {
    const acc = fresh();
    acc.expectRecords(inflated / STREAM_RECORD_BYTES_HINT);
    return acc;
  };
  if (opts.wasm !== false) {
    const acc = newAcc();
    if (await wasmStreaming(bytes, acc, opts)) return { acc };
    opts.wasm = false;
  }
  if (opts.scanner) {
    const acc = newAcc();
    if (await scanStreaming(bytes, acc, opts)) return { acc };
  }
  const acc = newAcc();
  const error = await parseStreaming(bytes, acc, opts);
  return error ? { error } : { acc };
}

/** The file's delta, or its refusal when it passed a bound of the accumulator. */
function finished(acc: Accumulator): ParseResult {
  if (acc.overflow !== undefined)
    return { ok: false, error: objectError('TOO_MANY_DISTINCT', acc.overflow) };
  return { ok: true, delta: acc.finish() };
}

/**
 * gunzipSync's output chunk: the whole file when the trailer's size is honest, so zlib fills one
 * buffer and nothing is concatenated (inflate 1.2× faster than with the 16 KB default, bench/
 * RESULTS.md). A trailer that lies costs at most one buffer of 64× the compressed size (CloudTrail
 * inflates ~7×; a file that inflates more only gets more chunks), and a short one (multi-member
 * gzip) only brings back more chunks.
 */
export function inflateChunk(bytes: Uint8Array, max: number): number {
  const hint = bytes.length >= 18 ? gzipSizeHint(bytes) : 0;
  // never below 64 KB (zlib's floor is 64 B; maxOutputLength, not the chunk, bounds the output)
  return Math.max(64 * 1024, Math.min(hint + 1, max, bytes.length * 64));
}

/** The gzip trailer's ISIZE: the inflated size mod 2^32, as the file claims it (a hint). */
export function gzipSizeHint(bytes: Uint8Array): number {
  const n = bytes.length;
  return (bytes[n - 4] | (bytes[n - 3] << 8) | (bytes[n - 2] << 16) | (bytes[n - 1] << 24)) >>> 0;
}

/** Inflated chunk size of the streaming paths: fewer, larger pieces carry fewer split records. */
const STREAM_CHUNK_BYTES = 64 * 1024;

/**
 * The WebAssembly stream's sizes: zlib's output chunks, and the pieces it scans them in. On the
 * 315 MB bench file (one process per run, by hand): 32 KB chunks scanned whole, 98-105k
 * records/s at 240-243 MB peak RSS; 256 KB chunks in 48 KB pieces 120-125k at 246-249 MB, in
 * 64 KB pieces 120-131k at 245-251 MB, in 32 KB pieces 118-122k; 1 MB chunks in 64 KB pieces
 * 131k at 259-272 MB; 256 KB chunks in 128 KB pieces 106k at 292-294 MB. Each chunk costs the
 * inflate stream's round trip to the thread pool and back, so larger chunks pay it less often; a
 * piece's text must stay a regular young-generation string, which the next scavenge frees (a
 * piece over 128 KB is a large object, freed only by a full GC, and peak RSS grows with them).
 */
const WASM_STREAM_CHUNK_BYTES = 256 * 1024;
const WASM_STREAM_PIECE_BYTES = 48 * 1024;

/**
 * The WebAssembly stream (workers/wasm.ts WasmRecordStream): inflate in chunks, records scanned
 * as they complete. True only when the whole stream was a document it vouches for; false on
 * anything else, without an error (as scanStreaming).
 */
async function wasmStreaming(
  bytes: Uint8Array,
  acc: Accumulator,
  opts: ParseOptions,
): Promise<boolean> {
  const stream = new WasmRecordStream(
    (record) => acc.add(record),
    opts.maxRecordBytes,
    WASM_STREAM_PIECE_BYTES,
  );
  return scanChunks(bytes, acc, opts, WASM_STREAM_CHUNK_BYTES, {
    push: (chunk) => stream.push(chunk),
    end: () => stream.end(),
  });
}

/**
 * The streaming scanner: inflate in chunks, decode each (latin1 while the stream is ASCII), scan
 * records out of the pieces. True only when the whole stream was a document the scanner vouches
 * for; false on anything else (bad gzip, bad UTF-8, bad JSON, too large, …) without an error:
 * the caller then runs parseStreaming from the start, which decides the error.
 */
async function scanStreaming(
  bytes: Uint8Array,
  acc: Accumulator,
  opts: ParseOptions,
): Promise<boolean> {
  const stream = new StreamScanner((record) => acc.add(record), opts.maxRecordBytes);
  let utf8: InstanceType<typeof TextDecoder> | undefined;
  let first = true;
  return scanChunks(bytes, acc, opts, STREAM_CHUNK_BYTES, {
    push(chunk) {
      let buf = chunk;
      if (first) {
        first = false;
        if (buf.length < 3) return false;
        // A byte order mark at the very start is allowed, as the splitter allows it.
        if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3);
      }
      let piece: string;
      if (utf8 === undefined && isAscii(buf)) piece = buf.toString('latin1');
      else {
        // Once a chunk is not ASCII, every later one goes through the decoder: a character
        // may straddle two chunks.
        utf8 ??= new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
        piece = utf8.decode(buf, { stream: true });
      }
      return stream.push(piece, hasControlBytes(buf));
    },
    end: () => (utf8 === undefined || utf8.decode() === '') && stream.end(),
  });
}

/**
 * Inflates `bytes` in chunks of `chunkSize` into a streaming scanner: true when it took every
 * chunk and then vouched for the whole document; false at its first refusal, past
 * maxInflatedBytes or on a gzip error (the caller then takes the reference path). Sets
 * acc.stats.bytesInflated.
 */
async function scanChunks(
  bytes: Uint8Array,
  acc: Accumulator,
  opts: ParseOptions,
  chunkSize: number,
  scanner: { push(chunk: Buffer): boolean; end(): boolean },
): Promise<boolean> {
  const gunzip = createGunzip({ chunkSize });
  let inflated = 0;
  try {
    const done = (async () => {
      for await (const chunk of gunzip as AsyncIterable<Buffer>) {
        inflated += chunk.length;
        if (inflated > opts.maxInflatedBytes) return false;
        if (!scanner.push(chunk)) return false;
      }
      return scanner.end();
    })();
    gunzip.end(bytes);
    const ok = await done;
    acc.stats.bytesInflated = inflated;
    return ok;
  } catch {
    return false;
  } finally {
    gunzip.destroy();
  }
}

/**
 * Decodes the whole document once, then the WebAssembly scanner (workers/wasm.ts) and, when
 * asked, the JS scanner (workers/scan.ts) take it; when neither vouches for it (bad JSON, not
 * CloudTrail, a case they leave alone), JSON.parse of the same text with a fresh accumulator
 * decides, exactly as before the scanners existed.
 */
function parseWhole(
  bytes: Uint8Array,
  newAcc: () => Accumulator,
  inflated: number,
  opts: ParseOptions,
  inScanner: boolean,
): { acc: Accumulator } | { error: ObjectError } {
  let buf = Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fresh = (): Accumulator => {
    const acc = newAcc();
    acc.stats.bytesInflated = inflated;
    return acc;
  };
  let acc = fresh();
  // The WebAssembly scanner reads the bytes through their latin1 string, which is the text of an
  // ASCII document and, for valid UTF-8 with a few other characters (a handful of records of a
  // file, when any), costs less than decoding it all: those records' strings decode on their own.
  const ascii = isAscii(buf);
  if (!ascii && !isUtf8(buf)) return { error: objectError('NOT_UTF8') };
  // A byte-order mark: the decoder drops it, so the scanner does not see it either.
  let body = buf;
  if (!ascii && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) {
    // The scanner's input is written over with the rest: keep the bytes apart from it (rare).
    if (inScanner) buf = Buffer.from(buf);
    inScanner = false;
    body = buf.subarray(3);
  }
  if (opts.wasm !== false) {
    if (wasmScanDocument(body, (r) => acc.add(r))) return { acc };
    acc = fresh();
    // The bytes in the scanner's memory, which the scan may have grown (their view with it).
    if (inScanner) buf = wasmInflated(inflated);
  }
  // The text the other readers take (isUtf8 passed: the decoder cannot refuse it).
  const text = ascii ? buf.toString('latin1') : decoder.decode(buf);
  if (opts.scanner === true) {
    const scanner = new Scanner();
    if (scanner.init(text, hasControlBytes(buf)) && scanner.document((r) => acc.add(r))) {
      return { acc };
    }
    acc = fresh();
  }
  const error = parseText(text, acc);
  return error ? { error } : { acc };
}

/** The reference path: JSON.parse of the whole text, then every record through Accumulator.add. */
export function parseText(text: string, acc: Accumulator): ObjectError | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return objectError('NOT_JSON', messageOf(err));
  }
  const records = recordsOf(doc);
  if (!Array.isArray(records)) return notCloudTrail(doc);
  // JSON.parse keeps the last of two top-level "Records"; the streaming splitter refuses such a
  // document. Refuse it here too, so a file means the same at every size. Checked only when the
  // text names "Records" twice anywhere (real files: once).
  const first = text.indexOf('"Records"');
  if (first !== text.lastIndexOf('"Records"') && hasDuplicateRecords(text)) {
    return objectError('NOT_CLOUDTRAIL', 'two top-level "Records" keys');
  }
  for (let i = 0; i < records.length && acc.overflow === undefined; i++) acc.add(records[i]);
  return undefined;
}

function hasDuplicateRecords(text: string): boolean {
  try {
    const splitter = new RecordSplitter(() => {}, { maxRecordBytes: Number.MAX_SAFE_INTEGER });
    splitter.push(Buffer.from(text, 'utf8'));
    splitter.end();
    return false;
  } catch (err) {
    return err instanceof SplitError && /Records/.test(err.message);
  }
}

/** The reference streaming path: RecordSplitter + JSON.parse per record (exported for tests). */
export async function parseStreaming(
  bytes: Uint8Array,
  acc: Accumulator,
  opts: ParseOptions,
): Promise<ObjectError | undefined> {
  let badJson: string | undefined;
  const splitter = new RecordSplitter(
    (json) => {
      try {
        acc.add(JSON.parse(json));
      } catch (err) {
        badJson ??= messageOf(err);
        acc.add(undefined); // counted as a bad record; the rest of the file still counts
      }
    },
    { maxRecordBytes: opts.maxRecordBytes },
  );
  const gunzip = createGunzip({ chunkSize: 256 * 1024 });
  let inflated = 0;
  try {
    const done = (async () => {
      for await (const chunk of gunzip as AsyncIterable<Buffer>) {
        inflated += chunk.length;
        if (inflated > opts.maxInflatedBytes) {
          gunzip.destroy();
          return objectError('TOO_LARGE', `inflates past ${opts.maxInflatedBytes} bytes`);
        }
        splitter.push(chunk);
      }
      splitter.end();
      return undefined;
    })();
    gunzip.end(bytes);
    const error = await done;
    acc.stats.bytesInflated = inflated;
    return error;
  } catch (err) {
    if (err instanceof SplitError) return objectError(err.code, err.message);
    return objectError('GZIP_CORRUPT', messageOf(err));
  }
}

function recordsOf(doc: unknown): unknown {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return undefined;
  return (doc as { Records?: unknown }).Records;
}

function notCloudTrail(doc: unknown): ObjectError {
  if (typeof doc === 'object' && doc !== null && 'digestPublicKeyFingerprint' in doc) {
    return objectError('NOT_CLOUDTRAIL', 'a CloudTrail digest file');
  }
  return objectError('NOT_CLOUDTRAIL');
}

function isBufferTooLarge(err: unknown): boolean {
  return (
    err instanceof RangeError &&
    ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' ||
      /Cannot create a Buffer larger|maxOutputLength/i.test(err.message))
  );
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
