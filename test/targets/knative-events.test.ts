import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { RuntimeEventRecorder } from '../../src/app/services/runtime-events.js';
import { servingState } from '../../src/app/services/serving-state.js';
import { startRouters } from '../../src/app/services/serving.js';
import { configSchema } from '../../src/config/index.js';
import { createLogger } from '../../src/log/index.js';
import { listRuntimeEvents, openStore, type Store } from '../../src/store/index.js';
import { KnativeTarget, type KnativeTargetSettings } from '../../src/targets/index.js';
import { startKube, type Kube } from '../helpers/kube.js';

/**
 * Runtime events from the knative target. Real: kube-apiserver 1.20 over etcd (pods listed and watched,
 * RBAC, the pods/log subresource with its parameter handling, and its proxying to the node's kubelet over
 * TLS), the SQLite store and the runtime event recorder. Not real: there is no kubelet, so tests named
 * "(fake kubelet)" serve the kubelet's `/containerLogs/<ns>/<pod>/<container>` endpoint themselves, strictly
 * (anything but the request the API server makes for a follow with timestamps is refused and remembered),
 * and play the kubelet's status writes (pod phase Running). Pods are created directly, bound to a Node
 * object whose address is that fake kubelet on 127.0.0.1.
 */

const NS = 'default';

const decision = (path: string, decisionKind = 'denied') =>
  `slipway-enforcer: ${JSON.stringify({ v: 1, ts: '2026-12-04T17:00:00.000Z', decision: decisionKind, gate: 'landlock', syscall: 'execve', path, sha256: null, pid: 7, uid: 1000, parent: null, rule: 'exec-allowlist', detail: 'not on the allow-list' })}`;

/** A kubelet timestamp (RFC 3339 with nanoseconds) for an ISO time. */
const kubeletTime = (ms: number) => `${new Date(ms).toISOString().slice(0, 23)}000042Z`;

interface LogRequest {
  pod: string;
  container: string;
  query: Record<string, string>;
}

/** A strict fake of the kubelet's container log endpoint (HTTPS, as the API server dials kubelets). */
class FakeKubelet {
  readonly requests: LogRequest[] = [];
  readonly refused: string[] = [];
  /** Per pod: the log as (time in ms, line). */
  readonly logs = new Map<string, { at: number; line: string }[]>();
  private readonly open = new Map<string, ServerResponse[]>();
  private server!: Server;
  port = 0;

  constructor(private readonly tls: { cert: string; key: string }) {}

