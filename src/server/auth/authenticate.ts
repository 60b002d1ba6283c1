import { isAppRepo, type SlipwayConfig } from '../../config/index.js';
import { SlipwayError } from '../../core/errors.js';
import { matchStaticToken, sha256Hex } from './static-tokens.js';
import { OidcVerifier, type OidcIdentity } from './oidc.js';

/** Who made a request: a holder of a configured static token, or a GitHub Actions workflow. */
export type Principal = { kind: 'token'; name: string } | { kind: 'oidc'; identity: OidcIdentity };

/** Reads may be answered for an app found only after loading a record; writes always name their app. */
export type Operation = 'read' | 'write';

// No detail about why: telling a caller which check failed helps an attacker more than a user.
const unauthorized = () => new SlipwayError('SLW_AUTH_REQUIRED', 'a valid bearer token is required');

/** `Bearer <token>`, or Basic auth whose password is the token (what `git` sends). */
export function presentedToken(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined;
  const [scheme, value] = authorization.trim().split(/\s+/, 2);
  if (!scheme || !value) return undefined;
  if (scheme.toLowerCase() === 'bearer') return value;
  if (scheme.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 && colon < decoded.length - 1 ? decoded.slice(colon + 1) : undefined;
  }
  return undefined;
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Tag globs use `*` only, as in apps[].tags. */
const globMatch = (glob: string, value: string) =>
  new RegExp(
    `^${glob
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  ).test(value);

/**
 * Authentication (who) and authorization (may they touch this app) for write requests.
 * Made once per server: the OIDC verifier keeps the issuer's keys cached.
 */
export class ApiAuth {
  private readonly oidc: OidcVerifier | undefined;

  /**
   * @param localToken the token generated into `dataDir` for clients on this machine (see local-token.ts);
   *   it is an installation-wide token named `local`, like a static one.
   */
  constructor(
    private readonly api: SlipwayConfig['api'],
    private readonly apps: SlipwayConfig['apps'],
    private readonly localToken?: string,
  ) {
    this.oidc = api.oidc ? new OidcVerifier({ issuer: api.oidc.issuer, audience: api.oidc.audience, clockSkewMs: api.oidc.clockSkew }) : undefined;
  }

  /** 401 unless the header carries a static token or an OIDC token that verifies. */
  async authenticate(authorization: string | undefined): Promise<Principal> {
    const token = presentedToken(authorization);
    if (!token) throw unauthorized();
    const name = matchStaticToken(this.localTokens(), token);
    if (name !== undefined) return { kind: 'token', name };
    if (this.oidc && JWT_SHAPE.test(token)) return { kind: 'oidc', identity: await this.oidc.verify(token) };
    throw unauthorized();
  }

  private localTokens() {
    return this.localToken ? [...this.api.tokens, { name: 'local', sha256: sha256Hex(this.localToken) }] : this.api.tokens;
  }

  /**
   * 403 unless the principal may act on `app`. Static tokens are installation-wide; an OIDC token only
   * for apps whose repo is the workflow's repository, from an allowed ref and environment. Requests
   * that name no app need a static token to write; a read that names no app yet is let through, and the
   * route checks the record's app once loaded (authorizeRecord).
   */
  authorize(principal: Principal, app: string | undefined, operation: Operation = 'write'): void {
    if (principal.kind === 'token') return;
    const { identity } = principal;
    if (app === undefined && operation === 'read') return;
    if (app === undefined) throw new SlipwayError('SLW_AUTH_FORBIDDEN', 'this route needs a static API token; OIDC tokens are scoped to one app');
    const config = this.apps.find((a) => a.name === app);
    // An unknown app is reported by the route (404); an OIDC token cannot be scoped to it, so refuse here.
    if (!config || !isAppRepo(config, 'github', identity.repository)) {
      throw new SlipwayError('SLW_AUTH_FORBIDDEN', `the token's repository ${identity.repository} is not app ${app}'s repository`);
    }
    const oidc = this.api.oidc!;
    if (oidc.refs.length > 0 && !(identity.ref && oidc.refs.some((g) => globMatch(g, identity.ref!)))) {
      throw new SlipwayError('SLW_AUTH_FORBIDDEN', `ref ${identity.ref ?? '(none)'} is not in api.oidc.refs`);
    }
    if (oidc.environments.length > 0 && !(identity.environment && oidc.environments.includes(identity.environment))) {
      throw new SlipwayError('SLW_AUTH_FORBIDDEN', `environment ${identity.environment ?? '(none)'} is not in api.oidc.environments`);
    }
  }

  /** Both, for one request on one app. */
  async check(authorization: string | undefined, app: string | undefined, operation: Operation = 'write'): Promise<Principal> {
    const principal = await this.authenticate(authorization);
    this.authorize(principal, app, operation);
    return principal;
  }
}

/** How a principal is recorded (build `sender`): never the token itself. */
export const principalName = (p: Principal): string => (p.kind === 'token' ? `token:${p.name}` : `github-actions:${p.identity.repository}`);
