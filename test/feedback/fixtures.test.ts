import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { createGithubClient } from '../../src/forges/github/client.js';
import { setCommitStatus } from '../../src/forges/github/status.js';

/**
 * `@octokit/fixtures` "create-status": requests and responses recorded against api.github.com. Served
 * here by a strict replay (method, path, Authorization and body must equal the recording, in order), so
 * Slipway's commit status call is held to what GitHub really accepted and answered.
 */
interface Recorded {
  method: string;
  path: string;
  body: unknown;
  status: number;
  response: unknown;
  reqheaders: Record<string, string>;
  headers: Record<string, string>;
}

const require = createRequire(import.meta.url);
const scenario = JSON.parse(
  readFileSync(require.resolve('@octokit/fixtures/scenarios/api.github.com/create-status/normalized-fixture.json'), 'utf8'),
) as Recorded[];

describe('GitHub commit status against @octokit/fixtures create-status (recorded GitHub answers)', () => {
  const closers: (() => void)[] = [];
  afterEach(() => closers.splice(0).forEach((c) => c()));

  it('sends exactly the recorded requests and reads the recorded answers', async () => {
    const posts = scenario.filter((r) => r.method === 'post');
    const mismatches: string[] = [];
    let next = 0;
    const server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        const want = posts[next++];
        const got = {
          method: req.method?.toLowerCase(),
          path: req.url,
          authorization: req.headers.authorization,
          body: raw ? (JSON.parse(raw) as unknown) : undefined,
        };
        if (
          !want ||
          got.method !== want.method ||
          got.path !== want.path ||
          got.authorization !== want.reqheaders['authorization'] ||
          JSON.stringify(got.body) !== JSON.stringify(want.body)
        ) {
          mismatches.push(`${JSON.stringify(got)} ≠ ${JSON.stringify(want && { method: want.method, path: want.path, body: want.body })}`);
          res.writeHead(400).end();
          return;
        }
        res.writeHead(want.status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(want.response));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(() => server.close());
    const { port } = server.address() as AddressInfo;
    const token = posts[0]!.reqheaders['authorization']!.replace(/^token /, '');
    const client = createGithubClient({ url: `http://127.0.0.1:${port}`, token }, undefined)!;
    for (const recorded of posts) {
      const body = recorded.body as { state: 'failure' | 'success'; target_url: string; description: string; context: string };
      const sha = recorded.path.split('/').at(-1)!;
      await setCommitStatus(client, {
        repo: 'octokit-fixture-org/create-status',
        sha,
        state: body.state,
        detailsUrl: body.target_url,
        description: body.description,
        name: body.context,
      });
    }
    expect(mismatches).toEqual([]);
    expect(next).toBe(2);
  });
});