  async start(): Promise<void> {
    this.server = createServer(this.tls, (req, res) => {
      const url = new URL(req.url ?? '/', 'https://127.0.0.1');
      const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
      const query = Object.fromEntries(url.searchParams);
      const allowed = new Set(['follow', 'timestamps', 'sinceTime']);
      const bad =
        req.method !== 'GET'
          ? 'method'
          : !m || m[1] !== NS
            ? 'path'
            : query['follow'] !== 'true' || query['timestamps'] !== 'true'
              ? 'follow/timestamps'
              : Object.keys(query).some((k) => !allowed.has(k))
                ? 'query'
                : query['sinceTime'] !== undefined && !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(query['sinceTime'])
                  ? 'sinceTime'
                  : !this.logs.has(m[2]!)
                    ? 'unknown pod'
                    : undefined;
      if (bad || !m) {
        this.refused.push(`${bad}: ${req.method} ${req.url}`);
        res.writeHead(bad === 'unknown pod' ? 404 : 400).end(bad);
        return;
      }
      const pod = m[2]!;
      this.requests.push({ pod, container: m[3]!, query });
      if (m[3] !== 'user-container') {
        res.writeHead(400).end('container');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' });
      // As the kubelet: sinceTime is inclusive, compared with the line's full timestamp.
      const since = query['sinceTime'] ? Date.parse(query['sinceTime']) : -Infinity;
      for (const l of this.logs.get(pod)!) if (l.at >= since) res.write(`${kubeletTime(l.at)} ${l.line}\n`);
      const list = this.open.get(pod) ?? [];
      list.push(res);
      this.open.set(pod, list);
      res.on('close', () =>
        this.open.set(
          pod,
          (this.open.get(pod) ?? []).filter((r) => r !== res),
        ),
      );
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Appends a line and sends it on the pod's open follows. */
  write(pod: string, at: number, line: string): void {
    this.logs.get(pod)!.push({ at, line });
    for (const res of this.open.get(pod) ?? []) res.write(`${kubeletTime(at)} ${line}\n`);
  }

  /** Ends the pod's follows, as the kubelet does when the container stops. */
  cut(pod: string): void {
    const list = this.open.get(pod) ?? [];
    this.open.set(pod, []);
    for (const res of list) res.end();
  }

  openFollows(pod: string): number {
    return (this.open.get(pod) ?? []).length;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeout = 15_000): Promise<T> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

// No shared fixtures needed (no CRDs): this runs wherever scripts/lib/kube.sh has built the API server.
describe('knative runtime events against a real kube-apiserver', () => {
  let kube: Kube;
  let kubelet: FakeKubelet;
  let dir: string;
  let store: Store;
  const logLines: string[] = [];
  const logger = createLogger({
    level: 'warn',
    destination: new Writable({
      write(chunk: Buffer, _enc, cb) {
        logLines.push(chunk.toString());
        cb();
      },
    }),
  });

  const settings = (kubeconfig: string): KnativeTargetSettings => {
    const parsed = configSchema.parse({ targets: { kn: { kind: 'knative', kubeconfig, domain: 'default.example.com' } } }).targets['kn'];
    if (parsed?.kind !== 'knative') throw new Error('unreachable');
    return parsed;
  };

  const call = async (method: string, path: string, body?: unknown, contentType?: string) => {
    const res = await kube.call(method, path, body, contentType);
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body).slice(0, 500)}`);
    return res.body;
  };

  /** A pod as Knative's revision deployment makes it (labels, user-container and queue-proxy). */
  const createPod = (name: string, labels: Record<string, string>, nodeName?: string) =>
    call('POST', `/api/v1/namespaces/${NS}/pods`, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, labels },
      spec: {
        ...(nodeName ? { nodeName } : {}),
        containers: [
          { name: 'user-container', image: '127.0.0.1:5000/slipway-test/kn:1' },
          { name: 'queue-proxy', image: '127.0.0.1:5000/slipway-test/queue:1' },
        ],
      },
    });
  /** What the kubelet would write once the containers started. */
  const markRunning = (name: string) =>
    call('PATCH', `/api/v1/namespaces/${NS}/pods/${name}/status`, { status: { phase: 'Running' } }, 'application/merge-patch+json');

  const revisionLabels = (app: string, revision: string) => ({
    'serving.knative.dev/service': app,
    'serving.knative.dev/revision': revision,
    'serving.knative.dev/configuration': app,
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'slipway-knative-events-'));
    // The fake kubelet's serving certificate, which the API server is told to trust for kubelets.
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=fake-kubelet',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'kubelet.key'),
        '-out',
        join(dir, 'kubelet.crt'),
      ],
      { stdio: 'ignore' },
    );
    kubelet = new FakeKubelet({ cert: readFileSync(join(dir, 'kubelet.crt'), 'utf8'), key: readFileSync(join(dir, 'kubelet.key'), 'utf8') });
    await kubelet.start();
    kube = await startKube({ crds: false, kubeletCa: join(dir, 'kubelet.crt') });
    store = await openStore({ url: `sqlite:${join(dir, 'slipway.db')}` });
    // A Node object whose kubelet endpoint is the fake kubelet (the API server dials it for pods/log).
    await call('POST', '/api/v1/nodes', {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'node-1' },
      status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: kubelet.port } } },
    });
    const state = servingState(store.db);
    const spec = { env: {}, resources: {}, annotations: {} };
    const digest = `sha256:${createHash('sha256').update('kn').digest('hex')}` as const;
    await state.createRevision({ app: 'hello', target: 'kn', image: `127.0.0.1:5000/slipway-test/kn@${digest}`, digest, build: undefined, spec });
    await state.createRevision({ app: 'hello', target: 'kn', image: `127.0.0.1:5000/slipway-test/kn@${digest}`, digest, build: undefined, spec });
  }, 120_000);

  afterAll(async () => {
    await store?.close();
    await kube?.stop();
    await kubelet?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('pods of Slipway revisions are listed and watched; a running one is followed (fake kubelet): decisions stored under its revision label, resumed without double counts, stopped when the pod goes', async () => {
    const recorder = new RuntimeEventRecorder({ store, logger, flushInterval: 20 });
    const t = new KnativeTarget('kn', settings(kube.kubeconfig), { state: servingState(store.db), logger, events: recorder });
    const pod = 'hello-1-deployment-5d8f-abcde';
    const early = 'hello-2-deployment-77aa-fghij';
    const foreign = 'other-1-deployment-1234-zzzzz';
    const pending = 'hello-1-deployment-5d8f-pendg';
    for (const p of [pod, early, foreign]) kubelet.logs.set(p, []);
    const t0 = Date.now() - 5_000;
    kubelet.write(pod, t0, 'listening on :8080');
    kubelet.write(pod, t0 + 10, decision('/usr/bin/curl'));
    kubelet.write(pod, t0 + 20, decision(`/tmp/${'x'.repeat(5000)}`)); // over 4 KiB: dropped whole
    kubelet.write(pod, t0 + 30, `${decision('/bin/sh', 'audited')} trailing`); // not JSON: the recorder ignores it
    kubelet.write(foreign, t0, decision('/usr/bin/nc'));

    // Before collection starts: one pod exists already (the list), the others arrive through the watch.
    await createPod(pod, revisionLabels('hello', 'hello-1'), 'node-1');
    // As `slipway up` starts it: the knative target has no router, but collects in the routers' process.
    expect(await startRouters(new Map([['kn', t]]), logger)).toEqual([]);
    await createPod(foreign, revisionLabels('other', 'other-1'), 'node-1');
    await createPod(pending, revisionLabels('hello', 'hello-1'));
    await createPod(early, revisionLabels('hello', 'hello-2'), 'node-1');
    await sleep(500);
    // All are Pending: nothing is followed, the kubelet is not asked.
    expect(t.followedPods).toEqual([]);
    expect(kubelet.requests).toEqual([]);

    await markRunning(pod);
    await markRunning(foreign);
    await until('the running pod to be followed', () => kubelet.openFollows(pod) === 1);
    expect(t.followedPods).toEqual([pod]);
    await until('the decision to be stored', async () => (await listRuntimeEvents(store.db, { app: 'hello', limit: 10 })).length === 1);
    const [row] = await listRuntimeEvents(store.db, { app: 'hello', limit: 10 });
    expect(row).toMatchObject({
      app: 'hello',
      target: 'kn',
      revision: 'hello-1',
      container: pod,
      decision: 'denied',
      path: '/usr/bin/curl',
      count: 1,
      lastAt: new Date(t0 + 10).toISOString(),
    });
    // The API server asked the kubelet for user-container, following with timestamps, from the start.
    expect(kubelet.requests).toEqual([{ pod, container: 'user-container', query: { follow: 'true', timestamps: 'true' } }]);

    // A line while following, then the container restarts (the kubelet ends the stream): Slipway reconnects from
    // the last stored line's second; the lines the kubelet sends again are not counted twice.
    const t1 = Date.now();
    kubelet.write(pod, t1, decision('/usr/bin/wget'));
    await until('the second decision', async () => (await listRuntimeEvents(store.db, { app: 'hello', limit: 10 })).length === 2);
    kubelet.cut(pod);
    kubelet.write(pod, t1 + 1, decision('/usr/bin/wget'));
    await until('the reconnect', () => kubelet.openFollows(pod) === 1 && kubelet.requests.length === 2, 10_000);
    expect(kubelet.requests[1]).toEqual({
      pod,
      container: 'user-container',
      query: { follow: 'true', timestamps: 'true', sinceTime: `${new Date(t1).toISOString().slice(0, 19)}Z` },
    });
    await until(
      'the line written during the reconnect',
      async () => (await listRuntimeEvents(store.db, { app: 'hello', limit: 10 })).find((r) => r.path === '/usr/bin/wget')?.count === 2,
    );
    await recorder.flush();
    const rows = await listRuntimeEvents(store.db, { app: 'hello', limit: 10 });
    expect(rows.map((r) => [r.path, r.count]).sort()).toEqual([
      ['/usr/bin/curl', 1],
      ['/usr/bin/wget', 2],
    ]);

    // A second revision's pod (hello-2 is in the store too) is followed once it runs, beside the first.
    await markRunning(early);
    await until('the second revision pod to be followed', () => kubelet.openFollows(early) === 1);
    expect(t.followedPods).toEqual([early, pod].sort());

    // The pod goes (grace period 0: with no kubelet to confirm, a graceful delete would only mark it): its
    // follow is closed and not reopened.
    await call('DELETE', `/api/v1/namespaces/${NS}/pods/${pod}?gracePeriodSeconds=0`);
    await until('the follow to close', () => kubelet.openFollows(pod) === 0);
    const asked = kubelet.requests.filter((r) => r.pod === pod).length;
    await sleep(2_500);
    expect(kubelet.requests.filter((r) => r.pod === pod).length).toBe(asked);
    expect(t.followedPods).toEqual([early]);

    // Nothing for the Service Slipway does not know, nor for the pod that never ran.
    expect(kubelet.requests.some((r) => r.pod === foreign || r.pod === pending)).toBe(false);
    expect(await listRuntimeEvents(store.db, { app: 'other', limit: 10 })).toEqual([]);
    expect(kubelet.refused).toEqual([]);

    await t.close();
    await until('close to end the follows', () => kubelet.openFollows(early) === 0);
    await recorder.close();
    for (const p of [early, foreign, pending]) await call('DELETE', `/api/v1/namespaces/${NS}/pods/${p}?gracePeriodSeconds=0`);
  }, 60_000);

  it('a user without get on pods/log: the real API server answers 403, which is logged once for the pod and nothing else fails', async () => {
    // A service account with what listing needs (list, watch on pods) but not get on pods/log, and a token for it (TokenRequest).
    await call('POST', `/api/v1/namespaces/${NS}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'slipway-nolog' } });
    await call('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/roles`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'pods-only' },
      rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch'] }],
    });
    await call('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/rolebindings`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'pods-only' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pods-only' },
      subjects: [{ kind: 'ServiceAccount', name: 'slipway-nolog', namespace: NS }],
    });
    const tokenRequest = (await call('POST', `/api/v1/namespaces/${NS}/serviceaccounts/slipway-nolog/token`, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds: 3600 },
    })) as { status: { token: string } };
    const kubeconfig = join(dir, 'nolog.kubeconfig');
    writeFileSync(
      kubeconfig,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'test', cluster: { server: kube.server, 'certificate-authority-data': Buffer.from(kube.ca).toString('base64') } }],
        users: [{ name: 'nolog', user: { token: tokenRequest.status.token } }],
        contexts: [{ name: 'nolog', context: { cluster: 'test', user: 'nolog', namespace: NS } }],
        'current-context': 'nolog',
      }),
      { mode: 0o600 },
    );

    const pod = 'hello-1-deployment-5d8f-nolog';
    kubelet.logs.set(pod, [{ at: Date.now(), line: decision('/usr/bin/curl') }]);
    await createPod(pod, revisionLabels('hello', 'hello-1'), 'node-1');
    await markRunning(pod);
    const recorder = new RuntimeEventRecorder({ store, logger, flushInterval: 20 });
    const t = new KnativeTarget('kn', settings(kubeconfig), { state: servingState(store.db), logger, events: recorder });
    const before = logLines.length;
    t.collectRuntimeEvents();
    await until('the 403 to be logged', () => logLines.slice(before).some((l) => l.includes(pod)));
    // Backoff 1 s, 2 s: at least two more attempts happen in this time, none logged again.
    await sleep(3_500);
    const about = logLines
      .slice(before)
      .filter((l) => l.includes(pod))
      .map((l) => JSON.parse(l) as { level: number; msg: string; err: { status: number; message: string } });
    expect(about).toHaveLength(1);
    expect(about[0]!.msg).toContain('grant get on pods/log');
    expect(about[0]!.err.status).toBe(403);
    expect(about[0]!.err.message).toContain('pods/log');
    // The token is never logged.
    expect(logLines.join('')).not.toContain(tokenRequest.status.token);
    expect(kubelet.requests.some((r) => r.pod === pod)).toBe(false);
    expect(t.followedPods).toEqual([pod]);
    await t.close();
    await recorder.close();
    expect(t.followedPods).toEqual([]);
    await call('DELETE', `/api/v1/namespaces/${NS}/pods/${pod}?gracePeriodSeconds=0`);
  }, 30_000);
});
