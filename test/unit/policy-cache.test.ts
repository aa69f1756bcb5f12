// GET /v1/policy serves a cached serialization until a commit touches the principal.
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/catalog.ts';
import { buildApp } from '../../src/http/app.ts';
import { VersionedCache } from '../../src/http/routes/policy.ts';
import { openStore } from '../../src/state/open.ts';
import type { Store } from '../../src/state/store.ts';
import { Telemetry } from '../../src/telemetry.ts';
import { deltaOf } from './store-contract.ts';

const ROLE = 'arn:aws:iam::111122223333:role/app';
const OTHER = 'arn:aws:iam::111122223333:role/other';
const DAY = 19_800;

describe('policy cache', () => {
  it('answers the same bytes while nothing changes, and the new policy after a commit', async () => {
    const store = await openStore('memory:');
    const app = buildApp({
      store,
      catalog: loadCatalog(),
      telemetry: new Telemetry({ store }),
      ready: () => true,
    });
    const url = `/v1/policy?principal=${encodeURIComponent(ROLE)}&from=2024-01-01&to=2024-12-31`;
    const commit = (key: string, principal: string, action: string) =>
      store.commit([
        { object: { key, tag: '1' }, delta: deltaOf([{ principal, action, day: DAY }]) },
      ]);

    await commit('a', ROLE, 's3:GetObject');
    const first = await app.inject(url);
    expect(first.statusCode).toBe(200);
    expect(first.headers['content-type']).toMatch(/^application\/json/);
    expect(first.json().actions).toEqual(['s3:GetObject']);
    expect((await app.inject(url)).body).toBe(first.body);

    await commit('b', OTHER, 's3:PutObject'); // another principal: same answer
    expect((await app.inject(url)).body).toBe(first.body);

    await commit('c', ROLE, 'sqs:SendMessage');
    expect((await app.inject(url)).json().actions).toEqual(['s3:GetObject', 'sqs:SendMessage']);
    const placeholders = await app.inject(url + '&placeholders=true');
    expect(placeholders.json().actions).toEqual(['s3:GetObject', 'sqs:SendMessage']);
    await app.close();
  });

  it('evicts the least recently used entry and checks versions', () => {
    const c = new VersionedCache(2);
    const A = Buffer.from('A');
    const C = Buffer.from('C');
    c.set('a', 1, A);
    c.set('b', 1, Buffer.from('B'));
    expect(c.get('a', 1)).toBe(A); // a is now the most recent
    c.set('c', 1, C); // evicts b
    expect(c.get('b', 1)).toBeUndefined();
    expect(c.get('a', 2)).toBeUndefined(); // stale version
    expect(c.get('c', 1)).toBe(C);
    expect(c.size).toEqual({ entries: 2, bytes: 2 });
  });

  it('gives an entry read since it was stored (or last spared) a second chance, once', () => {
    const c = new VersionedCache(3);
    for (const k of ['a', 'b', 'c']) c.set(k, 1, Buffer.from(k));
    c.get('a', 1);
    c.get('b', 1);
    c.set('d', 1, Buffer.from('d')); // a and b were read: spared, c goes
    expect(c.get('c', 1)).toBeUndefined();
    expect(c.size.entries).toBe(3);
    c.set('e', 1, Buffer.from('e')); // order d, a, b, none read since: d goes
    expect(c.get('d', 1)).toBeUndefined();
    expect(c.get('a', 1)).toBeDefined(); // read again
    c.set('f', 1, Buffer.from('f')); // order a, b, e: a spared, b goes
    expect(c.get('b', 1)).toBeUndefined();
    expect(c.get('a', 1)).toBeDefined();
    expect(c.size).toEqual({ entries: 3, bytes: 3 });
  });

  it('keeps its bytes under the bound, oldest out first, and never holds an oversized value', () => {
    const c = new VersionedCache(100, 10);
    c.set('a', 1, Buffer.alloc(4));
    c.set('b', 1, Buffer.alloc(4));
    c.set('a', 2, Buffer.alloc(5)); // replaces a: 9 bytes
    expect(c.size).toEqual({ entries: 2, bytes: 9 });
    c.set('c', 1, Buffer.alloc(3)); // 12 > 10: b (least recent) goes
    expect(c.get('b', 1)).toBeUndefined();
    expect(c.size).toEqual({ entries: 2, bytes: 8 });
    c.set('d', 1, Buffer.alloc(11)); // larger than the whole bound: not kept, nothing evicted
    expect(c.get('d', 1)).toBeUndefined();
    expect(c.size).toEqual({ entries: 2, bytes: 8 });
  });

  describe('fast path (a listening server: inject() goes to the router)', () => {
    const DAY_MS = 86_400_000;

    /** A listening app over a memory store, what it has counted, and a commit helper. */
    async function listening(opts: { apiToken?: string; now?: () => number } = {}) {
      const store = await openStore('memory:');
      const telemetry = new Telemetry({ store });
      const app = buildApp({
        store,
        catalog: loadCatalog(),
        telemetry,
        ready: () => true,
        ...opts,
      });
      const base = await app.listen({ host: '127.0.0.1', port: 0 });
      const sources = async () => {
        const text = await telemetry.metrics();
        const count = (s: string) =>
          Number(
            new RegExp(`trailmint_policy_responses_total\\{source="${s}"\\} (\\d+)`).exec(text)![1],
          );
        return {
          fast: count('fast_path'),
          cache: count('cache'),
          materialized: count('materialized'),
        };
      };
      const commit = (key: string, principal: string, action: string, day = DAY) =>
        store.commit([{ object: { key, tag: '1' }, delta: deltaOf([{ principal, action, day }]) }]);
      return { app, store, base, sources, commit };
    }

    const path = (principal: string, window = '&from=2024-01-01&to=2024-12-31') =>
      `/v1/policy?principal=${encodeURIComponent(principal)}${window}`;
    const headersOf = (r: Response) =>
      Object.fromEntries([...r.headers].filter(([k]) => k !== 'date'));

    it('answers a URL it answered before with the same status, headers and bytes, until the principal changes', async () => {
      const { app, base, sources, commit } = await listening();
      await commit('a', ROLE, 's3:GetObject');
      const first = await fetch(base + path(ROLE));
      const firstBody = await first.text();
      expect(first.status).toBe(200);
      expect(await sources()).toEqual({ fast: 0, cache: 0, materialized: 1 });

      const again = await fetch(base + path(ROLE));
      expect(again.status).toBe(200);
      expect(headersOf(again)).toEqual(headersOf(first));
      expect(await again.text()).toBe(firstBody);
      expect(await sources()).toEqual({ fast: 1, cache: 0, materialized: 1 });

      // The same window spelled differently is another URL: the router's cache answers it once.
      const reordered = `/v1/policy?from=2024-01-01&to=2024-12-31&principal=${encodeURIComponent(ROLE)}`;
      expect(await (await fetch(base + reordered)).text()).toBe(firstBody);
      expect(await sources()).toEqual({ fast: 1, cache: 1, materialized: 1 });
      expect(await (await fetch(base + reordered)).text()).toBe(firstBody);
      expect(await sources()).toEqual({ fast: 2, cache: 1, materialized: 1 });

      await commit('b', OTHER, 's3:PutObject'); // another principal: still the fast path
      expect(await (await fetch(base + path(ROLE))).text()).toBe(firstBody);
      expect(await sources()).toEqual({ fast: 3, cache: 1, materialized: 1 });

      await commit('c', ROLE, 'sqs:SendMessage'); // this one: the route materializes again
      const changed = await fetch(base + path(ROLE));
      expect(((await changed.json()) as { actions: string[] }).actions).toEqual([
        's3:GetObject',
        'sqs:SendMessage',
      ]);
      expect(await sources()).toEqual({ fast: 3, cache: 1, materialized: 2 });

      // Neither HEAD nor a URL that failed validation is served before the router.
      const head = await fetch(base + path(ROLE), { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(await head.text()).toBe('');
      const typo = base + path(ROLE) + '&form=2024-01-01';
      expect((await fetch(typo)).status).toBe(400);
      expect((await fetch(typo)).status).toBe(400);
      expect((await sources()).fast).toBe(3);
      await app.close();
    });

    it('asks for the bearer token as the router does', async () => {
      const { app, base, sources, commit } = await listening({ apiToken: 's3cret' });
      await commit('a', ROLE, 's3:GetObject');
      const auth = { authorization: 'Bearer s3cret' };
      expect((await fetch(base + path(ROLE), { headers: auth })).status).toBe(200);
      expect((await fetch(base + path(ROLE), { headers: auth })).status).toBe(200);
      expect((await sources()).fast).toBe(1);

      const none = await fetch(base + path(ROLE));
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const wrong = await fetch(base + path(ROLE), { headers: { authorization: 'Bearer nope' } });
      expect(wrong.status).toBe(401);
      const scheme = await fetch(base + path(ROLE), {
        headers: { authorization: 'bearer s3cret' },
      });
      expect(scheme.status).toBe(200);
      expect((await sources()).fast).toBe(2);
      await app.close();
    });

    it('answers a URL without from/to again only on the day it was answered', async () => {
      let now = (DAY + 10) * DAY_MS;
      const { app, base, sources, commit } = await listening({ now: () => now });
      await commit('a', ROLE, 's3:GetObject');
      const url = base + path(ROLE, ''); // the default window: the 90 days up to today
      expect((await fetch(url)).status).toBe(200);
      expect((await fetch(url)).status).toBe(200);
      expect((await sources()).fast).toBe(1);

      now += 100 * DAY_MS; // the window has moved past the activity
      const later = await fetch(url);
      expect(later.status).toBe(404);
      expect(((await later.json()) as { error: { code: string } }).error.code).toBe('NO_ACTIVITY');
      expect((await sources()).fast).toBe(1);
      await app.close();
    });

    it('leaves the request to the router when the version cannot be read', async () => {
      const store = await openStore('memory:');
      let failing = false;
      const flaky: Store = Object.assign(Object.create(store) as Store, {
        version: (principal: string) =>
          failing ? Promise.reject(new Error('store down')) : store.version!(principal),
      });
      const app = buildApp({
        store: flaky,
        catalog: loadCatalog(),
        telemetry: new Telemetry({ store }),
        ready: () => true,
      });
      const base = await app.listen({ host: '127.0.0.1', port: 0 });
      await store.commit([
        {
          object: { key: 'a', tag: '1' },
          delta: deltaOf([{ principal: ROLE, action: 's3:GetObject', day: DAY }]),
        },
      ]);
      expect((await fetch(base + path(ROLE))).status).toBe(200);
      failing = true;
      const down = await fetch(base + path(ROLE));
      expect(down.status).toBe(500); // the route's own answer to a store error, not a hang
      expect(((await down.json()) as { error: { code: string } }).error.code).toBe('INTERNAL');
      failing = false;
      expect((await fetch(base + path(ROLE))).status).toBe(200);
      await app.close();
    });
  });
});
