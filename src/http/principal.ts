// The 404 of a route about one principal whose ARN the store never saw (usually a typo, or a
// session ARN instead of its role), worded as GET /v1/policy words it.
import type { Store } from '../state/store.ts';
import { HttpError } from './errors.ts';
import { sessionHint } from './validation.ts';

export function unknownPrincipalMessage(principal: string): string {
  return `no activity recorded for ${principal}${sessionHint(principal)}; GET /v1/principals lists who was seen`;
}

/** Throws 404 UNKNOWN_PRINCIPAL unless the store holds some activity of `principal`, ever. */
export async function assertKnownPrincipal(store: Store, principal: string): Promise<void> {
  if ((await store.actionDetails(principal)).length === 0)
    throw new HttpError('UNKNOWN_PRINCIPAL', unknownPrincipalMessage(principal));
}
