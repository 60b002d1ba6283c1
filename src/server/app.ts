import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { ServerDeps } from './deps.js';
import { buildsApiPlugin } from './plugins/builds-api.js';
import { registerErrorHandling } from './plugins/errors.js';
import { healthPlugin } from './plugins/health.js';
import { metricsPlugin } from './plugins/metrics.js';
import { webhooksPlugin } from './plugins/webhooks.js';

/**
 * The one HTTP server (DESIGN.md): each area an encapsulated plugin (Fastify style), so the webhook
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
  // Child scopes inherit the error handler; each plugin below answers problem+json through it.
  await app.register(async (scope) => webhooksPlugin(scope, deps));
  await app.register(async (scope) => buildsApiPlugin(scope, deps));
  await app.register(async (scope) => healthPlugin(scope, deps));
  await app.register(async (scope) => metricsPlugin(scope, deps));
  return app;
}
