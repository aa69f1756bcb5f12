// Action names + resource samples → least-privilege policy documents. Pure: the same input gives
// byte-identical JSON (every list sorted with the locale-free default comparison).
import type { ActionInfo, Catalog, ResourceTypeInfo } from '../catalog/types.ts';
import { splitStatements } from './split.ts';
import type { PolicyResult, Statement } from './types.ts';

export interface PassRoleGrant {
  /** role ARN */
  role: string;
  /** service principal the role was handed to, e.g. lambda.amazonaws.com */
  service: string;
}

export interface MaterializeInput {
  principal: string;
  /** ISO days, inclusive; echoed into the result */
  from: string;
  to: string;
  /** canonical "prefix:Action" names used in the window */
  used: readonly string[];
  denied: readonly string[];
  /** action name → observed ARN sample (may hold `*` generalizations) */
  resources: ReadonlyMap<string, readonly string[]>;
  passRoles: readonly PassRoleGrant[];
  /** fill resources that were not observed with the catalog's ARN formats instead of `*` */
  placeholders: boolean;
}

const PASS_ROLE = 'iam:PassRole';

interface Group {
  resources: string[];
  actions: string[];
}
const ANY = ['*'];

export function materialize(input: MaterializeInput, catalog: Catalog): PolicyResult {
  const used = sortedUnique(input.used);
  // Placeholder ARNs get the principal's partition and keep every other `${...}`, as Access
  // Analyzer's do (its API reference shows `"Resource":"arn:aws:s3:::${BucketName}"`).
  const partition = /^arn:([^:]+):/.exec(input.principal)?.[1] ?? 'aws';
  const unknown: string[] = [];

  // service → resource set → actions; `used` is sorted, so each action list comes out sorted.
  // A resource set is found by its first ARN, then compared whole: hashing a joined key of every
  // ARN per action cost more than the rest of the grouping (CPU profile).
  const byService = new Map<string, Map<string, Group[]>>();
  for (const name of used) {
    const info = catalog.info(name);
    if (!info) unknown.push(name);
    const resources = info
      ? resourcesFor(info, input.resources.get(name), input.placeholders, partition)
      : ANY;
    const service = info ? info.service : name.slice(0, Math.max(0, name.indexOf(':')));
    let groups = byService.get(service);
    if (!groups) byService.set(service, (groups = new Map()));
    const same = groups.get(resources[0]);
    const group = same?.find((g) => sameList(g.resources, resources));
    if (group) group.actions.push(name);
    else if (same) same.push({ resources, actions: [name] });
    else groups.set(resources[0], [{ resources, actions: [name] }]);
  }

  const statements: Statement[] = [];
  for (const service of [...byService.keys()].sort()) {
    const word = sidWord(service);
    const groups: Group[] = [];
    for (const same of byService.get(service)!.values()) for (const g of same) groups.push(g);
    // Ordered by the resource set as one string (ARNs joined by a newline), compared list by list.
    if (groups.length > 1) groups.sort((a, b) => compareLists(a.resources, b.resources));
    let n = 0;
    for (const { resources, actions } of groups) {
      n++;
      statements.push({
        Sid: `${word}Allow${n}`,
        Effect: 'Allow',
        Action: single(actions),
        Resource: single(resources),
      });
    }
  }
  statements.push(...passRoleStatements(input.passRoles));

  const inferred = input.passRoles.length ? [PASS_ROLE] : [];
  return {
    principal: input.principal,
    from: input.from,
    to: input.to,
    actions: inferred.length ? sortedUnique([...used, ...inferred]) : used,
    inferred,
    denied: sortedUnique(input.denied),
    unknown,
    policies: splitStatements(statements),
  };
}

/**
 * Resource set of one known action, sorted. Observed ARNs when the action supports resource-level
 * permissions; a required resource type none of them matches (RunInstances needs its image, subnet,
 * … besides the instance) is added as its placeholder ARN or `*`, or the policy would not work.
 * Without observations: placeholders for the required types (all types when none is required).
 */
function resourcesFor(
  info: ActionInfo,
  observed: readonly string[] | undefined,
  placeholders: boolean,
  partition: string,
): string[] {
  const types = info.resourceTypes;
  if (!types.length) return ANY;
  const required = requiredTypes(info);
  let missing: readonly ResourceTypeInfo[];
  if (observed?.length) {
    missing = required.length ? required.filter((t) => !observed.some((a) => matches(t, a))) : [];
  } else {
    missing = required.length ? required : types;
  }
  // sortedUnique makes the one copy: the observed sample is not copied before it.
  let arns: readonly string[] = observed ?? [];
  if (missing.length) {
    if (!placeholders) return ANY;
    const filled = [...arns];
    for (const t of missing)
      for (const f of t.arnFormats) filled.push(f.replaceAll('${Partition}', partition));
    arns = filled;
  }
  return arns.includes('*') ? ANY : sortedUnique(arns);
}

