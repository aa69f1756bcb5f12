// Unused permissions: which of the actions that a principal's policies grant it never used in a
// window, and the least-privilege replacement. Pure: policy documents, used action names and the
// generated policy in, a report out (POST /v1/unused and `trailmint unused` do the I/O).
//
// What "granted" means here, on purpose coarser than IAM's evaluation:
// - Only actions count. An Allow statement grants its actions whatever its Resource, NotResource
//   or Condition say (the action is granted on something, under some condition); `Action`
//   patterns (`s3:Get*`, `*`, `?`) and `NotAction` (everything else) are expanded against the
//   action catalog, case-insensitively, as IAM matches action names.
// - A Deny statement subtracts its actions only when it applies to every resource without a
//   condition (`"Resource": "*"`, no Condition): a Deny scoped to some resources or conditions
//   leaves the action granted elsewhere, so subtracting it would report used actions as
//   "not granted" and drop them from the suggestion.
// - Names absent from the catalog: an exact name in an Allow (a new action, or a typo) counts as
//   granted and is listed in `unmatched`, as is a pattern matching no catalog action; a used name
//   the catalog lacks counts as granted when some statement's patterns match it.
//
// Expansion is our own over the catalog, not @cloud-copilot/iam-expand: the catalog is the one
// whose names the store holds (iam-expand ships its own data version), a pattern with a literal
// service prefix only scans that service, and it is synchronous. Measured on this catalog (22,091
// actions, Node 24): iam-expand expands `*` in 8 ms warm but 500 ms on its first call (loading its
// data); a whole report here takes 16 ms for `*` (mostly building and sorting the 22,000-name
// `unused` list) and 1.2 ms for `s3:Get*`.
import { UsageError } from '../errors.ts';
import type { Catalog } from '../catalog/types.ts';
import { splitStatements } from './split.ts';
import type { PolicyDocument, Statement } from './types.ts';

/** One statement as far as action sets go. */
export interface ActionStatement {
  effect: 'Allow' | 'Deny';
  /** NotAction: the statement covers every action its patterns do not match */
  not: boolean;
  /** lower-cased action patterns as written (`*`, `s3:get*`, `iam:passrole`) */
  patterns: string[];
  /** the patterns as written, for `unmatched` */
  written: string[];
  /** every resource, no condition: what a Deny needs to subtract */
  unconditional: boolean;
}

export interface UnusedInput {
  principal: string;
  /** ISO days, inclusive; echoed into the result */
  from: string;
  to: string;
  /** every action used in the window, inferred ones (iam:PassRole) included */
  used: readonly string[];
  statements: readonly ActionStatement[];
  /** the generated least-privilege policy of the window ([] when the principal was idle) */
  generated: readonly PolicyDocument[];
}

/** Key order is the answer's: POST /v1/unused and `trailmint unused --json`. */
export interface UnusedResult {
  principal: string;
  from: string;
  to: string;
  /** distinct actions the policies grant, wildcards and NotAction expanded */
  granted: number;
  /** sorted: granted and used in the window */
  used: string[];
  /** sorted: granted, never used in the window */
  unused: string[];
  /** unused / granted in percent, one decimal (0 when nothing is granted) */
  reductionPercent: number;
  /** sorted: used in the window but not granted by these policies (so granted elsewhere: another
   * attached policy, a group, a resource policy) */
  notGranted: string[];
  /** patterns and names as written that match no catalog action (typos, or newer actions) */
  unmatched: string[];
  /** the generated policy limited to the granted actions: never more than the policies grant */
  suggested: PolicyDocument[];
}

// ---------------------------------------------------------------------------------------------
// Parsing: the documents as given (JSON of unknown shape) → action statements, or a UsageError
// naming the exact place to fix.

const VERSIONS = new Set(['2012-10-17', '2008-10-17']);
const DOCUMENT_KEYS = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_KEYS = new Set([
  'Sid',
  'Effect',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Condition',
]);
// `*`, or service:action where either part may hold * and ? (IAM matches the whole name).
const ACTION = /^(\*|[A-Za-z0-9*?-]+:[A-Za-z0-9_.*?-]+)$/;
/** IAM's own cap on an identity policy is 10,240 characters; this bounds the work per statement. */
export const MAX_PATTERNS_PER_STATEMENT = 1000;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function badPolicy(where: string, problem: string): UsageError {
  return new UsageError('BAD_POLICY', `${where}: ${problem}`);
}

/**
 * Policy documents → action statements. `where(i)` names document i the way the caller's user
 * sees it (`policies[0]`, `policy`, `roles.json[2]`).
 */
