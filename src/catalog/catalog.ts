// The action catalog: every IAM action with a dense integer id, its access level and resource
// types. Read from the checked-in catalog.json (built by scripts/build-catalog.ts), so loading
// is one JSON parse, the same in the main thread, a worker and a test.
import data from './data/catalog.json' with { type: 'json' };
import type { CatalogFile } from './build.ts';
import type { ActionInfo, Catalog, ResourceTypeInfo } from './types.ts';

export class ActionCatalog implements Catalog {
  readonly version: string;
  private readonly file: CatalogFile;
  private readonly idOrder: readonly string[];
  private readonly idOf = new Map<string, number>();
  // Built on first use: every worker thread loads the catalog, most never need all of it.
  private readonly infos = new Map<string, ActionInfo>();
  /** "prefix:action" lower-cased → canonical name; IAM action names are case-insensitive */
  private folded: Map<string, string> | undefined;
  private sortedActions: string[] | undefined;
  private formats: string[] | undefined;
  private readonly sortedServices: string[];

  constructor(file: CatalogFile) {
    this.file = file;
    this.version = file.version;
    const order: string[] = new Array(file.actions.length);
    for (let id = 0; id < file.actions.length; id++) {
      const name = file.actions[id][0];
      order[id] = name;
      this.idOf.set(name, id);
    }
    this.idOrder = order;
    this.sortedServices = Object.keys(file.services).sort();
  }

  has(name: string): boolean {
    const id = this.idOf.get(name);
    // A retired action keeps its id but is no longer an action.
    return id !== undefined && this.file.actions[id][1] !== null;
  }

  canonical(prefix: string, action: string): string | undefined {
    const exact = prefix + ':' + action;
    if (this.has(exact)) return exact;
    if (this.folded === undefined) {
      this.folded = new Map();
      for (const [name, level] of this.file.actions) {
        if (level !== null) this.folded.set(name.toLowerCase(), name);
      }
    }
    return this.folded.get(exact.toLowerCase());
  }

  info(name: string): ActionInfo | undefined {
    let info = this.infos.get(name);
    if (info !== undefined) return info;
    const id = this.idOf.get(name);
    if (id === undefined) return undefined;
    const [, accessLevel, types] = this.file.actions[id];
    if (accessLevel === null) return undefined;
    const service = name.slice(0, name.indexOf(':'));
    const formats = this.file.services[service]?.resourceTypes ?? {};
    const resourceTypes: ResourceTypeInfo[] = types.map((t) => {
      const required = t.endsWith('*');
      const rt = required ? t.slice(0, -1) : t;
      return { name: rt, required, arnFormats: formats[rt] ?? [] };
    });
    info = { name, service, accessLevel, resourceTypes };
    this.infos.set(name, info);
    return info;
  }

  actions(): readonly string[] {
    return (this.sortedActions ??= this.idOrder.filter((n) => this.has(n)).sort());
  }

  services(): readonly string[] {
    return this.sortedServices;
  }

  arnFormats(): readonly string[] {
    if (this.formats !== undefined) return this.formats;
    // From the file's rows: building an info per action (22k) cost a worker 50-90 ms at start.
    const types = new Set<string>();
    const formats = new Set<string>();
    for (const name of this.actions()) {
      const [, , names] = this.file.actions[this.idOf.get(name)!];
      const service = name.slice(0, name.indexOf(':'));
      for (const t of names) {
        const rt = t.endsWith('*') ? t.slice(0, -1) : t;
        const key = service + ':' + rt;
        if (types.has(key)) continue;
        types.add(key);
        for (const f of this.file.services[service]?.resourceTypes[rt] ?? []) formats.add(f);
      }
    }
    return (this.formats = [...formats]);
  }

  /** Every name ever given an id, index = id (append-only; includes retired actions). */
  ids(): readonly string[] {
    return this.idOrder;
  }

  id(name: string): number | undefined {
    return this.idOf.get(name);
  }
}

let shared: ActionCatalog | undefined;

/** The checked-in catalog, parsed once per thread. */
export function loadCatalog(): ActionCatalog {
  return (shared ??= new ActionCatalog(data as unknown as CatalogFile));
}
