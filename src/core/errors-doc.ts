import { errorCatalog } from './errors.js';

/**
 * docs/errors.md, whole: the error catalog as a table. `node scripts/error-reference.mjs` writes it;
 * test/docs/references.test.ts fails when the committed file differs, so a new code is documented by
 * adding it to the catalog.
 */
export function errorsDoc(): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const rows = errorCatalog().map((e) => `| \`${e.code}\` | ${e.httpStatus} | ${e.retryable ? 'yes' : 'no'} | ${esc(e.title)} |`);
  return [
    '# Error codes',
    '',
    '<!-- Generated from src/core/errors.ts by `npm run build && node scripts/error-reference.mjs`; do not edit. -->',
    '',
    INTRO,
    '',
    '| code | HTTP status | retrying can help | title |',
    '|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

const INTRO = `Every failure Slipway reports carries one of these stable codes. The API sends it as RFC 9457 problem
details (\`application/problem+json\`): \`type\` is \`urn:slipway:error:<code>\`, \`code\` is the code, \`title\` the
title below, \`status\` the HTTP status, \`detail\` a message that says what to fix, plus extra fields such as
\`retryAfterMs\` (never secrets). The CLI prints \`error: <message> (<code>)\` and exits 1. Scripts should branch
on \`code\`, never on \`detail\`. "Retrying can help" means the same request may succeed later unchanged
(an unreachable dependency, a conflict); the others need a change first.`;
