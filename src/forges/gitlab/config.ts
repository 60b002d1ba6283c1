import { z } from 'zod';
import { gitBaseUrl } from '../section.js';

/** The `gitlab` section of the configuration (src/config/schema.ts takes it from the registry). */
export const gitlabConfig = z
  .strictObject({
    webhookToken: z.string().min(1).optional().describe('Expected X-Gitlab-Token. Without it GitLab webhooks are refused (401).'),
    token: z.string().min(1).optional().describe('Token for commit statuses, notes and environments.'),
    apiUrl: z.url().default('https://gitlab.com/api/v4').describe('GitLab REST API v4 base URL.'),
    gitUrl: gitBaseUrl('https://gitlab.com', 'GitLab'),
  })
  .prefault({})
  .describe('GitLab.');

export type GitlabConfig = z.output<typeof gitlabConfig>;
