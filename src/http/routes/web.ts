// The web view: one HTML page, one script, one stylesheet, read from src/http/web once and served
// from memory. The page holds no data (it calls the JSON API like any client), so its paths are
// open even with a bearer token configured (auth.ts OPEN_ROUTES): it loads, asks for the token and
// sends it on its API calls.
//
// Caching: the page is revalidated on every load (ETag, 304); it links the assets as
// `/ui/<name>?v=<content hash>`, and an asset asked for with its current hash is immutable, so a
// new version is picked up on the next page load and an unchanged one is never fetched again.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

const WEB_DIR = path.join(import.meta.dirname, '../web');

const PAGE = { path: '/', file: 'index.html', type: 'text/html; charset=utf-8' } as const;
const ASSETS = [
  { path: '/ui/app.js', file: 'app.js', type: 'text/javascript; charset=utf-8' },
  { path: '/ui/app.css', file: 'app.css', type: 'text/css; charset=utf-8' },
] as const;

/** Every path the web view serves; none holds data, so auth.ts leaves them open. */
export const WEB_PATHS: readonly string[] = [PAGE.path, ...ASSETS.map((a) => a.path)];

const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';

// Same origin only, no inline script or style: the page renders API data with textContent, and
// even so a token in sessionStorage deserves a page that cannot load anything from elsewhere.
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
} as const;

interface Served {
  body: Buffer;
  type: string;
  /** first 16 hex digits of the body's sha256 */
  hash: string;
  etag: string;
}

function served(body: Buffer, type: string): Served {
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 16);
  return { body, type, hash, etag: `"${hash}"` };
}

let cache: { page: Served; assets: Map<string, Served> } | undefined;

/** Reads the files once per process; the page links each asset by its content hash. */
function load(): NonNullable<typeof cache> {
  if (cache) return cache;
  const assets = new Map<string, Served>();
  for (const a of ASSETS)
    assets.set(a.path, served(readFileSync(path.join(WEB_DIR, a.file)), a.type));
  let html = readFileSync(path.join(WEB_DIR, PAGE.file), 'utf8');
  for (const [p, s] of assets) html = html.replaceAll(`"${p}"`, `"${p}?v=${s.hash}"`);
  cache = { page: served(Buffer.from(html, 'utf8'), PAGE.type), assets };
  return cache;
}

function send(req: FastifyRequest, reply: FastifyReply, s: Served, cacheControl: string) {
  reply.headers(SECURITY_HEADERS);
  reply.header('cache-control', cacheControl);
  reply.header('etag', s.etag);
  const inm = req.headers['if-none-match'];
  if (inm !== undefined && inm.split(',').some((t) => t.trim().replace(/^W\//, '') === s.etag))
    return reply.code(304).send();
  return reply.type(s.type).send(s.body);
}

// The page's one parameter is `pageSize` (app.js clamps it; its state lives in the fragment); an
// asset's is its version.
const PAGE_QUERY = {
  type: 'object',
  additionalProperties: false,
  properties: { pageSize: { type: 'string', maxLength: 16 } },
} as const;
const ASSET_QUERY = {
  type: 'object',
  additionalProperties: false,
  properties: { v: { type: 'string', maxLength: 64 } },
} as const;

export async function webRoutes(app: FastifyInstance): Promise<void> {
  const { page, assets } = load();

  app.get(PAGE.path, { schema: { querystring: PAGE_QUERY } }, (req, reply) =>
    send(req, reply, page, REVALIDATE),
  );

  for (const [p, s] of assets) {
    app.get<{ Querystring: { v?: string } }>(
      p,
      { schema: { querystring: ASSET_QUERY } },
      (req, reply) => send(req, reply, s, req.query.v === s.hash ? IMMUTABLE : REVALIDATE),
    );
  }
}
