/**
 * The error catalog (docs/errors.md is generated from it). Every failure Slipway reports has a stable `code`, the HTTP
 * status the API renders it with, and whether retrying can help. Code branches on `code` or class,
 * never on message text. Messages say what to fix, in the spirit of Fastify's FST_ERR_* catalog.
 */

export interface SlipwayErrorOptions {
  cause?: unknown;
  /** Extra fields shown in problem+json (never secrets). */
  details?: Record<string, unknown>;
}

interface CatalogEntry {
  httpStatus: number;
  retryable: boolean;
  title: string;
}

const CATALOG = {
  // Configuration
  SLW_CONFIG_INVALID: { httpStatus: 500, retryable: false, title: 'Invalid configuration' },
  SLW_CONFIG_FILE: { httpStatus: 500, retryable: false, title: 'Configuration file unreadable' },
  // Webhooks
  SLW_WEBHOOK_SIGNATURE: { httpStatus: 401, retryable: false, title: 'Webhook signature or token invalid' },
  SLW_WEBHOOK_NOT_CONFIGURED: { httpStatus: 401, retryable: false, title: 'Webhook secret not configured' },
  SLW_WEBHOOK_MALFORMED: { httpStatus: 400, retryable: false, title: 'Malformed webhook payload' },
  SLW_WEBHOOK_TOO_LARGE: { httpStatus: 413, retryable: false, title: 'Webhook payload too large' },
  SLW_WEBHOOK_MEDIA_TYPE: { httpStatus: 415, retryable: false, title: 'Unsupported webhook content type' },
  // API
  SLW_NOT_FOUND: { httpStatus: 404, retryable: false, title: 'Not found' },
  SLW_BAD_REQUEST: { httpStatus: 400, retryable: false, title: 'Bad request' },
  SLW_UNAVAILABLE: { httpStatus: 503, retryable: true, title: 'Dependency unavailable' },
  // API authentication and uploads. Auth problems carry no details: nothing about the token is echoed.
  SLW_AUTH_REQUIRED: { httpStatus: 401, retryable: false, title: 'Authentication required' },
  SLW_AUTH_FORBIDDEN: { httpStatus: 403, retryable: false, title: 'Token not allowed for this app' },
  SLW_UPLOAD_INVALID: { httpStatus: 400, retryable: false, title: 'Build context upload invalid' },
  SLW_UPLOAD_TOO_LARGE: { httpStatus: 413, retryable: false, title: 'Build context upload too large' },
  SLW_UPLOAD_MEDIA_TYPE: { httpStatus: 415, retryable: false, title: 'Unsupported upload content type' },
  // Store / queue
  SLW_STORE: { httpStatus: 503, retryable: true, title: 'Database error' },
  SLW_QUEUE: { httpStatus: 503, retryable: true, title: 'Queue error' },
  // Pipeline
  SLW_FETCH_FAILED: { httpStatus: 502, retryable: true, title: 'Fetching the source failed' },
  SLW_FETCH_COMMIT_MISSING: { httpStatus: 422, retryable: false, title: 'Commit not found in repository' },
  SLW_FETCH_SOURCE_REFUSED: { httpStatus: 422, retryable: false, title: 'Source location not allowed' },
  SLW_SOURCE_ACCESS: { httpStatus: 403, retryable: false, title: 'The forge refused access to the source' },
  SLW_SOURCE_HOST_KEY: { httpStatus: 502, retryable: false, title: "Source host's SSH key not trusted" },
  SLW_SOURCE_CREDENTIAL: { httpStatus: 500, retryable: false, title: 'Source credential unusable' },
  SLW_BUILD_CANCELED: { httpStatus: 409, retryable: false, title: 'Build canceled' },
  SLW_BUILD_UNKNOWN_APP: { httpStatus: 404, retryable: false, title: 'App not configured' },
  SLW_BUILD_TIMEOUT: { httpStatus: 504, retryable: false, title: 'Build took longer than allowed' },
  SLW_PROMOTION_ORIGIN: { httpStatus: 403, retryable: false, title: 'Image comes from an unapproved fork build' },
  // Build (BuildKit)
  SLW_BUILDKIT_UNREACHABLE: { httpStatus: 503, retryable: true, title: 'BuildKit unreachable' },
  SLW_BUILDKIT_PROTOCOL: { httpStatus: 502, retryable: true, title: 'BuildKit call failed' },
  SLW_BUILD_CONTEXT: { httpStatus: 422, retryable: false, title: 'Build context unusable' },
  SLW_BUILD_DOCKERFILE: { httpStatus: 422, retryable: false, title: 'Dockerfile invalid' },
  SLW_BUILD_STEP_FAILED: { httpStatus: 422, retryable: false, title: 'Build step failed' },
  SLW_BUILD_FAILED: { httpStatus: 502, retryable: false, title: 'Build failed' },
  SLW_BUILD_PUSH: { httpStatus: 502, retryable: true, title: 'Pushing the image failed' },
  // Registry (OCI distribution)
  SLW_REGISTRY_REFERENCE: { httpStatus: 400, retryable: false, title: 'Invalid image reference' },
  SLW_REGISTRY_UNREACHABLE: { httpStatus: 502, retryable: true, title: 'Registry unreachable' },
  SLW_REGISTRY_AUTH: { httpStatus: 502, retryable: false, title: 'Registry refused the credentials' },
  SLW_REGISTRY_NOT_FOUND: { httpStatus: 404, retryable: false, title: 'Not found in the registry' },
  SLW_REGISTRY_DIGEST_MISMATCH: { httpStatus: 502, retryable: true, title: 'Registry content does not match its digest' },
  SLW_REGISTRY: { httpStatus: 502, retryable: true, title: 'Registry error' },
  SLW_REGISTRY_REJECTED: { httpStatus: 502, retryable: false, title: 'Registry rejected the request' },
  // Policy
  SLW_POLICY_INVALID: { httpStatus: 500, retryable: false, title: 'Invalid policy files' },
  SLW_POLICY_REJECTED: { httpStatus: 422, retryable: false, title: 'Rejected by policy' },
  // Signing (cosign-compatible)
  SLW_SIGNING_KEY_INVALID: { httpStatus: 500, retryable: false, title: 'Signing key unusable' },
  SLW_SIGNING_KEY_PASSWORD: { httpStatus: 500, retryable: false, title: 'Signing key password wrong' },
  SLW_SIGNING_PASSWORD_MISSING: { httpStatus: 500, retryable: false, title: 'Signing key password not provided' },
  SLW_SIGNING_KEY_EXISTS: { httpStatus: 409, retryable: false, title: 'Key file already exists' },
  SLW_SIGNING_BY_DIGEST: { httpStatus: 400, retryable: false, title: 'Signing needs an image digest' },
  SLW_SIGNING_CONFLICT: { httpStatus: 409, retryable: true, title: 'Concurrent signers kept overwriting each other' },
  SLW_SIGNING_UNVERIFIED: { httpStatus: 422, retryable: false, title: 'No valid signature from a trusted key' },
  SLW_SIGNING_COSIGN: { httpStatus: 502, retryable: false, title: 'cosign failed' },
  SLW_SIGNING_COSIGN_TIMEOUT: { httpStatus: 504, retryable: true, title: 'cosign timed out' },
  // Enforcer injection
  SLW_INJECT_UNSUPPORTED: { httpStatus: 422, retryable: false, title: 'Image cannot carry the enforcer' },
  SLW_INJECT_LAYER: { httpStatus: 422, retryable: false, title: 'Image layer unreadable' },
  SLW_INJECT_ENFORCER_MISSING: { httpStatus: 500, retryable: false, title: 'Enforcer binary missing' },
  SLW_INJECT_POLICY: { httpStatus: 400, retryable: false, title: 'Invalid runtime policy' },
  // Forge APIs (statuses, comments, deployments). `details.retryAfterMs` says when to try again.
  SLW_FORGE_UNREACHABLE: { httpStatus: 502, retryable: true, title: 'Forge API unreachable' },
  SLW_FORGE_RATE_LIMITED: { httpStatus: 429, retryable: true, title: 'Forge API rate limit reached' },
  SLW_FORGE_FORBIDDEN: { httpStatus: 403, retryable: false, title: 'Forge API refused the credentials' },
  SLW_FORGE_REJECTED: { httpStatus: 422, retryable: false, title: 'Forge API rejected the request' },
  SLW_FORGE_NOT_CONFIGURED: { httpStatus: 500, retryable: false, title: 'Forge API credentials not configured' },
  // Serving
  SLW_TARGET_UNKNOWN: { httpStatus: 404, retryable: false, title: 'Serving target not configured' },
  SLW_TARGET_UNAVAILABLE: { httpStatus: 503, retryable: true, title: 'Serving target unreachable' },
  SLW_TRAFFIC_INVALID: { httpStatus: 400, retryable: false, title: 'Invalid traffic split' },
  SLW_TRAFFIC_CONFLICT: { httpStatus: 409, retryable: true, title: 'Traffic changed concurrently' },
  SLW_REVISION_NOT_FOUND: { httpStatus: 404, retryable: false, title: 'Revision not found' },
  SLW_REVISION_IN_USE: { httpStatus: 409, retryable: false, title: 'Revision takes traffic' },
  SLW_REVISION_FAILED: { httpStatus: 422, retryable: false, title: 'Revision did not become ready' },
  SLW_REVISION_INVALID: { httpStatus: 400, retryable: false, title: 'Revision spec invalid' },
  SLW_TARGET_REJECTED: { httpStatus: 502, retryable: false, title: 'Serving target rejected the request' },
  // App configuration and secrets
  SLW_ENV_INVALID: { httpStatus: 400, retryable: false, title: 'Invalid app environment change' },
  SLW_SECRET_KEY: { httpStatus: 500, retryable: false, title: 'Secrets key missing or unusable' },
  SLW_INTERNAL: { httpStatus: 500, retryable: false, title: 'Internal error' },
} as const satisfies Record<string, CatalogEntry>;

