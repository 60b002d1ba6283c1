import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { SlipwayError } from '../core/errors.js';
import type { Digest } from '../core/types.js';
import { formatImageRef, type ImageRef } from '../registry/index.js';
import { parsePayload, type SimpleSigningPayload } from './payload.js';
import { requireDigestRef } from './reference.js';

/**
 * The `cosign` executable, for what Slipway does not do itself: keyless signing with an OIDC identity
 * (GitHub Actions, GitLab) and KMS keys (`awskms://`, `gcpkms://`, `azurekms://`, `hashivault://`,
 * `k8s://`). Always argument arrays, never a shell; a timeout on every run; secrets (key password,
 * identity token) go through cosign's environment variables (COSIGN_PASSWORD, SIGSTORE_ID_TOKEN), never
 * argv, where `ps` would show them. Flags are cosign v2's (`cosign sign --help`, `cosign verify --help`).
 */

export interface CosignCliOptions {
  /** Path of the cosign executable (`signing.cosign.path`). */
  path: string;
  /** Longest one cosign run may take, in ms (`signing.cosign.timeout`). */
  timeoutMs: number;
  /**
   * The environment to take cosign's variables from (the process env, handed down by the entry
   * point). Only names cosign and its OIDC / KMS providers read pass through: see passedEnv.
   */
  env: Record<string, string | undefined>;
}

/** Variables cosign reads for registries, TLS, proxies, Sigstore, OIDC (GitHub Actions, GitLab's SIGSTORE_ID_TOKEN) and KMS providers. */
const PASS_EXACT = new Set([
  'PATH',
  'HOME',
  'TMPDIR',
  'USER',
  'LANG',
  'LC_ALL',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'DOCKER_CONFIG',
  'KUBECONFIG',
  'GITHUB_ACTIONS',
  'GITLAB_CI',
  'CI',
]);
const PASS_PREFIXES = ['COSIGN_', 'SIGSTORE_', 'TUF_', 'ACTIONS_ID_TOKEN_REQUEST_', 'AWS_', 'GOOGLE_', 'CLOUDSDK_', 'AZURE_', 'VAULT_'];

/** The environment a cosign run gets: the passed-through names only (never SLIPWAY_*), plus explicit extras. */
export function passedEnv(env: Record<string, string | undefined>, extra: Record<string, string | undefined> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && (PASS_EXACT.has(name) || PASS_PREFIXES.some((p) => name.startsWith(p)))) out[name] = value;
  }
  for (const [name, value] of Object.entries(extra)) if (value !== undefined) out[name] = value;
  return out;
}

export interface CosignRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CosignSignOptions {
  /** Key file path or KMS URI; omitted for keyless signing (OIDC). */
  key?: string;
  /** Password of a key file (sent as COSIGN_PASSWORD). */
  password?: string;
  /** OIDC identity token for keyless signing (sent as SIGSTORE_ID_TOKEN); in GitHub Actions cosign fetches its own. */
  identityToken?: string;
  /** Payload claims (`-a key=value`). */
  annotations?: Record<string, string>;
  /** `registry/repository` for the `.sig` (sent as COSIGN_REPOSITORY). */
  signatureRepository?: string;
  /** False to skip the Rekor upload (`--tlog-upload=false`). Default: cosign's (upload). */
  tlogUpload?: boolean;
  signal?: AbortSignal;
}

export interface CosignSignResult {
  image: string;
  /** Where cosign said it pushed the signature ("Pushing signature to: …"). */
  pushedTo: string | undefined;
  /** Rekor index, when cosign uploaded to the transparency log. */
  tlogIndex: number | undefined;
}

export interface CosignVerifyOptions {
  /** Public key file path or KMS URI; omitted for keyless verification, which needs identity and issuer. */
  key?: string;
  certificateIdentity?: string;
  certificateIdentityRegexp?: string;
  certificateOidcIssuer?: string;
  certificateOidcIssuerRegexp?: string;
  signatureRepository?: string;
  /** Skip the transparency log check (`--insecure-ignore-tlog=true`): for keys whose signatures were never uploaded. */
  insecureIgnoreTlog?: boolean;
  signal?: AbortSignal;
}

