// Folds CloudTrail records, one at a time, into a FileDelta. Pure: no I/O, no clock.
// Hot path: runs once per record, so it keeps one Map lookup per field that matters and no
// per-record allocations beyond what JSON.parse already made.
import type { Catalog } from '../src/catalog/types.ts';
import { createMapper, DEFAULT_MAX_MEMO_PAIRS } from '../src/catalog/mapping.ts';
import { principalOf, type PrincipalResult } from '../src/catalog/principal.ts';
import { outcomeOf } from '../src/catalog/outcome.ts';
import {
  identityContextKey,
  namesResources,
  NO_RESOURCES,
  resourcesOf,
} from '../src/catalog/resources.ts';
import { passRoleEvent, passRolesOf, profileRoleOf } from '../src/catalog/passrole.ts';
import { mergeSample } from '../src/state/sample.ts';
import { flat, ScannedRecord } from './scan.ts';
import { EventIdSet } from './eventids.ts';
import {
  dayOf,
  emptyStats,
  MS_PER_DAY,
  type ActionUse,
  type DaySet,
  type FileDelta,
  type FileStats,
  type PassRoleUse,
} from '../src/state/delta.ts';

export interface AccumulatorOptions {
  /** bound on distinct ARNs kept per (principal, action) before generalizing to a prefix wildcard */
  maxResourcesPerAction: number;
  /**
   * Bounds on what one file may name: distinct principals, and distinct actions or unmapped
   * pairs. A real log file (5 minutes of one account and region) names hundreds; a file past a
   * bound is hostile and refused whole (TOO_MANY_DISTINCT), so memory stays bounded.
   */
  maxPrincipalsPerFile?: number;
  maxDistinctPerFile?: number;
}

export const DEFAULT_ACCUMULATOR_OPTIONS: AccumulatorOptions = {
  maxResourcesPerAction: 16,
  maxPrincipalsPerFile: 100_000,
  maxDistinctPerFile: 100_000,
};

interface DayAcc {
  p: number;
  day: number;
  used: Set<number>;
  denied: Set<number>;
}

interface UseAcc extends ActionUse {
  resourceSet: Set<string> | undefined;
}

/**
 * One mapper per catalog, shared by every file a thread parses: createMapper builds its tables
 * and memoizes pairs, which per file cost ~5% of a small file (CPU profile). Keys are copied
 * before they are kept (flat): a scanned record's strings are slices of the file's text, and a
 * module-level memo would otherwise pin every file's text.
 */
const mappers = new WeakMap<Catalog, (source: string, name: string) => readonly string[]>();

function sharedMapper(catalog: Catalog): (source: string, name: string) => readonly string[] {
  let mapper = mappers.get(catalog);
  if (mapper !== undefined) return mapper;
  const mapEvent = createMapper(catalog);
  const memo = new Map<string, Map<string, readonly string[]>>();
  let pairs = 0;
  mapper = (source, name) => {
    let byName = memo.get(source);
    const hit = byName?.get(name);
    if (hit !== undefined) return hit;
    const s = flat(source);
    const n = flat(name);
    const actions = mapEvent(s, n);
    if (pairs >= DEFAULT_MAX_MEMO_PAIRS) {
      memo.clear();
      pairs = 0;
      byName = undefined;
    }
    if (byName === undefined) memo.set(s, (byName = new Map()));
    byName.set(n, actions);
    pairs++;
    return actions;
  };
  mappers.set(catalog, mapper);
  return mapper;
}

/**
 * Whether the catalog has an action, by name, shared by every file a thread parses: a file's first
 * use of each action asks, and the catalog's 22k-name table answered from cache misses (1.4% of
 * a single-thread ingest's profile). Bounded as the mapper's memo (names may come from events).
 */
const knownActions = new WeakMap<Catalog, Map<string, boolean>>();

