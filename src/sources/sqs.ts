// The SQS consumer: S3 notifications → objects → worker pool → store, and the ack travels with
// the work: a message is deleted only once every object it names is committed (or skipped for
// good). Modelled on bbc/sqs-consumer (heartbeat, delete after success, poll back-off) and
// benthos' transaction (one message → N objects → delete when all N are done).
//
//   receive ──► parse notification ──► queued objects ──► fetch ──► parse (pool) ──► pending
//      ▲  pauses at maxInFlightObjects                                                │
//      └─ or when the pool's queue is full            commit (batch) ◄────────────────┘
//                                                        │ per-message countdown
//                                                        ▼
//                              DeleteMessageBatch (done) / ChangeMessageVisibility (retry later)
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
  type SQSClientConfig,
} from '@aws-sdk/client-sqs';
import { errorAction, objectError, UsageError, type ObjectError } from '../errors.ts';
import type { ParserPool } from '../pool.ts';
import type { FileDelta, FileStats } from '../state/delta.ts';
import type { CommitEntry, ObjectRef, Store } from '../state/store.ts';
import type { ParseResult } from '../../workers/parse.ts';
import { classifyKey, parseNotification, type KeyKind } from './notifications.ts';
import { readErrorOf, s3Url, type FetchedObject, type S3Source } from './s3.ts';

export interface SqsClientOptions {
  /** emulators and tests; otherwise the SDK resolves it (AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL, AWS) */
  endpoint?: string;
  region?: string;
  credentials?: SQSClientConfig['credentials'];
  /** attempts per request (SDK standard retry mode); default 3 */
  maxAttempts?: number;
  /**
   * Longest silence on a connection before a request fails (retried by the SDK); default 60000,
   * above the longest long poll (20 s). The SDK sets none: a stalled delete would block the
   * deletes behind it for ever.
   */
  socketTimeoutMs?: number;
}

/** An SQS client that leaves everything not given to the SDK's own configuration. */
export function createSqsClient(opts: SqsClientOptions = {}): SQSClient {
  const config: SQSClientConfig = {
    retryMode: 'standard',
    maxAttempts: opts.maxAttempts ?? 3,
    requestHandler: { connectionTimeout: 5_000, socketTimeout: opts.socketTimeoutMs ?? 60_000 },
  };
  if (opts.endpoint !== undefined) {
    config.endpoint = opts.endpoint;
    // The queue URL's host may not resolve (emulators): send to the endpoint given.
    config.useQueueUrlAsEndpoint = false;
  }
  if (opts.region !== undefined) config.region = opts.region;
  if (opts.credentials !== undefined) config.credentials = opts.credentials;
  return new SQSClient(config);
}

export type BadObjectPolicy = 'delete' | 'keep';

export interface ConsumerOptions {
  queueUrl: string;
  /** long-poll wait per ReceiveMessage, 0–20; default 20 */
  waitTimeSecs: number;
  /** visibility given on receive and renewed by each heartbeat; default 120 */
  visibilityTimeoutSecs: number;
  /** interval of the visibility heartbeat; at most half of visibilityTimeoutSecs; default 30 */
  heartbeatSecs: number;
  /** objects received and not yet committed (or dropped); receiving pauses at the bound; default 64 */
  maxInFlightObjects: number;
  /** longest a parsed object waits for its commit; default 1000 */
  commitIntervalMs: number;
  /** objects merged per store commit at most; default 256 */
  commitBatchFiles: number;
  /**
   * A permanently bad object (corrupt gzip, not JSON, not CloudTrail, over the size cap) or a
   * message body nothing can be made of: 'delete' (default) counts and reports it, then deletes
   * the message so the queue never blocks; 'keep' leaves the message to come back until the
   * queue's maxReceiveCount moves it to the dead-letter queue.
   */
  badObjectPolicy: BadObjectPolicy;
  /**
   * Visibility given back to a message that is not deleted (retryable failure, or kept), doubled
   * per receive (ApproximateReceiveCount) up to 15 minutes; 0 retries at once; default 10.
   */
  retryBackoffSecs: number;
}

