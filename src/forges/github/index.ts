import type { Forge, ForgeFactory, ForgeFeedback, ForgeProvider } from '../types.js';
import { githubHasWriteAccess } from './acl.js';
import { githubConfig, type GithubConfig } from './config.js';
import { createGithubClient } from './client.js';
import { upsertGithubComment } from './comment.js';
import { publishGithubDeployment, retireGithubEnvironment } from './deployment.js';
import { detectGithub } from './detect.js';
import { githubPullRequestOpen } from './pull-state.js';
import { githubSource } from './source.js';
import { publishGithubStatus } from './status.js';
import { githubTerms } from './terms.js';
import { verifyGithubHeaders, verifyGithubSignature } from './verify.js';

/** GitHub: `options.secret` is `github.webhookSecret`; `options.api` (token or App) enables feedback. */
export const createGithubForge: ForgeFactory = (options): Forge => {
  const client = options.api === undefined ? undefined : createGithubClient(options.api, options.logger);
  const statusOptions = { checks: options.api?.checks ?? true, noChecks: new Set<string>() };
  const feedback: ForgeFeedback | undefined =
    client === undefined
      ? undefined
      : {
          publishStatus: (report, handle) => publishGithubStatus(client, statusOptions, report, handle),
          upsertComment: (comment, handle) => upsertGithubComment(client, comment, handle),
          publishDeployment: (report, handle) => publishGithubDeployment(client, report, handle),
          retireEnvironment: (repo, environment, handles) => retireGithubEnvironment(client, repo, environment, handles),
          hasWriteAccess: (repo, user) => githubHasWriteAccess(client, repo, user.login),
          changeRequestOpen: (repo, number) => githubPullRequestOpen(client, repo, number),
        };
  return {
    id: 'github',
    terms: githubTerms,
    verify: (req) => verifyGithubSignature(req, options.secret),
    verifyHeaders: (headers) => verifyGithubHeaders(headers, options.secret),
    detect: (req) => detectGithub(req, options.gitUrl),
    feedback,
    source: client === undefined ? undefined : githubSource(client),
  };
};

/** The registry's entry for GitHub (src/forges/registry.ts); `satisfies` keeps its section's exact type for the config schema. */
export const githubProvider = {
  terms: githubTerms,
  config: githubConfig,
  repoExample: 'owner/name',
  secretKeys: ['webhookSecret', 'token', 'app.privateKey'],
  options: (section, common) => ({
    secret: section.webhookSecret,
    api: { url: section.apiUrl, token: section.token, app: section.app, checks: section.checks, timeoutMs: common.timeoutMs },
    logger: common.logger,
    gitUrl: section.gitUrl,
  }),
  create: createGithubForge,
} satisfies ForgeProvider<GithubConfig>;
