// API hardening, route by route, from the app's own route list (so a route added later is checked
// without anyone remembering to): closed JSON schemas on every parameter, body size limit, the
// request timeout on a real socket (slowloris), no stack or cause in any answer, 4xx for what the
// client got wrong and 5xx only for what the server did, and the bearer token on every route but
// the probes, /metrics and the web view's static files — checked before any validation or parsing.
import net from 'node:net';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/catalog.ts';
import {
  BODY_LIMIT_BYTES,
  REQUEST_TIMEOUT_MS,
  buildApp,
  type AppDeps,
} from '../../src/http/app.ts';
import { OPEN_ROUTES } from '../../src/http/auth.ts';
import { openStore } from '../../src/state/open.ts';
import type { Store } from '../../src/state/store.ts';
import { Telemetry, createLogger } from '../../src/telemetry.ts';
import { parseLogFile } from '../../workers/parse.ts';

const catalog = loadCatalog();
const TOKEN = 'a-long-random-api-token-for-tests';
const SAMPLES = path.resolve(import.meta.dirname, '../../samples/cloudtrail');
const STACK = /\bat .+:\d+:\d+|\.ts:\d+|node:internal|\n\s+at /;

let store: Store;
let principal: string;

beforeAll(async () => {
  store = await openStore('memory:');
  const dir = path.join(SAMPLES, 'stratus-red-team-detonation-logs');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json.gz'))
    .sort()
    .slice(0, 5);
  for (const f of files) {
    const result = await parseLogFile(readFileSync(path.join(dir, f)), catalog);
    if (result.ok) await store.commit([{ object: { key: f, tag: '1' }, delta: result.delta }]);
  }
  principal = (await store.principals())[0].principal;
  return () => store.close();
});

function app(over: Partial<AppDeps> = {}): FastifyInstance {
  const s = over.store ?? store;
  return buildApp({
    store: s,
    catalog,
    telemetry: new Telemetry({ store: s }),
    ready: () => true,
    ...over,
  });
}

interface Route {
  method: string;
  url: string;
  schema: RouteOptions['schema'];
}

/** The app's routes as registered (HEAD twins included), after plugins load. */
async function routesOf(a: FastifyInstance): Promise<Route[]> {
  const routes: Route[] = [];
  a.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) routes.push({ method, url: r.url, schema: r.schema });
  });
  await a.ready();
  return routes;
}

/** A request URL for a route: path parameters filled, the query given. */
const urlOf = (route: Route, query = '') =>
  route.url.replace(/:(\w+)/g, 'x') + (query ? `?${query}` : '');

const hasBody = (method: string) => method === 'POST' || method === 'PUT' || method === 'PATCH';

/**
 * Every object in a schema closed (additionalProperties false), but for the subtrees `open`
 * names: those hold documents another validator checks (IAM policy documents: parsePolicies,
 * with a 400 naming the statement and key).
 */
function openObjects(schema: unknown, where: string, open: readonly string[]): string[] {
  if (typeof schema !== 'object' || schema === null || open.includes(where)) return [];
  const s = schema as Record<string, unknown>;
  const found: string[] = [];
  if (s.type === 'object' && s.additionalProperties !== false) found.push(where || '(root)');
  for (const [k, v] of Object.entries(s)) {
    if (k === 'properties' && typeof v === 'object' && v !== null) {
      for (const [name, sub] of Object.entries(v))
        found.push(...openObjects(sub, `${where}.${name}`, open));
    } else if (k === 'items' || k === 'anyOf' || k === 'oneOf' || k === 'allOf') {
      const list = Array.isArray(v) ? v : [v];
      list.forEach((sub) => found.push(...openObjects(sub, `${where}[]`, open)));
    }
  }
  return found;
}

// The one free-form part of any request: the policy documents POST /v1/unused compares.
const POLICY_DOCUMENTS = ['.policies[]', '.policy'];

