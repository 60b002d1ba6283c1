import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The only way tests reach `../shared` (fixtures checked out beside the repo, not inside it).
 * `SLIPWAY_SHARED_DIR` points elsewhere, e.g. in CI where the checkout lives in another place.
 */

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export function sharedDir(): string {
  const override = process.env['SLIPWAY_SHARED_DIR'];
  return override !== undefined && override !== '' ? resolve(override) : resolve(REPO_ROOT, '..', 'shared');
}

/** True when shared fixtures are there; pair with `describe.skipIf(!hasShared())`. */
export function hasShared(): boolean {
  return existsSync(join(sharedDir(), 'fixtures'));
}

/** The bytes of `fixtures/<relPath>` under sharedDir(), exactly as stored. */
export function sharedFixture(relPath: string): Buffer {
  const path = join(sharedDir(), 'fixtures', relPath);
  if (!existsSync(path)) {
    throw new Error(
      `../shared/fixtures/${relPath} is absent: tests that need shared fixtures expect a checkout of shared/ beside the repo (set SLIPWAY_SHARED_DIR); looked for ${path}`,
    );
  }
  return readFileSync(path);
}

/** Parsed JSON fixture, for tests that derive variants from it. */
export function sharedJson(relPath: string): Record<string, unknown> {
  return JSON.parse(sharedFixture(relPath).toString('utf8')) as Record<string, unknown>;
}
