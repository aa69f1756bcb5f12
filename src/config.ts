// `trailmint serve` configuration: environment (12-factor) overridden by flags, validated at
// start with messages that name the setting and say what to fix. Units are in the names.
import os from 'node:os';
import { UsageError } from './errors.ts';
import type { BadObjectPolicy, ConsumerOptions } from './sources/sqs.ts';
import type { LogLevel } from './telemetry.ts';

export interface ServiceConfig {
  host: string;
  port: number;
  /** --store URL: directory (LMDB), memory:, redis://… */
  store: string;
  /** Redis store: day sets older than this expire */
  retentionDays: number;
  /** SQS queue receiving the trail bucket's notifications; unset: follow `watchDir` */
  queueUrl: string | undefined;
  /** with no queue: a local directory ingested as files appear */
  watchDir: string | undefined;
  watchIntervalSecs: number;
  /** AWS region; unset: the SDK's chain (AWS_REGION, profile, IMDS) */
  region: string | undefined;
  /** explicit endpoints (emulators, VPC endpoints); unset: the SDK's own resolution */
  sqsEndpoint: string | undefined;
  s3Endpoint: string | undefined;
  s3ForcePathStyle: boolean;
  threads: number;
  apiToken: string | undefined;
  logLevel: LogLevel;
  maxObjectBytes: number;
  maxInflatedBytes: number;
  shutdownTimeoutSecs: number;
  /** Access Analyzer compatible jobs kept in memory, and for how long */
  policyJobsMax: number;
  policyJobsTtlSecs: number;
  consumer: Omit<ConsumerOptions, 'queueUrl'>;
}

/** One setting: its env name, flag, default and meaning (also the source of `serve --help`). */
interface Setting {
  env: string;
  flag: string;
  help: string;
}

