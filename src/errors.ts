// Every error trailmint reports about an object or a request, in one place. Errors cross thread
// boundaries as data ({ code, message }): Error subclasses lose their fields in postMessage.

/** What the caller should do: try the object again later, skip it for good, or stop. */
export type ErrorAction = 'retry' | 'skip' | 'fatal';

export const OBJECT_ERRORS = {
  GZIP_CORRUPT: { action: 'skip', text: 'not a valid gzip stream (truncated or corrupt)' },
  TOO_LARGE: { action: 'skip', text: 'larger than the configured size cap' },
  NOT_JSON: { action: 'skip', text: 'not JSON' },
  TRUNCATED: { action: 'skip', text: 'the JSON document ends early (a truncated file)' },
  NOT_UTF8: { action: 'skip', text: 'not valid UTF-8' },
  NOT_CLOUDTRAIL: {
    action: 'skip',
    text: 'JSON, but not a CloudTrail log file ({"Records": [...]})',
  },
  RECORD_TOO_LARGE: { action: 'skip', text: 'a single record exceeds the per-record cap' },
  TOO_MANY_DISTINCT: {
    action: 'skip',
    text: 'names more distinct principals, actions or event pairs than one log file can',
  },
  READ_FAILED: { action: 'retry', text: 'the object could not be read' },
  COMMIT_FAILED: { action: 'retry', text: 'the store refused to commit what the object said' },
  WORKER_FAILED: { action: 'retry', text: 'the parser worker failed unexpectedly' },
} as const satisfies Record<string, { action: ErrorAction; text: string }>;

export type ObjectErrorCode = keyof typeof OBJECT_ERRORS;

export interface ObjectError {
  code: ObjectErrorCode;
  message: string;
}

export function objectError(code: ObjectErrorCode, detail?: string): ObjectError {
  const text = OBJECT_ERRORS[code].text;
  return { code, message: detail ? `${text}: ${detail}` : text };
}

export function errorAction(code: ObjectErrorCode): ErrorAction {
  return OBJECT_ERRORS[code].action;
}

/** A user-facing error with a stable code (CLI exit message, HTTP 4xx body). */
export class UsageError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'UsageError';
    this.code = code;
  }
}

/** A read failure with the code the caller should act on (TOO_LARGE: skip; READ_FAILED: retry). */
export class ObjectReadError extends Error {
  readonly code: ObjectErrorCode;
  constructor(code: ObjectErrorCode, detail: string) {
    super(objectError(code, detail).message);
    this.name = 'ObjectReadError';
    this.code = code;
  }
}

/** Any error from `S3Source.fetch` / `SourceObject.read` as data. */
export function readErrorOf(err: unknown): ObjectError {
  if (err instanceof ObjectReadError) return { code: err.code, message: err.message };
  const e = err as { name?: string; message?: string };
  return objectError('READ_FAILED', e.name && e.message ? `${e.name}: ${e.message}` : String(err));
}
