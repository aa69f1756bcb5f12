// Policy materialization rules (grouping, resource choice, placeholders, PassRole, unknown actions,
// determinism) against a small hand-written catalog, and policyFor against a fake store.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ActionInfo, Catalog, ResourceTypeInfo } from '../../src/catalog/types.ts';
import { materialize, type MaterializeInput } from '../../src/policy/materialize.ts';
import { policyFor } from '../../src/policy/query.ts';
import { MAX_POLICY_CHARS } from '../../src/policy/split.ts';
import type { Statement } from '../../src/policy/types.ts';
import type { ActionDetail, PassRoleDetail, Store, WindowActions } from '../../src/state/store.ts';

const OBJECT = 'arn:${Partition}:s3:::${BucketName}/${ObjectName}';
const AP_OBJECT =
  'arn:${Partition}:s3:${Region}:${Account}:accesspoint/${AccessPointName}/object/${ObjectName}';
const BUCKET = 'arn:${Partition}:s3:::${BucketName}';
const INSTANCE = 'arn:${Partition}:ec2:${Region}:${Account}:instance/${InstanceId}';
const IMAGE = 'arn:${Partition}:ec2:${Region}::image/${ImageId}';
const KEY_PAIR = 'arn:${Partition}:ec2:${Region}:${Account}:key-pair/${KeyPairName}';
const ROLE = 'arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}';
const TABLE = 'arn:${Partition}:dynamodb:${Region}:${Account}:table/${TableName}';

const rt = (name: string, required: boolean, format: string): ResourceTypeInfo => ({
  name,
  required,
  arnFormats: [format],
});

const ACTIONS: ActionInfo[] = [
  [
    's3:GetObject',
    'Read',
    [rt('accesspointobject', false, AP_OBJECT), rt('object', false, OBJECT)],
  ],
  [
    's3:PutObject',
    'Write',
    [rt('accesspointobject', false, AP_OBJECT), rt('object', false, OBJECT)],
  ],
  ['s3:ListBucket', 'List', [rt('bucket', true, BUCKET)]],
  ['s3:ListAllMyBuckets', 'List', []],
  ['ec2:DescribeInstances', 'List', []],
  [
    'ec2:RunInstances',
    'Write',
    [rt('image', true, IMAGE), rt('instance', true, INSTANCE), rt('key-pair', false, KEY_PAIR)],
  ],
  ['iam:GetRole', 'Read', [rt('role', true, ROLE)]],
  ['iam:PassRole', 'Write', [rt('role', true, ROLE)]],
  ['sts:GetCallerIdentity', 'Read', []],
  ['dynamodb:GetItem', 'Read', [rt('table', true, TABLE)]],
  ['access-analyzer:ListAnalyzers', 'List', []],
].map(([name, accessLevel, resourceTypes]) => ({
  name: name as string,
  service: (name as string).split(':')[0],
  accessLevel: accessLevel as string,
  resourceTypes: resourceTypes as ResourceTypeInfo[],
}));

function smallCatalog(actions: ActionInfo[] = ACTIONS): Catalog {
  const byName = new Map(actions.map((a) => [a.name, a]));
  const byLower = new Map(actions.map((a) => [a.name.toLowerCase(), a.name]));
  return {
    version: 'test',
    has: (name) => byName.has(name),
    canonical: (prefix, action) => byLower.get(`${prefix}:${action}`.toLowerCase()),
    info: (name) => byName.get(name),
    actions: () => [...byName.keys()].sort(),
    services: () => [...new Set(actions.map((a) => a.service))].sort(),
    arnFormats: () => [
      ...new Set(actions.flatMap((a) => a.resourceTypes.flatMap((t) => t.arnFormats))),
    ],
  };
}

const catalog = smallCatalog();
const ROLE_ARN = 'arn:aws:iam::111122223333:role/app';

function input(over: Partial<MaterializeInput>): MaterializeInput {
  return {
    principal: ROLE_ARN,
    from: '2024-01-01',
    to: '2024-01-31',
    used: [],
    denied: [],
    resources: new Map(),
    passRoles: [],
    placeholders: false,
    ...over,
  };
}

