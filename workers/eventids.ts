// The eventIDs one file's accumulator has seen, to drop a record delivered twice in the same file.
//
// CloudTrail's eventIDs are UUIDs in lowercase hex (8-4-4-4-12). Those are kept as their 128 bits
// in an open-addressing table of 32-bit words: 16 bytes a slot, against about 90 for a 36-char
// string in a Set (the string, its entry, the table's slack). The 315 MB bench file holds 224,260
// of them: the table is 8.9 MB where the strings took 21 MB, on the streaming path's bound of
// 256 MB peak RSS. Anything else (other spellings, upper case, not a string of that shape) goes
// to a Set of strings, copied so that a slice never pins the text it came from. Two ids are the
// same exactly when their strings are equal, on either side.
import { flat } from './scan.ts';

const INITIAL_SLOTS = 1024; // a power of two
/** Grow past this share of slots used (probe sequences stay short). */
const MAX_LOAD = 0.7;
const UUID_LENGTH = 36;

export class EventIdSet {
  /** four words per slot; slot i is used when used[i] is 1 */
  private words = new Uint32Array(INITIAL_SLOTS * 4);
  private used = new Uint8Array(INITIAL_SLOTS);
  private count = 0;
  private readonly others = new Set<string>();
  /** Per set: a file cannot be shaped to collide in every table. */
  private readonly seed = (Math.random() * 2 ** 32) >>> 0;
  /** The parsed id of the last add(), by word. */
  private readonly id = new Uint32Array(4);

  /** Adds `eventId`; false when it was already there. */
  add(eventId: string): boolean {
    if (!this.parse(eventId)) {
      if (this.others.has(eventId)) return false;
      this.others.add(flat(eventId));
      return true;
    }
    const id = this.id;
    const mask = this.used.length - 1;
    for (let i = this.hash(id[0], id[1], id[2], id[3]) & mask; ; i = (i + 1) & mask) {
      if (this.used[i] === 0) {
        this.put(i, id[0], id[1], id[2], id[3]);
        return true;
      }
      const w = i * 4;
      const words = this.words;
      if (
        words[w] === id[0] &&
        words[w + 1] === id[1] &&
        words[w + 2] === id[2] &&
        words[w + 3] === id[3]
      )
        return false;
    }
  }

  get size(): number {
    return this.count + this.others.size;
  }

  /** Bytes the table holds (the Set of other spellings not counted). */
  get tableBytes(): number {
    return this.words.byteLength + this.used.byteLength;
  }

  private put(slot: number, a: number, b: number, c: number, d: number): void {
    const w = slot * 4;
    this.words[w] = a;
    this.words[w + 1] = b;
    this.words[w + 2] = c;
    this.words[w + 3] = d;
    this.used[slot] = 1;
    if (++this.count > this.used.length * MAX_LOAD) this.grow();
  }

  private grow(): void {
    const { words, used } = this;
    this.words = new Uint32Array(words.length * 2);
    this.used = new Uint8Array(used.length * 2);
    const mask = this.used.length - 1;
    for (let s = 0; s < used.length; s++) {
      if (used[s] === 0) continue;
      const w = s * 4;
      let i = this.hash(words[w], words[w + 1], words[w + 2], words[w + 3]) & mask;
      while (this.used[i] !== 0) i = (i + 1) & mask;
      this.words.set(words.subarray(w, w + 4), i * 4);
      this.used[i] = 1;
    }
  }

  /** murmur3's 32-bit hash of the four words, seeded. */
  private hash(a: number, b: number, c: number, d: number): number {
    let h = mix(mix(mix(mix(this.seed, a), b), c), d);
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    return (h ^ (h >>> 16)) >>> 0;
  }

  /** Into this.id the 128 bits of a lowercase 8-4-4-4-12 UUID; false for anything else. */
  private parse(s: string): boolean {
    if (s.length !== UUID_LENGTH) return false;
    if (s.charCodeAt(8) !== 45 || s.charCodeAt(13) !== 45) return false; // '-'
    if (s.charCodeAt(18) !== 45 || s.charCodeAt(23) !== 45) return false;
    let word = 0;
    let digits = 0;
    for (let i = 0; i < UUID_LENGTH; i++) {
      if (i === 8 || i === 13 || i === 18 || i === 23) continue;
      const c = s.charCodeAt(i);
      let v: number;
      if (c >= 48 && c <= 57) v = c - 48;
      else if (c >= 97 && c <= 102) v = c - 87;
      else return false;
      word = (word << 4) | v;
      if (++digits % 8 === 0) {
        this.id[digits / 8 - 1] = word >>> 0;
        word = 0;
      }
    }
    return true;
  }
}

/** One murmur3 round: word k into state h. */
function mix(h: number, k: number): number {
  let x = Math.imul(k, 0xcc9e2d51);
  x = Math.imul((x << 15) | (x >>> 17), 0x1b873593);
  h ^= x;
  return (Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64) | 0;
}
