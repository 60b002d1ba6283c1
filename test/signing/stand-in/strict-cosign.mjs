// A strict stand-in for the `cosign` executable (cosign cannot be installed here: no Debian package,
// no registry artifact). It is NOT cosign: it signs nothing cryptographically. It checks its argv the
// way cosign v2's cobra CLI would (known subcommands, known flags per subcommand, flag value forms,
// argument counts, the non-interactive requirements) and keeps a little state so that verify answers
// what sign did. Tests run it through a shell script that sets STRICT_COSIGN_STATE (a directory).
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';

const STATE = process.env.STRICT_COSIGN_STATE;
if (!STATE) {
  process.stderr.write('strict-cosign: STRICT_COSIGN_STATE is not set (run me through the test wrapper)\n');
  process.exit(2);
}

const fail = (message) => {
  process.stderr.write(`Error: ${message}\n`);
  process.exit(1);
};

// cosign v2 flags used by Slipway's wrapper, plus neighbours a wrong wrapper might reach for.
const FLAGS = {
  sign: {
    key: 'string', yes: 'bool', y: 'bool', annotations: 'array', a: 'array', 'tlog-upload': 'bool', 'identity-token': 'string',
    'upload': 'bool', 'recursive': 'bool', 'output-signature': 'string',
  },
  verify: {
    key: 'string', output: 'string', o: 'string', 'certificate-identity': 'string', 'certificate-identity-regexp': 'string',
    'certificate-oidc-issuer': 'string', 'certificate-oidc-issuer-regexp': 'string', 'insecure-ignore-tlog': 'bool',
  },
  version: { json: 'bool' },
};
const ALIAS = { y: 'yes', a: 'annotations', o: 'output' };

/** cobra/pflag parsing: --name=value, --name value, -x value, bool flags take no separate value. */
function parse(sub, argv) {
  const spec = FLAGS[sub];
  const flags = {};
  const args = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      args.push(a);
      continue;
    }
    const long = a.startsWith('--');
    const body = a.slice(long ? 2 : 1);
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    if (!long && name.length !== 1) fail(`unknown shorthand flag: '${name[0]}' in ${a}`);
    const type = spec[name];
    if (!type) fail(long ? `unknown flag: --${name}` : `unknown shorthand flag: '${name}' in ${a}`);
    let value;
    if (type === 'bool') {
      value = eq >= 0 ? body.slice(eq + 1) : 'true';
      if (!['true', 'false'].includes(value)) fail(`invalid argument "${value}" for "--${name}" flag: strconv.ParseBool: parsing "${value}": invalid syntax`);
      value = value === 'true';
    } else if (eq >= 0) {
      value = body.slice(eq + 1);
    } else {
      if (i + 1 >= argv.length) fail(`flag needs an argument: --${name}`);
      value = argv[++i];
    }
    const key = ALIAS[name] ?? name;
    if (type === 'array') (flags[key] ??= []).push(...String(value).split(','));
    else flags[key] = value;
  }
  return { flags, args };
}

const DIGEST_REF = /^[^@\s]+@sha256:[a-f0-9]{64}$/;
const KMS = /^(awskms|gcpkms|azurekms|hashivault|k8s):\/\//;
const statePath = join(STATE, 'signatures.json');
const readState = () => (existsSync(statePath) ? JSON.parse(readFileSync(statePath, 'utf8')) : []);
const env = process.env;

const [sub, ...rest] = process.argv.slice(2);
appendFileSync(
  join(STATE, 'calls.jsonl'),
  `${JSON.stringify({
    argv: process.argv.slice(2),
    // what the caller passed: less the test wrapper's variable and what /bin/sh adds by itself
    envNames: Object.keys(env).filter((n) => !['STRICT_COSIGN_STATE', 'PWD', 'OLDPWD', 'SHLVL', '_'].includes(n)).sort(),
    passwordSha256: env.COSIGN_PASSWORD === undefined ? null : createHash('sha256').update(env.COSIGN_PASSWORD).digest('hex'),
    cosignRepository: env.COSIGN_REPOSITORY ?? null,
  })}\n`,
);
if (existsSync(join(STATE, 'hang'))) setInterval(() => {}, 1000); // a cosign stuck on the network
else main();

function requireImages(args) {
  if (args.length < 1) fail('requires at least 1 arg(s), only received 0');
  for (const image of args) if (!DIGEST_REF.test(image)) fail(`stand-in: ${image} is not image@sha256:<64 hex>; Slipway must pass images by digest`);
}

function keyFile(path, pemType) {
  if (KMS.test(path)) return;
  if (!existsSync(path)) fail(`reading key: open ${path}: no such file or directory`);
  const text = readFileSync(path, 'utf8');
  if (!pemType.some((t) => text.includes(`-----BEGIN ${t}-----`))) fail(`reading key: ${path} is not a ${pemType.join(' or ')} PEM`);
}