const statementsOf = (r: ReturnType<typeof materialize>): Statement[] =>
  r.policies.flatMap((p) => p.Statement);

describe('materialize: grouping', () => {
  it('one statement per (service, resource set), actions and statements sorted', () => {
    const objects = ['arn:aws:s3:::b/k2', 'arn:aws:s3:::b/k1'];
    const r = materialize(
      input({
        used: [
          'sts:GetCallerIdentity',
          's3:PutObject',
          's3:ListAllMyBuckets',
          'ec2:DescribeInstances',
          's3:GetObject',
        ],
        resources: new Map([
          ['s3:GetObject', objects],
          ['s3:PutObject', [...objects].reverse()],
        ]),
      }),
      catalog,
    );
    expect(r.policies).toEqual([
      {
        Version: '2012-10-17',
        Statement: [
          { Sid: 'Ec2Allow1', Effect: 'Allow', Action: 'ec2:DescribeInstances', Resource: '*' },
          { Sid: 'S3Allow1', Effect: 'Allow', Action: 's3:ListAllMyBuckets', Resource: '*' },
          {
            Sid: 'S3Allow2',
            Effect: 'Allow',
            Action: ['s3:GetObject', 's3:PutObject'],
            Resource: ['arn:aws:s3:::b/k1', 'arn:aws:s3:::b/k2'],
          },
          { Sid: 'StsAllow1', Effect: 'Allow', Action: 'sts:GetCallerIdentity', Resource: '*' },
        ],
      },
    ]);
    expect(r.actions).toEqual([
      'ec2:DescribeInstances',
      's3:GetObject',
      's3:ListAllMyBuckets',
      's3:PutObject',
      'sts:GetCallerIdentity',
    ]);
    expect(r.inferred).toEqual([]);
    expect(r.unknown).toEqual([]);
  });

  it('different resource sets of one service make separate statements', () => {
    const r = materialize(
      input({
        used: ['s3:GetObject', 's3:PutObject'],
        resources: new Map([
          ['s3:GetObject', ['arn:aws:s3:::b/in/*']],
          ['s3:PutObject', ['arn:aws:s3:::b/out/*']],
        ]),
      }),
      catalog,
    );
    expect(statementsOf(r).map((s) => [s.Sid, s.Action, s.Resource])).toEqual([
      ['S3Allow1', 's3:GetObject', 'arn:aws:s3:::b/in/*'],
      ['S3Allow2', 's3:PutObject', 'arn:aws:s3:::b/out/*'],
    ]);
  });

  it('statements of a service are ordered by their resource sets joined by a newline', () => {
    // A set that is a prefix of another, a longer first ARN, and one equal but shorter list.
    const sets = [
      ['arn:aws:s3:::b/a', 'arn:aws:s3:::b/c'],
      ['arn:aws:s3:::b/a'],
      ['arn:aws:s3:::b/ab'],
      ['arn:aws:s3:::b/a', 'arn:aws:s3:::b/b'],
      ['arn:aws:s3:::b/', 'arn:aws:s3:::b/z'],
    ];
    const names = sets.map((_, i) => `s3:GetThing${i}`);
    const objects = smallCatalog([
      ...ACTIONS,
      ...names.map((name) => ({
        name,
        service: 's3',
        accessLevel: 'Read',
        resourceTypes: [rt('object', false, OBJECT)],
      })),
    ]);
    const r = materialize(
      input({ used: names, resources: new Map(names.map((n, i) => [n, sets[i]])) }),
      objects,
    );
    const want = [...sets].sort((a, b) => (a.join('\n') < b.join('\n') ? -1 : 1));
    expect(statementsOf(r).map((s) => [s.Resource].flat())).toEqual(want);
  });

  it('Sids are alphanumeric: hyphenated prefixes become PascalCase', () => {
    const r = materialize(input({ used: ['access-analyzer:ListAnalyzers'] }), catalog);
    expect(statementsOf(r)[0].Sid).toBe('AccessAnalyzerAllow1');
  });

  it('duplicate used names are granted once', () => {
    const r = materialize(
      input({ used: ['sts:GetCallerIdentity', 'sts:GetCallerIdentity'] }),
      catalog,
    );
    expect(r.actions).toEqual(['sts:GetCallerIdentity']);
    expect(statementsOf(r)).toEqual([
      { Sid: 'StsAllow1', Effect: 'Allow', Action: 'sts:GetCallerIdentity', Resource: '*' },
    ]);
  });
});