export type ErrorCode = keyof typeof CATALOG;

export interface CatalogRow extends CatalogEntry {
  code: ErrorCode;
}

/** Every code with its HTTP status, retryability and title, in catalog order (the source of docs/errors.md). */
export function errorCatalog(): CatalogRow[] {
  return Object.entries(CATALOG).map(([code, entry]: [string, CatalogEntry]) => ({ code: code as ErrorCode, ...entry }));
}

export class SlipwayError extends Error {
  readonly code: ErrorCode;
  readonly httpStatus: number;
  readonly retryable: boolean;
  readonly title: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: SlipwayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SlipwayError';
    const entry: CatalogEntry = CATALOG[code];
    this.code = code;
    this.httpStatus = entry.httpStatus;
    this.retryable = entry.retryable;
    this.title = entry.title;
    this.details = options.details;
  }
}

export function isSlipwayError(err: unknown, code?: ErrorCode): err is SlipwayError {
  return err instanceof SlipwayError && (code === undefined || err.code === code);
}

/** Wraps anything thrown into a SlipwayError, keeping the original as `cause`. */
export function toSlipwayError(err: unknown, fallback: ErrorCode = 'SLW_INTERNAL'): SlipwayError {
  if (err instanceof SlipwayError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new SlipwayError(fallback, message, { cause: err });
}
