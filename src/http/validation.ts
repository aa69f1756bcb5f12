// Input rules shared by the HTTP API and the CLI: principal ARNs and day windows. They throw
// UsageError with a stable code and a message that says what to fix; each caller names the
// parameter its own way (`--from` on the command line, `from` in a query string).
import { UsageError } from '../errors.ts';
import type { DayWindow } from '../policy/query.ts';
import { dayToIso, isoToDay, type Day } from '../state/delta.ts';

export const DEFAULT_WINDOW_DAYS = 90;

// Partition (aws, aws-cn, aws-us-gov, …), iam or sts, a 12-digit account, then a resource.
const PRINCIPAL_ARN = /^arn:aws[a-z-]*:(iam|sts)::\d{12}:\S+$/;
const ASSUMED_ROLE = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/;

export function checkPrincipalArn(arn: string): string {
  if (!PRINCIPAL_ARN.test(arn)) {
    throw new UsageError(
      'BAD_ARN',
      `"${arn}" is not an IAM principal ARN (expected arn:aws:iam::<12-digit account>:role/…, user/… or root)`,
    );
  }
  return arn;
}

/** Sessions are recorded under their role: a hint for someone who asked about a session ARN. */
export function sessionHint(arn: string): string {
  const m = ASSUMED_ROLE.exec(arn);
  if (!m) return '';
  return ` (role sessions are recorded under their role: try arn:${m[1]}:iam::${m[2]}:role/<path/>${m[3]})`;
}

/**
 * The window [from, to] (UTC days, inclusive). `to` defaults to today, `from` to
 * DEFAULT_WINDOW_DAYS days ending at `to`. `name` spells a parameter as the caller's user sees it.
 */
export function parseWindow(
  from: string | undefined,
  to: string | undefined,
  today: Day,
  name: (param: 'from' | 'to') => string = (param) => param,
): DayWindow {
  const parse = (param: 'from' | 'to', value: string | undefined, dflt: Day): Day => {
    if (value === undefined) return dflt;
    const day = isoToDay(value);
    if (day === undefined) {
      throw new UsageError('BAD_DATE', `${name(param)} must be a date YYYY-MM-DD, got "${value}"`);
    }
    return day;
  };
  const toDay = parse('to', to, today);
  const fromDay = parse('from', from, toDay - (DEFAULT_WINDOW_DAYS - 1));
  if (fromDay > toDay) {
    throw new UsageError(
      'BAD_WINDOW',
      `${name('from')} ${dayToIso(fromDay)} is after ${name('to')} ${dayToIso(toDay)}`,
    );
  }
  return { fromDay, toDay };
}
