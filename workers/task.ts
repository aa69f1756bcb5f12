// The piscina task: a plain exported function (STYLE.md, piscina). Takes the compressed bytes of
// one log file (moved, not copied, by the caller) and returns a FileDelta or an error as data.
import { loadCatalog } from '../src/catalog/catalog.ts';
import { parseLogFile, type ParseOptions, type ParseResult } from './parse.ts';

export interface ParseTask {
  bytes: Uint8Array;
  opts: ParseOptions;
}

// Loaded once per worker thread, at first use.
let catalog: ReturnType<typeof loadCatalog> | undefined;

/** The task this worker runs or last ran: the next waits for it (one file at a time). */
let current: Promise<unknown> = Promise.resolve();

/**
 * Piscina gives this worker up to two tasks at once (src/pool.ts) so that the next one is here
 * when a file is done; they run in turn, never interleaved: two streamed files at once would
 * hold two files' state in one thread.
 */
export default function parseTask(task: ParseTask): Promise<ParseResult> {
  const run = current.then(() => parseOne(task));
  current = run.catch(() => undefined); // a task that failed (no catalog) does not fail the next
  return run;
}

async function parseOne(task: ParseTask): Promise<ParseResult> {
  catalog ??= loadCatalog();
  try {
    return await parseLogFile(task.bytes, catalog, task.opts);
  } catch (err) {
    // A bug, not bad input: report it as data so the main thread keeps the object for a retry.
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    return { ok: false, error: { code: 'WORKER_FAILED', message } };
  }
}
