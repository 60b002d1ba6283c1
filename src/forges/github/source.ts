import { SlipwayError } from '../../core/errors.js';
import type { ForgeSource, SourceToken } from '../types.js';
import type { GithubClient } from './client.js';

/** GitHub's answers that mean "not with this credential": not installed there, not granted, gone. */
const REFUSED = new Set([401, 403, 404, 422]);

/**
 * Fetch credentials for GitHub ("Authenticating with GitHub App installations" and "git clone using an
 * installation token", docs.github.com): with an App, an installation token limited to the one
 * repository and `contents: read`, from the same per-installation cache feedback uses; otherwise
 * `github.token`. Git sends either as HTTP Basic `x-access-token:<token>`.
 */
export function githubSource(client: GithubClient): ForgeSource {
  return {
    async token(repo): Promise<SourceToken> {
      const { owner, repo: name } = client.split(repo);
      if (client.app !== undefined) {
        const credential = `GitHub App ${client.app.id}`;
        const grant = `install the GitHub App ${client.app.id} on ${repo} and give it the repository permission "Contents: Read-only"`;
        try {
          const { token, installationId } = await client.app.tokens.contentsToken(owner, name, client);
          return { username: 'x-access-token', token, credential: `${credential} installation ${installationId}`, grant };
        } catch (err) {
          // A rate limit (403 or 429 with its headers) is a wait, not a refusal.
          const status = err instanceof SlipwayError && err.code !== 'SLW_FORGE_RATE_LIMITED' ? err.details?.['status'] : undefined;
          if (typeof status !== 'number' || !REFUSED.has(status)) throw err;
          throw new SlipwayError('SLW_SOURCE_ACCESS', `GitHub refused ${credential} a token to read ${repo} (HTTP ${status}); ${grant}`, {
            details: { repo, credential, status },
          });
        }
      }
      return {
        username: 'x-access-token',
        token: client.token ?? '',
        credential: 'github.token',
        grant: `give github.token read access to ${repo} (a fine-grained token with "Contents: Read-only" on it, or a classic token with the repo scope)`,
      };
    },
  };
}
