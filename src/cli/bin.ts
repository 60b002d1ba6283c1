import { main } from './main.js';

// The only place that touches process globals: everything below gets them passed in.
const code = await main(process.argv.slice(2), { env: process.env, stdout: process.stdout, stderr: process.stderr, cwd: process.cwd() });
process.exitCode = code;
