// The HTTP API through its real seam: buildApp + inject over a memory store filled by committing
// synthetic FileDeltas. Every route, every 4xx, auth on every non-probe route, no stack traces.
import { describe, expect, it, beforeAll } from 'vitest';
import type { ActionInfo, Catalog, ResourceTypeInfo } from '../../src/catalog/types.ts';
import { buildApp, BODY_LIMIT_BYTES, type AppDeps } from '../../src/http/app.ts';
import { OPEN_ROUTES } from '../../src/http/auth.ts';
import { HTTP_ERRORS } from '../../src/http/errors.ts';
import { policyFor } from '../../src/policy/query.ts';
import { emptyStats, isoToDay, type FileDelta, type FileStats } from '../../src/state/delta.ts';
import { openStore } from '../../src/state/open.ts';
import type { Store } from '../../src/state/store.ts';
import { Telemetry, createLogger } from '../../src/telemetry.ts';

// ---- a small catalog: the actions the synthetic events use ----
const rt = (name: string, format: string): ResourceTypeInfo => ({
  name,
  required: true,
  arnFormats: [format],
});
const ACTIONS: ActionInfo[] = (
  [
    ['s3:GetObject', [rt('object', 'arn:${Partition}:s3:::${BucketName}/${ObjectName}')]],
    ['s3:ListAllMyBuckets', []],
    ['sts:GetCallerIdentity', []],
    ['ec2:DescribeInstances', []],
    [
      'dynamodb:GetItem',
      [rt('table', 'arn:${Partition}:dynamodb:${Region}:${Account}:table/${TableName}')],
    ],
    ['iam:GetRole', [rt('role', 'arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}')]],
    ['iam:PassRole', [rt('role', 'arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}')]],
    [
      'lambda:CreateFunction',
      [rt('function', 'arn:${Partition}:lambda:${Region}:${Account}:function:${FunctionName}')],
    ],
  ] as const
).map(([name, resourceTypes]) => ({
  name,
  service: name.split(':')[0],
  accessLevel: 'Read',
  resourceTypes: [...resourceTypes],
}));
const byName = new Map(ACTIONS.map((a) => [a.name, a]));
const catalog: Catalog = {
  version: 'test',
  has: (n) => byName.has(n),
  canonical: (prefix, action) =>
    ACTIONS.find((a) => a.name.toLowerCase() === `${prefix}:${action}`.toLowerCase())?.name,
  info: (n) => byName.get(n),
  actions: () => [...byName.keys()].sort(),
  services: () => [...new Set(ACTIONS.map((a) => a.service))].sort(),
  arnFormats: () => [
    ...new Set(ACTIONS.flatMap((a) => a.resourceTypes.flatMap((t) => t.arnFormats))),
  ],
};

