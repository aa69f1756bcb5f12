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
  // Deterministic order: the same tree is always ingested the same way.
  listing.objects.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return listing;
}

async function walk(dir: string, listing: LocalListing): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      await walk(full, listing);
    } else if (entry.isFile()) {
      if (!LOG_FILE.test(entry.name)) {
        listing.skipped.push({ name: full, reason: 'not a log file' });
      } else if (DIGEST.test(full)) {
        listing.skipped.push({ name: full, reason: 'digest' });
      } else {
        const st = await stat(full);
        listing.objects.push(fileObject(full, st.size, st.mtimeMs));
      }
    }
  }
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
