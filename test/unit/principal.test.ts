// principalOf: one row per rule, on real fixture identities wherever the fixtures have one, then a
// pass over every fixture record checked against an independent classification by type.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { principalOf, type PrincipalResult } from '../../src/catalog/principal.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../../../shared/fixtures/cloudtrail');

type Rec = Record<string, unknown>;

function recordsOf(file: string): Rec[] {
  const doc = JSON.parse(gunzipSync(readFileSync(path.join(FIXTURES, file))).toString('utf8'));
  return Array.isArray(doc?.Records) ? doc.Records : [];
}

function allRecords(): { file: string; record: Rec }[] {
  const out: { file: string; record: Rec }[] = [];
  for (const f of readdirSync(FIXTURES, { recursive: true, encoding: 'utf8' }).sort()) {
    if (!f.endsWith('.json.gz') || f.includes('digest')) continue;
    for (const record of recordsOf(f)) {
      if (typeof record === 'object' && record !== null) out.push({ file: f, record });
    }
  }
  return out;
}

/** The userIdentity of the first record of `file` that `pick` accepts (throws when none does). */
function identity(file: string, pick: (u: Rec) => boolean = () => true): unknown {
  for (const r of recordsOf(file)) {
    const u = r.userIdentity as Rec | undefined;
    if (u !== undefined && pick(u)) return u;
  }
  throw new Error(`no matching identity in ${file}`);
}

const arn = (a: string): PrincipalResult => ({ arn: a });
const AWS_SERVICE: PrincipalResult = { skip: 'awsService' };
const NO_IDENTITY: PrincipalResult = { skip: 'noIdentity' };

