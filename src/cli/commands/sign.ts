import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadPrivateKey, signImage } from '../../signing/index.js';
import { loadCliConfig, registryClient, type CliContext, type GlobalOptions } from '../context.js';
import { keyPassword } from './key-password.js';
import { annotationPairs, configuredCosign, cosignKeyArgument, digestArgument, isKeyUri, readKeyFile } from './signing-common.js';

export interface SignCommandOptions {
  key?: string;
  signatureRepo?: string;
  annotation?: string[];
  json?: boolean;
}

/**
 * `slipway sign <image@digest> [--key FILE]`: signs by digest only, with the key file (default
 * `signing.key`) and the password from `signing.passwordEnv`; stores the signature in
 * `sha256-<hex>.sig` beside existing ones. With `signing.cosign.path` configured, cosign signs instead
 * (`--key` may then be a KMS URI; without a key, cosign signs keyless with the ambient OIDC identity).
 */
export async function signCommand(ctx: CliContext, global: GlobalOptions, subject: string, opts: SignCommandOptions): Promise<number> {
  const ref = digestArgument(subject, 'sign');
  const { config } = loadCliConfig(ctx, global);
  const annotations = annotationPairs(opts.annotation);
  const cosign = configuredCosign(ctx, config);
  if (cosign) {
    const defaultKey = resolve(ctx.cwd, config.signing.key);
    const key = opts.key ? cosignKeyArgument(ctx, opts.key) : existsSync(defaultKey) ? defaultKey : undefined;
    const isFile = key !== undefined && !isKeyUri(key);
    const password = isFile ? await keyPassword(ctx, config.signing.passwordEnv, { confirm: false, purpose: key }) : undefined;
    const result = await cosign.sign(ref, {
      ...(key ? { key } : {}),
      ...(password !== undefined ? { password } : {}),
      ...(annotations ? { annotations } : {}),
      ...(opts.signatureRepo ? { signatureRepository: `${ref.registry}/${opts.signatureRepo}` } : {}),
    });
    if (opts.json) ctx.stdout.write(`${JSON.stringify({ signer: 'cosign', ...result }, null, 2)}\n`);
    else
      ctx.stdout.write(
        `signed ${result.image} with cosign${key ? ` (key ${key})` : ' (keyless)'}${result.pushedTo ? `; signature pushed to ${result.pushedTo}` : ''}${result.tlogIndex !== undefined ? `; tlog index ${result.tlogIndex}` : ''}\n`,
      );
    return 0;
  }
  const keyPath = opts.key ?? config.signing.key;
  const pem = readKeyFile(ctx, keyPath, opts.key ? 'check --key' : 'pass --key, set signing.key, or create one with `slipway keys generate --dir .slipway`');
  const password = await keyPassword(ctx, config.signing.passwordEnv, { confirm: false, purpose: keyPath });
  const key = await loadPrivateKey(pem, password, keyPath);
  const result = await signImage(registryClient(ctx, global, ref.registry), ref, key, {
    ...(opts.signatureRepo ? { signatureRepository: opts.signatureRepo } : {}),
    ...(annotations ? { annotations } : {}),
  });
  if (opts.json) {
    ctx.stdout.write(`${JSON.stringify({ signer: 'slipway', ...result }, null, 2)}\n`);
  } else {
    const where = `${ref.registry}/${result.signatureRepository}:${result.signatureTag}`;
    ctx.stdout.write(`${result.added ? 'signed' : 'already signed by this key:'} ${result.image}\n`);
    ctx.stdout.write(`signature ${where} (${result.signatures} signature${result.signatures === 1 ? '' : 's'}, manifest ${result.manifestDigest})\n`);
  }
  return 0;
}
