// IAM Access Analyzer compatible policy generation: the REST paths and shapes of
// StartPolicyGeneration, GetGeneratedPolicy, ListPolicyGenerations and CancelPolicyGeneration, so
// scripts written for Access Analyzer work with the real @aws-sdk/client-accessanalyzer pointed at
// trailmint (`new AccessAnalyzerClient({ endpoint: 'http://trailmint:8080', region, credentials })`).
//
// How it differs from Access Analyzer, on purpose:
// - Jobs read trailmint's own state: `trails` and `accessRole` are accepted, validated and
//   recorded (trails are echoed in `trailProperties`), never used to read CloudTrail.
// - The window is the UTC days covering [startTime, endTime] (endTime defaults to now), the same
//   days `GET /v1/policy?from=&to=` takes, and the generated policies are exactly /v1/policy's
//   documents for them; `cloudTrailProperties.startTime/endTime` report those whole days. No
//   90-day cap, no one-job-at-a-time limit.
// - A job completes while StartPolicyGeneration answers (milliseconds): SUCCEEDED, or FAILED with
//   jobError RESOURCE_NOT_FOUND_ERROR when the principal did nothing in the window (an empty policy
//   would read as "needs nothing"). Both placeholder variants are materialized at start, so a job
//   is a snapshot. Jobs live in memory: at most `maxJobs` (oldest evicted first) for `ttlSecs`.
// - CancelPolicyGeneration marks a job CANCELED and drops its policies (an IN_PROGRESS job never
//   exists); cancelling a FAILED or CANCELED job changes nothing.
// - includeServiceLevelTemplate=true: Access Analyzer adds services it saw only at service level
//   (from service-last-accessed data) as a template. trailmint has action-level data for every
//   action the catalog knows; the services it knows only by a name absent from the catalog (the
//   policy's `unknown` actions, which `isComplete: false` flags) get an extra `<service>:*` on `*`
//   statement (Sid `<Service>ServiceLevel`) to review. Without such actions the policies are the
//   same as without the flag.
// - Same clientToken and same parameters → the same job; same token, other parameters →
//   ConflictException (AWS's idempotency rule).
//
// Errors are AWS REST-JSON: header `x-amzn-errortype` and body `{message, …}` (errors.ts
// AWS_ERRORS), which the SDK raises as its typed exceptions; never HTML, never our own
// `{error: {code}}`, also for unknown paths under /policy. Auth: with TRAILMINT_API_TOKEN set,
// these routes take the same `Authorization: Bearer <token>` as the rest of the API (constant-time
// compare in auth.ts); a missing or wrong one is AccessDeniedException (403). The SDK signs with
// SigV4 instead, so give the client a middleware that replaces the header after signing:
//
//   client.middlewareStack.addRelativeTo(
//     (next) => (args) => {
//       (args.request as { headers: Record<string, string> }).headers.authorization = `Bearer ${token}`;
//       return next(args);
//     },
//     { relation: 'after', toMiddleware: 'httpSigningMiddleware', name: 'trailmintBearer' },
//   );
//
// Any credentials and region do for signing; the signature itself is not checked.
import { randomUUID } from 'node:crypto';
import type {
  FastifyError,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  FastifySchemaValidationError,
} from 'fastify';
import { UsageError } from '../../errors.ts';
import { policyFor, type PolicyResult } from '../../policy/query.ts';
import { splitStatements } from '../../policy/split.ts';
import type { PolicyDocument, Statement } from '../../policy/types.ts';
import { MS_PER_DAY, dayOf, dayToIso } from '../../state/delta.ts';
import type { AppDeps } from '../app.ts';
import {
  AWS_ERROR_SCHEMA,
  AwsError,
  HttpError,
  awsErrorBody,
  type AwsErrorFields,
} from '../errors.ts';
import { unknownPrincipalMessage } from '../principal.ts';
import { checkPrincipalArn, parseWindow } from '../validation.ts';

export interface PolicyJobOptions {
  /** jobs kept; beyond it the oldest is evicted (default 1000) */
  maxJobs: number;
  /** seconds a job is kept after it completed (default 7 days) */
  ttlSecs: number;
}

export const POLICY_JOB_DEFAULTS: PolicyJobOptions = { maxJobs: 1000, ttlSecs: 7 * 86_400 };

export const LIST_MAX_RESULTS = 1000;
const LIST_DEFAULT_RESULTS = 100;