export const DEFAULT_CONSUMER_OPTIONS: Omit<ConsumerOptions, 'queueUrl'> = {
  waitTimeSecs: 20,
  visibilityTimeoutSecs: 120,
  heartbeatSecs: 30,
  maxInFlightObjects: 64,
  commitIntervalMs: 1000,
  commitBatchFiles: 256,
  badObjectPolicy: 'delete',
  retryBackoffSecs: 10,
};

const MAX_RETRY_BACKOFF_SECS = 900;
const POLL_BACKOFF_FIRST_MS = 500;
const POLL_BACKOFF_MAX_MS = 30_000;
// A shared pool may drain without any of our tasks finishing: look again this often.
const RECHECK_MS = 100;
// Parse tasks handed to the pool per thread: keeps every worker busy without ever reaching
// piscina's maxQueue (threads × 4), which would reject the task.
const PARSE_SLOTS_PER_THREAD = 2;
const SQS_BATCH = 10;

/** Validates options (with defaults for what is missing) and says what to fix. */
export function resolveConsumerOptions(
  opts: Partial<ConsumerOptions> & { queueUrl: string },
): ConsumerOptions {
  const given = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined));
  const o: ConsumerOptions = { ...DEFAULT_CONSUMER_OPTIONS, ...given } as ConsumerOptions;
  const bad = (message: string): never => {
    throw new UsageError('BAD_CONFIG', message);
  };
  const whole = (name: keyof ConsumerOptions, min: number, max: number) => {
    const v = o[name];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
      bad(`${name} must be a whole number from ${min} to ${max}, got ${String(v)}`);
    }
  };
  if (!/^https?:\/\/[^/]+\/.+/.test(o.queueUrl)) {
    bad(
      `queueUrl must be an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<queue>), got "${o.queueUrl}"`,
    );
  }
  whole('waitTimeSecs', 0, 20);
  whole('visibilityTimeoutSecs', 1, 43_200);
  if (
    typeof o.heartbeatSecs !== 'number' ||
    !(o.heartbeatSecs > 0) ||
    o.heartbeatSecs * 2 > o.visibilityTimeoutSecs
  ) {
    bad(
      `heartbeatSecs must be more than 0 and at most half of visibilityTimeoutSecs (${o.visibilityTimeoutSecs}), ` +
        `so that a message is extended well before it reappears; got ${String(o.heartbeatSecs)}`,
    );
  }
  whole('maxInFlightObjects', 1, 100_000);
  whole('commitIntervalMs', 1, 3_600_000);
  whole('commitBatchFiles', 1, 100_000);
  whole('retryBackoffSecs', 0, MAX_RETRY_BACKOFF_SECS);
  if (o.badObjectPolicy !== 'delete' && o.badObjectPolicy !== 'keep') {
    bad(`badObjectPolicy must be "delete" or "keep", got "${String(o.badObjectPolicy)}"`);
  }
  return o;
}

export type ObjectSkipReason =
  | Exclude<KeyKind, 'log'>
  | 'already ingested'
  /** an S3 / EventBridge event that creates nothing (removal, restore…) */
  | 'not an object creation';

export type SqsOperation =
  'DeleteMessageBatch' | 'ChangeMessageVisibility' | 'ChangeMessageVisibilityBatch';

/**
 * Everything the consumer does, for metrics, logs and status (wired elsewhere). Called on the
 * main thread, per message, object or commit, never per record. Object keys are s3://bucket/key.
 */
export interface ConsumerObserver {
  messagesReceived(n: number): void;
  messagesDeleted(n: number): void;
  /** an s3:TestEvent, deleted */
  testEvent(messageId: string): void;
  /** a body nothing can be made of: deleted or kept per badObjectPolicy */
  poisonMessage(messageId: string, reason: string): void;
  /** not deleted: it reappears after `visibilitySecs` (retry, or on its way to the DLQ) */
  messageReleased(messageId: string, visibilitySecs: number): void;
  /** merged and committed; `seconds`: fetch + parse */
  objectDone(ref: ObjectRef, stats: FileStats, seconds: number): void;
  /** `action` 'skip': permanently bad (handled per badObjectPolicy); 'retry': its message comes back */
  objectFailed(ref: ObjectRef, error: ObjectError, action: 'retry' | 'skip'): void;
  objectSkipped(reason: ObjectSkipReason, key?: string): void;
  committed(files: number, seconds: number): void;
  /** ReceiveMessage failed (after the SDK's retries); polling backs off */
  pollError(err: unknown): void;
  /** a delete or visibility change failed: the message may come back (harmless: merges are idempotent) */
  sqsError(operation: SqsOperation, err: unknown): void;
  /** the store failed (commit, isIngested): the messages involved come back */
  storeError(err: unknown): void;
}

