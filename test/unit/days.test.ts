// UTC day arithmetic (src/state/delta.ts): isoToDay parses by arithmetic; Date is the reference.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MS_PER_DAY, dayToIso, isoToDay } from '../../src/state/delta.ts';

/** What isoToDay did with Date: strict YYYY-MM-DD of a real calendar date. */
function reference(s: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return undefined;
  const ms = Date.parse(s + 'T00:00:00Z');
  if (Number.isNaN(ms)) return undefined;
  if (new Date(ms).toISOString().slice(0, 10) !== s) return undefined;
  return ms / MS_PER_DAY;
}

describe('isoToDay', () => {
  it('round-trips every day from 1600 to 2400 and the ends of 0000-9999', () => {
    const first = reference('1600-01-01')!;
    const last = reference('2400-12-31')!;
    let bad = 0;
    for (let day = first; day <= last; day++) if (isoToDay(dayToIso(day)) !== day) bad++;
    expect(bad).toBe(0);
    for (const s of ['0000-01-01', '0000-02-29', '0001-03-01', '9999-12-31', '1970-01-01'])
      expect(isoToDay(s)).toBe(reference(s));
    expect(isoToDay('1970-01-01')).toBe(0);
  });

  it('leap years: every fourth, not centuries, except every fourth century', () => {
    expect(isoToDay('2024-02-29')).toBe(reference('2024-02-29'));
    expect(isoToDay('2000-02-29')).toBe(reference('2000-02-29'));
    expect(isoToDay('2023-02-29')).toBeUndefined();
    expect(isoToDay('1900-02-29')).toBeUndefined();
    expect(isoToDay('2100-02-29')).toBeUndefined();
  });

  it('refuses what is not a date of that shape', () => {
    for (const s of [
      '',
      '2024-1-01',
      '2024-01-1',
      '2024/01/01',
      '2024-01-01T00:00:00Z',
      ' 2024-01-01',
      '2024-00-10',
      '2024-13-01',
      '2024-04-31',
      '2024-01-00',
      '2024-01-32',
      '２０２４-01-01',
      '+202-01-01',
      '2024-0a-01',
      '-024-01-01',
    ])
      expect(isoToDay(s), s).toBeUndefined();
  });

  it('agrees with the Date reference on any string of digits and dashes (property)', () => {
    const shaped = fc
      .tuple(
        fc.integer({ min: 0, max: 9999 }),
        fc.integer({ min: 0, max: 99 }),
        fc.integer({ min: 0, max: 99 }),
      )
      .map(
        ([y, m, d]) =>
          `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`,
      );
    const noise = fc.string({ unit: fc.constantFrom(...'0123456789-+:T /a'), maxLength: 12 });
    fc.assert(
      fc.property(fc.oneof(shaped, noise), (s) => {
        expect(isoToDay(s)).toBe(reference(s));
      }),
      { numRuns: 20_000 },
    );
  });
});
