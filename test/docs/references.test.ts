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

describe('docs/architecture.md', () => {
  it('lists every module with the imports ESLint allows it', async () => {
    // eslint.config.js is plain JavaScript; imported by URL so its tables are read as ESLint reads them.
    const rules = (await import(new URL('../../eslint.config.js', import.meta.url).href)) as {
      MAY_IMPORT: Record<string, (string | { types: string })[]>;
      MAY_NOT_IMPORT: Record<string, string[]>;
    };
    const doc = readFileSync(new URL('../../docs/architecture.md', import.meta.url), 'utf8');
    const rows = new Map([...doc.matchAll(/^\| `src\/([a-z]+)` \| [^|]+ \| ([^|]+) \|$/gm)].map((m) => [m[1]!, m[2]!.trim()]));
    const expected = new Map<string, string>([
      ...Object.entries(rules.MAY_IMPORT).map(([m, allowed]): [string, string] => [
        m,
        allowed.length === 0 ? 'nothing' : allowed.map((a) => (typeof a === 'string' ? a : `${a.types} types`)).join(', '),
      ]),
      ...Object.entries(rules.MAY_NOT_IMPORT).map(([m, forbidden]): [string, string] => [m, `anything but ${forbidden.join(', ')}`]),
    ]);
    expect(Object.fromEntries(rows), 'docs/architecture.md "Modules" differs from eslint.config.js').toEqual(Object.fromEntries(expected));
  });
});