export interface ConsumerDeps {
  sqs: SQSClient;
  s3: S3Source;
  store: Store;
  pool: Pick<ParserPool, 'parse' | 'queueSize' | 'threads'>;
  observer: ConsumerObserver;
}

interface InFlightMessage {
  readonly id: string;
  readonly receiptHandle: string;
  readonly receiveCount: number;
  /** objects not yet committed or dropped: the countdown to the delete */
  remaining: number;
  /** a retryable failure: the message must come back */
  retry: boolean;
  /** a bad object or body under badObjectPolicy 'keep': left for the DLQ */
  keep: boolean;
}

interface ObjectTask {
  msg: InFlightMessage;
  bucket: string;
  key: string;
  etag: string | undefined;
  size: number | undefined;
}

type Outcome =
  | { kind: 'parsed'; ref: ObjectRef; delta: FileDelta; seconds: number }
  | { kind: 'dropped' } // skipped, or bad and deleted per policy: counts as done
  | { kind: 'retry' }
  | { kind: 'keep' };

interface PendingCommit {
  entry: CommitEntry;
  /** one per task that produced this object (the same object may be named twice) */
  msgs: InFlightMessage[];
  seconds: number;
}

export class SqsConsumer {
  private readonly sqs: SQSClient;
  private readonly s3: S3Source;
  private readonly store: Store;
  private readonly pool: ConsumerDeps['pool'];
  private readonly observer: ConsumerObserver;
  readonly options: ConsumerOptions;

  private running = false;
  private stopping: Promise<void> | undefined;
  private loopDone: Promise<void> = Promise.resolve();
  private readonly abort = new AbortController();
  private heartbeatTimer: NodeJS.Timeout | undefined;
  /** received, not yet deleted or released: what the heartbeat extends */
  private readonly messages = new Set<InFlightMessage>();
  /** received objects waiting for an in-flight slot */
  private readonly queued: ObjectTask[] = [];
  /** objects started and not yet committed or dropped (≤ maxInFlightObjects) */
  private inFlight = 0;
  /** of those, the ones being fetched or parsed (the rest wait for a commit) */
  private working = 0;
  private parsing = 0;
  private readonly parseWaiters: (() => void)[] = [];
  private readonly pending = new Map<string, PendingCommit>();
  private commitTimer: NodeJS.Timeout | undefined;
  private committing: Promise<void> | undefined;
  private readonly toDelete: InFlightMessage[] = [];
  private deleting: Promise<void> | undefined;
  /** visibility changes in progress, awaited by stop() */
  private readonly background = new Set<Promise<void>>();
  private readonly waiters = new Set<() => void>();

  constructor(deps: ConsumerDeps, options: Partial<ConsumerOptions> & { queueUrl: string }) {
    this.options = resolveConsumerOptions(options);
    this.sqs = deps.sqs;
    this.s3 = deps.s3;
    this.store = deps.store;
    this.pool = deps.pool;
    this.observer = deps.observer;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Messages received and not yet deleted or released. */
  get inFlightMessages(): number {
    return this.messages.size;
  }

  /** Objects received and not yet committed or dropped. */
  get inFlightObjects(): number {
    return this.inFlight + this.queued.length;
  }

  start(): void {
    if (this.running || this.stopping) throw new Error('SqsConsumer: start() called twice');
    this.running = true;
    this.heartbeatTimer = setInterval(
      () => this.track(this.heartbeat()),
      this.options.heartbeatSecs * 1000,
    );
    this.loopDone = this.loop();
  }

  /**
   * Stops receiving, finishes and commits everything received, deletes the messages whose
   * objects are all committed and releases the others; resolves when nothing is left in flight.
   * A long poll under way is cut short: messages it may already have taken are not seen, and
   * reappear when the visibility they were given runs out.
   */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    this.running = false;
    this.abort.abort(); // ends a long poll at once
    this.notify();
    await this.loopDone;
    while (this.inFlight > 0 || this.queued.length > 0) {
      this.maybeCommit(true);
      await this.changed();
    }
    clearInterval(this.heartbeatTimer); // nothing left to extend
    while (this.committing || this.deleting || this.background.size > 0) {
      await Promise.all([this.committing, this.deleting, ...this.background]);
    }
  }

