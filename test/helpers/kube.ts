import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'node:https';
import { parseAllDocuments, stringify } from 'yaml';
import { freePort } from './ports.js';
import { sharedFixture } from './shared.js';

/**
 * A real kube-apiserver (1.20.2, built from Debian's source package by scripts/lib/kube.sh) over a real etcd
 * (Debian's etcd-server 3.4), both on free loopback ports, with Knative Serving's CRDs from
 * ../shared/fixtures/knative-crds loaded. No Knative controller runs: tests that need status play it.
 */

export const KNATIVE_CRDS = ['service.yaml', 'configuration.yaml', 'revision.yaml', 'route.yaml'] as const;

export interface Kube {
  /** https://127.0.0.1:port */
  server: string;
  /** A kubeconfig file (context `slipway-test`) with the server's CA and a system:masters token. */
  kubeconfig: string;
  token: string;
  ca: string;
  /** A raw API call (JSON in and out), for what the test itself does: loading CRDs, playing the controller. */
  call<T = unknown>(method: string, path: string, body?: unknown, contentType?: string): Promise<{ status: number; body: T }>;
  stop(): Promise<void>;
}

function binaries(): { apiserver: string; etcd: string } {
  const cache = process.env['SLIPWAY_KUBE_CACHE'] ?? join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'slipway');
  const apiserver = process.env['SLIPWAY_TEST_KUBE_APISERVER'] || join(cache, 'kube-apiserver-1.20.2');
  const etcd = process.env['SLIPWAY_TEST_ETCD'] || '/usr/bin/etcd';
  for (const [what, path] of [
    ['kube-apiserver', apiserver],
    ['etcd', etcd],
  ] as const) {
    if (!existsSync(path))
      throw new Error(`${what} is not at ${path}: run the tests through scripts/test.sh (bash .ci/run), which builds and caches it (scripts/lib/kube.sh)`);
  }
  return { apiserver, etcd };
}

