// The parser worker pool. Bytes go in moved (transferred), deltas come back as plain data.
import os from 'node:os';
import { Piscina } from 'piscina';
import type { ParseOptions, ParseResult } from '../workers/parse.ts';
import type { ParseTask } from '../workers/task.ts';

export interface PoolOptions {
  /** worker threads; default: the machine's available parallelism */
  threads: number;
}

export function defaultThreads(): number {
  return Math.max(1, os.availableParallelism());
}

/** Tasks piscina may queue per thread beyond the one it runs. */
const QUEUED_PER_THREAD = 4;
/**
 * Tasks piscina hands a worker at once. The worker runs them one after the other (task.ts), so a
 * worker holds at most one file's parse state; the second is there to start the moment the first
 * is done. With one, a worker waited ~10% of its time for the main thread to take its result
 * (deserialize the delta) and send the next task (bench/README.md).
 */
const TASKS_PER_WORKER = 2;

export class ParserPool {
  private readonly piscina: Piscina<ParseTask, ParseResult>;
  private readonly parseOpts: ParseOptions;
  /** tasks submitted and not yet settled; at most `capacity` (running + piscina's queue) */
  private outstanding = 0;
  private readonly capacity: number;
  private readonly waiting: (() => void)[] = [];

  constructor(opts: PoolOptions, parseOpts: ParseOptions) {
    this.parseOpts = parseOpts;
    this.piscina = new Piscina({
      filename: new URL('../workers/task.ts', import.meta.url).href,
      minThreads: opts.threads,
      maxThreads: opts.threads,
      // Callers bound what they submit; the pool's own queue only smooths bursts.
      maxQueue: opts.threads * QUEUED_PER_THREAD,
      idleTimeout: 30_000,
      concurrentTasksPerWorker: TASKS_PER_WORKER,
    });
    this.capacity = opts.threads * (1 + QUEUED_PER_THREAD);
  }

  get threads(): number {
    return this.piscina.threads.length;
  }

  /** Tasks waiting for a free worker. */
  get queueSize(): number {
    return this.piscina.queueSize;
  }

  get utilization(): number {
    return this.piscina.utilization;
  }

  /**
   * Parses one file on a worker. When the pool is full (every thread busy and piscina's queue at
   * its bound), waits for room instead of failing: callers may keep more objects in flight than
   * the pool holds, and backpressure reaches them as a slower promise.
   */
  async parse(bytes: Uint8Array): Promise<ParseResult> {
    while (this.outstanding >= this.capacity) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.outstanding++;
    try {
      return await this.submit(bytes);
    } finally {
      this.outstanding--;
      this.waiting.shift()?.();
    }
  }

  private submit(bytes: Uint8Array): Promise<ParseResult> {
    // Only move a buffer that owns its whole ArrayBuffer: transferring a view of a pooled or
    // shared allocation would either detach unrelated memory or be silently cloned.
    const owned = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    const task: ParseTask = { bytes, opts: this.parseOpts };
    return owned
      ? this.piscina.run(task, { transferList: [bytes.buffer as ArrayBuffer] })
      : this.piscina.run(task);
  }

  async close(): Promise<void> {
    await this.piscina.destroy();
  }
}
