import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { SlipwayError } from '../../core/errors.js';

/** The GitHub Actions claims Slipway scopes a token by (docs: "About security hardening with OpenID Connect"). */
export interface OidcIdentity {
  subject: string;
  /** `owner/name` of the workflow's repository. */
  repository: string;
  ref: string | undefined;
  environment: string | undefined;
}

export interface OidcVerifierOptions {
  issuer: string;
  audience: string;
  /** Tolerated clock difference for `exp`/`nbf`, in milliseconds. */
  clockSkewMs: number;
}

// Asymmetric algorithms only: a JWKS holds public keys, and `none` or HMAC must never verify.
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384'];

const unauthorized = (cause?: unknown) => new SlipwayError('SLW_AUTH_REQUIRED', 'a valid bearer token is required', cause === undefined ? {} : { cause });

/**
 * Verifies OIDC JWTs against the issuer's JWKS. Discovery (`/.well-known/openid-configuration` →
 * `jwks_uri`) runs once and is kept; jose's remote key set caches the keys and fetches them again
 * when a token names a `kid` it does not know (at most every 30 s, its cooldown), which is how key
 * rotation reaches us without a restart.
 */
export class OidcVerifier {
  private keySet: Promise<ReturnType<typeof createRemoteJWKSet>> | undefined;

  constructor(private readonly options: OidcVerifierOptions) {}

  private keys(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    this.keySet ??= this.discover().catch((err: unknown) => {
      this.keySet = undefined; // an issuer that was down must be asked again next time
      throw err;
    });
    return this.keySet;
  }

  private async discover(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    const url = `${this.options.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    let jwksUri: unknown;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
      if (!res.ok) throw new Error(`${res.status} ${res.statusText}`);
      jwksUri = ((await res.json()) as { jwks_uri?: unknown }).jwks_uri;
    } catch (err) {
      throw new SlipwayError('SLW_UNAVAILABLE', `cannot read the OIDC issuer's configuration at ${url}; check api.oidc.issuer`, { cause: err });
    }
    if (typeof jwksUri !== 'string') throw new SlipwayError('SLW_UNAVAILABLE', `the OIDC configuration at ${url} has no jwks_uri`);
    return createRemoteJWKSet(new URL(jwksUri), { timeoutDuration: 10_000 });
  }

  /** The token's identity, or SLW_AUTH_REQUIRED (401) for any token that does not verify. */
  async verify(token: string): Promise<OidcIdentity> {
    const keys = await this.keys();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: this.options.issuer,
        audience: this.options.audience,
        algorithms: ALGORITHMS,
        clockTolerance: Math.round(this.options.clockSkewMs / 1000),
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (err) {
      // The JWKS endpoint being down is ours to report (503); everything else is a bad token.
      if (err instanceof joseErrors.JWKSTimeout)
        throw new SlipwayError('SLW_UNAVAILABLE', "the OIDC issuer's keys could not be fetched in time", { cause: err });
      throw unauthorized(err);
    }
    const claim = (name: string) => (typeof payload[name] === 'string' ? (payload[name] as string) : undefined);
    const repository = claim('repository');
    if (!repository) throw unauthorized();
    return { subject: payload.sub ?? '', repository, ref: claim('ref'), environment: claim('environment') };
  }
}
