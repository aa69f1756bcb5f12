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

/**
 * Union of `a` and `b`, generalized to at most `max` entries; sorted. `trusted`: `a` is itself a
 * result of mergeSample with this `max` (a stored sample), so it need not be checked before the
 * fast path.
 */
export function mergeSample(
  a: readonly string[],
  b: readonly string[],
  max: number,
  trusted = false,
): string[] {
  // Fast path (the common merge: a stored sample meets ARNs it already holds): when `a` is
  // already a normalized sample and covers all of `b`, the union normalizes to `a` itself.
  if (
    max >= 1 &&
    a.length <= max &&
    (trusted || isNormalized(a)) &&
    b.every((x) => coveredBy(a, x))
  ) {
    return [...a];
  }
  if (max < 1 || a.includes(ANY) || b.includes(ANY)) return [ANY];
  const list = dropCovered(unionSorted(sortedView(a), sortedView(b)));
  if (list.length > max && !foldUntil(list, max)) return [ANY];
  return list;
}

/** `list` itself when sorted (stored samples and deltas are), else a sorted copy. */
function sortedView(list: readonly string[]): readonly string[] {
  for (let i = 1; i < list.length; i++) if (list[i - 1] > list[i]) return [...list].sort();
  return list;
}

/** Union of two sorted lists, sorted and without duplicates: one merge pass, no hashing. */
function unionSorted(a: readonly string[], b: readonly string[]): string[] {
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = j >= b.length || (i < a.length && a[i] <= b[j]) ? a[i++] : b[j++];
    if (out.length === 0 || out[out.length - 1] !== x) out.push(x);
  }
  return out;
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
  if (sample[lowerBound(sample, arn)] === arn) return true;
  for (const p of sample) if (p.endsWith(ANY) && covers(p, arn)) return true;
  return false;
}

/**
 * Removes entries a `prefix*` pattern of the (sorted) list already covers. The entries starting
 * with a prefix are one contiguous run of a sorted list, found by binary search. Patterns go in
 * order and a dropped one drops nothing more: `q*` and `q**` (an ARN may hold a literal `*`)
 * cover each other, and `q*`, which comes first, must stay.
 */
function dropCovered(sorted: string[]): string[] {
  let drop: Uint8Array | undefined;
  for (let i = 0; i < sorted.length; i++) {
    const p = sorted[i];
    if (!p.endsWith(ANY) || drop?.[i] === 1) continue;
    const prefix = p.slice(0, -1);
    drop ??= new Uint8Array(sorted.length);
    for (let j = lowerBound(sorted, prefix); j < sorted.length; j++) {
      if (!sorted[j].startsWith(prefix)) break;
      if (j !== i) drop[j] = 1;
    }
  }
  return drop === undefined ? sorted : sorted.filter((_, i) => drop[i] === 0);
}

function lowerBound(sorted: readonly string[], x: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Folds, in place, until at most `max` entries are left: each step takes the adjacent pair with
 * the longest common prefix (the first such pair) and replaces every entry starting with that
 * prefix by one `prefix*` pattern. Entries sharing a prefix are contiguous in sorted order and
 * `prefix*` sorts where they were, so the list stays sorted and normalized. The common prefix of
 * each adjacent pair is computed once and only the two pairs around a fold are recomputed, so a
 * merge costs O(n) prefix comparisons rather than O(n) per fold. Returns false when the only
 * fold left is `*` itself.
 */
function foldUntil(sorted: string[], max: number): boolean {
  const lcp: number[] = [];
  for (let i = 0; i + 1 < sorted.length; i++) lcp.push(commonPrefix(sorted[i], sorted[i + 1]));
  while (sorted.length > max) {
    let best = 0;
    let bestLen = -1;
    for (let i = 0; i < lcp.length; i++) {
      if (lcp[i] > bestLen) {
        best = i;
        bestLen = lcp[i];
      }
    }
    if (bestLen <= 0) return false;
    const prefix = sorted[best].slice(0, bestLen);
    let lo = best;
    let hi = best + 1;
    while (lo > 0 && sorted[lo - 1].startsWith(prefix)) lo--;
    while (hi + 1 < sorted.length && sorted[hi + 1].startsWith(prefix)) hi++;
    const pattern = prefix + ANY;
    sorted.splice(lo, hi - lo + 1, pattern);
    // Pairs lo-1..hi collapse into lo-1 and lo; recompute just those two.
    const around: number[] = [];
    if (lo > 0) around.push(commonPrefix(sorted[lo - 1], pattern));
    if (lo + 1 < sorted.length) around.push(commonPrefix(pattern, sorted[lo + 1]));
    lcp.splice(Math.max(0, lo - 1), Math.min(hi + 1, lcp.length) - Math.max(0, lo - 1), ...around);
  }
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
