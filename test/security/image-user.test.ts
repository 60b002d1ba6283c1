import { describe, expect, it } from 'vitest';
import { imageFacts } from '../../src/pipeline/image-facts.js';
import { evaluateGate, loadPolicies, type PolicyInput } from '../../src/policy/index.js';
import { parseImageRef, RegistryClient } from '../../src/registry/index.js';
import { layerTar, pushImage, type LayerSpec } from '../enforcer/layers.js';
import { PROVENANCE } from '../helpers/images.js';
import { pushInput } from '../helpers/policy-input.js';
import { SHARED_REGISTRY } from '../helpers/registry.js';

/**
 * The non-root rule judges the numeric uid an image's USER resolves to, not the spelling: real images
 * in the registry (gzip tar layers), /etc/passwd read from their layers, the default policies evaluated.
 */

const client = new RegistryClient({ host: SHARED_REGISTRY });
const set = loadPolicies('policies', { required: true });
const PASSWD = 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\ntoor:x:0:0:backdoor:/root:/bin/sh\nbroken:x:zero:0::/:/bin/sh\n';
const withPasswd: LayerSpec = { 'etc/passwd': { data: PASSWD }, 'bin/app': { data: 'x', mode: 0o755 } };
const noPasswd: LayerSpec = { 'bin/app': { data: 'x', mode: 0o755 } };

const input = async (ref: string): Promise<PolicyInput> => ({ ...pushInput(), image: await imageFacts(client, parseImageRef(ref)) });
const nonRoot = async (ref: string) => {
  const result = evaluateGate(set, 'image', { app: 'hello', branch: 'main', target: 'local' }, await input(ref));
  return result.decisions.filter((d) => d.policy === 'non-root' && d.outcome !== 'allow').map((d) => `${d.policy}#${d.ruleIndex}`);
};

describe('image.config.uid: what USER resolves to', () => {
  it.each([
    ['00', 0, [withPasswd]],
    ['0000', 0, [withPasswd]],
    ['+0', 0, [withPasswd]],
    ['-0', 0, [withPasswd]],
    ['root', 0, [withPasswd]],
    ['root:x', 0, [withPasswd]],
    ['0:0', 0, [withPasswd]],
    ['', 0, [withPasswd]],
    ['toor', 0, [withPasswd]],
    ['toor:1000', 0, [withPasswd]],
    ['1000', 1000, [withPasswd]],
    ['01000:0', 1000, [noPasswd]],
    ['app', 1000, [withPasswd]],
    ['app:app', 1000, [withPasswd]],
    // passwd in a lower layer, an upper layer adds something else: still read
    ['app', 1000, [withPasswd, { 'srv/x': { data: 'y' } }]],
    // an upper layer replaces passwd: the upper one counts
    ['app', 0, [withPasswd, { 'etc/passwd': { data: 'app:x:0:0::/:/bin/sh\n' } }]],
    ['app', null, [noPasswd]],
    ['root', null, [noPasswd]],
    ['nobody', null, [withPasswd]],
    ['broken', null, [withPasswd]],
    ['-1', null, [withPasswd]],
    ['4294967296', null, [withPasswd]],
    // an upper layer deletes passwd (whiteout): nothing to resolve with
    ['app', null, [withPasswd, { 'etc/.wh.passwd': { data: '' } }]],
    // an upper layer makes etc/ opaque: the lower passwd is gone
    ['app', null, [withPasswd, { 'etc/.wh..wh..opq': { data: '' }, 'etc/hosts': { data: '' } }]],
    // passwd is a symlink: not followed, unknown
    ['app', null, [{ 'etc/passwd': { symlink: '/srv/passwd' }, 'srv/passwd': { data: PASSWD } }]],
  ] as const)('USER %j resolves to uid %j', async (user, uid, layers) => {
    const image = await pushImage(client, { layers: layers.map((l) => layerTar(l)), config: { User: user, Labels: PROVENANCE } });
    const facts = await imageFacts(client, parseImageRef(image.ref));
    expect(facts.config.User).toBe(user);
    expect(facts.config.uid).toBe(uid);
    // The default non-root policy: rule 0 refuses uid 0, rule 1 refuses an unknown uid (fail closed).
    expect(await nonRoot(image.ref)).toEqual(uid === 0 ? ['non-root#0'] : uid === null ? ['non-root#1'] : []);
  });
});
