// Backfill from S3: `trailmint ingest s3://bucket/prefix --from D --to D`. Lists only the day
// prefixes of the window in the CloudTrail layout
//   <prefix>/AWSLogs/[o-<org id>/]<account>/CloudTrail/<region>/YYYY/MM/DD/<file>.json.gz
// discovering accounts and regions level by level (ListObjectsV2 with Delimiter '/'), so a
// 30-day window over years of history never touches the other days.
import { ListObjectsV2Command, type ListObjectsV2CommandOutput } from '@aws-sdk/client-s3';
import { UsageError } from '../errors.ts';
import { dayToIso, type Day } from '../state/delta.ts';
import type { SourceObject } from './local.ts';
import { classifyKey, unquoteEtag, type KeyKind } from './notifications.ts';
import type { S3Source } from './s3.ts';

export interface BackfillOptions {
  /** ListObjectsV2 requests in flight at once; default 16 */
  listConcurrency?: number;
  /** a key under a day prefix that is not a log file (digest, other upload) */
  onSkipped?: (key: string, reason: Exclude<KeyKind, 'log'>) => void;
}

export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!m) throw new UsageError('BAD_S3_URL', `not an S3 URL (s3://bucket/prefix): ${url}`);
  return { bucket: m[1], prefix: m[2] };
}

// Levels of the layout below AWSLogs/, each with what its folder names look like.
type Level = 'top' | 'orgAccount' | 'service' | 'region';
const ORG = /^o-[a-z0-9]{10,32}$/;
const ACCOUNT = /^\d{12}$/;

/** The level below a folder `segment` found at `level`; undefined: not part of the layout. */
function descend(level: Level, segment: string): Level | 'days' | undefined {
  switch (level) {
    case 'top':
      return ORG.test(segment) ? 'orgAccount' : ACCOUNT.test(segment) ? 'service' : undefined;
    case 'orgAccount':
      return ACCOUNT.test(segment) ? 'service' : undefined;
    case 'service':
      return segment === 'CloudTrail' ? 'region' : undefined; // not -Digest, not -Insight
    case 'region':
      return segment === '' ? undefined : 'days';
  }
}

/**
 * Every log file of the window under `url`, any number of accounts (organization trails
 * included) and regions. The prefix may stop anywhere in the layout, even mid-name
 * (`…/AWSLogs/1234` takes the accounts starting with 1234). Order is not defined.
 */
export async function* listBackfill(
  s3: S3Source,
  url: string,
  fromDay: Day,
  toDay: Day,
  opts: BackfillOptions = {},
): AsyncGenerator<SourceObject> {
  const { bucket, prefix } = parseS3Url(url);
  if (!Number.isSafeInteger(fromDay) || !Number.isSafeInteger(toDay) || fromDay > toDay) {
    throw new UsageError('BAD_WINDOW', `bad backfill window: ${fromDay}..${toDay}`);
  }
  const concurrency = opts.listConcurrency ?? 16;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new UsageError(
      'BAD_CONFIG',
      `listConcurrency must be a positive whole number, got ${concurrency}`,
    );
  }
  // Aborted when the caller stops early: queued listings never start, running ones are cut.
  const abort = new AbortController();
  const list = limited(concurrency, abort.signal, (input: { prefix: string; token?: string }) =>
    s3.client.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: input.prefix,
        Delimiter: '/',
        ContinuationToken: input.token,
      }),
      { abortSignal: abort.signal },
    ),
  );
  const pages = async function* (p: string): AsyncGenerator<ListObjectsV2CommandOutput> {
    let token: string | undefined;
    do {
      const page = await list({ prefix: p, token });
      yield page;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  };

  const start = startOf(prefix, url);
  const days: string[] = [];
  for (let d = fromDay; d <= toDay; d++) {
    const path = dayToIso(d).replaceAll('-', '/') + '/';
    if (path.startsWith(start.dayPrefix)) days.push(path);
  }

  /** `<…>/CloudTrail/<region>/` folders under `base` (a folder at `level`), `partial` being the
   * beginning of the next folder name. */
  const regions = async function* (
    base: string,
    level: Level,
    partial: string,
  ): AsyncGenerator<string> {
    if (level === 'service') {
      // The only folder wanted here is known: no need to list the account's folders.
      if ('CloudTrail'.startsWith(partial)) yield* regions(base + 'CloudTrail/', 'region', '');
      return;
    }
    const folders = async function* (): AsyncGenerator<string> {
      for await (const page of pages(base + partial)) {
        for (const cp of page.CommonPrefixes ?? []) if (cp.Prefix) yield cp.Prefix;
      }
    };
    yield* flatMapConcurrent(folders(), concurrency, async function* (folder) {
      const next = descend(level, folder.slice(base.length, -1));
      if (next === 'days') yield folder;
      else if (next !== undefined) yield* regions(folder, next, '');
    });
  };

  const regionFolders =
    start.level === 'days' ? [start.base] : regions(start.base, start.level, start.partial);
  try {
    yield* flatMapConcurrent(regionFolders, concurrency, (region) =>
      flatMapConcurrent(days, concurrency, async function* (day) {
        for await (const page of pages(region + day)) {
          for (const o of page.Contents ?? []) {
            if (!o.Key) continue;
            const kind = classifyKey(o.Key);
            if (kind !== 'log') opts.onSkipped?.(o.Key, kind);
            else yield s3.object(bucket, o.Key, o.ETag ? unquoteEtag(o.ETag) : '', o.Size);
          }
        }
      }),
    );
  } finally {
    abort.abort();
  }
}

