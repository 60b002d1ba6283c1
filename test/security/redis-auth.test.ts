import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/index.js';
import { redactConfig } from '../../src/config/redact.js';
import { isSlipwayError } from '../../src/core/errors.js';
import { connectRedis } from '../../src/queue/index.js';
import { accepts } from '../../src/targets/local/readiness.js';
import { freePort } from '../helpers/ports.js';

/**
 * Redis with AUTH, an ACL user and TLS: a second, real redis-server started here on a free loopback
 * port (the shared one on 6379 has no password), and certificates made with openssl.
 */

const dir = mkdtempSync(join(tmpdir(), 'slipway-redis-auth-'));
const servers: ChildProcess[] = [];
const clients: Redis[] = [];
const PASSWORD = 'pa@ss:w0rd';
const encoded = encodeURIComponent(PASSWORD);

async function startRedis(args: string[], readyPort: number): Promise<void> {
  const child = spawn('redis-server', ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...args], { stdio: 'ignore' });
  servers.push(child);
  for (let i = 0; i < 100; i++) {
    if (await accepts(readyPort)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server on ${readyPort} did not start`);
}

const connect = async (url: string, ca?: string) => {
  const c = await connectRedis(ca ? { url, ca } : url, 'test');
  clients.push(c);
  return c;
};

let port: number;

beforeAll(async () => {
  port = await freePort();
  await startRedis(['--port', String(port), '--requirepass', PASSWORD, '--user', 'alice', 'on', '>alice-secret', '~slipway:*', '&*', '+@all'], port);
});

afterAll(async () => {
  for (const c of clients) c.disconnect();
  for (const s of servers) s.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

describe('Redis AUTH and ACL users', () => {
  it("connects with the default user's password and the db from the URL", async () => {
    const c = await connect(`redis://:${encoded}@127.0.0.1:${port}/3`);
    await c.set('slipway:k', 'v');
    expect(await c.get('slipway:k')).toBe('v');
    expect(await c.client('INFO')).toMatch(/ db=3 /);
  });

  it('connects as an ACL user, whose rules apply', async () => {
    const c = await connect(`redis://alice:alice-secret@127.0.0.1:${port}`);
    expect(await c.call('ACL', 'WHOAMI')).toBe('alice');
    await c.set('slipway:alice', '1');
    await expect(c.set('other:key', '1')).rejects.toThrow(/NOPERM/);
  });

  it.each([
    ['a wrong password', () => `redis://:wrong-${encoded}@127.0.0.1:${port}`],
    ['a wrong ACL password', () => `redis://alice:nope@127.0.0.1:${port}`],
    ['no password', () => `redis://127.0.0.1:${port}`],
  ])('%s fails with a configuration error that says so, without the password', async (_n, url) => {
    const err = await connect(url()).catch((e: unknown) => e);
    expect(isSlipwayError(err) && err.code).toBe('SLW_CONFIG_INVALID');
    expect((err as Error).message).toMatch(/refused Slipway's credentials .*redis:\/\/user:password@host:port\/db/);
    expect((err as Error).message).not.toMatch(/wrong-|nope/);
    expect((err as Error).message).toMatch(new RegExp(`Redis at redis://(\\*\\*\\*@)?127\\.0\\.0\\.1:${port} `));
  });

  it('the effective configuration never shows the password, even one with a raw @ and :', () => {
    const config = configSchema.parse({ redis: `redis://alice:${PASSWORD}@127.0.0.1:${port}/0` });
    const shown = JSON.stringify(redactConfig(config));
    expect(shown).toContain(`redis://alice:[redacted]@127.0.0.1:${port}/0`);
    expect(shown).not.toContain('pa@ss');
    expect(shown).not.toContain('w0rd');
  });

  it('a CA file needs a rediss:// URL', () => {
    expect(() => configSchema.parse({ redis: 'redis://127.0.0.1:6379', redisTls: { ca: 'ca.pem' } })).toThrow(/rediss:\/\//);
  });
});

describe('Redis over TLS (rediss://)', () => {
  it('verifies the server against the configured CA and authenticates', async () => {
    const ssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    ssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=slipway-test-ca', '-keyout', 'ca.key', '-out', 'ca.pem']);
    ssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr']);
    writeFileSync(join(dir, 'san.cnf'), 'subjectAltName=IP:127.0.0.1\n');
    ssl([
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '1',
      '-out',
      'server.pem',
      '-extfile',
      join(dir, 'san.cnf'),
    ]);
    const tlsPort = await freePort();
    await startRedis(
      [
        '--port',
        '0',
        '--tls-port',
        String(tlsPort),
        '--tls-cert-file',
        join(dir, 'server.pem'),
        '--tls-key-file',
        join(dir, 'server.key'),
        '--tls-ca-cert-file',
        join(dir, 'ca.pem'),
        '--tls-auth-clients',
        'no',
        '--requirepass',
        PASSWORD,
      ],
      tlsPort,
    );
    const c = await connect(`rediss://:${encoded}@127.0.0.1:${tlsPort}/1`, join(dir, 'ca.pem'));
    expect(await c.ping()).toBe('PONG');
    expect(await c.client('INFO')).toMatch(/ db=1 /);
  });
});
