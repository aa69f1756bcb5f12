// trailmint command line: the one place that knows every concrete class. It wires sources, the worker pool, a store and the policy materializer.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { fileURLToPath } from 'node:url';
import { loadCatalog } from './catalog/catalog.ts';
import { UsageError } from './errors.ts';
import { ingestObjects, type IngestProgress, type IngestSummary } from './ingest.ts';
import { policyFor } from './policy/query.ts';
import { parsePolicies, unusedPermissions } from './policy/unused.ts';
import { ParserPool, defaultThreads } from './pool.ts';
import { listLocal, type SourceObject } from './sources/local.ts';
import {
  rawFromEnv,
  resolveConfig,
  SETTINGS,
  settingsHelp,
  type RawSettings,
  type SettingName,
} from './config.ts';
import { SKIP_REASONS, dayOf, dayToIso, isoToDay } from './state/delta.ts';
import { openStore } from './state/open.ts';
import type { Store } from './state/store.ts';
import { DEFAULT_PARSE_OPTIONS } from '../workers/parse.ts';

const VERSION = '0.1.0';
const DEFAULT_STORE = './.trailmint';
const DEFAULT_WINDOW_DAYS = 90;
export const SAMPLES_DIR = fileURLToPath(new URL('../samples/cloudtrail', import.meta.url));

const HELP = `trailmint ${VERSION} — least-privilege IAM policies from CloudTrail activity

Usage:
  trailmint ingest <path|s3://bucket/prefix>... [--from D] [--to D] [--store S] [--threads N] [--json]
      Parse CloudTrail log files (files, or directories walked recursively for *.json.gz and
      *.json; digest files skipped) into the store. Files already ingested are skipped, so a
      re-run only reads what is new. Exit code 1 when any file failed (reported, others kept).
      s3://bucket/prefix backfills from S3: only the day folders of [--from, --to] (default:
      the ${DEFAULT_WINDOW_DAYS} days ending today) in the CloudTrail layout, every account and region.
  trailmint serve [--port N] [--queue-url URL | --watch DIR] [--store S] [...]
      The always-on service: consumes the trail bucket's S3 notifications from SQS (or follows
      a local directory), keeps the store current, and serves the HTTP API (see serve --help).
  trailmint policy <principal-arn> [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--placeholders]
                   [--store S] [--json]
      The least-privilege policy for a principal (role, user or root ARN) from the actions it
      used in the window (UTC days, inclusive; default: the ${DEFAULT_WINDOW_DAYS} days ending today).
      --placeholders writes the catalog's \${Placeholder} ARNs where no resource was observed.
      --json prints {principal, from, to, actions, denied, policies, ...}.
  trailmint principals [--store S] [--json]
      Every principal seen, with first/last active day and distinct action count.
  trailmint unused <principal-arn> --policy FILE [--policy FILE]... [--from D] [--to D]
                   [--store S] [--json]
      Which actions the given policies grant that the principal never used in the window, the
      reduction in percent and a replacement policy (the generated one limited to the grant).
      A FILE holds one IAM policy document or a JSON array of them; wildcards and NotAction are
      expanded against the action catalog; resources and conditions are not compared.
  trailmint demo [--store S]
      Ingest the bundled sample logs (samples/cloudtrail) and print a generated policy.

Options:
  --store S      where state lives: a directory (LMDB, default ${DEFAULT_STORE}), redis://host:port[/db]
                 (rediss:// for TLS; several replicas share it) or memory:
                 (env TRAILMINT_STORE)
  --threads N    parser worker threads (default: available cores; env TRAILMINT_THREADS)
  --json         machine-readable output on stdout
  -h, --help     this help;  -v, --version  the version

Exit codes: 0 ok, 1 a file failed or the principal has no activity in the window, 2 bad usage.
`;

// Every serve setting has a flag (store and threads are shared with the other commands).
const SETTING_FLAGS = Object.fromEntries(
  Object.values(SETTINGS).map((s) => [s.flag, { type: 'string' }] as const),
) as Record<string, { type: 'string' }>;