function sharedKnown(catalog: Catalog): Map<string, boolean> {
  let known = knownActions.get(catalog);
  if (known === undefined) knownActions.set(catalog, (known = new Map()));
  return known;
}

// Inputs ids of one epoch are below this (native/scan.c: INPUT_SLOTS / 2).
const INPUT_IDS = 2 ** 14;

// Packs two small non-negative ints into one Map key: numbers hash faster than strings.
const DAY_BITS = 2 ** 17; // days up to year 2328
const ACTION_BITS = 2 ** 21; // 2M distinct actions per file is far beyond the catalog

export class Accumulator {
  readonly stats: FileStats = emptyStats();
  private readonly principals: string[] = [];
  private readonly principalIndex = new Map<string, number>();
  private readonly actions: string[] = [];
  private readonly actionIndex = new Map<string, number>();
  private readonly unknown = new Set<string>();
  private readonly days = new Map<number, DayAcc>();
  private readonly uses = new Map<number, UseAcc>();
  private readonly passRoles = new Map<string, PassRoleUse>();
  private readonly profileRoles = new Map<string, { profile: string; role: string }>();
  private readonly unmapped = new Map<string, number>();
  private readonly eventIds = new EventIdSet();
  private readonly mapEvent: (source: string, name: string) => readonly string[];
  private readonly known: Map<string, boolean>;
  // eventTime "YYYY-MM-DDTHH:MM:SSZ": the date part repeats across a file, so cache its epoch ms
  // (and the last one's, which a prefix test finds without slicing or hashing).
  private readonly dateCache = new Map<string, number>();
  private lastDate = '';
  private lastDateMs = 0;
  private readonly catalog: Catalog;
  private readonly opts: AccumulatorOptions;
  private readonly maxPrincipals: number;
  private readonly maxDistinct: number;
  // Memos by the WebAssembly scanner's ids (ScannedRecord.pair, .ident), for one epoch.
  private readonly pairActions: (readonly string[])[] = [];
  private readonly pairPassRole: boolean[] = [];
  private readonly identPrincipal: PrincipalResult[] = [];
  private readonly identIndex: number[] = [];
  /** resourcesOf's results by action index, then by context · INPUT_IDS + inputs id */
  private readonly resourceMemo: (Map<number, readonly string[]> | undefined)[] = [];
  /** by ident id: the number of its identityContextKey (contextIds, kept across epochs) */
  private readonly identContext: number[] = [];
  private readonly contextIds = new Map<string, number>();
  private epoch = 0;
  /** set once the file passed a bound: the rest is only counted, and the file is refused */
  overflow: string | undefined;

  constructor(catalog: Catalog, opts: AccumulatorOptions = DEFAULT_ACCUMULATOR_OPTIONS) {
    this.catalog = catalog;
    this.opts = opts;
    this.mapEvent = sharedMapper(catalog);
    this.known = sharedKnown(catalog);
    this.maxPrincipals =
      opts.maxPrincipalsPerFile ?? DEFAULT_ACCUMULATOR_OPTIONS.maxPrincipalsPerFile!;
    this.maxDistinct = opts.maxDistinctPerFile ?? DEFAULT_ACCUMULATOR_OPTIONS.maxDistinctPerFile!;
  }

  /** About how many records will come (a streamed file's size hint): sizes the eventID set. */
  expectRecords(records: number): void {
    this.eventIds.reserve(records);
  }