export function parsePolicies(
  docs: readonly unknown[],
  where: (i: number) => string,
): ActionStatement[] {
  const out: ActionStatement[] = [];
  docs.forEach((doc, i) => {
    const at = where(i);
    if (!isObject(doc)) throw badPolicy(at, 'must be a policy document {"Version", "Statement"}');
    for (const key of Object.keys(doc)) {
      if (DOCUMENT_KEYS.has(key)) continue;
      const hint = STATEMENT_KEYS.has(key) ? ' (statement keys belong inside "Statement")' : '';
      throw badPolicy(
        at,
        `unknown key "${key}"; a policy document has Version, Id and Statement${hint}`,
      );
    }
    if (doc.Version !== undefined && !VERSIONS.has(doc.Version as string)) {
      throw badPolicy(
        `${at}.Version`,
        `must be "2012-10-17" (or the legacy "2008-10-17"), got ${JSON.stringify(doc.Version)}`,
      );
    }
    const raw = doc.Statement;
    if (raw === undefined) throw badPolicy(at, 'has no "Statement"');
    const statements = Array.isArray(raw) ? raw : [raw];
    if (!Array.isArray(raw) && !isObject(raw))
      throw badPolicy(`${at}.Statement`, 'must be a statement object or a list of them');
    statements.forEach((s, j) => {
      const sat = Array.isArray(raw) ? `${at}.Statement[${j}]` : `${at}.Statement`;
      out.push(parseStatement(s, sat));
    });
  });
  return out;
}

function parseStatement(s: unknown, at: string): ActionStatement {
  if (!isObject(s)) throw badPolicy(at, 'must be an object {"Effect", "Action", "Resource"}');
  for (const key of Object.keys(s)) {
    if (STATEMENT_KEYS.has(key)) continue;
    const hint =
      key === 'Principal' || key === 'NotPrincipal'
        ? ': identity policies name no principal (this looks like a resource or trust policy)'
        : `; a statement has ${[...STATEMENT_KEYS].join(', ')}`;
    throw badPolicy(at, `unknown key "${key}"${hint}`);
  }
  if (s.Effect !== 'Allow' && s.Effect !== 'Deny')
    throw badPolicy(`${at}.Effect`, `must be "Allow" or "Deny", got ${JSON.stringify(s.Effect)}`);
  const hasAction = s.Action !== undefined;
  const hasNot = s.NotAction !== undefined;
  if (hasAction === hasNot) throw badPolicy(at, 'needs exactly one of "Action" and "NotAction"');
  const key = hasAction ? 'Action' : 'NotAction';
  const written = stringList(s[key], `${at}.${key}`, (v) => ACTION.test(v), 'an IAM action');
  if (written.length > MAX_PATTERNS_PER_STATEMENT)
    throw badPolicy(`${at}.${key}`, `more than ${MAX_PATTERNS_PER_STATEMENT} entries`);
  if (hasAction && written.length === 0) throw badPolicy(`${at}.Action`, 'is empty');
  if (s.Resource !== undefined && s.NotResource !== undefined)
    throw badPolicy(at, 'has both "Resource" and "NotResource"');
  if (s.Resource !== undefined) stringList(s.Resource, `${at}.Resource`, () => true, 'a string');
  if (s.NotResource !== undefined)
    stringList(s.NotResource, `${at}.NotResource`, () => true, 'a string');
  if (s.Condition !== undefined && !isObject(s.Condition))
    throw badPolicy(`${at}.Condition`, 'must be an object {"<operator>": {"<key>": value}}');
  const resources = s.Resource === undefined ? [] : [s.Resource].flat();
  return {
    effect: s.Effect,
    not: hasNot,
    patterns: written.map((a) => a.toLowerCase()),
    written,
    unconditional: s.Condition === undefined && resources.includes('*'),
  };
}

function stringList(v: unknown, at: string, ok: (s: string) => boolean, what: string): string[] {
  const list = Array.isArray(v) ? v : [v];
  for (const [k, item] of list.entries()) {
    const iat = Array.isArray(v) ? `${at}[${k}]` : at;
    if (typeof item !== 'string') throw badPolicy(iat, `must be ${what} string`);
    if (!ok(item)) {
      throw badPolicy(
        iat,
        `${JSON.stringify(item)} is not ${what} (expected "service:Action" or "*"; wildcards * and ? allowed)`,
      );
    }
  }
  return list as string[];
}

// ---------------------------------------------------------------------------------------------
// Expansion over the catalog.

interface CatalogIndex {
  names: readonly string[];
  lower: readonly string[];
  /** lower-cased service prefix → indexes into names */
  byService: Map<string, number[]>;
  /** lower-cased name → index */
  byLower: Map<string, number>;
}

const indexes = new WeakMap<Catalog, CatalogIndex>();

function indexOf(catalog: Catalog): CatalogIndex {
  let index = indexes.get(catalog);
  if (index === undefined) {
    const names = catalog.actions();
    const lower = names.map((n) => n.toLowerCase());
    const byService = new Map<string, number[]>();
    const byLower = new Map<string, number>();
    lower.forEach((n, i) => {
      const service = n.slice(0, n.indexOf(':'));
      const list = byService.get(service);
      if (list) list.push(i);
      else byService.set(service, [i]);
      byLower.set(n, i);
    });
    index = { names, lower, byService, byLower };
    indexes.set(catalog, index);
  }
  return index;
}

