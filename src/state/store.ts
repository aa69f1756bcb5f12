// The one interface every state backend implements (memory, LMDB, later Redis), driven by one
// shared contract test suite (test/unit/store-contract.ts).
import type { Day, FileDelta } from './delta.ts';

/** Identifies an ingested object: `file:<absolute path>` or `s3://bucket/key`, plus a version tag
 * (S3 ETag, or size+mtime for local files). Same key with another tag = a new object. */
export interface ObjectRef {
  key: string;
  tag: string;
}

export interface CommitEntry {
  object: ObjectRef;
  delta: FileDelta;
}

export interface CommitResult {
  /** entries merged by this commit */
  merged: number;
  /** entries skipped because their object (key + tag) was already committed */
  alreadyIngested: number;
  /** the object keys of those entries (another replica, or an earlier entry of the batch) */
  alreadyIngestedKeys: string[];
}

export interface PrincipalSummary {
  principal: string;
  /** ISO dates (UTC days) of the first and last day with any authorized or denied action */
  firstSeen: string;
  lastSeen: string;
  /** distinct authorized actions over all time */
  actions: number;
}

export interface WindowActions {
  /** global action ids used (authorized) on some day of the window, ascending */
  used: Uint32Array;
  /** global action ids denied on some day of the window, ascending */
  denied: Uint32Array;
}

/** All-time detail of one (principal, action). Times are ms since the epoch, 0 = never. */
export interface ActionDetail {
  action: number;
  firstSeen: number;
  lastSeen: number;
  count: number;
  deniedCount: number;
  deniedLast: number;
  deniedCode: string;
  resources: string[];
}

export interface PassRoleDetail {
  role: string;
  service: string;
  lastSeen: number;
}

export interface UnmappedCount {
  source: string;
  name: string;
  count: number;
}

export interface Store {
  readonly kind: 'memory' | 'lmdb' | 'redis';
  /**
   * The global action id table: index = id. Ids are assigned once, only appended, and persisted,
   * so upgrading the catalog never changes what stored bits mean.
   */
  actionNames(): Promise<readonly string[]>;
  /** Ids for these names, appending the missing ones (atomically: concurrent callers agree). */
  actionIds(names: readonly string[]): Promise<Uint32Array>;
  /**
   * Merges each entry whose object is not yet ingested and marks it ingested, in one durable
   * transaction. Merging is a set union (plus min/max/sum of the per-action detail), so the
   * result does not depend on order; an object already ingested is skipped.
   */
  commit(entries: readonly CommitEntry[]): Promise<CommitResult>;
  isIngested(object: ObjectRef): Promise<boolean>;
  principals(): Promise<PrincipalSummary[]>;
  /** OR of the day sets of [fromDay, toDay] inclusive. */
  windowActions(principal: string, fromDay: Day, toDay: Day): Promise<WindowActions>;
  /** Detail for the given action ids (all of the principal's when omitted). */
  actionDetails(principal: string, actions?: Uint32Array): Promise<ActionDetail[]>;
  /** iam:PassRole grants inferred within [fromDay, toDay]. */
  passRoles(principal: string, fromDay: Day, toDay: Day): Promise<PassRoleDetail[]>;
  /** (source, name) pairs no mapping knew, with counts over everything ingested. */
  unmapped(): Promise<UnmappedCount[]>;
  /**
   * A number that changes whenever a commit changes anything the store answers about
   * `principal` (undefined: never seen). Lets readers cache what they derive from it.
   */
  version?(principal: string): Promise<number | undefined>;
  /** How many principals principals() would list, without listing them (metrics scrapes). */
  principalCount?(): Promise<number>;
  /** Names ever reported as absent from the action catalog. */
  unknownActions(): Promise<string[]>;
  close(): Promise<void>;
}