function main() {
  if (sub === 'version') {
    const { flags, args } = parse('version', rest);
    if (args.length) fail(`unknown command "${args[0]}" for "cosign version"`);
    if (flags.json) process.stdout.write(`${JSON.stringify({ gitVersion: 'v2.4.1-strict-stand-in', gitCommit: 'none', gitTreeState: 'clean', buildDate: 'none', goVersion: 'none', compiler: 'gc', platform: 'linux/amd64' }, null, 2)}\n`);
    else process.stdout.write('GitVersion:    v2.4.1-strict-stand-in\n');
    return;
  }
  if (sub === 'sign') {
    const { flags, args } = parse('sign', rest);
    requireImages(args);
    if (!flags.yes) fail('stand-in has no terminal: cosign would ask for consent to upload to the transparency log; pass --yes');
    let signer;
    if (flags.key !== undefined) {
      keyFile(flags.key, ['ENCRYPTED SIGSTORE PRIVATE KEY', 'ENCRYPTED COSIGN PRIVATE KEY']);
      if (!KMS.test(flags.key) && env.COSIGN_PASSWORD === undefined) fail('reading key: getting password: no terminal to prompt on and COSIGN_PASSWORD is not set');
      signer = flags.key.replace(/\.key$/, '');
    } else {
      const token = flags['identity-token'] ?? env.SIGSTORE_ID_TOKEN;
      const actions = env.ACTIONS_ID_TOKEN_REQUEST_URL && env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
      if (!token && !actions) fail(`signing [${args.join(' ')}]: getting signer: getting key from Fulcio: no OIDC token: set SIGSTORE_ID_TOKEN or run in GitHub Actions with id-token: write`);
      signer = `keyless:${token ?? 'github-actions'}`;
    }
    for (const a of flags.annotations ?? []) if (!a.includes('=')) fail(`unable to parse annotation: ${a}`);
    const tlog = flags['tlog-upload'] !== false;
    const state = readState();
    for (const image of args) {
      state.push({ image, signer, tlog, repository: env.COSIGN_REPOSITORY ?? image.slice(0, image.indexOf('@')) });
      if (tlog) process.stderr.write(`tlog entry created with index: ${1000 + state.length}\n`);
      process.stderr.write(`Pushing signature to: ${env.COSIGN_REPOSITORY ?? image.slice(0, image.indexOf('@'))}\n`);
    }
    writeFileSync(statePath, JSON.stringify(state));
    return;
  }
  if (sub === 'verify') {
    const { flags, args } = parse('verify', rest);
    requireImages(args);
    const output = flags.output ?? 'json';
    if (!['json', 'text'].includes(output)) fail(`unsupported output format ${output}`);
    let signer;
    if (flags.key !== undefined) {
      keyFile(flags.key, ['PUBLIC KEY']);
      signer = flags.key.replace(/\.pub$/, '');
    } else {
      if (!flags['certificate-identity'] && !flags['certificate-identity-regexp']) fail('--certificate-identity or --certificate-identity-regexp is required for verification in keyless mode');
      if (!flags['certificate-oidc-issuer'] && !flags['certificate-oidc-issuer-regexp']) fail('--certificate-oidc-issuer or --certificate-oidc-issuer-regexp is required for verification in keyless mode');
      signer = `keyless:${flags['certificate-identity'] ?? ''}`;
    }
    const state = readState();
    const payloads = [];
    for (const image of args) {
      const repository = env.COSIGN_REPOSITORY ?? image.slice(0, image.indexOf('@'));
      const found = state.filter((s) => s.image === image && s.signer === signer && s.repository === repository);
      if (found.length === 0) fail('no matching signatures: ');
      if (!flags['insecure-ignore-tlog'] && !found.some((s) => s.tlog)) fail('no matching signatures: signature not found in transparency log');
      const [name, digest] = image.split('@');
      payloads.push({ critical: { identity: { 'docker-reference': name }, image: { 'docker-manifest-digest': digest }, type: 'cosign container image signature' }, optional: null });
    }
    process.stderr.write(`\nVerification for ${args.join(' ')} --\nThe following checks were performed on each of these signatures:\n  - The cosign claims were validated\n  - The signatures were verified against the specified public key\n`);
    process.stdout.write(output === 'json' ? `${JSON.stringify(payloads)}\n` : payloads.map((p) => JSON.stringify(p)).join('\n') + '\n');
    return;
  }
  fail(`unknown command "${sub ?? ''}" for "cosign"\nRun 'cosign --help' for usage.`);
}
