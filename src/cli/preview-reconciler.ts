import type { SlipwayConfig } from '../config/index.js';
import type { ForgeId } from '../core/types.js';
import type { Forge } from '../forges/types.js';
import type { Logger } from '../log/index.js';
import { sweepPreviews, type ServingTarget, type SweptPreview } from '../targets/index.js';

/**
 * Runs the preview sweep (src/targets/previews.ts) for every app with `previews` each `intervalMs` (a minute),
 * in the server process, which also receives the close events it backs up. Sweeps never overlap; one app's
 * failure is logged and does not stop the others.
 */

export interface PreviewReconciler {
  /** One sweep over every app now (tests, and the first run at start-up). */
  runOnce(now?: number): Promise<SweptPreview[]>;
  stop(): void;
}

export function startPreviewReconciler(deps: { config: SlipwayConfig; targets: Map<string, ServingTarget>; forges: Map<ForgeId, Forge>; logger: Logger; intervalMs?: number }): PreviewReconciler {
  const { config, targets, forges, logger } = deps;
  const log = logger.child({ component: 'preview-reconciler' });
  let running: Promise<SweptPreview[]> | undefined;

  const sweepAll = async (now?: number): Promise<SweptPreview[]> => {
    const removed: SweptPreview[] = [];
    for (const app of config.apps) {
      if (!app.previews) continue;
      const target = targets.get(app.previews.target);
      if (!target) continue;
      const [forgeId, repo] = [app.repo.slice(0, app.repo.indexOf(':')) as ForgeId, app.repo.slice(app.repo.indexOf(':') + 1)];
      const feedback = forges.get(forgeId)?.feedback;
      try {
        removed.push(
          ...(await sweepPreviews({
            app: app.name,
            target,
            prefix: forgeId === 'gitlab' ? 'mr' : 'pr',
            ttlMs: app.previews.ttl,
            isOpen: feedback ? (n) => feedback.changeRequestOpen(repo, n) : undefined,
            ...(now !== undefined ? { now } : {}),
            logger: log,
          })),
        );
      } catch (err) {
        log.warn({ err, app: app.name }, 'preview sweep failed for this app; the next sweep tries again');
      }
    }
    return removed;
  };

  const runOnce = (now?: number) => {
    running ??= sweepAll(now).finally(() => (running = undefined));
    return running;
  };
  const timer = setInterval(() => void runOnce(), deps.intervalMs ?? 60_000);
  timer.unref();
  return { runOnce, stop: () => clearInterval(timer) };
}
