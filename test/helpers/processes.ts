import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

const BIN = fileURLToPath(new URL('../../bin/slipway', import.meta.url));

export interface SlipwayProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves when a line matching `re` has been printed. */
  waitForLine(re: RegExp, timeoutMs?: number): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Resolves with the exit code once the process ends by itself. */
  exited(): Promise<number | null>;
}

/** Writes a config file (YAML, as a user would) and returns its path. */
export function writeConfig(dir: string, config: unknown, name = 'slipway.yaml'): string {
  const file = join(dir, name);
  writeFileSync(file, stringify(config));
  return file;
}

/** Runs the real `bin/slipway` (built dist) as a separate process. */
export function spawnSlipway(args: string[], options: { cwd: string; env?: Record<string, string> }): SlipwayProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const listeners: (() => void)[] = [];
  const onData = (chunk: Buffer) => {
    out += chunk.toString();
    for (const l of listeners.slice()) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : null))));
  return {
    child,
    output: () => out,
    waitForLine(re, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (re.test(out)) {
            clearTimeout(timer);
            listeners.splice(listeners.indexOf(check), 1);
            resolve();
          }
        };
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re} in output:\n${out.slice(-3000)}`)), timeoutMs);
        listeners.push(check);
        check();
        child.once('exit', () => {
          if (!re.test(out)) {
            clearTimeout(timer);
            reject(new Error(`process exited before printing ${re}; output:\n${out.slice(-3000)}`));
          }
        });
      });
    },
    exited: () => exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
