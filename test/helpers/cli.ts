import { Writable } from 'node:stream';
import { main } from '../../src/cli/main.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `slipway …` in-process with exactly `env` in `cwd` (as bin/slipway hands them down), capturing what it prints. */
export async function runCli(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const out = new Writable({ write: (c, _e, cb) => ((stdout += c.toString()), cb()) });
  const err = new Writable({ write: (c, _e, cb) => ((stderr += c.toString()), cb()) });
  const code = await main(args, { env: options.env ?? {}, stdout: out, stderr: err, cwd: options.cwd ?? process.cwd() });
  return { code, stdout, stderr };
}
