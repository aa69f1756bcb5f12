// The eventIDs one file's accumulator has seen, to drop a record delivered twice in the same file.
//
// CloudTrail's eventIDs are UUIDs in lowercase hex (8-4-4-4-12). Those are kept as their 128 bits
// in an open-addressing table of 32-bit words, 16 bytes a slot, instead of as 36-char strings in a
// Set (the string alone takes more than that). The 315 MB bench file holds 224,260 of them: an
// 8 MB table, and the file's peak RSS 30 MB lower than with the strings (bench/README.md), on
// the streaming path's bound of 256 MB. Anything else (other spellings, upper case, not a string
// of that shape) goes to a Set of strings, copied so that a slice never pins the text it came
// from. Two ids are the same exactly when their strings are equal, on either side.
import { flat } from './scan.ts';

const INITIAL_SLOTS = 1024; // a power of two
/** reserve() sizes the table for at most this many slots up front (8 MB); past it, it grows. */
const MAX_RESERVED_SLOTS = 1 << 19;
/** Grow past this share of slots used (probe sequences stay short). */
const MAX_LOAD = 0.7;
const UUID_LENGTH = 36;

/** Char code → hex digit value of a lowercase hex digit, else -1. */
const HEX = new Int8Array(128).fill(-1);
for (let c = 0; c < 10; c++) HEX[48 + c] = c;
for (let c = 0; c < 6; c++) HEX[97 + c] = 10 + c;

/** Where the 32 hex digits of an 8-4-4-4-12 UUID are. */
const DIGIT_AT = Uint8Array.from({ length: UUID_LENGTH }, (_, i) => i).filter(
  (i) => i !== 8 && i !== 13 && i !== 18 && i !== 23,
);

/** The id add() parsed (module scratch: no allocation per call). */
const id = new Int32Array(4);

export class EventIdSet {
  /** four words per slot; all four zero: the slot is free (the nil UUID is `nil` instead) */
  private words = new Int32Array(INITIAL_SLOTS * 4);
  private count = 0;
  private nil = false;
  private readonly others = new Set<string>();
  /** Per set: a file cannot be shaped to collide in every table. */
  private readonly seed = (Math.random() * 2 ** 32) | 0;

  /** Adds `eventId`; false when it was already there. */
  add(eventId: string): boolean {
    if (parseUuid(eventId, id)) return this.addUuid(id[0], id[1], id[2], id[3]);
    if (this.others.has(eventId)) return false;
    this.others.add(flat(eventId));
    return true;
  }

  /**
   * Adds the UUID whose 128 bits are w0..w3 (as parseUuid reads them: the WebAssembly scanner
   * writes the same words); false when it was already there.
   */
  addUuid(w0: number, w1: number, w2: number, w3: number): boolean {
    if ((w0 | w1 | w2 | w3) === 0) {
      if (this.nil) return false;
      this.nil = true;
      return true;
    }
    const words = this.words;
    const mask = (words.length >> 2) - 1;
    for (let i = hash(this.seed, w0, w1, w2, w3) & mask; ; i = (i + 1) & mask) {
      const at = i << 2;
      const x0 = words[at];
      const x1 = words[at + 1];
      const x2 = words[at + 2];
      const x3 = words[at + 3];
      if (x0 === w0 && x1 === w1 && x2 === w2 && x3 === w3) return false;
      if ((x0 | x1 | x2 | x3) === 0) {
        words[at] = w0;
        words[at + 1] = w1;
        words[at + 2] = w2;
        words[at + 3] = w3;
        if (++this.count > (mask + 1) * MAX_LOAD) this.grow();
        return true;
      }
    }
  }

  /**
   * Sizes the empty table for about `ids` ids (up to MAX_RESERVED_SLOTS), so a large file does
   * not rehash it at every doubling: growth's random writes were 2% of the 315 MB file's profile.
   */
  reserve(ids: number): void {
    if (this.count > 0) return;
    let slots = this.words.length >> 2;
    while (slots < MAX_RESERVED_SLOTS && slots * MAX_LOAD < ids) slots *= 2;
    if (slots > this.words.length >> 2) this.words = new Int32Array(slots * 4);
  }

  get size(): number {
    return this.count + (this.nil ? 1 : 0) + this.others.size;
  }

  /** Bytes the table holds (the Set of other spellings not counted). */
  get tableBytes(): number {
    return this.words.byteLength;
  }

  private grow(): void {
    const old = this.words;
    const words = new Int32Array(old.length * 2);
    const mask = (words.length >> 2) - 1;
    for (let at = 0; at < old.length; at += 4) {
      const w0 = old[at];
      const w1 = old[at + 1];
      const w2 = old[at + 2];
      const w3 = old[at + 3];
      if ((w0 | w1 | w2 | w3) === 0) continue;
      let i = hash(this.seed, w0, w1, w2, w3) & mask;
      while (
        (words[i << 2] | words[(i << 2) + 1] | words[(i << 2) + 2] | words[(i << 2) + 3]) !==
        0
      )
        i = (i + 1) & mask;
      words.set(old.subarray(at, at + 4), i << 2);
    }
    this.words = words;
  }
}

/**
 * Into `id` the 128 bits of a lowercase 8-4-4-4-12 UUID as four int32 words, eight hex digits
 * each, first digit highest; false for anything else.
 */
export function parseUuid(s: string, id: Int32Array): boolean {
  if (s.length !== UUID_LENGTH) return false;
  if (s.charCodeAt(8) !== 45 || s.charCodeAt(13) !== 45) return false; // '-'
  if (s.charCodeAt(18) !== 45 || s.charCodeAt(23) !== 45) return false;
  let bad = 0;
  for (let k = 0; k < 4; k++) {
    let word = 0;
    for (let j = k * 8; j < k * 8 + 8; j++) {
      const c = s.charCodeAt(DIGIT_AT[j]);
      const v = c < 128 ? HEX[c] : -1;
      bad |= v;
      word = (word << 4) | (v & 15);
    }
    id[k] = word;
  }
  return bad >= 0;
}

/** murmur3's 32-bit hash of the four words, seeded. */
function hash(seed: number, a: number, b: number, c: number, d: number): number {
  let h = mix(mix(mix(mix(seed, a), b), c), d);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** One murmur3 round: word k into state h. */
function mix(h: number, k: number): number {
  let x = Math.imul(k, 0xcc9e2d51);
  x = Math.imul((x << 15) | (x >>> 17), 0x1b873593);
  h ^= x;
  return (Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64) | 0;
}