export const SETTINGS = {
  host: { env: 'TRAILMINT_HOST', flag: 'host', help: 'address to listen on (default 0.0.0.0)' },
  port: { env: 'PORT', flag: 'port', help: 'HTTP port (default 8080)' },
  store: {
    env: 'TRAILMINT_STORE',
    flag: 'store',
    help: 'state: a directory (LMDB, default ./.trailmint), memory:, or redis[s]://[user:pass@]host:port[/db][?prefix=P] (password also from TRAILMINT_REDIS_PASSWORD)',
  },
  retentionDays: {
    env: 'TRAILMINT_RETENTION_DAYS',
    flag: 'retention-days',
    help: 'Redis store: day sets older than this many days expire (default 400)',
  },
  queueUrl: {
    env: 'TRAILMINT_QUEUE_URL',
    flag: 'queue-url',
    help: 'SQS queue URL of the trail bucket notifications',
  },
  watchDir: {
    env: 'TRAILMINT_WATCH_DIR',
    flag: 'watch',
    help: 'with no queue: a local directory of log files to follow',
  },
  watchIntervalSecs: {
    env: 'TRAILMINT_WATCH_INTERVAL_SECS',
    flag: 'watch-interval-secs',
    help: 'how often the directory is rescanned (default 5)',
  },
  region: { env: 'AWS_REGION', flag: 'region', help: 'AWS region (default: the SDK chain)' },
  threads: {
    env: 'TRAILMINT_THREADS',
    flag: 'threads',
    help: 'parser worker threads (default: available cores)',
  },
  apiToken: {
    env: 'TRAILMINT_API_TOKEN',
    flag: 'api-token',
    help: 'require Authorization: Bearer <token> on the API (probes and /metrics stay open)',
  },
  logLevel: {
    env: 'TRAILMINT_LOG_LEVEL',
    flag: 'log-level',
    help: 'fatal|error|warn|info|debug|trace|silent (default info)',
  },
  maxObjectBytes: {
    env: 'TRAILMINT_MAX_OBJECT_BYTES',
    flag: 'max-object-bytes',
    help: 'refuse log objects larger than this, compressed (default 1 GiB)',
  },
  maxInflatedBytes: {
    env: 'TRAILMINT_MAX_INFLATED_BYTES',
    flag: 'max-inflated-bytes',
    help: 'refuse objects inflating past this, e.g. gzip bombs (default 4 GiB)',
  },
  shutdownTimeoutSecs: {
    env: 'TRAILMINT_SHUTDOWN_TIMEOUT_SECS',
    flag: 'shutdown-timeout-secs',
    help: 'on SIGTERM, longest wait for in-flight work (default 60)',
  },
  policyJobsMax: {
    env: 'TRAILMINT_POLICY_JOBS_MAX',
    flag: 'policy-jobs-max',
    help: 'Access Analyzer compatible policy generation jobs kept, oldest evicted (default 1000)',
  },
  policyJobsTtlSecs: {
    env: 'TRAILMINT_POLICY_JOBS_TTL_SECS',
    flag: 'policy-jobs-ttl-secs',
    help: 'how long a finished job stays readable (default 604800: 7 days)',
  },
  waitTimeSecs: {
    env: 'TRAILMINT_WAIT_TIME_SECS',
    flag: 'wait-time-secs',
    help: 'SQS long-poll wait, 0-20 (default 20)',
  },
  visibilityTimeoutSecs: {
    env: 'TRAILMINT_VISIBILITY_TIMEOUT_SECS',
    flag: 'visibility-timeout-secs',
    help: 'visibility given on receive, renewed by the heartbeat (default 120)',
  },
  heartbeatSecs: {
    env: 'TRAILMINT_HEARTBEAT_SECS',
    flag: 'heartbeat-secs',
    help: 'visibility heartbeat interval, <= half the visibility (default 30)',
  },
  maxInFlightObjects: {
    env: 'TRAILMINT_MAX_IN_FLIGHT_OBJECTS',
    flag: 'max-in-flight-objects',
    help: 'objects received and not committed; receiving pauses at the bound (default 64)',
  },
  commitIntervalMs: {
    env: 'TRAILMINT_COMMIT_INTERVAL_MS',
    flag: 'commit-interval-ms',
    help: 'longest a parsed object waits for its commit (default 1000)',
  },
  commitBatchFiles: {
    env: 'TRAILMINT_COMMIT_BATCH_FILES',
    flag: 'commit-batch-files',
    help: 'objects merged per store commit at most (default 256)',
  },
  badObjectPolicy: {
    env: 'TRAILMINT_BAD_OBJECT_POLICY',
    flag: 'bad-object-policy',
    help: 'delete: count, report and delete the message of a corrupt object (default); keep: leave it for the DLQ',
  },
  retryBackoffSecs: {
    env: 'TRAILMINT_RETRY_BACKOFF_SECS',
    flag: 'retry-backoff-secs',
    help: 'visibility of a message released for retry, doubled per receive (default 10)',
  },
} as const satisfies Record<string, Setting>;

export type SettingName = keyof typeof SETTINGS;

/** Raw values by setting name: flags win over the environment. */
export type RawSettings = Partial<Record<SettingName, string>>;

const LOG_LEVELS: readonly LogLevel[] = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
];

export function rawFromEnv(env: NodeJS.ProcessEnv): RawSettings {
  const raw: RawSettings = {};
  for (const [name, s] of Object.entries(SETTINGS) as [SettingName, Setting][]) {
    const v = env[s.env];
    if (v !== undefined && v !== '') raw[name] = v;
  }
  return raw;
}

