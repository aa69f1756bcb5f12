// The record scanner (workers/scan.ts) against the JSON.parse path it replaces, differentially:
// the fields it extracts per record and the FileDelta that parseLogFile makes, on (a) every real
// fixture file, (b) generated documents (real records reshuffled and re-serialized with escapes,
// unicode, whitespace, duplicate keys, decoy nested keys, numbers where strings belong, huge
// requestParameters) and (c) mutated and truncated documents (same error codes), through the
// whole-file path and the streaming path (cut at random chunk boundaries).
//
// Runs are bounded for CI; for a longer hunt: FUZZ_RUNS=100000 npx vitest run test/unit/scan.test.ts
// A document that ever breaks sameness belongs in test/fixtures/scan/ (every file there is checked).
import { isAscii, isUtf8 } from 'node:buffer';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/catalog.ts';
import { principalOf } from '../../src/catalog/principal.ts';
import type { ObjectError } from '../../src/errors.ts';
import type { FileDelta } from '../../src/state/delta.ts';
import { Accumulator } from '../../workers/accumulate.ts';
import {
  DEFAULT_PARSE_OPTIONS,
  parseLogFile,
  parseStreaming,
  parseText,
  type ParseOptions,
} from '../../workers/parse.ts';
import { parseUuid } from '../../workers/eventids.ts';
import { hasControlBytes, ScannedRecord, Scanner, StreamScanner } from '../../workers/scan.ts';
import {
  wasmInflate,
  wasmMemoryBytes,
  wasmScanDocument,
  wasmScannerError,
  WasmRecordStream,
} from '../../workers/wasm.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../../../shared/fixtures/cloudtrail');
const SCAN_FIXTURES = path.resolve(import.meta.dirname, '../fixtures/scan');
const RUNS = Number(process.env.FUZZ_RUNS ?? 0) || undefined;
const runs = (ci: number): number => RUNS ?? ci;
/** A long fuzz run may take hours; CI runs stay well under the default. */
const TIMEOUT = RUNS ? 86_400_000 : 60_000;
const catalog = loadCatalog();
const strict = new TextDecoder('utf-8', { fatal: true });

type Outcome = { delta: FileDelta } | { code: string };

function outcome(
  result: { ok: true; delta: FileDelta } | { ok: false; error: ObjectError },
): Outcome {
  return result.ok ? { delta: result.delta } : { code: result.error.code };
}

/** The whole-file path as it was before the scanner: TextDecoder(fatal) + JSON.parse + add. */
function referenceWhole(inflated: Uint8Array, compressed: number): Outcome {
  const acc = new Accumulator(catalog);
  acc.stats.bytesCompressed = compressed;
  acc.stats.bytesInflated = inflated.length;
  let text: string;
  try {
    text = strict.decode(inflated);
  } catch {
    return { code: 'NOT_UTF8' };
  }
  const error = parseText(text, acc);
  return error ? { code: error.code } : { delta: acc.finish() };
}

/** The streaming path as it was: RecordSplitter + JSON.parse per record. */
async function referenceStreaming(gz: Uint8Array, opts: ParseOptions): Promise<Outcome> {
  const acc = new Accumulator(catalog);
  acc.stats.bytesCompressed = gz.length;
  const error = await parseStreaming(gz, acc, opts);
  return error ? { code: error.code } : { delta: acc.finish() };
}

// Every file streams when the whole-file limit is one byte.
const STREAM_OPTS: ParseOptions = { ...DEFAULT_PARSE_OPTIONS, wholeFileMaxBytes: 1 };
// The JS scanner alone (the WebAssembly one, on by default, would take every document first).
const SCAN: ParseOptions = { ...DEFAULT_PARSE_OPTIONS, scanner: true, wasm: false };
const STREAM_SCAN: ParseOptions = { ...STREAM_OPTS, scanner: true };

/** What parseLogFile did before the scanner: whole file up to wholeFileMaxBytes, else streaming. */
async function reference(
  gz: Uint8Array,
  inflated: Uint8Array,
  opts: ParseOptions,
): Promise<Outcome> {
  return inflated.length <= opts.wholeFileMaxBytes
    ? referenceWhole(inflated, gz.length)
    : referenceStreaming(gz, opts);
}

/** parseLogFile on both paths, with and without the scanner, against both references. */
async function expectSame(inflated: Uint8Array): Promise<void> {
  const gz = gzipSync(inflated);
  const whole = await reference(gz, inflated, DEFAULT_PARSE_OPTIONS);
  const streaming = await reference(gz, inflated, STREAM_OPTS);
  expect(outcome(await parseLogFile(gz, catalog, SCAN))).toEqual(whole);
  expect(outcome(await parseLogFile(gz, catalog, STREAM_SCAN))).toEqual(streaming);
  expect(outcome(await parseLogFile(gz, catalog))).toEqual(whole);
  expect(outcome(await parseLogFile(gz, catalog, STREAM_OPTS))).toEqual(streaming);
}

// ---- extracted fields -------------------------------------------------------------------------

type Rec = Record<string, unknown>;
const isObj = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What principalOf & co. read of a parsed userIdentity: the shape the scanner builds. */
function identityView(u: unknown): unknown {
  if (!isObj(u)) return u;
  const ctx = u.sessionContext;
  let sessionContext: unknown = ctx;
  if (isObj(ctx)) {
    const issuer = ctx.sessionIssuer;
    sessionContext = { sessionIssuer: isObj(issuer) ? { arn: issuer.arn } : issuer };
  }
  return {
    type: u.type,
    arn: u.arn,
    accountId: u.accountId,
    invokedBy: u.invokedBy,
    sessionContext,
  };
}

const FIELDS = [
  'eventID',
  'eventType',
  'eventCategory',
  'insightDetails',
  'eventSource',
  'eventName',
  'eventTime',
  '@timestamp',
  'errorCode',
  'errorMessage',
  'awsRegion',
  'recipientAccountId',
  'resources',
  'requestParameters',
  'responseElements',
] as const;

/** Records whose uuid words fieldsOf checked (the WebAssembly scanner's), so a test sees some were. */
let uuidsChecked = 0;

function fieldsOf(r: ScannedRecord | Rec): Rec {
  if (r instanceof ScannedRecord && r.uuid) {
    // The scanner's words are the ones EventIdSet reads from the string.
    const words = new Int32Array(4);
    expect(parseUuid(r.eventID as string, words)).toBe(true);
    expect([r.uuid0, r.uuid1, r.uuid2, r.uuid3]).toEqual([...words]);
    uuidsChecked++;
  }
  const out: Rec = {};
  for (const f of FIELDS) out[f] = (r as Rec)[f];
  out.userIdentity = r === null ? undefined : (r as Rec).userIdentity;
  return out;
}

/** The scanner's view of a document: per record its fields, or null for a non-object element. */
function scanned(text: string, bytes: Uint8Array): (Rec | null)[] | undefined {
  const scanner = new Scanner();
  const out: (Rec | null)[] = [];
  if (!scanner.init(text, hasControlBytes(bytes))) return undefined;
  return scanner.document((r) => out.push(r === null ? null : fieldsOf(r))) ? out : undefined;
}

