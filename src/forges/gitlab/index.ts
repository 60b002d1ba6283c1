import type { Forge, ForgeFactory, ForgeFeedback, ForgeProvider } from '../types.js';
import { gitlabHasWriteAccess } from './acl.js';
import { gitlabConfig, type GitlabConfig } from './config.js';
import { createGitlabClient } from './client.js';
import { upsertGitlabNote } from './comment.js';
import { publishGitlabDeployment, stopGitlabEnvironment } from './deployment.js';
import { detectGitlab } from './detect.js';
import { gitlabMergeRequestOpen } from './merge-request-state.js';
import { publishGitlabStatus } from './status.js';
import { gitlabTerms } from './terms.js';
import { verifyGitlabToken } from './verify.js';

/** GitLab: `options.secret` is `gitlab.webhookToken`; `options.api` with a token enables feedback. */
export const createGitlabForge: ForgeFactory = (options): Forge => {
  const client = options.api === undefined ? undefined : createGitlabClient(options.api);
  const feedback: ForgeFeedback | undefined =
    client === undefined
      ? undefined
      : {
          publishStatus: (report) => publishGitlabStatus(client, report),
          upsertComment: (comment, handle) => upsertGitlabNote(client, comment, handle),
          publishDeployment: (report, handle) => publishGitlabDeployment(client, report, handle),
          // GitLab stops the environment as a whole; deployment handles are not needed.
          retireEnvironment: (repo, environment) => stopGitlabEnvironment(client, repo, environment),
          hasWriteAccess: (repo, user) => gitlabHasWriteAccess(client, repo, user.id),
          changeRequestOpen: (repo, iid) => gitlabMergeRequestOpen(client, repo, iid),
        };
  return {
    id: 'gitlab',
    terms: gitlabTerms,
    verify: (req) => verifyGitlabToken(req, options.secret),
    // The token is a header: the whole check happens before the body is read.
    verifyHeaders: (headers) => verifyGitlabToken({ headers, rawBody: Buffer.alloc(0) }, options.secret),
    detect: (req) => detectGitlab(req, options.gitUrl),
    feedback,
    // GitLab takes any user name with a token over HTTPS; `oauth2` is the one its docs show.
    source:
      options.api?.token === undefined
        ? undefined
        : {
            token: (repo) =>
              Promise.resolve({
                username: 'oauth2',
                token: options.api!.token!,
                credential: 'gitlab.token',
                grant: `give gitlab.token the read_repository scope and at least the Reporter role on ${repo} (or use a project or group access token with read_repository)`,
              }),
          },
  };
};

/** The registry's entry for GitLab (src/forges/registry.ts); `satisfies` keeps its section's exact type for the config schema. */
export const gitlabProvider = {
  terms: gitlabTerms,
  config: gitlabConfig,
  repoExample: 'group/project',
  secretKeys: ['webhookToken', 'token'],
  options: (section, common) => ({
    secret: section.webhookToken,
    api: { url: section.apiUrl, token: section.token, timeoutMs: common.timeoutMs },
    logger: common.logger,
    gitUrl: section.gitUrl,
  }),
  create: createGitlabForge,
} satisfies ForgeProvider<GitlabConfig>;
