import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configReference } from '../../src/config/index.js';

describe('README configuration reference', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  it.each(configReference().map((r) => [r.key, r] as const))('documents %s as the schema defines it', (_key, r) => {
    const esc = (s: string) => s.replace(/\|/g, '\\|');
    expect(readme).toContain(`| \`${r.key}\` | \`${r.env}\` | \`${esc(r.default)}\` | ${esc(r.description)} |`);
  });
});
