import type { z } from 'zod';
import { SlipwayError } from '../core/errors.js';
import type { ForgeTerms } from './terms-type.js';
import type { WebhookHeaders } from './types.js';

/**
 * What every forge does the same way with a webhook request: read headers, check the media type,
 * decode JSON, hold the payload to a schema. Errors name the forge as users know it.
 */

/** A repeated header is ambiguous, so it counts as absent. */
export function single(headers: WebhookHeaders, name: string): string | undefined {
  const value = headers[name];
  if (Array.isArray(value)) return value.length === 1 ? value[0] : undefined;
  return value;
}

/**
 * The Content-Type's media type when it is one of `accepted`, compared without parameters and case
 * (RFC 9110 §8.3.1: type and subtype are case-insensitive). Otherwise throws `SLW_WEBHOOK_MEDIA_TYPE`
 * with `hint` saying what to fix.
 */
export function requireMediaType<T extends string>(headers: WebhookHeaders, forge: ForgeTerms, event: string, accepted: readonly T[], hint: string): T {
  const raw = single(headers, 'content-type');
  const type = raw?.split(';')[0]?.trim().toLowerCase();
  const found = accepted.find((a) => a === type);
  if (found !== undefined) return found;
  throw new SlipwayError(
    'SLW_WEBHOOK_MEDIA_TYPE',
    `${forge.displayName} "${event}" delivery has content type ${raw === undefined ? '(none)' : JSON.stringify(raw)}: ${hint}`,
    { details: { event } },
  );
}

/** Throws `SLW_WEBHOOK_MALFORMED` with the parser's own words for text that is not JSON. */
export function decodeJson(text: string, forge: ForgeTerms, event: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new SlipwayError('SLW_WEBHOOK_MALFORMED', `${forge.displayName} "${event}" delivery body is not valid JSON (${why})`, {
      cause,
      details: { event },
    });
  }
}

/**
 * Schema failures throw `SLW_WEBHOOK_MALFORMED` naming the first failing field (`details.field`), so the
 * message says where the payload differs.
 */
export function parsePayload<S extends z.ZodType>(schema: S, body: unknown, forge: ForgeTerms, event: string): z.output<S> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue === undefined || issue.path.length === 0 ? '(body)' : issue.path.map(String).join('.');
  throw new SlipwayError(
    'SLW_WEBHOOK_MALFORMED',
    `${forge.displayName} "${event}" payload is not what Slipway expects at ${field}: ${issue?.message ?? 'invalid'}`,
    { cause: result.error, details: { event, field } },
  );
}
