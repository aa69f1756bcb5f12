// Local files and directories as ingest sources: `trailmint ingest ./AWSLogs`.
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.ts';
import type { ObjectRef } from '../state/store.ts';

/** Something the ingest engine can read: an S3 object or a local file. */
export interface SourceObject {
  ref: ObjectRef;
  /** for progress and error reports */
  name: string;
  size: number;
  read(): Promise<Uint8Array>;
}

export interface LocalListing {
  objects: SourceObject[];
  /** files passed over while walking directories (digest files, other extensions) */
  skipped: { name: string; reason: 'digest' | 'not a log file' }[];
}

const LOG_FILE = /\.json(\.gz)?$/i;
// CloudTrail digest files: <account>_CloudTrail-Digest_<region>_… under …/CloudTrail-Digest/.
const DIGEST = /CloudTrail-Digest/;

/**
 * Lists the log files under the given paths. Directories are walked recursively and keep
 * `*.json.gz` / `*.json` (gzip or not is decided later by the magic bytes), skipping digests;
 * a file named explicitly is always taken.
 */
export async function listLocal(paths: readonly string[]): Promise<LocalListing> {
  const listing: LocalListing = { objects: [], skipped: [] };
  for (const p of paths) {
    const abs = path.resolve(p);
    const st = await stat(abs).catch(() => undefined);
    if (st === undefined) throw new UsageError('NO_SUCH_PATH', `no such file or directory: ${p}`);
    if (st.isDirectory()) await walk(abs, listing);
    else listing.objects.push(fileObject(abs, st.size, st.mtimeMs));
  }
  // Deterministic order: the same tree is always ingested (and reported) the same way.
  listing.objects.sort(byName);
  listing.skipped.sort(byName);
  return listing;
}

function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** File-system calls of one listing in flight at once (the thread pool has 4 threads). */
const LIST_CONCURRENCY = 32;

/** Runs at most `n` of the functions passed to it at a time. */
function limiter(n: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: (() => void)[] = [];
  return async (fn) => {
    if (active >= n) await new Promise<void>((resolve) => queue.push(resolve));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      queue.shift()?.();
    }
  };
}

/**
 * The log files under `dir`. Entries are looked at concurrently (at most LIST_CONCURRENCY
 * file-system calls at a time): one stat after another cost a thread-pool round trip per file
 * (300 files, timed by hand around listLocal: 0.16-0.27 s before, 0.04-0.12 s after, of a 4.4 s
 * `trailmint ingest`).
 */
async function walk(
  dir: string,
  listing: LocalListing,
  limit = limiter(LIST_CONCURRENCY),
): Promise<void> {
  const entries = await limit(() => readdir(dir, { withFileTypes: true }));
  await Promise.all(
    entries.map(async (entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        await walk(full, listing, limit);
      } else if (entry.isFile()) {
        if (!LOG_FILE.test(entry.name)) {
          listing.skipped.push({ name: full, reason: 'not a log file' });
        } else if (DIGEST.test(full)) {
          listing.skipped.push({ name: full, reason: 'digest' });
        } else {
          const st = await limit(() => stat(full));
          listing.objects.push(fileObject(full, st.size, st.mtimeMs));
        }
      }
    }),
  );
}

function fileObject(abs: string, size: number, mtimeMs: number): SourceObject {
  return {
    ref: { key: 'file:' + abs, tag: `${size}-${Math.trunc(mtimeMs)}` },
    name: abs,
    size,
    // readFile allocates an exact, unpooled buffer: it can be moved to a worker as is.
    read: () => readFile(abs),
  };
}
