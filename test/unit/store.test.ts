// The store contract against each embedded backend, plus what only they do: LMDB persistence,
// catalog seeding and upgrades, refusing stores from the future.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LmdbKv } from '../../src/state/lmdb.ts';
import { KvStore, STORE_FORMAT, compareVersions } from '../../src/state/kvstore.ts';
import { openStore } from '../../src/state/open.ts';
import type { Store } from '../../src/state/store.ts';
import { deltaOf, snapshot, storeContract, versionContract } from './store-contract.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'trailmint-store-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const dirs = new WeakMap<Store, string>();

storeContract('memory', { fresh: () => openStore('memory:') });
versionContract('memory', { fresh: () => openStore('memory:') });
versionContract('lmdb', { fresh: () => openStore(path.join(tmp, `v${n++}`)) });

storeContract('lmdb', {
  async fresh() {
    const dir = path.join(tmp, `s${n++}`);
    const s = await openStore(dir);
    dirs.set(s, dir);
    return s;
  },
  async reopen(store) {
    const dir = dirs.get(store)!;
    await store.close();
    return openStore(dir);
  },
});

const ROLE = 'arn:aws:iam::111122223333:role/app';
const catalogOf = (version: string, ids: string[]) => ({ version, ids: () => ids });

describe('catalog ids in the store', () => {
  it('a fresh store takes the catalog order; an upgrade only appends', async () => {
    const dir = path.join(tmp, 'upgrade');
    const v1 = catalogOf('0.1.1', ['s3:GetObject', 's3:PutObject', 'kms:Decrypt']);
    let s = await openStore(dir, { catalog: v1 });
    expect(await s.actionNames()).toEqual(v1.ids());
    await s.commit([
      {
        object: { key: 'f', tag: '1' },
        delta: deltaOf([
          { principal: ROLE, action: 'kms:Decrypt', day: 20_000 },
          { principal: ROLE, action: 'new:Unknown', day: 20_000 },
        ]),
      },
    ]);
    const before = await snapshot(s, [ROLE]);
    const idsBefore = [...(await s.actionNames())];
    await s.close();

    // v2 adds actions, one of them the name the store already knew as unknown
    const v2 = catalogOf('0.1.2', [
      's3:GetObject',
      's3:PutObject',
      'kms:Decrypt',
      'a:New',
      'new:Unknown',
      'z:Last',
    ]);
    s = await openStore(dir, { catalog: v2 });
    const idsAfter = await s.actionNames();
    expect(idsAfter.slice(0, idsBefore.length)).toEqual(idsBefore);
    expect(idsAfter.slice(idsBefore.length)).toEqual(['a:New', 'z:Last']);
    expect(await snapshot(s, [ROLE])).toEqual(before);
    await s.close();

    // and an older trailmint refuses the store instead of reading newer actions as unknown
    await expect(openStore(dir, { catalog: v1 })).rejects.toThrow(/newer action catalog/);
  });

  it('refuses a store written by a newer store format', async () => {
    const dir = path.join(tmp, 'future');
    const kv = new LmdbKv(dir);
    await kv.write((w) => w.put('meta', 'format', STORE_FORMAT + 1));
    await kv.close();
    await expect(openStore(dir)).rejects.toMatchObject({ code: 'STORE_TOO_NEW' });
    // and it is still usable by whoever wrote it: nothing was changed
    const again = new LmdbKv(dir);
    expect(again.read((r) => r.get('meta', 'format'))).toBe(STORE_FORMAT + 1);
    await again.close();
  });

  it('reads and upgrades a format-1 store (uses and principal metadata as objects)', async () => {
    const events = (day: number) => [
      { principal: ROLE, action: 's3:GetObject', day, resource: 'arn:aws:s3:::b/k' },
      { principal: ROLE, action: 'kms:Decrypt', day, denied: true },
      { principal: ROLE, action: 'kms:Decrypt', day: day + 1 },
    ];
    const first = { object: { key: 'f1', tag: '1' }, delta: deltaOf(events(20_000)) };
    const second = { object: { key: 'f2', tag: '1' }, delta: deltaOf(events(20_010)) };
    const dir = path.join(tmp, 'format1');
    let s = await openStore(dir);
    await s.commit([first]);
    const once = await snapshot(s, [ROLE], 19_990, 20_020);
    await s.close();

    // Rewrite it as format 1 wrote it: the same values as objects with short keys.
    let kv = new LmdbKv(dir);
    await kv.write((w) => {
      const rows = (t: 'uses' | 'pmeta') => [...w.range(t)];
      for (const { key, value } of rows('uses')) {
        const [f, l, c, dc, dl, dd, r] = value as unknown[];
        w.put('uses', key, { f, l, c, dc, dl, dd, r });
      }
      for (const { key, value } of rows('pmeta')) {
        const [arn, actions, used, first, last, v] = value as unknown[];
        w.put('pmeta', key, { arn, actions, used, first, last, v });
      }
      w.put('meta', 'format', 1);
    });
    await kv.close();

    s = await openStore(dir);
    expect(await snapshot(s, [ROLE], 19_990, 20_020)).toEqual(once);
    expect(await s.version!(ROLE)).toBe(1);
    await s.commit([second]);
    const both = await openStore('memory:');
    await both.commit([first, second]);
    expect(await snapshot(s, [ROLE], 19_990, 20_020)).toEqual(
      await snapshot(both, [ROLE], 19_990, 20_020),
    );
    await s.close();
    // marked format 2 on open, so a trailmint that only reads format 1 refuses it
    kv = new LmdbKv(dir);
    expect(kv.read((r) => r.get('meta', 'format'))).toBe(STORE_FORMAT);
    expect(STORE_FORMAT).toBe(2);
    await kv.close();
  });

  it('a commit that throws leaves nothing behind, in the store or its id mirrors', async () => {
    const s = (await openStore('memory:')) as KvStore;
    const bad = deltaOf([{ principal: ROLE, action: 'x:New', day: 20_000 }]);
    bad.uses[0].a = 99; // an index past the delta's action table: the merge throws
    await expect(s.commit([{ object: { key: 'bad', tag: '1' }, delta: bad }])).rejects.toThrow();
    expect(await s.actionNames()).toEqual([]);
    expect(await s.principals()).toEqual([]);
    expect(await s.isIngested({ key: 'bad', tag: '1' })).toBe(false);
  });

  it('compares data-package versions numerically', () => {
    expect(compareVersions('0.21.202609261', '0.21.202610011')).toBe(-1);
    expect(compareVersions('0.9.1', '0.10.0')).toBe(-1);
    expect(compareVersions('1.0.0', '1.0.0')).toBe(0);
    expect(compareVersions('1.0.1', '1.0')).toBe(1);
  });

  it('rejects store URLs it cannot open with a clear error', async () => {
    await expect(openStore('')).rejects.toMatchObject({ code: 'BAD_STORE' });
    await expect(openStore('postgres://x')).rejects.toMatchObject({ code: 'BAD_STORE' });
  });
});
