// One CloudTrail log file, as bytes, → FileDelta. Pure apart from CPU: the same code runs in a
// piscina worker, a benchmark and a unit test.
//
// Two paths, chosen by measurement (bench/RESULTS.md): whole-file gunzipSync + JSON.parse is
// several times faster than any streaming parser, so it takes every file that inflates to at most
// `wholeFileMaxBytes`; above that, inflate in chunks and split the stream into records
// (workers/split.ts) so that a 300 MB file needs one record of heap, not the whole document.
import { createGunzip, gunzipSync } from 'node:zlib';
import type { Catalog } from '../src/catalog/types.ts';
import { objectError, type ObjectError } from '../src/errors.ts';
import type { FileDelta } from '../src/state/delta.ts';
import { Accumulator, DEFAULT_ACCUMULATOR_OPTIONS } from './accumulate.ts';
import { RecordSplitter, SplitError } from './split.ts';

export interface ParseOptions {
  /** inflated size up to which the whole file is parsed at once */
  wholeFileMaxBytes: number;
  /** inflated size cap: a bigger file (or a gzip bomb) is refused with TOO_LARGE */
  maxInflatedBytes: number;
  /** a single record larger than this is refused with RECORD_TOO_LARGE */
  maxRecordBytes: number;
  maxResourcesPerAction: number;
}

export const DEFAULT_PARSE_OPTIONS: ParseOptions = {
  wholeFileMaxBytes: 64 * 1024 * 1024,
  maxInflatedBytes: 4 * 1024 * 1024 * 1024,
  maxRecordBytes: 64 * 1024 * 1024,
  maxResourcesPerAction: DEFAULT_ACCUMULATOR_OPTIONS.maxResourcesPerAction,
};

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
  const acc = new Accumulator(catalog, { maxResourcesPerAction: opts.maxResourcesPerAction });
  acc.stats.bytesCompressed = bytes.length;
  let text: Uint8Array | undefined;
  if (!isGzip(bytes)) {
    text = bytes; // plain *.json
  } else {
    try {
      text = gunzipSync(bytes, {
        maxOutputLength: Math.min(opts.wholeFileMaxBytes, opts.maxInflatedBytes),
      });
    } catch (err) {
      if (!isBufferTooLarge(err))
        return { ok: false, error: objectError('GZIP_CORRUPT', messageOf(err)) };
      // Too big to hold at once: fall through to the streaming path.
    }
  }
  if (text !== undefined) {
    acc.stats.bytesInflated = text.length;
    const error = parseWhole(text, acc);
    return error ? { ok: false, error } : { ok: true, delta: acc.finish() };
  }
  const error = await parseStreaming(bytes, acc, opts);
  return error ? { ok: false, error } : { ok: true, delta: acc.finish() };
}

function parseWhole(bytes: Uint8Array, acc: Accumulator): ObjectError | undefined {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    return objectError('NOT_UTF8');
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return objectError('NOT_JSON', messageOf(err));
  }
  const records = recordsOf(doc);
  if (!Array.isArray(records)) return notCloudTrail(doc);
  for (let i = 0; i < records.length; i++) acc.add(records[i]);
  return undefined;
}

async function parseStreaming(
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
