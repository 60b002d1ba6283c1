import type { PolicyInput } from '../../src/policy/index.js';

/** The policy input of app `hello` pushed to main (or a fork's pull request #7) for `target`: what the gates see before image facts. */
export const pushInput = (target = 'local', fork = false): PolicyInput => ({
  app: { name: 'hello' },
  event: {
    forge: 'github',
    repo: 'octo/hello',
    ref: 'refs/heads/main',
    branch: 'main',
    tag: '',
    commit: 'a'.repeat(40),
    author: 'octocat',
    fork,
    pullRequest: fork ? 7 : 0,
    trigger: fork ? 'change_request' : 'push',
  },
  target: { name: target, kind: 'local' },
});
