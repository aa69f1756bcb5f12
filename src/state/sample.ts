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
  const all = new Set<string>(a);
  for (const s of b) all.add(s);
  if (all.has(ANY) || max < 1) return [ANY];
  let list = dropCovered([...all].sort());
  while (list.length > max) list = foldClosest(list);
  return list;
}

/** Whether `pattern` (an ARN, or a `prefix*` pattern) covers `arn`. */
export function covers(pattern: string, arn: string): boolean {
  if (pattern === arn) return true;
  return pattern.endsWith(ANY) && arn.startsWith(pattern.slice(0, -1));
}

/** Removes entries a `prefix*` pattern of the (sorted) list already covers. */
function dropCovered(sorted: string[]): string[] {
  const out: string[] = [];
  for (const s of sorted) {
    // Patterns sort right before what they cover only when the prefix is a true prefix, so
    // scan the kept patterns (few) rather than only the last entry.
    if (out.some((p) => p !== s && covers(p, s))) continue;
    // A new pattern may cover entries kept earlier (`a/b` kept, then `a/*` arrives).
    if (s.endsWith(ANY)) {
      for (let i = out.length - 1; i >= 0; i--) if (covers(s, out[i])) out.splice(i, 1);
    }
    out.push(s);
  }
  return out.sort();
}

/** Folds the adjacent pair with the longest common prefix into one `prefix*` pattern. */
function foldClosest(sorted: string[]): string[] {
  let best = 0;
  let bestLen = -1;
  for (let i = 0; i + 1 < sorted.length; i++) {
    const n = commonPrefix(sorted[i], sorted[i + 1]);
    if (n > bestLen) [best, bestLen] = [i, n];
  }
  const pattern = sorted[best].slice(0, bestLen) + ANY;
  if (pattern === ANY) return [ANY];
  return dropCovered([...sorted.slice(0, best), pattern, ...sorted.slice(best + 2)]);
}

function commonPrefix(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  // Never cut inside a pattern's trailing `*`: treat it as the end of the prefix.
  if (i > 0 && (a.charCodeAt(i - 1) === 42 || b.charCodeAt(i - 1) === 42)) i--;
  return i;
}