export interface CosignVerifyResult {
  verified: boolean;
  /** The payloads cosign printed as verified (its JSON output). */
  payloads: SimpleSigningPayload[];
  /** cosign's own words when it did not verify. */
  reason: string | undefined;
}

const MAX_OUTPUT = 4 * 1024 * 1024;

/** cosign prints `Error: …` (cobra) and sometimes `main.go:NN: error during command execution: …`; the first is the reason. */
function errorLine(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const error = lines.find((l) => l.startsWith('Error: '));
  return error ? error.slice('Error: '.length) : (lines.at(-1) ?? 'no output');
}

export class CosignCli {
  constructor(private readonly options: CosignCliOptions) {}

  /** True when the configured path is an executable file (the wrapper is used only then). */
  static available(path: string | undefined): path is string {
    if (!path) return false;
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  }

  /** Runs cosign with `args`; rejects on spawn failure or timeout, resolves with the exit code otherwise. */
  run(args: readonly string[], extraEnv: Record<string, string | undefined> = {}, signal?: AbortSignal): Promise<CosignRun> {
    const { path, timeoutMs } = this.options;
    return new Promise((resolve, reject) => {
      const child = spawn(path, args, { env: passedEnv(this.options.env, extraEnv), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      let timedOut = false;
      const take = (which: 'out' | 'err') => (chunk: Buffer) => {
        if (which === 'out' && stdout.length < MAX_OUTPUT) stdout += chunk.toString('utf8');
        if (which === 'err' && stderr.length < MAX_OUTPUT) stderr += chunk.toString('utf8');
      };
      child.stdout.on('data', take('out'));
      child.stderr.on('data', take('err'));
      const kill = () => {
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 2000).unref();
      };
      const timer = setTimeout(() => {
        timedOut = true;
        kill();
      }, timeoutMs);
      const onAbort = () => kill();
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      child.on('error', (err) => {
        done();
        reject(new SlipwayError('SLW_SIGNING_COSIGN', `could not run cosign at ${path}: ${err.message}; check signing.cosign.path`, { cause: err }));
      });
      child.on('close', (code, sig) => {
        done();
        if (timedOut)
          reject(
            new SlipwayError(
              'SLW_SIGNING_COSIGN_TIMEOUT',
              `cosign ${args[0] ?? ''} did not finish within ${timeoutMs} ms and was stopped; raise signing.cosign.timeout or check its network access`,
            ),
          );
        else if (signal?.aborted) reject(new SlipwayError('SLW_SIGNING_COSIGN', `cosign ${args[0] ?? ''} was canceled`, { cause: signal.reason }));
        else resolve({ code: code ?? 128 + (sig ? 15 : 0), stdout, stderr });
      });
    });
  }

  /** `cosign version --json` → its gitVersion (e.g. "v2.4.1"). */
  async version(): Promise<string> {
    const r = await this.run(['version', '--json']);
    if (r.code !== 0) throw new SlipwayError('SLW_SIGNING_COSIGN', `cosign version failed: ${errorLine(r.stderr)}`);
    try {
      return String((JSON.parse(r.stdout) as { gitVersion?: string }).gitVersion ?? 'unknown');
    } catch (err) {
      throw new SlipwayError('SLW_SIGNING_COSIGN', 'cosign version --json printed no JSON', { cause: err });
    }
  }

  /** `cosign sign --yes [--key K] [-a k=v]… IMAGE@DIGEST`; throws SLW_SIGNING_COSIGN when cosign fails. */
  async sign(ref: string | ImageRef, opts: CosignSignOptions = {}): Promise<CosignSignResult> {
    const image = formatImageRef(requireDigestRef(ref, 'sign'));
    // --yes: cosign otherwise asks for consent to upload to the public transparency log, and would wait on a terminal that is not there.
    const args = ['sign', '--yes'];
    if (opts.key) args.push('--key', opts.key);
    for (const [k, v] of Object.entries(opts.annotations ?? {})) args.push('-a', `${k}=${v}`);
    if (opts.tlogUpload === false) args.push('--tlog-upload=false');
    args.push(image);
    const r = await this.run(
      args,
      { COSIGN_PASSWORD: opts.key ? (opts.password ?? '') : undefined, SIGSTORE_ID_TOKEN: opts.identityToken, COSIGN_REPOSITORY: opts.signatureRepository },
      opts.signal,
    );
    if (r.code !== 0) throw new SlipwayError('SLW_SIGNING_COSIGN', `cosign sign ${image} failed (exit ${r.code}): ${errorLine(r.stderr)}`);
    const pushed = /Pushing signature to: (\S+)/.exec(r.stderr)?.[1];
    const tlog = /tlog entry created with index: (\d+)/.exec(r.stderr)?.[1];
    return { image, pushedTo: pushed, tlogIndex: tlog === undefined ? undefined : Number(tlog) };
  }

  /**
   * `cosign verify --output json (--key K | --certificate-identity… --certificate-oidc-issuer…) IMAGE@DIGEST`.
   * Exit 0 with payloads naming this digest is verified; any other outcome is not, with cosign's reason.
   */
  async verify(ref: string | ImageRef, opts: CosignVerifyOptions = {}): Promise<CosignVerifyResult> {
    const parsed = requireDigestRef(ref, 'verify');
    const image = formatImageRef(parsed);
    const args = ['verify', '--output', 'json'];
    if (opts.key) {
      args.push('--key', opts.key);
    } else {
      // cosign v2 refuses keyless verification without both an identity and an issuer: say so before running it.
      const identity = opts.certificateIdentity ?? opts.certificateIdentityRegexp;
      const issuer = opts.certificateOidcIssuer ?? opts.certificateOidcIssuerRegexp;
      if (!identity || !issuer)
        throw new SlipwayError('SLW_SIGNING_COSIGN', 'keyless verification needs a certificate identity and an OIDC issuer (or a key); give both');
      if (opts.certificateIdentity) args.push('--certificate-identity', opts.certificateIdentity);
      else args.push('--certificate-identity-regexp', opts.certificateIdentityRegexp!);
      if (opts.certificateOidcIssuer) args.push('--certificate-oidc-issuer', opts.certificateOidcIssuer);
      else args.push('--certificate-oidc-issuer-regexp', opts.certificateOidcIssuerRegexp!);
    }
    if (opts.insecureIgnoreTlog) args.push('--insecure-ignore-tlog=true');
    args.push(image);
    const r = await this.run(args, { COSIGN_REPOSITORY: opts.signatureRepository }, opts.signal);
    if (r.code !== 0) return { verified: false, payloads: [], reason: errorLine(r.stderr) };
    return verifiedPayloads(r.stdout, parsed.digest);
  }
}

/** cosign prints the verified payloads as one JSON array; every one must name the digest asked about. */
function verifiedPayloads(stdout: string, digest: Digest): CosignVerifyResult {
  let list: unknown;
  try {
    list = JSON.parse(stdout.trim());
  } catch {
    return { verified: false, payloads: [], reason: 'cosign exited 0 but printed no JSON payloads' };
  }
  if (!Array.isArray(list) || list.length === 0) return { verified: false, payloads: [], reason: 'cosign exited 0 but listed no verified signatures' };
  const payloads: SimpleSigningPayload[] = [];
  for (const item of list) {
    const p = parsePayload(Buffer.from(JSON.stringify(item)));
    if (!p.ok) return { verified: false, payloads: [], reason: `cosign printed a payload Slipway cannot read: ${p.reason}` };
    if (p.digest !== digest) return { verified: false, payloads: [], reason: `cosign printed a payload for ${p.digest}, not ${digest}` };
    payloads.push(p.payload);
  }
  return { verified: true, payloads, reason: undefined };
}
