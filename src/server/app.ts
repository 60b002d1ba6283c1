import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { resolve } from 'node:path';
import { ApiAuth } from './auth/authenticate.js';
import { ensureLocalToken } from './auth/local-token.js';
import { registerSecurityHeaders } from './plugins/security-headers.js';
import type { ServerDeps } from './deps.js';
import { registerApiAuth } from './plugins/api-auth.js';
import { buildsApiPlugin } from './plugins/builds-api.js';
import { buildPagePlugin } from './plugins/build-page.js';
import { registerErrorHandling } from './plugins/errors.js';
import { healthPlugin } from './plugins/health.js';
import { metricsPlugin } from './plugins/metrics.js';
import { servingApiPlugin } from './plugins/serving-api.js';
import { eventsApiPlugin } from './plugins/events-api.js';
import { uploadsApiPlugin } from './plugins/uploads-api.js';
import { promotionsApiPlugin } from './plugins/promotions-api.js';
import { appEnvApiPlugin } from './plugins/app-env-api.js';
import { gitRemotePlugin } from './plugins/git-remote.js';
import { webhooksPlugin } from './plugins/webhooks.js';

/**
 * The one HTTP server (docs/architecture.md): each area an encapsulated plugin (Fastify style), so the webhook
 * routes' raw-body parser does not leak into the JSON API.
 */
export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const app = Fastify({
    // pino's Logger is a FastifyBaseLogger; naming the base type keeps plugin signatures plain.
    loggerInstance: deps.logger as FastifyBaseLogger,
    // Request lines would dominate the log at webhook rates; errors are logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
    trustProxy: false,
  });
  registerErrorHandling(app);
  // Before any plugin: every route any plugin adds must declare its access, and is authorized by it.
  const localToken = deps.config.api.localToken ? ensureLocalToken(resolve(deps.cwd ?? process.cwd(), deps.config.dataDir)) : undefined;
  const auth = deps.auth ?? new ApiAuth(deps.config.api, deps.config.apps, localToken);
  registerApiAuth(app, auth, { publicReads: deps.config.api.publicReads });
  registerSecurityHeaders(app);
  // Child scopes inherit the error handler; each plugin below answers problem+json through it.
  await app.register(async (scope) => webhooksPlugin(scope, deps));
  await app.register(async (scope) => buildsApiPlugin(scope, deps, auth));
  await app.register(async (scope) => buildPagePlugin(scope, deps, auth));
  await app.register(async (scope) => healthPlugin(scope, deps));
  await app.register(async (scope) => metricsPlugin(scope, deps));
  await app.register(async (scope) => servingApiPlugin(scope, deps));
  await app.register(async (scope) => eventsApiPlugin(scope, deps));
  await app.register(async (scope) => uploadsApiPlugin(scope, deps));
  await app.register(async (scope) => promotionsApiPlugin(scope, deps));
  await app.register(async (scope) => appEnvApiPlugin(scope, deps));
  await app.register(async (scope) => gitRemotePlugin(scope, deps, auth));
  return app;
}
