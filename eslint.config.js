// @ts-check
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

/**
 * docs/architecture.md "Modules": what each module may import besides
 * itself. `{ types: 'x' }` means `import type` only. Modules listed before their folder exists keep the
 * rule ready for them. `workers` is the top-level `workers/` folder, imported by `src/app/` only.
 *
 * @type {Record<string, (string | { types: string })[]>}
 */
export const MAY_IMPORT = {
  core: [],
  // Each forge declares its own config section, repository form and secret keys (src/forges/<forge>/); the
  // schema takes them from the forge registry. Not the other way round: forges never read the config, the
  // composition root hands each one its parsed section.
  config: ['core', 'forges'],
  log: ['core', { types: 'config' }],
  metrics: [],
  store: ['core', 'config'],
  forges: ['core', 'log'],
  buildkit: ['core', 'log'],
  registry: ['core', 'log'],
  // policy parses image references with the registry module's parser (a value import, not only types).
  policy: ['core', 'registry'],
  injection: ['core', 'registry'],
  signing: ['core', 'registry'],
  // Targets read their settings as the config schema parses them (types only: the schema stays in config).
  targets: ['core', 'log', { types: 'config' }, { types: 'registry' }],
  // AES-256-GCM for app secrets at rest and the key that seals them.
  secrets: ['core'],
  queue: ['core', 'config'],
  // The one way builds enter: store rows in one transaction, then queue jobs.
  admission: ['core', 'store', 'queue'],
  // The serving API calls the targets the composition root passes in (types only).
  server: ['core', 'config', 'log', 'metrics', 'forges', 'queue', 'store', 'admission', 'secrets', { types: 'targets' }],
  // Forge feedback composes store reads, forge calls and queue jobs, like the server does; comment commands admit builds.
  feedback: ['core', 'config', 'log', 'forges', 'queue', 'store', 'admission'],
  // The HTTP API client shared by the CLI and the GitHub Action: it packs a build context (buildkit's
  // walker) and reads the API's view types; it never runs server code.
  client: ['core', 'buildkit', { types: 'server' }],
};

/**
 * The modules that compose the others may import anything except what is listed: only the composition
 * root (`src/app/`) starts workers, commands (`src/cli/`) reach processes through it, and nothing
 * below the commands imports them.
 *
 * @type {Record<string, string[]>}
 */
export const MAY_NOT_IMPORT = {
  pipeline: ['cli', 'app', 'workers'],
  app: ['cli'],
  cli: ['workers'],
};

const MODULES = [...Object.keys(MAY_IMPORT), ...Object.keys(MAY_NOT_IMPORT), 'workers'];

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
  const why = `docs/architecture.md "Modules": ${module}/ may import ${names.length === 0 ? 'nothing internal' : names.join(', ')}`;
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

/**
 * One config block per composing module: its files may import any module but the listed ones.
 * @param {[string, string[]]} entry
 * @returns {import('eslint').Linter.Config}
 */
function composerDirection([module, forbidden]) {
  const why = `docs/architecture.md "Modules": ${module}/ may not import ${forbidden.join(', ')}`;
  return {
    name: `slipway/imports/${module}`,
    files: [`src/${module}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: forbidden.map((m) => ({ group: moduleGroup(m), message: `${why}; go through src/app/ or pass it in.` })) },
      ],
    },
  };
}

/** The worker entry points run pipeline and feedback jobs; they never reach back into the app or the commands. */
const WORKERS = {
  name: 'slipway/imports/workers',
  files: ['workers/**/*.ts'],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          {
            group: ['**/src/app', '**/src/app/**', '**/src/cli', '**/src/cli/**'],
            message: 'docs/architecture.md "Modules": workers/ may not import src/app or src/cli; src/app starts the workers.',
          },
        ],
      },
    ],
  },
};

/** Node's globals for the bench's plain JavaScript (TypeScript files get them from @types/node). */
const NODE_GLOBALS = Object.fromEntries(
  [
    'AbortController',
    'AbortSignal',
    'Buffer',
    'TextDecoder',
    'TextEncoder',
    'URL',
    'URLSearchParams',
    'clearImmediate',
    'clearInterval',
    'clearTimeout',
    'console',
    'fetch',
    'performance',
    'process',
    'queueMicrotask',
    'setImmediate',
    'setInterval',
    'setTimeout',
    'structuredClone',
  ].map((g) => [g, /** @type {const} */ ('readonly')]),
);

export default defineConfig(
  { ignores: ['dist/', 'node_modules/', 'enforcer/', 'actions/*/dist/'] },
  {
    name: 'slipway/recommended',
    files: ['src/**/*.{ts,mjs}', 'workers/**/*.ts', 'test/**/*.ts', 'bench/**/*.{ts,mjs,js}', 'actions/*/src/**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.recommended],
  },
  {
    // The bench's plain JavaScript and the git hook script Slipway installs (src/server/git/hook).
    name: 'slipway/node-js',
    files: ['bench/**/*.{mjs,js}', 'src/**/*.mjs'],
    languageOptions: { globals: NODE_GLOBALS },
  },
  Object.entries(MAY_IMPORT).map(importDirection),
  Object.entries(MAY_NOT_IMPORT).map(composerDirection),
  WORKERS,
);
