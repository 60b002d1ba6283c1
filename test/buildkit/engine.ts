import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runCli } from '../helpers/cli.js';

/** Docker Engine's BuildKit, as scripts/lib/services.sh runs it here. */
export const ENGINE = process.env.SLIPWAY_TEST_BUILDKIT ?? 'docker:///var/run/docker.sock';

/** A fresh repository name per test, so tests never read each other's images. */
export const uniqueRepository = (what: string): string => `127.0.0.1:5000/slipway/test-${what}-${randomBytes(4).toString('hex')}`;

/** A build context on disk; removed by the returned cleanup. */
export function contextDir(files: Record<string, string | Buffer>): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-ctx-'));
  writeFiles(dir, files);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function writeFiles(dir: string, files: Record<string, string | Buffer>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
}

/** Runs `slipway …` in-process, capturing what it prints. */
export const cli = (args: string[], cwd = process.cwd(), env: Record<string, string> = {}) => runCli(args, { cwd, env });