describe('principalOf rules (real fixture identities)', () => {
  it.each<[string, () => unknown, PrincipalResult]>([
    [
      'AssumedRole → sessionIssuer.arn',
      () =>
        identity('awsdocs-examples/aws-config-developer-guide.json.gz', (u) =>
          String(u.arn).includes('JaneDoe'),
        ),
      arn('arn:aws:iam::111111111111:role/JaneDoe'),
    ],
    [
      'AssumedRole keeps the issuer path (Identity Center role)',
      () =>
        identity('panther-analysis-tests/aws_add_malicious_lambda_extension.json.gz', (u) =>
          String(u.arn).includes('AWSReservedSSO'),
        ),
      arn(
        'arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_DevAdmin_abc123',
      ),
    ],
    [
      'AssumedRole without sessionContext (invokedBy eks) → derived from the session ARN',
      () => identity('panther-analysis-tests/aws_imds_credential_exfiltration.json.gz'),
      arn('arn:aws:iam::123456789012:role/MyAppRole'),
    ],
    [
      'AssumedRole with an issuer lacking an arn → derived (path unknown)',
      () =>
        identity(
          'panther-analysis-tests/aws_cloudtrail_useraccesskeyauth.json.gz',
          (u) =>
            (u.sessionContext as Rec | undefined)?.sessionIssuer !== undefined &&
            ((u.sessionContext as Rec).sessionIssuer as Rec).arn === undefined,
        ),
      arn('arn:aws:iam::187901811700:role/AWSReservedSSO_DevAdmin_635426549a280cc6'),
    ],
    [
      'AssumedRole with malformed accounts everywhere → noIdentity',
      () =>
        identity('panther-analysis-tests/aws_iam_group_read_only_events.json.gz', (u) =>
          String(u.arn).includes('1231231234'),
        ),
      NO_IDENTITY,
    ],
    [
      'AssumedRole with neither issuer arn nor arn → noIdentity',
      () =>
        identity(
          'panther-analysis-tests/aws_resource_made_public.json.gz',
          (u) => u.type === 'AssumedRole' && u.arn === undefined,
        ),
      NO_IDENTITY,
    ],
    [
      'IAMUser → arn',
      () =>
        identity('awsdocs-examples/aws-cloudtrail-user-guide.json.gz', (u) => u.arn !== undefined),
      arn('arn:aws:iam::111122223333:user/anaya'),
    ],
    [
      'IAMUser without arn (doc example) → noIdentity, not a guessed path-less user',
      () =>
        identity('awsdocs-examples/aws-cloudtrail-user-guide.json.gz', (u) => u.arn === undefined),
      NO_IDENTITY,
    ],
    [
      'IAMUser carrying an assumed-role ARN (secretsmanager-invoked) → the role',
      () =>
        identity('awsdocs-examples/aws-secrets-manager-docs.json.gz', (u) => u.type === 'IAMUser'),
      arn('arn:aws:iam::111122223333:role/Admin'),
    ],
    [
      'IAMUser carrying a role ARN (KMS doc example) → that role',
      () =>
        identity('awsdocs-examples/aws-kms-developer-guide.json.gz', (u) =>
          String(u.arn).endsWith(':role/ProjectDev'),
        ),
      arn('arn:aws:iam::111122223333:role/ProjectDev'),
    ],
    [
      'IAMUser with a 9-digit account (hand-edited) → noIdentity',
      () => identity('panther-analysis-tests/aws_iam_user_key_created.json.gz'),
      NO_IDENTITY,
    ],
    [
      'Root (invokedBy autoscaling) → its arn',
      () =>
        identity(
          'grycap-cloudtrail-tracker/sample-cloudtrail-event.json.gz',
          (u) => u.type === 'Root',
        ),
      arn('arn:aws:iam::974349055189:root'),
    ],
    [
      'Root with redacted account and empty arn → noIdentity',
      () => identity('panther-analysis-tests/aws_root_activity.json.gz', (u) => u.arn === ''),
      NO_IDENTITY,
    ],
    [
      'FederatedUser → the IAM user that called GetFederationToken',
      () =>
        identity(
          'stratus-red-team-detonation-logs/aws.persistence.sts-federation-token.json.gz',
          (u) => u.type === 'FederatedUser',
        ),
      arn('arn:aws:iam::742491224508:user/stratus-red-team-user-federation-user'),
    ],
    [
      'FederatedUser without an issuer → noIdentity',
      () =>
        identity(
          'panther-analysis-tests/aws_add_malicious_lambda_extension.json.gz',
          (u) => u.type === 'FederatedUser',
        ),
      NO_IDENTITY,
    ],
    [
      'AWSService → awsService',
      () =>
        identity(
          'awsdocs-examples/aws-kms-developer-guide.json.gz',
          (u) => u.type === 'AWSService',
        ),
      AWS_SERVICE,
    ],
    [
      'AWSAccount → awsService',
      () => identity('awsdocs-examples/iam-user-guide.json.gz', (u) => u.type === 'AWSAccount'),
      AWS_SERVICE,
    ],
    [
      'no type, only invokedBy → awsService',
      () =>
        identity('awsdocs-examples/amazon-s3-developer-guide.json.gz', (u) => u.type === undefined),
      AWS_SERVICE,
    ],
    [
      'empty identity → noIdentity',
      () =>
        identity(
          'panther-analysis-tests/aws_s3_bucket_deleted.json.gz',
          (u) => Object.keys(u).length === 0,
        ),
      NO_IDENTITY,
    ],
    [
      'Unknown, even with an assumed-role arn → noIdentity',
      () => identity('traildiscover-log-examples/AcceptAgreementRequest.json.gz'),
      NO_IDENTITY,
    ],
  ])('%s', (_name, get, expected) => {
    expect(principalOf(get())).toEqual(expected);
  });
});

