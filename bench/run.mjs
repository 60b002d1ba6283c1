// Runs Slipway's benches: every bench/<name>/index.mjs, in sequence, each in its own Node process,
// its report printed as it goes. `npm run bench` runs them all; `node bench/run.mjs ingress` runs one
// (several names may be given). Figures are reported, never asserted: the exit code is non-zero only
// when a bench crashes (or is unknown), not when a figure misses its aim.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(HERE, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(HERE, d.name, 'index.mjs')))
  .map((d) => d.name)
  .sort();

const asked = process.argv.slice(2);
const unknown = asked.filter((n) => !available.includes(n));
if (unknown.length) {
  process.stderr.write(`bench: no bench named ${unknown.join(', ')}; available: ${available.join(', ') || '(none)'}\n`);
  process.exit(2);
}
const names = asked.length ? asked : available;

let current;
for (const signal of ['SIGINT', 'SIGTERM']) {
  // Pass it on and let the bench stop what it started; exit once it has.
  process.on(signal, () => current?.kill(signal));
}

const crashed = [];
for (const name of names) {
  process.stdout.write(`\n=== bench ${name} ===\n`);
  const code = await new Promise((resolve) => {
    current = spawn(process.execPath, [join(HERE, name, 'index.mjs')], { stdio: 'inherit' });
    current.on('exit', (c, s) => resolve(c ?? (s ? 128 : 1)));
    current.on('error', (err) => {
      process.stderr.write(`bench ${name}: ${err.message}\n`);
      resolve(1);
    });
  });
  current = undefined;
  if (code !== 0) crashed.push(`${name} (exit ${code})`);
}
if (crashed.length) {
  process.stderr.write(`\nbench: crashed: ${crashed.join(', ')}\n`);
  process.exit(1);
}
