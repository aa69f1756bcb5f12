// The action catalog: every IAM action with a dense integer id, its access level and resource
// types. Read from the checked-in catalog.json (built by scripts/build-catalog.ts), so loading
// is one JSON parse, the same in the main thread, a worker and a test.
import data from './data/catalog.json' with { type: 'json' };
import type { CatalogFile } from './build.ts';
import type { ActionInfo, Catalog, ResourceTypeInfo } from './types.ts';

export class ActionCatalog implements Catalog {
  readonly version: string;
  private readonly byName = new Map<string, ActionInfo>();
  /** "prefix:action" lower-cased → canonical name; IAM action names are case-insensitive */
  private readonly folded = new Map<string, string>();
  private readonly idOrder: readonly string[];
  private readonly idOf = new Map<string, number>();
  private sortedActions: string[] | undefined;
  private readonly sortedServices: string[];

  constructor(file: CatalogFile) {
    this.version = file.version;
    this.idOrder = file.actions.map((a) => a[0]);
    for (let id = 0; id < file.actions.length; id++) {
      const [name, accessLevel, types] = file.actions[id];
      this.idOf.set(name, id);
      if (accessLevel === null) continue; // retired: keeps its id, no longer an action
      const colon = name.indexOf(':');
      const service = name.slice(0, colon);
      const formats = file.services[service]?.resourceTypes ?? {};
      const resourceTypes: ResourceTypeInfo[] = types.map((t) => {
        const required = t.endsWith('*');
        const rt = required ? t.slice(0, -1) : t;
        return { name: rt, required, arnFormats: formats[rt] ?? [] };
      });
      this.byName.set(name, { name, service, accessLevel, resourceTypes });
      this.folded.set(name.toLowerCase(), name);
    }
    this.sortedServices = Object.keys(file.services).sort();
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  canonical(prefix: string, action: string): string | undefined {
    const exact = prefix + ':' + action;
    if (this.byName.has(exact)) return exact;
    return this.folded.get(exact.toLowerCase());
  }

  info(name: string): ActionInfo | undefined {
    return this.byName.get(name);
  }

  actions(): readonly string[] {
    return (this.sortedActions ??= [...this.byName.keys()].sort());
  }

  services(): readonly string[] {
    return this.sortedServices;
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
