import { mkdir, rm, stat } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SlipwayError } from '../../core/errors.js';
import { forgeTermsOf } from '../../forges/terms.js';
import type { FetchOutput } from '../../core/stage-outputs.js';
import type { Stage, StageContext } from '../context.js';
import { fetchSource } from '../fetch-source.js';
import { redactGitUrl, runGit } from '../git.js';
import { credentialEnv, sourceCredential } from '../source-credential.js';
import { unpackUpload, unpackedValid } from './unpack.js';

const forgeCredentials = (forge: string | null): string => forgeTermsOf(forge).sourceCredentials;

/** A local path becomes a file:// URL: git ignores --depth for plain paths but honours it for file://. */
export function fetchUrl(cloneUrl: string): string {
  return isAbsolute(cloneUrl) ? pathToFileURL(cloneUrl).href : cloneUrl;
}

// git's wording when the remote does not have the object we asked for (upload-pack, protocol v0/v2).
const MISSING_COMMIT_RE = /not our ref|couldn't find remote ref|no such remote ref|unadvertised object|does not appear to be a git repository/i;
// git's and ssh's wording when the server said no to the credential (or to having none): HTTP 401/403,
// the 404 forges answer for a private repository a credential cannot see, ssh's publickey refusal.
const REFUSED_RE =
  /Authentication failed for|could not read (Username|Password) for|The requested URL returned error: 40[134]|repository '[^']*' not found|Repository not found|Permission denied \((publickey|password|keyboard-interactive)/i;
// ssh: the server's host key is not in knownHosts (or no longer matches it).
const HOST_KEY_RE =
  /Host key verification failed|host key is known for .* you have requested strict checking|REMOTE HOST IDENTIFICATION HAS CHANGED|No \S+ host key is known for/i;

async function headCommit(dir: string, signal: AbortSignal): Promise<string | undefined> {
  try {
    await stat(`${dir}/.git`);
  } catch {
    return undefined;
  }
  const head = await runGit(['rev-parse', '--verify', '-q', 'HEAD'], { cwd: dir, signal });
  return head.code === 0 ? head.stdout.trim() : undefined;
}

/**
 * `fetch`: `git fetch --depth 1` of exactly the build's commit into the build's workspace.
 * Only that commit: the branch may have moved on since the push, and the build must be
 * of what was pushed.
 */
export const fetchStage: Stage<'fetch'> = {
  name: 'fetch',
  running: 'fetching',

  async valid(ctx: StageContext, output: FetchOutput): Promise<boolean> {
    if (ctx.build.trigger === 'upload') return unpackedValid(ctx, output);
    return (await headCommit(output.dir, ctx.signal)) === ctx.build.commit;
  },

  async run(ctx: StageContext): Promise<FetchOutput> {
    // Uploaded contexts have no repository: the stored archive is the source.
    if (ctx.build.trigger === 'upload') return unpackUpload(ctx);
    const { build, workspace, signal } = ctx;
    const dir = workspace;
    // A half-written workspace from a worker that died is worth nothing: start clean.
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const source = fetchSource(build, ctx.app, ctx.config, ctx.cwd ?? process.cwd());
    const url = fetchUrl(source.url);
    const credential = await sourceCredential({ app: ctx.app, config: ctx.config, forges: ctx.forges, env: ctx.env, cwd: ctx.cwd ?? process.cwd() }, source);
    const repoName = redactGitUrl(build.cloneUrl);
    // The token never reaches git's output, but a line is scrubbed of it all the same before it is logged.
    const scrub = (text: string) => (credential.kind === 'token' ? text.split(credential.token).join('***') : text);
    await ctx.log(`fetching ${build.commit} from ${repoName}${credential.kind === 'none' ? '' : ` with ${credential.credential}`}`);

    const init = await runGit(['init', '-q'], { cwd: dir, signal });
    if (init.code !== 0) throw new SlipwayError('SLW_FETCH_FAILED', `git init failed in ${dir}: ${init.stderr.trim()}`);

    const timeoutMs = ctx.config.builds.fetchTimeout;
    const pending: Promise<void>[] = [];
    // --end-of-options: whatever the URL and commit hold, git reads them as operands, never as options.
    const fetched = await runGit(['fetch', '--depth', '1', '--no-tags', '--progress', '--end-of-options', url, build.commit], {
      cwd: dir,
      signal,
      timeoutMs,
      allowProtocol: source.protocol,
      env: credentialEnv(credential, url),
      onLine: (line) => pending.push(ctx.log(`git: ${scrub(redactGitUrl(line))}`)),
    });
    await Promise.all(pending);
    if (signal.aborted) throw signal.reason ?? new SlipwayError('SLW_BUILD_CANCELED', 'build canceled');
    if (fetched.code !== 0) {
      const detail = scrub(redactGitUrl(fetched.stderr.trim().split('\n').slice(-3).join(' / '))) || `exit ${fetched.code ?? fetched.signal}`;
      if (fetched.signal && fetched.code === null) {
        throw new SlipwayError(
          'SLW_FETCH_FAILED',
          `git fetch did not finish within ${Math.round(timeoutMs / 1000)}s (builds.fetchTimeout); is ${redactGitUrl(build.cloneUrl)} reachable?`,
        );
      }
      if (source.protocol === 'ssh' && HOST_KEY_RE.test(fetched.stderr)) {
        const where = credential.kind === 'deploy-key' ? `apps[${ctx.app.name}].knownHosts (${credential.knownHosts})` : "the worker's known_hosts";
        throw new SlipwayError(
          'SLW_SOURCE_HOST_KEY',
          `the SSH server of ${repoName} showed a host key that is not in ${where}; nothing was fetched and nothing was added to it. If the server's key is really this one, add it there (compare it with what the forge publishes)`,
          { details: { repository: repoName } },
        );
      }
      if (source.protocol !== 'file' && REFUSED_RE.test(fetched.stderr)) {
        throw new SlipwayError(
          'SLW_SOURCE_ACCESS',
          credential.kind === 'none'
            ? `${repoName} refused an anonymous fetch (${detail}); it is private: configure ${forgeCredentials(build.forge)}, or the app's cloneToken or deployKey (docs/forges.md, private repositories)`
            : `${repoName} refused ${credential.credential} (${detail}); ${credential.grant}`,
          { details: { repository: repoName, credential: credential.kind === 'none' ? 'none' : credential.credential } },
        );
      }
      if (MISSING_COMMIT_RE.test(fetched.stderr)) {
        throw new SlipwayError(
          'SLW_FETCH_COMMIT_MISSING',
          `commit ${build.commit} cannot be fetched from ${redactGitUrl(build.cloneUrl)} (${detail}); check the app's cloneUrl points at the repository that was pushed`,
        );
      }
      throw new SlipwayError('SLW_FETCH_FAILED', `git fetch from ${redactGitUrl(build.cloneUrl)} failed: ${detail}`);
    }

    const checkout = await runGit(['checkout', '-q', '--detach', 'FETCH_HEAD'], { cwd: dir, signal });
    if (checkout.code !== 0) throw new SlipwayError('SLW_FETCH_FAILED', `git checkout failed: ${checkout.stderr.trim()}`);
    const head = await headCommit(dir, signal);
    if (head !== build.commit) {
      throw new SlipwayError(
        'SLW_FETCH_COMMIT_MISSING',
        `fetched ${head ?? 'nothing'} but the build is for ${build.commit}; a full 40-character commit sha is required`,
      );
    }
    await ctx.log(`checked out ${head}`);
    return { commit: head, dir };
  },
};