  add(record: unknown): void {
    const stats = this.stats;
    stats.records++;
    if (this.overflow !== undefined) return;
    if (typeof record !== 'object' || record === null || Array.isArray(record)) {
      stats.skipped.badRecord++;
      return;
    }
    const r = record as Record<string, unknown>;
    // The WebAssembly scanner's ids stand in for string lookups (see ScannedRecord).
    const hints = record instanceof ScannedRecord ? record : undefined;
    if (hints !== undefined && hints.epoch !== this.epoch) {
      this.epoch = hints.epoch;
      this.pairActions.length = 0;
      this.pairPassRole.length = 0;
      this.identPrincipal.length = 0;
      this.identIndex.length = 0;
      this.resourceMemo.length = 0;
      this.identContext.length = 0;
    }
    const eventId = r.eventID;
    if (hints !== undefined && hints.dup >= 0) {
      if (hints.dup === 1) {
        stats.duplicateRecords++;
        return;
      }
    } else if (hints !== undefined && hints.uuid) {
      if (!this.eventIds.addUuid(hints.uuid0, hints.uuid1, hints.uuid2, hints.uuid3)) {
        stats.duplicateRecords++;
        return;
      }
    } else if (typeof eventId === 'string' && !this.eventIds.add(eventId)) {
      stats.duplicateRecords++;
      return;
    }
    const eventType = r.eventType;
    if (eventType !== 'AwsApiCall' && eventType !== undefined) {
      if (eventType === 'AwsServiceEvent') stats.skipped.serviceEvent++;
      else if (eventType === 'AwsConsoleSignIn') stats.skipped.consoleSignIn++;
      else if (eventType === 'AwsCloudTrailInsight') stats.skipped.insight++;
      else stats.skipped.notApiCall++;
      return;
    }
    if (r.eventCategory === 'Insight' || r.insightDetails !== undefined) {
      stats.skipped.insight++;
      return;
    }
    const source = r.eventSource;
    const name = r.eventName;
    if (typeof source !== 'string' || typeof name !== 'string') {
      stats.skipped.notApiCall++;
      return;
    }
    // Logstash-style pipelines replace eventTime with @timestamp; accept either. The scanner
    // reads a well-formed eventTime itself (the same value timeOf gives: see scan.test).
    const time =
      hints !== undefined && hints.timeDay >= 0
        ? hints.timeDay * MS_PER_DAY + hints.timeSecond * 1000
        : this.timeOf(r.eventTime ?? r['@timestamp']);
    if (time === undefined) {
      stats.skipped.badRecord++;
      return;
    }
    const ident = hints?.ident ?? -1;
    let principal: PrincipalResult;
    if (ident >= 0) principal = this.identPrincipal[ident] ??= principalOf(r.userIdentity);
    else principal = principalOf(r.userIdentity);
    if (principal.skip !== undefined) {
      stats.skipped[principal.skip]++;
      return;
    }
    const pair = hints?.pair ?? -1;
    const actionNames =
      pair >= 0
        ? (this.pairActions[pair] ??= this.mapEvent(source, name))
        : this.mapEvent(source, name);
    if (actionNames.length === 0) {
      stats.skipped.unmapped++;
      const key = source + '\u0000' + name;
      const count = this.unmapped.get(key);
      if (count === undefined && this.unmapped.size >= this.maxDistinct) {
        this.overflow = `more than ${this.maxDistinct} distinct unmapped (source, name) pairs`;
        return;
      }
      this.unmapped.set(count === undefined ? flat(key) : key, (count ?? 0) + 1);
      return;
    }
    const known =
      (ident >= 0 ? this.identIndex[ident] : undefined) ?? this.principalIndex.get(principal.arn);
    if (known === undefined && this.principals.length >= this.maxPrincipals) {
      this.overflow = `more than ${this.maxPrincipals} distinct principals`;
      return;
    }
    if (this.actions.length >= this.maxDistinct) {
      for (const n of actionNames) {
        if (!this.actionIndex.has(n)) {
          this.overflow = `more than ${this.maxDistinct} distinct actions`;
          return;
        }
      }
    }
    const outcome = outcomeOf(r.errorCode, r.errorMessage);
    stats[outcome]++;
    if (stats.minEventTime === 0 || time < stats.minEventTime) stats.minEventTime = time;
    if (time > stats.maxEventTime) stats.maxEventTime = time;

    const p = known ?? this.intern(principal.arn);
    if (ident >= 0) this.identIndex[ident] = p;
    const day = dayOf(time);
    let dayAcc = this.days.get(p * DAY_BITS + day);
    if (dayAcc === undefined) {
      dayAcc = { p, day, used: new Set(), denied: new Set() };
      this.days.set(p * DAY_BITS + day, dayAcc);
    }
    const denied = outcome === 'denied';
    for (const actionName of actionNames) {
      const a = this.action(actionName);
      (denied ? dayAcc.denied : dayAcc.used).add(a);
      const use = this.use(p, a);
      if (denied) {
        use.deniedCount++;
        if (time >= use.deniedLast) {
          use.deniedLast = time;
          use.deniedCode = flat(String(r.errorCode));
        }
        continue;
      }
      use.count++;
      if (use.firstSeen === 0 || time < use.firstSeen) use.firstSeen = time;
      if (time > use.lastSeen) use.lastSeen = time;
      const arns =
        hints !== undefined
          ? this.scannedResources(r, hints, a, actionName)
          : resourcesOf(r, actionName, this.catalog);
      if (arns.length > 0) this.addResources(use, arns);
    }
    if (outcome === 'succeeded') {
      const pr = profileRoleOf(r);
      if (pr !== undefined) {
        const key = pr.profile + '\u0000' + pr.role;
        if (!this.profileRoles.has(key) && this.profileRoles.size >= this.maxDistinct) {
          this.overflow = `more than ${this.maxDistinct} distinct instance profile roles`;
          return;
        }
        if (!this.profileRoles.has(key))
          this.profileRoles.set(flat(key), { profile: flat(pr.profile), role: flat(pr.role) });
      }
    }
    // An event whose pair cannot pass a role skips passRolesOf (and its lookups by string).
    if (!denied && (pair < 0 || (this.pairPassRole[pair] ??= passRoleEvent(source, name)))) {
      for (const { role, service } of passRolesOf(r)) {
        const key = p + '\u0000' + day + '\u0000' + role + '\u0000' + service;
        const prev = this.passRoles.get(key);
        if (prev === undefined)
          this.passRoles.set(flat(key), { p, day, role: flat(role), service, lastSeen: time });
        else if (time > prev.lastSeen) prev.lastSeen = time;
      }
    }
  }

