// Unused permissions: the pure computation against the real action catalog (wildcards, `*`,
// NotAction, Deny, case, unknown names, idle principals, the suggested policy), the policy parser's
// messages, and POST /v1/unused through buildApp + inject over a memory store.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.ts';
import { loadCatalog } from '../../src/catalog/catalog.ts';
import { buildApp, BODY_LIMIT_BYTES } from '../../src/http/app.ts';
import { HTTP_ERRORS } from '../../src/http/errors.ts';
import { materialize } from '../../src/policy/materialize.ts';
import { policyFor } from '../../src/policy/query.ts';
import type { PolicyDocument } from '../../src/policy/types.ts';
import {
  parsePolicies,
  unusedPermissions,
  type UnusedInput,
  type UnusedResult,
} from '../../src/policy/unused.ts';
import { isoToDay } from '../../src/state/delta.ts';
import { openStore } from '../../src/state/open.ts';
import type { Store } from '../../src/state/store.ts';
import { Telemetry } from '../../src/telemetry.ts';
import { deltaOf } from '../helpers/activity.ts';
import { actionsOf, matches } from '../helpers/iam.ts';

const catalog = loadCatalog();
const ALL = catalog.actions();
const ACCOUNT = '111122223333';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/app`;

const doc = (...Statement: object[]) => ({ Version: '2012-10-17', Statement });
const allow = (Action: string | string[], extra: object = {}) => ({
  Effect: 'Allow',
  Action,
  Resource: '*',
  ...extra,
});

/** The catalog actions a glob names, by the independent test matcher. */
const expand = (...patterns: string[]) =>
  ALL.filter((a) => patterns.some((p) => matches(p, a, true)));

function report(
  docs: object[],
  used: string[],
  generated: PolicyDocument[] = [],
  over: Partial<UnusedInput> = {},
): UnusedResult {
  return unusedPermissions(
    {
      principal: ROLE,
      from: '2024-03-01',
      to: '2024-03-10',
      used,
      statements: parsePolicies(docs, (i) => `policies[${i}]`),
      generated,
      ...over,
    },
    catalog,
  );
}

describe('unusedPermissions: expansion', () => {
  it('expands wildcards against the catalog and splits used / unused / not granted', () => {
    const r = report(
      [doc(allow(['s3:Get*', 'ec2:Describe*']))],
      ['s3:GetObject', 'ec2:DescribeInstances', 'sts:GetCallerIdentity'],
    );
    const granted = expand('s3:Get*', 'ec2:Describe*');
    expect(granted.length).toBeGreaterThan(200);
    expect(r.granted).toBe(granted.length);
    expect(r.used).toEqual(['ec2:DescribeInstances', 's3:GetObject']);
    expect(r.unused).toEqual(granted.filter((a) => !r.used.includes(a)));
    expect(r.notGranted).toEqual(['sts:GetCallerIdentity']);
    expect(r.reductionPercent).toBe(
      Math.round(((granted.length - 2) / granted.length) * 1000) / 10,
    );
    expect(r.unmatched).toEqual([]);
    expect(Object.keys(r)).toEqual([
      'principal',
      'from',
      'to',
      'granted',
      'used',
      'unused',
      'reductionPercent',
      'notGranted',
      'unmatched',
      'suggested',
    ]);
  });

  it('`*` is every catalog action, fast enough for a request', () => {
    const started = performance.now();
    const r = report([doc(allow('*'))], ['s3:GetObject']);
    const ms = performance.now() - started;
    expect(r.granted).toBe(ALL.length);
    expect(r.unused.length).toBe(ALL.length - 1);
    expect(r.reductionPercent).toBe(100); // 22,090 of 22,091, rounded to one decimal
    expect(ms).toBeLessThan(500);
  });

  it('`?` matches one character; a wildcard in the service prefix scans every service', () => {
    expect(report([doc(allow('s3:GetObjec?'))], []).granted).toBe(expand('s3:GetObjec?').length);
    const star = report([doc(allow('*:GetCallerIdentity'))], []);
    expect(star.unused).toEqual(expand('*:GetCallerIdentity'));
    expect(star.unused).toContain('sts:GetCallerIdentity');
  });

  it('NotAction grants every other action', () => {
    const r = report(
      [doc({ Effect: 'Allow', NotAction: ['iam:*', 'organizations:*'], Resource: '*' })],
      ['iam:PassRole', 's3:GetObject'],
    );
    expect(r.granted).toBe(ALL.length - expand('iam:*', 'organizations:*').length);
    expect(r.used).toEqual(['s3:GetObject']);
    expect(r.notGranted).toEqual(['iam:PassRole']);
    expect(r.unused).not.toContain('iam:GetRole');
    expect(r.unused).toContain('ec2:RunInstances');
  });

  it('an unconditional Deny on * subtracts; a scoped or conditional Deny does not', () => {
    const base = allow('s3:*');
    const unconditional = report(
      [doc(base, { Effect: 'Deny', Action: 's3:Delete*', Resource: '*' })],
      ['s3:DeleteObject'],
    );
    expect(unconditional.granted).toBe(expand('s3:*').length - expand('s3:Delete*').length);
    expect(unconditional.notGranted).toEqual(['s3:DeleteObject']);
    expect(unconditional.unused.some((a) => a.startsWith('s3:Delete'))).toBe(false);

    const scoped = report(
      [
        doc(
          base,
          { Effect: 'Deny', Action: 's3:Delete*', Resource: 'arn:aws:s3:::audit/*' },
          {
            Effect: 'Deny',
            Action: 's3:*',
            Resource: '*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          },
        ),
      ],
      ['s3:DeleteObject'],
    );
    expect(scoped.granted).toBe(expand('s3:*').length);
    expect(scoped.used).toEqual(['s3:DeleteObject']);
  });

  it('a Deny with NotAction subtracts everything else', () => {
    const r = report(
      [doc(allow(['s3:*', 'ec2:*']), { Effect: 'Deny', NotAction: 'ec2:*', Resource: '*' })],
      [],
    );
    expect(r.granted).toBe(expand('ec2:*').length);
  });

  it('several documents add up; statements may be a single object', () => {
    const r = report(
      [
        { Version: '2012-10-17', Statement: allow('sts:GetCallerIdentity') },
        doc(allow('s3:ListAllMyBuckets')),
      ],
      ['sts:GetCallerIdentity'],
    );
    expect(r).toMatchObject({
      granted: 2,
      used: ['sts:GetCallerIdentity'],
      unused: ['s3:ListAllMyBuckets'],
      reductionPercent: 50,
    });
  });

  it('action names match case-insensitively and are reported as the catalog spells them', () => {
    const r = report([doc(allow(['S3:getobject', 'IAM:PASS*']))], ['s3:GetObject', 'iam:passrole']);
    expect(r.used).toEqual(['iam:PassRole', 's3:GetObject']);
    expect(r.unused).toEqual([]);
    expect(r.granted).toBe(2);
  });

  it('names the catalog lacks: exact names count as granted and are flagged as unmatched', () => {
    const r = report(
      [doc(allow(['s3:GetObjekt', 'ec2:Nothing*', 'sts:GetCallerIdentity']))],
      ['sts:GetCallerIdentity'],
    );
    expect(r.unmatched).toEqual(['ec2:Nothing*', 's3:GetObjekt']);
    expect(r.unused).toEqual(['s3:GetObjekt']);
    expect(r.granted).toBe(2);
    // a used name outside the catalog is granted when some pattern matches it
    const wide = report([doc(allow('newsvc:*'))], ['newsvc:DoThing', 'othersvc:DoThing']);
    expect(wide.used).toEqual(['newsvc:DoThing']);
    expect(wide.notGranted).toEqual(['othersvc:DoThing']);
  });

  it('a principal with no activity: everything granted is unused, nothing suggested', () => {
    const r = report([doc(allow(['s3:GetObject', 's3:PutObject']))], []);
    expect(r).toMatchObject({
      granted: 2,
      used: [],
      unused: ['s3:GetObject', 's3:PutObject'],
      reductionPercent: 100,
      notGranted: [],
      suggested: [],
    });
    expect(report([], []).reductionPercent).toBe(0);
  });
});

describe('unusedPermissions: suggested policy', () => {
  const generated = materialize(
    {
      principal: ROLE,
      from: '2024-03-01',
      to: '2024-03-10',
      used: ['s3:GetObject', 's3:PutObject', 'sts:GetCallerIdentity', 'ec2:DescribeInstances'],
      denied: [],
      resources: new Map([
        ['s3:GetObject', ['arn:aws:s3:::data/a.csv']],
        ['s3:PutObject', ['arn:aws:s3:::data/a.csv']],
      ]),
      passRoles: [{ role: `arn:aws:iam::${ACCOUNT}:role/exec`, service: 'lambda.amazonaws.com' }],
      placeholders: false,
    },
    catalog,
  );

  it('is the generated policy limited to the granted actions, never more', () => {
    const r = report(
      [doc(allow(['s3:Get*', 'ec2:Describe*', 'iam:PassRole']))],
      generated.actions,
      generated.policies,
    );
    expect(r.notGranted).toEqual(['s3:PutObject', 'sts:GetCallerIdentity']);
    const suggested = actionsOf(r.suggested);
    expect([...suggested].sort()).toEqual([
      'ec2:DescribeInstances',
      'iam:PassRole',
      's3:GetObject',
    ]);
    for (const a of suggested) expect(r.used).toContain(a);
    // statements keep their Sid, resources and conditions
    const statements = r.suggested.flatMap((d) => d.Statement);
    expect(statements.find((s) => s.Action === 's3:GetObject')).toMatchObject({
      Resource: 'arn:aws:s3:::data/a.csv',
    });
    expect(statements.find((s) => s.Action === 'iam:PassRole')).toMatchObject({
      Sid: 'InferredPassRole1',
      Condition: { StringEquals: { 'iam:PassedToService': 'lambda.amazonaws.com' } },
    });
  });

  it('everything granted: the suggestion is the generated policy', () => {
    const r = report([doc(allow('*'))], generated.actions, generated.policies);
    expect(r.suggested).toEqual(generated.policies);
  });
});

describe('parsePolicies: what to fix', () => {
  const where = (i: number) => `policies[${i}]`;
  it.each([
    [[42], /^policies\[0\]: must be a policy document/],
    [[{ Version: '2012-10-17' }], /^policies\[0\]: has no "Statement"/],
    [[{ Statement: 'x' }], /^policies\[0\]\.Statement: must be a statement object or a list/],
    [[{ Effect: 'Allow', Statement: [] }], /unknown key "Effect".*inside "Statement"/],
    [[{ Version: '2012-10-18', Statement: [] }], /^policies\[0\]\.Version: must be "2012-10-17"/],
    [
      [doc({ Action: 's3:GetObject' })],
      /^policies\[0\]\.Statement\[0\]\.Effect: must be "Allow" or "Deny"/,
    ],
    [[doc({ Effect: 'allow', Action: '*' })], /Effect: must be "Allow" or "Deny", got "allow"/],
    [[doc({ Effect: 'Allow' })], /Statement\[0\]: needs exactly one of "Action" and "NotAction"/],
    [
      [doc({ Effect: 'Allow', Action: '*', NotAction: 'iam:*' })],
      /needs exactly one of "Action" and "NotAction"/,
    ],
    [
      [doc(allow(['s3:GetObject', 's3 PutObject']))],
      /Action\[1\]: "s3 PutObject" is not an IAM action/,
    ],
    [[doc(allow([]))], /Statement\[0\]\.Action: is empty/],
    [[doc(allow(['s3:GetObject', 7] as never))], /Action\[1\]: must be an IAM action string/],
    [[doc(allow('*', { Principal: { AWS: '*' } }))], /unknown key "Principal": identity policies/],
    [[doc(allow('*', { Resources: '*' }))], /unknown key "Resources"/],
    [[doc(allow('*', { Condition: 'x' }))], /Condition: must be an object/],
    [[doc(allow('*', { NotResource: 'arn:aws:s3:::x' }))], /both "Resource" and "NotResource"/],
  ])('%j', (docs, message) => {
    expect(() => parsePolicies(docs, where)).toThrow(message);
    try {
      parsePolicies(docs, where);
    } catch (err) {
      expect((err as { code: string }).code).toBe('BAD_POLICY');
    }
  });
});

// ---- POST /v1/unused ----

const NOW = Date.parse('2024-03-10T12:00:00Z');
let store: Store;
beforeAll(async () => {
  store = await openStore('memory:');
  await store.commit([
    {
      object: { key: 's3://trail/u1.json.gz', tag: 'a' },
      delta: deltaOf([
        {
          principal: ROLE,
          action: 's3:GetObject',
          time: '2024-03-01T10:00:00Z',
          resources: ['arn:aws:s3:::data/a.csv'],
        },
        { principal: ROLE, action: 'sts:GetCallerIdentity', time: '2024-03-02T10:00:00Z' },
        {
          principal: ROLE,
          action: 's3:DeleteObject',
          time: '2024-03-03T10:00:00Z',
          deniedCode: 'AccessDenied',
        },
        { principal: ROLE, action: 'ec2:DescribeInstances', time: '2024-02-01T10:00:00Z' },
      ]),
    },
  ]);
  return () => store.close();
});

function app() {
  return buildApp({
    store,
    catalog,
    telemetry: new Telemetry({ store, now: () => NOW }),
    ready: () => true,
    now: () => NOW,
  });
}

const post = (payload: unknown) =>
  app().inject({ method: 'POST', url: '/v1/unused', payload: payload as object });

function expectError(
  res: Awaited<ReturnType<typeof post>>,
  code: keyof typeof HTTP_ERRORS,
  message?: RegExp,
) {
  expect(res.statusCode, res.body).toBe(HTTP_ERRORS[code]);
  const body = res.json();
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error.code).toBe(code);
  if (message) expect(body.error.message).toMatch(message);
}

describe('POST /v1/unused', () => {
  const policy = doc(allow(['s3:GetObject', 's3:PutObject', 'ec2:Describe*']));

  it('reports against the window and suggests the generated policy within the grant', async () => {
    const res = await post({ principal: ROLE, from: '2024-03-01', to: '2024-03-10', policy });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    const describes = expand('ec2:Describe*');
    expect(body).toMatchObject({
      principal: ROLE,
      from: '2024-03-01',
      to: '2024-03-10',
      granted: 2 + describes.length,
      used: ['s3:GetObject'],
      notGranted: ['sts:GetCallerIdentity'],
    });
    // ec2:DescribeInstances was used before the window: unused in it
    expect(body.unused).toContain('ec2:DescribeInstances');
    expect(body.unused).not.toContain('s3:DeleteObject'); // denied, and not granted anyway
    // the suggestion is /v1/policy's generated policy limited to the grant
    const generated = await policyFor(
      store,
      catalog,
      ROLE,
      { fromDay: isoToDay('2024-03-01')!, toDay: isoToDay('2024-03-10')! },
      { placeholders: false },
    );
    expect(generated!.actions).toContain('sts:GetCallerIdentity');
    expect(body.suggested).toEqual([
      {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'S3Allow1',
            Effect: 'Allow',
            Action: 's3:GetObject',
            Resource: 'arn:aws:s3:::data/a.csv',
          },
        ],
      },
    ]);
  });

  it('takes several documents as "policies"; the default window is the 90 days to today', async () => {
    const res = await post({ principal: ROLE, policies: [policy, doc(allow('sts:*'))] });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ from: '2023-12-12', to: '2024-03-10', notGranted: [] });
    expect(body.used).toEqual(['ec2:DescribeInstances', 's3:GetObject', 'sts:GetCallerIdentity']);
  });

  it('a known principal idle in the window: 200, everything unused', async () => {
    const res = await post({ principal: ROLE, from: '2024-01-01', to: '2024-01-31', policy });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ used: [], reductionPercent: 100, suggested: [] });
  });

  it('404 UNKNOWN_PRINCIPAL, and /v1/policy 400s for the principal and window', async () => {
    expectError(
      await post({ principal: `arn:aws:iam::${ACCOUNT}:role/nobody`, policy }),
      'UNKNOWN_PRINCIPAL',
      /no activity recorded/,
    );
    expectError(await post({ principal: 'role/app', policy }), 'BAD_ARN');
    expectError(await post({ principal: ROLE, from: '2024-02-30', policy }), 'BAD_DATE');
    expectError(
      await post({ principal: ROLE, from: '2024-03-05', to: '2024-03-01', policy }),
      'BAD_WINDOW',
    );
  });

  it.each([
    [
      { principal: ROLE },
      'BAD_PARAMETER',
      /"policies": \[<policy document>, …\] or one as "policy"/,
    ],
    [{ principal: ROLE, policy, policies: [policy] }, 'BAD_PARAMETER', /or one as "policy"/],
    [{ policy }, 'BAD_PARAMETER', /missing body "principal"/],
    [{ principal: ROLE, policy, extra: 1 }, 'BAD_PARAMETER', /unknown body "extra"/],
    [{ principal: ROLE, policies: [] }, 'BAD_PARAMETER', /policies" must NOT have fewer than 1/],
    [{ principal: ROLE, policy: [policy] }, 'BAD_PARAMETER', /"policy" must be object/],
    [
      { principal: ROLE, policies: [policy, doc({ Effect: 'Allow', Action: 'S3 Get' })] },
      'BAD_POLICY',
      /^policies\[1\]\.Statement\[0\]\.Action: "S3 Get" is not an IAM action/,
    ],
    [
      { principal: ROLE, policy: doc(allow('*', { Principal: '*' })) },
      'BAD_POLICY',
      /^policy\.Statement\[0\]: unknown key "Principal"/,
    ],
  ] as const)('400 for %j', async (payload, code, message) => {
    expectError(await post(payload), code, message);
  });

  it('413 beyond the body limit, 400 for a body that is not JSON', async () => {
    const big = doc(allow(Array.from({ length: 60_000 }, (_, i) => `s3:GetObject${i}`)));
    expect(JSON.stringify(big).length).toBeGreaterThan(BODY_LIMIT_BYTES);
    expectError(await post({ principal: ROLE, policy: big }), 'BODY_TOO_LARGE');
    const res = await app().inject({
      method: 'POST',
      url: '/v1/unused',
      payload: '{"principal": ',
      headers: { 'content-type': 'application/json' },
    });
    expectError(res, 'BAD_REQUEST');
  });
});

// ---- trailmint unused ----

describe('trailmint unused', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'trailmint-unused-'));
    const lmdb = await openStore(path.join(dir, 'store'));
    await lmdb.commit([
      {
        object: { key: 's3://trail/cli.json.gz', tag: 'a' },
        delta: deltaOf([
          {
            principal: ROLE,
            action: 's3:GetObject',
            time: '2024-03-01T10:00:00Z',
            resources: ['arn:aws:s3:::data/a.csv'],
          },
          { principal: ROLE, action: 'sts:GetCallerIdentity', time: '2024-03-02T10:00:00Z' },
        ]),
      },
    ]);
    await lmdb.close();
    await writeFile(path.join(dir, 'one.json'), JSON.stringify(doc(allow('s3:Get*'))));
    await writeFile(
      path.join(dir, 'many.json'),
      JSON.stringify([doc(allow('sts:*')), doc(allow('ec2:Describe*'))]),
    );
    await writeFile(path.join(dir, 'broken.json'), '{"Statement": [');
    await writeFile(
      path.join(dir, 'bad.json'),
      JSON.stringify([doc(allow('*')), doc({ Effect: 'Allow', Action: 'S3 Get' })]),
    );
    return () => rm(dir, { recursive: true, force: true });
  });

  async function run(...argv: string[]) {
    let out = '';
    let err = '';
    const code = await main(argv, {
      out: (s) => void (out += s),
      err: (s) => void (err += s),
      isTty: false,
      env: {},
      now: () => NOW,
    });
    return { code, out, err };
  }

  const store = () => path.join(dir, 'store');
  const file = (name: string) => path.join(dir, name);

  it('--json prints the same report as POST /v1/unused; files may hold one document or many', async () => {
    const args = ['--from', '2024-03-01', '--to', '2024-03-10', '--store', store(), '--json'];
    const cli = await run(
      'unused',
      ROLE,
      '--policy',
      file('one.json'),
      '--policy',
      file('many.json'),
      ...args,
    );
    expect(cli.err).toBe('');
    expect(cli.code).toBe(0);
    const report = JSON.parse(cli.out);
    expect(report.used).toEqual(['s3:GetObject', 'sts:GetCallerIdentity']);
    const lmdb = await openStore(store());
    try {
      const res = await buildApp({
        store: lmdb,
        catalog,
        telemetry: new Telemetry({ store: lmdb }),
        ready: () => true,
        now: () => NOW,
      }).inject({
        method: 'POST',
        url: '/v1/unused',
        payload: {
          principal: ROLE,
          from: '2024-03-01',
          to: '2024-03-10',
          policies: [doc(allow('s3:Get*')), doc(allow('sts:*')), doc(allow('ec2:Describe*'))],
        },
      });
      expect(res.json()).toEqual(report);
    } finally {
      await lmdb.close();
    }
  });

  it('prints a summary, the unused actions and the suggested policy', async () => {
    const r = await run(
      'unused',
      ROLE,
      '--policy',
      file('one.json'),
      '--from',
      '2024-03-01',
      '--to',
      '2024-03-10',
      '--store',
      store(),
    );
    expect(r.code).toBe(0);
    const granted = expand('s3:Get*').length;
    expect(r.out).toContain(`${granted} actions granted, 1 used from 2024-03-01 to 2024-03-10`);
    expect(r.out).toContain('used but granted elsewhere: sts:GetCallerIdentity');
    expect(r.out).toContain('(first 50, --json for all)');
    expect(r.out).toContain('"Action": "s3:GetObject"');
  });

  it.each([
    [['unused'], 2, /unused needs a principal ARN/],
    [['unused', ROLE], 2, /unused needs --policy FILE/],
    [['unused', 'role/app', '--policy', 'x.json'], 2, /not an IAM principal ARN/],
    [['unused', ROLE, '--policy', 'missing.json'], 2, /--policy missing\.json: ENOENT/],
    [['unused', ROLE, '--policy', '@broken'], 2, /broken\.json: .*JSON/],
    [
      ['unused', ROLE, '--policy', '@bad'],
      2,
      /bad\.json\[1\]\.Statement\[0\]\.Action: "S3 Get" is not an IAM action/,
    ],
    [
      ['unused', `arn:aws:iam::${ACCOUNT}:role/nobody`, '--policy', '@one'],
      1,
      /no activity recorded/,
    ],
  ])('%j exits %i', async (argv, code, message) => {
    const args = argv.map((a) => (a.startsWith('@') ? file(`${a.slice(1)}.json`) : a));
    const r = await run(...args, '--store', store());
    expect(r.code).toBe(code);
    expect(r.err).toMatch(message);
  });
});
