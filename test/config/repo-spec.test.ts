import { describe, expect, it } from 'vitest';
import { appsOfRepo, isAppRepo, parseRepoSpec } from '../../src/config/index.js';

describe("an app's repo, matched once (webhooks, OIDC tokens, previews, feedback)", () => {
  const apps = [
    { name: 'web', repo: 'github:Octo/Hello' },
    { name: 'api', repo: 'github:octo/hello' },
    { name: 'lab', repo: 'gitlab:group/sub/hello' },
  ];

  it('matches the forge and the path, whatever their letter case', () => {
    expect(appsOfRepo(apps, 'github', 'octo/HELLO').map((a) => a.name)).toEqual(['web', 'api']);
    expect(appsOfRepo(apps, 'gitlab', 'group/sub/hello').map((a) => a.name)).toEqual(['lab']);
    expect(isAppRepo(apps[2]!, 'github', 'group/sub/hello')).toBe(false);
    expect(appsOfRepo(apps, 'github', 'octo/hello-fork')).toEqual([]);
  });

  it('matches nothing for a build that came from no forge', () => {
    expect(appsOfRepo(apps, null, 'octo/hello')).toEqual([]);
    expect(appsOfRepo(apps, 'github', null)).toEqual([]);
  });

  it('splits a repo spec into forge and path', () => {
    expect(parseRepoSpec('gitlab:group/sub/hello')).toEqual({ forge: 'gitlab', path: 'group/sub/hello' });
  });
});