/**
 * The WebAssembly scanner's view of a document's bytes, given as parse.ts gives them: a
 * byte-order mark dropped, through their latin1 string; undefined when they are not UTF-8 (then
 * NOT_UTF8 is decided before the scanner) or it does not vouch for them.
 */
function wasmScanned(bytes: Uint8Array): (Rec | null)[] | undefined {
  const out: (Rec | null)[] = [];
  let body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) body = body.subarray(3);
  if (!isUtf8(body)) return undefined;
  return wasmScanDocument(body, (r) => out.push(r === null ? null : fieldsOf(r))) ? out : undefined;
}

/** JSON.parse's view of the same: undefined when it is not a CloudTrail document. */
function parsed(text: string): (Rec | null)[] | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  const records = isObj(doc) ? doc.Records : undefined;
  if (!Array.isArray(records)) return undefined;
  return records.map((r) => {
    if (!isObj(r)) return null;
    const f = fieldsOf(r);
    f.userIdentity = identityView(r.userIdentity);
    return f;
  });
}

/** The scanner vouches only for what JSON.parse accepts, and then extracts the same fields. */
function expectSameFields(bytes: Uint8Array): void {
  let text: string;
  try {
    text = strict.decode(bytes);
  } catch {
    return; // NOT_UTF8 is decided before the scanner
  }
  const fromParse = parsed(text);
  const fromWasm = wasmScanned(bytes);
  if (fromWasm !== undefined) {
    expect(fromParse).toBeDefined();
    expect(fromWasm).toEqual(fromParse);
  }
  const fromScan = scanned(text, bytes);
  if (fromScan === undefined) return; // the JSON.parse path decides (checked by expectSame)
  expect(fromParse).toBeDefined();
  expect(fromScan).toEqual(fromParse);
  // Both scanners vouch for the same documents (nesting deeper than 10,000 aside).
  expect(fromWasm).toEqual(fromScan);
  for (let i = 0; i < fromScan.length; i++) {
    const a = fromScan[i]?.userIdentity;
    expect(principalOf(a)).toEqual(
      principalOf((JSON.parse(text) as Rec[] & { Records: Rec[] }).Records[i]?.userIdentity),
    );
  }
}

/** The StreamScanner cut at `cuts` sees the same records as the one-piece scanner. */
function streamed(text: string, cuts: number[]): (Rec | null)[] | undefined {
  const out: (Rec | null)[] = [];
  const stream = new StreamScanner((r) => out.push(r === null ? null : fieldsOf(r)), 1 << 26);
  const bounds = [...new Set(cuts.map((c) => Math.min(Math.max(c, 0), text.length)))].sort(
    (a, b) => a - b,
  );
  let from = 0;
  for (const to of [...bounds, text.length]) {
    const piece = text.slice(from, to);
    if (!stream.push(piece, hasControlBytes(Buffer.from(piece, 'utf8')))) return undefined;
    from = to;
  }
  return stream.end() ? out : undefined;
}

/** Byte positions, clamped, deduplicated and sorted. */
function boundsOf(cuts: number[], length: number): number[] {
  return [...new Set(cuts.map((c) => Math.min(Math.max(c, 0), length)))].sort((a, b) => a - b);
}

/** Feeds `bytes` cut at `cuts` to `stream`: whether it vouched for the whole document. */
function feed(stream: WasmRecordStream, bytes: Uint8Array, cuts: number[]): boolean {
  let from = 0;
  for (const to of [...boundsOf(cuts, bytes.length), bytes.length]) {
    if (to > from && !stream.push(bytes.subarray(from, to))) return false;
    from = to;
  }
  return stream.end();
}

/**
 * The WebAssembly stream fed `bytes` cut at `cuts` (UTF-8 characters may be cut): each record's
 * fields, or undefined when it does not vouch for the document. `maxCarry`: its record bound.
 */
function wasmStreamed(
  bytes: Uint8Array,
  cuts: number[],
  maxCarry = 1 << 26,
  pieceBytes?: number,
): (Rec | null)[] | undefined {
  const out: (Rec | null)[] = [];
  const stream = new WasmRecordStream(
    (r) => out.push(r === null ? null : fieldsOf(r)),
    maxCarry,
    pieceBytes,
  );
  return feed(stream, bytes, cuts) ? out : undefined;
}

/**
 * The delta of the WebAssembly stream cut at `cuts` (every piece its own interning epoch), each
 * chunk scanned in pieces of at most `pieceBytes`.
 */
function wasmStreamDelta(
  bytes: Uint8Array,
  cuts: number[],
  pieceBytes?: number,
): FileDelta | undefined {
  const acc = new Accumulator(catalog);
  acc.stats.bytesInflated = bytes.length;
  const stream = new WasmRecordStream((r) => acc.add(r), 1 << 26, pieceBytes);
  return feed(stream, bytes, cuts) ? acc.finish() : undefined;
}