describe('every parameter is validated by a closed JSON schema', () => {
  it('querystring on every route, params where the path has them, body on every POST/PUT', async () => {
    const routes = await routesOf(app());
    expect(routes.length).toBeGreaterThan(15);
    const problems: string[] = [];
    for (const r of routes) {
      const name = `${r.method} ${r.url}`;
      const s = (r.schema ?? {}) as Record<string, unknown>;
      if (s.querystring === undefined) problems.push(`${name}: no querystring schema`);
      else
        problems.push(...openObjects(s.querystring, '', []).map((w) => `${name} querystring ${w}`));
      if (r.url.includes(':')) {
        if (s.params === undefined) problems.push(`${name}: no params schema`);
        else problems.push(...openObjects(s.params, '', []).map((w) => `${name} params ${w}`));
      }
      if (hasBody(r.method)) {
        // a schema for the whole body, or per media type ({content: {type: {schema}}})
        const body = s.body as Record<string, unknown> | undefined;
        const content = body?.content as Record<string, { schema: unknown }> | undefined;
        const schemas = content ? Object.values(content).map((c) => c.schema) : [body];
        if (body === undefined) problems.push(`${name}: no body schema`);
        for (const b of schemas)
          problems.push(...openObjects(b, '', POLICY_DOCUMENTS).map((w) => `${name} body ${w}`));
      }
    }
    expect(problems).toEqual([]);
  });

  it('an unknown parameter anywhere is a 400, never ignored', async () => {
    const a = app();
    for (const r of (await routesOf(a)).filter((x) => x.method === 'GET')) {
      // with what the route requires (principal), so the unknown one is the only mistake
      const required = ((r.schema?.querystring as { required?: string[] }) ?? {}).required ?? [];
      const given = required.map((k) => `${k}=${encodeURIComponent(principal)}&`).join('');
      const res = await a.inject(urlOf(r, `${given}surprise=1`));
      expect(res.statusCode, `${r.method} ${r.url}`).toBe(400);
      expect(res.body, r.url).toMatch(/surprise/);
    }
    const body = (payload: object) =>
      a.inject({
        method: 'POST',
        url: '/v1/unused',
        payload: { principal, policy: {}, ...payload },
      });
    expect((await body({ surprise: 1 })).statusCode).toBe(400);
    const cancel = await a.inject({
      method: 'PUT',
      url: '/policy/generation/x',
      payload: { surprise: 1 },
    });
    expect(cancel.statusCode).toBe(400);
    expect(cancel.headers['x-amzn-errortype']).toBe('ValidationException');
  });
});

