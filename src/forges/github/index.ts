import type { Forge, ForgeFactory } from '../types.js';
import { detectGithub } from './detect.js';
import { verifyGithubSignature } from './verify.js';

/** GitHub webhooks: `options.secret` is `github.webhookSecret`. */
export const createGithubForge: ForgeFactory = (options): Forge => ({
  id: 'github',
  verify: (req) => verifyGithubSignature(req, options.secret),
  detect: (req) => detectGithub(req),
});