function start(bin: string, args: string[], log: string[]): ChildProcess {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (chunk: Buffer) => {
    log.push(chunk.toString());
    if (log.length > 200) log.splice(0, log.length - 200);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return child;
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/**
 * Knative 1.23's CRDs use schema features 1.20's API server refuses; two mechanical edits make them load
 *: drop `default: ''` / `default: null`, and list as `required` each list-map key without a default.
 */
export function crdFor120(crd: Record<string, unknown>): Record<string, unknown> {
  const visit = (node: unknown, edit: (o: Record<string, unknown>) => void): void => {
    if (Array.isArray(node)) return node.forEach((n) => visit(n, edit));
    if (!node || typeof node !== 'object') return;
    edit(node as Record<string, unknown>);
    Object.values(node).forEach((n) => visit(n, edit));
  };
  const dropEmptyDefaults = (o: Record<string, unknown>) => {
    if ('default' in o && (o['default'] === '' || o['default'] === null)) delete o['default'];
  };
  // After the first pass, so keys whose only default was '' count as having none.
  const requireMapKeys = (o: Record<string, unknown>) => {
    const keys = o['x-kubernetes-list-map-keys'];
    const items = o['items'] as { properties?: Record<string, { default?: unknown }>; required?: string[] } | undefined;
    if (!Array.isArray(keys) || !items) return;
    const required = new Set(items.required ?? []);
    for (const key of keys as string[]) if (items.properties?.[key] && !('default' in items.properties[key]!)) required.add(key);
    if (required.size) items.required = [...required];
  };
  const copy = structuredClone(crd);
  visit(copy, dropEmptyDefaults);
  visit(copy, requireMapKeys);
  return copy;
}

/** The original CRD documents of a fixture file (as Knative ships them). */
export function knativeCrd(file: (typeof KNATIVE_CRDS)[number]): Record<string, unknown> {
  const docs = parseAllDocuments(sharedFixture(`knative-crds/${file}`).toString('utf8')).map((d) => d.toJS() as Record<string, unknown> | null);
  const crd = docs.find((d) => d?.['kind'] === 'CustomResourceDefinition');
  if (!crd) throw new Error(`knative-crds/${file} holds no CustomResourceDefinition`);
  return crd;
}

/**
 * `kubeletCa`: a CA file the API server trusts for kubelets (`--kubelet-certificate-authority`), for tests that
 * serve a fake kubelet's endpoints behind the real API server's pods/log proxy.
 */
export async function startKube(options: { crds?: boolean; kubeletCa?: string } = {}): Promise<Kube> {
  const { apiserver, etcd } = binaries();
  const dir = mkdtempSync(join(tmpdir(), 'slipway-kube-'));
  const [etcdClient, etcdPeer, securePort] = [await freePort(), await freePort(), await freePort()];
  const log: string[] = [];
  const etcdProc = start(
    etcd,
    [
      '--data-dir',
      join(dir, 'etcd'),
      '--listen-client-urls',
      `http://127.0.0.1:${etcdClient}`,
      '--advertise-client-urls',
      `http://127.0.0.1:${etcdClient}`,
      '--listen-peer-urls',
      `http://127.0.0.1:${etcdPeer}`,
      '--initial-advertise-peer-urls',
      `http://127.0.0.1:${etcdPeer}`,
      '--initial-cluster',
      `default=http://127.0.0.1:${etcdPeer}`,
      '--listen-metrics-urls',
      '',
    ],
    log,
  );

  const token = randomBytes(16).toString('hex');
  writeFileSync(join(dir, 'tokens.csv'), `${token},slipway-test,slipway-test-uid,"system:masters"\n`, { mode: 0o600 });
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  const certDir = join(dir, 'certs');
  const apiProc = start(
    apiserver,
    [
      `--etcd-servers=http://127.0.0.1:${etcdClient}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${securePort}`,
      '--insecure-port=0',
      `--cert-dir=${certDir}`,
      `--token-auth-file=${join(dir, 'tokens.csv')}`,
      '--authorization-mode=RBAC',
      '--service-account-issuer=https://kubernetes.default.svc',
      `--service-account-key-file=${join(dir, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
      '--service-cluster-ip-range=10.96.0.0/24',
      '--disable-admission-plugins=ServiceAccount',
      '--enable-priority-and-fairness=false',
      '--profiling=false',
      ...(options.kubeletCa ? [`--kubelet-certificate-authority=${options.kubeletCa}`] : []),
    ],
    log,
  );

  const server = `https://127.0.0.1:${securePort}`;
  const stop = async () => {
    await stopProcess(apiProc);
    await stopProcess(etcdProc);
    rmSync(dir, { recursive: true, force: true });
  };

  let ca = '';
  let agent: Agent | undefined;
  const call = <T>(method: string, path: string, body?: unknown, contentType = 'application/json') =>
    new Promise<{ status: number; body: T }>((resolve, reject) => {
      const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
      const req = request(
        `${server}${path}`,
        {
          method,
          agent: agent!,
          headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(payload !== undefined ? { 'content-type': contentType } : {}) },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => {
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              /* plain text (e.g. /readyz) */
            }
            resolve({ status: res.statusCode ?? 0, body: parsed as T });
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });

  try {
    // The API server writes its self-signed serving certificate (with its CA after it) at start-up.
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (apiProc.exitCode !== null || etcdProc.exitCode !== null) throw new Error('exited');
      if (!agent && existsSync(join(certDir, 'apiserver.crt'))) {
        ca = readFileSync(join(certDir, 'apiserver.crt'), 'utf8');
        agent = new Agent({ ca, keepAlive: true });
      }
      if (agent) {
        const ready = await call<string>('GET', '/readyz').catch(() => undefined);
        if (ready?.status === 200) break;
      }
      if (Date.now() > deadline) throw new Error('not ready within 60 s');
      await sleep(250);
    }
  } catch (err) {
    await stop();
    throw new Error(`kube-apiserver/etcd did not start (${(err as Error).message}); their output:\n${log.join('').slice(-4000)}`);
  }

  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'test', cluster: { server, 'certificate-authority-data': Buffer.from(ca).toString('base64') } }],
      users: [{ name: 'slipway', user: { token } }],
      contexts: [{ name: 'slipway-test', context: { cluster: 'test', user: 'slipway', namespace: 'default' } }],
      'current-context': 'slipway-test',
    }),
    { mode: 0o600 },
  );

  const kube: Kube = {
    server,
    kubeconfig,
    token,
    ca,
    call,
    stop: async () => {
      agent?.destroy();
      await stop();
    },
  };
  if (options.crds !== false) {
    try {
      await loadKnativeCrds(kube);
    } catch (err) {
      await kube.stop();
      throw err;
    }
  }
  return kube;
}

/** Creates Knative Serving's CRDs (edited for 1.20) and waits until the API serves them. */
export async function loadKnativeCrds(kube: Kube): Promise<void> {
  for (const file of KNATIVE_CRDS) {
    const crd = crdFor120(knativeCrd(file));
    const res = await kube.call('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
    if (res.status !== 201) throw new Error(`loading knative-crds/${file}: ${res.status} ${JSON.stringify(res.body).slice(0, 2000)}`);
  }
  const deadline = Date.now() + 30_000;
  for (;;) {
    const res = await kube.call<{ resources?: { name: string }[] }>('GET', '/apis/serving.knative.dev/v1');
    const names = new Set(res.body.resources?.map((r) => r.name) ?? []);
    if (res.status === 200 && ['services', 'services/status', 'revisions', 'configurations', 'routes'].every((n) => names.has(n))) return;
    if (Date.now() > deadline) throw new Error(`serving.knative.dev/v1 not served within 30 s: ${JSON.stringify(res.body).slice(0, 500)}`);
    await sleep(200);
  }
}
