import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { servingState } from '../../src/app/services/serving-state.js';
import { configSchema } from '../../src/config/index.js';
import { isSlipwayError, type SlipwayError } from '../../src/core/errors.js';
import { createLogger } from '../../src/log/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { createTarget, KnativeTarget, knativeService, type KnativeTargetSettings, type Revision } from '../../src/targets/index.js';
import { knativeCrd, loadKnativeCrds, startKube, type Kube } from '../helpers/kube.js';
import { hasShared } from '../helpers/shared.js';
import { API_TOKEN, startTestRuntime } from '../helpers/runtime.js';
import { runCli } from '../helpers/cli.js';
import { FakeKnativeController } from './knative-controller.js';

/**
 * The knative target against a real kube-apiserver 1.20 over a real etcd, with Knative Serving's CRDs
 * (../shared/fixtures/knative-crds) loaded. No Knative controller can run here: tests named "(test plays the
 * Knative controller)" run FakeKnativeController, which writes Service and Revision status as Knative does.
 * Every Service Slipway applies is also checked against the original (unedited) CRD schema with ajv.
 */

const image = (n: number) => `127.0.0.1:5000/slipway-test/kn@sha256:${createHash('sha256').update(`image-${n}`).digest('hex')}`;
const build = (n: number) => ({
  buildId: `b-${String(n).padStart(4, '0')}`,
  commit: String(n % 10).repeat(40),
  buildCreatedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
});

function serviceSchema(): ValidateFunction {
  const crd = knativeCrd('service.yaml') as { spec: { versions: { name: string; schema: { openAPIV3Schema: object } }[] } };
  const v1 = crd.spec.versions.find((v) => v.name === 'v1')!;
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addFormat('int32', true);
  ajv.addFormat('int64', true);
  return ajv.compile(v1.schema.openAPIV3Schema);
}

function expectValid(validate: ValidateFunction, object: unknown): void {
  const ok = validate(object);
  expect(ok, JSON.stringify(validate.errors, null, 1)).toBe(true);
}

/** What these tests read of a Service from the API server. */
interface LiveService {
  metadata: { generation: number; managedFields: { manager: string; operation: string }[] };
  spec: { template: { metadata: { name: string; annotations?: Record<string, string> }; spec: { containers: Record<string, unknown>[] } }; traffic: unknown[] };
  status: { traffic: { tag?: string; url?: string }[] };
}

const revision = (name: string, spec: Partial<Revision['spec']> = {}): Revision => ({
  name,
  app: 'hello',
  target: 'kn',
  n: Number(name.split('-').pop()),
  image: image(1),
  digest: `sha256:${createHash('sha256').update('image-1').digest('hex')}`,
  build: undefined,
  state: 'ready',
  message: undefined,
  createdAt: new Date().toISOString(),
  promotedAt: undefined,
  spec: { env: {}, resources: {}, annotations: {}, ...spec },
});

describe.skipIf(!hasShared())('knative Service objects (validated against the original CRD schema with ajv)', () => {
  it('production, preview, @latest, preview-only and a full template are all valid Services; a wrong type is caught', () => {
    const validate = serviceSchema();
    const full = revision('hello-3', {
      env: { GREETING: 'hi', 'app.mode': 'x' },
      port: 8080,
      resources: { memory: 512 * 2 ** 20, cpu: 0.5 },
      annotations: { 'autoscaling.knative.dev/max-scale': '4', 'dev.slipway.build': 'b-1' },
    });
    const blocks = [
      [{ revision: 'hello-3', percent: 100 }],
      [
        { revision: 'hello-2', percent: 100 },
        { revision: 'hello-3', percent: 0, tag: 'pr-7' },
      ],
      [
        { latestRevision: true, percent: 80 },
        { revision: 'hello-1', percent: 20, tag: 'old' },
      ],
      [{ revision: 'hello-3', percent: 0, tag: 'pr-7' }],
      [],
    ];
    for (const traffic of blocks) {
      const svc = knativeService({ app: 'hello', namespace: 'apps', template: full, traffic, routeGeneration: 4 });
      expectValid(validate, svc);
      expect(svc.spec.traffic.reduce((s, t) => s + t.percent, 0)).toBe(100);
    }
    const svc = knativeService({ app: 'hello', namespace: 'apps', template: full, traffic: blocks[1]!, routeGeneration: 4 });
    expect(svc.spec.template).toEqual({
      metadata: { name: 'hello-3', annotations: { 'autoscaling.knative.dev/max-scale': '4', 'dev.slipway.build': 'b-1' } },
      spec: {
        containers: [
          {
            image: image(1),
            env: [
              { name: 'GREETING', value: 'hi' },
              { name: 'app.mode', value: 'x' },
            ],
            ports: [{ containerPort: 8080 }],
            resources: { limits: { memory: '512Mi', cpu: '500m' } },
          },
        ],
      },
    });
    expect(svc.spec.traffic).toEqual([
      { revisionName: 'hello-2', latestRevision: false, percent: 100 },
      { revisionName: 'hello-3', latestRevision: false, percent: 0, tag: 'pr-7' },
    ]);
    // A preview-only app: Knative must send 100% somewhere, so the newest preview also takes the main URL.
    expect(knativeService({ app: 'hello', namespace: 'apps', template: full, traffic: blocks[3]!, routeGeneration: 1 }).spec.traffic[0]).toEqual({
      revisionName: 'hello-3',
      latestRevision: false,
      percent: 100,
    });
    // The validator is not vacuous: Knative's schema rejects a percent written as a string.
    const broken = structuredClone(svc) as unknown as { spec: { traffic: { percent: unknown }[] } };
    broken.spec.traffic[0]!.percent = '100';
    expect(validate(broken)).toBe(false);
  });
});

