import type { Logger } from '../log/index.js';

/** Resolves on the first SIGINT or SIGTERM: long-running commands then drain and close what they opened. */
export function stopSignal(logger: Logger): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