/** `{"Records":[…]}` and nothing else at the top level: the shape the WebAssembly stream takes. */
function onlyRecords(text: string): boolean {
  try {
    const doc = JSON.parse(text) as unknown;
    return (
      isObj(doc) &&
      Object.keys(doc).length === 1 &&
      Array.isArray(doc.Records) &&
      /^\uFEFF?\s*\{\s*"Records"/.test(text)
    );
  } catch {
    return false;
  }
}

// ---- (a) the real fixtures --------------------------------------------------------------------

const fixtureFiles = (readdirSync(FIXTURES, { recursive: true }) as string[])
  .filter((f) => f.endsWith('.json.gz'))
  .sort();

describe('scanner vs JSON.parse on the real fixtures', () => {
  it('finds them', () => expect(fixtureFiles.length).toBeGreaterThan(400));
  it('loads the WebAssembly scanner (workers/scan.wasm)', () =>
    expect(wasmScannerError()).toBeUndefined());

  it.each(fixtureFiles)('%s', async (file) => {
    const gz = readFileSync(path.join(FIXTURES, file));
    const inflated = gunzipSync(gz);
    expectSameFields(inflated);
    const text = inflated.toString('utf8');
    if (!file.includes('digest')) {
      // Real log files are all ones the scanners take (no fallback hides a gap).
      expect(scanned(text, inflated)).toBeDefined();
      expect(wasmScanned(inflated)).toBeDefined();
      expect(streamed(text, [text.length >> 1, text.length >> 2])).toEqual(scanned(text, inflated));
      // The WebAssembly stream, whole and cut into pieces of 1 KB, at odd bytes.
      const n = inflated.length;
      const pieces = Array.from({ length: Math.ceil(n / 1021) }, (_, k) => k * 1021);
      if (onlyRecords(text)) {
        expect(wasmStreamed(inflated, [])).toEqual(parsed(text));
        expect(wasmStreamed(inflated, pieces)).toEqual(parsed(text));
        expect(wasmStreamed(inflated, [], 1 << 26, 1021)).toEqual(parsed(text));
      } else {
        expect(wasmStreamed(inflated, pieces)).toBeUndefined();
      }
    }
    for (const [opts, ref] of [
      [SCAN, DEFAULT_PARSE_OPTIONS],
      [STREAM_SCAN, STREAM_OPTS],
      [DEFAULT_PARSE_OPTIONS, DEFAULT_PARSE_OPTIONS],
      [STREAM_OPTS, STREAM_OPTS],
    ] as const) {
      expect(outcome(await parseLogFile(gz, catalog, opts))).toEqual(
        await reference(gz, inflated, ref),
      );
    }
  });

  const scanFixtures = readdirSync(SCAN_FIXTURES)
    .filter((f) => f.endsWith('.json.gz'))
    .sort();
  it('finds test/fixtures/scan', () => expect(scanFixtures.length).toBeGreaterThan(0));
  it.each(scanFixtures)('test/fixtures/scan/%s', async (file) => {
    const bytes = gunzipSync(readFileSync(path.join(SCAN_FIXTURES, file)));
    expectSameFields(bytes);
    await expectSame(bytes);
  });
});

// ---- (b) generated documents ------------------------------------------------------------------

const realRecords: Rec[] = [];
for (const f of fixtureFiles) {
  const doc = JSON.parse(gunzipSync(readFileSync(path.join(FIXTURES, f))).toString('utf8'));
  if (Array.isArray(doc?.Records)) for (const r of doc.Records) if (isObj(r)) realRecords.push(r);
}

/** Serialization choices, drawn per document (a PRNG seeded by fast-check). */
interface Style {
  next: () => number; // [0, 1)
  ws: number; // probability of whitespace at each gap
  escape: number; // probability of writing a char of a string as \uXXXX (or \/ for '/')
}

function gap(st: Style): string {
  if (st.next() >= st.ws) return '';
  return [' ', '\n', '\t', '\r\n', '  '][Math.floor(st.next() * 5)];
}

function str(s: string, st: Style): string {
  if (st.escape === 0) return JSON.stringify(s);
  let out = '"';
  for (const part of JSON.stringify(s)
    .slice(1, -1)
    .match(/\\u[0-9a-f]{4}|\\.|[\s\S]/g) ?? []) {
    if (part.length === 1 && st.next() < st.escape) {
      out +=
        part === '/' && st.next() < 0.5
          ? '\\/'
          : '\\u' + part.charCodeAt(0).toString(16).padStart(4, '0');
    } else out += part;
  }
  return out + '"';
}

/** JSON text of v with random whitespace and escapes; members as [key, text] pairs for objects. */
function ser(v: unknown, st: Style): string {
  if (typeof v === 'string') return str(v, st);
  if (Array.isArray(v))
    return '[' + gap(st) + v.map((x) => ser(x, st)).join(gap(st) + ',' + gap(st)) + gap(st) + ']';
  if (isObj(v))
    return obj(
      Object.entries(v).map(([k, x]) => [k, ser(x, st)]),
      st,
    );
  return JSON.stringify(v) ?? 'null';
}

function obj(members: [string, string][], st: Style): string {
  return (
    '{' +
    gap(st) +
    members
      .map(([k, t]) => str(k, st) + gap(st) + ':' + gap(st) + t)
      .join(gap(st) + ',' + gap(st)) +
    gap(st) +
    '}'
  );
}

const ODD_VALUES = [null, 0, -1.5e3, true, false, [], {}, [1, 'x'], { a: 'b' }, '', 'x'];
const WANTED = [
  'eventID',
  'eventType',
  'eventCategory',
  'eventSource',
  'eventName',
  'eventTime',
  'errorCode',
  'errorMessage',
  'awsRegion',
  'recipientAccountId',
  'userIdentity',
  'resources',
  'requestParameters',
  'responseElements',
  '@timestamp',
  'insightDetails',
];

/** One record's text: a real record reshaped. */
function recordText(base: Rec, st: Style, edits: number[]): string {
  const members: [string, string][] = Object.entries(base).map(([k, v]) => [k, ser(v, st)]);
  for (const e of edits) {
    const kind = e % 8;
    const at = Math.floor(e / 8) % (members.length + 1);
    const key = WANTED[Math.floor(e / 64) % WANTED.length];
    const odd = ODD_VALUES[Math.floor(e / 1024) % ODD_VALUES.length];
    if (kind === 0 && members.length > 1) {
      // shuffle: move one member
      const [m] = members.splice(at % members.length, 1);
      members.splice(Math.floor(e / 16) % (members.length + 1), 0, m);
    } else if (kind === 1) {
      // a wanted key holding a number, null, an object, … (a duplicate: JSON.parse keeps the last)
      members.splice(at, 0, [key, ser(odd, st)]);
    } else if (kind === 2) {
      // the same key twice, the real value last or first
      const i = members.findIndex(([k]) => k === key);
      if (i >= 0) members.splice(at, 0, [key, ser(odd, st)]);
    } else if (kind === 3) {
      // decoys: wanted names nested below the top level
      members.splice(at, 0, [
        'nested',
        ser({ [key]: 'decoy', x: [{ [key]: { eventName: 'No' } }] }, st),
      ]);
    } else if (kind === 4) {
      // huge requestParameters (or a huge unknown member)
      const big = {
        bucketName: 'b-' + 'x'.repeat(e % 50),
        key: 'k/'.repeat(2000 + (e % 3000)),
        blob: 'é😀"\\'.repeat(500),
      };
      members.splice(at, 0, [e % 16 < 8 ? 'requestParameters' : 'blob', ser(big, st)]);
    } else if (kind === 5) {
      // unicode and escapes in wanted strings
      members.splice(at, 0, [key, ser('a"b\\c/d\u0001é€😀\ud800' + key, st)]);
    } else if (kind === 6) {
      members.splice(at, 0, [
        'deep',
        ser(
          Array.from({ length: 30 }).reduce((v: unknown) => ({ a: [v] }), 1),
          st,
        ),
      ]);
    } else {
      // userIdentity variants
      const ids: unknown[] = [
        {
          type: 'AssumedRole',
          arn: 'arn:aws:sts::123456789012:assumed-role/R/s',
          sessionContext: {
            sessionIssuer: { arn: 'arn:aws:iam::123456789012:role/p/R', arn2: 1 },
            attributes: {},
          },
        },
        {
          type: 'AssumedRole',
          arn: 'arn:aws:sts::123456789012:assumed-role/R/s',
          sessionContext: [],
        },
        {
          type: 'AssumedRole',
          arn: 'arn:aws:sts::123456789012:assumed-role/R/s',
          sessionContext: { sessionIssuer: 'x' },
        },
        { type: 'Root', accountId: '123456789012' },
        { type: 'IAMUser', arn: 'arn:aws:iam::123456789012:user/u', type2: 'x' },
        { invokedBy: 'ec2.amazonaws.com' },
        [1],
        'AssumedRole',
      ];
      members.splice(at, 0, ['userIdentity', ser(ids[Math.floor(e / 8) % ids.length], st)]);
    }
  }
  return obj(members, st);
}

function styleOf(seed: number, ws: number, escape: number): Style {
  let x = seed | 1;
  return {
    next: () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) / 2 ** 32;
    },
    ws,
    escape,
  };
}

