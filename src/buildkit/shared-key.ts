import { createHash } from 'node:crypto';

/**
 * The session shared key for a build context: stable per app and context
 * directory, so consecutive builds of an app diff against the copy BuildKit kept from the last one
 * even though each build checks out into its own workspace. Hashed so it names nothing on the wire.
 */
export function sharedKeyFor(scope: string, contextPath: string): string {
  return createHash('sha256').update(`slipway\0${scope}\0${contextPath}`).digest('hex').slice(0, 32);
}
