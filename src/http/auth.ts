// Optional bearer-token auth. Probes and scraping stay open; everything else, unknown routes
// included (a 401 does not reveal which paths exist), needs `Authorization: Bearer <token>`.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { HttpError } from './errors.ts';
import { WEB_PATHS } from './routes/web.ts';

/**
 * Routes a kubelet or Prometheus calls without credentials, and the web view's page and assets
 * (no data in them: the page asks for the token and sends it on its API calls).
 */
export const OPEN_ROUTES: ReadonlySet<string> = new Set([
  '/healthz',
  '/readyz',
  '/metrics',
  ...WEB_PATHS,
]);

const SCHEME = 'bearer ';

// Digests have a fixed length, so timingSafeEqual never throws and the comparison time does not
// depend on where the presented token first differs, nor reveal the configured token's length.
function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** Whether an Authorization header value carries the token (scheme case-insensitive). */
export function bearerCheck(apiToken: string): (header: string | undefined) => boolean {
  const expected = digest(apiToken);
  return (header) => {
    const presented =
      header !== undefined && header.slice(0, SCHEME.length).toLowerCase() === SCHEME
        ? header.slice(SCHEME.length).trim()
        : '';
    return presented !== '' && timingSafeEqual(digest(presented), expected);
  };
}

export function bearerAuth(apiToken: string): (req: FastifyRequest) => Promise<void> {
  const authorized = bearerCheck(apiToken);
  return async (req) => {
    if (req.routeOptions.url !== undefined && OPEN_ROUTES.has(req.routeOptions.url)) return;
    if (!authorized(req.headers.authorization)) {
      throw new HttpError(
        'UNAUTHORIZED',
        'this API needs a bearer token: send "Authorization: Bearer <token>" (TRAILMINT_API_TOKEN)',
      );
    }
  };
}