const WILD = /[*?]/;

function globRegExp(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^$()|[\]\\{}]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll('?', '.');
  return new RegExp(`^${body}$`);
}

/** Marks in `into` every catalog action `pattern` (lower-cased) matches; false when none. */
function expandInto(pattern: string, index: CatalogIndex, into: Uint8Array): boolean {
  if (pattern === '*') {
    into.fill(1);
    return index.names.length > 0;
  }
  if (!WILD.test(pattern)) {
    const i = index.byLower.get(pattern);
    if (i === undefined) return false;
    into[i] = 1;
    return true;
  }
  const colon = pattern.indexOf(':');
  const service = pattern.slice(0, colon);
  const re = globRegExp(pattern);
  let any = false;
  const scan = (i: number) => {
    if (re.test(index.lower[i])) {
      into[i] = 1;
      any = true;
    }
  };
  if (WILD.test(service)) for (let i = 0; i < index.lower.length; i++) scan(i);
  else for (const i of index.byService.get(service) ?? []) scan(i);
  return any;
}

const matchers = new Map<string, RegExp>();

/** Does the statement cover `name` (lower-cased)? For names outside the catalog. */
function covers(s: ActionStatement, name: string): boolean {
  const hit = s.patterns.some((p) => {
    if (!WILD.test(p)) return p === name;
    let re = matchers.get(p);
    if (re === undefined) matchers.set(p, (re = globRegExp(p)));
    return re.test(name);
  });
  return hit !== s.not;
}

// ---------------------------------------------------------------------------------------------

export function unusedPermissions(input: UnusedInput, catalog: Catalog): UnusedResult {
  const index = indexOf(catalog);
  const n = index.names.length;
  const allow = new Uint8Array(n);
  const deny = new Uint8Array(n);
  const scratch = new Uint8Array(n);
  const unmatched = new Set<string>();
  const denies = input.statements.filter((s) => s.effect === 'Deny' && s.unconditional);

  for (const s of input.statements) {
    if (s.effect === 'Deny' && !s.unconditional) continue;
    scratch.fill(0);
    s.patterns.forEach((p, k) => {
      if (!expandInto(p, index, scratch) && s.effect === 'Allow') unmatched.add(s.written[k]);
    });
    const target = s.effect === 'Allow' ? allow : deny;
    for (let i = 0; i < n; i++) if (scratch[i] !== (s.not ? 1 : 0)) target[i] = 1;
  }

  // lower-cased granted name → the name reported
  const granted = new Map<string, string>();
  for (let i = 0; i < n; i++) if (allow[i] && !deny[i]) granted.set(index.lower[i], index.names[i]);
  const outside = (lower: string) =>
    input.statements.some((s) => s.effect === 'Allow' && covers(s, lower)) &&
    !denies.some((s) => covers(s, lower));
  // Exact names the catalog lacks: granted as written (IAM would, once the action exists).
  for (const s of input.statements) {
    if (s.effect !== 'Allow' || s.not) continue;
    s.patterns.forEach((p, k) => {
      if (!WILD.test(p) && !index.byLower.has(p) && !granted.has(p) && outside(p))
        granted.set(p, s.written[k]);
    });
  }

  const usedLower = new Map<string, string>();
  for (const name of input.used) usedLower.set(name.toLowerCase(), name);
  const used: string[] = [];
  const notGranted: string[] = [];
  for (const [lower, name] of usedLower) {
    if (!granted.has(lower) && !index.byLower.has(lower) && outside(lower))
      granted.set(lower, name);
    if (granted.has(lower)) used.push(granted.get(lower)!);
    else notGranted.push(name);
  }
  const unused: string[] = [];
  for (const [lower, name] of granted) if (!usedLower.has(lower)) unused.push(name);

  return {
    principal: input.principal,
    from: input.from,
    to: input.to,
    granted: granted.size,
    used: used.sort(),
    unused: unused.sort(),
    reductionPercent: granted.size ? Math.round((unused.length / granted.size) * 1000) / 10 : 0,
    notGranted: notGranted.sort(),
    unmatched: [...unmatched].sort(),
    suggested: restrict(input.generated, (name) => granted.has(name.toLowerCase())),
  };
}

/** The generated statements with only the granted actions, re-packed into documents. */
function restrict(docs: readonly PolicyDocument[], keep: (action: string) => boolean) {
  const statements: Statement[] = [];
  for (const doc of docs) {
    for (const s of doc.Statement) {
      const actions = [s.Action].flat().filter(keep);
      if (actions.length === 0) continue;
      statements.push({ ...s, Action: actions.length === 1 ? actions[0] : actions });
    }
  }
  return splitStatements(statements);
}
