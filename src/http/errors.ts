// Every error code the HTTP API answers with, and its status, in one place. Bodies are always
// `{"error": {"code", "message"}}`; the message says what to fix, never how the server failed.

export const HTTP_ERRORS = {
  /** a parameter failed its JSON schema (missing, unknown, wrong type, out of range) */
  BAD_PARAMETER: 400,
  /** not an IAM principal ARN */
  BAD_ARN: 400,
  /** not a YYYY-MM-DD calendar date */
  BAD_DATE: 400,
  /** from after to */
  BAD_WINDOW: 400,
  /** a `nextToken` this server did not hand out */
  BAD_NEXT_TOKEN: 400,
  /** a request the server could not read (a body that is not JSON, a malformed URL) */
  BAD_REQUEST: 400,
  /** a policy document given to POST /v1/unused is not a valid IAM identity policy */
  BAD_POLICY: 400,
  UNAUTHORIZED: 401,
  /** no such route */
  NOT_FOUND: 404,
  /** the store holds no activity at all for the principal */
  UNKNOWN_PRINCIPAL: 404,
  /** the principal is known, but did nothing in the requested window */
  NO_ACTIVITY: 404,
  BODY_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  INTERNAL: 500,
  NOT_READY: 503,
} as const satisfies Record<string, number>;

export type HttpErrorCode = keyof typeof HTTP_ERRORS;

export interface ErrorBody {
  error: { code: string; message: string };
}

export class HttpError extends Error {
  readonly code: HttpErrorCode;
  readonly statusCode: number;
  constructor(code: HttpErrorCode, message: string) {
    super(message);
    this.name = 'HttpError';
    this.code = code;
    this.statusCode = HTTP_ERRORS[code];
  }
}

export function isHttpErrorCode(code: string): code is HttpErrorCode {
  return Object.hasOwn(HTTP_ERRORS, code);
}

export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}

/** The one response schema of every 4xx/5xx answer. */
export const ERROR_SCHEMA = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' } },
    },
  },
} as const;

// ---- The Access Analyzer compatible routes (/policy/generation…) answer in AWS's REST-JSON error
// shape instead: header `x-amzn-errortype: <type>` and body `{"message", …}`, which the AWS SDK
// turns into its typed exceptions (ValidationException, ResourceNotFoundException, …).

export const AWS_ERRORS = {
  /** a parameter is missing, malformed or out of range; `fieldList` names it */
  ValidationException: 400,
  /** no or a wrong bearer token while TRAILMINT_API_TOKEN is set */
  AccessDeniedException: 403,
  /** no such policy generation job (never started, evicted or expired) */
  ResourceNotFoundException: 404,
  /** no such operation under /policy */
  UnknownOperationException: 404,
  /** a clientToken reused with different parameters */
  ConflictException: 409,
  InternalServerException: 500,
} as const satisfies Record<string, number>;

export type AwsErrorType = keyof typeof AWS_ERRORS;

/** ValidationExceptionReason of the Access Analyzer API. */
export type AwsValidationReason = 'cannotParse' | 'fieldValidationFailed' | 'other';

export interface AwsErrorFields {
  reason?: AwsValidationReason;
  fieldList?: { name: string; message: string }[];
  resourceId?: string;
  resourceType?: string;
}

export class AwsError extends Error {
  readonly type: AwsErrorType;
  readonly statusCode: number;
  readonly fields: AwsErrorFields;
  constructor(type: AwsErrorType, message: string, fields: AwsErrorFields = {}) {
    super(message);
    this.name = 'AwsError';
    this.type = type;
    this.statusCode = AWS_ERRORS[type];
    this.fields = fields;
  }
}

/** The body of an AWS-shaped error: `message` first, then the type's own members. */
export function awsErrorBody(err: AwsError): { message: string } & AwsErrorFields {
  return { message: err.message, ...err.fields };
}

/** The response schema of every 4xx/5xx answer on the Access Analyzer compatible routes. */
export const AWS_ERROR_SCHEMA = {
  type: 'object',
  required: ['message'],
  properties: {
    message: { type: 'string' },
    reason: { type: 'string' },
    fieldList: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'message'],
        properties: { name: { type: 'string' }, message: { type: 'string' } },
      },
    },
    resourceId: { type: 'string' },
    resourceType: { type: 'string' },
  },
} as const;
