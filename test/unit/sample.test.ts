import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { covers, mergeSample } from '../../src/state/sample.ts';

const arn = fc
  .tuple(
    fc.constantFrom('logs', 'data', 'tmp'),
    fc.constantFrom('a', 'b', 'c'),
    fc.stringMatching(/^[a-z0-9]{1,6}$/),
  )
  .map(([bucket, dir, key]) => `arn:aws:s3:::${bucket}/${dir}/${key}`);

// The straightforward algorithm the incremental fold must equal: every step recomputes every
// adjacent common prefix and folds the first longest pair.
function referenceFold(sorted: string[], max: number): string[] {
  const prefixLen = (a: string, b: string): number => {
    let i = 0;
    while (i < Math.min(a.length, b.length) && a[i] === b[i]) i++;
    if (i > 0 && (a[i - 1] === '*' || b[i - 1] === '*')) i--;
    return i;
  };
  const list = [...sorted];
  while (list.length > max) {
    let best = 0;
    let bestLen = -1;
    for (let i = 0; i + 1 < list.length; i++) {
      const n = prefixLen(list[i], list[i + 1]);
      if (n > bestLen) [best, bestLen] = [i, n];
    }
    if (bestLen <= 0) return ['*'];
    const prefix = list[best].slice(0, bestLen);
    let lo = best;
    let hi = best + 1;
    while (lo > 0 && list[lo - 1].startsWith(prefix)) lo--;
    while (hi + 1 < list.length && list[hi + 1].startsWith(prefix)) hi++;
    list.splice(lo, hi - lo + 1, prefix + '*');
  }
  return list;
}

describe('resource samples', () => {
  it('keeps distinct ARNs, sorted, while under the bound', () => {
    expect(mergeSample(['arn:aws:s3:::b/2', 'arn:aws:s3:::b/1'], ['arn:aws:s3:::b/1'], 4)).toEqual([
      'arn:aws:s3:::b/1',
      'arn:aws:s3:::b/2',
    ]);
  });

  it('generalizes the closest ARNs to their common prefix when over the bound', () => {
    const objects = ['a.gz', 'b.gz', 'c.gz'].map((k) => `arn:aws:s3:::bucket/logs/${k}`);
    expect(mergeSample(objects, ['arn:aws:s3:::other/x'], 2)).toEqual([
      'arn:aws:s3:::bucket/logs/*',
      'arn:aws:s3:::other/x',
    ]);
  });

  it('of two patterns that cover each other (a literal `*` in an ARN), one stays', () => {
    expect(mergeSample(['arn:x/ab*', 'arn:x/ab**', 'arn:x/zz'], [], 16)).toEqual([
      'arn:x/ab*',
      'arn:x/zz',
    ]);
    // as IAM reads a Resource: every `*` matches any run of characters
    const grants = (pattern: string, arn: string): boolean =>
      new RegExp(
        '^' +
          pattern
            .split('*')
            .map((x) => x.replace(/[.+?^$()|[\]\\{}/]/g, '\\$&'))
            .join('.*') +
          '$',
      ).test(arn);
    for (const [a, b] of [
      [['arn:x/ab**'], ['arn:x/ab*']],
      [['arn:x/ab*'], ['arn:x/ab**']],
      [['arn:x/ab*', 'arn:x/ab**'], []],
    ])
      for (const arn of ['arn:x/ab', 'arn:x/ab*', 'arn:x/ab**', 'arn:x/abc'])
        expect(mergeSample(a, b, 16).some((p) => grants(p, arn))).toBe(true);
  });

  it('a pattern absorbs what it covers; `*` absorbs everything', () => {
    expect(
      mergeSample(['arn:aws:s3:::b/x/*'], ['arn:aws:s3:::b/x/1', 'arn:aws:s3:::b/y'], 5),
    ).toEqual(['arn:aws:s3:::b/x/*', 'arn:aws:s3:::b/y']);
    expect(mergeSample(['*'], ['arn:aws:s3:::b/1'], 5)).toEqual(['*']);
  });

  it('always covers every input, within the bound, independent of order (property)', () => {
    fc.assert(
      fc.property(
        fc.array(arn, { maxLength: 60 }),
        fc.array(arn, { maxLength: 60 }),
        fc.integer({ min: 1, max: 8 }),
        (a, b, max) => {
          const out = mergeSample(a, b, max);
          expect(out.length).toBeLessThanOrEqual(max);
          for (const x of [...a, ...b])
            expect(
              out.some((p) => covers(p, x)),
              x,
            ).toBe(true);
          expect(mergeSample(b, a, max)).toEqual(out);
          expect(mergeSample(out, out, max)).toEqual(out);
          // folding in more only widens: everything the old sample covered stays covered
          const more = mergeSample(out, b, max);
          for (const x of out)
            expect(
              more.some((p) => covers(p, x.replace(/\*$/, 'zz'))),
              x,
            ).toBe(true);
        },
      ),
    );
  });
  it('folds exactly as the fold-one-pair-at-a-time reference (differential property)', () => {
    const anyArn = fc.oneof(
      arn,
      fc.stringMatching(/^arn:aws:[a-z]{1,3}:[a-z0-9/:]{0,12}$/),
      fc.constantFrom(
        'arn:aws:s3:::logs/*',
        'arn:aws:s3:::logs/**',
        'arn:aws:s3:::logs/a/*',
        'b',
        'ba',
        'bab',
      ),
    );
    const reference = (a: string[], b: string[], max: number): string[] => {
      // a normalized sample that already covers b is the union (and kept as it is)
      const normalized = a.every(
        (x, i) => (i === 0 || a[i - 1] < x) && !a.some((p) => p !== x && covers(p, x)),
      );
      if (a.length <= max && normalized && b.every((x) => a.some((p) => covers(p, x))))
        return [...a];
      const sorted = [...new Set([...a, ...b])].sort();
      if (sorted.includes('*')) return ['*'];
      const dropped = new Set<string>();
      for (const p of sorted)
        if (p.endsWith('*') && !dropped.has(p))
          for (const s of sorted) if (s !== p && covers(p, s)) dropped.add(s);
      return referenceFold(
        sorted.filter((s) => !dropped.has(s)),
        max,
      );
    };
    fc.assert(
      fc.property(
        fc.array(anyArn, { maxLength: 60 }),
        fc.array(anyArn, { maxLength: 60 }),
        fc.integer({ min: 1, max: 20 }),
        fc.boolean(),
        (a, b, max, stored) => {
          // `stored`: a is a sample mergeSample made, as the stores pass it (trusted)
          const first = stored ? mergeSample(a, [], max) : a;
          expect(mergeSample(first, b, max, stored)).toEqual(reference(first, b, max));
        },
      ),
      { numRuns: 500 },
    );
  });
});
