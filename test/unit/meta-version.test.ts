// metaVersionOf (src/state/kvstore.ts): a principal's version read off the msgpack bytes LMDB
// stores, against decoding them, for every encoding the tuple's members take.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { open, type RootDatabase } from 'lmdb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metaVersionOf } from '../../src/state/kvstore.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'trailmint-metav-'));
let root: RootDatabase;
beforeAll(() => {
  // The encoding the store's tables use (src/state/lmdb.ts): lmdb's msgpack.
  root = open({ path: tmp, encoding: 'msgpack' });
});
afterAll(async () => {
  await root.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** The bytes LMDB stores for `value`. */
function encoded(value: unknown): Buffer {
  root.putSync(1, value);
  return Buffer.from(root.getBinary(1)!);
}

const VERSIONS = [undefined, 0, 1, 127, 128, 255, 256, 65_535, 65_536, 2 ** 31, 2 ** 32 - 1];

describe('metaVersionOf', () => {
  it('reads v off any tuple the store writes, the same as decoding it (property)', () => {
    const tuple = fc.tuple(
      fc.string({ maxLength: 300 }), // arn: fixstr, str8, str16
      fc.oneof(
        fc.array(fc.nat({ max: 2 ** 21 }), { maxLength: 20 }),
        fc.array(fc.nat(), { minLength: 100, maxLength: 400 }),
      ),
      fc.oneof(
        fc.uint8Array({ maxLength: 300 }), // as the store keeps `used`; bin8, bin16
        fc.uint8Array({ maxLength: 300 }).map((u) => Buffer.from(u)), // as it reads it back
      ),
      fc.nat({ max: 2 ** 17 }),
      fc.nat({ max: 2 ** 17 }),
      fc.constantFrom(...VERSIONS),
    );
    let fast = 0;
    fc.assert(
      fc.property(tuple, (t) => {
        const bytes = encoded(t);
        const decoded = (root.get(1) as unknown[])[5];
        const v = metaVersionOf(bytes);
        if (v !== undefined) fast++;
        expect(v ?? decoded ?? 0).toBe(decoded ?? 0);
      }),
      { numRuns: 500 },
    );
    expect(fast).toBe(500); // every tuple of these members is read off its bytes
  });

  it('reads a list of 70,000 actions (array32) and long strings (str32)', () => {
    const t = [
      'a'.repeat(70_000),
      Array.from({ length: 70_000 }, (_, i) => i),
      Buffer.alloc(70_000),
      1,
      2,
      9,
    ];
    expect(metaVersionOf(encoded(t))).toBe(9);
  });

  it('leaves everything else to the decoder: objects, other shapes, cut bytes', () => {
    const good = encoded(['arn', [1, 2, 3], Buffer.from([1]), 20_000, 20_001, 300]);
    expect(metaVersionOf(good)).toBe(300);
    for (let n = 0; n < good.length; n++)
      expect(metaVersionOf(good.subarray(0, n))).toBeUndefined();
    expect(metaVersionOf(Buffer.concat([good, Buffer.from([0])]))).toBeUndefined();
    for (const other of [
      { arn: 'a', actions: [1], used: Buffer.from([1]), first: 1, last: 2, v: 3 }, // format 1
      ['arn', [1], Buffer.from([1]), 1, 2], // five members
      ['arn', [1], Buffer.from([1]), 1, 2, 3, 4], // seven
      ['arn', [{ x: 1 }], Buffer.from([1]), 1, 2, 3], // an object in the list
      ['arn', [1], Buffer.from([1]), 1, 2, 'v'], // a string version
      ['arn', [1], Buffer.from([1]), 1, 2, -1], // a negative one
    ])
      expect(metaVersionOf(encoded(other)), JSON.stringify(other)).toBeUndefined();
  });
});
