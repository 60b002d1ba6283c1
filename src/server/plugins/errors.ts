import type { FastifyInstance } from 'fastify';
import { SlipwayError } from '../../core/errors.js';
import { fromFastifyError, sendProblem } from '../problem.js';

/** Every error leaves as application/problem+json; internal details stay in the log. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => {
    const error = err instanceof SlipwayError ? err : fromFastifyError(err as { code?: string; statusCode?: number; message: string });
    if (error.httpStatus >= 500) request.log.error({ err, code: error.code }, 'request failed');
    else request.log.debug({ code: error.code }, 'request rejected');
    return sendProblem(reply, error);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, new SlipwayError('SLW_NOT_FOUND', `no route for ${request.method} ${request.url.split('?')[0]}; see docs/api.md for the HTTP API`)),
  );
}