const OPTIONS = {
  ...SETTING_FLAGS,
  store: { type: 'string' },
  threads: { type: 'string' },
  json: { type: 'boolean', default: false },
  from: { type: 'string' },
  to: { type: 'string' },
  placeholders: { type: 'boolean', default: false },
  policy: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h', default: false },
  version: { type: 'boolean', short: 'v', default: false },
} as const satisfies ParseArgsConfig['options'];

interface Flags {
  store?: string;
  threads?: string;
  json: boolean;
  from?: string;
  to?: string;
  placeholders: boolean;
  policy?: string[];
}

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  isTty: boolean;
  env: NodeJS.ProcessEnv;
  now: () => number;
}

const processIo: Io = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  isTty: Boolean(process.stderr.isTTY),
  env: process.env,
  now: () => Date.now(),
};

/** Runs one command; returns the exit code. */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
    });
    if (values.version) {
      io.out(VERSION + '\n');
      return 0;
    }
    const [command, ...args] = positionals;
    if ((values.help && command !== 'serve') || command === undefined || command === 'help') {
      io.out(HELP);
      return 0;
    }
    const flags: Flags = values;
    if (command === 'serve') return await serveCommand(args, values as Record<string, unknown>, io);
    switch (command) {
      case 'ingest':
        return await ingestCommand(args, flags, io);
      case 'policy':
        return await policyCommand(args, flags, io);
      case 'principals':
        return await principalsCommand(args, flags, io);
      case 'unused':
        return await unusedCommand(args, flags, io);
      case 'demo':
        return await demoCommand(args, flags, io);
      default:
        throw new UsageError(
          'UNKNOWN_COMMAND',
          `unknown command "${command}" (see trailmint --help)`,
        );
    }
  } catch (err) {
    if (
      err instanceof UsageError ||
      (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ) {
      io.err(`trailmint: ${(err as Error).message}\n`);
      return 2;
    }
    io.err(`trailmint: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}

async function withStore<T>(flags: Flags, io: Io, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(flags.store ?? io.env.TRAILMINT_STORE ?? DEFAULT_STORE, {
    catalog: loadCatalog(),
  });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

function threadsOf(flags: Flags, io: Io): number {
  const raw = flags.threads ?? io.env.TRAILMINT_THREADS;
  if (raw === undefined) return defaultThreads();
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 256) {
    throw new UsageError(
      'BAD_THREADS',
      `--threads must be a whole number from 1 to 256, got "${raw}"`,
    );
  }
  return n;
}

async function ingestCommand(paths: string[], flags: Flags, io: Io): Promise<number> {
  if (paths.length === 0)
    throw new UsageError('NO_PATHS', 'ingest needs at least one file or directory');
  const summary = await runIngest(paths, flags, io);
  if (flags.json) io.out(JSON.stringify(summary) + '\n');
  else io.out(formatSummary(summary));
  return summary.files.failed > 0 ? 1 : 0;
}

async function runIngest(paths: string[], flags: Flags, io: Io): Promise<IngestSummary> {
  const threads = threadsOf(flags, io);
  // Started first: the workers load their modules while the files are listed and the store opens.
  const pool = new ParserPool({ threads }, DEFAULT_PARSE_OPTIONS);
  try {
    const s3Urls = paths.filter((p) => p.startsWith('s3://'));
    const listing = await listLocal(paths.filter((p) => !p.startsWith('s3://')));
    if (s3Urls.length > 0) listing.objects.push(...(await listS3(s3Urls, flags, io)));
    return await withStore(flags, io, async (store) => {
      const progress = io.isTty && !flags.json ? progressBar(io) : undefined;
      try {
        return await ingestObjects(
          listing.objects,
          store,
          pool,
          { inFlightObjects: threads * 2, commitBatchFiles: 64, onProgress: progress },
          listing.skipped.length,
        );
      } finally {
        if (progress) io.err('\n');
      }
    });
  } finally {
    await pool.close();
  }
}

/** Backfill listing: only the window's day folders (src/sources/backfill.ts). */
async function listS3(urls: string[], flags: Flags, io: Io): Promise<SourceObject[]> {
  // Loaded on demand: the AWS SDK costs start-up time a local ingest does not need.
  const [{ listBackfill }, { createS3Client, S3Source }] = await Promise.all([
    import('./sources/backfill.ts'),
    import('./sources/s3.ts'),
  ]);
  const config = resolveConfig(rawFromEnv(io.env), io.env);
  const s3 = new S3Source(
    createS3Client({
      endpoint: config.s3Endpoint,
      region: config.region,
      forcePathStyle: config.s3ForcePathStyle || undefined,
    }),
    { maxObjectBytes: config.maxObjectBytes },
  );
  const { fromDay, toDay } = windowOf(flags, io);
  const out: SourceObject[] = [];
  for (const url of urls) {
    for await (const o of listBackfill(s3, url, fromDay, toDay)) out.push(o);
  }
  if (!flags.json) io.err(`listed ${out.length} log files under ${urls.join(', ')}\n`);
  return out;
}

function progressBar(io: Io): (p: IngestProgress) => void {
  let last = 0;
  return (p) => {
    const now = io.now();
    if (now - last < 100 && p.done < p.total) return;
    last = now;
    const width = 30;
    const filled = Math.round((p.done / Math.max(1, p.total)) * width);
    io.err(
      `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.done}/${p.total} files, ` +
        `${p.records.toLocaleString('en-US')} records`,
    );
  };
}

function formatSummary(s: IngestSummary): string {
  const r = s.records;
  const lines = [
    `files      ${s.files.total} listed: ${s.files.ingested} ingested, ${s.files.alreadyIngested} already ingested, ` +
      `${s.files.failed} failed, ${s.files.skipped} skipped (digest or not a CloudTrail log)`,
    `records    ${r.records.toLocaleString('en-US')} (${r.duplicateRecords} duplicate eventIDs dropped) in ` +
      `${s.seconds.toFixed(2)} s, ${Math.round(s.recordsPerSecond).toLocaleString('en-US')} records/s`,
    `events     ${r.succeeded} succeeded, ${r.failed} failed after authorization, ${r.denied} denied`,
    `skipped    ` +
      (SKIP_REASONS.filter((k) => r.skipped[k] > 0)
        .map((k) => `${k} ${r.skipped[k]}`)
        .join(', ') || 'none'),
    `principals ${s.principals}`,
  ];
  if (s.unmapped.length > 0) {
    const top = s.unmapped.slice(0, 10).map((u) => `${u.source} ${u.name} (${u.count})`);
    lines.push(
      `unmapped   ${s.unmapped.length} (source, name) pairs: ${top.join(', ')}${s.unmapped.length > 10 ? ', …' : ''}`,
    );
  }
  if (s.unknownActions.length > 0) {
    lines.push(
      `unknown    ${s.unknownActions.length} actions not in the catalog: ${s.unknownActions.slice(0, 10).join(', ')}`,
    );
  }
  for (const e of s.errors) lines.push(`error      ${e.file}: ${e.code}: ${e.message}`);
  return lines.join('\n') + '\n';
}

interface Window {
  fromDay: number;
  toDay: number;
}

function windowOf(flags: Flags, io: Io): Window {
  const today = dayOf(io.now());
  const parse = (flag: 'from' | 'to', value: string | undefined, dflt: number): number => {
    if (value === undefined) return dflt;
    const day = isoToDay(value);
    if (day === undefined)
      throw new UsageError('BAD_DATE', `--${flag} must be a date YYYY-MM-DD, got "${value}"`);
    return day;
  };
  const toDay = parse('to', flags.to, today);
  const fromDay = parse('from', flags.from, toDay - (DEFAULT_WINDOW_DAYS - 1));
  if (fromDay > toDay) {
    throw new UsageError(
      'BAD_WINDOW',
      `--from ${dayToIso(fromDay)} is after --to ${dayToIso(toDay)}`,
    );
  }
  return { fromDay, toDay };
}

const PRINCIPAL_ARN = /^arn:aws[a-z-]*:(iam|sts)::\d{12}:\S+$/;

export function checkPrincipalArn(arn: string | undefined): string {
  if (arn === undefined)
    throw new UsageError(
      'NO_PRINCIPAL',
      'policy needs a principal ARN, e.g. arn:aws:iam::123456789012:role/app',
    );
  if (!PRINCIPAL_ARN.test(arn)) {
    throw new UsageError(
      'BAD_ARN',
      `"${arn}" is not an IAM principal ARN (expected arn:aws:iam::<12-digit account>:role/…, user/… or root)`,
    );
  }
  return arn;
}

async function policyCommand(args: string[], flags: Flags, io: Io): Promise<number> {
  const principal = checkPrincipalArn(args[0]);
  if (args.length > 1) throw new UsageError('EXTRA_ARGS', 'policy takes one principal ARN');
  const window = windowOf(flags, io);
  return withStore(flags, io, async (store) => {
    const result = await policyFor(store, loadCatalog(), principal, window, {
      placeholders: flags.placeholders,
    });
    if (result === undefined) {
      io.err(
        `trailmint: no activity for ${principal} from ${dayToIso(window.fromDay)} to ${dayToIso(window.toDay)}` +
          ` (see \`trailmint principals\` for who was seen and when)\n`,
      );
      return 1;
    }
    if (flags.json) {
      io.out(JSON.stringify(result) + '\n');
    } else {
      result.policies.forEach((doc, i) => {
        if (result.policies.length > 1) io.err(`# policy ${i + 1} of ${result.policies.length}\n`);
        io.out(JSON.stringify(doc, null, 2) + '\n');
      });
    }
    return 0;
  });
}

