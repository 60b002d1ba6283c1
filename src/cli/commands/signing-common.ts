import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { SlipwayConfig } from '../../config/index.js';
import { SlipwayError } from '../../core/errors.js';
import { CosignCli, requireDigestRef, type DigestRef } from '../../signing/index.js';
import { ApiError } from '../../client/api-client.js';
import type { CliContext } from '../context.js';

/** `image@sha256:…` or a usage error (exit 2): signing and verifying never take a tag. */
export function digestArgument(subject: string, action: 'sign' | 'verify'): DigestRef {
  try {
    return requireDigestRef(subject, action);
  } catch (err) {
    if (err instanceof SlipwayError) throw new ApiError(`${err.message} (${err.code})`, undefined, 'usage');
    throw err;
  }
}

/** The cosign wrapper when `signing.cosign.path` names an executable that exists; else undefined (Slipway signs itself). */
export function configuredCosign(ctx: CliContext, config: SlipwayConfig): CosignCli | undefined {
  const path = config.signing.cosign.path ? resolve(ctx.cwd, config.signing.cosign.path) : undefined;
  return CosignCli.available(path) ? new CosignCli({ path, timeoutMs: config.signing.cosign.timeout, env: ctx.env }) : undefined;
}

/** KMS and other key URIs (`awskms://…`, `k8s://…`) that cosign resolves itself. */
export const isKeyUri = (key: string): boolean => /^[a-z0-9]+:\/\//.test(key);

/** A key argument for cosign: URIs as they are, files resolved against the CLI's working directory (cosign runs elsewhere). */
export const cosignKeyArgument = (ctx: CliContext, key: string): string => (isKeyUri(key) ? key : resolve(ctx.cwd, key));

/** A key file's bytes, or an error naming the file and the option or config key to fix. */
export function readKeyFile(ctx: CliContext, path: string, hint: string): Buffer {
  const full = resolve(ctx.cwd, path);
  if (!existsSync(full)) throw new SlipwayError('SLW_SIGNING_KEY_INVALID', `key file ${path} does not exist; ${hint}`);
  return readFileSync(full);
}

/** `KEY=VALUE` options (`-a`) into a record. */
export function annotationPairs(values: readonly string[] | undefined): Record<string, string> | undefined {
  if (!values?.length) return undefined;
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw new ApiError(`-a ${v}: write annotations as KEY=VALUE`, undefined, 'usage');
    out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}
