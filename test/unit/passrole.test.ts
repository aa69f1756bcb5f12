// passRolesOf: every PASS_ROLE_ROWS row (each event name, each path) with a generated request,
// the real fixture events that pass roles, what must never be inferred, odd input, and a pass
// over every fixture record that pins exactly which events infer a PassRole.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  NO_PASS_ROLES,
  PASS_ROLE_ROWS,
  passRoleEvent,
  passRolesOf,
  profileRoleOf,
  type PassRoleRow,
  type PassRoleUse,
} from '../../src/catalog/passrole.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../../../shared/fixtures/cloudtrail');

type Rec = Record<string, unknown>;

function recordsOf(file: string): Rec[] {
  const doc = JSON.parse(gunzipSync(readFileSync(path.join(FIXTURES, file))).toString('utf8'));
  return Array.isArray(doc?.Records) ? doc.Records : [];
}

const ACCOUNT = '123456789012';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/service-role/app-role`;
const PROFILE = `arn:aws:iam::${ACCOUNT}:instance-profile/app-profile`;

function rec(source: string, eventName: string, requestParameters: unknown, extra: Rec = {}): Rec {
  return {
    eventSource: source,
    eventName,
    awsRegion: 'us-east-1',
    recipientAccountId: ACCOUNT,
    userIdentity: { type: 'IAMUser', arn: `arn:aws:iam::${ACCOUNT}:user/dev` },
    requestParameters,
    ...extra,
  };
}

/** requestParameters holding `value` at `p` ('a.b', 'list[].x', '*.x'). */
function paramsAt(p: string, value: unknown): Rec {
  const parts = p.split('.');
  let v: unknown = value;
  for (let i = parts.length - 1; i >= 0; i--) {
    const part = parts[i];
    if (part === '*') v = { anyConfiguration: v };
    else if (part.endsWith('[]')) v = { [part.slice(0, -2)]: [v] };
    else v = { [part]: v };
  }
  return v as Rec;
}

/** Requests for rows whose shape a path cannot say (`extract`). */
const EXTRACT_SAMPLES: Record<string, (role: string) => Rec> = {
  'datapipeline.amazonaws.com': (role) => ({
    pipelineId: 'df-1',
    pipelineObjects: [
      {
        id: 'Default',
        fields: [
          { key: 'role', stringValue: role },
          { key: 'resourceRole', stringValue: 'DataPipelineDefaultResourceRole' },
        ],
      },
    ],
  }),
  'apigateway.amazonaws.com': (role) => ({
    patchOperations: [{ op: 'replace', path: '/cloudwatchRoleArn', value: role }],
  }),
  'sns.amazonaws.com': (role) => ({
    topicArn: `arn:aws:sns:us-east-1:${ACCOUNT}:t`,
    attributeName: 'LambdaSuccessFeedbackRoleArn',
    attributeValue: role,
  }),
};

const GENERATED: [string, PassRoleRow, string, Rec][] = [];
for (const row of PASS_ROLE_ROWS) {
  for (const name of row.events) {
    for (const p of row.paths)
      GENERATED.push([
        `${row.source} ${name} ${p}`,
        row,
        name,
        paramsAt(p, row.profiles ? PROFILE : ROLE),
      ]);
    if (row.extract !== undefined) {
      const sample = EXTRACT_SAMPLES[row.source];
      GENERATED.push([`${row.source} ${name} (extract)`, row, name, sample?.(ROLE) ?? {}]);
    }
  }
}

describe('passRolesOf rows', () => {
  it('every row reads something, and every extract row has a sample', () => {
    for (const row of PASS_ROLE_ROWS) {
      expect(row.paths.length > 0 || row.extract !== undefined, row.source).toBe(true);
      if (row.extract !== undefined) expect(EXTRACT_SAMPLES[row.source], row.source).toBeDefined();
      expect(row.service).toMatch(/^[a-z0-9.-]+\.amazonaws\.com$/);
    }
  });

  it.each(GENERATED)('%s', (_name, row, eventName, params) => {
    expect(passRolesOf(rec(row.source, eventName, params))).toEqual([
      { role: row.profiles ? PROFILE : ROLE, service: row.service },
    ]);
  });

  it.each(
    PASS_ROLE_ROWS.filter((r) => r.names === true).flatMap((r) =>
      r.events.map((e) => [`${r.source} ${e}`, r, e] as const),
    ),
  )(
    '%s: a role name (with path) becomes an ARN in the recipient account',
    (_name, row, eventName) => {
      const p = row.paths[0];
      const params =
        p === undefined
          ? EXTRACT_SAMPLES[row.source]('service-role/MyRole')
          : paramsAt(p, 'service-role/MyRole');
      expect(passRolesOf(rec(row.source, eventName, params))).toEqual([
        { role: `arn:aws:iam::${ACCOUNT}:role/service-role/MyRole`, service: row.service },
      ]);
    },
  );

  it('a name is not accepted where the API documents only ARNs', () => {
    expect(passRolesOf(rec('lambda.amazonaws.com', 'CreateFunction', { role: 'MyRole' }))).toBe(
      NO_PASS_ROLES,
    );
  });
});

describe('passRolesOf details', () => {
  it('API-version suffixes on event names are ignored', () => {
    expect(
      passRolesOf(
        rec('lambda.amazonaws.com', 'UpdateFunctionConfiguration20150331v2', { role: ROLE }),
      ),
    ).toEqual([{ role: ROLE, service: 'lambda.amazonaws.com' }]);
  });

  it('task and execution roles: two uses; the same role twice: one', () => {
    const other = `arn:aws:iam::${ACCOUNT}:role/exec`;
    const r = rec('ecs.amazonaws.com', 'RegisterTaskDefinition', {
      family: 'f',
      taskRoleArn: ROLE,
      executionRoleArn: other,
    });
    expect(passRolesOf(r)).toEqual([
      { role: ROLE, service: 'ecs-tasks.amazonaws.com' },
      { role: other, service: 'ecs-tasks.amazonaws.com' },
    ]);
    const same = rec('ecs.amazonaws.com', 'RegisterTaskDefinition', {
      taskRoleArn: ROLE,
      executionRoleArn: ROLE,
    });
    expect(passRolesOf(same)).toEqual([{ role: ROLE, service: 'ecs-tasks.amazonaws.com' }]);
  });

  it('PutTargets: every target role; targets without one are skipped', () => {
    const r = rec('events.amazonaws.com', 'PutTargets', {
      rule: 'r',
      targets: [{ id: '1', arn: 'x' }, { id: '2', roleArn: ROLE }, 'junk', null],
    });
    expect(passRolesOf(r)).toEqual([{ role: ROLE, service: 'events.amazonaws.com' }]);
  });

  it('partition of a name-made ARN follows the caller', () => {
    const r = rec(
      'glue.amazonaws.com',
      'CreateJob',
      { role: 'GlueRole' },
      {
        awsRegion: 'cn-north-1',
        userIdentity: { type: 'IAMUser', arn: `arn:aws-cn:iam::${ACCOUNT}:user/dev` },
      },
    );
    expect(passRolesOf(r)).toEqual([
      { role: `arn:aws-cn:iam::${ACCOUNT}:role/GlueRole`, service: 'glue.amazonaws.com' },
    ]);
  });

  it.each<[string, unknown]>([
    ['a wildcard role', `arn:aws:iam::${ACCOUNT}:role/*`],
    ['an IAM user', `arn:aws:iam::${ACCOUNT}:user/u`],
    ['an instance profile', `arn:aws:iam::${ACCOUNT}:instance-profile/p`],
    ['another service’s ARN', `arn:aws:lambda:us-east-1:${ACCOUNT}:function:f`],
    ['a short account', 'arn:aws:iam::1234:role/r'],
    ['a non-aws partition', `arn:foo:iam::${ACCOUNT}:role/r`],
    ['an empty role name', `arn:aws:iam::${ACCOUNT}:role/`],
    ['whitespace', `arn:aws:iam::${ACCOUNT}:role/a b`],
    ['a number', 42],
    ['an object', { arn: ROLE }],
    ['an array', [ROLE]],
    ['an ARN over the cap', `arn:aws:iam::${ACCOUNT}:role/${'r'.repeat(3000)}`],
  ])('never inferred: %s', (_name, value) => {
    expect(passRolesOf(rec('lambda.amazonaws.com', 'CreateFunction', { role: value }))).toBe(
      NO_PASS_ROLES,
    );
    expect(passRolesOf(rec('glue.amazonaws.com', 'CreateJob', { role: value }))).toBe(
      NO_PASS_ROLES,
    );
  });

  it('a role name needs a recipient account', () => {
    expect(
      passRolesOf(
        rec('glue.amazonaws.com', 'CreateJob', { role: 'R' }, { recipientAccountId: 'x' }),
      ),
    ).toBe(NO_PASS_ROLES);
  });

  it('EC2 instance profiles are recorded as the profile (path-less ARN), the role inside resolved by the store', () => {
    const profile = `arn:aws:iam::${ACCOUNT}:instance-profile/web`;
    const ec2 = 'ec2.amazonaws.com';
    const run = rec('ec2.amazonaws.com', 'RunInstances', {
      iamInstanceProfile: { arn: `arn:aws:iam::${ACCOUNT}:instance-profile/team/web`, name: 'web' },
      instancesSet: { items: [{ imageId: 'ami-1' }] },
    });
    expect(passRolesOf(run)).toEqual([{ role: profile, service: ec2 }]);
    const byName = rec('ec2.amazonaws.com', 'RunInstances', {
      iamInstanceProfile: { name: 'web' },
    });
    expect(passRolesOf(byName)).toEqual([{ role: profile, service: ec2 }]);
    const associate = rec('ec2.amazonaws.com', 'AssociateIamInstanceProfile', {
      AssociateIamInstanceProfileRequest: {
        IamInstanceProfile: { Name: 'web' },
        InstanceId: 'i-1',
      },
    });
    expect(passRolesOf(associate)).toEqual([{ role: profile, service: ec2 }]);
    const replace = rec('ec2.amazonaws.com', 'ReplaceIamInstanceProfileAssociation', {
      ReplaceIamInstanceProfileAssociationRequest: { IamInstanceProfile: { Arn: profile } },
    });
    expect(passRolesOf(replace)).toEqual([{ role: profile, service: ec2 }]);
    for (const bad of [
      `arn:aws:iam::${ACCOUNT}:role/web`,
      'a b',
      '',
      `arn:aws:iam::1:instance-profile/x`,
    ])
      expect(
        passRolesOf(rec('ec2.amazonaws.com', 'RunInstances', { iamInstanceProfile: { arn: bad } })),
      ).toBe(NO_PASS_ROLES);
    // EMR's jobFlowRole is an instance profile of another API: not inferred
    const emr = rec('elasticmapreduce.amazonaws.com', 'RunJobFlow', {
      serviceRole: 'EMR_DefaultRole',
      jobFlowRole: 'EMR_EC2_DefaultRole',
    });
    expect(passRolesOf(emr)).toEqual([
      {
        role: `arn:aws:iam::${ACCOUNT}:role/EMR_DefaultRole`,
        service: 'elasticmapreduce.amazonaws.com',
      },
    ]);
  });

  it('AddRoleToInstanceProfile tells which role is inside which profile', () => {
    const add = rec('iam.amazonaws.com', 'AddRoleToInstanceProfile', {
      instanceProfileName: 'web',
      roleName: 'web-role',
    });
    expect(profileRoleOf(add)).toEqual({
      profile: `arn:aws:iam::${ACCOUNT}:instance-profile/web`,
      role: `arn:aws:iam::${ACCOUNT}:role/web-role`,
    });
    expect(profileRoleOf({ ...add, eventName: 'RemoveRoleFromInstanceProfile' })).toBeUndefined();
    expect(profileRoleOf({ ...add, eventSource: 'ec2.amazonaws.com' })).toBeUndefined();
    expect(
      profileRoleOf(
        rec('iam.amazonaws.com', 'AddRoleToInstanceProfile', { instanceProfileName: 'web' }),
      ),
    ).toBeUndefined();
    expect(profileRoleOf({ ...add, recipientAccountId: 'nope' })).toBeUndefined();
  });

  it.each<[string, Rec]>([
    ['no eventSource', { eventName: 'CreateFunction', requestParameters: { role: ROLE } }],
    ['eventSource a number', { ...rec('x', 'CreateFunction', { role: ROLE }), eventSource: 1 }],
    [
      'eventName missing',
      { ...rec('lambda.amazonaws.com', 'x', { role: ROLE }), eventName: undefined },
    ],
    ['requestParameters null', rec('lambda.amazonaws.com', 'CreateFunction', null)],
    ['requestParameters a string', rec('lambda.amazonaws.com', 'CreateFunction', 'role=x')],
    ['requestParameters an array', rec('lambda.amazonaws.com', 'CreateFunction', [{ role: ROLE }])],
    ['an event that passes nothing', rec('lambda.amazonaws.com', 'Invoke', { role: ROLE })],
    [
      'targets not an array',
      rec('events.amazonaws.com', 'PutTargets', { targets: { roleArn: ROLE } }),
    ],
    [
      'pipelineObjects odd',
      rec('datapipeline.amazonaws.com', 'PutPipelineDefinition', {
        pipelineObjects: [1, { fields: 'x' }],
      }),
    ],
    [
      'patchOperations odd',
      rec('apigateway.amazonaws.com', 'UpdateAccount', { patchOperations: 'x' }),
    ],
  ])('odd input (%s): the shared empty array, no throw', (_name, r) => {
    expect(passRolesOf(r)).toBe(NO_PASS_ROLES);
  });

  it('the empty result is shared and frozen', () => {
    expect(Object.isFrozen(NO_PASS_ROLES)).toBe(true);
    expect(passRolesOf({})).toBe(NO_PASS_ROLES);
  });
});

describe('passRolesOf on real fixture events', () => {
  it.each<[string, string, PassRoleUse[]]>([
    [
      'awsdocs-examples/aws-config-developer-guide.json.gz',
      'PutConfigurationRecorder',
      [{ role: 'arn:aws:iam::222222222222:role/config-role-pdx', service: 'config.amazonaws.com' }],
    ],
    [
      'panther-analysis-tests/aws_rds_iam_role_added.json.gz',
      'AddRoleToDBCluster',
      [{ role: 'arn:aws:iam::123456789012:role/RDS-Lambda-Access', service: 'rds.amazonaws.com' }],
    ],
    [
      'panther-analysis-tests/aws_rds_snapshot_export.json.gz',
      'StartExportTask',
      [
        {
          role: 'arn:aws:iam::123456789012:role/RDSExportRole',
          service: 'export.rds.amazonaws.com',
        },
      ],
    ],
    [
      'stratus-red-team-detonation-logs/aws.persistence.rolesanywhere-create-trust-anchor.json.gz',
      'CreateProfile',
      [
        {
          role: 'arn:aws:iam::791182566784:role/stratus-red-team-trust-anchor-role',
          service: 'rolesanywhere.amazonaws.com',
        },
      ],
    ],
  ])('%s %s', (file, eventName, expected) => {
    const r = recordsOf(file).find((x) => x.eventName === eventName);
    expect(r).toBeDefined();
    expect(passRolesOf(r!)).toEqual(expected);
  });
});

describe('passRoleEvent (the accumulator skips passRolesOf where it is false)', () => {
  it('is true for every event of every row, API-version suffixes included', () => {
    for (const row of PASS_ROLE_ROWS)
      for (const e of row.events) {
        expect(passRoleEvent(row.source, e), `${row.source} ${e}`).toBe(true);
        expect(passRoleEvent(row.source, e + '20150331')).toBe(true);
      }
    expect(passRoleEvent('lambda.amazonaws.com', 'Invoke')).toBe(false);
    expect(passRoleEvent('nosuch.amazonaws.com', 'CreateFunction')).toBe(false);
  });

  it('is false only for events whose records passRolesOf finds nothing in', () => {
    let skipped = 0;
    for (const f of readdirSync(FIXTURES, { recursive: true, encoding: 'utf8' })) {
      if (!f.endsWith('.json.gz') || f.includes('digest')) continue;
      for (const r of recordsOf(f)) {
        if (typeof r !== 'object' || r === null) continue;
        const { eventSource: source, eventName: name } = r as Rec;
        if (typeof source !== 'string' || typeof name !== 'string') continue;
        if (passRoleEvent(source, name)) continue;
        skipped++;
        expect(passRolesOf(r), `${source} ${name}`).toBe(NO_PASS_ROLES);
      }
    }
    expect(skipped).toBeGreaterThan(1000);
  });
});

describe('passRolesOf over every fixture record', () => {
  it('infers exactly for the events that pass roles, and nothing else', () => {
    const inferring = new Map<string, number>();
    let records = 0;
    for (const f of readdirSync(FIXTURES, { recursive: true, encoding: 'utf8' })) {
      if (!f.endsWith('.json.gz') || f.includes('digest')) continue;
      for (const r of recordsOf(f)) {
        if (typeof r !== 'object' || r === null) continue;
        records++;
        const uses = passRolesOf(r);
        for (const u of uses) {
          expect(u.role, f).toMatch(/^arn:aws[a-z-]*:iam::\d{12}:(role|instance-profile)\/.+$/);
          expect(u.service, f).toMatch(/\.amazonaws\.com$/);
        }
        if (uses.length > 0) {
          const key = `${String(r.eventSource)} ${String(r.eventName)}`;
          inferring.set(key, (inferring.get(key) ?? 0) + 1);
        }
      }
    }
    expect(records).toBeGreaterThan(1400);
    expect(Object.fromEntries([...inferring].sort())).toEqual({
      'config.amazonaws.com PutConfigurationRecorder': 1,
      'ec2.amazonaws.com ReplaceIamInstanceProfileAssociation': 1,
      'rds.amazonaws.com AddRoleToDBCluster': 1,
      'rds.amazonaws.com AddRoleToDBInstance': 2,
      'rds.amazonaws.com StartExportTask': 3,
      'rolesanywhere.amazonaws.com CreateProfile': 1,
    });
  });
});