type JobStatus = 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED' | 'CANCELED';

interface Trail {
  cloudTrailArn: string;
  regions?: string[];
  allRegions?: boolean;
}

interface Job {
  jobId: string;
  /** creation order: list order and page tokens */
  seq: number;
  principalArn: string;
  status: JobStatus;
  startedOn: number;
  completedOn: number;
  expiresAt: number;
  clientToken: string | undefined;
  /** the request's parameters as sent, to tell a retry from a reused token */
  fingerprint: string;
  trails: Trail[];
  accessRole: string | undefined;
  /** ms: the first instant of the first day and the last of the last day of the window */
  windowStart: number;
  windowEnd: number;
  /** serialized documents without and with resource placeholders; dropped on cancel */
  policies: { plain: string[]; placeholders: string[] } | undefined;
  /** services with actions the catalog lacks (the service-level template) */
  serviceLevel: string[];
  isComplete: boolean;
  jobError: { code: string; message: string } | undefined;
}

/** The jobs of one app, in creation order (a Map iterates in insertion order). */
export class PolicyJobs {
  private readonly jobs = new Map<string, Job>();
  private readonly byToken = new Map<string, string>();
  private seq = 0;
  private readonly options: PolicyJobOptions;
  private readonly now: () => number;
  constructor(options: PolicyJobOptions, now: () => number) {
    this.options = options;
    this.now = now;
  }

  get size(): number {
    this.sweep();
    return this.jobs.size;
  }

  nextSeq(): number {
    return ++this.seq;
  }

  get(jobId: string): Job | undefined {
    this.sweep();
    return this.jobs.get(jobId);
  }

  byClientToken(token: string): Job | undefined {
    this.sweep();
    const id = this.byToken.get(token);
    return id === undefined ? undefined : this.jobs.get(id);
  }

  add(job: Job): void {
    this.jobs.set(job.jobId, job);
    if (job.clientToken !== undefined) this.byToken.set(job.clientToken, job.jobId);
    while (this.jobs.size > this.options.maxJobs) this.delete(this.jobs.values().next().value!);
  }

  /** Newest first. */
  list(): Job[] {
    this.sweep();
    return [...this.jobs.values()].reverse();
  }

  /** Jobs expire in creation order (same TTL, completed at creation), so the oldest go first. */
  private sweep(): void {
    const now = this.now();
    for (const job of this.jobs.values()) {
      if (job.expiresAt > now) break;
      this.delete(job);
    }
  }

  private delete(job: Job): void {
    this.jobs.delete(job.jobId);
    if (job.clientToken !== undefined) this.byToken.delete(job.clientToken);
  }
}

export function checkPolicyJobOptions(over: Partial<PolicyJobOptions> = {}): PolicyJobOptions {
  const options = { ...POLICY_JOB_DEFAULTS, ...over };
  for (const [key, value] of Object.entries(options)) {
    if (!Number.isSafeInteger(value) || value < 1)
      throw new RangeError(`policy jobs: ${key} must be a whole number ≥ 1, got ${value}`);
  }
  return options;
}

// ---- schemas ------------------------------------------------------------------------------

// Epoch seconds first: with Ajv's type coercion a string branch would turn a number into a string.
const TIME = { anyOf: [{ type: 'number' }, { type: 'string', maxLength: 64 }] } as const;
// Access Analyzer's own patterns for these ARNs.
const TRAIL_ARN = '^arn:[^:]*:cloudtrail:[^:]*:[^:]*:trail/.{1,576}$';
const ROLE_ARN = '^arn:[^:]*:iam::[^:]*:role/.{1,576}$';

const TRAIL = {
  type: 'object',
  additionalProperties: false,
  required: ['cloudTrailArn'],
  properties: {
    cloudTrailArn: { type: 'string', pattern: TRAIL_ARN, maxLength: 2048 },
    regions: { type: 'array', maxItems: 64, items: { type: 'string', maxLength: 64 } },
    allRegions: { type: 'boolean' },
  },
} as const;

