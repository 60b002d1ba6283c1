import type { Forge, ForgeFactory, ForgeFeedback, ForgeProvider } from '../types.js';
import { githubHasWriteAccess } from './acl.js';
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

/** The registry's entry for GitHub (src/forges/registry.ts). */
export const githubProvider: ForgeProvider = { terms: githubTerms, create: createGithubForge };
