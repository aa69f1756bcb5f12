// listLocal (src/sources/local.ts): the same tree always lists the same way, however the
// concurrent stats of its walk complete.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listLocal } from '../../src/sources/local.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'trailmint-list-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const logs: string[] = [];
const others: string[] = [];
for (let d = 0; d < 6; d++) {
  const day = path.join(root, 'AWSLogs', '123456789012', 'CloudTrail', 'eu-west-1', `0${d + 1}`);
  mkdirSync(day, { recursive: true });
  for (let f = 0; f < 40; f++) {
    const name = path.join(
      day,
      `123456789012_CloudTrail_eu-west-1_${d}${String(f).padStart(2, '0')}.json.gz`,
    );
    writeFileSync(name, 'x'.repeat(f));
    logs.push(name);
  }
  const readme = path.join(day, `notes-${d}.txt`);
  writeFileSync(readme, 'n');
  others.push(readme);
}
const digestDir = path.join(root, 'AWSLogs', '123456789012', 'CloudTrail-Digest', 'eu-west-1');
mkdirSync(digestDir, { recursive: true });
const digest = path.join(digestDir, '123456789012_CloudTrail-Digest_eu-west-1_x.json.gz');
writeFileSync(digest, 'd');

describe('listLocal', () => {
  it('lists every log file once, sorted, with its size in the tag, and the rest as skipped, sorted', async () => {
    const a = await listLocal([root]);
    expect(a.objects.map((o) => o.name)).toEqual([...logs].sort());
    expect(a.objects.map((o) => o.size)).toEqual(
      [...logs].sort().map((l) => Number(l.slice(-10, -8))),
    );
    expect(a.skipped.map((s) => s.name)).toEqual([...others, digest].sort());
    expect(new Set(a.skipped.map((s) => s.reason))).toEqual(new Set(['not a log file', 'digest']));
  });

  it('gives the same listing every time', async () => {
    const first = await listLocal([root]);
    for (let i = 0; i < 5; i++) {
      const again = await listLocal([root]);
      expect(again.objects.map((o) => o.ref)).toEqual(first.objects.map((o) => o.ref));
      expect(again.skipped).toEqual(first.skipped);
    }
  });
});
