import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { main } from '../../src/cli/main.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `slipway …` in-process in `cwd` with exactly `env` (as bin/slipway would hand it down). */
export async function slipway(cwd: string, args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const out = new Writable({ write: (c, _e, cb) => ((stdout += c.toString()), cb()) });
  const err = new Writable({ write: (c, _e, cb) => ((stderr += c.toString()), cb()) });
  const code = await main(args, { env, stdout: out, stderr: err, cwd });
  return { code, stdout, stderr };
}

/** A scratch directory for one suite, removed by the returned cleanup. */
export function scratchDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `slipway-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
