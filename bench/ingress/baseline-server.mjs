// The floor Slipway's webhook ingress is compared against: a bare node:http server that does only
// what no webhook receiver can skip — read the raw body, verify GitHub's X-Hub-Signature-256
// (HMAC-SHA256 over the exact bytes, compared with crypto.timingSafeEqual) — and answer 202 with
// the same shape Slipway answers for a duplicate. No parsing, no storage, no queue.
//
// Usage: BENCH_WEBHOOK_SECRET=... node bench/ingress/baseline-server.mjs
// Prints "baseline listening on http://127.0.0.1:<port>" on stdout once it accepts connections.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';

const secret = process.env.BENCH_WEBHOOK_SECRET;
if (!secret) {
  process.stderr.write('baseline-server: set BENCH_WEBHOOK_SECRET\n');
  process.exit(2);
}
const OK = Buffer.from('{"builds":[],"duplicate":false}');
const PREFIX = 'sha256=';

function answer(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
  res.end(body);
}

function verified(header, body) {
  if (typeof header !== 'string' || !header.startsWith(PREFIX)) return false;
  const given = Buffer.from(header.slice(PREFIX.length), 'hex');
  const expected = createHmac('sha256', secret).update(body).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const server = createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/webhooks/github') return answer(res, 404, Buffer.from('{"title":"not found"}'));
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    if (!verified(req.headers['x-hub-signature-256'], body)) return answer(res, 401, Buffer.from('{"title":"bad signature"}'));
    answer(res, 202, OK);
  });
});
// Same keep-alive behaviour as Fastify's defaults, so connection handling is not what differs.
server.keepAliveTimeout = 72_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`baseline listening on http://127.0.0.1:${server.address().port}\n`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
