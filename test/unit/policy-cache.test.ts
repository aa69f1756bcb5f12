// GET /v1/policy serves a cached serialization until a commit touches the principal.
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/catalog.ts';
import { buildApp } from '../../src/http/app.ts';
import { VersionedCache } from '../../src/http/routes/policy.ts';
import { openStore } from '../../src/state/open.ts';
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
});