async function unusedCommand(args: string[], flags: Flags, io: Io): Promise<number> {
  if (args[0] === undefined)
    throw new UsageError('NO_PRINCIPAL', 'unused needs a principal ARN and --policy FILE');
  const principal = checkPrincipalArn(args[0]);
  if (args.length > 1) throw new UsageError('EXTRA_ARGS', 'unused takes one principal ARN');
  if (!flags.policy?.length)
    throw new UsageError(
      'NO_POLICY',
      'unused needs --policy FILE (a policy document, or an array)',
    );
  const docs: unknown[] = [];
  const where: string[] = [];
  for (const file of flags.policy) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(file, 'utf8'));
    } catch (err) {
      throw new UsageError('BAD_POLICY', `--policy ${file}: ${(err as Error).message}`);
    }
    const list = Array.isArray(parsed) ? parsed : [parsed];
    list.forEach((doc, i) => {
      docs.push(doc);
      where.push(Array.isArray(parsed) ? `${file}[${i}]` : file);
    });
  }
  const statements = parsePolicies(docs, (i) => where[i]);
  const window = windowOf(flags, io);
  return withStore(flags, io, async (store) => {
    const catalog = loadCatalog();
    const result = await policyFor(store, catalog, principal, window, { placeholders: false });
    if (result === undefined && (await store.actionDetails(principal)).length === 0) {
      io.err(
        `trailmint: no activity recorded for ${principal} (see \`trailmint principals\` for who was seen)\n`,
      );
      return 1;
    }
    const report = unusedPermissions(
      {
        principal,
        from: dayToIso(window.fromDay),
        to: dayToIso(window.toDay),
        used: result?.actions ?? [],
        statements,
        generated: result?.policies ?? [],
      },
      catalog,
    );
    if (flags.json) {
      io.out(JSON.stringify(report) + '\n');
      return 0;
    }
    io.out(
      `${report.granted} actions granted, ${report.used.length} used from ${report.from} to ${report.to}, ` +
        `${report.unused.length} unused: ${report.reductionPercent}% reduction\n`,
    );
    if (report.notGranted.length)
      io.out(`used but granted elsewhere: ${report.notGranted.join(', ')}\n`);
    if (report.unmatched.length)
      io.out(`matching no known action: ${report.unmatched.join(', ')}\n`);
    const shown = report.unused.slice(0, 50);
    if (shown.length) {
      io.out(
        `unused${report.unused.length > shown.length ? ' (first 50, --json for all)' : ''}:\n`,
      );
      for (const a of shown) io.out(`  ${a}\n`);
    }
    io.out(
      report.suggested.length
        ? 'suggested policy:\n'
        : 'suggested policy: none (nothing granted was used)\n',
    );
    for (const doc of report.suggested) io.out(JSON.stringify(doc, null, 2) + '\n');
    return 0;
  });
}