/** Documents of `min` to `max` records (real ones, re-serialized), and sometimes extras. */
const docsOf = (min: number, max: number) =>
  fc
    .record({
      picks: fc.array(fc.nat(), { minLength: min, maxLength: max }),
      edits: fc.array(fc.array(fc.nat(), { maxLength: 4 }), { maxLength: 12 }),
      seed: fc.integer(),
      ws: fc.constantFrom(0, 0, 0.1, 0.5),
      escape: fc.constantFrom(0, 0, 0.02, 0.3),
      extras: fc.constantFrom(0, 1, 2),
      dupIds: fc.boolean(),
    })
    .map(({ picks, edits, seed, ws, escape, extras, dupIds }) => {
      const st = styleOf(seed, ws, escape);
      const texts = picks.map((p, i) =>
        recordText(realRecords[p % realRecords.length], st, edits[i] ?? []),
      );
      if (dupIds && texts.length > 1) texts.push(texts[0]); // a duplicate delivery
      if (extras === 2) texts.splice(1, 0, '1', 'null', '"x"', '[]');
      const records = '[' + gap(st) + texts.join(gap(st) + ',' + gap(st)) + gap(st) + ']';
      const members: [string, string][] = [['Records', records]];
      if (extras > 0) members.unshift(['before', ser({ Records: [1], s: 'x' }, st)]);
      if (extras > 0) members.push(['after', ser([{ eventName: 'x' }], st)]);
      return gap(st) + obj(members, st) + gap(st);
    });

const docArb = docsOf(1, 12);
/** Documents of 100 KB to ~1 MB: the WebAssembly scanner reads them in many 64 KB windows. */
const bigDocArb = fc
  .tuple(docsOf(80, 400), fc.nat(), fc.constantFrom(0, 70_000, 200_000), fc.boolean())
  .map(([text, at, giant, unicode]) => {
    if (giant === 0) return text;
    // one record longer than a window, somewhere in the array
    const doc = JSON.parse(text) as { Records: unknown[] };
    const big = { ...realRecords[at % realRecords.length] };
    big.requestParameters = { policy: (unicode ? 'é€😀' : 'ab').repeat(giant / 4) };
    doc.Records.splice(at % (doc.Records.length + 1), 0, big);
    return JSON.stringify(doc);
  });

describe('scanner vs JSON.parse on generated documents', () => {
  it('are valid JSON (the generator itself)', () => {
    fc.assert(
      fc.property(docArb, (text) => {
        expect(() => JSON.parse(text)).not.toThrow();
      }),
      { numRuns: 50 },
    );
  });

  it(
    'extracts the same fields, record by record, however the text is cut',
    () => {
      fc.assert(
        fc.property(docArb, fc.array(fc.nat(), { maxLength: 8 }), (text, cuts) => {
          const bytes = Buffer.from(text, 'utf8');
          expectSameFields(bytes);
          const whole = scanned(text, bytes);
          expect(whole).toBeDefined();
          expect(
            streamed(
              text,
              cuts.map((c) => c % (text.length + 1)),
            ),
          ).toEqual(whole);
        }),
        { numRuns: runs(100) },
      );
    },
    TIMEOUT,
  );

  it(
    'the WebAssembly stream extracts the same fields and delta, however the bytes are cut',
    () => {
      fc.assert(
        fc.property(
          docArb,
          fc.array(fc.nat(), { maxLength: 12 }),
          fc.option(fc.integer({ min: 1, max: 2048 })),
          (generated, cuts, piece) => {
            const bytes = Buffer.from(generated, 'utf8');
            // What the bytes say (a lone surrogate the generator wrote raw becomes U+FFFD).
            const text = strict.decode(bytes);
            const at = cuts.map((c) => c % (bytes.length + 1));
            // Chunks scanned whole, or in pieces of at most `piece` bytes (as parse.ts does).
            const pieceBytes = piece ?? undefined;
            const fields = wasmStreamed(bytes, at, 1 << 26, pieceBytes);
            if (!onlyRecords(text)) {
              expect(fields).toBeUndefined();
              return;
            }
            expect(fields).toEqual(parsed(text));
            const ref = referenceWhole(bytes, 0);
            expect('delta' in ref).toBe(true);
            const delta = wasmStreamDelta(bytes, at, pieceBytes);
            expect(delta).toEqual((ref as { delta: FileDelta }).delta);
          },
        ),
        { numRuns: runs(150) },
      );
    },
    TIMEOUT,
  );

  it(
    'makes the same FileDelta on both paths',
    async () => {
      await fc.assert(
        fc.asyncProperty(docArb, async (text) => {
          await expectSame(Buffer.from(text, 'utf8'));
        }),
        { numRuns: runs(60) },
      );
    },
    TIMEOUT,
  );

  it(
    'reads documents over many windows, and records longer than one, as JSON.parse does',
    async () => {
      await fc.assert(
        fc.asyncProperty(bigDocArb, async (text) => {
          const bytes = Buffer.from(text, 'utf8');
          expect(bytes.length).toBeGreaterThan(64 * 1024);
          expectSameFields(bytes);
          await expectSame(bytes);
        }),
        { numRuns: runs(12) },
      );
    },
    TIMEOUT,
  );
});

// ---- (c) mutated and truncated documents ------------------------------------------------------

const MUTATIONS = [
  ...'{}[]",:\\ 0an-.eE+tu\u00ff\n\t\u0001/',
  '\u00e9',
  '\ufeff',
  '\\u',
  '\\"',
  '"Records":[',
  '}]',
];

describe('scanner vs JSON.parse on mutated documents', () => {
  it(
    'gives the same delta or the same error code, on both paths',
    async () => {
      const mutation = fc.tuple(
        fc.nat(),
        fc.constantFrom('delete', 'insert', 'replace'),
        fc.constantFrom(...MUTATIONS),
      );
      await fc.assert(
        fc.asyncProperty(
          docArb,
          fc.array(mutation, { minLength: 1, maxLength: 3 }),
          async (text, mutations) => {
            let bytes = Buffer.from(text, 'utf8');
            for (const [at, kind, s] of mutations) {
              const i = at % (bytes.length + 1);
              const ins = s === '\u00ff' ? Buffer.from([0xff]) : Buffer.from(s, 'utf8');
              const rest = bytes.subarray(kind === 'insert' ? i : i + 1);
              bytes = Buffer.concat([
                bytes.subarray(0, i),
                kind === 'delete' ? Buffer.alloc(0) : ins,
                rest,
              ]);
            }
            expectSameFields(bytes);
            await expectSame(bytes);
          },
        ),
        { numRuns: runs(100) },
      );
    },
    TIMEOUT,
  );

  it(
    'gives the same error for every truncation',
    async () => {
      await fc.assert(
        fc.asyncProperty(docArb, fc.nat(), async (text, at) => {
          const bytes = Buffer.from(text, 'utf8');
          const cut = bytes.subarray(0, at % bytes.length);
          expectSameFields(cut);
          await expectSame(cut);
        }),
        { numRuns: runs(60) },
      );
    },
    TIMEOUT,
  );
});