describe('materialize: resource sets compared whole', () => {
  it('keeps apart two sets that join to the same text (an ARN holding a newline)', () => {
    const r = materialize(
      input({
        used: ['s3:GetObject', 's3:PutObject'],
        resources: new Map([
          ['s3:GetObject', ['arn:aws:s3:::b/x\narn:aws:s3:::b/y']],
          ['s3:PutObject', ['arn:aws:s3:::b/x', 'arn:aws:s3:::b/y']],
        ]),
      }),
      catalog,
    );
    const byAction = new Map(statementsOf(r).map((st) => [st.Action, st.Resource]));
    expect(byAction.get('s3:GetObject')).toBe('arn:aws:s3:::b/x\narn:aws:s3:::b/y');
    expect(byAction.get('s3:PutObject')).toEqual(['arn:aws:s3:::b/x', 'arn:aws:s3:::b/y']);
  });

  it('sorts and dedups a sample that does not come sorted, and groups equal sets', () => {
    const r = materialize(
      input({
        used: ['s3:GetObject', 's3:PutObject'],
        resources: new Map([
          ['s3:GetObject', ['arn:aws:s3:::b/k2', 'arn:aws:s3:::b/k1', 'arn:aws:s3:::b/k2']],
          ['s3:PutObject', ['arn:aws:s3:::b/k1', 'arn:aws:s3:::b/k2']],
        ]),
      }),
      catalog,
    );
    expect(statementsOf(r)).toEqual([
      {
        Sid: 'S3Allow1',
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:PutObject'],
        Resource: ['arn:aws:s3:::b/k1', 'arn:aws:s3:::b/k2'],
      },
    ]);
  });
});

describe('materialize: resources', () => {
  const resourceOf = (over: Partial<MaterializeInput>) => {
    const s = statementsOf(materialize(input(over), catalog));
    expect(s).toHaveLength(1);
    return s[0].Resource;
  };

  it('observed ARNs where the action supports resource-level permissions', () => {
    expect(
      resourceOf({
        used: ['dynamodb:GetItem'],
        resources: new Map([['dynamodb:GetItem', [ddb('t')]]]),
      }),
    ).toBe(ddb('t'));
  });

  it('`*` where the action supports no resource type, even with a sample', () => {
    expect(
      resourceOf({
        used: ['s3:ListAllMyBuckets'],
        resources: new Map([['s3:ListAllMyBuckets', ['x']]]),
      }),
    ).toBe('*');
  });

  it('`*` without a sample when placeholders are off', () => {
    expect(resourceOf({ used: ['dynamodb:GetItem'] })).toBe('*');
    expect(
      resourceOf({ used: ['dynamodb:GetItem'], resources: new Map([['dynamodb:GetItem', []]]) }),
    ).toBe('*');
  });

  it('a sample generalized to `*` collapses the set to `*`', () => {
    expect(
      resourceOf({
        used: ['dynamodb:GetItem'],
        resources: new Map([['dynamodb:GetItem', [ddb('a'), '*']]]),
      }),
    ).toBe('*');
  });

  it('a required resource type no observed ARN matches widens to `*`', () => {
    const instance = 'arn:aws:ec2:us-east-1:111122223333:instance/i-0abc';
    expect(
      resourceOf({
        used: ['ec2:RunInstances'],
        resources: new Map([['ec2:RunInstances', [instance]]]),
      }),
    ).toBe('*');
    const image = 'arn:aws:ec2:us-east-1::image/ami-123';
    expect(
      resourceOf({
        used: ['ec2:RunInstances'],
        resources: new Map([['ec2:RunInstances', [instance, image]]]),
      }),
    ).toEqual([instance, image]);
  });

  it('role paths and object keys match the last placeholder of their format', () => {
    const role = 'arn:aws:iam::111122223333:role/service-role/path/app';
    expect(
      resourceOf({ used: ['iam:GetRole'], resources: new Map([['iam:GetRole', [role]]]) }),
    ).toBe(role);
    const bucketOnly = 'arn:aws:s3:::bucket';
    expect(
      resourceOf({
        used: ['s3:ListBucket'],
        resources: new Map([['s3:ListBucket', [bucketOnly]]]),
      }),
    ).toBe(bucketOnly);
  });
});