async function principalsCommand(args: string[], flags: Flags, io: Io): Promise<number> {
  if (args.length > 0) throw new UsageError('EXTRA_ARGS', 'principals takes no arguments');
  return withStore(flags, io, async (store) => {
    const list = await store.principals();
    if (flags.json) {
      io.out(JSON.stringify(list) + '\n');
    } else {
      for (const p of list)
        io.out(`${p.firstSeen} ${p.lastSeen} ${String(p.actions).padStart(5)}  ${p.principal}\n`);
      if (list.length === 0) io.err('no principals yet: run `trailmint ingest <dir>` first\n');
    }
    return 0;
  });
}

const SERVE_HELP = `trailmint serve — consume CloudTrail deliveries and serve least-privilege policies

Every setting comes from the environment or its flag (the flag wins):
${settingsHelp()}

AWS endpoints and credentials come from the SDK's own settings: AWS_ENDPOINT_URL,
AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_SQS, the default credential chain (IRSA on EKS).
TRAILMINT_S3_FORCE_PATH_STYLE=true for S3 look-alikes (MinIO, emulators).
With neither a queue nor a directory, the service only answers queries over the store.

HTTP: GET /v1/principals, /v1/policy?principal=ARN&from=D&to=D, /v1/actions, /v1/denied,
POST /v1/unused, /v1/status, the Access Analyzer compatible /policy/generation calls,
/healthz, /readyz, /metrics. SIGTERM finishes and commits in-flight work, then exits.
`;

