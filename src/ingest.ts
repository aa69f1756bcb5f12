// Batch ingest: a list of objects → worker pool → store commits, with a summary of everything
// that was counted, skipped or refused. Used by `trailmint ingest` (local files, S3 backfill).
import type { ObjectErrorCode } from './errors.ts';
import type { ParserPool } from './pool.ts';
import { addStats, emptyStats, type FileStats } from './state/delta.ts';
import type { CommitEntry, Store } from './state/store.ts';
import type { SourceObject } from './sources/local.ts';

export interface IngestOptions {
  /** objects read and parsed at once; bounds memory to about this many compressed files */
  inFlightObjects: number;
  /** files merged per store transaction */
  commitBatchFiles: number;
  onProgress?: (progress: IngestProgress) => void;
}

export interface IngestProgress {
  done: number;
  total: number;
  records: number;
  bytes: number;
}

export interface FileFailure {
  file: string;
  code: ObjectErrorCode;
  message: string;
}

export interface IngestSummary {
  files: {
    total: number;
    ingested: number;
    alreadyIngested: number;
    failed: number;
    /** passed over while listing (digest files, other extensions) */
    skipped: number;
  };
  records: FileStats;
  principals: number;
  /** (source, name) pairs that map to no IAM action, most frequent first */
  unmapped: { source: string; name: string; count: number }[];
  /** actions absent from the catalog (kept, reported) */
  unknownActions: string[];
  errors: FileFailure[];
  seconds: number;
  recordsPerSecond: number;
}

export async function ingestObjects(
  objects: readonly SourceObject[],
  store: Store,
  pool: ParserPool,
  opts: IngestOptions,
  skippedFiles = 0,
): Promise<IngestSummary> {
  const started = performance.now();
  const records = emptyStats();
  const principals = new Set<string>();
  const unmapped = new Map<string, { source: string; name: string; count: number }>();
  const unknown = new Set<string>();
  const errors: FileFailure[] = [];
  const files = { total: objects.length, ingested: 0, alreadyIngested: 0, failed: 0, skipped: skippedFiles };
  let pending: CommitEntry[] = [];
  let committing: Promise<void> = Promise.resolve();
  let done = 0;

  // Commits run one at a time, in order; parsing goes on while one is in progress.
  const flush = (): Promise<void> => {
    const batch = pending;
    pending = [];
    committing = committing.then(async () => {
      if (batch.length === 0) return;
      const result = await store.commit(batch);
      files.ingested += result.merged;
      files.alreadyIngested += result.alreadyIngested;
    });
    return committing;
  };

  const handle = async (object: SourceObject): Promise<void> => {
    if (await store.isIngested(object.ref)) {
      files.alreadyIngested++;
      return;
    }
    let bytes: Uint8Array;
    try {
      bytes = await object.read();
    } catch (err) {
      files.failed++;
      errors.push({ file: object.name, code: 'READ_FAILED', message: (err as Error).message });
      return;
    }
    const result = await pool.parse(bytes);
    if (!result.ok) {
      files.failed++;
      errors.push({ file: object.name, ...result.error });
      return;
    }
    const { delta } = result;
    addStats(records, delta.stats);
    for (const p of delta.principals) principals.add(p);
    for (const a of delta.unknownActions) unknown.add(a);
    for (const u of delta.unmapped) {
      const key = u.source + '\u0000' + u.name;
      const prev = unmapped.get(key);
      if (prev) prev.count += u.count;
      else unmapped.set(key, { ...u });
    }
    pending.push({ object: object.ref, delta });
    if (pending.length >= opts.commitBatchFiles) await flush();
  };

  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < objects.length) {
      const object = objects[next++];
      await handle(object);
      done++;
      opts.onProgress?.({ done, total: objects.length, records: records.records, bytes: records.bytesCompressed });
    }
  };
  const lanes = Math.max(1, Math.min(opts.inFlightObjects, objects.length));
  await Promise.all(Array.from({ length: lanes }, lane));
  await flush();

  const seconds = (performance.now() - started) / 1000;
  return {
    files,
    records,
    principals: principals.size,
    unmapped: [...unmapped.values()].sort((a, b) => b.count - a.count || cmp(a.source, b.source) || cmp(a.name, b.name)),
    unknownActions: [...unknown].sort(),
    errors: errors.sort((a, b) => cmp(a.file, b.file)),
    seconds,
    recordsPerSecond: seconds > 0 ? records.records / seconds : 0,
  };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
