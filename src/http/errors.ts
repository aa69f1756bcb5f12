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