const START_BODY = {
  type: 'object',
  additionalProperties: false,
  required: ['policyGenerationDetails'],
  properties: {
    policyGenerationDetails: {
      type: 'object',
      additionalProperties: false,
      required: ['principalArn'],
      properties: { principalArn: { type: 'string', minLength: 1, maxLength: 2048 } },
    },
    cloudTrailDetails: {
      type: 'object',
      additionalProperties: false,
      required: ['startTime'],
      properties: {
        trails: { type: 'array', maxItems: 100, items: TRAIL },
        accessRole: { type: 'string', pattern: ROLE_ARN, maxLength: 2048 },
        startTime: TIME,
        endTime: TIME,
      },
    },
    clientToken: { type: 'string', minLength: 1, maxLength: 256 },
  },
} as const;

const JOB_PARAMS = {
  type: 'object',
  additionalProperties: false,
  required: ['jobId'],
  properties: { jobId: { type: 'string', minLength: 1, maxLength: 256 } },
} as const;

/** StartPolicyGeneration and CancelPolicyGeneration take nothing in the query string. */
const NO_QUERY = { type: 'object', additionalProperties: false, properties: {} } as const;

// CancelPolicyGeneration sends no body; a JSON one, if any, must be empty. (A schema for the
// JSON media type only: Fastify would otherwise refuse the missing body as "not an object".)
const CANCEL_BODY = {
  content: {
    'application/json': {
      schema: { type: 'object', additionalProperties: false, properties: {} },
    },
  },
} as const;

const GET_QUERY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    includeResourcePlaceholders: { type: 'boolean', default: false },
    includeServiceLevelTemplate: { type: 'boolean', default: false },
  },
} as const;

const LIST_QUERY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    principalArn: { type: 'string', minLength: 1, maxLength: 2048 },
    maxResults: {
      type: 'integer',
      minimum: 1,
      maximum: LIST_MAX_RESULTS,
      default: LIST_DEFAULT_RESULTS,
    },
    nextToken: { type: 'string', minLength: 1, maxLength: 1024 },
  },
} as const;

const TRAIL_PROPERTIES = {
  type: 'object',
  properties: {
    cloudTrailArn: { type: 'string' },
    regions: { type: 'array', items: { type: 'string' } },
    allRegions: { type: 'boolean' },
  },
} as const;

const GET_RESULT = {
  type: 'object',
  required: ['jobDetails', 'generatedPolicyResult'],
  properties: {
    jobDetails: {
      type: 'object',
      required: ['jobId', 'status', 'startedOn'],
      properties: {
        jobId: { type: 'string' },
        status: { type: 'string' },
        startedOn: { type: 'string' },
        completedOn: { type: 'string' },
        jobError: {
          type: 'object',
          properties: { code: { type: 'string' }, message: { type: 'string' } },
        },
      },
    },
    generatedPolicyResult: {
      type: 'object',
      required: ['properties'],
      properties: {
        properties: {
          type: 'object',
          required: ['principalArn'],
          properties: {
            principalArn: { type: 'string' },
            isComplete: { type: 'boolean' },
            cloudTrailProperties: {
              type: 'object',
              properties: {
                trailProperties: { type: 'array', items: TRAIL_PROPERTIES },
                startTime: { type: 'string' },
                endTime: { type: 'string' },
              },
            },
          },
        },
        generatedPolicies: {
          type: 'array',
          items: { type: 'object', properties: { policy: { type: 'string' } } },
        },
      },
    },
  },
} as const;

const LIST_RESULT = {
  type: 'object',
  required: ['policyGenerations'],
  properties: {
    policyGenerations: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          jobId: { type: 'string' },
          principalArn: { type: 'string' },
          status: { type: 'string' },
          startedOn: { type: 'string' },
          completedOn: { type: 'string' },
        },
      },
    },
    nextToken: { type: 'string' },
  },
} as const;

const START_RESULT = {
  type: 'object',
  required: ['jobId'],
  properties: { jobId: { type: 'string' } },
} as const;

const RESPONSES = (ok: object) => ({ 200: ok, '4xx': AWS_ERROR_SCHEMA, '5xx': AWS_ERROR_SCHEMA });

// ---- request parsing ------------------------------------------------------------------------

interface StartBody {
  policyGenerationDetails: { principalArn: string };
  cloudTrailDetails?: {
    trails?: Trail[];
    accessRole?: string;
    startTime: string | number;
    endTime?: string | number;
  };
  clientToken?: string;
}

// ISO-8601 date-time with a zone, as the SDK writes timestamps (`2024-03-01T00:00:00Z`).
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i;

function validation(field: string, message: string): AwsError {
  return new AwsError('ValidationException', `${field}: ${message}`, {
    reason: 'fieldValidationFailed',
    fieldList: [{ name: field, message }],
  });
}

