// outcomeOf: one row per rule, then every distinct errorCode of the real fixtures, classified by an
// explicit table: a new code in the fixtures fails here until someone decides what it means.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DENIED_CODES, outcomeOf, type Outcome } from '../../src/catalog/outcome.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../../../shared/fixtures/cloudtrail');

function fixtureRecords(): { file: string; record: Record<string, unknown> }[] {
  const out: { file: string; record: Record<string, unknown> }[] = [];
  for (const f of readdirSync(FIXTURES, { recursive: true, encoding: 'utf8' }).sort()) {
    if (!f.endsWith('.json.gz') || f.includes('digest')) continue;
    const doc = JSON.parse(gunzipSync(readFileSync(path.join(FIXTURES, f))).toString('utf8'));
    if (!Array.isArray(doc?.Records)) continue;
    for (const record of doc.Records) {
      if (typeof record === 'object' && record !== null) out.push({ file: f, record });
    }
  }
  return out;
}

const NOT_AUTHORIZED =
  'User: arn:aws:iam::187901811700:user/exposed.user is not authorized to perform: lambda:ListFunctions on resource: * because no identity-based policy allows the lambda:ListFunctions action';

describe('outcomeOf rules', () => {
  it.each<[string, unknown, unknown, Outcome]>([
    ['no errorCode', undefined, undefined, 'succeeded'],
    ['null errorCode (converted records)', null, null, 'succeeded'],
    ['empty errorCode', '', undefined, 'succeeded'],
    ['AccessDenied', 'AccessDenied', NOT_AUTHORIZED, 'denied'],
    ['AccessDeniedException', 'AccessDeniedException', undefined, 'denied'],
    ['EC2 Client.UnauthorizedOperation', 'Client.UnauthorizedOperation', undefined, 'denied'],
    ['EC2 UnauthorizedOperation', 'UnauthorizedOperation', undefined, 'denied'],
    ['UnauthorizedAccess', 'UnauthorizedAccess', undefined, 'denied'],
    ['UnauthorizedException', 'UnauthorizedException', undefined, 'denied'],
    ['Client.AccessDenied', 'Client.AccessDenied', undefined, 'denied'],
    ['SNS AuthorizationError', 'AuthorizationError', undefined, 'denied'],
    ['SNS AuthorizationErrorException', 'AuthorizationErrorException', undefined, 'denied'],
    ['Cognito NotAuthorizedException', 'NotAuthorizedException', undefined, 'denied'],
    ['ForbiddenException', 'ForbiddenException', undefined, 'denied'],
    ['Forbidden', 'Forbidden', undefined, 'denied'],
    ['DMS AccessDeniedFault', 'AccessDeniedFault', undefined, 'denied'],
    ['S3 VPC endpoint policy', 'VpceAccessDenied', undefined, 'denied'],
    ['EC2 OptInRequired', 'OptInRequired', undefined, 'denied'],
    ['authn: InvalidClientTokenId', 'InvalidClientTokenId', undefined, 'denied'],
    ['authn: UnrecognizedClientException', 'UnrecognizedClientException', undefined, 'denied'],
    ['authn: SignatureDoesNotMatch', 'SignatureDoesNotMatch', undefined, 'denied'],
    ['authn: ExpiredToken', 'ExpiredToken', undefined, 'denied'],
    ['authn: ExpiredTokenException', 'ExpiredTokenException', undefined, 'denied'],
    ['authn: RequestExpired', 'RequestExpired', undefined, 'denied'],
    ['authn: EC2 AuthFailure', 'Client.AuthFailure', undefined, 'denied'],
    ['authn: S3 InvalidAccessKeyId', 'InvalidAccessKeyId', undefined, 'denied'],
    ['authn: CloudTrail spelling', 'CloudTrailInvalidClientTokenIdException', undefined, 'denied'],
    ['generic code, "not authorized to perform"', 'ClientException', NOT_AUTHORIZED, 'denied'],
    [
      'generic code, explicit deny',
      'InvalidParameterValueException',
      'with an explicit deny in a service control policy',
      'denied',
    ],
    ['generic code, "Access Denied"', 'SomeErrorCode', 'Access Denied', 'denied'],
    ['NoSuchKey', 'NoSuchKey', 'The specified key does not exist.', 'failed'],
    ['ThrottlingException', 'ThrottlingException', 'Rate exceeded', 'failed'],
    ['ResourceNotFoundException', 'ResourceNotFoundException', 'Function not found', 'failed'],
    ['ValidationException', 'ValidationException', '1 validation error detected', 'failed'],
    [
      'DryRun passes authorization',
      'Client.DryRunOperation',
      'Request would have succeeded',
      'failed',
    ],
    ['EntityAlreadyExists', 'EntityAlreadyExists', undefined, 'failed'],
    ['Client. prefix of a non-auth code', 'Client.InvalidParameterValue', undefined, 'failed'],
    ['unknown code', 'SomethingNew', undefined, 'failed'],
    ['case matters for codes', 'accessdenied', undefined, 'failed'],
  ])('%s', (_name, code, message, expected) => {
    expect(outcomeOf(code, message)).toBe(expected);
  });

  it('every DENIED_CODES entry is denied, with and without Exception', () => {
    for (const code of DENIED_CODES) {
      expect(outcomeOf(code, undefined), code).toBe('denied');
      if (!code.endsWith('Exception'))
        expect(outcomeOf(code + 'Exception', undefined)).toBe('denied');
    }
  });

  it.each<[string, unknown, unknown]>([
    ['a number', 403, undefined],
    ['an object', { code: 'AccessDenied' }, undefined],
    ['an array', ['AccessDenied'], undefined],
    ['true', true, undefined],
    ['a number message', 'X', 42],
    ['a huge message', 'X', 'y'.repeat(5_000_000)],
  ])('odd input (%s) is failed, never a throw', (_name, code, message) => {
    expect(outcomeOf(code, message)).toBe('failed');
  });

  it('an odd code with an authorization message is still denied', () => {
    expect(outcomeOf(403, NOT_AUTHORIZED)).toBe('denied');
  });
});