const requiredByAction = new WeakMap<ActionInfo, readonly ResourceTypeInfo[]>();

/** The action's required resource types (the catalog keeps its infos, so once per action). */
function requiredTypes(info: ActionInfo): readonly ResourceTypeInfo[] {
  let list = requiredByAction.get(info);
  if (list === undefined)
    requiredByAction.set(info, (list = info.resourceTypes.filter((t) => t.required)));
  return list;
}

/** ARNs a type's memo holds before it starts over (bounded: samples are all-time). */
const MAX_MEMO_ARNS = 4096;

/** Per resource type (the catalog keeps its infos): one matcher for all its ARN formats, and
 * what it answered for the ARNs tested so far. */
const typeStates = new WeakMap<ResourceTypeInfo, { re: RegExp; memo: Map<string, boolean> }>();

/**
 * Whether `arn` has the shape of one of the type's formats. Memoized: a policy query tests the
 * same sample ARNs against the same types every time it runs (the regular expressions were a
 * tenth of policyFor's time for a 500-action principal).
 */
function matches(type: ResourceTypeInfo, arn: string): boolean {
  let state = typeStates.get(type);
  if (state === undefined) {
    const sources = type.arnFormats.map((f) => arnMatcher(f).source);
    const re = sources.length ? new RegExp(sources.map((x) => `(?:${x})`).join('|')) : /(?!)/;
    typeStates.set(type, (state = { re, memo: new Map() }));
  }
  let hit = state.memo.get(arn);
  if (hit === undefined) {
    if (state.memo.size >= MAX_MEMO_ARNS) state.memo.clear();
    hit = state.re.test(arn);
    state.memo.set(arn, hit);
  }
  return hit;
}

const matchers = new Map<string, RegExp>();

/**
 * ARN format → matcher: a placeholder is one ARN field or path segment, except the last, which
 * takes the rest (object keys, role paths). A `*` generalization in an observed ARN is a plain
 * character here, so a prefix generalized short of a format's shape counts as not matching: the
 * type is then added, which grants more, never less.
 */
function arnMatcher(format: string): RegExp {
  let re = matchers.get(format);
  if (!re) {
    const parts = format.split(/\$\{[^}]*\}/);
    const escaped = parts.map((p) => p.replace(/[.*+?^$()|[\]\\{}]/g, '\\$&'));
    const last = escaped.length - 1;
    let source = escaped[0];
    for (let i = 1; i <= last; i++)
      source += (i === last && parts[last] === '' ? '.+' : '[^:/]*') + escaped[i];
    re = new RegExp(`^${source}$`);
    matchers.set(format, re);
  }
  return re;
}

/** One statement per receiving service: exactly the roles handed to it, and only to it. */
function passRoleStatements(grants: readonly PassRoleGrant[]): Statement[] {
  const byService = new Map<string, string[]>();
  for (const { role, service } of grants) {
    const roles = byService.get(service);
    if (roles) roles.push(role);
    else byService.set(service, [role]);
  }
  return [...byService.keys()].sort().map((service, i) => ({
    Sid: `InferredPassRole${i + 1}`,
    Effect: 'Allow',
    Action: PASS_ROLE,
    Resource: single(sortedUnique(byService.get(service)!)),
    Condition: { StringEquals: { 'iam:PassedToService': service } },
  }));
}

/** "access-analyzer" → "AccessAnalyzer"; anything outside [A-Za-z0-9] dropped (Sid rule). */
function sidWord(service: string): string {
  return service
    .split('-')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('')
    .replace(/[^A-Za-z0-9]/g, '');
}

function single(list: string[]): string[] | string {
  return list.length === 1 ? list[0] : list;
}

/**
 * The order of a.join('\n') and b.join('\n') without joining: the same whenever no ARN holds a
 * character below '\n' (AWS issues none; a record that spells one in an escape only orders
 * differently, still deterministically).
 */
function compareLists(a: readonly string[], b: readonly string[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) {
      // One a prefix of the other: the shorter is followed by '\n' or ends, so it sorts first.
      return a[i] < b[i] ? -1 : 1;
    }
  }
  return a.length - b.length;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Sorted (default comparison), duplicates dropped; a new array. */
function sortedUnique(list: readonly string[]): string[] {
  // Resource samples come from the store already sorted: a linear check spares the sort.
  let ordered = true;
  for (let i = 1; i < list.length && ordered; i++) ordered = list[i - 1] < list[i];
  if (ordered) return list.slice();
  const sorted = [...list].sort();
  return sorted.filter((s, i) => i === 0 || s !== sorted[i - 1]);
}