async function serveCommand(
  args: string[],
  values: Record<string, unknown>,
  io: Io,
): Promise<number> {
  if (values.help) {
    io.out(SERVE_HELP);
    return 0;
  }
  if (args.length > 0)
    throw new UsageError('EXTRA_ARGS', 'serve takes no arguments (see serve --help)');
  const raw: RawSettings = rawFromEnv(io.env);
  for (const [name, s] of Object.entries(SETTINGS) as [SettingName, { flag: string }][]) {
    const v = values[s.flag];
    if (typeof v === 'string') raw[name] = v;
  }
  const config = resolveConfig(raw, io.env);
  const { startService } = await import('./service.ts');
  const service = await startService(config);
  await new Promise<void>((resolve) => {
    let signals = 0;
    const onSignal = (sig: NodeJS.Signals) => {
      if (++signals > 1) {
        io.err(`trailmint: second ${sig}, exiting now\n`);
        process.exit(1);
      }
      void service.stop().then(resolve, (err: unknown) => {
        io.err(`trailmint: shutdown failed: ${(err as Error).message}\n`);
        process.exitCode = 1;
        resolve();
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  return 0;
}

async function demoCommand(args: string[], flags: Flags, io: Io): Promise<number> {
  if (args.length > 0) throw new UsageError('EXTRA_ARGS', 'demo takes no arguments');
  io.err(
    `Ingesting the bundled sample logs from ${path.relative(process.cwd(), SAMPLES_DIR) || SAMPLES_DIR} …\n`,
  );
  const summary = await runIngest([SAMPLES_DIR], { ...flags, json: false }, io);
  io.out(formatSummary(summary) + '\n');
  return withStore(flags, io, async (store) => {
    const principals = (await store.principals()).sort((a, b) => b.actions - a.actions);
    io.out(`Most active principals (of ${principals.length}):\n`);
    for (const p of principals.slice(0, 5))
      io.out(`  ${String(p.actions).padStart(4)} actions  ${p.principal}\n`);
    const top = principals[0];
    if (top === undefined) return 1;
    // The samples are old: take each principal's whole history as the window.
    const window = { fromDay: isoToDay(top.firstSeen)!, toDay: isoToDay(top.lastSeen)! };
    const result = await policyFor(store, loadCatalog(), top.principal, window, {
      placeholders: false,
    });
    io.out(`\nLeast-privilege policy for ${top.principal} (${top.firstSeen} … ${top.lastSeen}):\n`);
    for (const doc of result?.policies ?? []) io.out(JSON.stringify(doc, null, 2) + '\n');
    io.out(
      `\nTry: ./bin/trailmint principals\n     ./bin/trailmint policy ${top.principal} --from ${top.firstSeen} --json\n`,
    );
    return 0;
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
