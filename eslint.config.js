// @ts-check
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

/**
 * DESIGN.md, "Modules (`src/`), and which way imports point": what each module may import besides
 * itself. `{ types: 'x' }` is the table's "x types": `import type` only. `pipeline` and `cli` may import
 * anything, so they get no block. Modules listed before their folder exists keep the rule ready for them.
 *
 * @type {Record<string, (string | { types: string })[]>}
 */
const MAY_IMPORT = {
  core: [],
  config: ['core'],
  log: ['core', { types: 'config' }],
  store: ['core', 'config'],
  forges: ['core', 'log'],
  buildkit: ['core', 'log'],
  registry: ['core', 'log'],
  // policy parses image references with the registry module's parser (a value import; DESIGN.md said types).
  policy: ['core', 'registry'],
  enforcer: ['core', 'registry'],
  signing: ['core', 'registry'],
  targets: ['core', 'log', { types: 'registry' }],
  queue: ['core', 'config'],
  // The one way builds enter: store rows in one transaction, then queue jobs.
  admission: ['core', 'store', 'queue'],
  server: ['core', 'config', 'log', 'forges', 'queue', 'store', 'admission'],
  // Forge feedback composes store reads, forge calls and queue jobs, like the server does; comment commands admit builds.
  feedback: ['core', 'config', 'log', 'forges', 'queue', 'store', 'admission'],
};

const MODULES = [...Object.keys(MAY_IMPORT), 'pipeline', 'cli'];

/**
 * Relative imports of another module at any depth (`../store/index.js`, `../../store/x.js`), and only
 * those: `**` before `..` covers the `../../` of nested files, and the `..` keeps a module's own files
 * (`./schema.js`, `./github/detect.js`) and npm packages that happen to contain the name from matching.
 * Patterns are gitignore-style (the `ignore` package, relative paths allowed).
 */
const moduleGroup = (/** @type {string} */ name) => [`**/../${name}`, `**/../${name}/**`];

/**
 * One config block per module: its files may not import the modules the table does not list for it.
 * @param {[string, (string | { types: string })[]]} entry
 * @returns {import('eslint').Linter.Config}
 */
function importDirection([module, allowed]) {
  const values = allowed.filter((a) => typeof a === 'string');
  const typeOnly = allowed.flatMap((a) => (typeof a === 'string' ? [] : [a.types]));
  const names = allowed.map((a) => (typeof a === 'string' ? a : `${a.types} types`));
  const why = `DESIGN.md "Modules": ${module}/ may import ${names.length === 0 ? 'nothing internal' : names.join(', ')}`;
  const forbidden = MODULES.filter((m) => m !== module && !values.includes(m) && !typeOnly.includes(m));
  return {
    name: `slipway/imports/${module}`,
    files: [`src/${module}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...forbidden.map((m) => ({ group: moduleGroup(m), message: `${why}; move the shared piece down or pass it in.` })),
            ...typeOnly.map((m) => ({
              group: moduleGroup(m),
              allowTypeImports: true,
              message: `${why}: use \`import type\` for ${m}.`,
            })),
          ],
        },
      ],
    },
  };
}

/** Node's globals for the bench's plain JavaScript (TypeScript files get them from @types/node). */
const NODE_GLOBALS = Object.fromEntries(
  [
    'AbortController', 'AbortSignal', 'Buffer', 'TextDecoder', 'TextEncoder', 'URL', 'URLSearchParams',
    'clearImmediate', 'clearInterval', 'clearTimeout', 'console', 'fetch', 'performance', 'process',
    'queueMicrotask', 'setImmediate', 'setInterval', 'setTimeout', 'structuredClone',
  ].map((g) => [g, /** @type {const} */ ('readonly')]),
);

export default defineConfig(
  { ignores: ['dist/', 'node_modules/', 'enforcer/', 'actions/*/dist/'] },
  {
    name: 'slipway/recommended',
    files: ['src/**/*.ts', 'workers/**/*.ts', 'test/**/*.ts', 'bench/**/*.{ts,mjs,js}', 'actions/*/src/**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.recommended],
  },
  {
    name: 'slipway/bench-js',
    files: ['bench/**/*.{mjs,js}'],
    languageOptions: { globals: NODE_GLOBALS },
  },
  Object.entries(MAY_IMPORT).map(importDirection),
);
