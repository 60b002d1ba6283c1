import { resolve } from 'node:path';
import type { SlipwayConfig } from '../../config/index.js';
import type { Logger } from '../../log/index.js';
import { loadSecretKey, type SecretBox } from '../../secrets/index.js';

/**
 * The key that seals app secrets, for this process (server, workers and routers each need it): from
 * `secrets.keyEnv`, else the data directory's key file, generated once — and said so, because losing it
 * loses every stored secret. The key itself is never logged.
 */
export function openSecretBox(config: SlipwayConfig, env: Readonly<Record<string, string | undefined>>, cwd: string, logger: Logger): SecretBox {
  const loaded = loadSecretKey({ keyEnv: config.secrets.keyEnv, env, dataDir: resolve(cwd, config.dataDir) });
  if (loaded.generated)
    logger.warn(
      { file: loaded.source, keyId: loaded.box.keyId },
      `generated a key for app secrets into ${loaded.source} (mode 0600): keep it with the database, or set $${config.secrets.keyEnv} on every Slipway process`,
    );
  else logger.info({ source: loaded.source, keyId: loaded.box.keyId }, 'secrets key loaded');
  return loaded.box;
}
