import type { AppConfig, SlipwayConfig } from '../../config/index.js';
import { SlipwayError } from '../../core/errors.js';
import { DNS_LABEL_RE } from '../../core/types.js';

/**
 * What an upload or an image promotion deploys to: the configured app, the target asked
 * for or else the one its first branch maps to, and an optional tag — each checked, with an error that
 * says what to fix.
 */
export function deployTarget(
  config: SlipwayConfig,
  appName: string,
  target: string | undefined,
  tag: string | undefined,
): { app: AppConfig; target: string; tag: string | undefined } {
  const app = config.apps.find((a) => a.name === appName);
  if (!app) throw new SlipwayError('SLW_NOT_FOUND', `app "${appName}" is not configured; add it under apps`);
  const chosen = target ?? Object.values(app.branches)[0];
  if (!chosen) throw new SlipwayError('SLW_BAD_REQUEST', `app ${app.name} maps no branch to a target; name the target`);
  if (!(chosen in config.targets))
    throw new SlipwayError('SLW_TARGET_UNKNOWN', `target "${chosen}" is not configured; targets: ${Object.keys(config.targets).join(', ')}`);
  if (tag !== undefined && !DNS_LABEL_RE.test(tag)) throw new SlipwayError('SLW_BAD_REQUEST', `tag "${tag}" is not a DNS label`);
  return { app, target: chosen, tag };
}
