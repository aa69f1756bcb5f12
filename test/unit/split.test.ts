// The streaming record splitter against JSON.parse: real fixtures cut at every (or random) chunk
// boundary, generated documents (unicode, escapes, deep nesting, huge strings, extra top-level
// keys, whitespace everywhere), mutated documents, and every error code.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecordSplitter, SplitError, type SplitterOptions } from '../../workers/split.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../../../shared/fixtures/cloudtrail');
const strictDecoder = new TextDecoder('utf-8', { fatal: true });

interface Outcome {
  records: string[];
  error?: SplitError;
}

/** Feeds bytes cut at `cuts` (any order, any values: clamped into range) and ends the stream. */
function split(bytes: Uint8Array, cuts: readonly number[] = [], opts?: SplitterOptions): Outcome {
  const records: string[] = [];
  const splitter = new RecordSplitter((json) => records.push(json), opts);
  const bounds = [...new Set(cuts.map((c) => Math.min(Math.max(c, 0), bytes.length)))].sort(
    (a, b) => a - b,
  );
  try {
    let from = 0;
    for (const to of [...bounds, bytes.length]) {
      splitter.push(bytes.subarray(from, to));
      from = to;
    }
    splitter.end();
  } catch (err) {
    if (!(err instanceof SplitError)) throw err;
    return { records, error: err };
  }
  return { records };
}

function bytesOf(text: string): Buffer {
  return Buffer.from(text, 'utf8');
}

function codeOf(text: string | Uint8Array, cuts: readonly number[] = []): string | undefined {
  return split(typeof text === 'string' ? bytesOf(text) : text, cuts).error?.code;
}

