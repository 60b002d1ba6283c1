import { isTerminalState, type BuildState } from '../core/types.js';
import { changeRequestLabel, changeRequestName } from '../forges/terms.js';
import type { FeedbackAnnotation, FeedbackState, StatusReport } from '../forges/types.js';
import type { Build } from '../store/index.js';
import { dockerfilePath, type BuildSnapshot } from './snapshot.js';

/**
 * What Slipway tells forges about builds, in words and Markdown. Forge-neutral: the forge
 * modules only map it onto their APIs. Everything shown is what the store holds — a stage that did
 * not run is not shown as run, a URL that does not exist yet is not shown.
 */

export function feedbackState(state: BuildState): FeedbackState {
  switch (state) {
    case 'queued':
      return 'queued';
    case 'failed':
      return 'failure';
    case 'rejected':
      return 'rejected';
    case 'canceled':
      return 'canceled';
    default:
      return isTerminalState(state) ? 'success' : 'running';
  }
}

const ICON: Record<FeedbackState, string> = { queued: '⏳', running: '🔄', success: '✅', failure: '❌', rejected: '⛔', canceled: '⏹️' };
const OUTCOME_ICON: Record<string, string> = { allow: '✅ allow', deny: '❌ deny', warn: '⚠️ warn' };

export const checkName = (target: string): string => `slipway/${target}`;

const short = (sha: string): string => sha.slice(0, 12);
const shortDigest = (digest: string): string => `${digest.slice(0, 19)}…`;
const seconds = (ms: number | null): string => (ms === null ? '—' : `${(ms / 1000).toFixed(1)}s`);
/** Markdown table cells: pipes would split the cell, newlines the row. */
const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

