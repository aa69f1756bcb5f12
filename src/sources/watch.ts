// `trailmint serve` with no queue: follow a local directory (the laptop default), ingesting the
// log files that appear. Polls instead of fs.watch: recursive watching is not portable and
// misses files written before start; a rescan costs one stat per file and the store skips
// what it already has.
import { errorAction } from '../errors.ts';
import { ingestObjects, type IngestObserver } from '../ingest.ts';
import type { ParserPool } from '../pool.ts';
import type { Store } from '../state/store.ts';
import { listLocal, type SourceObject } from './local.ts';

export interface WatchDeps {
  store: Store;
  pool: ParserPool;
  observer: IngestObserver & {
    objectSkipped(reason: 'digest' | 'not a log file' | 'already ingested', key?: string): void;
    storeError(err: unknown): void;
  };
}

export interface WatchOptions {
  dir: string;
  intervalSecs: number;
  /** objects read and parsed at once */
  inFlightObjects: number;
}

export class DirectoryWatcher {
  private readonly deps: WatchDeps;
  private readonly opts: WatchOptions;
  private timer: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;
  private running = false;
  /** permanently bad files (same version): reported once, not parsed again every scan */
  private readonly bad = new Map<string, string>();
  /** digests and other files: counted once */
  private readonly passedOver = new Set<string>();
  scans = 0;

  constructor(deps: WatchDeps, opts: WatchOptions) {
    this.deps = deps;
    this.opts = opts;
  }

  get isRunning(): boolean {
    return this.running;
  }

  start(): void {
    this.running = true;
    this.schedule(0);
  }

  /** Resolves once the scan under way (if any) has committed. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.scanning;
  }

  /** One scan now (tests, and the first scan at start). */
  scan(): Promise<void> {
    this.scanning ??= this.scanOnce().finally(() => {
      this.scanning = undefined;
    });
    return this.scanning;
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      void this.scan().then(() => this.schedule(this.opts.intervalSecs * 1000));
    }, ms);
  }

  private async scanOnce(): Promise<void> {
    const { store, pool, observer } = this.deps;
    try {
      const listing = await listLocal([this.opts.dir]);
      for (const s of listing.skipped) {
        if (this.passedOver.has(s.name)) continue;
        this.passedOver.add(s.name);
        observer.objectSkipped(s.reason, 'file:' + s.name);
      }
      const todo: SourceObject[] = listing.objects.filter(
        (o) => this.bad.get(o.ref.key) !== o.ref.tag,
      );
      if (todo.length > 0) {
        const summary = await ingestObjects(todo, store, pool, {
          inFlightObjects: this.opts.inFlightObjects,
          commitBatchFiles: 64,
          observer: {
            objectDone: (ref, stats, seconds) => observer.objectDone(ref, stats, seconds),
            committed: (files, seconds) => observer.committed(files, seconds),
            objectSkipped: (reason, key) => observer.objectSkipped(reason, key),
            objectFailed: (ref, error, action) => {
              if (errorAction(error.code) === 'skip') this.bad.set(ref.key, ref.tag);
              observer.objectFailed(ref, error, action);
            },
          },
        });
        void summary;
      }
    } catch (err) {
      // The directory vanished, or the store failed: try again at the next scan.
      observer.storeError(err);
    } finally {
      this.scans++;
    }
  }
}
