import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface GitResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunGitOptions {
  cwd: string;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Called with each line git prints on stderr (progress), as it comes. */
  onLine?: (line: string) => void;
  /** Transports git may use (`GIT_ALLOW_PROTOCOL`, colon-separated); default: none beyond what the command needs locally. */
  allowProtocol?: string;
  /** More environment for git (a credential: see source-credential.ts); never logged. */
  env?: Readonly<Record<string, string>>;
}

/**
 * The worker's environment without git's own variables: an inherited GIT_CONFIG_*, GIT_SSH_COMMAND,
 * GIT_DIR or GIT_TRACE_* would change what git fetches, from where, with what, or print it.
 */
function inheritedEnv(): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('GIT_')));
}

/**
 * Runs git with an argument array (never a shell), no stdin, and no credential prompt: a build must
 * fail fast on an auth problem, not wait for a terminal that is not there.
 */
export function runGit(args: string[], options: RunGitOptions): Promise<GitResult> {
  return new Promise((resolvePromise, reject) => {
    if (options.signal?.aborted) return resolvePromise({ code: null, signal: 'SIGKILL', stdout: '', stderr: '' });
    // Its own process group: git fetch runs helpers (git-remote-http, index-pack) that hold our pipes
    // open, so killing git alone would leave an aborted build waiting on a stalled remote.
    const child = spawn('git', args, {
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      // GIT_ALLOW_PROTOCOL: only the transport the source needs (never ext::, which runs commands);
      // GIT_CONFIG_NOSYSTEM and a global config of /dev/null: no host-wide setting can add url rewrites or hooks.
      env: {
        ...inheritedEnv(),
        ...options.env,
        GIT_TERMINAL_PROMPT: '0',
        GIT_ASKPASS: 'true',
        LC_ALL: 'C',
        GIT_ALLOW_PROTOCOL: options.allowProtocol ?? 'file',
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: '/dev/null',
        GIT_PROTOCOL_FROM_USER: '0',
      },
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    let killedBy: NodeJS.Signals | null = null;
    let settled = false;
    const settle = (result: GitResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', killGroup);
      resolvePromise(result);
    };
    const killGroup = () => {
      killedBy = 'SIGKILL';
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      // Do not wait for 'close': a helper stuck on a stalled remote may hold the pipes open.
      settle({ code: null, signal: 'SIGKILL', stdout, stderr });
    };
    options.signal?.addEventListener('abort', killGroup, { once: true });
    const timer = options.timeoutMs ? setTimeout(killGroup, options.timeoutMs) : undefined;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    // git writes progress with \r; split on both so each update is one line.
    const lines = createInterface({ input: child.stderr, crlfDelay: Infinity });
    lines.on('line', (raw) => {
      for (const part of raw.split('\r')) {
        const line = part.trim();
        if (!line) continue;
        stderr += `${line}\n`;
        options.onLine?.(line);
      }
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', killGroup);
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') reject(new Error('git is not installed: install it (apt-get install git)'));
      else reject(err);
    });
    child.on('close', (code, signal) => settle({ code: killedBy ? null : code, signal: killedBy ?? signal, stdout, stderr }));
  });
}

/** Hides credentials in a clone URL before it is logged (`https://user:tok@host/…` → `https://***@host/…`). */
export function redactGitUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]+@/i, '$1***@');
}
