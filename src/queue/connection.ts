import { Redis } from 'ioredis';

/**
 * BullMQ workers block on Redis and need `maxRetriesPerRequest: null` (BullMQ docs, "Connections");
 * the same options suit the queue and the pub/sub connections, so every Redis client comes from here.
 */
export function createRedis(url: string, name: string): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    connectionName: `slipway-${name}`,
    // Give up connecting after a while instead of hanging start-up forever; the error says what to run.
    retryStrategy: (times) => (times > 20 ? null : Math.min(times * 200, 2000)),
  });
}
