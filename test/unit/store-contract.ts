// One contract suite for every Store backend (hono's habit: the same cases against each
// implementation). Each backend's test file calls storeContract() with a factory.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emptyStats, type FileDelta } from '../../src/state/delta.ts';
import type { CommitEntry, Store } from '../../src/state/store.ts';

export interface StoreFactory {
  /** a new, empty store */
  fresh(): Promise<Store>;
  /** the same store reopened (persistent backends), or undefined when it does not persist */
  reopen?(store: Store): Promise<Store>;
}

const A = 'arn:aws:iam::111122223333:role/app';
const B = 'arn:aws:iam::111122223333:user/bob';
const D0 = 19_800; // 2024-03-18

interface Ev {
  principal: string;
  action: string;
  day: number;
  denied?: boolean;
  resource?: string;
  passRole?: [string, string];
}

/** Events → one FileDelta, as a worker would build it (local string tables). */
export function deltaOf(events: readonly Ev[]): FileDelta {
  const principals: string[] = [];
  const actions: string[] = [];
  const index = (list: string[], v: string) => {
    const i = list.indexOf(v);
    return i >= 0 ? i : list.push(v) - 1;
  };
  const days = new Map<string, FileDelta['days'][number]>();
  const uses = new Map<string, FileDelta['uses'][number]>();
  const passRoles: FileDelta['passRoles'] = [];
  for (const e of events) {
    const p = index(principals, e.principal);
    const a = index(actions, e.action);
    const dk = `${p}/${e.day}`;
    let d = days.get(dk);
    if (!d) days.set(dk, (d = { p, day: e.day, used: [], denied: [] }));
    const list = e.denied ? d.denied : d.used;
    if (!list.includes(a)) list.push(a);
    list.sort((x, y) => x - y);
    const uk = `${p}/${a}`;
    let u = uses.get(uk);
    if (!u) {
      u = {
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
      uses.set(uk, u);
    }
    const t = e.day * 86_400_000 + 1000;
    if (e.denied) {
      u.deniedCount++;
      u.deniedLast = Math.max(u.deniedLast, t);
      u.deniedCode = 'AccessDenied';
    } else {
      u.count++;
      u.firstSeen = u.firstSeen === 0 ? t : Math.min(u.firstSeen, t);
      u.lastSeen = Math.max(u.lastSeen, t);
      if (e.resource && !u.resources.includes(e.resource)) u.resources.push(e.resource);
    }
    if (e.passRole)
      passRoles.push({ p, day: e.day, role: e.passRole[0], service: e.passRole[1], lastSeen: t });
  }
  const known = (n: string) => !n.startsWith('nope:');
  return {
    principals,
    actions,
    unknownActions: actions.filter((n) => !known(n)),
    days: [...days.values()],
    uses: [...uses.values()],
    passRoles,
    unmapped: [],
    stats: emptyStats(),
  };
}

const entry = (key: string, events: readonly Ev[], tag = '1'): CommitEntry => ({
  object: { key, tag },
  delta: deltaOf(events),
});

async function namesOf(store: Store, ids: Uint32Array): Promise<string[]> {
  const names = await store.actionNames();
  return Array.from(ids, (i) => names[i]).sort();
}

/** Everything a store answers, as one comparable value. */
export async function snapshot(
  store: Store,
  principals: readonly string[],
  from = D0 - 10,
  to = D0 + 400,
) {
  const out: unknown[] = [
    await store.principals(),
    await store.unmapped(),
    await store.unknownActions(),
  ];
  for (const p of principals) {
    const w = await store.windowActions(p, from, to);
    const names = await store.actionNames();
    const details = (await store.actionDetails(p))
      .map((d) => ({ ...d, action: names[d.action] }))
      .sort((x, y) => (x.action < y.action ? -1 : 1));
    out.push(
      await namesOf(store, w.used),
      await namesOf(store, w.denied),
      details,
      await store.passRoles(p, from, to),
    );
  }
  return out;
}

export function storeContract(name: string, factory: StoreFactory): void {
  describe(`Store contract: ${name}`, () => {
    it('starts empty', async () => {
      const s = await factory.fresh();
      expect(await s.principals()).toEqual([]);
      const w = await s.windowActions(A, 0, 99_999);
      expect(w.used.length + w.denied.length).toBe(0);
      expect(await s.actionDetails(A)).toEqual([]);
      expect(await s.passRoles(A, 0, 99_999)).toEqual([]);
      expect(await s.isIngested({ key: 'x', tag: '1' })).toBe(false);
      await s.close();
    });

    it('answers windows by OR of the day sets, inclusive at both ends', async () => {
      const s = await factory.fresh();
      await s.commit([
        entry('f1', [
          { principal: A, action: 's3:GetObject', day: D0, resource: 'arn:aws:s3:::b/k1' },
          { principal: A, action: 's3:PutObject', day: D0 + 1 },
          { principal: A, action: 'sqs:SendMessage', day: D0 + 5 },
          { principal: A, action: 'iam:DeleteRole', day: D0 + 1, denied: true },
          { principal: B, action: 'ec2:DescribeInstances', day: D0 },
        ]),
      ]);
      const names = async (from: number, to: number) =>
        namesOf(s, (await s.windowActions(A, from, to)).used);
      expect(await names(D0, D0)).toEqual(['s3:GetObject']);
      expect(await names(D0, D0 + 1)).toEqual(['s3:GetObject', 's3:PutObject']);
      expect(await names(D0 + 1, D0 + 5)).toEqual(['s3:PutObject', 'sqs:SendMessage']);
      expect(await names(D0 + 2, D0 + 4)).toEqual([]);
      expect(await names(D0 + 6, D0 + 9)).toEqual([]);
      expect(await names(D0 + 1, D0)).toEqual([]); // empty window
      expect(await namesOf(s, (await s.windowActions(A, D0, D0 + 5)).denied)).toEqual([
        'iam:DeleteRole',
      ]);
      expect(await namesOf(s, (await s.windowActions(B, D0, D0)).used)).toEqual([
        'ec2:DescribeInstances',
      ]);
      const ps = await s.principals();
      if (s.principalCount) expect(await s.principalCount()).toBe(ps.length);
      expect(ps).toEqual([
        { principal: A, firstSeen: '2024-03-18', lastSeen: '2024-03-23', actions: 3 },
        { principal: B, firstSeen: '2024-03-18', lastSeen: '2024-03-18', actions: 1 },
      ]);
      await s.close();
    });

    it('keeps per-action detail: first/last seen, counts, denied code, resource sample', async () => {
      const s = await factory.fresh();
      await s.commit([
        entry('f1', [
          { principal: A, action: 's3:GetObject', day: D0, resource: 'arn:aws:s3:::b/k1' },
          { principal: A, action: 's3:GetObject', day: D0 + 3, resource: 'arn:aws:s3:::b/k2' },
        ]),
        entry('f2', [
          { principal: A, action: 's3:GetObject', day: D0 - 1, resource: 'arn:aws:s3:::b/k1' },
          { principal: A, action: 's3:GetObject', day: D0 + 4, denied: true },
        ]),
      ]);
      const names = await s.actionNames();
      const [d] = await s.actionDetails(A);
      expect(names[d.action]).toBe('s3:GetObject');
      expect(d.firstSeen).toBe((D0 - 1) * 86_400_000 + 1000);
      expect(d.lastSeen).toBe((D0 + 3) * 86_400_000 + 1000);
      expect(d.count).toBe(3);
      expect(d.deniedCount).toBe(1);
      expect(d.deniedCode).toBe('AccessDenied');
      expect(d.resources).toEqual(['arn:aws:s3:::b/k1', 'arn:aws:s3:::b/k2']);
      const only = await s.actionDetails(A, Uint32Array.of(d.action));
      expect(only).toEqual([d]);
      await s.close();
    });

    it('an instance profile passed stands for the roles seen added to it, in any order', async () => {
      const s = await factory.fresh();
      const profile = 'arn:aws:iam::111122223333:instance-profile/web';
      const role = 'arn:aws:iam::111122223333:role/web';
      const ec2 = 'ec2.amazonaws.com';
      await s.commit([
        entry('f1', [
          { principal: A, action: 'ec2:RunInstances', day: D0, passRole: [profile, ec2] },
        ]),
      ]);
      expect(await s.passRoles(A, D0, D0)).toEqual([]); // which role is inside: not seen yet
      const mapping = entry('f2', [
        { principal: B, action: 'iam:AddRoleToInstanceProfile', day: D0 },
      ]);
      mapping.delta.profileRoles = [{ profile, role }];
      await s.commit([mapping]);
      await s.commit([mapping]); // redelivered: changes nothing
      expect(await s.passRoles(A, D0, D0)).toEqual([
        { role, service: ec2, lastSeen: D0 * 86_400_000 + 1000 },
      ]);
      const other = entry('f3', [
        { principal: B, action: 'iam:AddRoleToInstanceProfile', day: D0 },
      ]);
      other.delta.profileRoles = [{ profile, role: role + '-2' }];
      await s.commit([other]);
      expect((await s.passRoles(A, D0, D0)).map((r) => r.role)).toEqual([role, role + '-2']);
      expect(await s.passRoles(B, D0, D0)).toEqual([]);
      await s.close();
    });

    it('merges pass-role grants per (role, service) within the window', async () => {
      const s = await factory.fresh();
      const role = 'arn:aws:iam::111122223333:role/fn';
      await s.commit([
        entry('f1', [
          {
            principal: A,
            action: 'lambda:CreateFunction',
            day: D0,
            passRole: [role, 'lambda.amazonaws.com'],
          },
          {
            principal: A,
            action: 'lambda:CreateFunction',
            day: D0 + 2,
            passRole: [role, 'lambda.amazonaws.com'],
          },
        ]),
      ]);
      expect(await s.passRoles(A, D0, D0 + 2)).toEqual([
        { role, service: 'lambda.amazonaws.com', lastSeen: (D0 + 2) * 86_400_000 + 1000 },
      ]);
      expect(await s.passRoles(A, D0 + 3, D0 + 9)).toEqual([]);
      await s.close();
    });

    it('skips an object already committed (same key and tag), takes a new version', async () => {
      const s = await factory.fresh();
      const e = entry('f1', [{ principal: A, action: 's3:GetObject', day: D0 }]);
      expect(await s.commit([e])).toEqual({
        merged: 1,
        alreadyIngested: 0,
        alreadyIngestedKeys: [],
      });
      expect(await s.isIngested(e.object)).toBe(true);
      expect(await s.commit([e, e])).toEqual({
        merged: 0,
        alreadyIngested: 2,
        alreadyIngestedKeys: [e.object.key, e.object.key],
      });
      const f2 = entry('f2', [{ principal: A, action: 's3:ListBucket', day: D0 }]);
      const r = await s.commit([f2, e, f2]);
      expect([r.merged, r.alreadyIngested]).toEqual([1, 2]);
      expect([...r.alreadyIngestedKeys].sort()).toEqual([e.object.key, f2.object.key].sort());
      const v2 = entry('f1', [{ principal: A, action: 's3:PutObject', day: D0 }], '2');
      expect(await s.isIngested(v2.object)).toBe(false);
      expect(await s.commit([v2])).toEqual({
        merged: 1,
        alreadyIngested: 0,
        alreadyIngestedKeys: [],
      });
      expect(await namesOf(s, (await s.windowActions(A, D0, D0)).used)).toEqual([
        's3:GetObject',
        's3:ListBucket',
        's3:PutObject',
      ]);
      await s.close();
    });

    it('counts unmapped pairs and keeps unknown actions', async () => {
      const s = await factory.fresh();
      const d = deltaOf([{ principal: A, action: 'nope:Thing', day: D0 }]);
      d.unmapped = [{ source: 'x.amazonaws.com', name: 'Y', count: 2 }];
      await s.commit([{ object: { key: 'a', tag: '1' }, delta: d }]);
      await s.commit([{ object: { key: 'b', tag: '1' }, delta: d }]);
      expect(await s.unmapped()).toEqual([{ source: 'x.amazonaws.com', name: 'Y', count: 4 }]);
      expect(await s.unknownActions()).toEqual(['nope:Thing']);
      expect(await namesOf(s, (await s.windowActions(A, D0, D0)).used)).toEqual(['nope:Thing']);
      await s.close();
    });

    it('assigns action ids once, append-only, and agrees across calls', async () => {
      const s = await factory.fresh();
      const before = (await s.actionNames()).length;
      const ids = await s.actionIds(['x:One', 'x:Two', 'x:One']);
      expect(ids[0]).toBe(ids[2]);
      expect(ids[0]).not.toBe(ids[1]);
      expect(Math.min(ids[0], ids[1])).toBe(before);
      expect(await s.actionIds(['x:Two'])).toEqual(Uint32Array.of(ids[1]));
      const names = await s.actionNames();
      expect(names[ids[0]]).toBe('x:One');
      await s.close();
    });

    it('is order-independent and idempotent: any order, any replays, same answers (property)', async () => {
      const ev = fc.record({
        principal: fc.constantFrom(A, B),
        action: fc.constantFrom(
          's3:GetObject',
          's3:PutObject',
          'ec2:RunInstances',
          'kms:Decrypt',
          'nope:X',
        ),
        day: fc.integer({ min: D0, max: D0 + 30 }),
        denied: fc.boolean(),
        resource: fc.constantFrom(undefined, 'arn:aws:s3:::b/1', 'arn:aws:s3:::b/2'),
      });
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.array(ev, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 5 }),
          fc.integer({ min: 0, max: 1000 }),
          async (files, seed) => {
            const entries = files.map((events, i) => entry(`f${i}`, events));
            const one = await factory.fresh();
            await one.commit(entries);
            const two = await factory.fresh();
            // another order, one file per commit, with replays
            const shuffled = [...entries].sort(
              (x, y) =>
                ((x.object.key.length * seed) % 7) - ((y.object.key.length * seed) % 7) ||
                (seed % 2 ? 1 : -1),
            );
            for (const e of [...shuffled, ...entries]) await two.commit([e]);
            expect(await snapshot(two, [A, B])).toEqual(await snapshot(one, [A, B]));
            await one.close();
            await two.close();
          },
        ),
        { numRuns: 15 },
      );
    });

    if (factory.reopen) {
      const reopen = factory.reopen;
      it('persists: a reopened store answers the same', async () => {
        const s = await factory.fresh();
        await s.commit([
          entry('f1', [
            { principal: A, action: 's3:GetObject', day: D0, resource: 'arn:aws:s3:::b/k' },
            { principal: B, action: 'kms:Decrypt', day: D0 + 1, denied: true },
          ]),
        ]);
        const before = await snapshot(s, [A, B]);
        const again = await reopen(s);
        expect(await snapshot(again, [A, B])).toEqual(before);
        expect(await again.isIngested({ key: 'f1', tag: '1' })).toBe(true);
        await again.commit([entry('f2', [{ principal: A, action: 's3:PutObject', day: D0 }])]);
        expect(await namesOf(again, (await again.windowActions(A, D0, D0)).used)).toEqual([
          's3:GetObject',
          's3:PutObject',
        ]);
        await again.close();
      });
    }
  });
}

/** Store.version, where a backend has it: moves with every commit touching the principal. */
export function versionContract(name: string, factory: StoreFactory): void {
  describe(`Store.version: ${name}`, () => {
    it('changes when a commit touches the principal, and only then', async () => {
      const s = await factory.fresh();
      if (!s.version) return void (await s.close());
      expect(await s.version(A)).toBeUndefined();
      await s.commit([entry('f1', [{ principal: A, action: 's3:GetObject', day: D0 }])]);
      const a1 = await s.version(A);
      expect(a1).toBeTypeOf('number');
      await s.commit([entry('f2', [{ principal: B, action: 's3:GetObject', day: D0 }])]);
      expect(await s.version(A)).toBe(a1);
      await s.commit([entry('f2', [{ principal: A, action: 's3:PutObject', day: D0 }])]); // replay: skipped
      expect(await s.version(A)).toBe(a1);
      await s.commit([entry('f3', [{ principal: A, action: 's3:PutObject', day: D0 }])]);
      expect(await s.version(A)).not.toBe(a1);
      await s.close();
    });
  });
}
