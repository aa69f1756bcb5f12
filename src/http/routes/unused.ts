// POST /v1/unused: given the policies a principal holds today, which granted actions it never
// used in the window, the reduction in percent, and the least-privilege replacement (the generated
// policy limited to what the given policies grant). See src/policy/unused.ts for what "granted"
// means: actions only (wildcards and NotAction expanded against the catalog); resources and
// conditions do not narrow an Allow; only an unconditional Deny on "*" subtracts.
//
// Body: {principal, from?, to?, policies: [<document>, …]} or {…, policy: <document>}. A principal
// the store never saw is 404 UNKNOWN_PRINCIPAL (usually a typo); one idle in the window gets its
// report (everything granted is unused). A malformed document is 400 BAD_POLICY naming the place.
import type { FastifyInstance } from 'fastify';
import { policyFor } from '../../policy/query.ts';
import { parsePolicies, unusedPermissions, type UnusedResult } from '../../policy/unused.ts';
import { dayOf, dayToIso } from '../../state/delta.ts';
import type { AppDeps } from '../app.ts';
import { ERROR_SCHEMA, HttpError } from '../errors.ts';
import { POLICY_DOCUMENT, STRINGS, WINDOW_PROPERTIES } from '../schemas.ts';
import { assertKnownPrincipal } from '../principal.ts';
import { checkPrincipalArn, parseWindow } from '../validation.ts';

/** Managed policies per role (quota up to 20) + inline policies + group policies, with room. */
export const MAX_POLICIES = 100;

interface Body {
  principal: string;
  from?: string;
  to?: string;
  policies?: unknown[];
  policy?: unknown;
}

// Documents are checked by parsePolicies, whose 400 names the exact statement and key to fix;
// the schema only fixes the envelope.
const DOCUMENT = { type: 'object' } as const;

const BODY = {
  type: 'object',
  additionalProperties: false,
  required: ['principal'],
  properties: {
    ...WINDOW_PROPERTIES,
    policies: { type: 'array', minItems: 1, maxItems: MAX_POLICIES, items: DOCUMENT },
    policy: DOCUMENT,
  },
} as const;

const RESULT = {
  type: 'object',
  properties: {
    principal: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    granted: { type: 'integer' },
    used: STRINGS,
    unused: STRINGS,
    reductionPercent: { type: 'number' },
    notGranted: STRINGS,
    unmatched: STRINGS,
    suggested: { type: 'array', items: POLICY_DOCUMENT },
  },
} as const;

export async function unusedRoutes(
  app: FastifyInstance,
  { deps }: { deps: AppDeps },
): Promise<void> {
  const { store, catalog } = deps;
  const now = deps.now ?? Date.now;

  app.post<{ Body: Body }>(
    '/v1/unused',
    {
      // The body limit is the app's (BODY_LIMIT_BYTES): a 413 BODY_TOO_LARGE beyond it.
      schema: {
        querystring: { type: 'object', additionalProperties: false, properties: {} },
        body: BODY,
        response: { 200: RESULT, '4xx': ERROR_SCHEMA, '5xx': ERROR_SCHEMA },
      },
    },
    async (req): Promise<UnusedResult> => {
      const body = req.body;
      const principal = checkPrincipalArn(body.principal);
      const { fromDay, toDay } = parseWindow(body.from, body.to, dayOf(now()));
      if ((body.policies === undefined) === (body.policy === undefined)) {
        throw new HttpError(
          'BAD_PARAMETER',
          'give the policies the principal holds as "policies": [<policy document>, …] or one as "policy": <policy document>',
        );
      }
      const statements =
        body.policies !== undefined
          ? parsePolicies(body.policies, (i) => `policies[${i}]`)
          : parsePolicies([body.policy], () => 'policy');
      const result = await policyFor(
        store,
        catalog,
        principal,
        { fromDay, toDay },
        {
          placeholders: false,
        },
      );
      if (result === undefined) await assertKnownPrincipal(store, principal);
      return unusedPermissions(
        {
          principal,
          from: dayToIso(fromDay),
          to: dayToIso(toDay),
          used: result?.actions ?? [],
          statements,
          generated: result?.policies ?? [],
        },
        catalog,
      );
    },
  );
}