interface Start {
  /** a complete folder path (ending in '/', or '') */
  base: string;
  level: Level | 'days';
  /** beginning of the next folder name, from a prefix that stops mid-name */
  partial: string;
  /** what the YYYY/MM/DD/ part must start with, when the prefix reaches into it */
  dayPrefix: string;
}

/** Where a user's prefix sits in the layout. */
function startOf(userPrefix: string, url: string): Start {
  const prefix = /(?:^|\/)AWSLogs$/.test(userPrefix) ? userPrefix + '/' : userPrefix;
  const m = /(?:^|\/)AWSLogs\//.exec(prefix);
  if (m === null) {
    // Above AWSLogs/: a trail's own S3 key prefix, or the bucket root.
    const root = prefix === '' || prefix.endsWith('/') ? prefix : prefix + '/';
    return { base: root + 'AWSLogs/', level: 'top', partial: '', dayPrefix: '' };
  }
  let base = prefix.slice(0, m.index + m[0].length);
  const segments = prefix.slice(base.length).split('/');
  const partial = segments.pop()!;
  let level: Level | 'days' = 'top';
  for (const [i, segment] of segments.entries()) {
    if (level === 'days') {
      return { base, level, partial: '', dayPrefix: [...segments.slice(i), partial].join('/') };
    }
    const next = descend(level, segment);
    if (next === undefined) {
      throw new UsageError(
        'BAD_S3_URL',
        `${url} is not inside the CloudTrail layout AWSLogs/[o-<org id>/]<account>/CloudTrail/<region>/YYYY/MM/DD/`,
      );
    }
    base += segment + '/';
    level = next;
  }
  return level === 'days'
    ? { base, level, partial: '', dayPrefix: partial }
    : { base, level, partial, dayPrefix: '' };
}

/** Wraps `fn` so that at most `n` calls are in progress at once; the others wait their turn. */
function limited<A, R>(
  n: number,
  signal: AbortSignal,
  fn: (arg: A) => Promise<R>,
): (arg: A) => Promise<R> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (arg) => {
    while (active >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    signal.throwIfAborted();
    active++;
    try {
      return await fn(arg);
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

/**
 * Maps each source item to an async sequence and merges them, at most `limit` sequences open
 * at once, yielding values as they come. Each open sequence has one `next()` outstanding, so a
 * slow consumer holds back every producer (at most one page per sequence is buffered).
 */
async function* flatMapConcurrent<T, R>(
  source: AsyncIterable<T> | Iterable<T>,
  limit: number,
  fn: (item: T) => AsyncIterable<R>,
): AsyncGenerator<R> {
  type Step =
    | { from: 'source'; result: IteratorResult<T> }
    | { from: AsyncIterator<R>; result: IteratorResult<R> };
  const src = (Symbol.asyncIterator in source ? source : fromIterable(source))[
    Symbol.asyncIterator
  ]();
  const next = new Map<object, Promise<Step>>();
  let open = 0;
  let sourceDone = false;
  const pullSource = () =>
    next.set(
      src,
      src.next().then((result): Step => ({ from: 'source', result })),
    );
  const pull = (it: AsyncIterator<R>) =>
    next.set(
      it,
      it.next().then((result): Step => ({ from: it, result })),
    );
  pullSource();
  try {
    while (next.size > 0) {
      const step = await Promise.race(next.values());
      if (step.from === 'source') {
        next.delete(src);
        if (step.result.done) sourceDone = true;
        else {
          open++;
          pull(fn(step.result.value as T)[Symbol.asyncIterator]());
        }
        if (!sourceDone && open < limit) pullSource();
      } else if (step.result.done) {
        next.delete(step.from);
        open--;
        if (!sourceDone && !next.has(src)) pullSource();
      } else {
        yield step.result.value as R;
        pull(step.from);
      }
    }
  } finally {
    // Stopped early (consumer break or error): close what is open; late results are dropped.
    for (const [it, p] of next) {
      p.catch(() => {});
      void (it as AsyncIterator<unknown>).return?.()?.catch?.(() => {});
    }
  }
}

async function* fromIterable<T>(items: Iterable<T>): AsyncGenerator<T> {
  yield* items;
}
