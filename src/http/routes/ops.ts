// Operations routes: probes, Prometheus scraping and ingest status.
import type { FastifyInstance } from 'fastify';
import { ERROR_SCHEMA, HttpError } from '../errors.ts';
import type { AppDeps } from '../app.ts';

const STATE = {
  type: 'object',
  required: ['status'],
  properties: { status: { type: 'string' } },
} as const;

const COUNTS = (keys: readonly string[]) =>
  ({
    type: 'object',
    required: keys,
    properties: Object.fromEntries(keys.map((k) => [k, { type: 'number' }])),
  }) as const;

const NULLABLE_STRING = { type: ['string', 'null'] } as const;

/** These routes take no parameter: any query parameter is a mistake, answered 400. */
const NO_QUERY = { type: 'object', additionalProperties: false, properties: {} } as const;

const STATUS = {
  type: 'object',
  properties: {
    startedAt: { type: 'string' },
    uptimeSeconds: { type: 'number' },
    store: { type: 'string' },
    objects: COUNTS(['ingested', 'failed', 'skipped']),
    records: COUNTS(['total', 'duplicate', 'succeeded', 'failed', 'denied', 'skipped']),
    bytes: COUNTS(['compressed', 'inflated']),
    messages: COUNTS(['received', 'deleted', 'released', 'poison', 'testEvents']),
    newestEventTime: NULLABLE_STRING,
    ingestLagSeconds: { type: ['number', 'null'] },
    unmapped: {
      type: 'object',
      properties: {
        pairs: { type: 'integer' },
        top: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              source: { type: 'string' },
              name: { type: 'string' },
              count: { type: 'integer' },
            },
          },
        },
      },
    },
    failedObjects: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          object: { type: 'string' },
          code: { type: 'string' },
          message: { type: 'string' },
          action: { type: 'string' },
          time: { type: 'string' },
        },
      },
    },
  },
} as const;

export async function opsRoutes(app: FastifyInstance, { deps }: { deps: AppDeps }): Promise<void> {
  const { telemetry, ready } = deps;

  app.get(
    '/healthz',
    { schema: { querystring: NO_QUERY, response: { 200: STATE, '4xx': ERROR_SCHEMA } } },
    async () => ({ status: 'alive' }),
  );

  const readyzSchema = {
    querystring: NO_QUERY,
    response: { 200: STATE, '4xx': ERROR_SCHEMA, '5xx': ERROR_SCHEMA },
  };
  app.get('/readyz', { schema: readyzSchema }, async () => {
    if (!ready())
      throw new HttpError('NOT_READY', 'not ready: the store, consumer or worker pool is not up');
    return { status: 'ready' };
  });

  // Text format: a string payload bypasses the JSON serializer.
  app.get('/metrics', { schema: { querystring: NO_QUERY } }, async (_req, reply) => {
    reply.type(telemetry.contentType);
    return telemetry.metrics();
  });

  app.get(
    '/v1/status',
    {
      schema: {
        querystring: NO_QUERY,
        response: { 200: STATUS, '4xx': ERROR_SCHEMA, '5xx': ERROR_SCHEMA },
      },
    },
    () => telemetry.status(),
  );
}