/** A timestamp member: ISO-8601 with a zone, or epoch seconds (other SDKs' JSON timestamps). */
function timeOf(value: string | number, field: string): number {
  const ms =
    typeof value === 'number' ? value * 1000 : DATE_TIME.test(value) ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) {
    throw validation(
      field,
      `must be an ISO-8601 date-time with a zone (2024-03-01T00:00:00Z) or epoch seconds, got ${JSON.stringify(value)}`,
    );
  }
  return ms;
}

function schemaErrors(errors: FastifySchemaValidationError[], dataVar: string): Error {
  const fieldList = errors.map((e) => {
    const base = e.instancePath.slice(1).replaceAll('/', '.');
    const join = (leaf: string) => (base ? `${base}.${leaf}` : leaf);
    if (e.keyword === 'additionalProperties')
      return { name: join(String(e.params.additionalProperty)), message: 'unknown member' };
    if (e.keyword === 'required')
      return { name: join(String(e.params.missingProperty)), message: 'required member missing' };
    return { name: base || dataVar, message: e.message ?? 'invalid' };
  });
  return new AwsError(
    'ValidationException',
    fieldList.map((f) => `${f.name}: ${f.message}`).join('; '),
    { reason: 'fieldValidationFailed', fieldList },
  );
}

/** Any error on these routes → the AWS shape. */
function toAwsError(err: FastifyError | HttpError | UsageError | AwsError): AwsError | undefined {
  if (err instanceof AwsError) return err;
  if (err instanceof HttpError && err.code === 'UNAUTHORIZED')
    return new AwsError('AccessDeniedException', err.message);
  if (err instanceof UsageError || err instanceof HttpError)
    return new AwsError('ValidationException', err.message, { reason: 'other' });
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
    return new AwsError('ValidationException', err.message, {
      reason: err.statusCode === 400 ? 'cannotParse' : 'other',
    });
  }
  return undefined;
}

