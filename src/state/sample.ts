// A bounded sample of resource ARNs per (principal, action). When more distinct ARNs are seen
// than the bound, the closest ones (longest common prefix, in sorted order) are folded into a
// `prefix*` pattern until the sample fits, e.g. `arn:aws:s3:::bucket/logs/a.gz` and
// `arn:aws:s3:::bucket/logs/b.gz` become `arn:aws:s3:::bucket/logs/*`-like `…/logs/*`.
//
// Every result covers every ARN that went in (an IAM `*` matches any run of characters,
// including `:` and `/`), so a generalized sample grants more, never less. The result depends
// only on the union of the inputs, so merging is commutative and merge(x, x) = x; it is not
// strictly associative once patterns form (a pattern may be coarser than needed), which costs
// breadth, never a missing permission.

const ANY = '*';

/** Union of `a` and `b`, generalized to at most `max` entries; sorted. */
export function mergeSample(a: readonly string[], b: readonly string[], max: number): string[] {
  // Fast path (the common merge: a stored sample meets ARNs it already holds): when `a` is
  // already a normalized sample and covers all of `b`, the union normalizes to `a` itself.
  if (max >= 1 && a.length <= max && isNormalized(a) && b.every((x) => coveredBy(a, x))) {
    return [...a];
  }
  const all = new Set<string>(a);
  for (const s of b) all.add(s);
  if (all.has(ANY) || max < 1) return [ANY];
  const list = dropCovered([...all].sort());
  while (list.length > max) {
    if (!foldClosest(list)) return [ANY];
  }
  return list;
}

/** Whether `pattern` (an ARN, or a `prefix*` pattern) covers `arn`. */
export function covers(pattern: string, arn: string): boolean {
  if (pattern === arn) return true;
  return pattern.endsWith(ANY) && arn.startsWith(pattern.slice(0, -1));
}

/** Sorted, unique, and no entry covered by another. */
function isNormalized(list: readonly string[]): boolean {
  let patterns = false;
  for (let i = 0; i < list.length; i++) {
    if (i > 0 && !(list[i - 1] < list[i])) return false;
    if (list[i].endsWith(ANY)) patterns = true;
  }
  if (!patterns) return true;
  for (const p of list) {
    if (!p.endsWith(ANY)) continue;
    for (const x of list) if (x !== p && covers(p, x)) return false;
  }
  return true;
}

function coveredBy(sample: readonly string[], arn: string): boolean {
  // Binary search for the exact entry, then the (rare) patterns.
  let lo = 0;
  let hi = sample.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sample[mid] < arn) lo = mid + 1;
    else hi = mid;
  }
  if (sample[lo] === arn) return true;
  for (const p of sample) if (p.endsWith(ANY) && covers(p, arn)) return true;
  return false;
}

/** Removes entries a `prefix*` pattern of the (sorted) list already covers. */
function dropCovered(sorted: string[]): string[] {
  if (!sorted.some((s) => s.endsWith(ANY))) return sorted;
  const patterns = sorted.filter((s) => s.endsWith(ANY));
  return sorted.filter((s) => !patterns.some((p) => p !== s && covers(p, s)));
}

/**
 * Folds, in place, the adjacent pair with the longest common prefix into one `prefix*` pattern
 * that replaces every entry starting with that prefix. Entries sharing a prefix are contiguous
 * in sorted order and `prefix*` sorts where they were, so the list stays sorted and normalized.
 * Returns false when the only fold left is `*` itself.
 */
function foldClosest(sorted: string[]): boolean {
  let best = 0;
  let bestLen = -1;
  for (let i = 0; i + 1 < sorted.length; i++) {
    const n = commonPrefix(sorted[i], sorted[i + 1]);
    if (n > bestLen) [best, bestLen] = [i, n];
  }
  if (bestLen <= 0) return false;
  const prefix = sorted[best].slice(0, bestLen);
  let lo = best;
  let hi = best + 1;
  while (lo > 0 && sorted[lo - 1].startsWith(prefix)) lo--;
  while (hi + 1 < sorted.length && sorted[hi + 1].startsWith(prefix)) hi++;
  sorted.splice(lo, hi - lo + 1, prefix + ANY);
  return true;
}

function commonPrefix(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  // Never keep a pattern's trailing `*` inside the prefix: it would become a literal.
  if (i > 0 && (a.charCodeAt(i - 1) === 42 || b.charCodeAt(i - 1) === 42)) i--;
  return i;
}
