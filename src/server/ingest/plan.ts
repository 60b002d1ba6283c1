import { appsOfRepo, type AppConfig } from '../../config/index.js';
import type { ForgeEvent } from '../../forges/events.js';
import { previewDedupe, type BuildRequest, type ScopeCancel } from '../../admission/index.js';
import { changeRequestLabel, forgeTerms } from '../../forges/terms.js';

/** What an accepted event asks for: builds to create, and scopes whose running builds to cancel. */
export interface BuildPlan {
  builds: BuildRequest[];
  /** `(app, target, scope)` groups to cancel without a newer build (a closed pull request). */
  cancel: ScopeCancel[];
  /** Why nothing (or not everything) was built: one line per app that was skipped. */
  reasons: string[];
  /**
   * A comment command or the approval label: handed to the feedback queue, which checks the
   * sender's permission with the forge before anything is built or canceled.
   */
  command: boolean;
  /** A pull/merge request closed that an app previews: its preview environment is retired. */
  closed: boolean;
}

/** Tag globs support `*` only, as branch protection rules and Knative tags are usually written. */
function globMatch(glob: string, value: string): boolean {
  const re = new RegExp(
    `^${glob
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return re.test(value);
}

export const repoSpecOf = (event: ForgeEvent): string => `${event.forge}:${event.repo.fullName}`;

/**
 * Turns a normalized forge event into builds, per the apps' config: branch → target, tag glob →
 * target, pull/merge requests → the previews target. Pure: the webhook route stores what it returns.
 */
export function planBuilds(event: ForgeEvent, apps: readonly AppConfig[]): BuildPlan {
  const plan: BuildPlan = { builds: [], cancel: [], reasons: [], command: false, closed: false };
  const matching = appsOfRepo(apps, event.forge, event.repo.fullName);
  if (event.kind === 'ping') {
    plan.reasons.push(`ping: the hook works (${matching.length} app${matching.length === 1 ? '' : 's'} configured for ${repoSpecOf(event)})`);
    return plan;
  }
  if (matching.length === 0) {
    plan.reasons.push(`no app is configured for ${repoSpecOf(event)}: add one under apps with repo: "${repoSpecOf(event)}"`);
    return plan;
  }
  const common = { forge: event.forge, deliveryId: event.deliveryId, repo: event.repo.fullName, sender: event.sender };

  for (const app of matching) {
    const cloneUrl = app.cloneUrl ?? event.repo.cloneUrl;
    switch (event.kind) {
      case 'push': {
        const target = app.branches[event.branch];
        if (!target) {
          plan.reasons.push(
            `push to branch "${event.branch}": app ${app.name} builds ${
              Object.keys(app.branches)
                .map((b) => `"${b}"`)
                .join(', ') || 'no branches'
            }`,
          );
          continue;
        }
        plan.builds.push({
          ...common,
          app: app.name,
          target,
          commit: event.commit,
          ref: event.ref,
          scope: { kind: 'branch', branch: event.branch },
          trigger: 'push',
          cloneUrl,
        });
        break;
      }
      case 'tag': {
        const glob = Object.keys(app.tags).find((g) => globMatch(g, event.tag));
        if (!glob) {
          plan.reasons.push(`tag "${event.tag}": app ${app.name} builds no tag matching it`);
          continue;
        }
        const target = app.tags[glob] as string;
        plan.builds.push({
          ...common,
          app: app.name,
          target,
          commit: event.commit,
          ref: event.ref,
          scope: { kind: 'tag', tag: event.tag },
          trigger: 'tag',
          cloneUrl,
        });
        break;
      }
      case 'change_request': {
        const label = changeRequestLabel(event.forge, event.number);
        if (!app.previews) {
          plan.reasons.push(`${label}: app ${app.name} has no previews configured`);
          continue;
        }
        const scope = { kind: 'change-request', number: event.number } as const;
        if (event.action === 'closed') {
          plan.closed = true;
          plan.cancel.push({ app: app.name, target: app.previews.target, scope, reason: `${label} was closed` });
          plan.reasons.push(`${label} ${event.merged ? 'merged' : 'closed'}: running preview builds of app ${app.name} canceled`);
          continue;
        }
        plan.builds.push({
          ...common,
          app: app.name,
          target: app.previews.target,
          commit: event.headSha,
          ref: event.headRef,
          scope,
          trigger: 'change_request',
          cloneUrl: app.cloneUrl ?? event.headCloneUrl,
          fork: event.fork,
          prNumber: event.number,
          dedupeExtra: previewDedupe(event.number),
        });
        break;
      }
      case 'comment':
      case 'label': {
        const label = changeRequestLabel(event.forge, event.number);
        const what = event.kind === 'label' ? `label ${event.label}` : `/${event.command}`;
        if (!app.previews) {
          plan.reasons.push(`${what} on ${label}: app ${app.name} has no previews configured`);
          continue;
        }
        plan.command = true;
        break;
      }
    }
  }
  if (plan.command && (event.kind === 'comment' || event.kind === 'label')) {
    const what = event.kind === 'label' ? `label ${event.label}` : `/${event.command}`;
    plan.reasons.push(`${what} from ${event.sender}: runs once ${forgeTerms(event.forge).displayName} confirms their write access`);
  }
  return plan;
}
