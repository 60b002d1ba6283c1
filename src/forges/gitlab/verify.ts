import { createHash, timingSafeEqual } from 'node:crypto';
import { SlipwayError } from '../../core/errors.js';
import { single } from '../http.js';
import type { WebhookRequest } from '../types.js';

/**
 * GitLab sends the configured secret token verbatim in `X-Gitlab-Token` (docs.gitlab.com,
 * "Webhooks: secret token"); there is no signature over the body.
 */
const MISMATCH_HINT = 'check the secret token configured on the GitLab webhook matches gitlab.webhookToken';

export function verifyGitlabToken(req: WebhookRequest, token: string | undefined): void {
  // Fail closed: an empty token would accept any request without the header's value mattering.
  if (token === undefined || token === '') {
    throw new SlipwayError(
      'SLW_WEBHOOK_NOT_CONFIGURED',
      'gitlab.webhookToken is not set, so GitLab webhooks are rejected: set it to the secret token configured on the GitLab webhook',
    );
  }
  const received = single(req.headers, 'x-gitlab-token');
  if (received === undefined) {
    throw new SlipwayError('SLW_WEBHOOK_SIGNATURE', `X-Gitlab-Token header is missing: set a secret token on the GitLab webhook; ${MISMATCH_HINT}`);
  }
  // Comparing fixed-length digests keeps timingSafeEqual from throwing on a length difference and
  // keeps the token's length from leaking through timing.
  if (!timingSafeEqual(sha256(received), sha256(token))) {
    throw new SlipwayError('SLW_WEBHOOK_SIGNATURE', `X-Gitlab-Token does not match: ${MISMATCH_HINT}`);
  }
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