describe('limits and timeouts', () => {
  it(`a body over ${BODY_LIMIT_BYTES} bytes is 413 in either error shape`, async () => {
    const a = app();
    const big = JSON.stringify({ principal, policy: { pad: 'x'.repeat(BODY_LIMIT_BYTES) } });
    const unused = await a.inject({
      method: 'POST',
      url: '/v1/unused',
      payload: big,
      headers: { 'content-type': 'application/json' },
    });
    expect(unused.statusCode).toBe(413);
    expect(unused.json().error.code).toBe('BODY_TOO_LARGE');
    const start = await a.inject({
      method: 'PUT',
      url: '/policy/generation',
      payload: big,
      headers: { 'content-type': 'application/json' },
    });
    // AWS's REST-JSON errors have no 413: the SDK gets a ValidationException that says so
    expect(start.statusCode).toBe(400);
    expect(start.headers['x-amzn-errortype']).toBe('ValidationException');
    expect(start.json().message).toMatch(/too large/i);
  });

  it('a deeply nested body within the limit is a 400, not a crash', async () => {
    const deep = '['.repeat(200_000) + ']'.repeat(200_000);
    const res = await app().inject({
      method: 'POST',
      url: '/v1/unused',
      payload: `{"principal":"${principal}","policy":{"Version":"2012-10-17","Statement":${deep}}}`,
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.body).not.toMatch(STACK);
  });

  it('an oversized URL or path parameter is refused as a client error', async () => {
    const a = app();
    await a.listen({ host: '127.0.0.1', port: 0 });
    try {
      const base = `http://127.0.0.1:${(a.server.address() as net.AddressInfo).port}`;
      const long = await fetch(`${base}/v1/policy?principal=${'a'.repeat(64 * 1024)}`);
      expect(long.status).toBe(431); // Node's header size cap (16 KiB) includes the request line
      const jobId = await fetch(`${base}/policy/generation/${'j'.repeat(500)}`);
      expect(jobId.status).toBeGreaterThanOrEqual(400);
      expect(jobId.status).toBeLessThan(500);
    } finally {
      await a.close();
    }
  });

  it('production defaults: the whole request, headers included, within REQUEST_TIMEOUT_MS', async () => {
    const a = app();
    await a.listen({ host: '127.0.0.1', port: 0 });
    try {
      expect(a.server.requestTimeout).toBe(REQUEST_TIMEOUT_MS);
      expect(a.server.headersTimeout).toBe(REQUEST_TIMEOUT_MS);
      expect(REQUEST_TIMEOUT_MS).toBeLessThanOrEqual(30_000);
    } finally {
      await a.close();
    }
  });

  it.each([
    ['headers that never end', 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: '],
    [
      'a body that never comes',
      'POST /v1/unused HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"princ',
    ],
  ])('a slow client (%s) gets 408 and is disconnected', async (_what, partial) => {
    const a = app({ requestTimeoutMs: 400 });
    await a.listen({ host: '127.0.0.1', port: 0 });
    try {
      const port = (a.server.address() as net.AddressInfo).port;
      const started = performance.now();
      const socket = net.connect(port, '127.0.0.1');
      socket.write(partial);
      let answer = '';
      socket.on('data', (d) => (answer += d));
      await new Promise((resolve) => socket.on('close', resolve));
      const ms = performance.now() - started;
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
      expect(ms).toBeGreaterThanOrEqual(350);
      expect(ms).toBeLessThan(3_000);
    } finally {
      await a.close();
    }
  });
});

describe('errors: 4xx for the client, 5xx for the server, never a stack or a cause', () => {
  it('arbitrary query strings on every GET route: never 5xx, always the JSON error shape', async () => {
    const a = app();
    const routes = (await routesOf(a)).filter((r) => r.method === 'GET');
    const known = [
      'principal',
      'from',
      'to',
      'placeholders',
      'limit',
      'nextToken',
      'principalArn',
      'maxResults',
      'includeResourcePlaceholders',
      'includeServiceLevelTemplate',
      'v',
    ];
    const value = fc.oneof(
      fc.string(),
      fc.string({ unit: 'grapheme' }),
      fc.constantFrom(
        principal,
        '2024-05-17',
        '0000-00-00',
        'true',
        '-1',
        '1e9',
        '%',
        '%zz',
        '\u0000',
      ),
    );
    const query = fc.array(fc.tuple(fc.oneof(fc.constantFrom(...known), fc.string()), value), {
      maxLength: 4,
    });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        query,
        fc.boolean(),
        async (route, pairs, raw) => {
          const qs = raw
            ? pairs.map(([k, v]) => `${k}=${v}`).join('&') // not encoded: whatever a client sends
            : new URLSearchParams(pairs).toString();
          const res = await a.inject(urlOf(route, qs));
          expect(res.statusCode, `${route.url}?${qs}`).toBeLessThan(500);
          expect(res.body).not.toMatch(STACK);
          if (res.statusCode >= 400) {
            const body = res.json();
            if (route.url.startsWith('/policy/')) expect(typeof body.message).toBe('string');
            else expect(Object.keys(body.error).sort()).toEqual(['code', 'message']);
          }
        },
      ),
      { numRuns: 600 },
    );
  });

  it('arbitrary bodies on every POST/PUT route: never 5xx', async () => {
    const a = app();
    const routes = (await routesOf(a)).filter((r) => hasBody(r.method));
    const body = fc.oneof(
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.string(),
      fc.jsonValue().map((policy) => JSON.stringify({ principal, policy })),
      fc.jsonValue().map((p) =>
        JSON.stringify({
          policyGenerationDetails: { principalArn: principal },
          cloudTrailDetails: p,
        }),
      ),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), body, async (route, payload) => {
        const res = await a.inject({
          method: route.method as 'POST',
          url: urlOf(route),
          payload,
          headers: { 'content-type': 'application/json' },
        });
        expect(
          res.statusCode,
          `${route.method} ${route.url} ${payload.slice(0, 200)}`,
        ).toBeLessThan(500);
        expect(res.body).not.toMatch(STACK);
      }),
      { numRuns: 600 },
    );
  });

  it('a failing store is 500 on every route that reads it: a request id, nothing of the cause', async () => {
    const lines: string[] = [];
    const failing = new Proxy(store, {
      get(target, key, receiver) {
        const v = Reflect.get(target, key, receiver) as unknown;
        if (typeof v !== 'function' || key === 'close') return v;
        return () =>
          Promise.reject(new Error('SECRET: disk on fire at /var/lib/trailmint/data.mdb'));
      },
    });
    const a = app({
      store: failing,
      logger: createLogger('info', { write: (s: string) => void lines.push(s) }),
    });
    const q = `principal=${encodeURIComponent(principal)}`;
    const reads = [
      { method: 'GET', url: '/v1/principals' },
      { method: 'GET', url: `/v1/policy?${q}` },
      { method: 'GET', url: `/v1/actions?${q}` },
      { method: 'GET', url: `/v1/denied?${q}` },
      { method: 'GET', url: '/v1/status' },
      {
        method: 'POST',
        url: '/v1/unused',
        payload: { principal, policy: { Version: '2012-10-17', Statement: [] } },
      },
      {
        method: 'PUT',
        url: '/policy/generation',
        payload: { policyGenerationDetails: { principalArn: principal } },
      },
    ] as const;
    for (const r of reads) {
      const res = await a.inject(r);
      expect(res.statusCode, r.url).toBe(500);
      expect(res.body, r.url).not.toMatch(/SECRET|disk on fire|data\.mdb/);
      expect(res.body, r.url).not.toMatch(STACK);
      expect(res.body, r.url).toMatch(/request id/);
    }
    // the log has the cause, for the operator
    expect(lines.join('')).toContain('disk on fire');
    // and the probes do not depend on the store
    expect((await a.inject('/healthz')).statusCode).toBe(200);
    expect((await a.inject('/metrics')).statusCode).toBe(200);
  });
});

