// The unit of work between a parser worker and the store: everything one CloudTrail log file
// says about who used which IAM action on which UTC day. Plain data (structured-clone friendly),
// built with local string tables so a worker never needs the store's id assignment.

/** UTC day number: whole days since 1970-01-01. */
export type Day = number;

export const MS_PER_DAY = 86_400_000;

/** Why a record was not turned into an action use. Counted, never silently dropped. */
export type SkipReason =
  | 'serviceEvent' // eventType AwsServiceEvent
  | 'consoleSignIn' // eventType AwsConsoleSignIn
  | 'insight' // CloudTrail Insights records
  | 'awsService' // userIdentity.type AWSService / AWSAccount: not a principal we can scope
  | 'noIdentity' // missing or unusable userIdentity
  | 'notApiCall' // any other eventType, or a record without eventSource/eventName
  | 'badRecord' // not an object, eventTime missing or not a date
  | 'unmapped'; // (source, name) has no action mapping

export const SKIP_REASONS: readonly SkipReason[] = [
  'serviceEvent',
  'consoleSignIn',
  'insight',
  'awsService',
  'noIdentity',
  'notApiCall',
  'badRecord',
  'unmapped',
];

/** Per (principal, day): the actions used (authorized) and denied, as indexes into `actions`. */
export interface DaySet {
  p: number;
  day: Day;
  /** sorted, unique */
  used: number[];
  /** sorted, unique */
  denied: number[];
}

/** Per (principal, action) detail over the whole file. Times are ms since the epoch, 0 = never. */
export interface ActionUse {
  p: number;
  a: number;
  firstSeen: number;
  lastSeen: number;
  /** authorized events (successful or failed for a non-authorization reason) */
  count: number;
  deniedCount: number;
  deniedLast: number;
  /** error code of the latest denied attempt, '' when never denied */
  deniedCode: string;
  /** bounded sample of resource ARNs seen with authorized uses (see state/sample.ts) */
  resources: string[];
}

/** iam:PassRole inferred from a request that handed `role` to `service` (e.g. lambda.amazonaws.com). */
export interface PassRoleUse {
  p: number;
  day: Day;
  role: string;
  service: string;
  lastSeen: number;
}

export interface UnmappedPair {
  source: string;
  name: string;
  count: number;
}

export interface FileStats {
  bytesCompressed: number;
  bytesInflated: number;
  records: number;
  /** records dropped because their eventID already appeared in the same file */
  duplicateRecords: number;
  /** events that count as use: successful ones */
  succeeded: number;
  /** events that failed for a reason other than authorization: the action was still allowed */
  failed: number;
  /** events refused for authorization: evidence of what was *not* granted */
  denied: number;
  skipped: Record<SkipReason, number>;
  /** earliest / latest eventTime among counted events, ms since the epoch (0 when none) */
  minEventTime: number;
  maxEventTime: number;
}

export interface FileDelta {
  principals: string[];
  /** canonical "prefix:Action" names; unknown ones (absent from the catalog) are listed in `unknownActions` too */
  actions: string[];
  unknownActions: string[];
  days: DaySet[];
  uses: ActionUse[];
  passRoles: PassRoleUse[];
  /**
   * Roles seen added to EC2 instance profiles (iam AddRoleToInstanceProfile), organization-wide:
   * a PassRole whose `role` is a profile ARN stands for these. Absent in deltas of older versions.
   */
  profileRoles?: { profile: string; role: string }[];
  unmapped: UnmappedPair[];
  stats: FileStats;
}

export function emptyStats(): FileStats {
  return {
    bytesCompressed: 0,
    bytesInflated: 0,
    records: 0,
    duplicateRecords: 0,
    succeeded: 0,
    failed: 0,
    denied: 0,
    skipped: {
      serviceEvent: 0,
      consoleSignIn: 0,
      insight: 0,
      awsService: 0,
      noIdentity: 0,
      notApiCall: 0,
      badRecord: 0,
      unmapped: 0,
    },
    minEventTime: 0,
    maxEventTime: 0,
  };
}

/** Adds `b` into `a` (for run summaries). */
export function addStats(a: FileStats, b: FileStats): void {
  a.bytesCompressed += b.bytesCompressed;
  a.bytesInflated += b.bytesInflated;
  a.records += b.records;
  a.duplicateRecords += b.duplicateRecords;
  a.succeeded += b.succeeded;
  a.failed += b.failed;
  a.denied += b.denied;
  for (const r of SKIP_REASONS) a.skipped[r] += b.skipped[r];
  if (b.minEventTime && (!a.minEventTime || b.minEventTime < a.minEventTime))
    a.minEventTime = b.minEventTime;
  if (b.maxEventTime > a.maxEventTime) a.maxEventTime = b.maxEventTime;
}

export function dayOf(ms: number): Day {
  return Math.floor(ms / MS_PER_DAY);
}

export function dayToIso(day: Day): string {
  return new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
}

/**
 * Parses YYYY-MM-DD strictly (a real calendar date, proleptic Gregorian, years 0000-9999);
 * returns undefined otherwise. Arithmetic, no Date: it runs for both ends of every policy query.
 */
export function isoToDay(s: string): Day | undefined {
  if (s.length !== 10 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return undefined; // '-'
  const y = digits(s, 0, 4);
  const m = digits(s, 5, 7);
  const d = digits(s, 8, 10);
  if (y < 0 || m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m)) return undefined;
  return daysFromCivil(y, m, d);
}

/** The decimal value of s[from, to), or -1 when one of them is not a digit. */
function digits(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

function daysInMonth(y: number, m: number): number {
  if (m !== 2) return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
  return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28;
}

/** Days since 1970-01-01 of a valid date (H. Hinnant's days_from_civil, in eras of 400 years). */
function daysFromCivil(y: number, m: number, d: number): Day {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}
