// Splitting statements into managed-policy documents: the exact 6,144-character boundary, oversized
// statements cut over their lists, and the properties that nothing is lost and nothing is too large.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_POLICY_CHARS,
  policyChars,
  splitStatements,
  statementChars,
} from '../../src/policy/split.ts';
import type { PolicyDocument, Statement } from '../../src/policy/types.ts';

const stmt = (Sid: string, Action: string[] | string, Resource: string[] | string): Statement => ({
  Sid,
  Effect: 'Allow',
  Action,
  Resource,
});

/** A statement whose JSON is exactly `chars` long (padding the resource). */
function statementOfChars(sid: string, chars: number): Statement {
  const bare = JSON.stringify(stmt(sid, 's3:GetObject', 'arn:aws:s3:::')).length;
  return stmt(sid, 's3:GetObject', 'arn:aws:s3:::' + 'x'.repeat(chars - bare));
}

const EMPTY_DOC = JSON.stringify({ Version: '2012-10-17', Statement: [] }).length;

/** Every (condition, action, resource) triple a set of statements grants. */
function grants(statements: readonly Statement[]): Set<string> {
  const out = new Set<string>();
  for (const s of statements) {
    const cond = JSON.stringify(s.Condition ?? null);
    for (const a of [s.Action].flat())
      for (const r of [s.Resource].flat()) out.add(`${cond}|${a}|${r}`);
  }
  return out;
}

const all = (docs: PolicyDocument[]) => docs.flatMap((d) => d.Statement);

describe('splitStatements at the limit', () => {
  it('two statements filling exactly 6,144 characters stay in one document; 6,145 make two', () => {
    const first = statementOfChars('A1', 3000);
    const fill = MAX_POLICY_CHARS - EMPTY_DOC - 3000 - 1; // -1: the comma between statements
    const exact = splitStatements([first, statementOfChars('A2', fill)]);
    expect(exact).toHaveLength(1);
    expect(JSON.stringify(exact[0]).length).toBe(6144);
    expect(policyChars(exact[0])).toBe(6144);

    const over = splitStatements([first, statementOfChars('A2', fill + 1)]);
    expect(over).toHaveLength(2);
    expect(over.map((d) => d.Statement.map((s) => s.Sid))).toEqual([['A1'], ['A2']]);
  });

  it('a single statement of exactly 6,144 document characters is kept whole; one more is cut', () => {
    const exact = splitStatements([statementOfChars('B1', MAX_POLICY_CHARS - EMPTY_DOC)]);
    expect(exact).toHaveLength(1);
    expect(policyChars(exact[0])).toBe(6144);
    expect(exact[0].Statement[0].Sid).toBe('B1');

    // too long for a document by itself and only one entry per list: nothing can make it fit
    expect(() =>
      splitStatements([statementOfChars('B1', MAX_POLICY_CHARS - EMPTY_DOC + 1)]),
    ).toThrow(RangeError);
  });

  it('no statements, no documents', () => {
    expect(splitStatements([])).toEqual([]);
  });

  it('white space inside values counts; pretty-printing does not change the measure', () => {
    const s = stmt('C1', 's3:GetObject', 'arn:aws:s3:::bucket/my key');
    const [doc] = splitStatements([s]);
    expect(policyChars(doc)).toBe(JSON.stringify(doc).length);
    expect(policyChars(doc)).toBeLessThan(JSON.stringify(doc, null, 2).length);
  });
});

describe('splitStatements: oversized statements', () => {
  const resources = Array.from({ length: 400 }, (_, i) => `arn:aws:s3:::bucket-${i}/*`);
  const actions = Array.from({ length: 300 }, (_, i) => `svc:SomeFairlyLongActionName${i}`);

  it('many resources: cut over Resource, actions kept whole, Sids numbered', () => {
    const s = stmt('S3Allow1', ['s3:GetObject', 's3:PutObject'], resources);
    const docs = splitStatements([s]);
    const parts = all(docs);
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) expect(p.Action).toEqual(['s3:GetObject', 's3:PutObject']);
    expect(parts.map((p) => p.Sid)).toEqual(parts.map((_, i) => `S3Allow1P${i + 1}`));
    expect(grants(parts)).toEqual(grants([s]));
    for (const d of docs) expect(policyChars(d)).toBeLessThanOrEqual(MAX_POLICY_CHARS);
  });

  it('many actions on `*`: cut over Action', () => {
    const s = stmt('SvcAllow1', actions, '*');
    const parts = all(splitStatements([s]));
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) expect(p.Resource).toBe('*');
    expect(grants(parts)).toEqual(grants([s]));
  });

  it('many of both: cut over both, every pair granted exactly once, the condition kept', () => {
    const s: Statement = {
      ...stmt('X1', actions, resources),
      Condition: { StringEquals: { 'iam:PassedToService': 'lambda.amazonaws.com' } },
    };
    const docs = splitStatements([s]);
    const parts = all(docs);
    let pairs = 0;
    for (const p of parts) pairs += [p.Action].flat().length * [p.Resource].flat().length;
    expect(pairs).toBe(actions.length * resources.length);
    expect(grants(parts)).toEqual(grants([s]));
    for (const d of docs) expect(policyChars(d)).toBeLessThanOrEqual(MAX_POLICY_CHARS);
  });
});

