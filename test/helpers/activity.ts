// Synthetic activity for route tests: events folded into one FileDelta, as a worker would fold a
// log file (the same folding as test/unit/http.test.ts).
import { emptyStats, isoToDay, type FileDelta } from '../../src/state/delta.ts';

export interface Event {
  principal: string;
  action: string;
  /** ISO time */
  time: string;
  /** a denial (AccessDenied, UnauthorizedOperation, …) instead of an authorized use */
  deniedCode?: string;
  resources?: string[];
  passRole?: { role: string; service: string };
}

export function deltaOf(events: Event[]): FileDelta {
  const principals: string[] = [];
  const actions: string[] = [];
  const idx = (list: string[], v: string) =>
    list.includes(v) ? list.indexOf(v) : list.push(v) - 1;
  const days = new Map<string, FileDelta['days'][number]>();
  const uses = new Map<string, FileDelta['uses'][number]>();
  const d: FileDelta = {
    principals,
    actions,
    unknownActions: [],
    days: [],
    uses: [],
    passRoles: [],
    unmapped: [],
    stats: emptyStats(),
  };
  for (const e of events) {
    const p = idx(principals, e.principal);
    const a = idx(actions, e.action);
    const ms = Date.parse(e.time);
    const day = isoToDay(e.time.slice(0, 10))!;
    const ds = days.get(`${p}/${day}`) ?? { p, day, used: [], denied: [] };
    days.set(`${p}/${day}`, ds);
    (e.deniedCode ? ds.denied : ds.used).push(a);
    const u = uses.get(`${p}/${a}`) ?? {
      p,
      a,
      firstSeen: 0,
      lastSeen: 0,
      count: 0,
      deniedCount: 0,
      deniedLast: 0,
      deniedCode: '',
      resources: [],
    };
    uses.set(`${p}/${a}`, u);
    if (e.deniedCode) {
      u.deniedCount++;
      if (ms >= u.deniedLast) u.deniedCode = e.deniedCode;
      u.deniedLast = Math.max(u.deniedLast, ms);
      d.stats.denied++;
    } else {
      u.count++;
      u.firstSeen = u.firstSeen ? Math.min(u.firstSeen, ms) : ms;
      u.lastSeen = Math.max(u.lastSeen, ms);
      u.resources = [...new Set([...u.resources, ...(e.resources ?? [])])].sort();
      d.stats.succeeded++;
    }
    if (e.passRole) d.passRoles.push({ p, day, ...e.passRole, lastSeen: ms });
    d.stats.records++;
    d.stats.maxEventTime = Math.max(d.stats.maxEventTime, ms);
    d.stats.minEventTime = d.stats.minEventTime ? Math.min(d.stats.minEventTime, ms) : ms;
  }
  d.days = [...days.values()].map((s) => ({
    ...s,
    used: [...new Set(s.used)].sort((x, y) => x - y),
    denied: [...new Set(s.denied)].sort((x, y) => x - y),
  }));
  d.uses = [...uses.values()];
  return d;
}
