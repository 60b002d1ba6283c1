import type { ForgeTerms } from '../terms-type.js';

/** GitLab's words: merge requests (`!12`), previews tagged `mr-12`, events named by `X-Gitlab-Event`. */
export const gitlabTerms: ForgeTerms = {
  displayName: 'GitLab',
  eventHeader: 'x-gitlab-event',
  changeRequestName: 'merge request',
  changeRequestSymbol: '!',
  previewTagPrefix: 'mr',
  // GitLab takes any user with a token; oauth2 is what its docs use.
  tokenUser: 'oauth2',
  sourceCredentials: 'gitlab.token',
  // GitLab stops an environment by name: no deployment handles are needed.
  retiresByHandle: false,
};