describe('materialize: placeholders', () => {
  it('required resource types only, partition taken from the principal, other placeholders kept', () => {
    const r = materialize(
      input({
        principal: 'arn:aws-cn:iam::111122223333:role/app',
        used: ['ec2:RunInstances'],
        placeholders: true,
      }),
      catalog,
    );
    expect(statementsOf(r)[0].Resource).toEqual([
      'arn:aws-cn:ec2:${Region}:${Account}:instance/${InstanceId}',
      'arn:aws-cn:ec2:${Region}::image/${ImageId}',
    ]);
  });

  it('all resource types when none is required', () => {
    const r = materialize(input({ used: ['s3:GetObject'], placeholders: true }), catalog);
    expect(statementsOf(r)[0].Resource).toEqual([
      'arn:aws:s3:${Region}:${Account}:accesspoint/${AccessPointName}/object/${ObjectName}',
      'arn:aws:s3:::${BucketName}/${ObjectName}',
    ]);
  });

  it('observed ARNs win; only the unmatched required type becomes a placeholder', () => {
    const instance = 'arn:aws:ec2:us-east-1:111122223333:instance/i-0abc';
    const r = materialize(
      input({
        used: ['ec2:RunInstances', 'ec2:DescribeInstances'],
        resources: new Map([['ec2:RunInstances', [instance]]]),
        placeholders: true,
      }),
      catalog,
    );
    expect(statementsOf(r).map((s) => s.Resource)).toEqual([
      '*',
      ['arn:aws:ec2:${Region}::image/${ImageId}', instance],
    ]);
  });

  it('actions without resource types stay `*`', () => {
    const r = materialize(input({ used: ['sts:GetCallerIdentity'], placeholders: true }), catalog);
    expect(statementsOf(r)[0].Resource).toBe('*');
  });
});

describe('materialize: inferred iam:PassRole', () => {
  it('one statement per service, exactly its roles, with the iam:PassedToService condition', () => {
    const a = 'arn:aws:iam::111122223333:role/a';
    const b = 'arn:aws:iam::111122223333:role/b';
    const r = materialize(
      input({
        used: ['sts:GetCallerIdentity'],
        passRoles: [
          { role: b, service: 'lambda.amazonaws.com' },
          { role: a, service: 'ecs-tasks.amazonaws.com' },
          { role: a, service: 'lambda.amazonaws.com' },
          { role: b, service: 'lambda.amazonaws.com' },
        ],
        placeholders: true,
      }),
      catalog,
    );
    expect(r.inferred).toEqual(['iam:PassRole']);
    expect(r.actions).toEqual(['iam:PassRole', 'sts:GetCallerIdentity']);
    expect(statementsOf(r).slice(1)).toEqual([
      {
        Sid: 'InferredPassRole1',
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Resource: a,
        Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      },
      {
        Sid: 'InferredPassRole2',
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Resource: [a, b],
        Condition: { StringEquals: { 'iam:PassedToService': 'lambda.amazonaws.com' } },
      },
    ]);
  });
});

describe('materialize: unknown and denied actions', () => {
  it('unknown actions are reported and granted on `*` within their service', () => {
    const r = materialize(
      input({
        used: ['s3:ListAllMyBuckets', 's3:FutureAction', 'newsvc:DoThing'],
        resources: new Map([['newsvc:DoThing', ['arn:aws:newsvc:::thing/1']]]),
      }),
      catalog,
    );
    expect(r.unknown).toEqual(['newsvc:DoThing', 's3:FutureAction']);
    expect(statementsOf(r)).toEqual([
      { Sid: 'NewsvcAllow1', Effect: 'Allow', Action: 'newsvc:DoThing', Resource: '*' },
      {
        Sid: 'S3Allow1',
        Effect: 'Allow',
        Action: ['s3:FutureAction', 's3:ListAllMyBuckets'],
        Resource: '*',
      },
    ]);
  });

  it('denied actions are listed sorted and never granted', () => {
    const r = materialize(
      input({ used: ['sts:GetCallerIdentity'], denied: ['s3:PutObject', 'iam:GetRole'] }),
      catalog,
    );
    expect(r.denied).toEqual(['iam:GetRole', 's3:PutObject']);
    expect(statementsOf(r).flatMap((s) => s.Action)).toEqual(['sts:GetCallerIdentity']);
    expect(r.actions).toEqual(['sts:GetCallerIdentity']);
  });

  it('no used action and no PassRole: no policy documents', () => {
    expect(materialize(input({ denied: ['s3:PutObject'] }), catalog).policies).toEqual([]);
  });
});