/** What the whole-file path (decode + JSON.parse) makes of a document. */
function wholeFile(bytes: Uint8Array): { records: unknown[] } | { code: string } {
  let doc: unknown;
  try {
    doc = JSON.parse(strictDecoder.decode(bytes));
  } catch {
    return { code: 'NOT_JSON' };
  }
  const records =
    typeof doc === 'object' && doc !== null && !Array.isArray(doc)
      ? (doc as { Records?: unknown }).Records
      : undefined;
  return Array.isArray(records) ? { records } : { code: 'NOT_CLOUDTRAIL' };
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Deterministic pseudo-random cut points (xorshift), so a failure names a reproducible seed. */
function randomCuts(length: number, count: number, seed: number): number[] {
  let x = seed | 1;
  const cuts: number[] = [];
  for (let i = 0; i < count; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    cuts.push((x >>> 0) % (length + 1));
  }
  return cuts;
}

function sameOutcome(a: Outcome, b: Outcome): boolean {
  return (
    a.error === b.error &&
    a.records.length === b.records.length &&
    a.records.every((r, i) => r === b.records[i])
  );
}

function thrown(fn: () => void): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

const everyByte = (length: number): number[] => Array.from({ length }, (_, i) => i);

describe('RecordSplitter on the real CloudTrail fixtures', () => {
  const files = (readdirSync(FIXTURES, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.json.gz'))
    .sort();
  const EVERY_CUT_MAX_BYTES = 4096;

  it('finds the fixture files', () => {
    expect(files.length).toBeGreaterThan(400);
  });

  it.each(files)('%s', (file) => {
    const bytes = gunzipSync(readFileSync(path.join(FIXTURES, file)));
    const whole = wholeFile(bytes);
    const once = split(bytes);
    if ('code' in whole) {
      expect(once.error?.code).toBe(whole.code); // the digest files
      return;
    }
    expect(once.error).toBeUndefined();
    expect(once.records.map((r) => JSON.parse(r))).toEqual(whole.records);
    // Every other chunking must give exactly the same texts.
    expect(split(bytes, everyByte(bytes.length))).toEqual(once);
    // Every two-chunk cut of a small file, random cuts of a larger one. Compared cheaply, and
    // through expect only on a difference, so that thousands of runs stay fast.
    const cutSets =
      bytes.length <= EVERY_CUT_MAX_BYTES
        ? everyByte(bytes.length).map((cut) => [cut])
        : Array.from({ length: 32 }, (_, seed) => randomCuts(bytes.length, 1 + seed, seed + 1));
    for (const cuts of cutSets) {
      const out = split(bytes, cuts);
      if (!sameOutcome(out, once)) expect({ cuts, ...out }).toEqual({ cuts, ...once });
    }
  });
});

// ---- generated documents -------------------------------------------------------------------

const whitespace = fc
  .array(fc.constantFrom(' ', '\t', '\n', '\r'), { maxLength: 3 })
  .map((ws) => ws.join(''));

// Lone surrogates: JSON.stringify writes them as \udXXX escapes.
const surrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const jsonChars = fc.constantFrom(
  '"',
  '\\',
  '{',
  '}',
  '[',
  ']',
  ',',
  ':',
  '\n',
  '\u0000',
  'é',
  '€',
  '😀',
);
const unit = fc.oneof(fc.string({ unit: 'binary', maxLength: 1 }), surrogate, jsonChars);
const text = fc.string({ unit, maxLength: 24 });
const hugeString = fc
  .tuple(fc.string({ unit, minLength: 1, maxLength: 6 }), fc.integer({ min: 1000, max: 20_000 }))
  .map(([s, times]) => s.repeat(times));
const deep = fc.tuple(fc.integer({ min: 1, max: 400 }), fc.boolean()).map(([depth, asArrays]) => {
  let v: unknown = depth;
  for (let i = 0; i < depth; i++) v = asArrays ? [v] : { d: v };
  return v;
});
const value = fc.oneof(
  { weight: 6, arbitrary: fc.jsonValue({ stringUnit: 'binary', maxDepth: 4 }) },
  { weight: 2, arbitrary: fc.dictionary(text, fc.oneof(text, fc.jsonValue({ maxDepth: 2 }))) },
  { weight: 1, arbitrary: hugeString },
  { weight: 1, arbitrary: deep },
  // A decoy: "Records" below the top level is not the top-level one.
  {
    weight: 1,
    arbitrary: fc.array(fc.integer()).map((r) => ({ Records: r, x: [{ Records: 1 }] })),
  },
);
// Mostly objects, as CloudTrail records are; some bare values, which are emitted too.
const record = fc.oneof(
  { weight: 4, arbitrary: fc.dictionary(text, value, { maxKeys: 6 }) },
  { weight: 1, arbitrary: value },
);
const indent = fc.constantFrom<string | number | undefined>(undefined, undefined, 1, 2, '\t');
const extraKey = fc.oneof(text, fc.constantFrom('records', 'Records ', 'Record', 'RECORDS'));

interface Doc {
  text: string;
  /** the exact text of each record inside the document */
  records: string[];
}

const doc: fc.Arbitrary<Doc> = fc
  .record({
    bom: fc.boolean(),
    records: fc.array(fc.tuple(whitespace, record, indent, whitespace), { maxLength: 12 }),
    extras: fc.array(fc.tuple(extraKey, value, indent, whitespace, whitespace, whitespace), {
      maxLength: 4,
    }),
    at: fc.nat(),
    ws: fc.array(whitespace, { minLength: 8, maxLength: 8 }),
  })
  .map(({ bom, records, extras, at, ws }) => {
    const texts = records.map(([, r, ind]) => JSON.stringify(r, null, ind));
    const array = `[${records.map(([a, , , b], i) => a + texts[i] + b).join(',')}${records.length ? '' : ws[0]}]`;
    const members = extras
      .filter(([k]) => k !== 'Records')
      .map(
        ([k, v, ind, a, b, c]) =>
          `${a}${JSON.stringify(k)}${b}:${c}${JSON.stringify(v, null, ind)}`,
      );
    members.splice(
      at % (members.length + 1),
      0,
      `${ws[1]}"Records"${ws[2]}:${ws[3]}${array}${ws[4]}`,
    );
    const body = `${bom ? '\ufeff' : ''}${ws[5]}{${members.join(`${ws[6]},`)}}${ws[7]}`;
    return { text: body, records: texts };
  });

const cutsFor = (maxLength: number) => fc.array(fc.nat(), { maxLength });

describe('RecordSplitter against JSON.parse on generated documents', () => {
  it('emits exactly the texts of the top-level Records elements, however the bytes are cut', () => {
    fc.assert(
      fc.property(doc, cutsFor(24), ({ text, records }, seeds) => {
        const bytes = bytesOf(text);
        const out = split(
          bytes,
          seeds.map((s) => s % (bytes.length + 1)),
        );
        expect(out.error).toBeUndefined();
        expect(out.records).toEqual(records);
        const whole = wholeFile(bytes);
        expect(whole).toHaveProperty('records');
        expect(out.records.map((r) => JSON.parse(r))).toEqual(
          (whole as { records: unknown[] }).records,
        );
      }),
      { numRuns: 400 },
    );
  });

  it('takes fc.json() values as records, a byte at a time', () => {
    fc.assert(
      fc.property(fc.array(fc.json({ stringUnit: 'binary' }), { maxLength: 6 }), (jsons) => {
        const bytes = bytesOf(`{"Records":[${jsons.join(',')}]}`);
        const out = split(bytes, everyByte(bytes.length));
        expect(out).toEqual({ records: jsons });
      }),
    );
  });

  it('agrees with JSON.parse on mutated documents: the same records, or an error, or a bad record', () => {
    const mutation = fc.tuple(
      fc.nat(),
      fc.constantFrom('delete', 'insert', 'replace'),
      fc.constantFrom(...'{}[]",:\\ 0an\u00ff'.split(''), '\u00e9', '\ufeff'),
    );
    fc.assert(
      fc.property(
        doc,
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        cutsFor(8),
        (d, mutations, cuts) => {
          let bytes = bytesOf(d.text);
          for (const [at, kind, s] of mutations) {
            const i = at % (bytes.length + 1);
            // \u00ff as a lone byte: invalid UTF-8.
            const ins = s === '\u00ff' ? Buffer.from([0xff]) : bytesOf(s);
            const rest = bytes.subarray(kind === 'insert' ? i : i + 1);
            bytes = Buffer.concat([
              bytes.subarray(0, i),
              kind === 'delete' ? Buffer.alloc(0) : ins,
              rest,
            ]);
          }
          const whole = wholeFile(bytes);
          const out = split(bytes, cuts);
          if ('records' in whole) {
            // The one case refused on purpose: a second top-level "Records" (JSON.parse keeps the last).
            if (out.error?.message.startsWith('duplicate Records')) return;
            expect(out.error).toBeUndefined();
            expect(out.records.map((r) => JSON.parse(r))).toEqual(whole.records);
          } else if (whole.code === 'NOT_CLOUDTRAIL') {
            expect(out.error?.code).toBe('NOT_CLOUDTRAIL');
          } else {
            // Bad JSON is either refused or confined to records that JSON.parse rejects.
            expect(out.error !== undefined || out.records.some((r) => !isJson(r))).toBe(true);
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('reports TRUNCATED for every strict prefix of a document', () => {
    fc.assert(
      fc.property(doc, fc.nat(), ({ text, records }, at) => {
        const bytes = bytesOf(text.replace(/^\ufeff/, '').trimEnd());
        const prefix = bytes.subarray(0, at % bytes.length);
        const out = split(prefix, [prefix.length >> 1]);
        const blank = prefix.toString('latin1').trim() === '';
        expect(out.error?.code).toBe(blank ? 'NOT_JSON' : 'TRUNCATED');
        // Records emitted before the end are the first records, complete.
        expect(records.slice(0, out.records.length)).toEqual(out.records);
      }),
    );
  });
});

// ---- behaviour and errors ------------------------------------------------------------------

describe('RecordSplitter structure', () => {
  it('emits non-object elements as their text', () => {
    expect(split(bytesOf('{"Records":[null, 1.5e3 ,"x",true,[],{}]}')).records).toEqual([
      'null',
      '1.5e3',
      '"x"',
      'true',
      '[]',
      '{}',
    ]);
  });

  it('skips other top-level keys whose values hold brackets, quotes and a nested Records', () => {
    const text =
      '{"a":"]}[{\\"\\\\","b":{"Records":[{"no":1}]},"c":[[{"]":"["}]],"Records":[{"yes":"\\""}],"d":-0.5}';
    expect(split(bytesOf(text), everyByte(text.length))).toEqual({ records: ['{"yes":"\\""}'] });
  });

  it('reads the key through its escapes', () => {
    expect(split(bytesOf('{"Rec\\u006frds":[1]}')).records).toEqual(['1']);
    expect(split(bytesOf('{"Records\\u0000":[1],"Records":[2]}')).records).toEqual(['2']);
  });

  it('keeps a multi-byte character split across chunks whole', () => {
    const text = '{"Records":[{"k":"é€😀"}]}';
    const bytes = bytesOf(text);
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect(split(bytes, [cut]).records).toEqual(['{"k":"é€😀"}']);
    }
  });

  it('takes an escape split across chunks as an escape', () => {
    const text = '{"Records":["a\\\\",{"b":"\\"}"},"\\\\\\""]}';
    const bytes = bytesOf(text);
    const expected = ['"a\\\\"', '{"b":"\\"}"}', '"\\\\\\""'];
    expect(expected.map((r) => JSON.parse(r))).toEqual(JSON.parse(text).Records);
    for (let cut = 0; cut <= bytes.length; cut++)
      expect(split(bytes, [cut]).records).toEqual(expected);
  });

  it('accepts a byte order mark at the start only', () => {
    expect(split(bytesOf('\ufeff{"Records":[1]}'), [1, 2]).records).toEqual(['1']);
    expect(codeOf(' \ufeff{"Records":[1]}')).toBe('NOT_JSON');
    expect(codeOf(Buffer.from([0xef, 0xbb, 0x7b, 0x7d]))).toBe('NOT_UTF8');
  });

  it('accepts Uint8Array chunks and a chunk reused by the caller after push', () => {
    const bytes = bytesOf('{"Records":[{"a":"xyz"},{"b":1}]}');
    const records: string[] = [];
    const splitter = new RecordSplitter((json) => records.push(json));
    const scratch = new Uint8Array(5); // one buffer, refilled for every chunk
    for (let from = 0; from < bytes.length; from += scratch.length) {
      const n = Math.min(scratch.length, bytes.length - from);
      scratch.set(bytes.subarray(from, from + n));
      splitter.push(scratch.subarray(0, n));
      scratch.fill(0x7d);
    }
    splitter.end();
    expect(records).toEqual(['{"a":"xyz"}', '{"b":1}']);
  });

  it('rejects a bad maxRecordBytes', () => {
    expect(() => new RecordSplitter(() => {}, { maxRecordBytes: 0 })).toThrow(RangeError);
    expect(() => new RecordSplitter(() => {}, { maxRecordBytes: Number.NaN })).toThrow(RangeError);
  });
});

describe('RecordSplitter errors', () => {
  it.each([
    ['', 'empty'],
    [' \n\t', 'blank'],
    ['<html><body>502 Bad Gateway</body></html>', 'html'],
    ['hello', 'text'],
    ['{"Records":[1]} x', 'data after the document'],
    ['{"Records":[1]}{}', 'a second document'],
    ['{Records:[1]}', 'unquoted key'],
    ['{"Records" [1]}', 'missing colon'],
    ['{"Records":[1,]}', 'trailing comma in Records'],
    ['{"Records":[,1]}', 'leading comma in Records'],
    ['{"Records":[1 2]}', 'missing comma in Records'],
    ['{"Records":[],}', 'trailing comma'],
    ['{"a":tru,"Records":[]}', 'bad skipped scalar'],
    ['{"a":{"b":},"Records":[]}', 'bad skipped object'],
    ['{"a\u0001":1,"Records":[]}', 'control character in a key'],
    ['{"Records":[] "a":1}', 'missing comma between keys'],
  ])('NOT_JSON: %j (%s)', (text) => {
    expect(codeOf(text)).toBe('NOT_JSON');
    expect(codeOf(text, everyByte(text.length))).toBe('NOT_JSON');
  });

  it.each([
    ['{}'],
    ['{"a":1}'],
    ['{"a":{"Records":[1]}}'],
    ['[{"Records":[1]}]'],
    ['"Records"'],
    ['null'],
    ['42'],
    ['{"Records":{}}'],
    ['{"Records":null}'],
    ['{"Records":"[1]"}'],
    ['{"Records":[1],"Records":[2]}'],
  ])('NOT_CLOUDTRAIL: %j', (text) => {
    expect(codeOf(text)).toBe('NOT_CLOUDTRAIL');
  });

  it('reports TRUNCATED inside a record, a string, an escape and between keys', () => {
    for (const text of [
      '{"Records":[{"a":1}',
      '{"Records":["ab',
      '{"Records":["a\\',
      '{"a":1',
      '{"Records":[1],',
    ]) {
      expect(codeOf(text)).toBe('TRUNCATED');
    }
  });

  it('reports NOT_UTF8 for invalid UTF-8 inside a record or a key', () => {
    const bad = (s: string, b: number[]) =>
      Buffer.concat([bytesOf(s), Buffer.from(b), bytesOf('"}]}')]);
    expect(codeOf(bad('{"Records":[{"a":"', [0xff]))).toBe('NOT_UTF8');
    expect(codeOf(bad('{"Records":[{"a":"', [0xc0, 0xaf]))).toBe('NOT_UTF8'); // overlong '/'
    expect(codeOf(bad('{"Records":[{"a":"', [0xed, 0xa0, 0x80]))).toBe('NOT_UTF8'); // surrogate
    expect(codeOf(Buffer.concat([bytesOf('{"'), Buffer.from([0xe2, 0x82]), bytesOf('":1}')]))).toBe(
      'NOT_UTF8',
    );
  });

  it('reports RECORD_TOO_LARGE at the limit plus one byte, in one chunk or many', () => {
    const record = (bytes: number) => `{"a":"${'x'.repeat(bytes - 8)}"}`;
    const doc = (n: number) => bytesOf(`{"Records":[${record(100)},${record(n)}]}`);
    expect(split(doc(100), [], { maxRecordBytes: 100 }).records).toHaveLength(2);
    for (const cuts of [[], everyByte(120)]) {
      const out = split(doc(101), cuts, { maxRecordBytes: 100 });
      expect(out.error?.code).toBe('RECORD_TOO_LARGE');
      expect(out.records).toEqual([record(100)]);
    }
    // A key or a skipped value counts too.
    expect(
      split(bytesOf(`{"${'k'.repeat(200)}":1,"Records":[]}`), [], { maxRecordBytes: 100 }).error
        ?.code,
    ).toBe('RECORD_TOO_LARGE');
  });

  it('refuses an oversized record before it has all arrived (memory stays bounded)', () => {
    const splitter = new RecordSplitter(() => {}, { maxRecordBytes: 1000 });
    splitter.push(bytesOf('{"Records":[{"a":"'));
    const chunk = bytesOf('y'.repeat(100));
    let pushed = 0;
    expect(() => {
      for (; pushed < 1_000_000; pushed++) splitter.push(chunk);
    }).toThrow(expect.objectContaining({ code: 'RECORD_TOO_LARGE' }));
    expect(pushed).toBeLessThanOrEqual(10);
  });

  it('keeps failing with the same error once failed, emitting nothing more', () => {
    const records: string[] = [];
    const splitter = new RecordSplitter((json) => records.push(json));
    const first = thrown(() => splitter.push(bytesOf('{"Records":[1 2]')));
    expect(first).toBeInstanceOf(SplitError);
    expect((first as SplitError).message).toMatch(/at byte 14/);
    expect(thrown(() => splitter.push(bytesOf(',3]}')))).toBe(first);
    expect(thrown(() => splitter.end())).toBe(first);
    expect(records).toEqual(['1']);
  });
});
