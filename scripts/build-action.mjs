// Bundles actions/deploy into one file, as a JavaScript action must ship: GitHub runs
// dist/index.js with no npm install. `npm run build:action`; test/deploy/action.test.ts checks the
// committed bundle matches its source. `--outfile` overrides the destination (that test uses it).
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = process.argv.includes('--outfile') ? process.argv[process.argv.indexOf('--outfile') + 1] : `${root}actions/deploy/dist/index.js`;
await build({
  entryPoints: [`${root}actions/deploy/src/main.ts`],
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  // Bundled CommonJS dependencies call require(); ESM has none unless we make one.
  banner: { js: "import { createRequire as __slipwayRequire } from 'node:module'; const require = __slipwayRequire(import.meta.url);" },
  outfile: out,
  legalComments: 'none',
  logLevel: 'warning',
});
