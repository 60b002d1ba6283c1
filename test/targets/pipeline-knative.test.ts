import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listStages } from '../../src/store/index.js';
import { TestRepo } from '../helpers/git.js';
import { startKube, type Kube } from '../helpers/kube.js';
import { buildEnded, deliverGithub, servingApp, startTestRuntime, waitFor, type TestRuntime } from '../helpers/runtime.js';
import { hasShared } from '../helpers/shared.js';
import { githubPullRequest, githubPush } from '../helpers/webhooks.js';
import { FakeKnativeController } from './knative-controller.js';

/**
 * Serving on the knative target, through the whole pipeline: real git, BuildKit, registry,
 * injection and signing, then a real kube-apiserver with Knative's CRDs. No Knative controller can run
 * here, so the test plays it (FakeKnativeController) and reads what Slipway applied.
 */

interface ServiceView {
  spec: {
    template: { metadata: { name: string }; spec: { containers: { image: string }[] } };
    traffic: { revisionName?: string; percent: number; tag?: string }[];
  };
}

describe.skipIf(!hasShared())('the pipeline promotes to Knative Services (real kube-apiserver; test plays the Knative controller)', () => {
  let kube: Kube;
  let controller: FakeKnativeController;
  let rt: TestRuntime;
  let repo: TestRepo;

  beforeAll(async () => {
    kube = await startKube();
    controller = new FakeKnativeController(kube, 'apps');
    controller.start();
    const ns = await kube.call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'apps' } });
    expect(ns.status).toBe(201);
    repo = new TestRepo();
    rt = await startTestRuntime({
      config: {
        targets: { prod: { kind: 'knative', kubeconfig: kube.kubeconfig, namespace: 'apps', domain: 'apps.example.com', readyTimeout: '30s' } },
        apps: [{ name: 'web', repo: 'github:octo/web', cloneUrl: repo.bare, branches: { main: 'prod' }, previews: { target: 'prod' } }],
      },
    });
  }, 90_000);

  afterAll(async () => {
    controller?.stop();
    await rt?.stop();
    repo?.cleanup();
    await kube?.stop();
  });

  const service = async () => (await kube.call<ServiceView>('GET', '/apis/serving.knative.dev/v1/namespaces/apps/services/web')).body;

  it('a push to main becomes the Service template <app>-1 by its signed digest with 100%; a pull request adds tag pr-<n> at 0% and loses it on close', async () => {
    const pushed = await deliverGithub(rt, 'push', githubPush({ repo: 'octo/web', commit: repo.commit(servingApp('first\n')) }));
    const build = await buildEnded(rt, pushed.builds[0]!.id);
    expect(build.state).toBe('ready');
    const stages = await listStages(rt.store.db, build.id);
    const promote = JSON.parse(stages.find((s) => s.stage === 'promote')!.output!) as { revision: string; url: string; moved: boolean };
    expect(promote).toMatchObject({ revision: 'web-1', url: 'http://web.apps.example.com', moved: true });
    // What is served is the image the pipeline signed: the injected digest, never a tag.
    const signed = JSON.parse(stages.find((s) => s.stage === 'sign')!.output!) as { image?: string; digest?: string };
    let svc = await service();
    expect(svc.spec.template.metadata.name).toBe('web-1');
    expect(svc.spec.template.spec.containers[0]!.image).toMatch(/^127\.0\.0\.1:5000\/.+@sha256:[0-9a-f]{64}$/);
    expect(JSON.stringify(signed)).toContain(svc.spec.template.spec.containers[0]!.image.split('@')[1]!);
    expect(svc.spec.traffic).toEqual([{ revisionName: 'web-1', latestRevision: false, percent: 100 }]);

    const sha = repo.commit(servingApp('preview\n'), 'feature');
    const opened = await deliverGithub(rt, 'pull_request', githubPullRequest({ repo: 'octo/web', action: 'opened', number: 3, headSha: sha }));
    expect((await buildEnded(rt, opened.builds[0]!.id)).state).toBe('ready');
    svc = await service();
    expect(svc.spec.traffic).toEqual([
      { revisionName: 'web-1', latestRevision: false, percent: 100 },
      { revisionName: 'web-2', latestRevision: false, percent: 0, tag: 'pr-3' },
    ]);

    await deliverGithub(rt, 'pull_request', githubPullRequest({ repo: 'octo/web', action: 'closed', number: 3, headSha: sha }));
    await waitFor(async () => ((await service()).spec.traffic.some((t) => t.tag === 'pr-3') ? undefined : true), 'tag pr-3 to leave the Service', 30_000);
    expect((await service()).spec.traffic).toEqual([{ revisionName: 'web-1', latestRevision: false, percent: 100 }]);
    expect(controller.errors).toEqual([]);
  });
});