describe('splitStatements properties', () => {
  const word = fc.stringMatching(/^[A-Za-z0-9 ]{1,40}$/);
  const arbStatement = fc.record({
    Sid: fc.stringMatching(/^[A-Za-z][A-Za-z0-9]{0,8}$/),
    Effect: fc.constant('Allow' as const),
    Action: fc.oneof(word, fc.array(word, { minLength: 1, maxLength: 60 })),
    Resource: fc.oneof(word, fc.array(word, { minLength: 1, maxLength: 60 })),
    Condition: fc.option(
      fc.constant({ StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } }),
      {
        nil: undefined,
      },
    ),
  });

  it('every (action, resource) pair survives and no document exceeds the limit', () => {
    fc.assert(
      fc.property(
        fc.array(arbStatement, { maxLength: 12 }),
        fc.integer({ min: 400, max: 3000 }),
        (raw, max) => {
          const statements = raw.map(stripUndefined);
          const docs = splitStatements(statements, max);
          for (const d of docs) expect(policyChars(d)).toBeLessThanOrEqual(max);
          expect(grants(all(docs))).toEqual(grants(statements));
        },
      ),
    );
  });

  it('statements that fit one document stay whole and in order', () => {
    const small = arbStatement.map((s) => ({
      ...s,
      Action: [s.Action].flat().slice(0, 5),
      Resource: [s.Resource].flat().slice(0, 5),
    }));
    fc.assert(
      fc.property(fc.array(small, { maxLength: 5 }), (raw) => {
        const statements = raw.map(stripUndefined);
        const docs = splitStatements(statements);
        expect(docs.length).toBeLessThanOrEqual(1);
        expect(all(docs)).toEqual(statements);
      }),
    );
  });
});

function stripUndefined(s: Statement): Statement {
  return s.Condition ? s : { Sid: s.Sid, Effect: s.Effect, Action: s.Action, Resource: s.Resource };
}

describe('statementChars', () => {
  // Strings JSON escapes or writes longer: quotes, backslashes, control characters, lone
  // surrogates, and characters outside ASCII (written as they are, one UTF-16 unit each).
  const text = fc.string({
    unit: fc.oneof(
      fc.constantFrom('a', 'Z', '0', ':', '/', '*', '$', '{', '"', '\\', '\n', '\u0001', '\u007f'),
      fc.constantFrom('é', '€', '😀', '\ud800', '\udfff', '\u2028'),
    ),
    maxLength: 30,
  });
  const value = fc.oneof(text, fc.array(text, { maxLength: 6 }));
  const statement = fc.record(
    { Sid: text, Effect: fc.constant('Allow' as const), Action: value, Resource: value },
    { requiredKeys: ['Sid', 'Effect', 'Action', 'Resource'] },
  );
  const withCondition = fc
    .tuple(statement, text, text)
    .map(([st, k, v]) => ({ ...st, Condition: { StringEquals: { [k]: v } } }));

  it('is JSON.stringify(statement).length, for any strings, twice (memoized)', () => {
    fc.assert(
      fc.property(fc.oneof(statement, withCondition), (st: Statement) => {
        const want = JSON.stringify(st).length;
        expect(statementChars(st)).toBe(want);
        expect(statementChars(st)).toBe(want);
      }),
      { numRuns: 2000 },
    );
  });

  it('counts an empty list as []', () => {
    const st = stmt('S', [], 'arn:aws:s3:::b');
    expect(statementChars(st)).toBe(JSON.stringify(st).length);
  });
});
