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

export class ParserPool {
  private readonly piscina: Piscina<ParseTask, ParseResult>;
  private readonly parseOpts: ParseOptions;

  constructor(opts: PoolOptions, parseOpts: ParseOptions) {
    this.parseOpts = parseOpts;
    this.piscina = new Piscina({
      filename: new URL('../workers/task.ts', import.meta.url).href,
      minThreads: opts.threads,
      maxThreads: opts.threads,
      // Callers bound what they submit; the pool's own queue only smooths bursts.
      maxQueue: opts.threads * 4,
      idleTimeout: 30_000,
    });
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

  parse(bytes: Uint8Array): Promise<ParseResult> {
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
