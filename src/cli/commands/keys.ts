import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { SlipwayError } from '../../core/errors.js';
import { generateKeyPair } from '../../signing/index.js';
import { loadCliConfig, type CliContext, type GlobalOptions } from '../context.js';
import { keyPassword } from './key-password.js';

export interface KeysGenerateOptions {
  dir?: string;
}

/**
 * `slipway keys generate [--dir D]`: writes `cosign.key` (mode 0600, `ENCRYPTED SIGSTORE PRIVATE KEY`)
 * and `cosign.pub`, as `cosign generate-key-pair` does. Never overwrites either file.
 */
export async function keysGenerateCommand(ctx: CliContext, global: GlobalOptions, opts: KeysGenerateOptions): Promise<number> {
  const { config } = loadCliConfig(ctx, global);
  const dir = resolve(ctx.cwd, opts.dir ?? '.');
  const keyPath = join(dir, 'cosign.key');
  const pubPath = join(dir, 'cosign.pub');
  const shown = (p: string) => relative(ctx.cwd, p) || p;
  for (const path of [keyPath, pubPath]) {
    if (existsSync(path))
      throw new SlipwayError(
        'SLW_SIGNING_KEY_EXISTS',
        `${shown(path)} already exists; refusing to overwrite a key (move it away, or write elsewhere with --dir)`,
      );
  }
  const password = await keyPassword(ctx, config.signing.passwordEnv, { confirm: true, purpose: 'private key' });
  const pair = await generateKeyPair(password);
  mkdirSync(dir, { recursive: true });
  // 'wx': create only, so a file that appeared since the check above is not overwritten either.
  writeFileSync(keyPath, pair.privateKeyPem, { flag: 'wx', mode: 0o600 });
  try {
    writeFileSync(pubPath, pair.publicKeyPem, { flag: 'wx', mode: 0o644 });
  } catch (err) {
    rmSync(keyPath, { force: true }); // half a key pair is worse than none
    throw err;
  }
  ctx.stdout.write(`Private key written to ${shown(keyPath)}\nPublic key written to ${shown(pubPath)}\n`);
  return 0;
}