describe('materialize: determinism and limits', () => {
  const names = ACTIONS.map((a) => a.name).concat(['s3:FutureAction', 'x-y:Z']);
  const arns = [
    ddb('a'),
    ddb('b'),
    'arn:aws:s3:::b/k',
    'arn:aws:s3:::b',
    'arn:aws:ec2:us-east-1::image/ami-1',
    '*',
  ];
  const arbInput = fc.record({
    used: fc.uniqueArray(fc.constantFrom(...names)),
    denied: fc.uniqueArray(fc.constantFrom(...names)),
    resources: fc.array(
      fc.tuple(
        fc.constantFrom(...names),
        fc.uniqueArray(fc.constantFrom(...arns), { minLength: 1 }),
      ),
    ),
    passRoles: fc.array(
      fc.record({
        role: fc.constantFrom(ROLE_ARN, 'arn:aws:iam::1:role/x'),
        service: fc.constantFrom('lambda.amazonaws.com', 'ec2.amazonaws.com'),
      }),
    ),
    placeholders: fc.boolean(),
  });

  it('the same input in any order gives byte-identical JSON', () => {
    fc.assert(
      fc.property(arbInput, fc.integer(), (x, seed) => {
        const a = input({ ...x, resources: new Map(x.resources) });
        const shuffle = <T>(list: readonly T[]) => shuffled(list, seed);
        const b = input({
          ...x,
          used: shuffle(x.used),
          denied: shuffle(x.denied),
          passRoles: shuffle(x.passRoles),
          resources: new Map([...new Map(x.resources)].map(([k, v]) => [k, shuffle(v)])),
        });
        expect(JSON.stringify(materialize(b, catalog))).toBe(
          JSON.stringify(materialize(a, catalog)),
        );
      }),
    );
  });

  it('every used action is granted, Sids are alphanumeric and unique per document', () => {
    fc.assert(
      fc.property(arbInput, (x) => {
        const r = materialize(input({ ...x, resources: new Map(x.resources) }), catalog);
        const granted = new Set(statementsOf(r).flatMap((s) => s.Action));
        for (const name of x.used) expect(granted.has(name)).toBe(true);
        for (const doc of r.policies) {
          const sids = doc.Statement.map((s) => s.Sid);
          for (const sid of sids) expect(sid).toMatch(/^[A-Za-z0-9]+$/);
          expect(new Set(sids).size).toBe(sids.length);
        }
      }),
    );
  });

  it('500 actions with resources split into documents within the limit', () => {
    const many: ActionInfo[] = [];
    const resources = new Map<string, string[]>();
    for (let i = 0; i < 500; i++) {
      const name = `svc${i % 25}:Action${i}`;
      many.push({
        name,
        service: `svc${i % 25}`,
        accessLevel: 'Read',
        resourceTypes: [rt('thing', true, TABLE)],
      });
      if (i % 2) resources.set(name, [ddb(`table-${i}`), ddb(`table-${i}-b`)]);
    }
    const r = materialize(input({ used: many.map((a) => a.name), resources }), smallCatalog(many));
    expect(r.policies.length).toBeGreaterThan(1);
    for (const doc of r.policies)
      expect(JSON.stringify(doc).length).toBeLessThanOrEqual(MAX_POLICY_CHARS);
    expect(new Set(statementsOf(r).flatMap((s) => s.Action)).size).toBe(500);
  });
});

