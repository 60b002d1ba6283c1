import { createAppAuth } from '@octokit/auth-app';
import type { Octokit } from '@octokit/rest';
import type { GithubClient } from './client.js';

/**
 * GitHub App authentication ("Authenticating as a GitHub App installation", docs.github.com): a JWT
 * signed with the App's key (made by `@octokit/auth-app`) finds the repository's installation
 * (`GET /repos/{owner}/{repo}/installation`) and exchanges it for an installation token
 * (`POST /app/installations/{id}/access_tokens`), valid for an hour.
 *
 * Tokens are cached per installation (and scope) here rather than in auth-app's LRU, which keeps every
 * token for a fixed 59 minutes whatever `expires_at` said: this cache trusts `expires_at` and refreshes
 * `REFRESH_MARGIN_MS` before it, so a slow request never starts with a token about to lapse.
 */
export interface AppTokens {
  /** A token for everything the installation was granted (feedback: checks, statuses, comments). */
  installationToken(owner: string, repo: string, client: GithubClient): Promise<string>;
  /**
   * A token that can only read the contents of `owner/repo` (the access-token request's `repositories`
   * and `permissions`): what fetching source needs, and no more, since git holds it in its environment.
   */
  contentsToken(owner: string, repo: string, client: GithubClient): Promise<{ token: string; installationId: number }>;
}

const REFRESH_MARGIN_MS = 5 * 60 * 1000;

interface Scope {
  repositoryNames: string[];
  permissions: Record<string, 'read' | 'write'>;
}

export function createAppTokens(octokit: Octokit, app: { id: string | number; privateKey: string }, now: () => number = Date.now): AppTokens {
  const auth = createAppAuth({ appId: app.id, privateKey: app.privateKey, request: octokit.request });
  const installations = new Map<string, number>();
  const tokens = new Map<string, { token: string; expiresAt: number }>();
  // Concurrent callers for one installation and scope share one exchange instead of minting a token each.
  const pending = new Map<string, Promise<string>>();

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

  function token(id: number, scope: Scope | undefined, action: string, client: GithubClient): Promise<string> {
    const key = scope === undefined ? `${id}` : `${id} ${scope.repositoryNames.join(',')} ${JSON.stringify(scope.permissions)}`;
    const cached = tokens.get(key);
    if (cached !== undefined && cached.expiresAt - REFRESH_MARGIN_MS > now()) return Promise.resolve(cached.token);
    const inflight = pending.get(key);
    if (inflight !== undefined) return inflight;
    const minted = (async () => {
      try {
        // refresh: auth-app's own cache would hand back a token by its fixed 59-minute rule.
        const result = await auth({ type: 'installation', installationId: id, refresh: true, ...(scope ?? {}) });
        tokens.set(key, { token: result.token, expiresAt: Date.parse(result.expiresAt) });
        return result.token;
      } catch (err) {
        throw client.fail(err, action);
      } finally {
        pending.delete(key);
      }
    })();
    pending.set(key, minted);
    return minted;
  }

  return {
    async installationToken(owner, repo, client) {
      const id = await installationId(owner, repo, client);
      return token(id, undefined, `getting an installation token for ${owner}/${repo}`, client);
    },
    async contentsToken(owner, repo, client) {
      const id = await installationId(owner, repo, client);
      const scope: Scope = { repositoryNames: [repo], permissions: { contents: 'read' } };
      return { token: await token(id, scope, `getting a contents: read installation token for ${owner}/${repo}`, client), installationId: id };
    },
  };
}
