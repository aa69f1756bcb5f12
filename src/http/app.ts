// The HTTP API, built without listening (tests drive it with inject; `serve` calls listen).
// Every answer is JSON with a schema; every error is {"error": {"code", "message"}} with a code
// from errors.ts and never a stack trace.
import http from 'node:http';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifySchemaValidationError,
} from 'fastify';
import type { Logger } from 'pino';
import type { Catalog } from '../catalog/types.ts';
import { UsageError } from '../errors.ts';
import type { Store } from '../state/store.ts';
import type { Telemetry } from '../telemetry.ts';
import { bearerAuth, bearerCheck } from './auth.ts';
import {
  HTTP_ERRORS,
  HttpError,
  errorBody,
  isHttpErrorCode,
  type HttpErrorCode,
} from './errors.ts';
import { accessAnalyzerRoutes, type PolicyJobOptions } from './routes/accessanalyzer.ts';
import { deniedRoutes } from './routes/denied.ts';
import { opsRoutes } from './routes/ops.ts';
import { PolicyResponses, policyRoutes } from './routes/policy.ts';
import { principalsRoutes } from './routes/principals.ts';
import { unusedRoutes } from './routes/unused.ts';
import { webRoutes } from './routes/web.ts';

/** The only body route (POST /v1/unused) takes one policy document; IAM caps those far below. */
export const BODY_LIMIT_BYTES = 1024 * 1024;
/** Whole request, headers to last body byte (slowloris); applies once listening. */
export const REQUEST_TIMEOUT_MS = 30_000;
/** How often Node looks for requests over their timeout (its default, 30 s, doubles the wait). */
const TIMEOUT_CHECK_MS = 1_000;
/** Fastify's own default, which a server of our own must set itself. */
const KEEP_ALIVE_TIMEOUT_MS = 72_000;

export interface AppDeps {
  store: Store;
  catalog: Catalog;
  telemetry: Telemetry;
  /** when set, every route but the probes and /metrics needs `Authorization: Bearer <apiToken>` */
  apiToken?: string;
  /** store open, consumer running, pool alive */
  ready: () => boolean;
  /** ms since the epoch; decides "today" for default windows */
  now?: () => number;
  logger?: Logger;
  /** Access Analyzer compatible policy generation jobs kept in memory (cap, TTL; see routes/accessanalyzer.ts) */
  policyJobs?: Partial<PolicyJobOptions>;
  /** default REQUEST_TIMEOUT_MS; a request not fully received by then gets 408 and is closed */
  requestTimeoutMs?: number;
}

const PARAMETER_PLACE: Record<string, string> = {
  querystring: 'query parameter',
  params: 'path parameter',
  headers: 'header',
  body: 'body',
};

/** Ajv errors → one sentence naming the parameter and the rule it broke. */
function schemaErrorFormatter(errors: FastifySchemaValidationError[], dataVar: string): Error {
  const place = PARAMETER_PLACE[dataVar] ?? dataVar;
  const problems = errors.map((e) => {
    if (e.keyword === 'additionalProperties')
      return `unknown ${place} "${String(e.params.additionalProperty)}"`;
    if (e.keyword === 'required') return `missing ${place} "${String(e.params.missingProperty)}"`;
    const field = e.instancePath.slice(1).replaceAll('/', '.');
    return field ? `${place} "${field}" ${e.message}` : `${place} ${e.message}`;
  });
  return new HttpError('BAD_PARAMETER', problems.join('; '));
}

/** Fastify's own 4xx (body parsing, URL) mapped onto our codes. */
function frameworkCode(err: FastifyError): HttpErrorCode {
  if (err.statusCode === 413) return 'BODY_TOO_LARGE';
  if (err.statusCode === 415) return 'UNSUPPORTED_MEDIA_TYPE';
  return 'BAD_REQUEST';
}

export function buildApp(deps: AppDeps): FastifyInstance {
  const requestTimeout = deps.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  const responses = new PolicyResponses(
    deps,
    deps.apiToken === undefined ? undefined : bearerCheck(deps.apiToken),
  );
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger | undefined,
    bodyLimit: BODY_LIMIT_BYTES,
    requestTimeout,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    // The server Fastify would make, with the policy fast path in front of its router
    // (PolicyResponses; inject() in tests goes to the router directly).
    serverFactory: (handler) => {
      const server = http.createServer(
        {
          // Headers count against the same deadline (Node's own default is a separate 60 s).
          headersTimeout: requestTimeout,
          connectionsCheckingInterval: Math.min(TIMEOUT_CHECK_MS, requestTimeout),
        },
        (req, res) => {
          const fast = responses.serve(req, res);
          if (fast === false) handler(req, res);
          else
            fast.then(
              (served) => served || handler(req, res),
              (err: unknown) => (res.headersSent ? res.destroy(err as Error) : handler(req, res)),
            );
        },
      );
      server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
      server.requestTimeout = requestTimeout;
      return server;
    },
    // Probes and scrapes every few seconds would drown everything else; errors are logged below.
    logController: new LogController({ disableRequestLogging: true }),
    // Reject unknown parameters (a typo like `form=` must not silently mean "default window").
    ajv: { customOptions: { removeAdditional: false } },
    schemaErrorFormatter,
  });

  if (deps.apiToken !== undefined) app.addHook('onRequest', bearerAuth(deps.apiToken));

  app.setErrorHandler((err: FastifyError | HttpError | UsageError, req, reply) => {
    let code: HttpErrorCode;
    let message = err.message;
    if (err instanceof HttpError) code = err.code;
    else if (err instanceof UsageError)
      code = isHttpErrorCode(err.code) ? err.code : 'BAD_PARAMETER';
    else if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500)
      code = frameworkCode(err);
    else {
      code = 'INTERNAL';
      message = `internal error; the server log has it under request id ${req.id}`;
      req.log.error({ err, code, url: req.routeOptions.url }, 'request failed');
    }
    if (code === 'UNAUTHORIZED') reply.header('www-authenticate', 'Bearer realm="trailmint"');
    return reply.code(HTTP_ERRORS[code]).send(errorBody(code, message));
  });

  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?', 1)[0].slice(0, 200);
    return reply.code(404).send(errorBody('NOT_FOUND', `no route ${req.method} ${path}`));
  });

  void app.register(opsRoutes, { deps });
  void app.register(principalsRoutes, { deps });
  void app.register(policyRoutes, { deps, responses });
  void app.register(unusedRoutes, { deps });
  void app.register(deniedRoutes, { deps });
  void app.register(accessAnalyzerRoutes, { deps });
  void app.register(webRoutes);
  return app;
}
