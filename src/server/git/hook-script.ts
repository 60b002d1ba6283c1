import { readFile } from 'node:fs/promises';

/**
 * The post-receive hook Slipway installs in each push repository. git runs it after a push
 * updated refs and shows what it prints as `remote:` lines, which is how the build ids reach the
 * pusher. It only reports the updates back to the server that ran the push (URL and a per-process
 * secret arrive in its environment through http-backend), so all build logic stays in the server.
 * `git push -o wait` makes it follow the builds' logs until they end.
 *
 * Both parts are real files in `hook/` (linted like the rest; `npm run build` copies them next to
 * this module in dist/), read when a repository is set up.
 */
const HOOK_DIR = new URL('./hook/', import.meta.url);

/** The `hooks/post-receive` shell script git runs: it hands over to the Node script. */
export const hookShell = (): Promise<string> => readFile(new URL('post-receive', HOOK_DIR), 'utf8');

/** The Node script that reports the push to the server (and follows the logs with `-o wait`). */
export const hookScript = (): Promise<string> => readFile(new URL('post-receive.mjs', HOOK_DIR), 'utf8');
