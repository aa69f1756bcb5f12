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
});
