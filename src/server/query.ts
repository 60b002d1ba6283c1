import { SlipwayError } from '../core/errors.js';

/**
 * A query parameter that must appear at most once. Fastify hands a repeated one (`?app=a&app=b`) over as
 * an array; passing that on as if it were a string reached the database and answered 500.
 */
export function singleQuery(query: unknown, name: string): string | undefined {
  const value = (query as Record<string, unknown> | undefined)?.[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new SlipwayError('SLW_BAD_REQUEST', `query parameter "${name}" may be given once`);
  return value;
}
