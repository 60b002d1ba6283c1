import { createAppAuth } from '@octokit/auth-app';
import type { Octokit } from '@octokit/rest';
import type { GithubClient } from './client.js';

/**
 * GitHub App authentication ("Authenticating as a GitHub App installation", docs.github.com): a JWT
 * signed with the App's key (made by `@octokit/auth-app`) finds the repository's installation
 * (`GET /repos/{owner}/{repo}/installation`) and exchanges it for an installation token
 * (`POST /app/installations/{id}/access_tokens`), valid for an hour.
 *
 * Tokens are cached per installation here rather than in auth-app's LRU, which keeps every token for a
 * fixed 59 minutes whatever `expires_at` said: this cache trusts `expires_at` and refreshes
 * `REFRESH_MARGIN_MS` before it, so a slow request never starts with a token about to lapse.
 */
export interface AppTokens {
  installationToken(owner: string, repo: string, client: GithubClient): Promise<string>;
}

const REFRESH_MARGIN_MS = 5 * 60 * 1000;

export function createAppTokens(octokit: Octokit, app: { id: string | number; privateKey: string }, now: () => number = Date.now): AppTokens {
  const auth = createAppAuth({ appId: app.id, privateKey: app.privateKey, request: octokit.request });
  const installations = new Map<string, number>();
  const tokens = new Map<number, { token: string; expiresAt: number }>();
  // Concurrent callers for one installation share one exchange instead of minting a token each.
  const pending = new Map<number, Promise<string>>();

  async function installationId(owner: string, repo: string, client: GithubClient): Promise<number> {
    const key = `${owner}/${repo}`.toLowerCase();
    const known = installations.get(key);
    if (known !== undefined) return known;
    const { token: jwt } = await auth({ type: 'app' });
    try {
      const { data } = await octokit.rest.apps.getRepoInstallation({ owner, repo, headers: { authorization: `bearer ${jwt}` }, request: client.request() });
      installations.set(key, data.id);
      return data.id;
    } catch (err) {
      throw client.fail(err, `finding the GitHub App installation of ${owner}/${repo} (is the App installed on it?)`);
    }
  }

  return {
    async installationToken(owner, repo, client) {
      const id = await installationId(owner, repo, client);
      const cached = tokens.get(id);
      if (cached !== undefined && cached.expiresAt - REFRESH_MARGIN_MS > now()) return cached.token;
      const inflight = pending.get(id);
      if (inflight !== undefined) return inflight;
      const minted = (async () => {
        try {
          // refresh: auth-app's own cache would hand back a token by its fixed 59-minute rule.
          const result = await auth({ type: 'installation', installationId: id, refresh: true });
          tokens.set(id, { token: result.token, expiresAt: Date.parse(result.expiresAt) });
          return result.token;
        } catch (err) {
          throw client.fail(err, `getting an installation token for ${owner}/${repo}`);
        } finally {
          pending.delete(id);
        }
      })();
      pending.set(id, minted);
      return minted;
    },
  };
}
