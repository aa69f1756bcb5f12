// The CI audit step (.ci/audit) against a stand-in advisory endpoint on loopback: it fails on a
// high or critical advisory of a production dependency and on nothing else (moderate ones and
// anything in devDependencies pass), and an endpoint that cannot be asked is a loud warning, or a
// failure with TRAILMINT_AUDIT_REQUIRED=1. The real npm client runs; only the registry is fake.
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const SCRIPT = path.resolve(import.meta.dirname, '../../.ci/audit');

/** package → severity the stand-in reports for it; undefined: the endpoint refuses (405). */
let advisories: Record<string, string> | undefined;
let registry: string;
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (req.method !== 'POST' || !req.url?.endsWith('/-/npm/v1/security/advisories/bulk')) {
      res.writeHead(404).end();
    } else if (advisories === undefined) {
      res.writeHead(405, { allow: 'GET,HEAD' }).end();
    } else {
      const body = Object.fromEntries(
        Object.entries(advisories).map(([name, severity]) => {
          // a fresh id each time: npm caches advisories by id
          const id = Math.floor(Math.random() * 1e9);
          const advisory = {
            id,
            url: `https://example.invalid/advisories/${id}`,
            title: `test advisory (${severity})`,
            severity,
            vulnerable_versions: '>=0.0.0',
            cwe: [],
            cvss: { score: 5, vectorString: null },
          };
          return [name, [advisory]];
        }),
      );
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    }
  });
});

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  registry = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function audit(env: NodeJS.ProcessEnv = {}) {
  return new Promise<{ code: number; out: string }>((resolve) => {
    execFile(
      SCRIPT,
      ['--registry', registry],
      { env: { ...process.env, ...env } },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code) : 0, out: stdout + stderr }),
    );
  });
}

describe('.ci/audit', () => {
  it.each<{ what: string; found: Record<string, string>; code: number }>([
    { what: 'no advisory', found: {}, code: 0 },
    { what: 'a moderate one in a production dependency', found: { fastify: 'moderate' }, code: 0 },
    { what: 'a low one', found: { pino: 'low' }, code: 0 },
    { what: 'a high one in a production dependency', found: { fastify: 'high' }, code: 1 },
    {
      what: 'a critical one deep in the production tree',
      found: { 'fast-json-stringify': 'critical' },
      code: 1,
    },
    { what: 'a critical one in a devDependency only', found: { vitest: 'critical' }, code: 0 },
  ])(
    '$what: exit $code',
    async ({ found, code }) => {
      advisories = found;
      const r = await audit();
      expect(r.code, r.out).toBe(code);
      expect(r.out).toMatch(/npm audit \(production\): \d+ critical, \d+ high/);
    },
    60_000,
  );

  it('an endpoint that cannot be asked: a warning, or a failure when the audit is required', async () => {
    advisories = undefined;
    const lenient = await audit();
    expect(lenient.code, lenient.out).toBe(0);
    expect(lenient.out).toMatch(/WARNING: not checked here/);
    const strict = await audit({ TRAILMINT_AUDIT_REQUIRED: '1' });
    expect(strict.code, strict.out).toBe(1);
  }, 60_000);
});
