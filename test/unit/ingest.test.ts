// ingestObjects: a delta the store refuses fails that file alone; a store that is down fails the run.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { loadCatalog } from '../../src/catalog/catalog.ts';
import { policyFor } from '../../src/policy/query.ts';
import { dayOf } from '../../src/state/delta.ts';
import { parseLogFile } from '../../workers/parse.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestObjects } from '../../src/ingest.ts';
import { ParserPool } from '../../src/pool.ts';
import { listLocal } from '../../src/sources/local.ts';
import { openStore } from '../../src/state/open.ts';
import type { Store } from '../../src/state/store.ts';
import { DEFAULT_PARSE_OPTIONS } from '../../workers/parse.ts';
import parseTask from '../../workers/task.ts';
import { withCommit } from '../helpers/store.ts';

const SAMPLES = path.resolve(
  import.meta.dirname,
  '../../samples/cloudtrail/stratus-red-team-detonation-logs',
);
let pool: ParserPool;
beforeAll(() => {
  pool = new ParserPool({ threads: 1 }, DEFAULT_PARSE_OPTIONS);
});
afterAll(() => pool.close());

const refusing = (store: Store, refuse: (key: string) => Error | undefined): Store =>
  withCommit(store, async (entries) => {
    for (const e of entries) {
      const err = refuse(e.object.key);
      if (err) throw err;
    }
    return store.commit(entries);
  });

describe('ingestObjects', () => {
  it('a delta the store refuses fails that file alone; the rest of its batch is committed', async () => {
    const { objects } = await listLocal([SAMPLES]);
    const bad = objects[3].ref.key;
    const store = await openStore('memory:');
    const summary = await ingestObjects(
      objects,
      refusing(store, (k) => (k === bad ? new Error('key too long') : undefined)),
      pool,
      { inFlightObjects: 2, commitBatchFiles: 8 },
    );
    expect(summary.files.failed).toBe(1);
    expect(summary.errors).toEqual([
      {
        file: objects[3].name,
        code: 'COMMIT_FAILED',
        message: expect.stringMatching(/key too long/),
      },
    ]);
    expect(summary.files.ingested).toBe(objects.length - 1 - summary.skippedFiles.length);
    const skipped = new Set(summary.skippedFiles.map((f) => f.file)); // SOURCE.json: not a log
    for (const o of objects) {
      expect(await store.isIngested(o.ref)).toBe(o.ref.key !== bad && !skipped.has(o.name));
    }
  });

  it('a store that is down fails the run', async () => {
    const { objects } = await listLocal([SAMPLES]);
    const store = await openStore('memory:');
    const down = Object.assign(new Error('redis down'), { code: 'STORE_UNAVAILABLE' });
    await expect(
      ingestObjects(
        objects,
        refusing(store, () => down),
        pool,
        { inFlightObjects: 2, commitBatchFiles: 8 },
      ),
    ).rejects.toThrow('redis down');
  });
});

describe('ParserPool', () => {
  it('more tasks at once than the pool holds wait for room instead of failing', async () => {
    const { objects } = await listLocal([SAMPLES]);
    const logs = objects.filter((o) => o.name.endsWith('.json.gz'));
    const bytes = await Promise.all(logs.map((o) => o.read()));
    // one thread holds 5 tasks (running + piscina's queue); submit 40 at once
    const copies = Array.from({ length: 40 }, (_, i) => new Uint8Array(bytes[i % bytes.length]));
    const results = await Promise.all(copies.map((b) => pool.parse(b)));
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(results).toHaveLength(40);
  });

  it('an ingest with more objects in flight than the pool holds loses none', async () => {
    const { objects } = await listLocal([SAMPLES]);
    const store = await openStore('memory:');
    const summary = await ingestObjects(objects, store, pool, {
      inFlightObjects: 64,
      commitBatchFiles: 4,
    });
    expect(summary.errors).toEqual([]);
    expect(summary.files.ingested).toBe(objects.length - summary.skippedFiles.length);
  });
});