// ---- synthetic activity ----
const ACCOUNT = '111122223333';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/app`;
const USER = `arn:aws:iam::${ACCOUNT}:user/alice`;
const EXEC_ROLE = `arn:aws:iam::${ACCOUNT}:role/fn-exec`;
const OTHERS = Array.from({ length: 5 }, (_, i) => `arn:aws:iam::${ACCOUNT}:role/batch-${i}`);
const TOKEN = 'correct horse battery staple';
const NOW = Date.parse('2024-03-10T12:00:00Z');

interface Event {
  principal: string;
  action: string;
  time: string;
  deniedCode?: string;
  resources?: string[];
  passRole?: { role: string; service: string };
}

/** Folds events into one FileDelta, as a worker would. */
function deltaOf(events: Event[], unmapped: FileDelta['unmapped'] = []): FileDelta {
  const principals: string[] = [];
  const actions: string[] = [];
  const idx = (list: string[], v: string) =>
    list.includes(v) ? list.indexOf(v) : list.push(v) - 1;
  const days = new Map<string, FileDelta['days'][number]>();
  const uses = new Map<string, FileDelta['uses'][number]>();
  const d: FileDelta = {
    principals,
    actions,
    unknownActions: [],
    days: [],
    uses: [],
    passRoles: [],
    unmapped,
    stats: emptyStats(),
  };
  for (const e of events) {
    const p = idx(principals, e.principal);
    const a = idx(actions, e.action);
    const ms = Date.parse(e.time);
    const day = isoToDay(e.time.slice(0, 10))!;
    const ds = days.get(`${p}/${day}`) ?? { p, day, used: [], denied: [] };
    days.set(`${p}/${day}`, ds);
    (e.deniedCode ? ds.denied : ds.used).push(a);
    const u = uses.get(`${p}/${a}`) ?? {
      p,
      a,
      firstSeen: 0,
      lastSeen: 0,
      count: 0,
      deniedCount: 0,
      deniedLast: 0,
      deniedCode: '',
      resources: [],
    };
    uses.set(`${p}/${a}`, u);
    if (e.deniedCode) {
      u.deniedCount++;
      u.deniedLast = Math.max(u.deniedLast, ms);
      u.deniedCode = e.deniedCode;
      d.stats.denied++;
    } else {
      u.count++;
      u.firstSeen = u.firstSeen ? Math.min(u.firstSeen, ms) : ms;
      u.lastSeen = Math.max(u.lastSeen, ms);
      u.resources = [...new Set([...u.resources, ...(e.resources ?? [])])].sort();
      d.stats.succeeded++;
    }
    if (e.passRole) d.passRoles.push({ p, day, ...e.passRole, lastSeen: ms });
    d.stats.records++;
    d.stats.maxEventTime = Math.max(d.stats.maxEventTime, ms);
    d.stats.minEventTime = d.stats.minEventTime ? Math.min(d.stats.minEventTime, ms) : ms;
  }
  d.days = [...days.values()].map((s) => ({
    ...s,
    used: [...new Set(s.used)].sort((x, y) => x - y),
    denied: [...new Set(s.denied)].sort((x, y) => x - y),
  }));
  d.uses = [...uses.values()];
  return d;
}

const FILE_1 = deltaOf(
  [
    {
      principal: ROLE,
      action: 's3:GetObject',
      time: '2024-03-01T10:00:00Z',
      resources: ['arn:aws:s3:::data/a.csv'],
    },
    { principal: ROLE, action: 'sts:GetCallerIdentity', time: '2024-03-01T10:05:00Z' },
    { principal: USER, action: 's3:ListAllMyBuckets', time: '2024-03-02T11:00:00Z' },
    ...OTHERS.map((principal) => ({
      principal,
      action: 'sts:GetCallerIdentity',
      time: '2024-03-03T00:00:00Z',
    })),
  ],
  [{ source: 'example.amazonaws.com', name: 'DoThing', count: 3 }],
);
const FILE_2 = deltaOf([
  { principal: ROLE, action: 'ec2:DescribeInstances', time: '2024-03-05T08:00:00Z' },
  {
    principal: ROLE,
    action: 'iam:GetRole',
    time: '2024-03-05T09:00:00Z',
    deniedCode: 'AccessDenied',
  },
  {
    principal: ROLE,
    action: 'lambda:CreateFunction',
    time: '2024-03-05T09:30:00Z',
    resources: [`arn:aws:lambda:us-east-1:${ACCOUNT}:function:fn`],
    passRole: { role: EXEC_ROLE, service: 'lambda.amazonaws.com' },
  },
  // no resource named: '*', or the catalog's ARN format with placeholders=true
  { principal: ROLE, action: 'dynamodb:GetItem', time: '2024-03-06T07:00:00Z' },
]);

let store: Store;
beforeAll(async () => {
  store = await openStore('memory:');
  await store.commit([
    { object: { key: 's3://trail/one.json.gz', tag: 'e1' }, delta: FILE_1 },
    { object: { key: 's3://trail/two.json.gz', tag: 'e2' }, delta: FILE_2 },
  ]);
  return () => store.close();
});

function app(over: Partial<AppDeps> = {}) {
  const s = over.store ?? store;
  return buildApp({
    store: s,
    catalog,
    telemetry: new Telemetry({ store: s, now: () => NOW }),
    ready: () => true,
    now: () => NOW,
    ...over,
  });
}

type Inject = Awaited<ReturnType<ReturnType<typeof app>['inject']>>;

/** Asserts an error answer: status, code, JSON shape, and nothing that looks like a stack. */
function expectError(res: Inject, code: keyof typeof HTTP_ERRORS, message?: RegExp) {
  expect(res.statusCode, res.body).toBe(HTTP_ERRORS[code]);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  const body = res.json();
  expect(Object.keys(body)).toEqual(['error']);
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message']);
  expect(body.error.code).toBe(code);
  if (message) expect(body.error.message).toMatch(message);
  expect(res.body).not.toMatch(/\bat .+:\d+:\d+|\.ts:\d+|node:internal/);
}

const q = (params: Record<string, string>) => new URLSearchParams(params).toString();

describe('probes and metrics', () => {
  it('/healthz is alive, /readyz follows ready()', async () => {
    let ready = false;
    const a = app({ ready: () => ready });
    expect((await a.inject('/healthz')).json()).toEqual({ status: 'alive' });
    expectError(await a.inject('/readyz'), 'NOT_READY');
    ready = true;
    const res = await a.inject('/readyz');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ready' });
  });

  it('/metrics is the Prometheus text of the app telemetry', async () => {
    const telemetry = new Telemetry({ store });
    telemetry.policyServed(0.003);
    const res = await app({ telemetry }).inject('/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.body).toContain('trailmint_policy_materialization_seconds_count 1\n');
    expect(res.body).toContain(`trailmint_principals ${2 + OTHERS.length}\n`);
    expect(res.body).toContain('trailmint_unmapped_pairs 1\n');
  });
});

describe('GET /v1/status', () => {
  it('reports progress, lag, unmapped pairs and failed objects newest first', async () => {
    let now = NOW;
    const telemetry = new Telemetry({ store, now: () => now, failedObjectsMax: 2 });
    telemetry.objectDone({ key: 's3://trail/one.json.gz', tag: 'e1' }, FILE_1.stats, 0.02);
    telemetry.objectDone({ key: 's3://trail/two.json.gz', tag: 'e2' }, FILE_2.stats, 0.01);
    const fail = (key: string, code: 'NOT_JSON' | 'GZIP_CORRUPT') =>
      telemetry.objectFailed({ key, tag: 't' }, { code, message: `${code} here` }, 'skip');
    fail('s3://trail/bad-1.json.gz', 'NOT_JSON');
    now += 1000;
    fail('s3://trail/bad-2.json.gz', 'GZIP_CORRUPT');
    now += 1000;
    fail('s3://trail/bad-3.json.gz', 'NOT_JSON');
    telemetry.objectSkipped('digest', 's3://trail/digest.json.gz');
    now = Date.parse('2024-03-06T07:00:00Z') + 90_000;

    const res = await app({ telemetry }).inject('/v1/status');
    expect(res.statusCode).toBe(200);
    const s = res.json();
    expect(s.store).toBe('memory');
    expect(s.startedAt).toBe(new Date(NOW).toISOString());
    expect(s.objects).toEqual({ ingested: 2, failed: 3, skipped: 1 });
    expect(s.records.total).toBe(FILE_1.stats.records + FILE_2.stats.records);
    expect(s.records.denied).toBe(1);
    expect(s.newestEventTime).toBe('2024-03-06T07:00:00.000Z');
    expect(s.ingestLagSeconds).toBe(90);
    expect(s.unmapped).toEqual({
      pairs: 1,
      top: [{ source: 'example.amazonaws.com', name: 'DoThing', count: 3 }],
    });
    // bounded to 2, newest first
    expect(s.failedObjects.map((f: { object: string }) => f.object)).toEqual([
      's3://trail/bad-3.json.gz',
      's3://trail/bad-2.json.gz',
    ]);
    expect(s.failedObjects[0]).toMatchObject({
      code: 'NOT_JSON',
      action: 'skip',
      message: 'NOT_JSON here',
    });
  });

  it('an object that fails, then succeeds on a retry, leaves the failed list', async () => {
    const telemetry = new Telemetry({ store });
    const ref = { key: 's3://trail/flaky.json.gz', tag: 'x' };
    telemetry.objectFailed(ref, { code: 'READ_FAILED', message: 'timeout' }, 'retry');
    expect((await telemetry.status()).failedObjects).toHaveLength(1);
    telemetry.objectDone(ref, emptyStats(), 0.01);
    expect((await telemetry.status()).failedObjects).toEqual([]);
  });
});

describe('GET /v1/principals', () => {
  const all = [ROLE, USER, ...OTHERS].sort();

  it('lists everyone, sorted, with first/last seen and action counts', async () => {
    const res = await app().inject('/v1/principals');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.nextToken).toBeUndefined();
    expect(body.principals.map((p: { principal: string }) => p.principal)).toEqual(all);
    expect(body.principals.find((p: { principal: string }) => p.principal === ROLE)).toEqual({
      principal: ROLE,
      firstSeen: '2024-03-01',
      lastSeen: '2024-03-06',
      actions: 5,
    });
  });

  it('pages with limit and nextToken, covering everyone exactly once', async () => {
    const a = app();
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const res = await a.inject(
        `/v1/principals?${q(token ? { limit: '3', nextToken: token } : { limit: '3' })}`,
      );
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.principals.length).toBeLessThanOrEqual(3);
      seen.push(...body.principals.map((p: { principal: string }) => p.principal));
      token = body.nextToken;
      pages++;
    } while (token);
    expect(seen).toEqual(all);
    expect(pages).toBe(Math.ceil(all.length / 3));
  });

  it.each([
    ['limit=0', /"limit" must be >= 1/],
    ['limit=1001', /"limit" must be <= 1000/],
    ['limit=ten', /"limit" must be integer/],
    ['cursor=abc', /unknown query parameter "cursor"/],
  ])('400 BAD_PARAMETER for %s', async (query, message) => {
    expectError(await app().inject(`/v1/principals?${query}`), 'BAD_PARAMETER', message);
  });

  it('400 BAD_NEXT_TOKEN for a token it did not hand out', async () => {
    for (const token of ['not-a-token', '!!!', Buffer.from('hello').toString('base64url')]) {
      expectError(
        await app().inject(`/v1/principals?${q({ nextToken: token })}`),
        'BAD_NEXT_TOKEN',
      );
    }
  });
});

describe('GET /v1/policy', () => {
  const window = { fromDay: isoToDay('2024-03-01')!, toDay: isoToDay('2024-03-06')! };

  it.each([false, true])(
    'is byte for byte the policyFor answer (placeholders=%s)',
    async (placeholders) => {
      const expected = await policyFor(store, catalog, ROLE, window, { placeholders });
      const res = await app().inject(
        `/v1/policy?${q({ principal: ROLE, from: '2024-03-01', to: '2024-03-06', placeholders: String(placeholders) })}`,
      );
      expect(res.statusCode).toBe(200);
      expect(res.body).toBe(JSON.stringify(expected));
      // and it holds what the events said: used, inferred and denied actions
      const table = 'arn:aws:dynamodb:${Region}:${Account}:table/${TableName}';
      expect(res.body.includes(table)).toBe(placeholders);
      expect(expected!.actions).toEqual([
        'dynamodb:GetItem',
        'ec2:DescribeInstances',
        'iam:PassRole',
        'lambda:CreateFunction',
        's3:GetObject',
        'sts:GetCallerIdentity',
      ]);
      expect(expected!.inferred).toEqual(['iam:PassRole']);
      expect(expected!.denied).toEqual(['iam:GetRole']);
    },
  );

  it('defaults to the 90 days ending today (UTC)', async () => {
    const res = await app().inject(`/v1/policy?${q({ principal: USER })}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      from: '2023-12-12',
      to: '2024-03-10',
      actions: ['s3:ListAllMyBuckets'],
    });
  });

  it('a window narrows the actions', async () => {
    const res = await app().inject(
      `/v1/policy?${q({ principal: ROLE, from: '2024-03-01', to: '2024-03-01' })}`,
    );
    expect(res.json().actions).toEqual(['s3:GetObject', 'sts:GetCallerIdentity']);
  });

  it('times each materialization', async () => {
    const telemetry = new Telemetry({ store });
    const a = app({ telemetry });
    await a.inject(`/v1/policy?${q({ principal: ROLE })}`);
    await a.inject(`/v1/policy?${q({ principal: USER })}`);
    expect(await telemetry.metrics()).toContain(
      'trailmint_policy_materialization_seconds_count 2\n',
    );
  });

  it('404 NO_ACTIVITY for a known principal idle in the window, saying when it was active', async () => {
    const res = await app().inject(
      `/v1/policy?${q({ principal: ROLE, from: '2024-01-01', to: '2024-02-01' })}`,
    );
    expectError(res, 'NO_ACTIVITY', /active from 2024-03-01 to 2024-03-06/);
  });

  it('404 UNKNOWN_PRINCIPAL for a principal never seen, with a hint for role sessions', async () => {
    expectError(
      await app().inject(`/v1/policy?${q({ principal: `arn:aws:iam::${ACCOUNT}:role/nobody` })}`),
      'UNKNOWN_PRINCIPAL',
      /no activity recorded/,
    );
    expectError(
      await app().inject(
        `/v1/policy?${q({ principal: `arn:aws:sts::${ACCOUNT}:assumed-role/app/session-1` })}`,
      ),
      'UNKNOWN_PRINCIPAL',
      /try arn:aws:iam::111122223333:role\/<path\/>app/,
    );
  });

  it.each([
    [{ principal: 'app' }, 'BAD_ARN', /not an IAM principal ARN/],
    [{ principal: 'arn:aws:iam::1234:role/app' }, 'BAD_ARN', /12-digit account/],
    [{ principal: 'arn:aws:s3:::bucket' }, 'BAD_ARN', /not an IAM principal ARN/],
    [
      { principal: ROLE, from: '2024-02-30' },
      'BAD_DATE',
      /from must be a date YYYY-MM-DD, got "2024-02-30"/,
    ],
    [{ principal: ROLE, to: 'yesterday' }, 'BAD_DATE', /to must be a date/],
    [
      { principal: ROLE, from: '2024-03-05', to: '2024-03-01' },
      'BAD_WINDOW',
      /from 2024-03-05 is after to 2024-03-01/,
    ],
    [{}, 'BAD_PARAMETER', /missing query parameter "principal"/],
    [{ principal: ROLE, placeholders: 'maybe' }, 'BAD_PARAMETER', /"placeholders" must be boolean/],
    [{ principal: ROLE, form: '2024-01-01' }, 'BAD_PARAMETER', /unknown query parameter "form"/],
    [
      { principal: `${ROLE}${'x'.repeat(3000)}` },
      'BAD_PARAMETER',
      /must NOT have more than 2048 characters/,
    ],
  ] as const)('400 for %j', async (params, code, message) => {
    expectError(await app().inject(`/v1/policy?${q(params)}`), code, message);
  });
});

