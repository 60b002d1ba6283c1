import type { ForgeEvent, ForgeId } from '../core/types.js';

/** Header names are lower-cased (Node's IncomingMessage convention). */
export type WebhookHeaders = Record<string, string | string[] | undefined>;

/** What the webhook route hands a forge: the raw bytes, exactly as received (signatures cover them). */
export interface WebhookRequest {
  headers: WebhookHeaders;
  rawBody: Buffer;
}

/**
 * `detect()` result (STYLE.md rule 3): `foreign` when the request is not this forge's at all,
 * `ignored` with a reason that is data (exact wording, shown to the user in the 202 body), or the
 * normalized event.
 */
export type DetectResult =
  | { kind: 'foreign' }
  | { kind: 'ignored'; reason: string; deliveryId: string }
  | { kind: 'accepted'; event: ForgeEvent };

/** Only what Slipway calls (STYLE.md rule 2). Statuses, comments and deployments come with issue 8. */
export interface Forge {
  readonly id: ForgeId;
  /**
   * Checks the signature (GitHub HMAC) or token (GitLab) in constant time over the raw bytes.
   * Throws SlipwayError `SLW_WEBHOOK_SIGNATURE` (no detail of what was expected) or
   * `SLW_WEBHOOK_NOT_CONFIGURED` when no secret is configured (fail closed).
   */
  verify(req: WebhookRequest): void;
  /**
   * Parses a verified request into one ForgeEvent. Throws `SLW_WEBHOOK_MALFORMED` when the body is
   * not what the event header promises (with what is wrong), `SLW_WEBHOOK_MEDIA_TYPE` for a content
   * type the forge never sends.
   */
  detect(req: WebhookRequest): DetectResult;
}

export interface ForgeOptions {
  /** GitHub: the webhook secret used for `X-Hub-Signature-256`. GitLab: the expected `X-Gitlab-Token`. */
  secret: string | undefined;
}

export type ForgeFactory = (options: ForgeOptions) => Forge;