describe('principalOf rules (shapes the fixtures lack, from the CloudTrail userIdentity reference)', () => {
  it.each<[string, unknown, PrincipalResult]>([
    [
      'Root in aws-cn from its arn',
      { type: 'Root', arn: 'arn:aws-cn:iam::123456789012:root', accountId: '123456789012' },
      arn('arn:aws-cn:iam::123456789012:root'),
    ],
    [
      'Root without arn → built from accountId in the aws partition',
      { type: 'Root', accountId: '123456789012' },
      arn('arn:aws:iam::123456789012:root'),
    ],
    [
      'Root with a non-root arn keeps that arn’s partition',
      { type: 'Root', arn: 'arn:aws-us-gov:iam::123456789012:user/x', accountId: '123456789012' },
      arn('arn:aws-us-gov:iam::123456789012:root'),
    ],
    [
      'AssumedRole in aws-us-gov derived from its session arn',
      { type: 'AssumedRole', arn: 'arn:aws-us-gov:sts::123456789012:assumed-role/Deploy/ci' },
      arn('arn:aws-us-gov:iam::123456789012:role/Deploy'),
    ],
    [
      'AssumedRole session-less arn still names the role',
      { type: 'AssumedRole', arn: 'arn:aws:sts::123456789012:assumed-role/MakeStuffPublic' },
      arn('arn:aws:iam::123456789012:role/MakeStuffPublic'),
    ],
    [
      'AssumedRole issuer that is a user arn is not a role: falls back to the session arn',
      {
        type: 'AssumedRole',
        arn: 'arn:aws:sts::123456789012:assumed-role/R/s',
        sessionContext: { sessionIssuer: { arn: 'arn:aws:iam::123456789012:user/u' } },
      },
      arn('arn:aws:iam::123456789012:role/R'),
    ],
    [
      'FederatedUser issued by root',
      {
        type: 'FederatedUser',
        arn: 'arn:aws:sts::123456789012:federated-user/bob',
        sessionContext: { sessionIssuer: { type: 'Root', arn: 'arn:aws:iam::123456789012:root' } },
      },
      arn('arn:aws:iam::123456789012:root'),
    ],
    [
      'WebIdentityUser (AssumeRoleWithWebIdentity caller) → noIdentity',
      {
        type: 'WebIdentityUser',
        principalId: 'accounts.google.com:application-id.apps.googleusercontent.com:user-id',
        userName: 'user-id',
        identityProvider: 'accounts.google.com',
      },
      NO_IDENTITY,
    ],
    [
      'SAMLUser (AssumeRoleWithSAML caller) → noIdentity',
      {
        type: 'SAMLUser',
        principalId: 'SampleUkh1i4+ExamplexL/jEvs=:SamlExample',
        userName: 'SamlExample',
      },
      NO_IDENTITY,
    ],
    [
      'IdentityCenterUser → noIdentity',
      { type: 'IdentityCenterUser', accountId: '123456789012', onBehalfOf: { userId: 'x' } },
      NO_IDENTITY,
    ],
    ['Directory → noIdentity', { type: 'Directory', accountId: '123456789012' }, NO_IDENTITY],
    [
      'role arn under a path is kept whole',
      {
        type: 'AssumedRole',
        sessionContext: {
          sessionIssuer: {
            arn: 'arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_abc',
          },
        },
      },
      arn(
        'arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_abc',
      ),
    ],
  ])('%s', (_name, u, expected) => {
    expect(principalOf(u)).toEqual(expected);
  });

  it.each<[string, unknown]>([
    ['undefined', undefined],
    ['null', null],
    ['a number', 42],
    ['a string', 'arn:aws:iam::123456789012:user/x'],
    ['an array', [{ type: 'IAMUser', arn: 'arn:aws:iam::123456789012:user/x' }]],
    ['a numeric type', { type: 7 }],
    ['arn as a number', { type: 'IAMUser', arn: 123456789012 }],
    ['arn as an array', { type: 'IAMUser', arn: ['arn:aws:iam::123456789012:user/x'] }],
    ['sessionContext as a string', { type: 'AssumedRole', sessionContext: 'x' }],
    ['sessionIssuer as null', { type: 'AssumedRole', sessionContext: { sessionIssuer: null } }],
    ['an 11-digit account', { type: 'IAMUser', arn: 'arn:aws:iam::12345678901:user/x' }],
    ['a 13-digit account', { type: 'IAMUser', arn: 'arn:aws:iam::1234567890123:user/x' }],
    ['a user without a name', { type: 'IAMUser', arn: 'arn:aws:iam::123456789012:user/' }],
    ['a non-aws partition', { type: 'IAMUser', arn: 'arn:gcp:iam::123456789012:user/x' }],
    ['an sts user arn', { type: 'IAMUser', arn: 'arn:aws:sts::123456789012:user/x' }],
    [
      'a role arn under an iam assumed-role',
      { type: 'AssumedRole', arn: 'arn:aws:iam::123456789012:assumed-role/R/s' },
    ],
    [
      'assumed-role without a name',
      { type: 'AssumedRole', arn: 'arn:aws:sts::123456789012:assumed-role//s' },
    ],
    [
      'assumed-role with an empty session',
      { type: 'AssumedRole', arn: 'arn:aws:sts::123456789012:assumed-role/R/' },
    ],
    [
      'an ARN over 2048 characters',
      { type: 'IAMUser', arn: 'arn:aws:iam::123456789012:user/' + 'x'.repeat(2100) },
    ],
    ['a huge string type', { type: 'x'.repeat(1_000_000) }],
    ['invokedBy empty', { invokedBy: '' }],
    ['invokedBy not a string', { invokedBy: 1 }],
  ])('odd input (%s) → noIdentity, never a throw', (_name, u) => {
    expect(principalOf(u)).toEqual(NO_IDENTITY);
  });

  it('skips are shared frozen objects (no allocation per skipped record)', () => {
    const a = principalOf(undefined);
    expect(principalOf(null)).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
    expect(principalOf({ type: 'AWSService' })).toBe(principalOf({ type: 'AWSAccount' }));
  });
});