function sendAws(reply: FastifyReply, req: FastifyRequest, err: AwsError): FastifyReply {
  return reply
    .code(err.statusCode)
    .header('x-amzn-requestid', req.id)
    .header('x-amzn-errortype', err.type)
    .type('application/json')
    .send(awsErrorBody(err));
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function notFound(jobId: string): AwsError {
  const fields: AwsErrorFields = { resourceId: jobId, resourceType: 'PolicyGeneration' };
  return new AwsError(
    'ResourceNotFoundException',
    `no policy generation job ${jobId} (never started here, evicted or expired)`,
    fields,
  );
}

function sidWord(service: string): string {
  return service
    .split('-')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('')
    .replace(/[^A-Za-z0-9]/g, '');
}

/** The documents with one `<service>:*` statement per service known only at service level. */
function withServiceLevel(policies: readonly string[], services: readonly string[]): string[] {
  const statements: Statement[] = policies.flatMap(
    (p) => (JSON.parse(p) as PolicyDocument).Statement,
  );
  for (const service of services) {
    statements.push({
      Sid: `${sidWord(service)}ServiceLevel`,
      Effect: 'Allow',
      Action: `${service}:*`,
      Resource: '*',
    });
  }
  return splitStatements(statements).map((d) => JSON.stringify(d));
}

// ---- routes ------------------------------------------------------------------------------------

export async function accessAnalyzerRoutes(
  app: FastifyInstance,
  { deps }: { deps: AppDeps },
): Promise<void> {
  await app.register(policyGenerationRoutes, { deps, prefix: '/policy' });
}

async function policyGenerationRoutes(
  app: FastifyInstance,
  { deps }: { deps: AppDeps },
): Promise<void> {
  const { store, catalog, telemetry } = deps;
  const now = deps.now ?? Date.now;
  const options = checkPolicyJobOptions(deps.policyJobs);
  const jobs = new PolicyJobs(options, now);

  app.setSchemaErrorFormatter(schemaErrors);
  app.setErrorHandler((err: FastifyError | HttpError | UsageError | AwsError, req, reply) => {
    let aws = toAwsError(err);
    if (aws === undefined) {
      req.log.error({ err, url: req.routeOptions.url }, 'request failed');
      aws = new AwsError(
        'InternalServerException',
        `internal error; the server log has it under request id ${req.id}`,
      );
    }
    return sendAws(reply, req, aws);
  });
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?', 1)[0].slice(0, 200);
    return sendAws(
      reply,
      req,
      new AwsError('UnknownOperationException', `no operation ${req.method} ${path}`),
    );
  });
  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-amzn-requestid', req.id);
  });

  const materialize = async (principal: string, window: { fromDay: number; toDay: number }) => {
    const run = async (placeholders: boolean) => {
      const started = performance.now();
      const result = await policyFor(store, catalog, principal, window, { placeholders });
      telemetry.policyServed((performance.now() - started) / 1000);
      return result;
    };
    return Promise.all([run(false), run(true)]);
  };

  /** The job a clientToken already names, or ConflictException when the parameters differ. */
  const sameJob = (earlier: Job, clientToken: string, fingerprint: string) => {
    if (earlier.fingerprint === fingerprint) return { jobId: earlier.jobId };
    throw new AwsError(
      'ConflictException',
      `clientToken ${clientToken} was used for job ${earlier.jobId} with other parameters; use a new token`,
      { resourceId: earlier.jobId, resourceType: 'PolicyGeneration' },
    );
  };

  const startJob = async (body: StartBody, fingerprint: string): Promise<Job> => {
    const { policyGenerationDetails, cloudTrailDetails, clientToken } = body;
    const principalArn = policyGenerationDetails.principalArn;
    try {
      checkPrincipalArn(principalArn);
    } catch (err) {
      throw validation('policyGenerationDetails.principalArn', (err as Error).message);
    }
    const started = now();
    let window: { fromDay: number; toDay: number };
    if (cloudTrailDetails === undefined) {
      window = parseWindow(undefined, undefined, dayOf(started));
    } else {
      const startMs = timeOf(cloudTrailDetails.startTime, 'cloudTrailDetails.startTime');
      const endMs =
        cloudTrailDetails.endTime === undefined
          ? started
          : timeOf(cloudTrailDetails.endTime, 'cloudTrailDetails.endTime');
      if (endMs <= startMs) {
        throw validation(
          'cloudTrailDetails.endTime',
          `${iso(endMs)} is not after startTime ${iso(startMs)}`,
        );
      }
      window = { fromDay: dayOf(startMs), toDay: dayOf(endMs) };
    }

    const [plain, placeholders] = await materialize(principalArn, window);
    const finished = now();
    const job: Job = {
      jobId: randomUUID(),
      seq: jobs.nextSeq(),
      principalArn,
      status: plain && placeholders ? 'SUCCEEDED' : 'FAILED',
      startedOn: started,
      completedOn: finished,
      expiresAt: finished + options.ttlSecs * 1000,
      clientToken,
      fingerprint,
      trails: cloudTrailDetails?.trails ?? [],
      accessRole: cloudTrailDetails?.accessRole,
      windowStart: window.fromDay * MS_PER_DAY,
      windowEnd: (window.toDay + 1) * MS_PER_DAY - 1,
      policies: undefined,
      serviceLevel: [],
      isComplete: false,
      jobError: undefined,
    };
    if (plain && placeholders) {
      const serialize = (r: PolicyResult) => r.policies.map((d) => JSON.stringify(d));
      job.policies = { plain: serialize(plain), placeholders: serialize(placeholders) };
      job.serviceLevel = [...new Set(plain.unknown.map((a) => a.slice(0, a.indexOf(':'))))]
        .filter((service) => service !== '')
        .sort();
      job.isComplete = plain.unknown.length === 0;
    } else {
      const known = (await store.actionDetails(principalArn)).length > 0;
      job.jobError = {
        code: 'RESOURCE_NOT_FOUND_ERROR',
        message: known
          ? `${principalArn} has no activity from ${dayToIso(window.fromDay)} to ${dayToIso(window.toDay)}`
          : unknownPrincipalMessage(principalArn),
      };
    }
    jobs.add(job);
    return job;
  };

  // A retry can arrive while its first attempt still runs (the SDK gave up waiting): it waits for
  // that attempt's job instead of starting a second one.
  const inflight = new Map<string, Promise<Job>>();

  // StartPolicyGeneration
  app.put<{ Body: StartBody }>(
    '/generation',
    { schema: { querystring: NO_QUERY, body: START_BODY, response: RESPONSES(START_RESULT) } },
    async (req) => {
      const { policyGenerationDetails, cloudTrailDetails, clientToken } = req.body;
      const fingerprint = JSON.stringify([policyGenerationDetails, cloudTrailDetails ?? null]);
      if (clientToken === undefined)
        return { jobId: (await startJob(req.body, fingerprint)).jobId };
      const running = inflight.get(clientToken);
      const earlier = running
        ? await running.catch(() => undefined)
        : jobs.byClientToken(clientToken);
      if (earlier !== undefined) return sameJob(earlier, clientToken, fingerprint);
      const attempt = startJob(req.body, fingerprint);
      inflight.set(clientToken, attempt);
      const done = () => void inflight.delete(clientToken);
      attempt.then(done, done);
      return { jobId: (await attempt).jobId };
    },
  );

  // GetGeneratedPolicy
  app.get<{
    Params: { jobId: string };
    Querystring: { includeResourcePlaceholders: boolean; includeServiceLevelTemplate: boolean };
  }>(
    '/generation/:jobId',
    { schema: { params: JOB_PARAMS, querystring: GET_QUERY, response: RESPONSES(GET_RESULT) } },
    async (req) => {
      const job = jobs.get(req.params.jobId);
      if (job === undefined) throw notFound(req.params.jobId);
      const { includeResourcePlaceholders, includeServiceLevelTemplate } = req.query;
      let generatedPolicies: { policy: string }[] | undefined;
      if (job.policies !== undefined) {
        let docs = includeResourcePlaceholders ? job.policies.placeholders : job.policies.plain;
        if (includeServiceLevelTemplate && job.serviceLevel.length)
          docs = withServiceLevel(docs, job.serviceLevel);
        generatedPolicies = docs.map((policy) => ({ policy }));
      }
      return {
        jobDetails: {
          jobId: job.jobId,
          status: job.status,
          startedOn: iso(job.startedOn),
          completedOn: iso(job.completedOn),
          ...(job.jobError && { jobError: job.jobError }),
        },
        generatedPolicyResult: {
          properties: {
            principalArn: job.principalArn,
            ...(job.status === 'SUCCEEDED' && { isComplete: job.isComplete }),
            cloudTrailProperties: {
              trailProperties: job.trails,
              startTime: iso(job.windowStart),
              endTime: iso(job.windowEnd),
            },
          },
          ...(generatedPolicies && { generatedPolicies }),
        },
      };
    },
  );

  // ListPolicyGenerations: newest first; the token is the creation number of the page's last job.
  app.get<{ Querystring: { principalArn?: string; maxResults: number; nextToken?: string } }>(
    '/generation',
    { schema: { querystring: LIST_QUERY, response: RESPONSES(LIST_RESULT) } },
    async (req) => {
      const { principalArn, maxResults, nextToken } = req.query;
      let before = Infinity;
      if (nextToken !== undefined) {
        const decoded = /^[A-Za-z0-9_-]+$/.test(nextToken)
          ? Buffer.from(nextToken, 'base64url').toString('utf8')
          : '';
        const m = /^seq:(\d{1,15})$/.exec(decoded);
        if (!m)
          throw validation('nextToken', 'not a token this API returned: pass it back unchanged');
        before = Number(m[1]);
      }
      const matching = jobs
        .list()
        .filter(
          (j) => j.seq < before && (principalArn === undefined || j.principalArn === principalArn),
        );
      const page = matching.slice(0, maxResults);
      const policyGenerations = page.map((j) => ({
        jobId: j.jobId,
        principalArn: j.principalArn,
        status: j.status,
        startedOn: iso(j.startedOn),
        completedOn: iso(j.completedOn),
      }));
      if (matching.length <= maxResults) return { policyGenerations };
      const last = page[page.length - 1].seq;
      return { policyGenerations, nextToken: Buffer.from(`seq:${last}`).toString('base64url') };
    },
  );

  // CancelPolicyGeneration
  app.put<{ Params: { jobId: string } }>(
    '/generation/:jobId',
    {
      schema: {
        params: JOB_PARAMS,
        querystring: NO_QUERY,
        body: CANCEL_BODY,
        response: RESPONSES({ type: 'object', properties: {} }),
      },
    },
    async (req) => {
      const job = jobs.get(req.params.jobId);
      if (job === undefined) throw notFound(req.params.jobId);
      if (job.status === 'SUCCEEDED' || job.status === 'IN_PROGRESS') {
        job.status = 'CANCELED';
        job.policies = undefined;
      }
      return {};
    },
  );
}
