import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configSchema, SECRET_PATHS } from '../../src/config/index.js';
import { redactConfig } from '../../src/config/redact.js';
import { forgeIds, forgeSections, providerOf } from '../../src/forges/registry.js';

/**
 * A new forge is its folder under src/forges/ and one line in src/forges/registry.ts. These tests fail when
 * code outside a forge's folder names it (so a new forge would have to be added there too), or when
 * something the registry should drive (config sections, repository forms, secrets) is written by hand.
 */

const ROOT = join(import.meta.dirname, '..', '..');
const SRC = join(ROOT, 'src');

/** Files outside src/forges/<id>/ that may name a forge, and why: none of them is forge plumbing. */
const ALLOWED: Readonly<Record<string, string>> = {
  'src/forges/registry.ts': 'the one registry line per forge',
  'src/server/auth/authenticate.ts': 'GitHub Actions OIDC tokens name GitHub repositories (an auth method, not a forge)',
  'src/cli/commands/example.ts': "the example app's repository",
  'src/policy/inputs.ts': 'sample policy input shown by `slipway policy`',
  'src/log/logger.ts': "GitLab's webhook token header, redacted in request logs (the logger may not import forges)",
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

/** Code lines (comments left out: prose may name forges) that mention `id` as a word. */
function mentions(file: string, id: string): string[] {
  const word = new RegExp(`\\b${id}\\b`);
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => !/^\s*(\*|\/\/|\/\*)/.test(line))
    .filter((line) => word.test(line.replace(/https?:\/\/\S+/g, '')));
}

describe('forge registry: a new forge is its folder and one registry line', () => {
  it('no code outside a forge folder names a forge, but for the listed exceptions', () => {
    const found: string[] = [];
    for (const id of forgeIds()) {
      for (const file of sources(SRC)) {
        const rel = relative(ROOT, file).split('\\').join('/');
        if (rel.startsWith(`src/forges/${id}/`) || ALLOWED[rel] !== undefined) continue;
        for (const line of mentions(file, id)) found.push(`${rel}: ${line.trim()}`);
      }
    }
    expect(found).toEqual([]);
  });

  it('puts one config section per registered forge in the schema, with its defaults', () => {
    const config = configSchema.parse({});
    expect(Object.keys(forgeSections())).toEqual(forgeIds());
    for (const id of forgeIds()) expect(config[id].gitUrl).toMatch(/^https:\/\//);
    // A key a forge did not declare is refused under its section, like any unknown key.
    const bad = configSchema.safeParse({ [forgeIds()[0]!]: { nonsense: true } });
    expect(bad.success).toBe(false);
  });

  it("accepts apps[].repo for every registered forge and names each forge's form when refusing one", () => {
    for (const id of forgeIds()) {
      expect(configSchema.safeParse({ apps: [{ name: 'hello', repo: `${id}:octo/hello` }] }).success).toBe(true);
    }
    const refused = configSchema.safeParse({ apps: [{ name: 'hello', repo: 'gitea:octo/hello' }] });
    expect(refused.success).toBe(false);
    expect(refused.error?.issues[0]?.message).toBe(
      `write it as ${forgeIds()
        .map((id) => `${id}:${providerOf(id)!.repoExample}`)
        .join(' or ')}`,
    );
    expect(refused.error?.issues[0]?.message).toBe('write it as github:owner/name or gitlab:group/project');
  });

  it('redacts every secret key each forge declares, and only those come from the forges', () => {
    expect(SECRET_PATHS).toEqual(forgeIds().flatMap((id) => providerOf(id)!.secretKeys.map((k) => `${id}.${k}`)));
    expect(SECRET_PATHS).toEqual(['github.webhookSecret', 'github.token', 'github.app.privateKey', 'gitlab.webhookToken', 'gitlab.token']);
    const config = configSchema.parse({
      github: { webhookSecret: 'gh-hook', token: 'gh-token', app: { id: 1, privateKey: 'gh-key' } },
      gitlab: { webhookToken: 'gl-hook', token: 'gl-token' },
    });
    const shown = JSON.stringify(redactConfig(config));
    for (const secret of ['gh-hook', 'gh-token', 'gh-key', 'gl-hook', 'gl-token']) expect(shown).not.toContain(secret);
  });
});
