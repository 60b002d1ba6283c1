import { createHmac, timingSafeEqual } from 'node:crypto';
import { SlipwayError } from '../../core/errors.js';
import { single } from '../http.js';
import type { WebhookRequest } from '../types.js';

/**
 * GitHub signs the raw body with HMAC-SHA256 keyed by the webhook secret and sends
 * `X-Hub-Signature-256: sha256=<hex>` (docs.github.com, "Validating webhook deliveries").
 * The hex is 64 characters; anything else cannot match and is treated as a plain mismatch.
 */
const SIGNATURE_RE = /^sha256=([0-9a-fA-F]{64})$/;

const MISMATCH_HINT = 'check the webhook secret configured in GitHub matches github.webhookSecret';

/**
 * What can be refused before the body is read: no secret configured, no signature header, or one that
 * cannot be an HMAC-SHA256. A request that fails here never makes the server buffer its body.
 */
export function verifyGithubHeaders(headers: WebhookRequest['headers'], secret: string | undefined): void {
  verifyGithubSignature({ headers, rawBody: Buffer.alloc(0) }, secret, false);
}

export function verifyGithubSignature(req: WebhookRequest, secret: string | undefined, checkBody = true): void {
  // Fail closed: an empty secret would make every HMAC forgeable.
  if (secret === undefined || secret === '') {
    throw new SlipwayError(
      'SLW_WEBHOOK_NOT_CONFIGURED',
      'github.webhookSecret is not set, so GitHub webhooks are rejected: set it to the secret configured on the GitHub webhook',
    );
  }
  const header = single(req.headers, 'x-hub-signature-256');
  if (header === undefined) {
    throw new SlipwayError('SLW_WEBHOOK_SIGNATURE', `X-Hub-Signature-256 header is missing: set a secret on the GitHub webhook; ${MISMATCH_HINT}`);
  }
  const match = SIGNATURE_RE.exec(header);
  if (!checkBody) {
    if (!match) throw new SlipwayError('SLW_WEBHOOK_SIGNATURE', `X-Hub-Signature-256 does not match the body: ${MISMATCH_HINT}`);
    return;
  }
  const expected = createHmac('sha256', secret).update(req.rawBody).digest();
  // Buffer.from(hex) of 64 hex chars is always 32 bytes, the digest length: timingSafeEqual never throws here.
  const received = match?.[1] === undefined ? undefined : Buffer.from(match[1], 'hex');
  if (received === undefined || received.length !== expected.length || !timingSafeEqual(received, expected)) {
    // Neither value goes into the message or details (docs/architecture.md: secrets never reach errors).
    throw new SlipwayError('SLW_WEBHOOK_SIGNATURE', `X-Hub-Signature-256 does not match the body: ${MISMATCH_HINT}`);
  }
}
