import type { Forge, ForgeFactory } from '../types.js';
import { detectGitlab } from './detect.js';
import { verifyGitlabToken } from './verify.js';

/** GitLab webhooks: `options.secret` is `gitlab.webhookToken`. */
export const createGitlabForge: ForgeFactory = (options): Forge => ({
  id: 'gitlab',
  verify: (req) => verifyGitlabToken(req, options.secret),
  detect: (req) => detectGitlab(req),
});
