import type { Logger } from '../log/index.js';
import type { ServingTarget } from './types.js';

/**
 * Preview clean-up that does not rely on close events: a preview tag (`pr-<n>`, GitLab
 * `mr-<iid>`) is removed when its pull/merge request is no longer open, or when its revision is older than the
 * app's preview `ttl` (every push to the pull request makes a new revision, so this is time since the last
 * push). A close event Slipway missed, or a removal that failed, is made good on the next sweep.
 */

export interface PreviewSweep {
  app: string;
  target: ServingTarget;
  /**
   * The forge's words, passed in because targets know no forge: which tags are this app's previews (the
   * change request's number, or undefined for any other tag) and how the change request is named.
   */
  previews: { numberOf(tag: string): number | undefined; label(number: number): string };
  ttlMs: number;
  /** Asks the forge; undefined when Slipway has no API access to it (then only the TTL applies). */
  isOpen?: ((number: number) => Promise<boolean>) | undefined;
  now?: number;
  logger: Logger;
}

export interface SweptPreview {
  tag: string;
  revision: string | undefined;
  reason: string;
}

const hours = (ms: number) => `${Math.round((ms / 3_600_000) * 10) / 10} h`;

export async function sweepPreviews(sweep: PreviewSweep): Promise<SweptPreview[]> {
  const { app, target, previews, ttlMs, isOpen, logger } = sweep;
  const now = sweep.now ?? Date.now();
  const status = await target.status(app);
  const removed: SweptPreview[] = [];
  for (const entry of status.traffic) {
    const number = entry.tag === undefined ? undefined : previews.numberOf(entry.tag);
    // A tag that carries traffic was put there by hand (slipway traffic): not a preview to sweep.
    if (number === undefined || entry.percent !== 0) continue;
    const tag = entry.tag!;
    const revision = status.revisions.find((r) => r.name === entry.revisionName);
    const age = revision ? now - Date.parse(revision.createdAt) : Number.POSITIVE_INFINITY;
    let reason: string | undefined;
    if (age > ttlMs) {
      reason = revision ? `its last push was ${hours(age)} ago, beyond the preview ttl of ${hours(ttlMs)}` : 'its revision no longer exists';
    } else if (isOpen) {
      try {
        if (!(await isOpen(number))) reason = `${previews.label(number)} is no longer open`;
      } catch (err) {
        // Unknown is not closed: keep the preview and ask again on the next sweep.
        logger.warn({ err, app, tag }, "could not ask the forge whether a preview's change request is open; keeping it");
      }
    }
    if (reason === undefined) continue;
    await target.removeTag(app, tag);
    logger.info({ app, target: target.name, tag, revision: entry.revisionName, reason }, 'preview removed');
    removed.push({ tag, revision: entry.revisionName, reason });
  }
  return removed;
}
