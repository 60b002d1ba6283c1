// A Docker credential helper for tests (docker-credential-helpers' protocol): `get` reads the server address on
// stdin and answers {ServerURL, Username, Secret} from the JSON file $SLIPWAY_TEST_CRED_STORE, or says
// "credentials not found in native keychain" and exits 1. Each call appends the address to $SLIPWAY_TEST_CRED_LOG.
// $SLIPWAY_TEST_CRED_HANG makes it never answer (timeout tests).
const { readFileSync, appendFileSync } = require('node:fs');
if (process.argv[2] !== 'get') {
  process.stdout.write('only get is supported\n');
  process.exit(1);
}
let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (c) => (input += c));
process.stdin.on('end', () => {
  const server = input.trim();
  if (process.env.SLIPWAY_TEST_CRED_LOG) appendFileSync(process.env.SLIPWAY_TEST_CRED_LOG, `${server}\n`);
  if (process.env.SLIPWAY_TEST_CRED_HANG) {
    setInterval(() => undefined, 1000);
    return;
  }
  const store = JSON.parse(readFileSync(process.env.SLIPWAY_TEST_CRED_STORE, 'utf8'));
  const entry = store[server];
  if (!entry) {
    process.stdout.write('credentials not found in native keychain\n');
    process.exit(1);
  }
  process.stdout.write(JSON.stringify({ ServerURL: server, Username: entry.Username, Secret: entry.Secret }));
});