describe.skipIf(!hasShared())('knative target against a real kube-apiserver', () => {
  let kube: Kube;
  let controller: FakeKnativeController;
  let dir: string;
  let store: Store;
  let validate: ValidateFunction;
  const logger = createLogger({ level: process.env.SLIPWAY_TEST_LOG ?? 'silent' });

  const settings = (overrides: Record<string, unknown> = {}): KnativeTargetSettings => {
    const parsed = configSchema.parse({
      targets: { kn: { kind: 'knative', kubeconfig: kube.kubeconfig, domain: 'default.example.com', readyTimeout: '20s', ...overrides } },
    }).targets['kn'];
    if (parsed?.kind !== 'knative') throw new Error('unreachable');
    return parsed;
  };
  const target = (overrides: Record<string, unknown> = {}) => new KnativeTarget('kn', settings(overrides), { state: servingState(store.db), logger });
  const readService = async (app: string) => {
    const res = await kube.call<LiveService>('GET', `/apis/serving.knative.dev/v1/namespaces/default/services/${app}`);
    return res.status === 200 ? res.body : undefined;
  };
  const rejection = async (p: Promise<unknown>): Promise<SlipwayError> => {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!isSlipwayError(err)) throw new Error(`expected a SlipwayError, got ${String(err)}`);
    return err;
  };

  beforeAll(async () => {
    kube = await startKube({ crds: false });
    controller = new FakeKnativeController(kube);
    dir = mkdtempSync(join(tmpdir(), 'slipway-knative-'));
    store = await openStore({ url: `sqlite:${join(dir, 'slipway.db')}` });
    validate = serviceSchema();
  }, 90_000);

  afterAll(async () => {
    controller?.stop();
    await store?.close();
    await kube?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  // Later tests need the CRDs: the first loads them once its deploy has failed, as an operator installing Knative would.
  it('a cluster without Knative Serving: deploy fails saying to install it, and the revision is recorded as failed', async () => {
    const t = target();
    const err = await rejection(t.deploy('bare', { image: image(1) }).finally(() => loadKnativeCrds(kube)));
    expect(err.code).toBe('SLW_TARGET_REJECTED');
    expect(err.message).toMatch(
      /^reading Service default\/bare: the cluster at https:\/\/127\.0\.0\.1:\d+ does not serve serving\.knative\.dev\/v1 \(404 page not found\); install Knative Serving there$/,
    );
    expect(err.message).not.toContain(kube.token);
    expect((await t.listRevisions('bare'))[0]).toMatchObject({ name: 'bare-1', state: 'failed' });
  });

  it('a kubeconfig that is missing or lacks the context fails with a message naming what to fix, before any name is used', async () => {
    const missing = await rejection(target({ kubeconfig: join(dir, 'nope') }).deploy('cfg', { image: image(1) }));
    expect(missing).toMatchObject({ code: 'SLW_CONFIG_INVALID' });
    expect(missing.message).toContain(`targets.kn.kubeconfig: ${join(dir, 'nope')} does not exist`);
    const context = await rejection(target({ context: 'prod' }).deploy('cfg', { image: image(1) }));
    expect(context.message).toBe(`targets.kn.context: ${kube.kubeconfig} has no context "prod" (it has: slipway-test)`);
    const reserved = await rejection(target().deploy('cfg', { image: image(1), env: { PORT: '1', 'bad name': 'x' } }));
    expect(reserved).toMatchObject({ code: 'SLW_REVISION_INVALID' });
    expect(reserved.message).toMatch(/env PORT is set by Knative itself.*env name "bad name"/);
    expect(await target().listRevisions('cfg')).toEqual([]);
  });

  // After each test: the fake controller's webhook checks found nothing, and every Service in the cluster
  // (as Slipway applied it, with the status the controller wrote) is valid under Knative's original schema.
  afterEach(async () => {
    expect(controller.errors).toEqual([]);
    const list = await kube.call<{ items: unknown[] }>('GET', '/apis/serving.knative.dev/v1/namespaces/default/services');
    for (const svc of list.body.items ?? []) expectValid(validate, svc);
  });

  it('deploy applies a Service by server-side apply (manager slipway) with template <app>-<n> by digest and waits for Ready (test plays the Knative controller)', async () => {
    controller.start();
    const t = target();
    const rev = await t.deploy('hello', { image: image(1), env: { GREETING: 'hi' }, port: 8080, annotations: { 'autoscaling.knative.dev/max-scale': '3' } });
    expect(rev).toMatchObject({ name: 'hello-1', state: 'ready', image: image(1) });
    const svc = await readService('hello');
    expectValid(validate, svc);
    expect(svc!.spec.template.metadata.name).toBe('hello-1');
    expect(svc!.spec.template.metadata.annotations).toEqual({ 'autoscaling.knative.dev/max-scale': '3' });
    expect(svc!.spec.template.spec.containers[0]).toMatchObject({
      image: image(1),
      env: [{ name: 'GREETING', value: 'hi' }],
      ports: [{ containerPort: 8080 }],
    });
    const managers = svc!.metadata.managedFields.filter((m) => m.operation === 'Apply').map((m) => m.manager);
    expect(managers).toEqual(['slipway']);
    const status = await t.setTraffic('hello', [{ revision: 'hello-1', percent: 100 }]);
    expect(status).toMatchObject({ url: 'http://hello.default.example.com', traffic: [{ revision: 'hello-1', percent: 100, revisionName: 'hello-1' }] });
    expect((await readService('hello'))!.spec.traffic).toEqual([{ revisionName: 'hello-1', latestRevision: false, percent: 100 }]);
  });

  it('with registry credentials, Slipway keeps a dockerconfigjson pull Secret and the Service references it; a named Secret is used as it is (test plays the Knative controller)', async () => {
    controller.start();
    const asked: string[] = [];
    const password = 'kn-registry-password';
    const withCredentials = new KnativeTarget('kn', settings(), {
      state: servingState(store.db),
      logger,
      registryCredentials: async (host) => {
        asked.push(host);
        return { username: 'robot', password };
      },
    });
    await withCredentials.deploy('private', { image: image(1) });
    expect(asked).toEqual(['127.0.0.1:5000']);
    const svc = await readService('private');
    expectValid(validate, svc);
    expect((svc!.spec.template.spec as { imagePullSecrets?: unknown }).imagePullSecrets).toEqual([{ name: 'slipway-registry-127-0-0-1-5000' }]);
    const secret = await kube.call<{ type: string; data: Record<string, string>; metadata: { labels: Record<string, string> } }>(
      'GET',
      '/api/v1/namespaces/default/secrets/slipway-registry-127-0-0-1-5000',
    );
    expect(secret.status).toBe(200);
    expect(secret.body.type).toBe('kubernetes.io/dockerconfigjson');
    expect(secret.body.metadata.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'slipway' });
    const config = JSON.parse(Buffer.from(secret.body.data['.dockerconfigjson']!, 'base64').toString()) as { auths: Record<string, { auth: string }> };
    expect(Object.keys(config.auths)).toEqual(['127.0.0.1:5000']);
    expect(Buffer.from(config.auths['127.0.0.1:5000']!.auth, 'base64').toString()).toBe(`robot:${password}`);

    // A changed password updates the same Secret on the next deploy.
    const rotated = new KnativeTarget('kn', settings(), {
      state: servingState(store.db),
      logger,
      registryCredentials: async () => ({ username: 'robot', password: 'rotated-pw' }),
    });
    await rotated.deploy('private', { image: image(2) });
    const again = await kube.call<{ data: Record<string, string> }>('GET', '/api/v1/namespaces/default/secrets/slipway-registry-127-0-0-1-5000');
    expect(Buffer.from(again.body.data['.dockerconfigjson']!, 'base64').toString()).toContain(Buffer.from('robot:rotated-pw').toString('base64'));

    // A Secret named in the target's settings is referenced and never written.
    const named = new KnativeTarget('kn', settings({ imagePullSecret: 'team-pull' }), {
      state: servingState(store.db),
      logger,
      registryCredentials: async () => {
        throw new Error('not asked when a Secret is named');
      },
    });
    await named.deploy('named', { image: image(1) });
    expect(((await readService('named'))!.spec.template.spec as { imagePullSecrets?: unknown }).imagePullSecrets).toEqual([{ name: 'team-pull' }]);
    expect((await kube.call('GET', '/api/v1/namespaces/default/secrets/team-pull')).status).toBe(404);

    // Without credentials the Service pulls anonymously: no reference.
    await target().deploy('public', { image: image(1) });
    expect((await readService('public'))!.spec.template.spec).not.toHaveProperty('imagePullSecrets');
  });

  it('promotion pins production at 100% and previews as tag pr-<n> at 0%, never goes backwards, and removes tags on close (test plays the Knative controller)', async () => {
    controller.start();
    const t = target();
    expect(await t.promote('shop', { image: image(10), ...build(10) })).toMatchObject({
      revision: 'shop-1',
      moved: true,
      url: 'http://shop.default.example.com',
    });
    const preview = await t.promote('shop', { image: image(11), ...build(11), tag: 'pr-7' });
    expect(preview).toMatchObject({ revision: 'shop-2', moved: true, tagUrl: 'http://pr-7-shop.default.example.com' });
    let svc = await readService('shop');
    expectValid(validate, svc);
    expect(svc!.spec.traffic).toEqual([
      { revisionName: 'shop-1', latestRevision: false, percent: 100 },
      { revisionName: 'shop-2', latestRevision: false, percent: 0, tag: 'pr-7' },
    ]);
    // The status the controller wrote resolves the tag to its own URL.
    expect(svc!.status.traffic.find((x) => x.tag === 'pr-7')?.url).toBe('http://pr-7-shop.default.example.com');

    expect(await t.promote('shop', { image: image(12), ...build(12) })).toMatchObject({ revision: 'shop-3', moved: true });
    const older = await t.promote('shop', { image: image(9), ...build(9) });
    expect(older).toMatchObject({ revision: undefined, moved: false });
    expect(older.reason).toContain('newer build');
    // Repeating a promotion is a no-op: same revision, nothing new in the cluster.
    const generation = (await readService('shop'))!.metadata.generation;
    expect(await t.promote('shop', { image: image(12), ...build(12) })).toMatchObject({ revision: 'shop-3', moved: true });
    expect((await readService('shop'))!.metadata.generation).toBe(generation);

    await t.removeTag('shop', 'pr-7');
    await t.removeTag('shop', 'pr-7');
    svc = await readService('shop');
    expectValid(validate, svc);
    expect(svc!.spec.traffic).toEqual([{ revisionName: 'shop-3', latestRevision: false, percent: 100 }]);
    expect((await t.status('shop')).revisions.map((r) => `${r.name}:${r.percent}`)).toEqual(['shop-3:100', 'shop-2:0', 'shop-1:0']);
  });

  it('a revision Knative fails is reported with its condition message; the last good template comes back and traffic stays (test plays the Knative controller)', async () => {
    controller.start();
    const t = target();
    await t.promote('bad', { image: image(20), ...build(20) });
    controller.failing.set(image(21), 'Unable to fetch image "127.0.0.1:5000/slipway-test/kn": failed to resolve image to digest');
    const err = await rejection(t.promote('bad', { image: image(21), ...build(21) }));
    expect(err.code).toBe('SLW_REVISION_FAILED');
    expect(err.message).toContain(
      'revision bad-2 on Knative (default/bad) failed: ConfigurationsReady=False (RevisionFailed): Revision "bad-2" failed with message: Unable to fetch image',
    );
    expect((await t.listRevisions('bad')).map((r) => `${r.name}:${r.state}`)).toEqual(['bad-2:failed', 'bad-1:ready']);
    const svc = await readService('bad');
    expect(svc!.spec.template.metadata.name).toBe('bad-1');
    expect(svc!.spec.traffic).toEqual([{ revisionName: 'bad-1', latestRevision: false, percent: 100 }]);
  });

  it('without a controller answering, deploy times out naming the last conditions seen', async () => {
    controller.stop();
    const err = await rejection(target({ readyTimeout: '1500ms' }).deploy('slow', { image: image(30) }));
    expect(err.code).toBe('SLW_REVISION_FAILED');
    expect(err.message).toBe(
      'revision slow-1 on Knative (default/slow) was not ready within 2 s: the Service has no status conditions yet (is the Knative Serving controller running?)',
    );
  });

  it('a Service carrying a newer route generation than the store is never overwritten with older traffic (test plays the Knative controller)', async () => {
    controller.start();
    const t = target();
    await t.promote('guard', { image: image(40), ...build(40) });
    const res = await kube.call(
      'PATCH',
      '/apis/serving.knative.dev/v1/namespaces/default/services/guard',
      { metadata: { annotations: { 'slipway.dev/route-generation': '99' } } },
      'application/merge-patch+json',
    );
    expect(res.status).toBe(200);
    const err = await rejection(t.setTraffic('guard', [{ latestRevision: true, percent: 100 }]));
    expect(err.code).toBe('SLW_TRAFFIC_CONFLICT');
    expect(err.message).toMatch(/carries route generation 99 while Slipway's store has \d+; is another Slipway/);
    expect((await readService('guard'))!.spec.traffic).toEqual([{ revisionName: 'guard-1', latestRevision: false, percent: 100 }]);
  });

  it('deleteRevision removes the Revision object unless it takes traffic (test plays the Knative controller)', async () => {
    controller.start();
    const t = target();
    await t.promote('del', { image: image(50), ...build(50) });
    await t.promote('del', { image: image(51), ...build(51) });
    expect((await kube.call('GET', '/apis/serving.knative.dev/v1/namespaces/default/revisions/del-1')).status).toBe(200);
    const inUse = await rejection(t.deleteRevision('del', 'del-2'));
    expect(inUse.code).toBe('SLW_REVISION_IN_USE');
    await t.deleteRevision('del', 'del-1');
    expect((await kube.call('GET', '/apis/serving.knative.dev/v1/namespaces/default/revisions/del-1')).status).toBe(404);
    expect((await t.listRevisions('del')).map((r) => r.name)).toEqual(['del-2']);
  });

  it('slipway traffic and revisions work against a knative target through the API (test plays the Knative controller)', async () => {
    controller.start();
    const kubeconfig = join(dir, 'kubeconfig-cli');
    writeFileSync(kubeconfig, (await import('node:fs')).readFileSync(kube.kubeconfig));
    const rt = await startTestRuntime({
      worker: false,
      config: { targets: { prod: { kind: 'knative', kubeconfig, domain: 'default.example.com', readyTimeout: '20s' } } },
    });
    try {
      const prod = rt.targets.get('prod')!;
      expect(prod.kind).toBe('knative');
      expect(createTarget('x', settings(), { state: servingState(store.db), logger }).kind).toBe('knative');
      await prod.promote('web', { image: image(60), ...build(60) });
      await prod.promote('web', { image: image(61), ...build(61) });
      const split = await runCli(
        ['traffic', 'web', '--traffic', 'web-1=30', '--traffic', 'web-2=70', '--tag', 'web-1=old', '--target', 'prod', '--server', rt.url],
        { env: { SLIPWAY_TOKEN: API_TOKEN }, cwd: rt.dir },
      );
      expect(split.stderr).toBe('');
      expect(split.code).toBe(0);
      expect((await readService('web'))!.spec.traffic).toEqual([
        { revisionName: 'web-1', latestRevision: false, percent: 30, tag: 'old' },
        { revisionName: 'web-2', latestRevision: false, percent: 70 },
      ]);
      const listed = await runCli(['revisions', 'web', '--target', 'prod', '--server', rt.url], { env: { SLIPWAY_TOKEN: API_TOKEN }, cwd: rt.dir });
      expect(listed.stdout).toMatch(/web-2\s.*70%/);
      expect(listed.stdout).toMatch(/web-1\s.*30%.*old/);
    } finally {
      await rt.stop();
    }
  });
});
