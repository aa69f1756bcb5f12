// GET /v1/denied: what a principal tried in a window and was refused for authorization — the
// fastest way to see what a too-tight policy breaks. Denied actions are never granted by the
// generated policies (materialize lists them under `denied` only).
//
// The window selects which actions count (denied on some day of it); `count`, `lastSeen` and
// `errorCode` are all-time per action, as in /v1/actions: the store keeps per-day sets of action
// ids, not per-day counters. The 400s and the 404 UNKNOWN_PRINCIPAL are /v1/policy's; a known
// principal refused nothing in the window gets 200 with an empty list.
import type { FastifyInstance } from 'fastify';
import { dayOf, dayToIso } from '../../state/delta.ts';
import type { AppDeps } from '../app.ts';
import { ERROR_SCHEMA } from '../errors.ts';
import { WINDOW_QUERY } from '../schemas.ts';
import { assertKnownPrincipal } from '../principal.ts';
import { checkPrincipalArn, parseWindow } from '../validation.ts';

interface Query {
  principal: string;
  from?: string;
  to?: string;
}

export interface DeniedEntry {
  action: string;
  /** denied events, all time */
  count: number;
  /** ISO time of the latest denial (all time) */
  lastSeen: string | null;
  /** CloudTrail errorCode of the latest denial, e.g. AccessDenied, UnauthorizedOperation */
  errorCode: string | null;
}

export interface DeniedResult {
  principal: string;
  from: string;
  to: string;
  /** newest denial first, then by action */
  denied: DeniedEntry[];
}

const NULLABLE_STRING = { type: ['string', 'null'] } as const;

const RESULT = {
  type: 'object',
  required: ['principal', 'from', 'to', 'denied'],
  properties: {
    principal: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    denied: {
      type: 'array',
      items: {
        type: 'object',
        required: ['action', 'count', 'lastSeen', 'errorCode'],
        properties: {
          action: { type: 'string' },
          count: { type: 'integer' },
          lastSeen: NULLABLE_STRING,
          errorCode: NULLABLE_STRING,
        },
      },
    },
  },
} as const;

export async function deniedRoutes(
  app: FastifyInstance,
  { deps }: { deps: AppDeps },
): Promise<void> {
  const { store } = deps;
  const now = deps.now ?? Date.now;

  app.get<{ Querystring: Query }>(
    '/v1/denied',
    {
      schema: {
        querystring: WINDOW_QUERY,
        response: { 200: RESULT, '4xx': ERROR_SCHEMA, '5xx': ERROR_SCHEMA },
      },
    },
    async (req): Promise<DeniedResult> => {
      const principal = checkPrincipalArn(req.query.principal);
      const { fromDay, toDay } = parseWindow(req.query.from, req.query.to, dayOf(now()));
      const [window, names] = await Promise.all([
        store.windowActions(principal, fromDay, toDay),
        store.actionNames(),
      ]);
      const details = window.denied.length
        ? await store.actionDetails(principal, window.denied)
        : [];
      if (details.length === 0) await assertKnownPrincipal(store, principal);
      const denied = details
        .map((d) => ({
          action: names[d.action],
          count: d.deniedCount,
          lastSeen: d.deniedLast > 0 ? new Date(d.deniedLast).toISOString() : null,
          errorCode: d.deniedCode || null,
          last: d.deniedLast,
        }))
        .sort((a, b) => b.last - a.last || (a.action < b.action ? -1 : a.action > b.action ? 1 : 0))
        .map(({ last: _last, ...entry }) => entry);
      return { principal, from: dayToIso(fromDay), to: dayToIso(toDay), denied };
    },
  );
}
