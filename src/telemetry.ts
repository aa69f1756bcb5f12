// Metrics, status and logs of the service, fed from the main thread per message, object or
// commit, never per record (workers count locally and return FileStats). One Telemetry owns its
// own prom-client Registry, so several apps (tests) never share or double-register series.
import { pino, type DestinationStream, type Logger } from 'pino';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { OBJECT_ERRORS, type ObjectError, type ObjectErrorCode } from './errors.ts';
import type { ConsumerObserver, ObjectSkipReason, SqsOperation } from './sources/sqs.ts';
import { SKIP_REASONS, type FileStats } from './state/delta.ts';
import type { ObjectRef, Store, UnmappedCount } from './state/store.ts';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

// Wherever a secret could ride along in a logged object. Logged errors carry codes, not requests.
const REDACT_PATHS = [
  'apiToken',
  'token',
  'authorization',
  '*.apiToken',
  '*.token',
  '*.authorization',
  'req.headers.authorization',
  'headers.authorization',
];

/** JSON lines on stdout (or `destination`), level as a name, secrets redacted. */
export function createLogger(level: LogLevel = 'info', destination?: DestinationStream): Logger {
  const opts = {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return destination ? pino(opts, destination) : pino(opts);
}

/** What the pool gauges read at scrape time (ParserPool fits). */
export interface PoolView {
  readonly threads: number;
  readonly queueSize: number;
  /** 0..1, fraction of worker time spent on tasks */
  readonly utilization: number;
}

/** What the in-flight gauges read at scrape time (SqsConsumer fits). */
export interface ConsumerView {
  readonly inFlightMessages: number;
  readonly inFlightObjects: number;
}

export interface TelemetryOptions {
  store: Store;
  logger?: Logger;
  /** ms since the epoch; for lag and uptime */
  now?: () => number;
  /** failed objects kept for /v1/status, newest first; default 100 */
  failedObjectsMax?: number;
  /** unmapped (source, name) pairs listed in /v1/status, most frequent first; default 100 */
  unmappedMax?: number;
}

export interface FailedObject {
  /** s3://bucket/key or file:<path> */
  object: string;
  code: ObjectErrorCode;
  message: string;
  /** skip: permanently bad (never retried); retry: its message comes back */
  action: 'retry' | 'skip';
  /** ISO time of the latest failure */
  time: string;
}

/** The body of GET /v1/status. */
export interface Status {
  startedAt: string;
  uptimeSeconds: number;
  store: Store['kind'];
  objects: { ingested: number; failed: number; skipped: number };
  records: {
    total: number;
    duplicate: number;
    succeeded: number;
    failed: number;
    denied: number;
    skipped: number;
  };
  bytes: { compressed: number; inflated: number };
  messages: {
    received: number;
    deleted: number;
    released: number;
    poison: number;
    testEvents: number;
  };
  /** newest event time merged by this process (null before the first object) */
  newestEventTime: string | null;
  /** now minus newestEventTime */
  ingestLagSeconds: number | null;
  /** distinct pairs over everything in the store; `top` is the most frequent ones */
  unmapped: { pairs: number; top: UnmappedCount[] };
  failedObjects: FailedObject[];
}

// Label values: snake_case, and exhaustive over the source unions (tsc fails on a new reason).
const OBJECT_SKIP_LABELS: Record<ObjectSkipReason, string> = {
  digest: 'digest',
  'not a log file': 'not_a_log_file',
  'already ingested': 'already_ingested',
  'not an object creation': 'not_an_object_creation',
};
const SQS_OPERATIONS: readonly (SqsOperation | 'ReceiveMessage')[] = [
  'ReceiveMessage',
  'DeleteMessageBatch',
  'ChangeMessageVisibility',
  'ChangeMessageVisibilityBatch',
];
const EVENT_OUTCOMES = ['succeeded', 'failed', 'denied'] as const;
const POLICY_SOURCES = ['fast_path', 'cache', 'materialized'] as const;
export type PolicySource = (typeof POLICY_SOURCES)[number];

// Seconds. Objects: a CloudTrail file is KB to a few MB (fetch + parse). Commits: one LMDB or
// Redis transaction of a batch. Policies: OR a window of day sets, then materialize.
const OBJECT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const COMMIT_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const POLICY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export class Telemetry implements ConsumerObserver {
  readonly registry = new Registry();
  private readonly store: Store;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly startedAt: number;
  private readonly failedObjectsMax: number;
  private readonly unmappedMax: number;
  /** key → latest failure; Map order is insertion order, so the oldest is first */
  private readonly failed = new Map<string, FailedObject>();
  private newestEventMs = 0;
  // Plain totals for /v1/status (prom-client's getters are async and label-shaped).
  private readonly totals = {
    objects: { ingested: 0, failed: 0, skipped: 0 },
    records: { total: 0, duplicate: 0, succeeded: 0, failed: 0, denied: 0, skipped: 0 },
    bytes: { compressed: 0, inflated: 0 },
    messages: { received: 0, deleted: 0, released: 0, poison: 0, testEvents: 0 },
  };

  private readonly objects: Counter<'result'>;
  private readonly objectErrors: Counter<'code'>;
  private readonly objectsSkipped: Counter<'reason'>;
  private readonly records: Counter;
  private readonly recordsSkipped: Counter<'reason'>;
  private readonly events: Counter<'outcome'>;
  private readonly compressedBytes: Counter;
  private readonly inflatedBytes: Counter;
  private readonly messagesReceivedTotal: Counter;
  private readonly messagesDeletedTotal: Counter;
  private readonly messagesFailedTotal: Counter<'reason'>;
  private readonly testEvents: Counter;
  private readonly sqsErrors: Counter<'operation'>;
  private readonly storeErrors: Counter;
  private readonly objectSeconds: Histogram;
  private readonly commitSeconds: Histogram;
  private readonly policySeconds: Histogram;
  private readonly policyResponses: Counter<'source'>;

  constructor(opts: TelemetryOptions) {
    this.store = opts.store;
    this.log = opts.logger ?? createLogger('silent');
    this.now = opts.now ?? Date.now;
    this.startedAt = this.now();
    this.failedObjectsMax = opts.failedObjectsMax ?? 100;
    this.unmappedMax = opts.unmappedMax ?? 100;
    const registers = [this.registry];

    this.objects = new Counter({
      name: 'trailmint_objects_total',
      help: 'Log objects processed, by result (ingested = merged and committed)',
      labelNames: ['result'],
      registers,
    });
    this.objectErrors = new Counter({
      name: 'trailmint_object_errors_total',
      help: 'Log objects that failed, by error code',
      labelNames: ['code'],
      registers,
    });
    this.objectsSkipped = new Counter({
      name: 'trailmint_objects_skipped_total',
      help: 'Objects passed over without parsing, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.records = new Counter({
      name: 'trailmint_records_total',
      help: 'CloudTrail records read from ingested objects',
      registers,
    });
    this.recordsSkipped = new Counter({
      name: 'trailmint_records_skipped_total',
      help: 'Records not counted as an action use, by reason (duplicate = eventID repeated in its file)',
      labelNames: ['reason'],
      registers,
    });
    this.events = new Counter({
      name: 'trailmint_events_total',
      help: 'API call events counted, by outcome (failed = refused for a reason other than authorization)',
      labelNames: ['outcome'],
      registers,
    });
    this.compressedBytes = new Counter({
      name: 'trailmint_compressed_bytes_total',
      help: 'Bytes of ingested log objects as stored (gzip)',
      registers,
    });
    this.inflatedBytes = new Counter({
      name: 'trailmint_inflated_bytes_total',
      help: 'Bytes of ingested log objects after gunzip',
      registers,
    });
    this.messagesReceivedTotal = new Counter({
      name: 'trailmint_sqs_messages_received_total',
      help: 'SQS messages received',
      registers,
    });
    this.messagesDeletedTotal = new Counter({
      name: 'trailmint_sqs_messages_deleted_total',
      help: 'SQS messages deleted after everything they named was committed',
      registers,
    });
    this.messagesFailedTotal = new Counter({
      name: 'trailmint_sqs_messages_failed_total',
      help: 'SQS messages not processed: poison (a body nothing can be made of) or released (they come back)',
      labelNames: ['reason'],
      registers,
    });
    this.testEvents = new Counter({
      name: 'trailmint_sqs_test_events_total',
      help: 's3:TestEvent messages, acknowledged and deleted',
      registers,
    });
    this.sqsErrors = new Counter({
      name: 'trailmint_sqs_errors_total',
      help: 'SQS calls that failed after the SDK retries, by operation',
      labelNames: ['operation'],
      registers,
    });
    this.storeErrors = new Counter({
      name: 'trailmint_store_errors_total',
      help: 'Store operations that failed (the messages involved come back)',
      registers,
    });
    this.objectSeconds = new Histogram({
      name: 'trailmint_object_processing_seconds',
      help: 'Fetch and parse time per log object',
      buckets: OBJECT_BUCKETS,
      registers,
    });
    this.commitSeconds = new Histogram({
      name: 'trailmint_store_commit_seconds',
      help: 'Time to merge and durably commit one batch of objects',
      buckets: COMMIT_BUCKETS,
      registers,
    });
    this.policySeconds = new Histogram({
      name: 'trailmint_policy_materialization_seconds',
      help: 'Time to materialize one policy (store reads included)',
      buckets: POLICY_BUCKETS,
      registers,
    });

    this.policyResponses = new Counter({
      name: 'trailmint_policy_responses_total',
      help:
        'GET /v1/policy answers sent, by where the body came from: fast_path (served before routing, ' +
        'for a URL answered before and a principal unchanged since), cache (serialized answer reused ' +
        'after routing and validation) or materialized',
      labelNames: ['source'],
      registers,
    });

    // Every known label value from the start: a series that appears late breaks rate().
    for (const s of POLICY_SOURCES) this.policyResponses.labels(s).inc(0);
    for (const r of ['ingested', 'failed', 'skipped']) this.objects.labels(r).inc(0);
    for (const c of Object.keys(OBJECT_ERRORS)) this.objectErrors.labels(c).inc(0);
    for (const r of Object.values(OBJECT_SKIP_LABELS)) this.objectsSkipped.labels(r).inc(0);
    for (const r of [...SKIP_REASONS, 'duplicate']) this.recordsSkipped.labels(r).inc(0);
    for (const o of EVENT_OUTCOMES) this.events.labels(o).inc(0);
    for (const r of ['poison', 'released']) this.messagesFailedTotal.labels(r).inc(0);
    for (const o of SQS_OPERATIONS) this.sqsErrors.labels(o).inc(0);

    // prom-client's default collectors fail promtool's lint (gauges named *_total, NaN written
    // "Nan"): the two process series dashboards rely on, under their standard names.
    this.gauge(
      'process_start_time_seconds',
      'Start time of the process since unix epoch in seconds.',
      () => this.startedAt / 1000,
    );
    this.gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', () =>
      process.memoryUsage.rss(),
    );
    // Read from the store at scrape time: the store is the only place that knows them.
    this.gauge(
      'trailmint_principals',
      'Principals tracked in the store',
      async () => (await this.store.principalCount?.()) ?? (await this.store.principals()).length,
    );
    this.gauge(
      'trailmint_unmapped_pairs',
      'Distinct (eventSource, eventName) pairs that map to no IAM action',
      async () => (await this.store.unmapped()).length,
    );
  }

  /** Worker pool gauges, read at scrape time. */
  watchPool(pool: PoolView): void {
    this.gauge(
      'trailmint_worker_pool_utilization_ratio',
      'Fraction of worker thread time spent parsing',
      () => pool.utilization,
    );
    this.gauge(
      'trailmint_worker_pool_queued_tasks',
      'Parse tasks waiting for a free worker',
      () => pool.queueSize,
    );
    this.gauge(
      'trailmint_worker_pool_threads',
      'Worker threads in the parser pool',
      () => pool.threads,
    );
  }

  /** In-flight gauges of the SQS consumer, read at scrape time. */
  watchConsumer(consumer: ConsumerView): void {
    this.gauge(
      'trailmint_sqs_inflight_messages',
      'SQS messages received and not yet deleted or released',
      () => consumer.inFlightMessages,
    );
    this.gauge(
      'trailmint_inflight_objects',
      'Objects received and not yet committed or dropped (receiving pauses at the bound)',
      () => consumer.inFlightObjects,
    );
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Prometheus text format. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  messagesReceived(n: number): void {
    this.messagesReceivedTotal.inc(n);
    this.totals.messages.received += n;
  }

  messagesDeleted(n: number): void {
    this.messagesDeletedTotal.inc(n);
    this.totals.messages.deleted += n;
  }

  testEvent(messageId: string): void {
    this.testEvents.inc();
    this.totals.messages.testEvents++;
    this.log.info({ messageId }, 's3:TestEvent received and deleted');
  }

  poisonMessage(messageId: string, reason: string): void {
    this.messagesFailedTotal.labels('poison').inc();
    this.totals.messages.poison++;
    this.log.error(
      { messageId, code: 'POISON_MESSAGE', reason },
      'SQS message body is not a notification',
    );
  }

  messageReleased(messageId: string, visibilitySecs: number): void {
    this.messagesFailedTotal.labels('released').inc();
    this.totals.messages.released++;
    this.log.warn(
      { messageId, visibilitySecs },
      'SQS message released: it comes back after its visibility',
    );
  }

  objectDone(ref: ObjectRef, stats: FileStats, seconds: number): void {
    this.objects.labels('ingested').inc();
    this.objectSeconds.observe(seconds);
    this.records.inc(stats.records);
    this.recordsSkipped.labels('duplicate').inc(stats.duplicateRecords);
    let skipped = 0;
    for (const r of SKIP_REASONS) {
      const n = stats.skipped[r];
      if (n > 0) this.recordsSkipped.labels(r).inc(n);
      skipped += n;
    }
    this.events.labels('succeeded').inc(stats.succeeded);
    this.events.labels('failed').inc(stats.failed);
    this.events.labels('denied').inc(stats.denied);
    this.compressedBytes.inc(stats.bytesCompressed);
    this.inflatedBytes.inc(stats.bytesInflated);
    if (stats.maxEventTime > this.newestEventMs) {
      // Registered with the first event: before it lag has no value, and a 0 would read as "current".
      if (this.newestEventMs === 0) {
        this.gauge(
          'trailmint_ingest_lag_seconds',
          'Now minus the newest event time merged by this process',
          () => this.lagSeconds(),
        );
      }
      this.newestEventMs = stats.maxEventTime;
    }

    const t = this.totals;
    t.objects.ingested++;
    t.records.total += stats.records;
    t.records.duplicate += stats.duplicateRecords;
    t.records.succeeded += stats.succeeded;
    t.records.failed += stats.failed;
    t.records.denied += stats.denied;
    t.records.skipped += skipped;
    t.bytes.compressed += stats.bytesCompressed;
    t.bytes.inflated += stats.bytesInflated;
    // A failure that later succeeded (retry) is no longer a failed object.
    this.failed.delete(ref.key);
    this.log.debug(
      { object: ref.key, records: stats.records, bytes: stats.bytesCompressed, seconds },
      'object ingested',
    );
  }

  objectFailed(ref: ObjectRef, error: ObjectError, action: 'retry' | 'skip'): void {
    this.objects.labels('failed').inc();
    this.objectErrors.labels(error.code).inc();
    this.totals.objects.failed++;
    this.failed.delete(ref.key); // re-inserted last: newest
    this.failed.set(ref.key, {
      object: ref.key,
      code: error.code,
      message: error.message,
      action,
      time: new Date(this.now()).toISOString(),
    });
    if (this.failed.size > this.failedObjectsMax)
      this.failed.delete(this.failed.keys().next().value!);
    // A skipped object is lost data (ERROR); a retried one comes back with its message (WARN).
    const line = { object: ref.key, code: error.code, action, message: error.message };
    if (action === 'skip') this.log.error(line, 'object failed permanently');
    else this.log.warn(line, 'object failed, will be retried');
  }

  objectSkipped(reason: ObjectSkipReason, key?: string): void {
    this.objects.labels('skipped').inc();
    this.objectsSkipped.labels(OBJECT_SKIP_LABELS[reason]).inc();
    this.totals.objects.skipped++;
    this.log.debug({ object: key, reason }, 'object skipped');
  }

  committed(files: number, seconds: number): void {
    this.commitSeconds.observe(seconds);
    this.log.debug({ files, seconds }, 'commit');
  }

  pollError(err: unknown): void {
    this.sqsErrors.labels('ReceiveMessage').inc();
    this.log.warn({ err, code: 'SQS_RECEIVE_FAILED' }, 'ReceiveMessage failed; backing off');
  }

  sqsError(operation: SqsOperation, err: unknown): void {
    this.sqsErrors.labels(operation).inc();
    this.log.warn(
      { err, code: 'SQS_CALL_FAILED', operation },
      `${operation} failed; the message may come back`,
    );
  }

  storeError(err: unknown): void {
    this.storeErrors.inc();
    this.log.error(
      { err, code: 'STORE_FAILED' },
      'store operation failed; the messages involved come back',
    );
  }

  policyServed(seconds: number): void {
    this.policySeconds.observe(seconds);
  }

  /** one GET /v1/policy body sent, by where it came from */
  policyResponse(source: PolicySource): void {
    this.policyResponses.labels(source).inc();
  }

  async status(): Promise<Status> {
    const now = this.now();
    const unmapped = await this.store.unmapped();
    const top = [...unmapped]
      .sort((a, b) => b.count - a.count || cmp(a.source, b.source) || cmp(a.name, b.name))
      .slice(0, this.unmappedMax);
    const t = this.totals;
    return {
      startedAt: new Date(this.startedAt).toISOString(),
      uptimeSeconds: (now - this.startedAt) / 1000,
      store: this.store.kind,
      objects: { ...t.objects },
      records: { ...t.records },
      bytes: { ...t.bytes },
      messages: { ...t.messages },
      newestEventTime: this.newestEventMs ? new Date(this.newestEventMs).toISOString() : null,
      ingestLagSeconds: this.newestEventMs ? this.lagSeconds() : null,
      unmapped: { pairs: unmapped.length, top },
      failedObjects: [...this.failed.values()].reverse(),
    };
  }

  /** Only meaningful once an event was merged (newestEventMs > 0). */
  private lagSeconds(): number {
    return Math.max(0, this.now() - this.newestEventMs) / 1000;
  }

  /** A gauge computed at scrape time. A failed read (store hiccup) keeps the last value rather than failing the scrape. */
  private gauge(name: string, help: string, read: () => number | Promise<number>): void {
    const log = this.log;
    new Gauge({
      name,
      help,
      registers: [this.registry],
      async collect() {
        try {
          this.set(await read());
        } catch (err) {
          log.warn({ err, code: 'METRIC_READ_FAILED', metric: name }, 'could not compute a metric');
        }
      },
    });
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