describe('bearer token', () => {
  it('the open routes are exactly the probes, /metrics and the web view', () => {
    expect([...OPEN_ROUTES].sort()).toEqual([
      '/',
      '/healthz',
      '/metrics',
      '/readyz',
      '/ui/app.css',
      '/ui/app.js',
    ]);
  });

  it('every other route, and unknown ones, refuse a missing or wrong token before validating or parsing anything', async () => {
    const a = app({ apiToken: TOKEN });
    const routes = (await routesOf(a)).filter((r) => !OPEN_ROUTES.has(r.url));
    expect(routes.length).toBeGreaterThan(10);
    const wrong: Record<string, string>[] = [
      {},
      { authorization: '' },
      { authorization: 'Bearer' },
      { authorization: `Bearer ${TOKEN.slice(0, -1)}` },
      { authorization: `Bearer ${TOKEN}X` },
      { authorization: `Bearer ${TOKEN.toUpperCase()}` },
      { authorization: `Token ${TOKEN}` },
      { authorization: TOKEN },
      { 'x-api-token': TOKEN },
    ];
    const unknown = [
      { method: 'GET', url: '/v1/secret-admin' },
      { method: 'DELETE', url: '/v1/principals' },
      { method: 'OPTIONS', url: '/v1/policy' },
    ];
    for (const r of [...routes, ...unknown]) {
      for (const headers of wrong) {
        // bad parameters and a body that is not even JSON: the token is checked first
        const res = await a.inject({
          method: r.method as 'GET',
          url: urlOf(r as Route, 'bogus=1'),
          headers: { ...headers, 'content-type': 'application/json' },
          ...(hasBody(r.method) ? { payload: '{not json' } : {}),
        });
        const name = `${r.method} ${r.url} ${JSON.stringify(headers)}`;
        if (r.url.startsWith('/policy/')) {
          expect(res.statusCode, name).toBe(403);
          expect(res.headers['x-amzn-errortype'], name).toBe('AccessDeniedException');
        } else {
          expect(res.statusCode, name).toBe(401);
          expect(res.headers['www-authenticate'], name).toBe('Bearer realm="trailmint"');
        }
        expect(res.body).not.toContain(TOKEN);
      }
    }
    // and with the token, the same requests get to validation (400), not 401/403
    for (const r of routes.filter((x) => x.method === 'GET')) {
      const res = await a.inject({
        url: urlOf(r, 'bogus=1'),
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(res.statusCode, r.url).toBe(400);
    }
  });
});