describe('GET /v1/actions', () => {
  it('lists each action of the window with times, resources, denied and inferred flags', async () => {
    const res = await app().inject(
      `/v1/actions?${q({ principal: ROLE, from: '2024-03-05', to: '2024-03-05' })}`,
    );
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ principal: ROLE, from: '2024-03-05', to: '2024-03-05' });
    expect(body.actions.map((a: { action: string }) => a.action)).toEqual([
      'ec2:DescribeInstances',
      'iam:GetRole',
      'iam:PassRole',
      'lambda:CreateFunction',
    ]);
    const [describeInstances, getRole, passRole, create] = body.actions;
    expect(describeInstances).toEqual({
      action: 'ec2:DescribeInstances',
      used: true,
      inferred: false,
      denied: false,
      firstSeen: '2024-03-05T08:00:00.000Z',
      lastSeen: '2024-03-05T08:00:00.000Z',
      count: 1,
      resources: [],
      deniedCount: 0,
      deniedLast: null,
      deniedCode: null,
    });
    expect(getRole).toMatchObject({
      used: false,
      denied: true,
      deniedCount: 1,
      deniedLast: '2024-03-05T09:00:00.000Z',
      deniedCode: 'AccessDenied',
      firstSeen: null,
    });
    expect(passRole).toMatchObject({
      used: false,
      inferred: true,
      resources: [EXEC_ROLE],
      lastSeen: '2024-03-05T09:30:00.000Z',
    });
    expect(create).toMatchObject({
      used: true,
      resources: [`arn:aws:lambda:us-east-1:${ACCOUNT}:function:fn`],
    });
    expect(body.passRoles).toEqual([
      { role: EXEC_ROLE, service: 'lambda.amazonaws.com', lastSeen: '2024-03-05T09:30:00.000Z' },
    ]);
  });

  it('a known principal idle in the window: 200 with no actions', async () => {
    const res = await app().inject(
      `/v1/actions?${q({ principal: USER, from: '2024-03-03', to: '2024-03-09' })}`,
    );
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      principal: USER,
      from: '2024-03-03',
      to: '2024-03-09',
      actions: [],
      passRoles: [],
    });
  });

  it('404 UNKNOWN_PRINCIPAL, and the same 400s as /v1/policy', async () => {
    expectError(
      await app().inject(`/v1/actions?${q({ principal: `arn:aws:iam::${ACCOUNT}:user/bob` })}`),
      'UNKNOWN_PRINCIPAL',
    );
    expectError(await app().inject(`/v1/actions?${q({ principal: 'role/app' })}`), 'BAD_ARN');
    expectError(
      await app().inject(`/v1/actions?${q({ principal: ROLE, from: '2024-13-01' })}`),
      'BAD_DATE',
    );
    expectError(
      await app().inject(
        `/v1/actions?${q({ principal: ROLE, from: '2024-03-02', to: '2024-03-01' })}`,
      ),
      'BAD_WINDOW',
    );
    expectError(
      await app().inject(`/v1/actions?${q({ principal: ROLE, placeholders: 'true' })}`),
      'BAD_PARAMETER',
    );
  });
});