/** One line: what state the build is in and, when it ended badly, why. */
export function describe(s: BuildSnapshot): string {
  const b = s.build;
  const state = b.state as BuildState;
  switch (feedbackState(state)) {
    case 'queued':
      return 'Queued';
    case 'running':
      return `Running: ${b.stage ?? state}`;
    case 'success':
      return s.revision ? `Ready: ${s.revision.name}${s.url ? ` at ${s.url}` : ''}` : `${capitalize(state)}${b.digest ? ` ${shortDigest(b.digest)}` : ''}`;
    case 'rejected': {
      const denied = s.decisions.filter((d) => d.outcome === 'deny');
      const gates = [...new Set(denied.map((d) => d.gate))].join(', ');
      return `Rejected by policy${gates ? ` at the ${gates} gate` : ''}: ${denied.length} rule${denied.length === 1 ? '' : 's'} failed`;
    }
    case 'canceled':
      return `Canceled${b.errorMessage && b.errorMessage !== 'canceled' ? `: ${b.errorMessage}` : ''}`;
    case 'failure':
      return `Failed${b.errorCode ? ` [${b.errorCode}]` : ''}${b.errorMessage ? `: ${b.errorMessage}` : ''}`;
  }
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** A signing stage that completed; the pipeline has none until signing is wired in. */
function signature(s: BuildSnapshot): string {
  const stage = s.stages.find((st) => /^sign/.test(st.stage));
  if (stage?.state === 'done') return '✔ signed';
  if (stage !== undefined) return `not signed (${stage.state})`;
  return 'not signed';
}

function policySummary(s: BuildSnapshot): string {
  if (s.decisions.length === 0) return 'no rules ran';
  const count = (o: string) => s.decisions.filter((d) => d.outcome === o).length;
  const warn = count('warn');
  return `${count('allow')} passed, ${count('deny')} failed${warn ? `, ${warn} warning${warn === 1 ? '' : 's'}` : ''}`;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * "2 blocked executions in pr-7-hello since 14:02 UTC": what the enforcer reported at run time for the
 * build's revision. The lines come from the app's own stderr, so the wording says "reported".
 */
export function runtimeLine(s: BuildSnapshot): string | undefined {
  const r = s.runtime;
  if (r === undefined || (r.denied === 0 && r.audited === 0)) return undefined;
  const parts = [
    r.denied ? plural(r.denied, 'blocked execution') : '',
    r.audited ? `${plural(r.audited, 'execution')} outside the image (audit mode)` : '',
  ].filter(Boolean);
  return `${parts.join(' and ')} reported in \`${r.revision}\` since ${r.since.slice(11, 16)} UTC (\`slipway events ${s.build.app} --revision ${r.revision}\`)`;
}

/** The check run summary (GitHub) — the build page holds the full log. */
export function summaryMarkdown(s: BuildSnapshot): string {
  const b = s.build;
  const lines: string[] = [];
  lines.push(`${ICON[feedbackState(b.state as BuildState)]} **${cell(describe(s))}**`, '');
  lines.push(
    `Build [\`${b.id}\`](${s.buildUrl}) of app \`${b.app}\` for target \`${b.target}\`, commit \`${short(b.commit)}\`${b.prNumber === null ? '' : ` (${changeRequestLabel(b.forge, b.prNumber)})`}.`,
    '',
  );
  if (s.stages.length > 0) {
    lines.push('#### Stages', '', '| stage | state | duration |', '|---|---|---|');
    for (const st of s.stages) lines.push(`| ${cell(st.stage)} | ${st.state} | ${seconds(st.durationMs)} |`);
    lines.push('');
  }
  if (s.steps.length > 0) {
    lines.push('#### Image build steps', '', '| # | step | cached | duration |', '|---|---|---|---|');
    for (const st of s.steps)
      lines.push(`| ${st.index} | ${cell(st.name)}${st.error ? ` ❌ ${cell(st.error)}` : ''} | ${st.cached ? 'yes' : ''} | ${seconds(st.durationMs)} |`);
    lines.push('');
  }
  lines.push('#### Image', '');
  lines.push(`- Digest: ${b.digest ? `\`${b.digest}\`` : 'none yet'}`);
  lines.push(`- Signature: ${signature(s)}`);
  if (s.revision) lines.push(`- Revision: \`${s.revision.name}\`${s.url ? ` serving at ${s.url}` : ''}`);
  const runtime = runtimeLine(s);
  if (runtime) lines.push(`- Runtime: ⚠️ ${runtime}`);
  lines.push('');
  lines.push('#### Policy decisions', '');
  if (s.decisions.length === 0) lines.push('No policy rules ran.');
  else {
    lines.push('| gate | policy | rule | mode | outcome | message |', '|---|---|---|---|---|---|');
    for (const d of s.decisions) {
      lines.push(
        `| ${d.gate} | ${cell(d.policy)} | ${d.ruleIndex ?? ''} | ${d.mode} | ${OUTCOME_ICON[d.outcome] ?? d.outcome} | ${d.outcome === 'allow' ? '' : cell(d.message)} |`,
      );
    }
  }
  if (b.errorMessage && (b.state === 'failed' || b.state === 'rejected')) {
    lines.push('', '#### Error', '', '```', `${b.errorCode ?? ''} ${b.errorMessage}`.trim(), '```');
  }
  lines.push('', `[Build log](${s.buildUrl})`);
  return lines.join('\n');
}

/** One annotation per failed policy rule (audit-mode failures as warnings). */
export function annotations(s: BuildSnapshot): FeedbackAnnotation[] {
  const path = dockerfilePath(s.app);
  return s.decisions
    .filter((d) => d.outcome === 'deny' || d.outcome === 'warn')
    .map((d) => ({
      path,
      level: d.outcome === 'deny' ? ('failure' as const) : ('warning' as const),
      title: `${d.policy} rule ${d.ruleIndex ?? ''} (${d.gate} gate, ${d.mode})`.replace(' rule  (', ' ('),
      message: d.message,
    }));
}

export function statusReport(s: BuildSnapshot): StatusReport {
  const b = s.build;
  const state = feedbackState(b.state as BuildState);
  const description = describe(s);
  return {
    repo: b.repo ?? '',
    sha: b.commit,
    ref: refName(b),
    name: checkName(b.target),
    state,
    detailsUrl: s.buildUrl,
    externalId: b.id,
    description,
    title: description.length > 200 ? `${description.slice(0, 199)}…` : description,
    summary: summaryMarkdown(s),
    annotations: annotations(s),
    startedAt: b.startedAt ?? undefined,
    completedAt: b.finishedAt ?? undefined,
  };
}

/** Branch or tag name (GitLab wants it with statuses and deployments); PR builds store the head branch. */
export function refName(b: Pick<Build, 'ref'>): string {
  return b.ref.replace(/^refs\/(heads|tags)\//, '');
}

/** Hidden in rendered Markdown on both forges; how the comment is found again. */
export const COMMENT_MARKER = '<!-- slipway:pull-request-comment -->';

export interface CommentContext {
  number: number;
  forge: string;
  /** Newest build per (app, target), with their snapshots. */
  builds: BuildSnapshot[];
  fork: boolean;
}

/** The pull request comment: one row per app and target, newest build each. */
export function commentMarkdown(c: CommentContext): string {
  const what = changeRequestName(c.forge);
  const lines = [COMMENT_MARKER, '### Slipway', ''];
  lines.push('| app | target | build | state | revision | preview | digest | signature | policy |', '|---|---|---|---|---|---|---|---|---|');
  for (const s of c.builds) {
    const b = s.build;
    const state = feedbackState(b.state as BuildState);
    lines.push(
      [
        '',
        b.app,
        b.target,
        `[\`${b.id}\`](${s.buildUrl}) \`${short(b.commit)}\``,
        `${ICON[state]} ${b.state}`,
        s.revision ? `\`${s.revision.name}\`` : '—',
        s.url ? `[${s.url.replace(/^https?:\/\//, '')}](${s.url})` : '—',
        b.digest ? `\`${shortDigest(b.digest)}\`` : '—',
        signature(s),
        policySummary(s),
        '',
      ]
        .join(' | ')
        .trim(),
    );
  }
  const failing = c.builds.filter((s) => s.build.state === 'rejected' || s.build.state === 'failed');
  for (const s of failing) lines.push('', `**${s.build.app} → ${s.build.target}**: ${cell(describe(s))}`);
  for (const s of c.builds) {
    const runtime = runtimeLine(s);
    if (runtime) lines.push('', `⚠️ **${s.build.app} → ${s.build.target}**: ${runtime}`);
  }
  if (c.fork) {
    const approved = c.builds.map((s) => s.approval).find((a) => a !== undefined);
    lines.push(
      '',
      approved
        ? `This ${what} comes from a fork; its preview was approved by @${approved.approvedBy}.`
        : `This ${what} comes from a fork: it builds without secrets and gets no preview until someone with write access comments \`/ok-to-test\` or adds the label \`slipway/ok-to-preview\`.`,
    );
  }
  lines.push('', `<sub>Comment \`/retest\` to rebuild the head commit, \`/cancel\` to stop running builds (write access needed).</sub>`);
  return lines.join('\n');
}
