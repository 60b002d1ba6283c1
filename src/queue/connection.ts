import { readFileSync } from 'node:fs';
import { Redis, type RedisOptions } from 'ioredis';
import { SlipwayError } from '../core/errors.js';

/**
 * Where Redis is: `redis://[user:password@]host:port[/db]` (AUTH with an ACL user, or the default user
 * when only a password is given) or `rediss://…` (TLS; the server certificate is verified against the
 * system CAs, or against `ca`, a PEM file, when given).
 */
export interface RedisEndpoint {
  url: string;
  /** PEM file of the CA that signed the Redis server's certificate (rediss:// only). */
  ca?: string;
}

/** The URL without its credentials, for messages: `redis://***@host:port/db`. */
export const safeRedisUrl = (url: string): string => url.replace(/^(rediss?:\/\/)[^/?#]*@/i, '$1***@');

function tlsOptions(endpoint: RedisEndpoint): RedisOptions['tls'] {
  if (!/^rediss:\/\//i.test(endpoint.url)) return undefined;
  if (!endpoint.ca) return {};
  try {
    return { ca: readFileSync(endpoint.ca) };
  } catch (err) {
    throw new SlipwayError(
      'SLW_CONFIG_FILE',
      `cannot read the Redis CA file ${endpoint.ca} (redisTls.ca): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      { cause: err },
    );
  }
}

/**
 * BullMQ workers block on Redis and need `maxRetriesPerRequest: null` (BullMQ docs, "Connections");
 * the same options suit the queue and the pub/sub connections, so every Redis client comes from here.
 * Credentials, database and TLS come from the endpoint (ioredis reads user, password and db from the URL).
 */
export function createRedis(endpoint: string | RedisEndpoint, name: string): Redis {
  const e = typeof endpoint === 'string' ? { url: endpoint } : endpoint;
  const tls = tlsOptions(e);
  return new Redis(e.url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    connectionName: `slipway-${name}`,
    ...(tls ? { tls } : {}),
    // Give up connecting after a while instead of hanging start-up forever; the error says what to run.
    retryStrategy: (times) => (times > 20 ? null : Math.min(times * 200, 2000)),
  });
}

const AUTH_FAILURE = /WRONGPASS|NOAUTH|invalid password|invalid username-password|NOPERM/i;

/** A client that answered PING; a refused password is a configuration error, named as such. */
export async function connectRedis(endpoint: string | RedisEndpoint, name: string): Promise<Redis> {
  const url = typeof endpoint === 'string' ? endpoint : endpoint.url;
  const redis = createRedis(endpoint, name);
  // ioredis reports a failed AUTH as an 'error' event too; the PING below says it with the reason.
  const quiet = () => undefined;
  redis.on('error', quiet);
  try {
    await redis.ping();
    redis.off('error', quiet);
  } catch (err) {
    redis.disconnect();
    const why = (err as Error).message;
    if (AUTH_FAILURE.test(why)) {
      throw new SlipwayError(
        'SLW_CONFIG_INVALID',
        `Redis at ${safeRedisUrl(url)} refused Slipway's credentials (${why.split('\n')[0]}); set user and password in redis as redis://user:password@host:port/db`,
        { cause: err },
      );
    }
    throw new SlipwayError(
      'SLW_UNAVAILABLE',
      `cannot reach Redis at ${safeRedisUrl(url)}: ${why}; start it (scripts/setup.sh does) or set redis in the config`,
      { cause: err },
    );
  }
  return redis;
}
