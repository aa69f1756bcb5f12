// S3Source and the backfill lister against the fauxqs S3 emulator, through the real AWS SDK.
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.ts';
import { listBackfill } from '../../src/sources/backfill.ts';
import type { SourceObject } from '../../src/sources/local.ts';
import { readErrorOf, S3Source } from '../../src/sources/s3.ts';
import { dayToIso, isoToDay } from '../../src/state/delta.ts';
import { startEmulator, type Emulator } from '../helpers/emulator.ts';

let emu: Emulator;
let source: S3Source;

const put = (key: string, body: string | Uint8Array) =>
  emu.s3.send(new PutObjectCommand({ Bucket: emu.bucket, Key: key, Body: body }));

beforeAll(async () => {
  emu = await startEmulator();
  source = new S3Source(emu.s3, { maxObjectBytes: 1000 });
});
afterAll(() => emu?.stop());

describe('S3Source', () => {
  it('reads an object into one exactly-sized buffer that owns its memory, tagged by ETag', async () => {
    const body = new Uint8Array(777).map((_, i) => i % 251);
    const etag = (await put('dir/a b+c.bin', body)).ETag!;
    const fetched = await source.fetch(emu.bucket, 'dir/a b+c.bin');
    expect(Buffer.from(fetched.bytes).equals(Buffer.from(body))).toBe(true);
    expect(fetched.bytes.byteOffset).toBe(0);
    expect(fetched.bytes.buffer.byteLength).toBe(777);
    expect(fetched.etag).toBe(etag.replace(/"/g, ''));
    expect(fetched.etag).not.toMatch(/"/);

    const object = source.object(emu.bucket, 'dir/a b+c.bin', fetched.etag, 777);
    expect(object.ref).toEqual({ key: 's3://trail-bucket/dir/a b+c.bin', tag: fetched.etag });
    expect(Buffer.from(await object.read()).equals(Buffer.from(body))).toBe(true);
  });

  it('refuses an object over maxObjectBytes as TOO_LARGE, by its announced size or its Content-Length', async () => {
    await put('big.bin', new Uint8Array(1001));
    const before = emu.requests.length;
    const announced = await source.fetch(emu.bucket, 'big.bin', 1001).catch(readErrorOf);
    expect(announced).toMatchObject({
      code: 'TOO_LARGE',
      message: expect.stringMatching(/1001 bytes.*maxObjectBytes=1000/),
    });
    expect(emu.requests.length).toBe(before); // refused without a request
    expect(await source.fetch(emu.bucket, 'big.bin').catch(readErrorOf)).toMatchObject({
      code: 'TOO_LARGE',
    });
    expect(await source.fetch(emu.bucket, 'big.bin', 10).catch(readErrorOf)).toMatchObject({
      code: 'TOO_LARGE',
    });
    await put('edge.bin', new Uint8Array(1000));
    expect((await source.fetch(emu.bucket, 'edge.bin')).bytes.length).toBe(1000);
  });

  it('reports a missing object as READ_FAILED (retry), naming the S3 error', async () => {
    const err = await source.fetch(emu.bucket, 'nope').then(
      () => undefined,
      (e: unknown) => readErrorOf(e),
    );
    expect(err).toMatchObject({ code: 'READ_FAILED', message: expect.stringMatching(/NoSuchKey/) });
  });

  it('validates maxObjectBytes', () => {
    expect(() => new S3Source(emu.s3, { maxObjectBytes: 0 })).toThrow(UsageError);
    expect(() => new S3Source(emu.s3, { maxObjectBytes: 1.5 })).toThrow(/maxObjectBytes/);
  });
});

describe('listBackfill', () => {
  const ROOT = 'trail/AWSLogs/';
  const accounts = [
    { path: '111111111111/', regions: ['us-east-1', 'eu-west-1'] },
    { path: 'o-abcdefghij/222222222222/', regions: ['us-east-1'] },
    { path: '333333333333/', regions: ['ap-southeast-2'] },
  ];
  const days = ['2024-02-27', '2024-02-28', '2024-02-29', '2024-03-01', '2024-03-02'];
  const logs: string[] = [];
  const dayOfKey = (key: string) => /\/(\d{4})\/(\d{2})\/(\d{2})\//.exec(key)!.slice(1).join('-');

  beforeAll(async () => {
    const keys: string[] = [];
    for (const a of accounts) {
      const account = a.path.split('/').at(-2)!;
      for (const region of a.regions) {
        for (const day of days) {
          const d = day.replaceAll('-', '/');
          for (const n of [1, 2]) {
            logs.push(
              `${ROOT}${a.path}CloudTrail/${region}/${d}/${account}_CloudTrail_${region}_${n}.json.gz`,
            );
          }
          keys.push(`${ROOT}${a.path}CloudTrail/${region}/${d}/notes.txt`); // a stray upload
          keys.push(
            `${ROOT}${a.path}CloudTrail-Digest/${region}/${d}/${account}_CloudTrail-Digest_${region}.json.gz`,
          );
          keys.push(
            `${ROOT}${a.path}CloudTrail-Insight/${region}/${d}/${account}_CloudTrail-Insight_${region}.json.gz`,
          );
        }
      }
    }
    // One day folder holding more than a page (1000 keys) of logs: pagination.
    for (let n = 0; n < 1005; n++) {
      logs.push(
        `${ROOT}333333333333/CloudTrail/ap-southeast-2/2024/02/29/333333333333_CloudTrail_ap-southeast-2_p${n}.json.gz`,
      );
    }
    keys.push(
      ...logs,
      'trail/other/thing.json.gz',
      'AWSLogs/444444444444/CloudTrail/us-east-1/2024/02/29/x.json.gz',
    );
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(keys.slice(i, i + 50).map((k) => put(k, k)));
    }
  });

  async function listed(url: string, from: string, to: string, skipped?: string[]) {
    const first = emu.requests.length;
    const objects: SourceObject[] = [];
    for await (const o of listBackfill(source, url, isoToDay(from)!, isoToDay(to)!, {
      listConcurrency: 4,
      onSkipped: (key, reason) => skipped?.push(`${reason}: ${key}`),
    })) {
      objects.push(o);
    }
    const prefixes = emu.requests
      .slice(first)
      .filter((r) => r.method === 'GET' && r.url.includes('list-type=2'))
      .map((r) => new URLSearchParams(r.url.split('?')[1]).get('prefix') ?? '');
    return {
      keys: objects.map((o) => o.ref.key.slice('s3://trail-bucket/'.length)).sort(),
      objects,
      prefixes,
    };
  }

  it('lists exactly the log files of the window, across accounts, org trails and regions', async () => {
    const skipped: string[] = [];
    const { keys, objects, prefixes } = await listed(
      's3://trail-bucket/trail',
      '2024-02-28',
      '2024-03-01',
      skipped,
    );
    const window = new Set(['2024-02-28', '2024-02-29', '2024-03-01']);
    const expected = logs.filter((k) => window.has(dayOfKey(k))).sort();
    expect(expected.length).toBe(2 * 4 * 3 + 1005);
    expect(keys).toEqual(expected);
    // The stray uploads of the window's day folders were passed over and reported.
    expect(skipped.sort()).toEqual(
      expected
        .filter((k) => !k.includes('_p'))
        .map((k) => k.replace(/[^/]+$/, 'notes.txt'))
        .filter((k, i, all) => all.indexOf(k) === i)
        .map((k) => `not a log file: ${k}`)
        .sort(),
    );
    // Each object is tagged with its ETag and sized from the listing, and reads back.
    const one = objects.find((o) =>
      o.ref.key.endsWith('111111111111_CloudTrail_eu-west-1_1.json.gz'),
    )!;
    expect(one.ref.tag).toMatch(/^[0-9a-f]{32}$/);
    expect(one.size).toBe(one.ref.key.length - 's3://trail-bucket/'.length);
    expect(Buffer.from(await one.read()).toString()).toBe(
      one.ref.key.slice('s3://trail-bucket/'.length),
    );

    // Only discovery prefixes and the window's day prefixes were listed.
    for (const p of prefixes) {
      const day = /(\d{4})\/(\d{2})\/(\d{2})\/$/.exec(p);
      if (day) expect(window.has(day.slice(1).join('-')), p).toBe(true);
      else expect(p, p).toMatch(/^trail\/AWSLogs\/(o-abcdefghij\/)?(\d{12}\/CloudTrail\/)?$/);
      expect(p).not.toMatch(/Digest|Insight/);
    }
    // 4 (account, region) pairs × 3 days, plus 2 pages for the big day.
    expect(prefixes.filter((p) => /\d{2}\/$/.test(p)).length).toBe(4 * 3 + 1);
  });

  it('starts from a prefix anywhere in the layout, even mid-name', async () => {
    const only = (pred: (k: string) => boolean, from: string, to: string) =>
      logs.filter((k) => pred(k) && dayOfKey(k) >= from && dayOfKey(k) <= to).sort();
    const r1 = await listed('s3://trail-bucket/trail/AWSLogs/1111', '2024-02-27', '2024-03-02');
    expect(r1.keys).toEqual(only((k) => k.includes('/111111111111/'), '2024-02-27', '2024-03-02'));
    const r2 = await listed(
      's3://trail-bucket/trail/AWSLogs/o-abcdefghij/',
      '2024-03-01',
      '2024-03-02',
    );
    expect(r2.keys).toEqual(only((k) => k.includes('/222222222222/'), '2024-03-01', '2024-03-02'));
    const r3 = await listed(
      's3://trail-bucket/trail/AWSLogs/111111111111/CloudTrail/eu-west-1/2024/03',
      '2024-02-01',
      '2024-03-31',
    );
    expect(r3.keys).toEqual(
      only((k) => k.includes('/eu-west-1/2024/03/'), '2024-03-01', '2024-03-31'),
    );
    // Whole days were listed directly: no discovery at all.
    expect(r3.prefixes.every((p) => /eu-west-1\/2024\/03\/\d{2}\/$/.test(p))).toBe(true);
    expect(r3.prefixes.length).toBe(31);
    const r4 = await listed('s3://trail-bucket/', '2024-02-29', '2024-02-29');
    expect(r4.keys).toEqual(['AWSLogs/444444444444/CloudTrail/us-east-1/2024/02/29/x.json.gz']);
  });

  it('refuses a URL outside the layout and a reversed window', async () => {
    const drain = async (url: string, from = '2024-02-28', to = '2024-02-28') => {
      for await (const _ of listBackfill(source, url, isoToDay(from)!, isoToDay(to)!));
    };
    await expect(
      drain('s3://trail-bucket/trail/AWSLogs/111111111111/CloudTrail-Digest/'),
    ).rejects.toThrow(/not inside the CloudTrail layout/);
    await expect(drain('http://trail-bucket/x')).rejects.toThrow(UsageError);
    await expect(drain('s3://trail-bucket/trail', '2024-03-01', '2024-02-28')).rejects.toThrow(
      /window/,
    );
    expect(dayToIso(isoToDay('2024-02-29')!)).toBe('2024-02-29');
  });

  it('stops listing when the consumer stops early', async () => {
    const first = emu.requests.length;
    let n = 0;
    const all = listBackfill(
      source,
      's3://trail-bucket/trail',
      isoToDay('2024-02-27')!,
      isoToDay('2024-03-02')!,
      {
        listConcurrency: 2,
      },
    );
    for await (const _ of all) if (++n === 3) break;
    const atBreak = emu.requests.length - first;
    await new Promise((r) => setTimeout(r, 200));
    // Nothing new starts; at most the listings already under way (2) reach the emulator.
    expect(emu.requests.length - first - atBreak).toBeLessThanOrEqual(2);
    expect(emu.requests.length - first).toBeLessThan(12);
  });
});
