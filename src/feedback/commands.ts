import { z } from 'zod';
import { appsOfRepo } from '../config/index.js';
import { ACTIVE_BUILD_STATES } from '../core/types.js';
import { admit, previewDedupe, type BuildRequest } from '../admission/index.js';
import { changeRequestLabel, FORGE_IDS, isForgeId } from '../forges/terms.js';
import { listChangeRequestBuilds, recordApproval, type Build } from '../store/index.js';
import type { FeedbackDeps } from './deps.js';

/**
 * Comment commands and the approval label (as Pipelines-as-Code does): the sender must have
 * write access (GitHub collaborator permission) or be at least a Developer (GitLab), which only the
 * forge's API can tell — so this runs from the feedback queue, never in the webhook request.
 *
 * - `/ok-to-test` or the `slipway/ok-to-preview` label on a fork's pull request: the approval is
 *   recorded per (app, pull request) and the head commit builds again, approved.
 * - `/retest`: a new build of the head commit, even when one exists for it.
 * - `/cancel`: the pull request's unfinished builds are canceled.
 */

const head = z.strictObject({ headRef: z.string(), headSha: z.string(), headCloneUrl: z.string(), fork: z.boolean() });
const base = {
  forge: z.enum(FORGE_IDS),
  deliveryId: z.string(),
  repo: z.strictObject({ forge: z.enum(FORGE_IDS), fullName: z.string(), cloneUrl: z.string(), webUrl: z.string() }),
  sender: z.string(),
  senderId: z.number(),
  number: z.number().int(),
};
/** The event comes back from Redis as JSON: held to its shape before anything acts on it. */
export const commandEventSchema = z.discriminatedUnion('kind', [
  z.strictObject({ ...base, kind: z.literal('comment'), command: z.enum(['ok-to-test', 'retest', 'cancel']), head: head.optional() }),
  z.strictObject({ ...base, kind: z.literal('label'), label: z.string(), head }),
]);
/** A CommentEvent or LabelEvent (core/types.ts) after its trip through the queue (`head` may be absent). */
export type CommandEvent = z.infer<typeof commandEventSchema>;

export type CommandOutcome = { outcome: 'done'; builds: string[]; canceled: string[] } | { outcome: 'denied' | 'skipped'; reason: string };

export async function runCommand(deps: FeedbackDeps, event: CommandEvent): Promise<CommandOutcome> {
  const log = deps.logger.child({ delivery: event.deliveryId, forge: event.forge, pr: event.number, sender: event.sender });
  const command = event.kind === 'label' ? 'ok-to-test' : event.command;
  const what = event.kind === 'label' ? `label ${event.label}` : `/${event.command}`;
  const forge = isForgeId(event.forge) ? deps.forges.get(event.forge)?.feedback : undefined;
  const skip = (reason: string): CommandOutcome => {
    log.info({ reason }, `${what} not run`);
    return { outcome: 'skipped', reason };
  };
  if (forge === undefined) return skip(`${event.forge}.token is not set, so who wrote ${what} cannot be checked`);
  const apps = appsOfRepo(deps.config.apps, event.forge, event.repo.fullName).filter((a) => a.previews !== undefined);
  if (apps.length === 0) return skip(`no app builds previews of ${event.forge}:${event.repo.fullName}`);

  // Fail closed: a forge error here is retried by the queue, and never read as permission.
  if (!(await forge.hasWriteAccess(event.repo.fullName, { login: event.sender, id: event.senderId }))) {
    log.warn(`${what} from a user without write access ignored`);
    return { outcome: 'denied', reason: `${event.sender} may not run ${what}: write access (GitLab: Developer) is needed` };
  }

  const { db } = deps.store;
  const existing = await listChangeRequestBuilds(db, event.forge, event.repo.fullName, event.number);
  if (command === 'cancel') {
    const active = existing.filter((b) => (ACTIVE_BUILD_STATES as readonly string[]).includes(b.state)).map((b) => b.id);
    const { superseded: canceled } = await admit(
      { db, queue: deps.builds, feedback: deps.feedback },
      { builds: [], cancel: [{ ids: active, reason: `canceled by ${event.sender} (/cancel)` }] },
    );
    log.info({ canceled }, '/cancel: builds canceled');
    return { outcome: 'done', builds: [], canceled };
  }

  const headOf = event.head ?? latestHead(existing);
  const label = changeRequestLabel(event.forge, event.number);
  if (headOf === undefined) return skip(`no build of ${label} yet to take the head commit from; push to it first`);
  if (command === 'ok-to-test' && !headOf.fork) return skip(`${what}: ${label} is not from a fork, it needs no approval`);

  const builds: BuildRequest[] = apps.map((app) => ({
    app: app.name,
    target: app.previews?.target ?? '',
    commit: headOf.headSha,
    ref: headOf.headRef,
    scope: { kind: 'change-request', number: event.number },
    trigger: 'change_request',
    cloneUrl: app.cloneUrl ?? headOf.headCloneUrl,
    forge: event.forge,
    deliveryId: event.deliveryId,
    repo: event.repo.fullName,
    fork: headOf.fork,
    prNumber: event.number,
    sender: event.sender,
    // A new build even when one exists for this commit (createBuild dedupes on the key): per
    // delivery for /retest; once per commit for an approval.
    dedupeExtra: previewDedupe(event.number, command === 'retest' ? `retest-${event.deliveryId}` : 'approved'),
  }));
  const admitted = await admit(
    { db, queue: deps.builds, feedback: deps.feedback },
    {
      builds,
      // The approval and the builds it lets run commit together.
      before: async (trx) => {
        if (command !== 'ok-to-test') return undefined;
        for (const app of apps) {
          await recordApproval(trx, {
            app: app.name,
            prNumber: event.number,
            forge: event.forge,
            repo: event.repo.fullName,
            approvedBy: event.sender,
            via: event.kind === 'label' ? 'label' : 'comment',
            commit: headOf.headSha,
          });
        }
        return undefined;
      },
    },
  );
  const created = admitted.builds.filter((b) => b.created).map((b) => b.build.id);
  log.info({ builds: created, superseded: admitted.superseded }, `${what}: builds queued`);
  return { outcome: 'done', builds: created, canceled: admitted.superseded };
}

/** GitHub comment payloads do not name the head: the newest build of the pull request built it. */
function latestHead(builds: readonly Build[]): z.infer<typeof head> | undefined {
  const latest = builds[0];
  if (latest === undefined) return undefined;
  return { headRef: latest.ref, headSha: latest.commit, headCloneUrl: latest.cloneUrl, fork: latest.fork };
}
