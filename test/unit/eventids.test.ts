// EventIdSet (workers/eventids.ts): the same answers as a Set of the id strings, in less memory.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventIdSet } from '../../workers/eventids.ts';

/** add() as a Set of strings answers it: true when the id is new. */
function reference(): (id: string) => boolean {
  const seen = new Set<string>();
  return (id) => {
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  };
}

const hex = (n: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: n, maxLength: n });
const uuid = fc.tuple(hex(8), hex(4), hex(4), hex(4), hex(12)).map((parts) => parts.join('-'));

/** Ids a table could confuse: UUIDs and their near misses (case, dashes, length, other digits). */
const id = fc.oneof(
  { weight: 6, arbitrary: uuid },
  { weight: 1, arbitrary: uuid.map((u) => u.toUpperCase()) },
  { weight: 1, arbitrary: uuid.map((u) => u.replace('-', '')) },
  { weight: 1, arbitrary: uuid.map((u) => `${u.slice(0, 8)}${u.slice(9, 10)}-${u.slice(10)}`) },
  { weight: 1, arbitrary: uuid.map((u) => `${u.slice(0, 35)}g`) },
  { weight: 1, arbitrary: uuid.map((u) => `${u}0`) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
);

describe('EventIdSet', () => {
  it('answers as a Set of the strings on any sequence with repeats (property)', () => {
    fc.assert(
      fc.property(
        fc.array(id, { maxLength: 300 }),
        fc.array(fc.nat(), { maxLength: 600 }),
        (pool, picks) => {
          const set = new EventIdSet();
          const ref = reference();
          const ids = pool.length ? picks.map((p) => pool[p % pool.length]) : [];
          for (const s of [...pool, ...ids]) expect(set.add(s), s).toBe(ref(s));
          expect(set.size).toBe(new Set(pool).size);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps every id across growth: 100,000 UUIDs, each added twice', () => {
    const set = new EventIdSet();
    const ids = Array.from({ length: 100_000 }, () => randomUUID());
    let fresh = 0;
    for (const s of ids) if (set.add(s)) fresh++;
    let again = 0;
    for (const s of ids) if (set.add(s)) again++;
    expect(fresh).toBe(100_000);
    expect(again).toBe(0);
    expect(set.size).toBe(100_000);
    // 16 bytes a slot, at most 1/0.7 slots per id rounded up to a power of two
    expect(set.tableBytes).toBeLessThanOrEqual(262_144 * 16);
  });

  it('reserve() sizes the empty table once, up to 8 MB, and changes no answer', () => {
    const set = new EventIdSet();
    set.reserve(300_000);
    expect(set.tableBytes).toBe(524_288 * 16); // 300,000 / 0.7 slots, rounded up to a power of two
    const ids = Array.from({ length: 300_000 }, () => randomUUID());
    for (const s of ids) expect(set.add(s)).toBe(true);
    expect(set.tableBytes).toBe(524_288 * 16); // no growth on the way
    for (const s of ids.slice(0, 1000)) expect(set.add(s)).toBe(false);
    set.reserve(10_000_000); // not empty: no effect
    expect(set.tableBytes).toBe(524_288 * 16);
    const huge = new EventIdSet();
    huge.reserve(1e9);
    expect(huge.tableBytes).toBe(8 * 1024 * 1024);
  });

  it('tells ids apart that differ in one bit of any word, and by case', () => {
    const base = '0123abcd-4567-89ab-cdef-0123456789ab';
    const set = new EventIdSet();
    expect(set.add(base)).toBe(true);
    const digits = [...base].map((c, i) => (c === '-' ? -1 : i)).filter((i) => i >= 0);
    for (const i of digits) {
      const flipped = (parseInt(base[i], 16) ^ 1).toString(16);
      const other = base.slice(0, i) + flipped + base.slice(i + 1);
      expect(set.add(other), other).toBe(true);
    }
    expect(set.add(base.toUpperCase())).toBe(true);
    expect(set.add(base)).toBe(false);
    // the nil UUID's words are those of a free slot
    const nil = '00000000-0000-0000-0000-000000000000';
    expect(set.add(nil)).toBe(true);
    expect(set.add(nil)).toBe(false);
    expect(set.size).toBe(digits.length + 3);
  });
});
