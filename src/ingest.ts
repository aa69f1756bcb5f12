// Batch ingest: a list of objects → worker pool → store commits, with a summary of everything
// that was counted, skipped or refused. Used by `trailmint ingest` (local files, S3 backfill).
import type { ObjectError, ObjectErrorCode } from './errors.ts';
import { errorAction, objectError, readErrorOf } from './errors.ts';
import type { ParserPool } from './pool.ts';
import type { ParseResult } from '../workers/parse.ts';
import { addStats, emptyStats, type FileStats } from './state/delta.ts';
import type { CommitEntry, ObjectRef, Store } from './state/store.ts';
import type { SourceObject } from './sources/local.ts';

export interface IngestOptions {
  /** objects read and parsed at once; bounds memory to about this many compressed files */
  inFlightObjects: number;
  /** files merged per store transaction */
  commitBatchFiles: number;
  onProgress?: (progress: IngestProgress) => void;
  /** Per object or commit, for telemetry (the service's directory follower). */
  observer?: IngestObserver;
}

export interface IngestObserver {
  /** merged and committed; `seconds`: read + parse */
  objectDone(ref: ObjectRef, stats: FileStats, seconds: number): void;
  objectFailed(ref: ObjectRef, error: ObjectError, action: 'retry' | 'skip'): void;
  committed(files: number, seconds: number): void;
  /** read, but JSON that is not a CloudTrail log file: passed over, not a failure */
  objectSkipped?(reason: 'not a log file' | 'already ingested', key: string): void;
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
    /** passed over: digest files, other extensions, JSON that is not a CloudTrail log */
    skipped: number;
  };
  records: FileStats;
  principals: number;
  /** (source, name) pairs that map to no IAM action, most frequent first */
  unmapped: { source: string; name: string; count: number }[];
  /** actions absent from the catalog (kept, reported) */
  unknownActions: string[];
  errors: FileFailure[];
  /** files read but passed over (JSON that is not a CloudTrail log file), with why */
  skippedFiles: { file: string; reason: string }[];
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
  const skipped: { file: string; reason: string }[] = [];
  const files = {
    total: objects.length + skippedFiles,
    ingested: 0,
    alreadyIngested: 0,
    failed: 0,
    skipped: skippedFiles,
  };
  let pending: { entry: CommitEntry; name: string; seconds: number }[] = [];
  const observer = opts.observer;
  let committing: Promise<void> = Promise.resolve();
  let done = 0;

  // Commits run one at a time, in order; parsing goes on while one is in progress.
  const flush = (): Promise<void> => {
    const batch = pending;
    pending = [];
    committing = committing.then(() => commitBatch(batch));
    return committing;
  };

  const commitBatch = async (batch: typeof pending): Promise<void> => {
    if (batch.length === 0) return;
    const started = performance.now();
    let result;
    try {
      result = await store.commit(batch.map((p) => p.entry));
    } catch (err) {
      // A store that is down fails the run (nothing more can be kept); a delta it refuses fails
      // that file alone: the rest of the batch is committed one by one.
      if ((err as { code?: string }).code === 'STORE_UNAVAILABLE') throw err;
      if (batch.length > 1) {
        for (const p of batch) await commitBatch([p]);
        return;
      }
      const error = objectError('COMMIT_FAILED', (err as Error).message);
      files.failed++;
      errors.push({ file: batch[0].name, ...error });
      observer?.objectFailed(batch[0].entry.object, error, 'retry');
      return;
    }
    files.ingested += result.merged;
    files.alreadyIngested += result.alreadyIngested;
    if (observer) {
      observer.committed(batch.length, (performance.now() - started) / 1000);
      const already = new Set(result.alreadyIngestedKeys);
      for (const p of batch) {
        if (already.has(p.entry.object.key))
          observer.objectSkipped?.('already ingested', p.entry.object.key);
        else observer.objectDone(p.entry.object, p.entry.delta.stats, p.seconds);
      }
    }
  };

  const handle = async (object: SourceObject): Promise<void> => {
    if (await store.isIngested(object.ref)) {
      files.alreadyIngested++;
      return;
    }
    const started = performance.now();
    let bytes: Uint8Array;
    try {
      bytes = await object.read();
    } catch (err) {
      const error = readErrorOf(err);
      files.failed++;
      errors.push({ file: object.name, ...error });
      observer?.objectFailed(
        object.ref,
        error,
        errorAction(error.code) === 'skip' ? 'skip' : 'retry',
      );
      return;
    }
    let result: ParseResult;
    try {
      result = await pool.parse(bytes);
    } catch (err) {
      result = { ok: false, error: objectError('WORKER_FAILED', (err as Error).message) };
    }
    if (!result.ok && result.error.code === 'NOT_CLOUDTRAIL') {
      // JSON that is not a log file (a digest, a manifest): passed over and counted, not a failure.
      files.skipped++;
      skipped.push({ file: object.name, reason: result.error.message });
      observer?.objectSkipped?.('not a log file', object.ref.key);
      return;
    }
    if (!result.ok) {
      files.failed++;
      errors.push({ file: object.name, ...result.error });
      observer?.objectFailed(
        object.ref,
        result.error,
        errorAction(result.error.code) === 'skip' ? 'skip' : 'retry',
      );
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
    pending.push({
      name: object.name,
      entry: { object: object.ref, delta },
      seconds: (performance.now() - started) / 1000,
    });
    if (pending.length >= opts.commitBatchFiles) await flush();
  };

  let next = 0;
  let fatal: unknown;
  const lane = async (): Promise<void> => {
    while (next < objects.length && fatal === undefined) {
      const object = objects[next++];
      try {
        await handle(object);
      } catch (err) {
        fatal ??= err; // the store is down: the other lanes stop after what they hold
        return;
      }
      done++;
      opts.onProgress?.({
        done,
        total: objects.length,
        records: records.records,
        bytes: records.bytesCompressed,
      });
    }
  };
  const lanes = Math.max(1, Math.min(opts.inFlightObjects, objects.length));
  await Promise.all(Array.from({ length: lanes }, lane));
  if (fatal !== undefined) throw fatal;
  await flush();

  const seconds = (performance.now() - started) / 1000;
  return {
    files,
    records,
    principals: principals.size,
    unmapped: [...unmapped.values()].sort(
      (a, b) => b.count - a.count || cmp(a.source, b.source) || cmp(a.name, b.name),
    ),
    unknownActions: [...unknown].sort(),
    errors: errors.sort((a, b) => cmp(a.file, b.file)),
    skippedFiles: skipped.sort((a, b) => cmp(a.file, b.file)),
    seconds,
    recordsPerSecond: seconds > 0 ? records.records / seconds : 0,
  };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