// ---- edge cases, by hand ----------------------------------------------------------------------

describe('the WebAssembly stream', () => {
  const rec = (i: number, extra = '') =>
    `{"eventID":"id-${i}","eventName":"GetObject","eventSource":"s3.amazonaws.com"${extra}}`;
  const doc = (n: number, extra = '') =>
    `{"Records":[${Array.from({ length: n }, (_, i) => rec(i, extra)).join(',')}]}`;
  const every = (n: number, step: number) => Array.from({ length: n / step }, (_, k) => k * step);

  it('takes white space and a byte order mark around the array, and nothing else', () => {
    const body = doc(3);
    for (const text of [
      body,
      `\ufeff ${body}\n`,
      body.replace('{"Records":[', '{ "Records" :\n[ '),
    ])
      expect(wasmStreamed(Buffer.from(text), every(text.length, 3))).toEqual(
        parsed(text.replace(/^\ufeff/, '')), // JSON.parse refuses the mark; the decoders drop it
      );
    for (const text of [
      `{"a":1,${body.slice(1)}`, // another key first
      `${body.slice(0, -1)},"a":1}`, // or after
      body.replace('"Records"', '"Rec\\u006frds"'), // an escaped key (JSON.parse reads it)
      `${body} x`,
      body.slice(0, -1), // truncated
    ]) {
      expect(wasmStreamed(Buffer.from(text), [])).toBeUndefined();
    }
  });

  it('refuses a record longer than its bound (the reference path then decides)', () => {
    const text = doc(3, `,"blob":"${'y'.repeat(10_000)}"`);
    const bytes = Buffer.from(text);
    expect(wasmStreamed(bytes, every(bytes.length, 1000), 4096)).toBeUndefined();
    expect(wasmStreamed(bytes, every(bytes.length, 1000), 65_536)).toEqual(parsed(text));
  });

  it('keeps every record when characters are cut between pieces', () => {
    const text = doc(40, ',"x":"é€😀"');
    const bytes = Buffer.from(text);
    for (const step of [1, 2, 3, 5, 64]) {
      expect(wasmStreamed(bytes, every(bytes.length, step))).toEqual(parsed(text));
      // One chunk, scanned in pieces of `step` bytes.
      expect(wasmStreamed(bytes, [], 1 << 26, step)).toEqual(parsed(text));
    }
  });

  it('gives a plain lowercase UUID eventID as its words, and dedups as JSON.parse does', async () => {
    const id = '6f1c0a2e-93b4-4d7a-b8e1-0c5d2f9a7b36';
    const upper = id.toUpperCase();
    const escaped = `\\u0036${id.slice(1)}`; // the same id, its first digit escaped
    const record = (eventId: string) =>
      `{"eventID":"${eventId}","eventType":"AwsApiCall","eventSource":"s3.amazonaws.com","eventName":"GetObject","eventTime":"2026-06-01T00:00:00Z","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/u","accountId":"123456789012"}}`;
    const ids = [id, upper, escaped, `${id.slice(0, 35)}g`, id, upper, 'not-a-uuid', 'not-a-uuid'];
    const text = `{"Records":[${ids.map(record).join(',')}]}`;
    const flags: boolean[] = [];
    const stream = new WasmRecordStream((r) => flags.push(r!.uuid), 1 << 26);
    expect(feed(stream, Buffer.from(text), [])).toBe(true);
    expect(flags).toEqual([true, false, false, false, true, false, false, false]);
    // id, escaped id and the second id are one; upper twice; not-a-uuid twice: 4 duplicates,
    // whatever the pieces (each piece its own epoch: no exact dup hints there)
    const reference = referenceWhole(Buffer.from(text), 0);
    for (const pieceBytes of [64, 300, 1 << 20]) {
      const delta = wasmStreamDelta(Buffer.from(text), [], pieceBytes)!;
      expect(delta.stats.duplicateRecords).toBe(4);
      expect(outcome({ ok: true, delta })).toEqual(reference);
    }
    // Whole, the escaped id turns the scanner's exact dedup off from its row on: the rows before
    // it carry no words (their strings are parsed), the rows after do; the same delta.
    await expectSame(Buffer.from(text));
  });

  it('checked the UUID words of the scanner on the documents above', () =>
    expect(uuidsChecked).toBeGreaterThan(1000));

  it('scans a chunk in pieces, and a record longer than a piece across them', () => {
    const text = doc(30, `,"blob":"${'z'.repeat(5_000)}"`);
    const bytes = Buffer.from(text);
    for (const pieceBytes of [100, 1021, 4096]) {
      expect(wasmStreamed(bytes, [], 1 << 26, pieceBytes)).toEqual(parsed(text));
      expect(wasmStreamed(bytes, every(bytes.length, 7_000), 1 << 26, pieceBytes)).toEqual(
        parsed(text),
      );
    }
    // The record bound holds for pieces too.
    expect(wasmStreamed(bytes, [], 4096, 1021)).toBeUndefined();
  });
});