/** Every errorCode found in ../shared/fixtures, classified by hand. */
const FIXTURE_CODES: Record<string, Outcome> = {
  '': 'succeeded',
  AccessDenied: 'denied',
  'Client.UnauthorizedOperation': 'denied',
  UnauthorizedOperation: 'denied',
  UnauthorizedException: 'denied',
  VpceAccessDenied: 'denied',
  CloudTrailInvalidClientTokenIdException: 'denied',
  ExpiredToken: 'denied',
  RequestExpired: 'denied',
  Blocked: 'failed',
  BucketNotEmpty: 'failed',
  'Client.DryRunOperation': 'failed',
  'Client.InvalidInstanceID.Malformed': 'failed',
  'Client.InvalidNetworkAclId.Malformed': 'failed',
  'Client.InvalidParameterCombination': 'failed',
  'Client.InvalidParameterValue': 'failed',
  'Client.InvalidRequest': 'failed',
  'Client.InvalidSnapshotID.Malformed': 'failed',
  'Client.NetworkInterfaceNotSupported': 'failed',
  ClientException: 'failed',
  ConflictException: 'failed',
  DBInstanceNotFoundFault: 'failed',
  EntityAlreadyExists: 'failed',
  EntityNotFoundException: 'failed',
  EntityTemporarilyUnmodifiableException: 'failed',
  InternalFailure: 'failed',
  InvalidCharacter: 'failed',
  InvalidDBInstanceState: 'failed',
  InvalidDBSnapshotState: 'failed',
  InvalidDeliveryChannelNameException: 'failed',
  InvalidKeyUsageException: 'failed',
  InvalidTrailNameException: 'failed',
  KMSInvalidStateException: 'failed',
  LimitExceededException: 'failed',
  NoSuchBucket: 'failed',
  NoSuchDeliveryChannelException: 'failed',
  NoSuchEntity: 'failed',
  NoSuchEntityException: 'failed',
  NoSuchLifecycleConfiguration: 'failed',
  NotFoundException: 'failed',
  PasswordPolicyViolation: 'failed',
  ResourceNotFoundException: 'failed',
  SomeErrorCode: 'failed',
  UnknownParameter: 'failed',
  ValidationError: 'failed',
  ValidationException: 'failed',
};

describe('outcomeOf over every fixture record', () => {
  const records = fixtureRecords();

  it('classifies every distinct fixture errorCode as the table says', () => {
    const seen = new Set<string>();
    for (const { file, record } of records) {
      const code = record.errorCode;
      if (code === undefined) continue;
      expect(typeof code, file).toBe('string');
      seen.add(code as string);
      expect(outcomeOf(code, record.errorMessage), `${file} ${String(code)}`).toBe(
        FIXTURE_CODES[code as string],
      );
    }
    expect([...seen].sort()).toEqual(Object.keys(FIXTURE_CODES).sort());
  });

  it('counts outcomes without throwing', () => {
    const counts: Record<Outcome, number> = { succeeded: 0, failed: 0, denied: 0 };
    for (const { record } of records) counts[outcomeOf(record.errorCode, record.errorMessage)]++;
    expect(counts.succeeded + counts.failed + counts.denied).toBe(records.length);
    // 203 AccessDenied + 92 Client.UnauthorizedOperation + a few others.
    expect(counts.denied).toBeGreaterThan(295);
    expect(counts.failed).toBeGreaterThan(50);
    expect(counts.succeeded).toBeGreaterThan(1000);
  });
});