describe('policyFor', () => {
  const names = ['s3:GetObject', 'sts:GetCallerIdentity', 's3:PutObject', 'newsvc:DoThing'];
  const day = 19_723; // 2024-01-01

  function fakeStore(state: {
    windows: Record<string, WindowActions>;
    details: ActionDetail[];
    passRoles: PassRoleDetail[];
  }): Store & { detailCalls: Uint32Array[] } {
    const unused = () => Promise.reject(new Error('not used by policyFor'));
    const detailCalls: Uint32Array[] = [];
    return {
      kind: 'memory',
      detailCalls,
      actionNames: async () => names,
      actionIds: unused,
      commit: unused,
      isIngested: unused,
      principals: unused,
      windowActions: async (p, from, to) =>
        state.windows[`${p} ${from} ${to}`] ?? {
          used: new Uint32Array(),
          denied: new Uint32Array(),
        },
      actionDetails: async (_p, ids) => {
        detailCalls.push(ids!);
        return state.details.filter((d) => ids!.includes(d.action));
      },
      passRoles: async (p, from) => (p === ROLE_ARN && from === day ? state.passRoles : []),
      unmapped: unused,
      unknownActions: unused,
      close: async () => {},
    };
  }

  const detail = (action: number, resources: string[]): ActionDetail => ({
    action,
    firstSeen: 1,
    lastSeen: 2,
    count: 1,
    deniedCount: 0,
    deniedLast: 0,
    deniedCode: '',
    resources,
  });

  it('maps ids to names, reads resource samples of the window actions, echoes the window as ISO days', async () => {
    const store = fakeStore({
      windows: {
        [`${ROLE_ARN} ${day} ${day + 6}`]: {
          used: Uint32Array.of(0, 1, 3),
          denied: Uint32Array.of(2),
        },
      },
      details: [detail(0, ['arn:aws:s3:::b/k']), detail(1, []), detail(2, ['arn:aws:s3:::b/x'])],
      passRoles: [{ role: ROLE_ARN, service: 'lambda.amazonaws.com', lastSeen: 5 }],
    });
    const r = await policyFor(
      store,
      catalog,
      ROLE_ARN,
      { fromDay: day, toDay: day + 6 },
      { placeholders: false },
    );
    expect(r).toBeDefined();
    expect(r!.from).toBe('2024-01-01');
    expect(r!.to).toBe('2024-01-07');
    expect(r!.actions).toEqual([
      'iam:PassRole',
      'newsvc:DoThing',
      's3:GetObject',
      'sts:GetCallerIdentity',
    ]);
    expect(r!.denied).toEqual(['s3:PutObject']);
    expect(r!.unknown).toEqual(['newsvc:DoThing']);
    expect(store.detailCalls).toEqual([Uint32Array.of(0, 1, 3)]);
    const s3 = r!.policies[0].Statement.find((s) => s.Action === 's3:GetObject');
    expect(s3?.Resource).toBe('arn:aws:s3:::b/k');
  });

  it('undefined when the principal has no activity at all in the window', async () => {
    const store = fakeStore({ windows: {}, details: [], passRoles: [] });
    expect(
      await policyFor(store, catalog, ROLE_ARN, { fromDay: 1, toDay: 2 }, { placeholders: true }),
    ).toBeUndefined();
    expect(store.detailCalls).toEqual([]);
  });

  it('denied-only activity is an answer with no policy documents', async () => {
    const store = fakeStore({
      windows: { [`${ROLE_ARN} 1 2`]: { used: new Uint32Array(), denied: Uint32Array.of(2) } },
      details: [],
      passRoles: [],
    });
    const r = await policyFor(
      store,
      catalog,
      ROLE_ARN,
      { fromDay: 1, toDay: 2 },
      { placeholders: false },
    );
    expect(r?.denied).toEqual(['s3:PutObject']);
    expect(r?.policies).toEqual([]);
    expect(store.detailCalls).toEqual([]);
  });
});

function ddb(table: string): string {
  return `arn:aws:dynamodb:us-east-1:111122223333:table/${table}`;
}

/** Deterministic Fisher–Yates driven by `seed`. */
function shuffled<T>(list: readonly T[], seed: number): T[] {
  const out = [...list];
  let s = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1_103_515_245 + 12_345) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