  /** The delta of everything added so far. */
  finish(): FileDelta {
    const days: DaySet[] = [];
    for (const d of this.days.values()) {
      days.push({ p: d.p, day: d.day, used: sortedOf(d.used), denied: sortedOf(d.denied) });
    }
    const uses: ActionUse[] = [];
    for (const u of this.uses.values()) {
      const { resourceSet, ...use } = u;
      if (resourceSet !== undefined) {
        use.resources = mergeSample([...resourceSet], [], this.opts.maxResourcesPerAction);
      }
      uses.push(use);
    }
    const unmapped = [...this.unmapped].map(([key, count]) => {
      const cut = key.indexOf('\u0000');
      return { source: key.slice(0, cut), name: key.slice(cut + 1), count };
    });
    return {
      principals: this.principals,
      actions: this.actions,
      unknownActions: [...this.unknown],
      days,
      uses,
      passRoles: [...this.passRoles.values()],
      ...(this.profileRoles.size > 0 && { profileRoles: [...this.profileRoles.values()] }),
      unmapped,
      stats: this.stats,
    };
  }

  private intern(arn: string): number {
    let p = this.principalIndex.get(arn);
    if (p === undefined) {
      p = this.principals.length;
      arn = flat(arn); // kept in the delta: must not pin the text it was scanned from
      this.principals.push(arn);
      this.principalIndex.set(arn, p);
    }
    return p;
  }

  private action(name: string): number {
    let a = this.actionIndex.get(name);
    if (a === undefined) {
      a = this.actions.length;
      this.actions.push(name);
      this.actionIndex.set(name, a);
      let known = this.known.get(name);
      if (known === undefined) {
        known = this.catalog.has(name);
        if (this.known.size >= DEFAULT_MAX_MEMO_PAIRS) this.known.clear();
        this.known.set(flat(name), known);
      }
      if (!known) this.unknown.add(name);
    }
    return a;
  }

