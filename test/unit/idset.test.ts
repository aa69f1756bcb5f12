import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bitmapIds,
  decodeIds,
  encodeIds,
  orInto,
  unionEncoded,
  unionSorted,
} from '../../src/state/idset.ts';
import { packDay, unpackDay } from '../../src/state/kvstore.ts';

const sortedSet = (max: number) =>
  fc
    .uniqueArray(fc.integer({ min: 0, max }), { maxLength: 200 })
    .map((a) => a.sort((x, y) => x - y));

describe('id sets', () => {
  it('round-trips any sorted set, sparse or dense (property)', () => {
    fc.assert(
      fc.property(fc.oneof(sortedSet(100), sortedSet(100_000)), (ids) => {
        expect(decodeIds(encodeIds(ids))).toEqual(ids);
      }),
    );
  });

  it('picks the smaller encoding', () => {
    const dense = Array.from({ length: 50 }, (_, i) => i); // 50 of the first 50 ids
    expect(encodeIds(dense).length).toBe(1 + 7); // tag + 50 bits
    expect(encodeIds([3, 40_000]).length).toBeLessThanOrEqual(5); // tag + two varints
    expect(encodeIds([]).length).toBe(0);
  });

  it('union is commutative, associative, idempotent and equals the set union (property)', () => {
    fc.assert(
      fc.property(sortedSet(300), sortedSet(300), sortedSet(300), (a, b, c) => {
        const [ea, eb, ec] = [encodeIds(a), encodeIds(b), encodeIds(c)];
        const ab = decodeIds(unionEncoded(ea, eb));
        expect(ab).toEqual([...new Set([...a, ...b])].sort((x, y) => x - y));
        expect(decodeIds(unionEncoded(eb, ea))).toEqual(ab);
        expect(decodeIds(unionEncoded(unionEncoded(ea, eb), ec))).toEqual(
          decodeIds(unionEncoded(ea, unionEncoded(eb, ec))),
        );
        expect(decodeIds(unionEncoded(ea, ea))).toEqual(a);
        expect(unionSorted(a, b)).toEqual(ab);
      }),
    );
  });

  it('ORs encoded sets into a growing bitmap (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(sortedSet(70), sortedSet(5000)), { maxLength: 6 }), (sets) => {
        let bitmap: Uint32Array = new Uint32Array(1);
        for (const s of sets) bitmap = orInto(bitmap, encodeIds(s));
        expect(bitmapIds(bitmap)).toEqual([...new Set(sets.flat())].sort((x, y) => x - y));
      }),
    );
  });

  it('refuses a corrupt encoding instead of inventing ids', () => {
    expect(() => decodeIds(Uint8Array.of(9, 1))).toThrow(RangeError);
    expect(() => decodeIds(Uint8Array.of(1, 0x80))).toThrow(RangeError);
  });

  it('packs a day with and without denied ids', () => {
    fc.assert(
      fc.property(sortedSet(400), sortedSet(400), (used, denied) => {
        const packed = packDay(encodeIds(used), encodeIds(denied));
        const [u, d] = unpackDay(packed);
        expect(decodeIds(u)).toEqual(used);
        expect(decodeIds(d)).toEqual(denied);
        if (denied.length === 0) expect(packed).toEqual(encodeIds(used));
      }),
    );
  });
});
