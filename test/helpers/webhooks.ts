import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** GitHub's own payload examples (npm `@octokit/webhooks-examples`), as the brief asks. */
interface ExampleGroup {
  name: string;
  examples: Record<string, unknown>[];
}
const require = createRequire(import.meta.url);
const EXAMPLES = JSON.parse(readFileSync(require.resolve('@octokit/webhooks-examples/api.github.com/index.json'), 'utf8')) as ExampleGroup[];

export function githubExamples(event: string): Record<string, unknown>[] {
  const group = EXAMPLES.find((g) => g.name === event);
  if (!group) throw new Error(`no @octokit/webhooks-examples group "${event}"`);
  return group.examples.map((e) => structuredClone(e));
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- payloads are edited freely here

/** A real GitHub push example (branch push), re-pointed at `repo`, `branch` and `commit`. */
export function githubPush(opts: { repo: string; branch?: string; commit: string; before?: string; deleted?: boolean }): Json {
  const example = githubExamples('push').find((e) => (e as Json).ref === 'refs/heads/master' && !(e as Json).deleted) as Json;
  const [owner, name] = opts.repo.split('/');
  example.ref = `refs/heads/${opts.branch ?? 'main'}`;
  example.before = opts.before ?? '0'.repeat(40);
  example.after = opts.deleted ? '0'.repeat(40) : opts.commit;
  example.deleted = Boolean(opts.deleted);
  if (example.head_commit) example.head_commit.id = opts.commit;
  example.repository.full_name = opts.repo;
  example.repository.name = name;
  example.repository.owner.login = owner;
  example.repository.clone_url = `https://github.com/${opts.repo}.git`;
  example.repository.html_url = `https://github.com/${opts.repo}`;
  return example;
}

/** A real GitHub pull_request example with the given action, re-pointed at `repo`. */
export function githubPullRequest(opts: { repo: string; action: string; number: number; headSha: string; fork?: boolean }): Json {
  const example = githubExamples('pull_request').find((e) => (e as Json).action === opts.action) as Json;
  example.number = opts.number;
  example.pull_request.number = opts.number;
  example.pull_request.head.sha = opts.headSha;
  example.repository.full_name = opts.repo;
  example.pull_request.base.repo.full_name = opts.repo;
  if (example.pull_request.head.repo) {
    example.pull_request.head.repo.full_name = opts.fork ? `someone/${opts.repo.split('/')[1]}` : opts.repo;
  }
  return example;
}

export interface SignedRequest {
  headers: Record<string, string>;
  body: string;
}

/** Headers as GitHub sends them, signed over the exact body bytes. */
export function signedGithub(event: string, payload: unknown, secret: string, deliveryId = randomUUID()): SignedRequest {
  const body = JSON.stringify(payload);
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'x-github-event': event,
      'x-github-delivery': deliveryId,
      'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
      'user-agent': 'GitHub-Hookshot/test',
    },
  };
}

/** Headers as GitLab sends them (a shared token, no signature). */
export function gitlabRequest(event: string, payload: unknown, token: string | undefined, uuid = randomUUID()): SignedRequest {
  return {
    body: JSON.stringify(payload),
    headers: {
      'content-type': 'application/json',
      'x-gitlab-event': event,
      'x-gitlab-event-uuid': uuid,
      ...(token === undefined ? {} : { 'x-gitlab-token': token }),
    },
  };
}
