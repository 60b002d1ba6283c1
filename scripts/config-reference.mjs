// Prints the README's configuration reference from the config schema (run after `npm run build`):
//   node scripts/config-reference.mjs
// test/config/readme.test.ts fails when the README's table differs, so the README stays true.
import { configReference } from '../dist/src/config/index.js';

const esc = (s) => s.replace(/\|/g, '\\|');
console.log('| key | environment variable | default | meaning |');
console.log('|---|---|---|---|');
for (const r of configReference()) console.log(`| \`${r.key}\` | \`${r.env}\` | \`${esc(r.default)}\` | ${esc(r.description)} |`);