  private async loop(): Promise<void> {
    let backoffMs = 0;
    while (this.running) {
      while (this.running && !this.hasRoom()) await this.changed();
      if (!this.running) break;
      let messages: Message[];
      try {
        const room = this.options.maxInFlightObjects - this.inFlightObjects;
        const out = await this.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: this.options.queueUrl,
            MaxNumberOfMessages: Math.min(SQS_BATCH, room),
            WaitTimeSeconds: this.options.waitTimeSecs,
            VisibilityTimeout: this.options.visibilityTimeoutSecs,
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          }),
          { abortSignal: this.abort.signal },
        );
        messages = out.Messages ?? [];
        backoffMs = 0;
      } catch (err) {
        if (!this.running) break; // aborted by stop(): anything in that response reappears later
        this.observer.pollError(err);
        backoffMs = Math.min(
          backoffMs === 0 ? POLL_BACKOFF_FIRST_MS : backoffMs * 2,
          POLL_BACKOFF_MAX_MS,
        );
        await sleep(backoffMs, undefined, { signal: this.abort.signal }).catch(() => {});
        continue;
      }
      if (messages.length > 0) this.observer.messagesReceived(messages.length);
      for (const m of messages) this.accept(m);
      this.pump();
    }
  }

  /** Room for more objects, and the pool is not backed up (it may be shared with others). */
  private hasRoom(): boolean {
    return (
      this.inFlightObjects < this.options.maxInFlightObjects &&
      this.pool.queueSize < Math.max(1, this.pool.threads)
    );
  }

  private accept(m: Message): void {
    if (m.ReceiptHandle === undefined || m.MessageId === undefined) return;
    const msg: InFlightMessage = {
      id: m.MessageId,
      receiptHandle: m.ReceiptHandle,
      receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 1) || 1,
      remaining: 0,
      retry: false,
      keep: false,
    };
    const note = parseNotification(m.Body ?? '');
    if (note.kind === 'test') {
      this.observer.testEvent(msg.id);
      this.finish(msg);
      return;
    }
    if (note.kind === 'invalid') {
      this.observer.poisonMessage(msg.id, note.reason);
      msg.keep = this.options.badObjectPolicy === 'keep';
      this.finish(msg);
      return;
    }
    for (let i = 0; i < note.ignoredEvents; i++)
      this.observer.objectSkipped('not an object creation');
    for (const o of note.objects) {
      const kind = classifyKey(o.key);
      if (kind !== 'log') {
        this.observer.objectSkipped(kind, s3Url(o.bucket, o.key));
        continue;
      }
      msg.remaining++;
      this.queued.push({ msg, bucket: o.bucket, key: o.key, etag: o.etag, size: o.size });
    }
    if (msg.remaining === 0) this.finish(msg);
    else this.messages.add(msg);
  }

  /** Starts queued objects while there are free in-flight slots. */
  private pump(): void {
    while (this.queued.length > 0 && this.inFlight < this.options.maxInFlightObjects) {
      const task = this.queued.shift()!;
      this.inFlight++;
      this.working++;
      void this.run(task);
    }
  }

  private async run(task: ObjectTask): Promise<void> {
    let outcome: Outcome;
    try {
      outcome = await this.process(task);
    } catch (err) {
      this.observer.storeError(err); // isIngested: everything else reports as data
      outcome = { kind: 'retry' };
    }
    this.working--;
    if (outcome.kind === 'parsed') {
      this.addPending(outcome.ref, outcome.delta, task.msg, outcome.seconds);
      return;
    }
    if (outcome.kind === 'retry') task.msg.retry = true;
    if (outcome.kind === 'keep') task.msg.keep = true;
    this.resolve(task.msg);
  }

  private async process(task: ObjectTask): Promise<Outcome> {
    const started = performance.now();
    const key = s3Url(task.bucket, task.key);
    // Duplicate deliveries are common (SQS is at least once): skip before fetching when the
    // notification carries the ETag, else right after the fetch, before the costly parse.
    if (task.etag !== undefined && (await this.store.isIngested({ key, tag: task.etag }))) {
      this.observer.objectSkipped('already ingested', key);
      return { kind: 'dropped' };
    }
    let fetched: FetchedObject;
    try {
      fetched = await this.s3.fetch(task.bucket, task.key, task.size);
    } catch (err) {
      return this.failed({ key, tag: task.etag ?? '' }, readErrorOf(err));
    }
    // The tag is what was read, not what was announced: the delta must match the bytes.
    const ref: ObjectRef = { key, tag: fetched.etag };
    if (task.etag === undefined && (await this.store.isIngested(ref))) {
      this.observer.objectSkipped('already ingested', key);
      return { kind: 'dropped' };
    }
    const result = await this.parse(fetched.bytes);
    if (!result.ok) return this.failed(ref, result.error);
    return {
      kind: 'parsed',
      ref,
      delta: result.delta,
      seconds: (performance.now() - started) / 1000,
    };
  }

  private failed(ref: ObjectRef, error: ObjectError): Outcome {
    const action = errorAction(error.code) === 'skip' ? 'skip' : 'retry';
    this.observer.objectFailed(ref, error, action);
    if (action === 'retry') return { kind: 'retry' };
    return this.options.badObjectPolicy === 'keep' ? { kind: 'keep' } : { kind: 'dropped' };
  }

  private async parse(bytes: Uint8Array): Promise<ParseResult> {
    // Threads can be 0 for a moment (a worker being replaced): never wait on nothing.
    while (this.parsing >= Math.max(1, this.pool.threads) * PARSE_SLOTS_PER_THREAD) {
      await new Promise<void>((resolve) => this.parseWaiters.push(resolve));
    }
    this.parsing++;
    try {
      return await this.pool.parse(bytes);
    } catch (err) {
      return { ok: false, error: objectError('WORKER_FAILED', (err as Error).message) };
    } finally {
      this.parsing--;
      this.parseWaiters.shift()?.();
    }
  }

  private addPending(
    ref: ObjectRef,
    delta: FileDelta,
    msg: InFlightMessage,
    seconds: number,
  ): void {
    const id = ref.key + '\n' + ref.tag;
    const same = this.pending.get(id);
    // The same object twice in one commit would merge its counts twice: commit it once.
    if (same) same.msgs.push(msg);
    else this.pending.set(id, { entry: { object: ref, delta }, msgs: [msg], seconds });
    this.maybeCommit(false);
  }

  /**
   * Commits what is pending when the batch is full, when nothing else is being worked on (no
   * reason to wait), or when `force`d (timer, stop). One commit at a time: whatever arrives
   * meanwhile goes into the next one, right after (group commit).
   */
  private maybeCommit(force: boolean): void {
    if (this.committing !== undefined || this.pending.size === 0) return;
    if (force || this.working === 0 || this.pending.size >= this.options.commitBatchFiles) {
      clearTimeout(this.commitTimer);
      this.commitTimer = undefined;
      const batch = [...this.pending.values()].slice(0, this.options.commitBatchFiles);
      for (const p of batch) this.pending.delete(p.entry.object.key + '\n' + p.entry.object.tag);
      this.committing = this.commit(batch).finally(() => {
        this.committing = undefined;
        this.maybeCommit(true);
      });
    } else {
      this.commitTimer ??= setTimeout(() => {
        this.commitTimer = undefined;
        this.maybeCommit(true);
      }, this.options.commitIntervalMs);
    }
  }

  private async commit(batch: PendingCommit[]): Promise<void> {
    const started = performance.now();
    let already: Set<string>;
    try {
      const result = await this.store.commit(batch.map((p) => p.entry));
      already = new Set(result.alreadyIngestedKeys);
    } catch (err) {
      this.observer.storeError(err);
      // One delta the store refuses must not hold back the batch it shares a commit with: take
      // them one by one, and only what fails alone comes back. Not when the store is down.
      if (batch.length > 1 && (err as { code?: string }).code !== 'STORE_UNAVAILABLE') {
        for (const p of batch) await this.commit([p]);
        return;
      }
      for (const p of batch) {
        for (const msg of p.msgs) {
          msg.retry = true;
          this.resolve(msg);
        }
      }
      return;
    }
    this.observer.committed(batch.length, (performance.now() - started) / 1000);
    for (const p of batch) {
      // Another replica committed it between our isIngested check and this commit: its records
      // were counted there, so here it is a skip, not a second ingest.
      if (already.has(p.entry.object.key))
        this.observer.objectSkipped('already ingested', p.entry.object.key);
      else this.observer.objectDone(p.entry.object, p.entry.delta.stats, p.seconds);
      for (const msg of p.msgs) this.resolve(msg);
    }
  }

  /** One object of `msg` is committed or dropped. */
  private resolve(msg: InFlightMessage): void {
    this.inFlight--;
    if (--msg.remaining === 0) this.finish(msg);
    this.pump();
    this.notify();
  }

  /** Every object of `msg` is accounted for: delete it, or give it back to the queue. */
  private finish(msg: InFlightMessage): void {
    this.messages.delete(msg);
    if (msg.retry || msg.keep) {
      this.track(this.release(msg));
      return;
    }
    this.toDelete.push(msg);
    this.deleting ??= this.deleteQueued();
  }

  private async deleteQueued(): Promise<void> {
    // Let the messages finished by the same commit join one batch.
    await Promise.resolve();
    while (this.toDelete.length > 0) {
      const batch = this.toDelete.splice(0, SQS_BATCH);
      try {
        const out = await this.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: this.options.queueUrl,
            Entries: batch.map((m, i) => ({ Id: String(i), ReceiptHandle: m.receiptHandle })),
          }),
        );
        const deleted = out.Successful?.length ?? 0;
        if (deleted > 0) this.observer.messagesDeleted(deleted);
        if (out.Failed?.length)
          this.observer.sqsError('DeleteMessageBatch', batchFailure(out.Failed));
      } catch (err) {
        this.observer.sqsError('DeleteMessageBatch', err);
      }
    }
    this.deleting = undefined;
  }

  private async release(msg: InFlightMessage): Promise<void> {
    const secs = Math.min(
      this.options.retryBackoffSecs * 2 ** (msg.receiveCount - 1),
      MAX_RETRY_BACKOFF_SECS,
    );
    try {
      await this.sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: this.options.queueUrl,
          ReceiptHandle: msg.receiptHandle,
          VisibilityTimeout: secs,
        }),
      );
      this.observer.messageReleased(msg.id, secs);
    } catch (err) {
      // It still comes back, when the visibility it has runs out.
      this.observer.sqsError('ChangeMessageVisibility', err);
    }
  }

  /** Extends every message still in flight to a full visibilityTimeoutSecs. */
  private async heartbeat(): Promise<void> {
    const msgs = [...this.messages];
    for (let i = 0; i < msgs.length; i += SQS_BATCH) {
      const batch = msgs.slice(i, i + SQS_BATCH);
      try {
        const out = await this.sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: this.options.queueUrl,
            Entries: batch.map((m, j) => ({
              Id: String(j),
              ReceiptHandle: m.receiptHandle,
              VisibilityTimeout: this.options.visibilityTimeoutSecs,
            })),
          }),
        );
        // A message finished meanwhile is already deleted: its failure means nothing.
        const failed = (out.Failed ?? []).filter((f) => this.messages.has(batch[Number(f.Id)]));
        if (failed.length > 0)
          this.observer.sqsError('ChangeMessageVisibilityBatch', batchFailure(failed));
      } catch (err) {
        this.observer.sqsError('ChangeMessageVisibilityBatch', err);
      }
    }
  }

  private track(p: Promise<void>): void {
    this.background.add(p);
    void p.finally(() => this.background.delete(p));
  }

  /** Resolves at the next state change (an object resolved, stop()), or after RECHECK_MS. */
  private changed(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, RECHECK_MS);
      this.waiters.add(done);
    });
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }
}

function batchFailure(failed: { Id?: string; Code?: string; Message?: string }[]): Error {
  return new Error(failed.map((f) => `${f.Code ?? 'Error'}: ${f.Message ?? ''}`).join('; '));
}
