import { loadPublicKey, verifyImage, type CosignCli, type DigestRef, type VerifyResult } from '../../signing/index.js';
import { ApiError } from '../../client/api-client.js';
import { loadCliConfig, registryClient, type CliContext, type GlobalOptions } from '../context.js';
import { formatTable } from '../table.js';
import { configuredCosign, cosignKeyArgument, digestArgument, readKeyFile } from './signing-common.js';

export interface VerifyCommandOptions {
  key?: string[];
  signatureRepo?: string;
  certificateIdentity?: string;
  certificateOidcIssuer?: string;
  insecureIgnoreTlog?: boolean;
  json?: boolean;
}

interface Outcome {
  verified: boolean;
  keyIds: string[];
  reasons: string[];
  rows: string[][];
}

function fromSlipway(result: VerifyResult): Outcome {
  const rows = result.signatures.map((s) => [
    s.payloadDigest.slice(0, 19),
    s.identity ?? '-',
    s.verified ? s.keyIds.join(', ') : '-',
    s.verified ? 'verified' : (s.reason ?? ''),
  ]);
  return { verified: result.verified, keyIds: result.keyIds, reasons: result.reasons, rows };
}

/** With cosign: one run per key (cosign takes one), or one keyless run; the first that verifies wins. */
async function withCosign(ctx: CliContext, cosign: CosignCli, ref: DigestRef, keys: string[], opts: VerifyCommandOptions): Promise<Outcome> {
  const common = {
    ...(opts.signatureRepo ? { signatureRepository: `${ref.registry}/${opts.signatureRepo}` } : {}),
    ...(opts.insecureIgnoreTlog ? { insecureIgnoreTlog: true } : {}),
  };
  const runs: { id: string; opts: Parameters<CosignCli['verify']>[1] }[] =
    opts.certificateIdentity || opts.certificateOidcIssuer
      ? [
          {
            id: `${opts.certificateIdentity ?? '?'} (${opts.certificateOidcIssuer ?? '?'})`,
            opts: {
              ...common,
              ...(opts.certificateIdentity ? { certificateIdentity: opts.certificateIdentity } : {}),
              ...(opts.certificateOidcIssuer ? { certificateOidcIssuer: opts.certificateOidcIssuer } : {}),
            },
          },
        ]
      : keys.map((key) => ({ id: key, opts: { ...common, key: cosignKeyArgument(ctx, key) } }));
  const outcome: Outcome = { verified: false, keyIds: [], reasons: [], rows: [] };
  for (const run of runs) {
    const r = await cosign.verify(ref, run.opts);
    outcome.rows.push([
      'cosign',
      r.payloads[0]?.critical.identity['docker-reference'] ?? '-',
      r.verified ? run.id : '-',
      r.verified ? 'verified' : (r.reason ?? ''),
    ]);
    if (r.verified) {
      outcome.verified = true;
      outcome.keyIds.push(run.id);
      break;
    }
    outcome.reasons.push(`${run.id}: ${r.reason ?? 'not verified'}`);
  }
  return outcome;
}

/**
 * `slipway verify <image@digest> [--key FILE]…`: checks the image's cosign signatures against the
 * given public keys (default `signing.trustedKeys`); prints one row per signature and which key
 * verified it. Exit 0 when a trusted key verified a signature, 1 when none did.
 */
export async function verifyCommand(ctx: CliContext, global: GlobalOptions, subject: string, opts: VerifyCommandOptions): Promise<number> {
  const ref = digestArgument(subject, 'verify');
  const { config } = loadCliConfig(ctx, global);
  const keyPaths = opts.key?.length ? opts.key : config.signing.trustedKeys;
  const cosign = configuredCosign(ctx, config);
  let outcome: Outcome;
  if (cosign) {
    outcome = await withCosign(ctx, cosign, ref, keyPaths, opts);
  } else {
    if (opts.certificateIdentity || opts.certificateOidcIssuer) {
      throw new ApiError('keyless verification (--certificate-identity, --certificate-oidc-issuer) needs cosign: set signing.cosign.path', undefined, 'usage');
    }
    const keys = keyPaths.map((p) => loadPublicKey(readKeyFile(ctx, p, opts.key?.length ? 'check --key' : 'pass --key or fix signing.trustedKeys'), p));
    const result = await verifyImage(
      registryClient(ctx, global, ref.registry),
      ref,
      keys,
      opts.signatureRepo ? { signatureRepository: opts.signatureRepo } : {},
    );
    outcome = fromSlipway(result);
  }
  const image = `${ref.registry}/${ref.repository}@${ref.digest}`;
  if (opts.json) {
    ctx.stdout.write(
      `${JSON.stringify({ image, verified: outcome.verified, keyIds: outcome.keyIds, reasons: outcome.reasons, signer: cosign ? 'cosign' : 'slipway' }, null, 2)}\n`,
    );
  } else {
    if (outcome.rows.length) ctx.stdout.write(`${formatTable(['SIGNATURE', 'IDENTITY', 'KEY', 'RESULT'], outcome.rows)}\n`);
    ctx.stdout.write(
      outcome.verified ? `verified ${image}: signed by ${outcome.keyIds.join(', ')}\n` : `not verified ${image}: ${outcome.reasons.join('; ')}\n`,
    );
  }
  return outcome.verified ? 0 : 1;
}
