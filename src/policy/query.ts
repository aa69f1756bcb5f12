// The store-facing edge of materialization: window → ids → names and resource samples → policy.
import type { Catalog } from '../catalog/types.ts';
import { dayToIso, type Day } from '../state/delta.ts';
import type { Store } from '../state/store.ts';
import { materialize } from './materialize.ts';
import type { PolicyResult } from './types.ts';

export type { PolicyResult } from './types.ts';

export interface DayWindow {
  /** UTC days, inclusive */
  fromDay: Day;
  toDay: Day;
}

/**
 * The policy `principal` needed over `window`, or undefined when it did nothing at all there (no
 * used, denied or passed-role activity): an empty policy would read as "needs nothing".
 */
export async function policyFor(
  store: Store,
  catalog: Catalog,
  principal: string,
  window: DayWindow,
  opts: { placeholders: boolean },
): Promise<PolicyResult | undefined> {
  const [ids, names, passRoles] = await Promise.all([
    store.windowActions(principal, window.fromDay, window.toDay),
    store.actionNames(),
    store.passRoles(principal, window.fromDay, window.toDay),
  ]);
  if (!ids.used.length && !ids.denied.length && !passRoles.length) return undefined;

  // Resource samples are all-time (the store keeps no per-day sample); only the window's actions.
  const details = ids.used.length ? await store.actionDetails(principal, ids.used) : [];
  const resources = new Map<string, string[]>();
  for (const d of details) if (d.resources.length) resources.set(names[d.action], d.resources);

  return materialize(
    {
      principal,
      from: dayToIso(window.fromDay),
      to: dayToIso(window.toDay),
      used: namesOf(ids.used, names),
      denied: namesOf(ids.denied, names),
      resources,
      passRoles,
      placeholders: opts.placeholders,
    },
    catalog,
  );
}

/** ids → names; a plain loop (Array.from with a map function over a typed array is far slower). */
function namesOf(ids: Uint32Array, names: readonly string[]): string[] {
  const out = new Array<string>(ids.length);
  for (let i = 0; i < ids.length; i++) out[i] = names[ids[i]];
  return out;
}
