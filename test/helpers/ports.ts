/** A loopback port free right now (for processes that take host:port from their config): the serving target's own finder. */
export { freeLoopbackPort as freePort } from '../../src/targets/local/readiness.js';
