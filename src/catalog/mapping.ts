// CloudTrail (eventSource, eventName) → the canonical IAM actions the call needed.
//
// Resolution order for a pair, first hit wins (tables in mapping-data.ts):
//   1. source is not `<service>[.<region>].amazonaws.com[.cn]`          → []  (unmapped)
//   2. NO_PERMISSION_ROWS: sign-in, SSO portal/OIDC, service events      → []  (unmapped)
//   3. ACTION_ROWS: explicit renames (s3 ListObjects → s3:ListBucket, …) → the row's actions
//   4. service → IAM prefix (SOURCE_RENAMES, SOURCE_FAMILY_RENAMES, else the service itself);
//      prefix unknown to the catalog                                      → []  (unmapped)
//   5. `prefix:eventName` in the catalog (case-insensitive)               → [canonical name]
//   6. an API-version suffix stripped (UpdateFunctionCode20150331v2, GetDistribution2020_05_31)
//      names a catalog action — only tried when the full name is not one → [canonical base]
//   7. VERB_RULES (API Gateway: Create* → apigateway:POST, …)            → the rule's actions
//   8. otherwise, when eventName looks like an action name → [`prefix:eventName`] as logged
//      (and → [], unmapped, when it does not: no junk names in the append-only id table)
// Case 8 is an "unknown action": the prefix is real but the catalog lacks the name (a new API,
// a catalog lag, a hand-made record). The caller keeps it, gives it an id and reports it as
// unknown; it is never dropped. An empty result is what the caller counts as "unmapped", per pair.
//
// Hot path (once per record): results are memoized per (source, name) in a two-level Map, so a
// repeated pair costs two lookups, no string building, and returns the same frozen array.
import type { Catalog } from './types.ts';

/** What an unknown action name may look like (IAM names are ASCII letters and digits). */
const ACTION_NAME = /^[A-Za-z][A-Za-z0-9_]{0,127}$/;
import {
  ACTION_ROWS,
  NO_PERMISSION_ROWS,
  SOURCE_FAMILY_RENAMES,
  SOURCE_RENAMES,
  VERB_RULES,
} from './mapping-data.ts';

export type EventMapper = (eventSource: string, eventName: string) => readonly string[];

/** Memoized pairs kept before the memo starts over; real trails have a few thousand pairs. */
export const DEFAULT_MAX_MEMO_PAIRS = 65_536;

const EMPTY: readonly string[] = Object.freeze([]);
const HOST_SUFFIXES = ['.amazonaws.com', '.amazonaws.com.cn'] as const;
/** a trailing region label, as in "s3.us-west-2" or "kms.us-gov-west-1" */
const REGION_LABEL = /\.[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d+$/;
/** "Name20150331", "Name20150331v2", "Name2020_05_31" → "Name" */
const VERSION_SUFFIX = /^(.+?)(?:\d{8}(?:v\d+)?|\d{4}_\d{2}_\d{2})$/;
const SERVICE_LABEL = /^[a-z0-9][a-z0-9.-]*$/;

/**
 * The service part of an AWS event source host, lower-cased, without ".amazonaws.com" and
 * without a region label: "S3.us-west-2.amazonaws.com" → "s3". Undefined for any other host.
 */
export function serviceOf(eventSource: string): string | undefined {
  const host = eventSource.trim().toLowerCase();
  for (const suffix of HOST_SUFFIXES) {
    if (!host.endsWith(suffix)) continue;
    const service = host.slice(0, -suffix.length).replace(REGION_LABEL, '');
    return SERVICE_LABEL.test(service) ? service : undefined;
  }
  return undefined;
}

/** IAM service prefix for a service label from serviceOf (not checked against a catalog). */
export function prefixOfService(service: string): string {
  const renamed = SOURCE_RENAMES[service];
  if (renamed !== undefined) return renamed;
  for (const [family, prefix] of SOURCE_FAMILY_RENAMES) {
    if (service.startsWith(family)) return prefix;
  }
  return service;
}

/**
 * Builds the mapper for one catalog. Table rows are resolved against the catalog here, once;
 * pairs are resolved on first sight. `maxMemoPairs` bounds the memo: when it is full the memo
 * starts over (hot pairs are re-resolved once), so junk sources cannot grow it without limit.
 */
export function createMapper(
  catalog: Catalog,
  maxMemoPairs: number = DEFAULT_MAX_MEMO_PAIRS,
): EventMapper {
  const services = new Set(catalog.services());
  const canonicalAll = (actions: readonly string[]): readonly string[] =>
    Object.freeze(
      actions.map((a) => {
        const colon = a.indexOf(':');
        return catalog.canonical(a.slice(0, colon), a.slice(colon + 1)) ?? a;
      }),
    );

  // "service name" keys: built once here and once per new pair, never per call.
  const noPermission = new Set<string>();
  for (const row of NO_PERMISSION_ROWS) noPermission.add(rowKey(row.source, row.name));
  const rows = new Map<string, readonly string[]>();
  for (const row of ACTION_ROWS) rows.set(rowKey(row.source, row.name), canonicalAll(row.actions));
  const verbRules = new Map<string, { namePrefix: string; actions: readonly string[] }[]>();
  for (const rule of VERB_RULES) {
    const service = serviceOf(rule.source) ?? rule.source;
    let list = verbRules.get(service);
    if (list === undefined) verbRules.set(service, (list = []));
    list.push({ namePrefix: rule.namePrefix, actions: canonicalAll(rule.actions) });
  }

  const resolve = (eventSource: string, eventName: string): readonly string[] => {
    const service = serviceOf(eventSource);
    if (service === undefined) return EMPTY;
    const key = service + ' ' + eventName;
    if (noPermission.has(key)) return EMPTY;
    const row = rows.get(key);
    if (row !== undefined) return row;
    const prefix = prefixOfService(service);
    if (!services.has(prefix)) return EMPTY;
    const exact = catalog.canonical(prefix, eventName);
    if (exact !== undefined) return Object.freeze([exact]);
    const versioned = VERSION_SUFFIX.exec(eventName);
    if (versioned !== null) {
      const base = catalog.canonical(prefix, versioned[1]);
      if (base !== undefined) return Object.freeze([base]);
    }
    for (const rule of verbRules.get(service) ?? []) {
      if (eventName.startsWith(rule.namePrefix)) return rule.actions;
    }
    // Only a name that could be an IAM action becomes one: junk (a 10 KB name, spaces,
    // punctuation) would otherwise take ids in the store's append-only table.
    if (!ACTION_NAME.test(eventName)) return EMPTY;
    return Object.freeze([prefix + ':' + eventName]);
  };

  // source → name → actions: two lookups per call and no key to build.
  const memo = new Map<string, Map<string, readonly string[]>>();
  let memoPairs = 0;
  return (eventSource, eventName) => {
    let byName = memo.get(eventSource);
    const hit = byName?.get(eventName);
    if (hit !== undefined) return hit;
    const actions = resolve(eventSource, eventName);
    if (memoPairs >= maxMemoPairs) {
      memo.clear();
      memoPairs = 0;
      byName = undefined;
    }
    if (byName === undefined) memo.set(eventSource, (byName = new Map()));
    byName.set(eventName, actions);
    memoPairs++;
    return actions;
  };
}

function rowKey(source: string, name: string): string {
  return (serviceOf(source) ?? source) + ' ' + name;
}