describe('scanner edge cases', () => {
  const one = (record: string) => `{"Records":[${record}]}`;
  it.each([
    [
      'escaped key',
      one(
        '{"event\\u004eame":"GetObject","eventSource":"s3.amazonaws.com","eventTime":"2024-01-01T00:00:00Z","userIdentity":{"type":"Root","accountId":"123456789012"}}',
      ),
    ],
    [
      'duplicate Records (last wins)',
      '{"Records":[{"eventID":"a"}],"Records":[{"eventID":"b"},1]}',
    ],
    ['control char in a string', one('{"eventName":"Get\nObject"}')],
    ['tab in a skipped string', one('{"x":"a\tb","eventName":"GetObject"}')],
    ['bad escape', one('{"x":"a\\xb"}')],
    ['bad number', one('{"x":01}')],
    ['trailing comma', one('{"x":1,}')],
    ['lone surrogate escape', one('{"eventName":"\\ud800x"}')],
    [
      'numbers where strings belong',
      one('{"eventName":1,"eventSource":null,"errorCode":403,"eventID":7}'),
    ],
    ['pretty-printed', JSON.stringify({ Records: realRecords.slice(0, 5) }, null, 2)],
    ['BOM', '\ufeff' + one('{}')],
    ['two BOMs', '\ufeff\ufeff' + one('{}')],
    ['not CloudTrail', '{"digestPublicKeyFingerprint":"x"}'],
    ['Records not an array', '{"Records":{}}'],
    ['data after the document', one('{}') + ' x'],
    ['empty', ''],
    [
      'escaped Records and identity keys',
      '{"Rec\\u006frds":[{"userIdenti\\u0074y":{"\\u0074ype":"AssumedRole","arn":"arn:aws:sts::123456789012:assumed-role/r/s","sessionCon\\u0074ext":{"session\\u0049ssuer":{"\\u0061rn":"arn:aws:iam::123456789012:role/r"}}},"eventName":"GetObject","eventSource":"s3.amazonaws.com","eventTime":"2024-01-01T00:00:00Z"}]}',
    ],
    [
      'escaped keys that name no field (one longer than any wanted key)',
      one(
        '{"eventN\\u0061me2":"x","\\u0065ventNameeventNameeventNameeventName":"y","\\n":1,"eventName":"GetObject","eventSource":"s3.amazonaws.com","eventTime":"2024-01-01T00:00:00Z","userIdentity":{"type":"Root","accountId":"123456789012"}}',
      ),
    ],
    [
      'an escaped key one char longer than a wanted one',
      one('{"eventName\\u0000":"x","eventName":"y"}'),
    ],
  ])('%s', async (_name, text) => {
    const bytes = Buffer.from(text, 'utf8');
    expectSameFields(bytes);
    await expectSame(bytes);
  });

  const rec = (id: string, source: string, arn: string): string =>
    `{"eventID":"${id}","eventName":"GetObject","eventSource":"${source}","eventTime":"2024-01-01T00:00:00Z","userIdentity":{"type":"IAMUser","arn":"${arn}","accountId":"123456789012"}}`;
  const S3 = 's3.amazonaws.com';
  const USER = 'arn:aws:iam::123456789012:user/u';

  it.each([
    ['an eventID repeated, plain', [rec('a1', S3, USER), rec('a2', S3, USER), rec('a1', S3, USER)]],
    [
      'an eventID repeated in two spellings (the accumulator dedups that document itself)',
      [rec('a1', S3, USER), rec('\\u00611', S3, USER), rec('a1', S3, USER)],
    ],
    [
      'one source and one principal in two spellings',
      [
        rec('a1', S3, USER),
        rec('a2', 's3.amazonaws.co\\u006d', 'arn:aws:iam::123456789012:user/\\u0075'),
      ],
    ],
    ['a non-string eventID', [rec('a1', S3, USER).replace('"a1"', '7'), rec('a1', S3, USER)]],
  ])('interning hints: %s', async (_name, records) => {
    const bytes = Buffer.from(`{"Records":[${records.join(',')}]}`, 'utf8');
    expectSameFields(bytes);
    await expectSame(bytes);
  });

  // A UTF-8 document is scanned as bytes: a string holding other characters is decoded from them.
  const U = 'arn:aws:sts::123456789012:assumed-role/r\u00e9le/s\u00e9ssion-\u4e2d\u{1f600}';
  const utf8Record = (extra = ''): string =>
    `{"eventID":"\u00e9-1","eventName":"GetObject","eventSource":"s3.amazonaws.com","eventTime":"2024-01-01T00:00:00Z","errorMessage":"n\u00e3o","awsRegion":"eu-west-1","userIdentity":{"type":"AssumedRole","arn":"${U}","accountId":"123456789012","sessionContext":{"sessionIssuer":{"arn":"arn:aws:iam::123456789012:role/r\u00e9le"}}},"requestParameters":{"bucketName":"b","key":"d\u00f6c/\u4e2d\u6587/\u{1f600}.txt"},"resources":[{"ARN":"arn:aws:s3:::b/d\u00f6c/\u4e2d\u6587/\u{1f600}.txt","type":"AWS::S3::Object"}]${extra}}`;
  it.each([
    ['non-ASCII in every field read', one(utf8Record()), true],
    ['non-ASCII and escapes in one string', one(utf8Record(',"errorCode":"\\u00e9\u00e9"')), true],
    ['a non-ASCII key', one(utf8Record(',"\u00e9ventName":"x"')), true],
    [
      'non-ASCII in a skipped value only',
      one(`{"x":["\u00e9",{"\u4e2d":"\u{1f600}"}],"eventName":"GetObject"}`),
      true,
    ],
    ['a non-ASCII character outside a string', one('{"eventName":"GetObject"}\u00e9'), false],
    ['a byte order mark before a non-ASCII document', '\ufeff' + one(utf8Record()), true],
    ['a byte order mark inside', one('\ufeff{}'), false],
    [
      'one non-ASCII record among ASCII ones',
      `{"Records":[${rec('a1', S3, USER)},${utf8Record()},${rec('a2', S3, USER)}]}`,
      true,
    ],
  ])('UTF-8 as bytes: %s', async (_name, text, taken) => {
    const bytes = Buffer.from(text, 'utf8');
    expect(isAscii(bytes)).toBe(false);
    expect(wasmScanned(bytes) !== undefined).toBe(taken);
    expectSameFields(bytes);
    await expectSame(bytes);
  });

  // Bytes no UTF-8 decoder takes, in a document that is otherwise valid non-ASCII UTF-8.
  it.each([
    ['a lone continuation byte', [0x80]],
    ['an overlong "/"', [0xc0, 0xaf]],
    ['an encoded surrogate', [0xed, 0xa0, 0x80]],
    ['past U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ['0xF5', [0xf5, 0x80, 0x80, 0x80]],
    ['a sequence cut by the quote', [0xe4, 0xb8]],
  ])('UTF-8 as bytes: NOT_UTF8 for %s', async (_name, bad) => {
    const [head, tail] = one(utf8Record(',"x":"@"')).split('@');
    const bytes = Buffer.concat([Buffer.from(head), Buffer.from(bad), Buffer.from(tail)]);
    const gz = gzipSync(bytes);
    expect(outcome(await parseLogFile(gz, catalog))).toEqual({ code: 'NOT_UTF8' });
    expect(outcome(await parseLogFile(gz, catalog, STREAM_OPTS))).toEqual({ code: 'NOT_UTF8' });
    await expectSame(bytes);
  });

  it('gives the hints the accumulator keys its memos by', () => {
    const text = `{"Records":[${[rec('a1', S3, USER), rec('a2', 'ec2.amazonaws.com', USER), rec('a1', S3, 'arn:aws:iam::123456789012:user/v'), 1].join(',')}]}`;
    const hints: (number[] | null)[] = [];
    expect(
      wasmScanDocument(Buffer.from(text), (r) =>
        hints.push(r === null ? null : [r.dup, r.pair, r.ident]),
      ),
    ).toBe(true);
    expect(hints).toEqual([[0, 0, 0], [0, 1, 0], [1, 0, 1], null]);
  });

  // The resources memo (Accumulator.scannedResources) keys resourcesOf's result by the inputs id
  // and the identity's context: every field resourcesOf reads must be in one or the other.
  const call = (edit: (r: Rec) => void): Rec => {
    const r: Rec = {
      eventID: 'x',
      eventName: 'Invoke',
      eventSource: 'lambda.amazonaws.com',
      eventTime: '2024-01-01T00:00:00Z',
      awsRegion: 'eu-west-1',
      recipientAccountId: '123456789012',
      userIdentity: {
        type: 'AssumedRole',
        arn: 'arn:aws:sts::123456789012:assumed-role/r/s',
        accountId: '123456789012',
        sessionContext: { sessionIssuer: { arn: 'arn:aws:iam::123456789012:role/r' } },
      },
      requestParameters: { functionName: 'f' },
      responseElements: null,
    };
    edit(r);
    return r;
  };
  const session = (r: Rec, arn: string, accountId = '123456789012'): void => {
    r.userIdentity = { ...(r.userIdentity as Rec), arn, accountId };
  };
  const variants: [string, (r: Rec) => void][] = [
    ['as is', () => {}],
    [
      'another session of the role',
      (r) => session(r, 'arn:aws:sts::123456789012:assumed-role/r/t'),
    ],
    ['another region', (r) => (r.awsRegion = 'us-east-2')],
    ['another recipient account', (r) => (r.recipientAccountId = '210987654321')],
    ['no recipient: the caller account', (r) => delete r.recipientAccountId],
    [
      'no recipient, another caller account',
      (r) => {
        delete r.recipientAccountId;
        session(r, 'arn:aws:sts::123456789012:assumed-role/r/s', '111122223333');
      },
    ],
    [
      'a China-partition caller',
      (r) => session(r, 'arn:aws-cn:sts::123456789012:assumed-role/r/s'),
    ],
    ['another event name', (r) => (r.eventName = 'InvokeAsync')],
    ['another function', (r) => (r.requestParameters = { functionName: 'g' })],
    ['a qualified name', (r) => (r.requestParameters = { functionName: 'f:live' })],
    [
      'a function ARN in the response',
      (r) =>
        (r.responseElements = { functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:h' }),
    ],
    [
      'a resources array',
      (r) => (r.resources = [{ ARN: 'arn:aws:lambda:eu-west-1:123456789012:function:k' }]),
    ],
  ];

  it('gives an inputs id per distinct text of the fields resourcesOf reads', () => {
    const records = variants.map(([, edit]) => call(edit));
    const text = `{"Records":[${[...records, ...records].map((r) => JSON.stringify(r)).join(',')}]}`;
    const ids: number[] = [];
    expect(wasmScanDocument(Buffer.from(text), (r) => ids.push(r!.inputs))).toBe(true);
    const n = variants.length;
    // A session or caller change is the identity's (ident), not an input; the rest differ.
    expect(ids.slice(n)).toEqual(ids.slice(0, n));
    expect(ids[1]).toBe(ids[0]);
    expect(ids[5]).toBe(ids[4]);
    expect(ids[6]).toBe(ids[0]);
    const others = ids.slice(0, n).filter((_, i) => i !== 1 && i !== 5 && i !== 6);
    expect(new Set(others).size).toBe(others.length);
  });

  it('memoizes resources only among records alike in everything resourcesOf reads', async () => {
    // Each variant after the first, between two records as is: a memo keyed too coarsely gives
    // it the first record's ARN, or the next record the variant's.
    const records: Rec[] = [];
    for (const [, edit] of variants)
      records.push(
        call(() => {}),
        call(edit),
        call(() => {}),
      );
    records.forEach((r, i) => (r.eventID = `e${i}`));
    const text = `{"Records":[${records.map((r) => JSON.stringify(r)).join(',')}]}`;
    await expectSame(Buffer.from(text));
    const result = await parseLogFile(gzipSync(text), catalog, SCAN);
    expect(result.ok).toBe(true);
    const arns = result.ok ? result.delta.uses.flatMap((u) => u.resources) : [];
    for (const arn of [
      'arn:aws:lambda:eu-west-1:123456789012:function:f',
      'arn:aws:lambda:us-east-2:123456789012:function:f',
      'arn:aws:lambda:eu-west-1:210987654321:function:f',
      'arn:aws:lambda:eu-west-1:111122223333:function:f',
      'arn:aws-cn:lambda:eu-west-1:123456789012:function:f',
      'arn:aws:lambda:eu-west-1:123456789012:function:g',
      'arn:aws:lambda:eu-west-1:123456789012:function:h',
      'arn:aws:lambda:eu-west-1:123456789012:function:k',
    ])
      expect(arns).toContain(arn);
  });

  // eventTime as the scanner reads it (ScannedRecord.timeDay): the accumulator's own reading of the
  // string (timeOf: a real date's UTC midnight, plus hours < 24, minutes < 60, seconds < 61).
  const expectedTime = (t: string): number | undefined => {
    const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/.exec(t);
    if (m === null) return undefined;
    const [y, mo, d, h, mi, sec] = m.slice(1).map(Number);
    const midnight = Date.UTC(y, mo - 1, d);
    const real = new Date(midnight);
    if (real.getUTCFullYear() !== y || real.getUTCMonth() !== mo - 1 || real.getUTCDate() !== d)
      return undefined;
    if (h > 23 || mi > 59 || sec > 60) return undefined;
    return midnight + ((h * 60 + mi) * 60 + sec) * 1000;
  };
  const ODD_TIMES = [
    '2024-02-29T12:00:00Z',
    '2023-02-29T12:00:00Z',
    '2100-02-29T00:00:00Z',
    '2000-02-29T00:00:00Z',
    '2024-02-30T00:00:00Z',
    '2024-04-31T00:00:00Z',
    '2024-00-10T00:00:00Z',
    '2024-13-10T00:00:00Z',
    '2024-01-00T00:00:00Z',
    '2024-01-32T00:00:00Z',
    '2024-01-01T23:59:60Z',
    '2024-01-01T23:59:61Z',
    '2024-01-01T24:00:00Z',
    '2024-01-01T00:60:00Z',
    '1969-12-31T23:59:59Z',
    '1970-01-01T00:00:00Z',
    '9999-12-31T23:59:59Z',
    '2024-01-01T00:00:00.123Z',
    '2024-01-01 00:00:00Z',
    '2024-01-01T00:00:00z',
    '2024-1-01T00:00:00Z',
    '2024-01-01T0a:00:00Z',
    '２０24-01-01T00:00:00Z',
    '2024-01-01T00:00:00+00:00',
  ];

  it('reads eventTime of every day 1970-2400 as the accumulator does, and no other shape', () => {
    const times: string[] = [];
    for (let day = 0; day < 157_000; day++) {
      // a different second of the day each time, the day's last second too
      const second = day % 7 === 0 ? 86_399 : (day * 7919) % 86_400;
      times.push(new Date(day * 86_400_000 + second * 1000).toISOString().slice(0, 19) + 'Z');
    }
    times.push(...ODD_TIMES);
    const text = `{"Records":[${times.map((t) => JSON.stringify({ eventTime: t })).join(',')}]}`;
    const got: number[] = [];
    expect(
      wasmScanDocument(Buffer.from(text), (r) =>
        got.push(r!.timeDay < 0 ? NaN : r!.timeDay * 86_400_000 + r!.timeSecond * 1000),
      ),
    ).toBe(true);
    // Before 1970 the scanner leaves the string to the accumulator too.
    const scanned = (t: string): number => (t < '1970' ? NaN : (expectedTime(t) ?? NaN));
    const wrong = times.filter((t, i) => !Object.is(got[i], scanned(t)));
    expect(wrong).toEqual([]);
    expect(ODD_TIMES.filter((_, i) => !Number.isNaN(got[157_000 + i]))).toEqual([
      '2024-02-29T12:00:00Z',
      '2000-02-29T00:00:00Z',
      '2024-01-01T23:59:60Z',
      '1970-01-01T00:00:00Z',
      '9999-12-31T23:59:59Z',
    ]);
  });

  it('takes a record with any of those eventTimes as the JSON.parse path does', async () => {
    const records = ODD_TIMES.map((t, i) =>
      call((r) => {
        r.eventID = `t${i}`;
        r.eventTime = t;
      }),
    );
    // a well-formed one the whole-file path must not read from another record's row
    records.push(call((r) => (r.eventTime = '2024-03-01T01:02:03Z')));
    await expectSame(
      Buffer.from(`{"Records":[${records.map((r) => JSON.stringify(r)).join(',')}]}`),
    );
  });

  // The interning tables are sized to the document (about a slot per 128 bytes, at least 1024):
  // a document of small records fills them, and the rest must still come out as JSON.parse's.
  it('fills its interning tables on many small records and still gives the same delta', async () => {
    const records: string[] = [];
    // ~90 bytes a record (no eventTime: the records are counted and skipped, after dedup)
    for (let i = 0; i < 20_000; i++) {
      const id = i % 5 === 4 ? `e${i - 4}` : `e${i}`; // a duplicate every fifth record
      records.push(
        `{"eventID":"${id}","eventName":"G${i}","eventSource":"s","userIdentity":{"arn":"u${i}"}}`,
      );
    }
    const text = `{"Records":[${records.join(',')}]}`;
    const hints: number[][] = [];
    expect(
      wasmScanDocument(Buffer.from(text), (r) =>
        hints.push([r!.pair, r!.ident, r!.inputs, r!.dup]),
      ),
    ).toBe(true);
    // every table stopped taking new entries somewhere in the document (dup: not exact then)
    expect(hints.every((h) => h[3] === -1)).toBe(true);
    for (const k of [0, 1, 2]) {
      expect(hints[0][k]).toBe(0);
      expect(hints.some((h) => h[k] === -1)).toBe(true);
    }
    await expectSame(Buffer.from(text));
  });

  it('nesting deeper than the WebAssembly scanner follows goes to JSON.parse, same delta', async () => {
    const deep = '['.repeat(10_050) + ']'.repeat(10_050);
    const text = one(
      `{"eventName":"GetObject","eventSource":"s3.amazonaws.com","eventTime":"2024-01-01T00:00:00Z","userIdentity":{"type":"Root","accountId":"123456789012"},"requestParameters":{"x":${deep}}}`,
    );
    expect(wasmScanned(Buffer.from(text))).toBeUndefined();
    const nested = one('{"x":' + '['.repeat(9_000) + ']'.repeat(9_000) + '}');
    expect(wasmScanned(Buffer.from(nested))).toBeDefined();
    await expectSame(Buffer.from(text, 'utf8'));
  });
});

describe("inflating into the WebAssembly scanner's memory", () => {
  const text = `{"Records":[${'{"eventName":"GetObject","eventSource":"s3.amazonaws.com","eventTime":"2024-01-01T00:00:00Z","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/z","accountId":"123456789012"},"requestParameters":{"bucketName":"b","key":"k"}}'}]}`;
  const honest = gzipSync(text);
  const edited = (f: (b: Buffer) => void): Buffer => {
    const b = Buffer.from(honest);
    f(b);
    return b;
  };
  const trailer = (size: number) => edited((b) => b.writeUInt32LE(size >>> 0, b.length - 4));
  const cases: Record<string, Buffer> = {
    honest,
    'crc corrupt': edited((b) => (b[b.length - 6] ^= 0xff)),
    'data corrupt': edited((b) => (b[12] ^= 0x55)),
    'trailer 1 short': trailer(text.length - 1),
    'trailer 1 long': trailer(text.length + 1),
    'trailer 0': trailer(0),
    'trailer 2^32-1': trailer(0xffffffff),
    'two members': Buffer.concat([gzipSync(text.slice(0, 40)), gzipSync(text.slice(40))]),
    'garbage after': Buffer.concat([honest, Buffer.from('xyz')]),
    'zeros after': Buffer.concat([honest, Buffer.alloc(8)]),
    truncated: honest.subarray(0, honest.length - 3),
    empty: gzipSync(''),
  };

  it('inflates a file whose trailer holds in place, and declines one whose trailer does not', () => {
    // The test below holds whichever path ran: this one shows the in-place path runs at all.
    expect(wasmInflate(honest, text.length)?.toString('latin1')).toBe(text);
    expect(wasmInflate(cases['trailer 1 long'], text.length + 1)).toBeUndefined();
    expect(wasmInflate(cases['crc corrupt'], text.length)).toBeUndefined();
  });

  it('gives what gunzipSync gives on every gzip shape, and recovers after an error', async () => {
    const viaGunzip = { ...DEFAULT_PARSE_OPTIONS, wasm: false };
    const seen = new Set<string>();
    for (const [name, bytes] of Object.entries(cases)) {
      const got = outcome(await parseLogFile(bytes, catalog));
      expect({ name, got }).toEqual({
        name,
        got: outcome(await parseLogFile(bytes, catalog, viaGunzip)),
      });
      seen.add('delta' in got ? 'delta' : got.code);
      // and the next file after it inflates in place again
      expect(outcome(await parseLogFile(honest, catalog))).toEqual(
        outcome(await parseLogFile(honest, catalog, viaGunzip)),
      );
    }
    expect([...seen].sort()).toEqual(['GZIP_CORRUPT', 'NOT_JSON', 'delta']);
  });

  it('a refusal after the scan grew the memory reads the bytes afresh', async () => {
    // Records enough for rows (244 bytes each) past the memory this thread has, then one the
    // scanner leaves to JSON.parse (nesting deeper than it follows), which reads the bytes again.
    const small = '{"eventName":"GetObject","eventTime":"2024-01-01T00:00:00Z"}';
    const before = wasmMemoryBytes();
    const count = Math.ceil(before / 244) + 20_000;
    const deep = '['.repeat(10_050) + ']'.repeat(10_050);
    const records = Array.from({ length: count }, () => small);
    records.push(`{"eventName":"x","requestParameters":${deep}}`);
    const doc = Buffer.from(`{"Records":[${records.join(',')}]}`);
    expect(doc.length).toBeLessThan(DEFAULT_PARSE_OPTIONS.wholeFileMaxBytes);
    const got = outcome(await parseLogFile(gzipSync(doc), catalog));
    expect(wasmMemoryBytes()).toBeGreaterThan(before);
    expect(got).toEqual(referenceWhole(doc, gzipSync(doc).length));
    expect('delta' in got && got.delta.stats.records).toBe(count + 1);
  });
});
