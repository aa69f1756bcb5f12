// CloudTrail userIdentity → the IAM principal a policy would be attached to (DESIGN.md
// "Principal keys"). Pure and allocation-light: it runs once per record, so validation is a
// hand-written scan (no regex, no split) and skips return shared frozen results.
//
//   AssumedRole    → the role: sessionContext.sessionIssuer.arn (path kept). Without a usable
//                    issuer (hand-edited records, some service-invoked events) the role is derived
//                    from the session ARN, arn:P:sts::ACCT:assumed-role/NAME/SESSION →
//                    arn:P:iam::ACCT:role/NAME. That ARN has no path: a role under a path
//                    (/aws-reserved/sso.amazonaws.com/…, /service-role/…) then gets a second,
//                    path-less key. It is the only name the record gives, so it is kept.
//   IAMUser, Role  → userIdentity.arn when it is an IAM user or role ARN; an assumed-role ARN
//                    found here (some service-invoked and documentation events) collapses to
//                    its role as above.
//   Root           → arn:P:iam::ACCT:root (P from the arn when there is one, else aws).
//   FederatedUser  → its issuer (sessionIssuer.arn: the IAM user or root that called
//                    GetFederationToken); without one there is nobody to attach a policy to.
//   AWSService, AWSAccount, and a type-less identity with only invokedBy → skip 'awsService'.
//   everything else → skip 'noIdentity': missing or malformed identities, Unknown, Directory,
//                    IdentityCenterUser (not an IAM principal), and SAMLUser / WebIdentityUser.
//                    The last two appear on AssumeRoleWithSAML / AssumeRoleWithWebIdentity
//                    themselves: the caller is an external identity that needs no IAM policy
//                    (the role's trust policy decides), and what the session then does is
//                    logged as AssumedRole and keyed to the role.

export type PrincipalResult =
  { arn: string; skip?: undefined } | { skip: 'awsService' | 'noIdentity'; arn?: undefined };

const AWS_SERVICE: PrincipalResult = Object.freeze({ skip: 'awsService' });
const NO_IDENTITY: PrincipalResult = Object.freeze({ skip: 'noIdentity' });

/** IAM caps ARNs well below this; anything longer is not a principal. */
const MAX_ARN = 2048;

const KIND_ROOT = 1;
const KIND_USER = 2;
const KIND_ROLE = 3;

export function principalOf(userIdentity: unknown): PrincipalResult {
  if (typeof userIdentity !== 'object' || userIdentity === null || Array.isArray(userIdentity)) {
    return NO_IDENTITY;
  }
  const u = userIdentity as Record<string, unknown>;
  switch (u.type) {
    case 'AssumedRole': {
      const issuer = issuerArn(u);
      if (iamKind(issuer) === KIND_ROLE) return { arn: issuer as string };
      return fromSessionArn(u.arn);
    }
    case 'IAMUser':
    case 'Role': {
      // The ARN decides the kind: documentation examples label role sessions IAMUser, too.
      const arn = u.arn;
      const kind = iamKind(arn);
      if (kind === KIND_USER || kind === KIND_ROLE) return { arn: arn as string };
      return fromSessionArn(arn);
    }
    case 'Root':
      return rootOf(u);
    case 'FederatedUser': {
      const issuer = issuerArn(u);
      const kind = iamKind(issuer);
      return kind === KIND_USER || kind === KIND_ROOT ? { arn: issuer as string } : NO_IDENTITY;
    }
    case 'AWSService':
    case 'AWSAccount':
      return AWS_SERVICE;
    case undefined:
      // Service-initiated records sometimes carry only {accountId, invokedBy}.
      return typeof u.invokedBy === 'string' && u.invokedBy !== '' ? AWS_SERVICE : NO_IDENTITY;
    default:
      return NO_IDENTITY;
  }
}

function issuerArn(u: Record<string, unknown>): unknown {
  const ctx = u.sessionContext;
  if (typeof ctx !== 'object' || ctx === null) return undefined;
  const issuer = (ctx as Record<string, unknown>).sessionIssuer;
  if (typeof issuer !== 'object' || issuer === null) return undefined;
  return (issuer as Record<string, unknown>).arn;
}

function rootOf(u: Record<string, unknown>): PrincipalResult {
  const arn = u.arn;
  if (iamKind(arn) === KIND_ROOT) return { arn: arn as string };
  const account = u.accountId;
  if (!isAccount(account, 0)) return NO_IDENTITY;
  const partition = typeof arn === 'string' ? partitionOf(arn) : undefined;
  return { arn: 'arn:' + (partition ?? 'aws') + ':iam::' + (account as string) + ':root' };
}

/** arn:P:sts::ACCT:assumed-role/NAME/SESSION → arn:P:iam::ACCT:role/NAME */
function fromSessionArn(arn: unknown): PrincipalResult {
  if (typeof arn !== 'string' || arn.length > MAX_ARN) return NO_IDENTITY;
  const p = partitionEnd(arn);
  if (p < 0 || !arn.startsWith(':sts::', p)) return NO_IDENTITY;
  const acct = p + 6;
  if (!isAccount(arn, acct) || !arn.startsWith(':assumed-role/', acct + 12)) return NO_IDENTITY;
  const name = acct + 12 + 14;
  // NAME/SESSION; a session-less "assumed-role/NAME" (hand-edited records) still names the role.
  let end = arn.indexOf('/', name);
  if (end < 0) end = arn.length;
  else if (end === arn.length - 1) return NO_IDENTITY;
  if (end === name) return NO_IDENTITY;
  return {
    arn: arn.slice(0, p) + ':iam::' + arn.slice(acct, acct + 12) + ':role/' + arn.slice(name, end),
  };
}

/** KIND_* of an IAM principal ARN `arn:P:iam::ACCT:root|user/…|role/…`, 0 when it is not one. */
function iamKind(arn: unknown): number {
  if (typeof arn !== 'string' || arn.length > MAX_ARN) return 0;
  const p = partitionEnd(arn);
  if (p < 0 || !arn.startsWith(':iam::', p)) return 0;
  const acct = p + 6;
  if (!isAccount(arn, acct) || arn.charCodeAt(acct + 12) !== 58 /* : */) return 0;
  const rest = acct + 13;
  if (arn.length === rest + 4 && arn.startsWith('root', rest)) return KIND_ROOT;
  // A name after the type: at least one character, not just a path separator.
  if (arn.length > rest + 5 && arn.startsWith('user/', rest)) return KIND_USER;
  if (arn.length > rest + 5 && arn.startsWith('role/', rest)) return KIND_ROLE;
  return 0;
}

/** Index of the ':' after the partition of `arn:aws…:`, or -1. Partitions: aws, aws-cn, aws-us-gov, … */
function partitionEnd(arn: string): number {
  if (!arn.startsWith('arn:aws')) return -1;
  for (let i = 7; i < arn.length && i < 32; i++) {
    const c = arn.charCodeAt(i);
    if (c === 58 /* : */) return i;
    if (!((c >= 97 && c <= 122) || c === 45 /* - */ || (c >= 48 && c <= 57))) return -1;
  }
  return -1;
}

function partitionOf(arn: string): string | undefined {
  const end = partitionEnd(arn);
  return end < 0 ? undefined : arn.slice(4, end);
}

/** Twelve ASCII digits at `at` (the whole string when `at` is 0 and it is 12 long). */
function isAccount(s: unknown, at: number): boolean {
  if (typeof s !== 'string' || s.length < at + 12) return false;
  if (at === 0 && s.length !== 12) return false;
  for (let i = at; i < at + 12; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}
