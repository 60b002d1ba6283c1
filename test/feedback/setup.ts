import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { createBuild, createRevision, getBuild, transitionBuild, type Build } from '../../src/store/index.js';
import { TestRepo } from '../helpers/git.js';
import { GITLAB_TOKEN, startTestRuntime, waitFor, WEBHOOK_SECRET, type TestRuntime } from '../helpers/runtime.js';
import { githubExamples, gitlabRequest, signedGithub } from '../helpers/webhooks.js';

/** Helpers the feedback suites share: a runtime wired to a fake forge, webhooks, direct state moves. */

export const GITHUB_TOKEN = 'ghp_fake000000000000000000000000000000000';
export const GITLAB_API_TOKEN = 'glpat-fake00000000000000';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- payloads are edited freely here

export interface FeedbackEnv {
  rt: TestRuntime;
  repo: TestRepo;
  cleanup(): Promise<void>;
}

/** A policy directory whose source gate rejects fork pull requests (and warns on every build). */
export function rejectForksPolicies(): string {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-policies-'));
  writeFileSync(
    join(dir, 'forks.yaml'),
    `apiVersion: slipway.dev/v1
kind: ImagePolicy
metadata: { name: no-fork-builds }
spec:
  gate: source
  mode: enforce
  rules:
    - expression: "!event.fork"
      message: "pull requests from forks do not build on this installation"
---
apiVersion: slipway.dev/v1
kind: ImagePolicy
metadata: { name: commit-pinned }
spec:
  gate: source
  mode: audit
  rules:
    - expression: "event.branch == 'main'"
      message: "builds of branches other than main are only previews"
`,
  );
  return dir;
}

export async function startFeedbackEnv(config: Record<string, unknown>, app: Record<string, unknown> = {}): Promise<FeedbackEnv> {
  const repo = new TestRepo();
  const rt = await startTestRuntime({
    config: {
      feedback: { backoff: '100ms', attempts: 5, timeout: '5s' },
      apps: [{ name: 'hello', repo: 'github:octo/hello', cloneUrl: repo.bare, branches: { main: 'local' }, previews: { target: 'local' }, ...app }],
      ...config,
    },
  });
  return {
    rt,
    repo,
    async cleanup() {
      await rt.stop();
      repo.cleanup();
    },
  };
}

export async function postGithub(rt: TestRuntime, event: string, payload: unknown): Promise<Json> {
  const req = signedGithub(event, payload, WEBHOOK_SECRET);
  const res = await rt.server!.inject({ method: 'POST', url: '/webhooks/github', headers: req.headers, payload: req.body });
  expect(res.statusCode).toBe(202);
  return res.json() as Json;
}

export async function postGitlab(rt: TestRuntime, event: string, payload: unknown): Promise<Json> {
  const req = gitlabRequest(event, payload, GITLAB_TOKEN);
  const res = await rt.server!.inject({ method: 'POST', url: '/webhooks/gitlab', headers: req.headers, payload: req.body });
  expect(res.statusCode).toBe(202);
  return res.json() as Json;
}

/** A GitHub `pull_request` example re-pointed at octo/hello, PR `number`, head `sha`. */
export function githubPr(action: string, number: number, sha: string, opts: { fork?: boolean; sender?: string; label?: string } = {}): Json {
  const example = githubExamples('pull_request').find((e) => (e as Json).action === action) as Json;
  const pr = example.pull_request;
  example.number = number;
  pr.number = number;
  pr.head.sha = sha;
  pr.head.ref = `feature-${number}`;
  pr.merged = false;
  example.repository.full_name = 'octo/hello';
  example.repository.clone_url = 'https://github.com/octo/hello.git';
  pr.base.repo = { ...example.repository };
  pr.head.repo = opts.fork
    ? { ...example.repository, id: example.repository.id + 1, full_name: 'someone/hello', clone_url: 'https://github.com/someone/hello.git' }
    : { ...example.repository };
  if (opts.sender) example.sender.login = opts.sender;
  if (opts.label) example.label = { ...(example.label ?? {}), name: opts.label };
  return example;
}

/** A GitHub `issue_comment` (created) on pull request `number`, by `login`. */
export function githubComment(number: number, body: string, login: string): Json {
  const example = githubExamples('issue_comment').find((e) => (e as Json).action === 'created') as Json;
  example.issue.number = number;
  example.issue.pull_request = { url: `https://api.github.com/repos/octo/hello/pulls/${number}`, html_url: `https://github.com/octo/hello/pull/${number}` };
  example.comment.body = body;
  example.sender.login = login;
  example.repository.full_name = 'octo/hello';
  return example;
}

export const buildIdsOf = (answer: Json): string[] => (answer.builds as { id: string }[]).map((b) => b.id);

export async function settled(rt: TestRuntime, id: string, states: string[] = ['failed', 'rejected', 'canceled', 'built', 'ready']): Promise<Build> {
  return waitFor(
    async () => {
      const b = await getBuild(rt.store.db, id);
      return b && states.includes(b.state) ? b : undefined;
    },
    `build ${id} to reach ${states.join('/')}`,
    60_000,
  );
}

/**
 * Serving is built concurrently: promotion is driven here the way its stage will drive it —
 * state `promoting`, a revision row for the build, state `ready` — with the runtime's real feedback
 * queue and worker reporting each step.
 */
export async function promoteDirectly(
  rt: TestRuntime,
  b: { forge: 'github' | 'gitlab'; repo: string; pr: number; commit: string; ref: string },
): Promise<{ build: Build; advance(): Promise<string> }> {
  const { build } = await createBuild(rt.store.db, {
    app: 'hello',
    target: 'local',
    commit: b.commit,
    ref: b.ref,
    scope: `pr:${b.pr}`,
    trigger: 'change_request',
    cloneUrl: '/nonexistent',
    forge: b.forge,
    repo: b.repo,
    prNumber: b.pr,
    dedupeExtra: `pr-${b.pr}:direct`,
  });
  await transitionBuild(rt.store.db, build.id, ['queued'], 'promoting', { stage: 'promote', digest: `sha256:${'ab'.repeat(32)}` });
  await rt.feedback.addForBuilds([(await getBuild(rt.store.db, build.id))!]);
  return {
    build,
    async advance() {
      const revision = await createRevision(rt.store.db, {
        app: 'hello',
        target: 'local',
        digest: `sha256:${'ab'.repeat(32)}`,
        buildId: build.id,
        commit: b.commit,
      });
      await transitionBuild(rt.store.db, build.id, ['promoting'], 'ready', { finishedAt: new Date().toISOString() });
      await rt.feedback.addForBuilds([(await getBuild(rt.store.db, build.id))!]);
      return revision.name;
    },
  };
}
