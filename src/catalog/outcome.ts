// CloudTrail errorCode (+ errorMessage) → what the event proves about the caller's permissions.
//   succeeded: no errorCode.
//   failed:    an error raised after authorization passed (NoSuchKey, ThrottlingException,
//              ValidationException, Client.DryRunOperation, …): the action was allowed and used.
//   denied:    the request was refused for authorization, or never authenticated at all.
// Authentication failures (InvalidClientTokenId, SignatureDoesNotMatch, ExpiredToken, …) prove
// nothing was evaluated, so they count as denied: they must never grant. Unknown codes count as
// failed unless the message reads like an authorization refusal; that keeps the common case (an
// API-specific error after authorization) granting, as Access Analyzer does.
// Hot path: one Set lookup per errored record; the message scan only runs for codes outside the set.

export type Outcome = 'succeeded' | 'failed' | 'denied';

/**
 * Authorization refusals, by code. Each name also matches with an `Exception` suffix, and with
 * EC2's `Client.` prefix (`Client.UnauthorizedOperation`); see DENIED below.
 */
export const DENIED_CODES: readonly string[] = [
  // IAM / resource policy / SCP / permissions boundary / VPC endpoint policy refusals
  'AccessDenied', // S3, STS, most query APIs; AccessDeniedException for JSON APIs
  'AccessDeniedFault', // DMS
  'VpceAccessDenied', // S3 through a VPC endpoint whose policy refuses
  'UnauthorizedOperation', // EC2 (Client.UnauthorizedOperation)
  'UnauthorizedAccess',
  'Unauthorized',
  'AuthorizationError', // SNS (AuthorizationErrorException)
  'NotAuthorized', // Cognito (NotAuthorizedException)
  'Forbidden', // API Gateway and REST-style APIs (ForbiddenException)
  'OptInRequired', // EC2: account not subscribed / region not enabled: nothing was authorized
  // Authentication failures: no principal was evaluated, so nothing may be granted.
  'InvalidClientTokenId',
  'CloudTrailInvalidClientTokenId', // CloudTrail's own spelling (…Exception)
  'UnrecognizedClient',
  'SignatureDoesNotMatch',
  'InvalidSignature',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'ExpiredToken',
  'RequestExpired', // signature timestamp outside the allowed window
  'TokenRefreshRequired',
  'InvalidToken', // S3
  'InvalidAccessKeyId', // S3
  'AuthFailure', // EC2
];

const DENIED: ReadonlySet<string> = (() => {
  const set = new Set<string>();
  for (const code of DENIED_CODES) {
    set.add(code);
    if (!code.endsWith('Exception')) set.add(code + 'Exception');
  }
  return set;
})();

// Services that raise a generic code (ClientException, InvalidParameterValueException, …) for an
// authorization refusal still say so in the message. Compiled once; case-insensitive.
const DENIED_MESSAGE =
  /not authorized to perform|explicit deny|accessdenied|access denied|no identity-based policy allows|no resource-based policy allows|is not authorized to access/i;

/** Messages longer than this are only scanned in their first part (cost bound for odd input). */
const MAX_MESSAGE_SCAN = 4096;

export function outcomeOf(errorCode: unknown, errorMessage: unknown): Outcome {
  // Absent, null and "" all mean no error: CloudTrail omits the field on success, and hand-edited
  // or converted records write it as null or "".
  if (errorCode === undefined || errorCode === null || errorCode === '') return 'succeeded';
  if (typeof errorCode === 'string') {
    if (DENIED.has(errorCode)) return 'denied';
    // EC2 query API codes: "Client.UnauthorizedOperation", "Client.AuthFailure".
    if (errorCode.startsWith('Client.') && DENIED.has(errorCode.slice(7))) return 'denied';
  }
  if (typeof errorMessage === 'string' && errorMessage.length > 0) {
    const text =
      errorMessage.length > MAX_MESSAGE_SCAN
        ? errorMessage.slice(0, MAX_MESSAGE_SCAN)
        : errorMessage;
    if (DENIED_MESSAGE.test(text)) return 'denied';
  }
  return 'failed';
}
