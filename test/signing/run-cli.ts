import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';

export type { CliRun } from '../helpers/cli.js';

/** Runs `slipway …` in-process in `cwd` with exactly `env`. */
export const slipway = (cwd: string, args: string[], env: Record<string, string> = {}) => runCli(args, { cwd, env });

/** A scratch directory for one suite, removed by the returned cleanup. */
export function scratchDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `slipway-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
