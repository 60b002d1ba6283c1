import type { AppConfig } from '../../config/index.js';
import type { BuildRequest } from '../../admission/index.js';

const ZERO = /^0+$/;

export interface PushPlan {
  builds: BuildRequest[];
  /** One line per update that builds nothing, for the pusher. */
  skipped: string[];
}

/**
 * What a push into Slipway's own repository builds, by the rules forge pushes follow
 * (ingest/plan.ts): a branch the app maps builds its commit on that branch's target, superseding the
 * branch's older builds — force-pushes included; deletions and other refs build nothing.
 * `updates` is post-receive's stdin: `<old> <new> <ref>` per line.
 */
export function planPush(app: AppConfig, updates: string, repoPath: string, pusher: string): PushPlan {
  const plan: PushPlan = { builds: [], skipped: [] };
  for (const line of updates.split('\n')) {
    const [, next, ref] = line.trim().split(/\s+/);
    if (!next || !ref) continue;
    if (!ref.startsWith('refs/heads/')) {
      plan.skipped.push(`${ref}: only branches build`);
      continue;
    }
    const branch = ref.slice('refs/heads/'.length);
    if (ZERO.test(next)) {
      plan.skipped.push(`${branch}: deleted, nothing to build`);
      continue;
    }
    const target = app.branches[branch];
    if (!target) {
      plan.skipped.push(
        `${branch}: app ${app.name} builds ${
          Object.keys(app.branches)
            .map((b) => `"${b}"`)
            .join(', ') || 'no branches'
        }`,
      );
      continue;
    }
    plan.builds.push({
      app: app.name,
      target,
      commit: next,
      ref,
      scope: { kind: 'branch', branch },
      trigger: 'git',
      cloneUrl: repoPath,
      sender: pusher || null,
    });
  }
  return plan;
}
