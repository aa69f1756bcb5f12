// Compact sets of small non-negative integers: the per (principal, day) action sets.
//
// Ids here are principal-local (the n-th distinct action a principal ever used is n), so a
// typical principal's day set is a handful of small numbers. Two encodings, whichever is
// smaller (bench/ compares them):
//   0x01 + varint deltas of the sorted ids   (sparse: a few ids spread out)
//   0x02 + little-endian bitmap, bit i = id i (dense: 50 of a principal's 80 actions = 11 bytes)
// The empty set is zero bytes. Union is the merge: commutative, associative, idempotent.

const SPARSE = 0x01;
const DENSE = 0x02;
const EMPTY = new Uint8Array(0);

/** Encodes sorted, unique ids. */
export function encodeIds(sorted: ArrayLike<number>): Uint8Array {
  const n = sorted.length;
  if (n === 0) return EMPTY;
  const max = sorted[n - 1];
  const denseBytes = 1 + (max >>> 3) + 1;
  let sparseBytes = 1;
  let prev = -1;
  for (let i = 0; i < n; i++) {
    sparseBytes += varintBytes(sorted[i] - prev - 1);
    prev = sorted[i];
    if (sparseBytes > denseBytes) break;
  }
  if (denseBytes <= sparseBytes) {
    const out = new Uint8Array(denseBytes);
    out[0] = DENSE;
    for (let i = 0; i < n; i++) out[1 + (sorted[i] >>> 3)] |= 1 << (sorted[i] & 7);
    return out;
  }
  const out = new Uint8Array(sparseBytes);
  out[0] = SPARSE;
  let at = 1;
  prev = -1;
  for (let i = 0; i < n; i++) {
    let v = sorted[i] - prev - 1;
    prev = sorted[i];
    while (v >= 0x80) {
      out[at++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    out[at++] = v;
  }
  return out;
}

/** Decodes to sorted, unique ids. Throws on a malformed encoding (a corrupt store). */
export function decodeIds(bytes: Uint8Array): number[] {
  const out: number[] = [];
  forEachId(bytes, (id) => out.push(id));
  return out;
}

/** Calls `fn` with each id of an encoded set, ascending. */
export function forEachId(bytes: Uint8Array, fn: (id: number) => void): void {
  if (bytes.length === 0) return;
  const tag = bytes[0];
  if (tag === DENSE) {
    for (let i = 1; i < bytes.length; i++) {
      let b = bytes[i];
      while (b !== 0) {
        const bit = 31 - Math.clz32(b & -b);
        fn(((i - 1) << 3) + bit);
        b &= b - 1;
      }
    }
    return;
  }
  if (tag !== SPARSE) throw new RangeError(`not an encoded id set (tag ${tag})`);
  let prev = -1;
  let at = 1;
  while (at < bytes.length) {
    let v = 0;
    let shift = 0;
    let b: number;
    do {
      if (at >= bytes.length || shift > 28) throw new RangeError('truncated id set');
      b = bytes[at++];
      v |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80);
    prev = prev + v + 1;
    fn(prev);
  }
}

/** ORs an encoded set into a bitmap (bit i of word i >>> 5), growing it as needed. */
export function orInto(bitmap: Uint32Array, bytes: Uint8Array): Uint32Array {
  let out: Uint32Array = bitmap;
  if (bytes.length > 0 && bytes[0] === DENSE) {
    const words = (bytes.length - 1 + 3) >>> 2;
    if (words > out.length) out = grow(out, words);
    for (let i = 1; i < bytes.length; i++) {
      const byte = i - 1;
      out[byte >>> 2] |= bytes[i] << ((byte & 3) << 3);
    }
    return out;
  }
  forEachId(bytes, (id) => {
    if (id >>> 5 >= out.length) out = grow(out, (id >>> 5) + 1);
    out[id >>> 5] |= 1 << (id & 31);
  });
  return out;
}

/** Ids set in a bitmap, ascending. */
export function bitmapIds(bitmap: Uint32Array): number[] {
  const out: number[] = [];
  for (let w = 0; w < bitmap.length; w++) {
    let b = bitmap[w];
    while (b !== 0) {
      const bit = 31 - Math.clz32(b & -b);
      out.push((w << 5) + bit);
      b &= b - 1;
    }
  }
  return out;
}

/** Union of two sorted, unique id lists. */
export function unionSorted(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] < b[j]) out.push(a[i++]);
    else if (a[i] > b[j]) out.push(b[j++]);
    else {
      out.push(a[i++]);
      j++;
    }
  }
  while (i < a.length) out.push(a[i++]);
  while (j < b.length) out.push(b[j++]);
  return out;
}

/** Union of two encoded sets, encoded. */
export function unionEncoded(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  return encodeIds(unionSorted(decodeIds(a), decodeIds(b)));
}

function grow(bitmap: Uint32Array, words: number): Uint32Array {
  const out = new Uint32Array(Math.max(words, bitmap.length * 2));
  out.set(bitmap);
  return out;
}

function varintBytes(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}
