import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configReference, configurationDoc } from '../../src/config/index.js';
import { errorsDoc } from '../../src/core/errors-doc.js';
import { errorCatalog } from '../../src/core/errors.js';

const doc = (name: string) => readFileSync(new URL(`../../docs/${name}`, import.meta.url), 'utf8');

describe('generated references in docs/', () => {
  it('docs/configuration.md is what the config schema gives', () => {
    const committed = doc('configuration.md');
    expect(committed, 'run `npm run build && node scripts/config-reference.mjs` and commit docs/configuration.md').toBe(configurationDoc());
    // Every key the schema knows is a row a reader can find, with its variable and default.
    for (const r of configReference()) expect(committed).toContain(`| \`${r.key}\` | \`${r.env}\` |`);
  });

  it('docs/errors.md is what the error catalog gives', () => {
    const committed = doc('errors.md');
    expect(committed, 'run `npm run build && node scripts/error-reference.mjs` and commit docs/errors.md').toBe(errorsDoc());
    for (const e of errorCatalog()) expect(committed).toContain(`| \`${e.code}\` | ${e.httpStatus} |`);
  });

  it('the README links the references instead of copying them', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    expect(readme).toContain('docs/configuration.md');
    expect(readme).toContain('docs/errors.md');
    expect(readme).not.toContain('| key | environment variable | default | meaning |');
  });
});
