// Every folder of real CloudTrail fixtures, through the real worker pool and a real store, checked
// record by record against the generated policies: every authorized event's action is granted on
// the resources it named, and no action is granted that no authorized event used.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/catalog.ts';
import { createMapper } from '../../src/catalog/mapping.ts';
import { outcomeOf } from '../../src/catalog/outcome.ts';
import { principalOf } from '../../src/catalog/principal.ts';
import { resourcesOf } from '../../src/catalog/resources.ts';
import { ingestObjects } from '../../src/ingest.ts';
import { policyFor } from '../../src/policy/query.ts';
import { ParserPool } from '../../src/pool.ts';
import { listLocal } from '../../src/sources/local.ts';
import { dayOf } from '../../src/state/delta.ts';
import { openStore } from '../../src/state/open.ts';
import type { Store } from '../../src/state/store.ts';
import { DEFAULT_PARSE_OPTIONS } from '../../workers/parse.ts';
import { allows } from '../helpers/iam.ts';

export const FIXTURES = path.resolve(import.meta.dirname, '../../../shared/fixtures/cloudtrail');
const folders = readdirSync(FIXTURES, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

const catalog = loadCatalog();
const mapEvent = createMapper(catalog);

interface Expected {
  /** principal → action → resources named by authorized events ('' when none) */
  used: Map<string, Map<string, Set<string>>>;
  denied: Map<string, Set<string>>;
  minDay: number;
  maxDay: number;
}

/** What the policies must say, computed straight from the records (JSON.parse, no worker). */
function expectedFrom(dir: string): Expected {
  const exp: Expected = { used: new Map(), denied: new Map(), minDay: Infinity, maxDay: -Infinity };
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) =>
    f.endsWith('.json.gz'),
  );
  for (const f of files) {
    if (f.includes('digest')) continue;
    const doc = JSON.parse(gunzipSync(readFileSync(path.join(dir, f))).toString('utf8'));
    if (!Array.isArray(doc?.Records)) continue;
    const seen = new Set<string>(); // a repeated eventID within a file is the same event
    for (const r of doc.Records) {
      if (typeof r !== 'object' || r === null) continue;
      if (typeof r.eventID === 'string') {
        if (seen.has(r.eventID)) continue;
        seen.add(r.eventID);
      }
      if (r.eventType !== undefined && r.eventType !== 'AwsApiCall') continue;
      if (r.eventCategory === 'Insight' || r.insightDetails !== undefined) continue;
      if (typeof r.eventSource !== 'string' || typeof r.eventName !== 'string') continue;
      const time = Date.parse(r.eventTime ?? r['@timestamp']);
      if (Number.isNaN(time)) continue;
      const principal = principalOf(r.userIdentity);
      if (principal.skip !== undefined) continue;
      const actions = mapEvent(r.eventSource, r.eventName);
      if (actions.length === 0) continue;
      const day = dayOf(time);
      exp.minDay = Math.min(exp.minDay, day);
      exp.maxDay = Math.max(exp.maxDay, day);
      if (outcomeOf(r.errorCode, r.errorMessage) === 'denied') {
        for (const a of actions) getOr(exp.denied, principal.arn, () => new Set<string>()).add(a);
        continue;
      }
      const byAction = getOr(exp.used, principal.arn, () => new Map<string, Set<string>>());
      for (const a of actions) {
        const set = getOr(byAction, a, () => new Set<string>());
        const arns = resourcesOf(r, a, catalog);
        if (arns.length === 0) set.add('');
        for (const arn of arns) set.add(arn);
      }
    }
  }
  return exp;
}

function getOr<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let v = map.get(key);
  if (v === undefined) map.set(key, (v = make()));
  return v;
}

let pool: ParserPool;
beforeAll(() => {
  pool = new ParserPool({ threads: 2 }, DEFAULT_PARSE_OPTIONS);
});
afterAll(async () => {
  await pool.close();
});

async function ingestDir(store: Store, dir: string) {
  const listing = await listLocal([dir]);
  return ingestObjects(listing.objects, store, pool, { inFlightObjects: 4, commitBatchFiles: 16 });
}

describe.each(folders)('fixtures/%s', (folder) => {
  const dir = path.join(FIXTURES, folder);

  it('grants every authorized action on its resources, and nothing else', async () => {
    const store = await openStore('memory:');
    const summary = await ingestDir(store, dir);
    expect(summary.files.failed, JSON.stringify(summary.errors)).toBe(0);
    const exp = expectedFrom(dir);
    const principals = (await store.principals()).map((p) => p.principal).sort();
    expect(principals).toEqual([...new Set([...exp.used.keys(), ...exp.denied.keys()])].sort());

    const window = { fromDay: exp.minDay, toDay: exp.maxDay };
    for (const [principal, byAction] of exp.used) {
      const result = await policyFor(store, catalog, principal, window, { placeholders: false });
      expect(result, principal).toBeDefined();
      const granted = result!.actions.filter(
        (a) => !result!.inferred.includes(a) || byAction.has(a),
      );
      expect(granted.sort(), principal).toEqual([...byAction.keys()].sort());
      for (const [action, arns] of byAction) {
        for (const arn of arns) {
          if (arn === '') continue; // the event named no resource: the action alone is checked above
          expect(allows(result!.policies, action, arn), `${principal} ${action} ${arn}`).toBe(true);
        }
      }
      const denied = exp.denied.get(principal) ?? new Set();
      expect(result!.denied.sort()).toEqual([...denied].sort());
    }
    await store.close();
  });
});

describe('idempotent ingest', () => {
  it('ingesting the same files twice changes nothing', async () => {
    const dir = path.join(FIXTURES, 'traildiscover-log-examples');
    const store = await openStore('memory:');
    const first = await ingestDir(store, dir);
    const exp = expectedFrom(dir);
    const window = { fromDay: exp.minDay, toDay: exp.maxDay };
    const snapshot = async () => {
      const out: unknown[] = [await store.principals()];
      for (const p of exp.used.keys())
        out.push(await policyFor(store, catalog, p, window, { placeholders: true }));
      return JSON.stringify(out);
    };
    const before = await snapshot();
    const second = await ingestDir(store, dir);
    expect(second.files.ingested).toBe(0);
    expect(second.files.alreadyIngested).toBe(first.files.ingested);
    expect(await snapshot()).toBe(before);
    await store.close();
  });
});