describe('iam:PassRole through an EC2 instance profile', () => {
  const account = '111122223333';
  const launcher = `arn:aws:iam::${account}:role/ci`;
  const admin = `arn:aws:iam::${account}:role/admin`;
  const time = '2026-03-10T12:00:00Z';
  const record = (arn: string, source: string, name: string, rp: unknown, id: string) => ({
    eventVersion: '1.08',
    userIdentity: {
      type: 'AssumedRole',
      arn: arn.replace(':role/', ':assumed-role/').replace('iam::', 'sts::') + '/s',
      accountId: account,
      sessionContext: { sessionIssuer: { type: 'Role', arn, accountId: account } },
    },
    eventTime: time,
    eventSource: source,
    eventName: name,
    awsRegion: 'us-east-1',
    requestParameters: rp,
    eventID: id,
    eventType: 'AwsApiCall',
    recipientAccountId: account,
  });
  const run = record(
    launcher,
    'ec2.amazonaws.com',
    'RunInstances',
    { iamInstanceProfile: { name: 'web' }, instancesSet: { items: [{ imageId: 'ami-1' }] } },
    'e1',
  );
  const add = record(
    admin,
    'iam.amazonaws.com',
    'AddRoleToInstanceProfile',
    { instanceProfileName: 'web', roleName: 'web-role' },
    'e2',
  );
  const gz = (records: unknown[]) => gzipSync(JSON.stringify({ Records: records }));

  it('both parser paths record the profile passed and the role added to it', async () => {
    const catalog = loadCatalog();
    for (const scanner of [false, true]) {
      const r = await parseLogFile(gz([run, add]), catalog, { ...DEFAULT_PARSE_OPTIONS, scanner });
      if (!r.ok) throw new Error(r.error.message);
      expect(r.delta.passRoles.map((p) => [r.delta.principals[p.p], p.role, p.service])).toEqual([
        [launcher, `arn:aws:iam::${account}:instance-profile/web`, 'ec2.amazonaws.com'],
      ]);
      expect(r.delta.profileRoles).toEqual([
        {
          profile: `arn:aws:iam::${account}:instance-profile/web`,
          role: `arn:aws:iam::${account}:role/web-role`,
        },
      ]);
    }
  });

  it('the launcher gets PassRole on the role inside the profile, learned from another principal in another file', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'trailmint-profile-'));
    mkdirSync(path.join(dir, 'a'));
    writeFileSync(path.join(dir, 'a', '1.json.gz'), gz([run]));
    writeFileSync(path.join(dir, 'a', '2.json.gz'), gz([add]));
    const store = await openStore('memory:');
    const { objects } = await listLocal([dir]);
    await ingestObjects(objects, store, pool, { inFlightObjects: 2, commitBatchFiles: 1 });
    const day = dayOf(Date.parse(time));
    const policy = await policyFor(
      store,
      loadCatalog(),
      launcher,
      { fromDay: day, toDay: day },
      { placeholders: false },
    );
    const statements = policy!.policies.flatMap((d) => d.Statement);
    expect(statements.filter((s) => s.Action === 'iam:PassRole')).toEqual([
      {
        Sid: 'InferredPassRole1',
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Resource: `arn:aws:iam::${account}:role/web-role`,
        Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
      },
    ]);
    expect(policy!.inferred).toEqual(['iam:PassRole']);
  });
});

describe('the parser task (workers/task.ts)', () => {
  it('runs the tasks piscina hands a worker at once one after the other, never interleaved', async () => {
    const record = (i: number) => ({
      eventVersion: '1.08',
      eventID: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      eventType: 'AwsApiCall',
      eventTime: '2026-06-01T00:00:00Z',
      eventSource: 's3.amazonaws.com',
      eventName: 'GetObject',
      awsRegion: 'us-east-1',
      userIdentity: {
        type: 'IAMUser',
        arn: 'arn:aws:iam::123456789012:user/u',
        accountId: '123456789012',
      },
      requestParameters: { bucketName: 'b', key: `k${i}` },
    });
    const file = (n: number) =>
      gzipSync(JSON.stringify({ Records: Array.from({ length: n }, (_, i) => record(i)) }));
    // Streamed (over the whole-file bound): it awaits its inflate chunks, so a task started
    // beside it would finish first if the two interleaved.
    const opts = { ...DEFAULT_PARSE_OPTIONS, wholeFileMaxBytes: 4096 };
    const done: string[] = [];
    const big = parseTask({ bytes: file(5000), opts }).then((r) => (done.push('big'), r));
    const small = parseTask({ bytes: file(1), opts }).then((r) => (done.push('small'), r));
    const [a, b] = await Promise.all([big, small]);
    expect(done).toEqual(['big', 'small']);
    expect(a.ok && a.delta.stats.records).toBe(5000);
    expect(b.ok && b.delta.stats.records).toBe(1);
  });
});
