// Packs statements into managed-policy documents under IAM's size limit, as Access Analyzer returns
// several generated policies when one would be too large.
//
// The limit: "The size of each managed policy cannot exceed 6,144 characters. IAM does not count
// white space when calculating the size of a policy" (IAM and STS quotas). We measure
// `JSON.stringify(doc).length`: no white space between tokens, but white space *inside* string
// values (an S3 key with a space) and JSON escapes still count. That is an upper bound on IAM's
// count however it treats such characters, so a document we emit is never refused; the cost is a
// few characters of slack in the rare document that has them.
import type { PolicyDocument, Statement } from './types.ts';

export const MAX_POLICY_CHARS = 6144;

const VERSION = '2012-10-17';
/** `{"Version":"2012-10-17","Statement":[]}` */
const EMPTY_DOC_CHARS = JSON.stringify({ Version: VERSION, Statement: [] }).length;
/** Room reserved in a split statement's Sid for its part suffix `P<n>` (n < 10,000). */
const PART_SUFFIX_CHARS = 5;

export function policyChars(doc: PolicyDocument): number {
  return JSON.stringify(doc).length;
}

/** Serialized lengths of strings seen before, bounded: a policy names the same ARNs each time. */
const MAX_MEMO_STRINGS = 16_384;
const stringChars = new Map<string, number>();

/** JSON.stringify(s).length, memoized. */
function jsonChars(s: string): number {
  let n = stringChars.get(s);
  if (n === undefined) {
    if (stringChars.size >= MAX_MEMO_STRINGS) stringChars.clear();
    n = JSON.stringify(s).length;
    stringChars.set(s, n);
  }
  return n;
}

function valueChars(v: string[] | string): number {
  if (typeof v === 'string') return jsonChars(v);
  let n = 1 + v.length; // brackets and commas (an empty list: "[]")
  for (const s of v) n += jsonChars(s);
  return v.length ? n : 2;
}

/** `{"Sid":…,"Effect":…,"Action":…,"Resource":…}` less the four values */
const PLAIN_STATEMENT_CHARS =
  JSON.stringify({ Sid: '', Effect: '', Action: '', Resource: '' }).length - 8;

/**
 * JSON.stringify(statement).length. A statement without a Condition (its other members are
 * strings or lists of them) is summed from its strings' lengths, each serialized once and
 * remembered (the 500-action bench principal's 194 statements were a fifth of policyFor's time
 * serialized whole); one with a Condition is serialized.
 */
export function statementChars(st: Statement): number {
  if (st.Condition !== undefined) return JSON.stringify(st).length;
  return (
    PLAIN_STATEMENT_CHARS +
    jsonChars(st.Sid) +
    jsonChars(st.Effect) +
    valueChars(st.Action) +
    valueChars(st.Resource)
  );
}

/**
 * Statements → documents of at most `maxChars` each, first fit in statement order (deterministic).
 * A statement too large for a document of its own is cut into parts over its Action and Resource
 * lists; every (action, resource) pair it granted is granted by exactly one part.
 */
export function splitStatements(
  statements: readonly Statement[],
  maxChars = MAX_POLICY_CHARS,
): PolicyDocument[] {
  const room = maxChars - EMPTY_DOC_CHARS;
  const docs: { statements: Statement[]; chars: number }[] = [];
  for (const statement of statements) {
    const chars = statementChars(statement);
    const parts = chars <= room ? [statement] : splitStatement(statement, room);
    for (const part of parts) {
      const partChars = part === statement ? chars : statementChars(part);
      // +1: the comma before every statement but the first
      const doc = docs.find((d) => d.chars + 1 + partChars <= maxChars);
      if (doc) {
        doc.statements.push(part);
        doc.chars += 1 + partChars;
      } else {
        docs.push({ statements: [part], chars: EMPTY_DOC_CHARS + partChars });
      }
    }
  }
  return docs.map((d) => ({ Version: VERSION, Statement: d.statements }));
}

/** Parts of `statement`, each at most `room` characters, covering Action × Resource exactly. */
function splitStatement(statement: Statement, room: number): Statement[] {
  const actions = asList(statement.Action);
  const resources = asList(statement.Resource);
  const base =
    JSON.stringify({ ...statement, Action: [], Resource: [] }).length + PART_SUFFIX_CHARS - 4; // -4: the two `[]`
  const budget = room - base;

  // Prefer keeping one list whole (fewest parts); fall back to cutting both.
  let grid: [string[], string[]][];
  const byActions = tryChunks(actions, budget - listChars(resources));
  const byResources = tryChunks(resources, budget - listChars(actions));
  if (byActions && (!byResources || byActions.length < byResources.length)) {
    grid = byActions.map((a) => [a, resources]);
  } else if (byResources) {
    grid = byResources.map((r) => [actions, r]);
  } else {
    grid = [];
    for (const a of chunks(actions, Math.floor(budget / 2))) {
      for (const r of chunks(resources, budget - listChars(a))) grid.push([a, r]);
    }
  }
  return grid.map(([a, r], i) => ({
    ...statement,
    Sid: `${statement.Sid}P${i + 1}`,
    Action: single(a),
    Resource: single(r),
  }));
}

function asList(v: string[] | string): string[] {
  return typeof v === 'string' ? [v] : v;
}

function single(list: string[]): string[] | string {
  return list.length === 1 ? list[0] : list;
}

/** Serialized length as an array; an upper bound, since a single entry is written as a string. */
function listChars(list: readonly string[]): number {
  let n = 1 + list.length; // brackets and commas
  for (const s of list) n += JSON.stringify(s).length;
  return n;
}

function tryChunks(list: readonly string[], budget: number): string[][] | undefined {
  for (const s of list) if (JSON.stringify(s).length + 2 > budget) return undefined;
  return chunks(list, budget);
}

/** Greedy cut of `list` into consecutive chunks whose array form fits `budget` characters. */
function chunks(list: readonly string[], budget: number): string[][] {
  const out: string[][] = [];
  let current: string[] = [];
  let chars = 0;
  for (const s of list) {
    const c = JSON.stringify(s).length;
    if (current.length && chars + 1 + c > budget) {
      out.push(current);
      current = [];
    }
    if (current.length) {
      chars += 1 + c;
    } else {
      if (2 + c > budget) throw new RangeError(`policy entry too large for one document: ${s}`);
      chars = 2 + c;
    }
    current.push(s);
  }
  if (current.length) out.push(current);
  return out;
}
