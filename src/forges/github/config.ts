import { z } from 'zod';
import { gitBaseUrl } from '../section.js';

/** The `github` section of the configuration (src/config/schema.ts takes it from the registry). */
export const githubConfig = z
  .strictObject({
    webhookSecret: z.string().min(1).optional().describe('Secret for X-Hub-Signature-256. Without it GitHub webhooks are refused (401).'),
    token: z.string().min(1).optional().describe('Token for statuses, comments and deployments.'),
    apiUrl: z.url().default('https://api.github.com').describe('GitHub REST API base URL (GitHub Enterprise: https://HOST/api/v3).'),
    gitUrl: gitBaseUrl('https://github.com', 'GitHub'),
    app: z
      .strictObject({
        id: z.union([z.number().int(), z.string()]).describe('GitHub App id.'),
        privateKey: z.string().describe('GitHub App private key (PEM).'),
      })
      .optional()
      .describe('Authenticate as a GitHub App instead of a token.'),
    checks: z
      .boolean()
      .default(true)
      .describe(
        'Report builds as check runs (summary, annotations); false reports commit statuses only. Tokens that may not write checks fall back to commit statuses by themselves.',
      ),
  })
  .prefault({})
  .describe('GitHub.');

export type GithubConfig = z.output<typeof githubConfig>;