/** Validates everything at once and reports every problem, not just the first. */
export function resolveConfig(
  raw: RawSettings,
  env: NodeJS.ProcessEnv = process.env,
): ServiceConfig {
  const problems: string[] = [];
  const where = (name: SettingName) => `${SETTINGS[name].env} / --${SETTINGS[name].flag}`;
  const int = (name: SettingName, dflt: number, min: number, max: number): number => {
    const v = raw[name];
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      problems.push(`${where(name)} must be a whole number from ${min} to ${max}, got "${v}"`);
      return dflt;
    }
    return n;
  };
  const url = (name: string, value: string | undefined): string | undefined => {
    if (value === undefined) return undefined;
    try {
      const u = new URL(value);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
      return value;
    } catch {
      problems.push(`${name} must be an http(s) URL, got "${value}"`);
      return undefined;
    }
  };

  const logLevel = (raw.logLevel ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    problems.push(
      `${where('logLevel')} must be one of ${LOG_LEVELS.join(', ')}, got "${raw.logLevel}"`,
    );
  }
  const badObjectPolicy = (raw.badObjectPolicy ?? 'delete') as BadObjectPolicy;
  if (badObjectPolicy !== 'delete' && badObjectPolicy !== 'keep') {
    problems.push(
      `${where('badObjectPolicy')} must be "delete" or "keep", got "${raw.badObjectPolicy}"`,
    );
  }
  const queueUrl = raw.queueUrl;
  if (queueUrl !== undefined && !/^https?:\/\/[^/]+\/.+/.test(queueUrl)) {
    problems.push(
      `${where('queueUrl')} must be an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<queue>), got "${queueUrl}"`,
    );
  }
  if (queueUrl !== undefined && raw.watchDir !== undefined) {
    problems.push(`give either ${where('queueUrl')} or ${where('watchDir')}, not both`);
  }
  const visibilityTimeoutSecs = int('visibilityTimeoutSecs', 120, 1, 43_200);
  const heartbeatSecs = int(
    'heartbeatSecs',
    Math.min(30, Math.floor(visibilityTimeoutSecs / 2) || 1),
    1,
    21_600,
  );
  if (heartbeatSecs * 2 > visibilityTimeoutSecs) {
    problems.push(
      `${where('heartbeatSecs')} (${heartbeatSecs}) must be at most half of ${where('visibilityTimeoutSecs')} (${visibilityTimeoutSecs}), so a message is extended well before it reappears`,
    );
  }
  const maxObjectBytes = int('maxObjectBytes', 1024 ** 3, 1, 2 ** 40);
  const maxInflatedBytes = int('maxInflatedBytes', 4 * 1024 ** 3, 1, 2 ** 42);
  if (maxInflatedBytes < maxObjectBytes && raw.maxInflatedBytes !== undefined) {
    problems.push(`${where('maxInflatedBytes')} must be at least ${where('maxObjectBytes')}`);
  }
  const apiToken = raw.apiToken;
  if (apiToken !== undefined && apiToken.length < 16) {
    problems.push(`${where('apiToken')} must be at least 16 characters (use a random secret)`);
  }
  const config: ServiceConfig = {
    host: raw.host ?? '0.0.0.0',
    port: int('port', 8080, 0, 65_535),
    store: raw.store ?? './.trailmint',
    retentionDays: int('retentionDays', 400, 1, 36_500),
    queueUrl,
    watchDir: queueUrl === undefined ? raw.watchDir : undefined,
    watchIntervalSecs: int('watchIntervalSecs', 5, 1, 86_400),
    region: raw.region ?? env.AWS_DEFAULT_REGION,
    sqsEndpoint: url('AWS_ENDPOINT_URL_SQS', env.AWS_ENDPOINT_URL_SQS ?? env.AWS_ENDPOINT_URL),
    s3Endpoint: url('AWS_ENDPOINT_URL_S3', env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL),
    s3ForcePathStyle: ['1', 'true'].includes(env.TRAILMINT_S3_FORCE_PATH_STYLE ?? ''),
    threads: int('threads', Math.max(1, os.availableParallelism()), 1, 256),
    apiToken,
    logLevel,
    maxObjectBytes,
    maxInflatedBytes,
    shutdownTimeoutSecs: int('shutdownTimeoutSecs', 60, 1, 3600),
    policyJobsMax: int('policyJobsMax', 1000, 1, 1_000_000),
    policyJobsTtlSecs: int('policyJobsTtlSecs', 7 * 86_400, 1, 366 * 86_400),
    consumer: {
      waitTimeSecs: int('waitTimeSecs', 20, 0, 20),
      visibilityTimeoutSecs,
      heartbeatSecs,
      maxInFlightObjects: int('maxInFlightObjects', 64, 1, 100_000),
      commitIntervalMs: int('commitIntervalMs', 1000, 1, 3_600_000),
      commitBatchFiles: int('commitBatchFiles', 256, 1, 100_000),
      badObjectPolicy,
      retryBackoffSecs: int('retryBackoffSecs', 10, 0, 900),
    },
  };
  if (problems.length > 0) {
    throw new UsageError('BAD_CONFIG', `invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
  return config;
}

/** The settings table for `serve --help`. */
export function settingsHelp(): string {
  return (Object.values(SETTINGS) as Setting[])
    .map((s) => `  --${s.flag.padEnd(24)} ${s.env.padEnd(34)} ${s.help}`)
    .join('\n');
}
