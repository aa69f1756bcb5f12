// `trailmint serve`: the always-on service. The one place that wires every concrete part of
// it: store, worker pool, source (SQS consumer or directory follower), telemetry, HTTP API.
//
// Shutdown order is the ack rule in reverse: stop receiving, finish and commit what is in
// flight, delete what was committed, then close the API, the pool and the store.
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { DEFAULT_PARSE_OPTIONS } from '../workers/parse.ts';
import { wasmScannerError } from '../workers/wasm.ts';
import { loadCatalog } from './catalog/catalog.ts';
import type { ServiceConfig } from './config.ts';
import { buildApp } from './http/app.ts';
import { ParserPool } from './pool.ts';
import { createS3Client, S3Source } from './sources/s3.ts';
import { createSqsClient, SqsConsumer } from './sources/sqs.ts';
import { DirectoryWatcher } from './sources/watch.ts';
import { describeStore, openStore } from './state/open.ts';
import type { Store } from './state/store.ts';
import { createLogger, Telemetry } from './telemetry.ts';

export interface Service {
  /** http://host:port actually bound (port 0 picks one) */
  readonly url: string;
  readonly app: FastifyInstance;
  readonly store: Store;
  readonly telemetry: Telemetry;
  readonly consumer: SqsConsumer | undefined;
  readonly watcher: DirectoryWatcher | undefined;
  ready(): boolean;
  /** Graceful stop; resolves when everything is closed. Idempotent. */
  stop(): Promise<void>;
}

export async function startService(config: ServiceConfig, logger?: Logger): Promise<Service> {
  const log = logger ?? createLogger(config.logLevel);
  const catalog = loadCatalog();
  const store = await openStore(config.store, { catalog, retentionDays: config.retentionDays });
  let pool: ParserPool | undefined;
  let app: FastifyInstance | undefined;
  try {
    pool = new ParserPool(
      { threads: config.threads },
      { ...DEFAULT_PARSE_OPTIONS, maxInflatedBytes: config.maxInflatedBytes },
    );
    const telemetry = new Telemetry({ store, logger: log });
    telemetry.watchPool(pool);

    let consumer: SqsConsumer | undefined;
    let watcher: DirectoryWatcher | undefined;
    if (config.queueUrl !== undefined) {
      const sqs = createSqsClient({ endpoint: config.sqsEndpoint, region: config.region });
      const s3 = new S3Source(
        createS3Client({
          endpoint: config.s3Endpoint,
          region: config.region,
          forcePathStyle: config.s3ForcePathStyle || undefined,
        }),
        { maxObjectBytes: config.maxObjectBytes },
      );
      consumer = new SqsConsumer(
        { sqs, s3, store, pool, observer: telemetry },
        { queueUrl: config.queueUrl, ...config.consumer },
      );
      telemetry.watchConsumer(consumer);
    } else if (config.watchDir !== undefined) {
      watcher = new DirectoryWatcher(
        { store, pool, observer: telemetry },
        {
          dir: config.watchDir,
          intervalSecs: config.watchIntervalSecs,
          inFlightObjects: config.threads * 2,
        },
      );
    }

    const activePool = pool;
    const ready = () =>
      !stopping &&
      activePool.threads > 0 &&
      (consumer ? consumer.isRunning : watcher ? watcher.isRunning : true);
    let stopping = false;

    app = buildApp({
      store,
      catalog,
      telemetry,
      apiToken: config.apiToken,
      ready,
      logger: log,
      policyJobs: { maxJobs: config.policyJobsMax, ttlSecs: config.policyJobsTtlSecs },
    });
    const url = await app.listen({ host: config.host, port: config.port });
    consumer?.start();
    watcher?.start();
    // The workers load the same module; when it cannot load there, whole files fall back to
    // JSON.parse: same results, slower (bench/RESULTS.md).
    const scannerError = wasmScannerError();
    if (scannerError !== undefined)
      log.warn(
        { err: scannerError.message },
        'WebAssembly record scanner unavailable: log files are read with JSON.parse (slower)',
      );
    log.info(
      {
        url,
        store: describeStore(config.store),
        source: config.queueUrl ?? (config.watchDir ? path.resolve(config.watchDir) : 'none'),
        threads: config.threads,
        scanner: scannerError === undefined ? 'webassembly' : 'json.parse',
        auth: config.apiToken !== undefined,
      },
      consumer
        ? 'trailmint serving; consuming SQS'
        : watcher
          ? 'trailmint serving; following a directory'
          : 'trailmint serving the store; no queue or directory configured, nothing is ingested',
    );

    const httpApp = app;
    let stopped: Promise<void> | undefined;
    const stop = () =>
      (stopped ??= (async () => {
        stopping = true;
        log.info('stopping: finishing in-flight work');
        const drain = Promise.all([consumer?.stop(), watcher?.stop()]);
        const timeout = new Promise<'timeout'>((resolve) =>
          setTimeout(resolve, config.shutdownTimeoutSecs * 1000, 'timeout').unref(),
        );
        if ((await Promise.race([drain, timeout])) === 'timeout') {
          // Nothing uncommitted was deleted: those messages come back to whoever runs next.
          log.warn(
            { timeoutSecs: config.shutdownTimeoutSecs },
            'in-flight work did not finish in time',
          );
        }
        await httpApp.close();
        await activePool.close();
        await store.close();
        log.info('stopped');
      })());

    return { url, app, store, telemetry, consumer, watcher, ready, stop };
  } catch (err) {
    await app?.close();
    await pool?.close();
    await store.close();
    throw err;
  }
}
