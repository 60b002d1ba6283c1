import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isSlipwayError } from '../../core/errors.js';
import type { ApiAuth, Principal } from '../auth/authenticate.js';

/**
 * What a route lets through, declared on the route itself (`config: { access }`):
 * - `public`: anyone (health, the webhook routes, which verify their own signatures);
 * - `read`: a valid token, unless `api.publicReads` is set;
 * - `write`: a valid token allowed for the route's app, always;
 * - `own`: the route authenticates in its handler (git's Basic challenge, the post-receive hook's secret).
 */
export type RouteAccess = 'public' | 'read' | 'write' | 'own';
const ACCESS: ReadonlySet<string> = new Set<RouteAccess>(['public', 'read', 'write', 'own']);

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route; a route without it makes the server refuse to start. */
    access?: RouteAccess;
  }
  interface FastifyRequest {
    /** Who sent the request, once the access hook let it through; null on public routes and open reads. */
    principal: Principal | null;
  }
}

/** The route's declared access: a missing or misspelled declaration is a programming error, found at start. */
export function declaredAccess(config: { access?: unknown } | undefined, method: string | string[], url: string): RouteAccess {
  const access = config?.access;
  if (typeof access !== 'string' || !ACCESS.has(access)) {
    throw new Error(`route ${String(method)} ${url} declares no access (config.access: public, read, write or own)`);
  }
  return access as RouteAccess;
}

/**
 * Authorization by the matched route, deny by default. The hook runs after routing (Fastify's onRequest
 * sees the route that matched and its decoded params), so whatever spelling of a path reached a route —
 * percent-encoded, absolute-form, dot segments, doubled slashes, another letter case — the route's own
 * declaration decides, never the request's URL text. Every route must declare its access: the onRoute
 * hook refuses to register one that does not, whichever plugin adds it later.
 */
export function registerApiAuth(app: FastifyInstance, auth: ApiAuth, options: { publicReads: boolean }): void {
  app.decorateRequest('principal', null);
  app.addHook('onRoute', (route) => {
    declaredAccess(route.config as { access?: unknown } | undefined, route.method, route.url);
  });
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    // No route matched: the not-found handler answers 404 and touches nothing.
    if (request.is404) return;
    const access = declaredAccess(request.routeOptions.config, request.method, request.routeOptions.url ?? request.url);
    if (access === 'public' || access === 'own') return;
    if (access === 'read' && options.publicReads) return;
    const appName = (request.params as { app?: unknown } | undefined)?.app;
    try {
      request.principal = await auth.check(request.headers.authorization, typeof appName === 'string' ? appName : undefined, access);
    } catch (err) {
      if (isSlipwayError(err, 'SLW_AUTH_REQUIRED')) void reply.header('www-authenticate', 'Bearer realm="slipway"');
      throw err;
    }
  });
}

/**
 * For read routes that find their app only after loading a record (a build by id): an app-scoped
 * principal (an OIDC token) may read only its own app's records. Open reads and static tokens pass.
 */
export function authorizeRecord(auth: ApiAuth, request: FastifyRequest, app: string): void {
  if (request.principal) auth.authorize(request.principal, app, 'read');
}
