// GET /v1/principals: everyone seen, sorted by ARN, in pages. The next token is the last ARN of
// the page (base64url), so a page is stable while new principals arrive.
import type { FastifyInstance } from 'fastify';
import { ERROR_SCHEMA, HttpError } from '../errors.ts';
import type { AppDeps } from '../app.ts';

export const PAGE_LIMIT_DEFAULT = 100;
export const PAGE_LIMIT_MAX = 1000;

interface Query {
  limit: number;
  nextToken?: string;
}

const QUERY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: PAGE_LIMIT_MAX, default: PAGE_LIMIT_DEFAULT },
    nextToken: { type: 'string', minLength: 1, maxLength: 4096 },
  },
} as const;

const PAGE = {
  type: 'object',
  required: ['principals'],
  properties: {
    principals: {
      type: 'array',
      items: {
        type: 'object',
        required: ['principal', 'firstSeen', 'lastSeen', 'actions'],
        properties: {
          principal: { type: 'string' },
          firstSeen: { type: 'string' },
          lastSeen: { type: 'string' },
          actions: { type: 'integer' },
        },
      },
    },
    nextToken: { type: 'string' },
  },
} as const;

function decodeToken(token: string): string {
  const after = /^[A-Za-z0-9_-]+$/.test(token)
    ? Buffer.from(token, 'base64url').toString('utf8')
    : '';
  if (!after.startsWith('arn:')) {
    throw new HttpError(
      'BAD_NEXT_TOKEN',
      'nextToken is not one this API returned: pass it back unchanged',
    );
  }
  return after;
}

export async function principalsRoutes(
  app: FastifyInstance,
  { deps }: { deps: AppDeps },
): Promise<void> {
  app.get<{ Querystring: Query }>(
    '/v1/principals',
    {
      schema: {
        querystring: QUERY,
        response: { 200: PAGE, '4xx': ERROR_SCHEMA, '5xx': ERROR_SCHEMA },
      },
    },
    async (req) => {
      const { limit, nextToken } = req.query;
      const after = nextToken === undefined ? undefined : decodeToken(nextToken);
      // The store lists everyone at once; paging is over its sorted answer.
      const all = (await deps.store.principals()).sort((a, b) =>
        a.principal < b.principal ? -1 : a.principal > b.principal ? 1 : 0,
      );
      const next = after === undefined ? 0 : all.findIndex((p) => p.principal > after);
      const start = next < 0 ? all.length : next;
      const principals = all.slice(start, start + limit);
      const more = start + limit < all.length;
      return more
        ? {
            principals,
            nextToken: Buffer.from(principals[principals.length - 1].principal).toString(
              'base64url',
            ),
          }
        : { principals };
    },
  );
}