  private use(p: number, a: number): UseAcc {
    const key = p * ACTION_BITS + a;
    let use = this.uses.get(key);
    if (use === undefined) {
      use = {
        p,
        a,
        firstSeen: 0,
        lastSeen: 0,
        count: 0,
        deniedCount: 0,
        deniedLast: 0,
        deniedCode: '',
        resources: [],
        resourceSet: undefined,
      };
      this.uses.set(key, use);
    }
    return use;
  }

  /**
   * resourcesOf for a scanned record, memoized by the scanner's ids of what it reads (inputs,
   * and the identity's context): records of one file repeat those often (a role polling the same
   * resources), and a hit skips parsing requestParameters and matching ARNs.
   */
  private scannedResources(
    record: Record<string, unknown>,
    hints: ScannedRecord,
    a: number,
    action: string,
  ): readonly string[] {
    const inputs = hints.inputs;
    const ident = hints.ident;
    if (inputs < 0 || ident < 0) return resourcesOf(record, action, this.catalog);
    if (!namesResources(action, this.catalog)) return NO_RESOURCES;
    let context: number | undefined = this.identContext[ident];
    if (context === undefined) {
      const key = identityContextKey(record.userIdentity);
      context = this.contextIds.get(key);
      if (context === undefined) this.contextIds.set(flat(key), (context = this.contextIds.size));
      this.identContext[ident] = context;
    }
    let memo = this.resourceMemo[a];
    if (memo === undefined) this.resourceMemo[a] = memo = new Map();
    const key = context * INPUT_IDS + inputs;
    let arns = memo.get(key);
    if (arns === undefined) memo.set(key, (arns = resourcesOf(record, action, this.catalog)));
    return arns;
  }

  private addResources(use: UseAcc, arns: readonly string[]): void {
    const max = this.opts.maxResourcesPerAction;
    let set = use.resourceSet;
    if (set === undefined) set = use.resourceSet = new Set();
    // Copied when new (flat): ARNs built from scanned fields may pin the file's text.
    for (const arn of arns) if (!set.has(arn)) set.add(flat(arn));
    // Keep the working set bounded: fold into a generalized sample once it grows past 4× the bound.
    if (set.size > max * 4) use.resourceSet = new Set(mergeSample([...set], [], max));
  }

  private timeOf(value: unknown): number | undefined {
    if (typeof value !== 'string') return undefined;
    // Fast path for CloudTrail's fixed format; anything else goes through Date.parse.
    if (
      value.length === 20 &&
      value.charCodeAt(10) === 84 /* T */ &&
      value.charCodeAt(19) === 90 /* Z */
    ) {
      let base: number | undefined;
      if (this.lastDate !== '' && value.startsWith(this.lastDate)) base = this.lastDateMs;
      else {
        const date = value.slice(0, 10);
        base = this.dateCache.get(date);
        if (base === undefined) {
          base = Date.parse(date + 'T00:00:00Z');
          if (Number.isNaN(base)) return undefined;
          this.dateCache.set(date, base);
        }
        this.lastDate = date;
        this.lastDateMs = base;
      }
      const h = twoDigits(value, 11);
      const m = twoDigits(value, 14);
      const s = twoDigits(value, 17);
      if (h < 24 && m < 60 && s < 61) return base + ((h * 60 + m) * 60 + s) * 1000;
      return undefined;
    }
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? undefined : ms;
  }
}

function twoDigits(s: string, at: number): number {
  const a = s.charCodeAt(at) - 48;
  const b = s.charCodeAt(at + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : 99;
}

function sortedOf(set: Set<number>): number[] {
  return [...set].sort((x, y) => x - y);
}