/** The test's own reading of a type: what principalOf must do with a well-formed identity. */
const EXPECTED_BY_TYPE: Record<string, 'key' | 'awsService' | 'noIdentity' | 'either'> = {
  AssumedRole: 'either', // key unless malformed (hand-edited accounts, missing arns)
  IAMUser: 'either',
  Root: 'either',
  FederatedUser: 'either',
  AWSService: 'awsService',
  AWSAccount: 'awsService',
  Unknown: 'noIdentity',
};

const PRINCIPAL_ARN = /^arn:aws[a-z0-9-]*:iam::\d{12}:(root|user\/.+|role\/.+)$/;

describe('principalOf over every fixture record', () => {
  const records = allRecords();

  it('keys or skips each record as its type allows, and keys are well-formed IAM ARNs', () => {
    const counts: Record<string, number> = { key: 0, awsService: 0, noIdentity: 0 };
    const keys = new Set<string>();
    for (const { file, record } of records) {
      const u = record.userIdentity as Rec | undefined;
      const result = principalOf(u);
      const got = result.skip ?? 'key';
      counts[got]++;
      if (result.arn !== undefined) {
        keys.add(result.arn);
        expect(result.arn, file).toMatch(PRINCIPAL_ARN);
      }
      const type = u?.type;
      if (u === undefined || Object.keys(u).length === 0) expect(got, file).toBe('noIdentity');
      else if (type === undefined)
        expect(got, file).toBe(typeof u.invokedBy === 'string' ? 'awsService' : 'noIdentity');
      else {
        const rule = EXPECTED_BY_TYPE[String(type)];
        expect(rule, `type ${String(type)} (${file}) is not in EXPECTED_BY_TYPE`).toBeDefined();
        if (rule === 'either') expect(got, file).not.toBe('awsService');
        else expect(got, file).toBe(rule);
      }
      // A well-formed issuer role is always the key, verbatim.
      const issuer = (u?.sessionContext as Rec | undefined)?.sessionIssuer as Rec | undefined;
      if (
        type === 'AssumedRole' &&
        typeof issuer?.arn === 'string' &&
        PRINCIPAL_ARN.test(issuer.arn)
      )
        if (issuer.arn.includes(':role/')) expect(result.arn, file).toBe(issuer.arn);
    }
    // 6 AWSAccount + 20 AWSService + 11 invokedBy-only records.
    expect(counts.awsService).toBe(37);
    // Every record is keyed or counted; most fixtures carry usable identities.
    expect(counts.key + counts.awsService + counts.noIdentity).toBe(records.length);
    expect(counts.key).toBeGreaterThan(1250);
    expect(counts.noIdentity).toBeLessThan(100);
    expect(keys.size).toBeGreaterThan(150);
  });
});
