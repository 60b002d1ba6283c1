import { parseRepoSpec, type SlipwayConfig } from '../../config/index.js';
import type { ForgeId } from '../../forges/registry.js';
import { changeRequestLabel, isForgeId, previewNumber } from '../../forges/terms.js';
import type { Forge } from '../../forges/types.js';
import type { Logger } from '../../log/index.js';
import { sweepPreviews, type ServingTarget, type SweptPreview } from '../../targets/index.js';

/**
 * Runs the preview sweep (src/targets/previews.ts) for every app with `previews` each `intervalMs` (a minute),
 * in the server process, which also receives the close events it backs up. Sweeps never overlap; one app's
 * failure is logged and does not stop the others. A pull request the forge called open is not asked about
 * again for `FORGE_RECHECK_MS`: close events normally arrive, and asking once a minute per preview would
 * spend a large share of a GitHub token's hourly rate limit.
 */

const FORGE_RECHECK_MS = 10 * 60_000;

export interface PreviewReconciler {
  /** One sweep over every app now (tests, and the first run at start-up). */
  runOnce(now?: number): Promise<SweptPreview[]>;
  stop(): void;
}

export function startPreviewReconciler(deps: {
  config: SlipwayConfig;
  targets: Map<string, ServingTarget>;
  forges: Map<ForgeId, Forge>;
  logger: Logger;
  intervalMs?: number;
}): PreviewReconciler {
  const { config, targets, forges, logger } = deps;
  const log = logger.child({ component: 'preview-reconciler' });
  let running: Promise<SweptPreview[]> | undefined;
  /** `<app>#<number>` → when the forge last said it is open. */
  const seenOpen = new Map<string, number>();

  const askForge = (feedback: NonNullable<Forge['feedback']>, app: string, repo: string, at: number) => async (n: number) => {
    const key = `${app}#${n}`;
    const seen = seenOpen.get(key);
    if (seen !== undefined && at - seen < FORGE_RECHECK_MS) return true;
    const open = await feedback.changeRequestOpen(repo, n);
    if (open) seenOpen.set(key, at);
    else seenOpen.delete(key);
    return open;
  };

  const sweepAll = async (now?: number): Promise<SweptPreview[]> => {
    const removed: SweptPreview[] = [];
    for (const app of config.apps) {
      if (!app.previews) continue;
      const target = targets.get(app.previews.target);
      if (!target) continue;
      const { forge: forgeId, path: repo } = parseRepoSpec(app.repo);
      if (!isForgeId(forgeId)) continue;
      const feedback = forges.get(forgeId)?.feedback;
      try {
        removed.push(
          ...(await sweepPreviews({
            app: app.name,
            target,
            previews: { numberOf: (tag) => previewNumber(forgeId, tag), label: (n) => changeRequestLabel(forgeId, n) },
            ttlMs: app.previews.ttl,
            isOpen: feedback ? askForge(feedback, app.name, repo, now ?? Date.now()) : undefined,
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
