import type { ForgeTerms } from '../terms-type.js';

/** GitHub's words: pull requests (`#12`), previews tagged `pr-12`, events named by `X-GitHub-Event`. */
export const githubTerms: ForgeTerms = {
  displayName: 'GitHub',
  eventHeader: 'x-github-event',
  changeRequestName: 'pull request',
  changeRequestSymbol: '#',
  previewTagPrefix: 'pr',
  // GitHub reads the token as the password whatever the user.
  tokenUser: 'x-access-token',
  sourceCredentials: 'github.app or github.token',
  // Deployments are marked inactive one by one: without a deployment Slipway made, there is nothing to retire.
  retiresByHandle: true,
};
