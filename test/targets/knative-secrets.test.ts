import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servingState } from '../../src/app/services/serving-state.js';
import { configSchema } from '../../src/config/index.js';
import { isSlipwayError } from '../../src/core/errors.js';
import { createLogger } from '../../src/log/index.js';
import { SecretBox } from '../../src/secrets/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { KnativeTarget, type KnativeTargetSettings } from '../../src/targets/index.js';
import { knativeCrd, loadKnativeCrds, startKube, type Kube } from '../helpers/kube.js';
import { hasShared } from '../helpers/shared.js';
import { FakeKnativeController } from './knative-controller.js';

/**
 * App secrets on the knative target against a real kube-apiserver (Knative Serving's CRDs loaded; the test
 * plays the Knative controller, FakeKnativeController): each revision's secrets go into its own immutable
 * Kubernetes Secret, and the Service refers to them with valueFrom.secretKeyRef, so the value is never in
 * the Service, its Revisions, or anything that reads them.
 */

const SECRET = 'kn-secret-value-4b1d-never-inline';
const image = (n: number) => `127.0.0.1:5000/slipway-test/kn@sha256:${createHash('sha256').update(`image-${n}`).digest('hex')}`;

describe.skipIf(!hasShared())('knative target: secrets as Kubernetes Secrets (test plays the Knative controller)', () => {
  let kube: Kube;
  let controller: FakeKnativeController;
  let dir: string;
  let store: Store;
  const box = new SecretBox(Buffer.alloc(32, 3));
  const logger = createLogger({ level: process.env.SLIPWAY_TEST_LOG ?? 'silent' });

  const settings = (): KnativeTargetSettings => {
    const parsed = configSchema.parse({ targets: { kn: { kind: 'knative', kubeconfig: kube.kubeconfig, domain: 'default.example.com', readyTimeout: '20s' } } })
      .targets['kn'];
    if (parsed?.kind !== 'knative') throw new Error('unreachable');
    return parsed;
  };

  beforeAll(async () => {
    kube = await startKube({ crds: false });
    await loadKnativeCrds(kube);
    controller = new FakeKnativeController(kube);
    controller.start();
    dir = mkdtempSync(join(tmpdir(), 'slipway-knative-secrets-'));
    store = await openStore({ url: `sqlite:${join(dir, 'slipway.db')}` });
  }, 90_000);

  afterAll(async () => {
    controller?.stop();
    await store?.close();
    await kube?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a revision with secrets gets its own immutable Secret, referenced by secretKeyRef; the value is in no Service or Revision', async () => {
    const t = new KnativeTarget('kn', settings(), { state: servingState(store.db), logger, secrets: box });
    const rev = await t.deploy('vault', { image: image(1), env: { MODE: 'prod' }, secrets: { API_KEY: box.seal('vault', 'API_KEY', SECRET) } });
    expect(rev).toMatchObject({ name: 'vault-1', state: 'ready' });

    const svc = await kube.call<{ spec: { template: { spec: { containers: { env: unknown[] }[] } } } }>(
      'GET',
      '/apis/serving.knative.dev/v1/namespaces/default/services/vault',
    );
    expect(svc.status).toBe(200);
    expect(svc.body.spec.template.spec.containers[0]!.env).toEqual([
      { name: 'MODE', value: 'prod' },
      { name: 'API_KEY', valueFrom: { secretKeyRef: { name: 'vault-1-secrets', key: 'API_KEY' } } },
    ]);
    // Valid under Knative's own Service schema.
    const crd = knativeCrd('service.yaml') as { spec: { versions: { name: string; schema: { openAPIV3Schema: object } }[] } };
    const ajv = new Ajv({ strict: false, allErrors: true });
    ajv.addFormat('int32', true);
    ajv.addFormat('int64', true);
    const validate = ajv.compile(crd.spec.versions.find((v) => v.name === 'v1')!.schema.openAPIV3Schema);
    expect(validate(svc.body), JSON.stringify(validate.errors)).toBe(true);

    const secret = await kube.call<{ immutable: boolean; type: string; data: Record<string, string>; metadata: { labels: Record<string, string> } }>(
      'GET',
      '/api/v1/namespaces/default/secrets/vault-1-secrets',
    );
    expect(secret.status).toBe(200);
    expect(secret.body).toMatchObject({
      immutable: true,
      type: 'Opaque',
      metadata: { labels: { 'app.kubernetes.io/managed-by': 'slipway', 'slipway.dev/app': 'vault' } },
    });
    expect(Buffer.from(secret.body.data['API_KEY']!, 'base64').toString()).toBe(SECRET);

    const services = JSON.stringify((await kube.call('GET', '/apis/serving.knative.dev/v1/namespaces/default/services')).body);
    const revisions = JSON.stringify((await kube.call('GET', '/apis/serving.knative.dev/v1/namespaces/default/revisions')).body);
    expect(revisions).toContain('vault-1');
    for (const text of [services, revisions]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(Buffer.from(SECRET).toString('base64'));
    }
    expect(controller.errors).toEqual([]);
  });

  it('a newer revision gets its own Secret; deleting the old revision deletes its Secret', async () => {
    const t = new KnativeTarget('kn', settings(), { state: servingState(store.db), logger, secrets: box });
    await t.setTraffic('vault', [{ revision: 'vault-1', percent: 100 }]);
    await t.deploy('vault', { image: image(1), secrets: { API_KEY: box.seal('vault', 'API_KEY', 'rotated') } });
    const second = await kube.call<{ data: Record<string, string> }>('GET', '/api/v1/namespaces/default/secrets/vault-2-secrets');
    expect(Buffer.from(second.body.data['API_KEY']!, 'base64').toString()).toBe('rotated');
    // vault-1's Secret is untouched: its Revision keeps reading what it was made with.
    const first = await kube.call<{ data: Record<string, string> }>('GET', '/api/v1/namespaces/default/secrets/vault-1-secrets');
    expect(Buffer.from(first.body.data['API_KEY']!, 'base64').toString()).toBe(SECRET);

    await t.setTraffic('vault', [{ revision: 'vault-2', percent: 100 }]);
    await t.deleteRevision('vault', 'vault-1');
    expect((await kube.call('GET', '/api/v1/namespaces/default/secrets/vault-1-secrets')).status).toBe(404);
    expect((await kube.call('GET', '/api/v1/namespaces/default/secrets/vault-2-secrets')).status).toBe(200);
    expect(controller.errors).toEqual([]);
  });

  it('a process without the secrets key cannot deploy a revision with secrets, and says what to fix', async () => {
    const t = new KnativeTarget('kn', settings(), { state: servingState(store.db), logger });
    const err = await t.deploy('keyless', { image: image(2), secrets: { API_KEY: box.seal('keyless', 'API_KEY', SECRET) } }).catch((e: unknown) => e);
    expect(isSlipwayError(err, 'SLW_SECRET_KEY')).toBe(true);
    expect((err as Error).message).toMatch(/has secrets but this process has no secrets key/);
    expect((await t.listRevisions('keyless'))[0]).toMatchObject({ name: 'keyless-1', state: 'failed' });
    expect((await kube.call('GET', '/api/v1/namespaces/default/secrets/keyless-1-secrets')).status).toBe(404);
  });
});
