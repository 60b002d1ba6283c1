import type { FastifyReply } from 'fastify';
import { SlipwayError, type ErrorCode } from '../core/errors.js';

/** RFC 9457 problem details. `code` is Slipway's stable error code; branch on it, not on `detail`. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance?: string;
  [extra: string]: unknown;
}

export const problemType = (code: string): string => `urn:slipway:error:${code}`;

export function problemOf(error: SlipwayError, instance?: string): Problem {
  return {
    type: problemType(error.code),
    title: error.title,
    status: error.httpStatus,
    detail: error.message,
    code: error.code,
    ...(instance ? { instance } : {}),
    ...(error.details ?? {}),
  };
}

export function sendProblem(reply: FastifyReply, error: SlipwayError): FastifyReply {
  return reply
    .code(error.httpStatus)
    .type('application/problem+json; charset=utf-8')
    .send(problemOf(error, reply.request.url.split('?')[0]));
}

/** Fastify's own errors, mapped onto the catalog so every error the API sends has one shape. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'SLW_WEBHOOK_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'SLW_WEBHOOK_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'SLW_BAD_REQUEST',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'SLW_BAD_REQUEST',
  FST_ERR_VALIDATION: 'SLW_BAD_REQUEST',
};

export function fromFastifyError(err: { code?: string; statusCode?: number; message: string }): SlipwayError {
  const mapped = err.code ? FASTIFY_CODES[err.code] : undefined;
  if (mapped === 'SLW_WEBHOOK_TOO_LARGE') return new SlipwayError(mapped, 'the request body is larger than server.webhookBodyLimit allows', { cause: err });
  if (mapped) return new SlipwayError(mapped, err.message, { cause: err });
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return new SlipwayError('SLW_BAD_REQUEST', err.message, { cause: err });
  return new SlipwayError('SLW_INTERNAL', 'internal error; the server log has the details', { cause: err });
}