describe('errors', () => {
  it('404 NOT_FOUND as JSON for an unknown route', async () => {
    expectError(await app().inject('/v1/nothing?x=1'), 'NOT_FOUND', /^no route GET \/v1\/nothing$/);
    expectError(await app().inject({ method: 'DELETE', url: '/v1/policy' }), 'NOT_FOUND');
  });

  it('500 INTERNAL without the cause, the stack or the token; the log has the error, not the token', async () => {
    const lines: string[] = [];
    const logger = createLogger('info', { write: (s: string) => void lines.push(s) });
    const broken: Store = Object.create(store, {
      principals: { value: () => Promise.reject(new Error('disk on fire at /var/lib/secret')) },
    });
    const res = await app({ store: broken, logger, apiToken: TOKEN }).inject({
      url: '/v1/principals',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expectError(res, 'INTERNAL', /request id/);
    expect(res.body).not.toContain('disk on fire');
    const logged = lines.join('');
    expect(logged).toContain('disk on fire');
    expect(logged).toContain('"code":"INTERNAL"');
    expect(logged).not.toContain(TOKEN);
  });

  it('body limit, media type and malformed JSON map to 413, 415 and 400', async () => {
    // The body route (POST /v1/unused) comes later: a stand-in checks the app-wide limits now.
    const a = app();
    a.post('/echo', async (req) => req.body);
    const post = (payload: string, type = 'application/json') =>
      a.inject({ method: 'POST', url: '/echo', payload, headers: { 'content-type': type } });
    expect((await post('{"ok":true}')).json()).toEqual({ ok: true });
    expectError(
      await post(JSON.stringify({ pad: 'x'.repeat(BODY_LIMIT_BYTES) })),
      'BODY_TOO_LARGE',
    );
    expectError(await post('<xml/>', 'application/xml'), 'UNSUPPORTED_MEDIA_TYPE');
    expectError(await post('{"ok": tru'), 'BAD_REQUEST');
  });
});

describe('bearer token auth', () => {
  async function routesOf(a: ReturnType<typeof app>) {
    const routes: { method: string; url: string }[] = [];
    a.addHook('onRoute', (r) => {
      for (const method of [r.method].flat()) routes.push({ method, url: r.url });
    });
    await a.ready();
    return routes;
  }

  it('every route but the probes and /metrics refuses a missing or wrong token', async () => {
    const a = app({ apiToken: TOKEN });
    const routes = await routesOf(a);
    const protectedRoutes = routes.filter((r) => !OPEN_ROUTES.has(r.url));
    expect(protectedRoutes.map((r) => `${r.method} ${r.url}`)).toEqual(
      expect.arrayContaining([
        'GET /v1/policy',
        'GET /v1/actions',
        'GET /v1/principals',
        'GET /v1/status',
      ]),
    );
    const wrong = [
      {},
      { authorization: TOKEN },
      { authorization: 'Bearer ' },
      { authorization: `Bearer ${TOKEN}x` },
      { authorization: `Bearer ${TOKEN.slice(0, -1)}` },
      { authorization: 'Bearer x' },
      { authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}` },
    ];
    for (const { method, url } of protectedRoutes) {
      for (const headers of wrong) {
        const res = await a.inject({ method: method as 'GET', url, headers });
        // The Access Analyzer compatible paths refuse in AWS's shape (test/integration/accessanalyzer.test.ts).
        if (url.startsWith('/policy/')) {
          expect(res.statusCode, `${method} ${url} ${JSON.stringify(headers)}`).toBe(403);
          expect(res.headers['x-amzn-errortype']).toBe('AccessDeniedException');
          continue;
        }
        expect(res.statusCode, `${method} ${url} ${JSON.stringify(headers)}`).toBe(401);
        expect(res.headers['www-authenticate']).toBe('Bearer realm="trailmint"');
        if (method !== 'HEAD') expectError(res, 'UNAUTHORIZED');
      }
      const ok = await a.inject({
        method: method as 'GET',
        url,
        headers: { authorization: `bearer  ${TOKEN}` },
      });
      expect(ok.statusCode, `${method} ${url}`).not.toBe(401);
      expect(ok.statusCode, `${method} ${url}`).not.toBe(403);
    }
    // unknown routes say nothing about what exists
    expect((await a.inject('/v1/nothing')).statusCode).toBe(401);
  });

  it('probes and /metrics stay open', async () => {
    const a = app({ apiToken: TOKEN });
    const routes = await routesOf(a);
    expect(routes.filter((r) => OPEN_ROUTES.has(r.url)).length).toBe(OPEN_ROUTES.size * 2); // GET + HEAD
    for (const url of OPEN_ROUTES) expect((await a.inject(url)).statusCode, url).toBe(200);
  });

  it('without a token configured, nothing asks for one', async () => {
    expect((await app().inject('/v1/status')).statusCode).toBe(200);
  });
});

describe('logging', () => {
  it('one debug line per object, failures with code and key, secrets redacted', () => {
    const lines: string[] = [];
    const logger = createLogger('debug', { write: (s: string) => void lines.push(s) });
    const telemetry = new Telemetry({ store, logger });
    const stats: FileStats = { ...emptyStats(), records: 7 };
    telemetry.objectDone({ key: 's3://trail/ok.json.gz', tag: 'a' }, stats, 0.5);
    telemetry.objectFailed(
      { key: 's3://trail/bad.json.gz', tag: 'b' },
      { code: 'NOT_JSON', message: 'not JSON' },
      'skip',
    );
    telemetry.objectFailed(
      { key: 's3://trail/slow.json.gz', tag: 'c' },
      { code: 'READ_FAILED', message: 'timeout' },
      'retry',
    );
    logger.info(
      {
        apiToken: TOKEN,
        config: { apiToken: TOKEN },
        headers: { authorization: `Bearer ${TOKEN}` },
      },
      'config',
    );
    const parsed = lines.map((l) => JSON.parse(l));
    expect(parsed[0]).toMatchObject({
      level: 'debug',
      object: 's3://trail/ok.json.gz',
      records: 7,
      seconds: 0.5,
    });
    expect(parsed[1]).toMatchObject({
      level: 'error',
      object: 's3://trail/bad.json.gz',
      code: 'NOT_JSON',
      action: 'skip',
    });
    expect(parsed[2]).toMatchObject({
      level: 'warn',
      object: 's3://trail/slow.json.gz',
      code: 'READ_FAILED',
    });
    expect(lines.join('')).not.toContain(TOKEN);
    expect(parsed[3].apiToken).toBe('[redacted]');
  });
});
