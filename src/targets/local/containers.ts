import { randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { SlipwayError } from '../../core/errors.js';
import type { Logger } from '../../log/index.js';
import type { RegistryCredentials } from '../../registry/index.js';
import { imageHost } from '../names.js';
import { DEFAULT_APP_RUNTIME, type AppRuntime, type Revision, type SecretOpener } from '../types.js';
import type { DockerEngine } from './docker.js';
import { hostConfig, ISOLATED_PORT, makeRunDir, PROXY_SOCKET, removeRunDir } from './isolation.js';
import { LABEL, containerLabels, identify, type ContainerIdentity } from './labels.js';
import { freeLoopbackPort, waitUntilAccepting } from './readiness.js';

/** The enforcer's version label: an image without it has no proxy to serve an isolated container through. */
const ENFORCER_LABEL = 'dev.slipway.enforcer.version';

/**
 * A running (or paused) container of a revision: reached through its proxy socket (isolated network)
 * or on its own loopback port (host network).
 */
export interface Instance {
  id: string;
  port: number;
  socket?: string;
}

export interface ContainersOptions {
  engine: DockerEngine;
  target: string;
  /** Labels every container of this installation carries (and adoption filters on). */
  labels: Record<string, string>;
  startTimeout: number;
  drainTimeout: number;
  /** Per-app confinement (config `apps[]`); default DEFAULT_APP_RUNTIME. */
  apps?: Record<string, AppRuntime>;
  /** Opens the sealed secrets of a revision's spec when a container starts. */
  secrets?: SecretOpener;
  /** Directory (created 0700) holding each isolated container's bind-mounted run directory. */
  runRoot: string;
  logger: Logger;
  /** Credentials for the image's registry (TargetDeps.registryCredentials); anonymous without. */
  registryCredentials?: ((host: string) => Promise<RegistryCredentials | undefined>) | undefined;
}

/** Starts, pauses, resumes and stops a revision's containers through the Engine. One job: container lifecycle. */
export class Containers {
  constructor(private readonly o: ContainersOptions) {}

  /** Pulls the image by digest unless the Engine already has it (the registry was checked by the promote gate). */
  async ensureImage(image: string): Promise<void> {
    if (await this.o.engine.hasImage(image)) return;
    const host = imageHost(image);
    await this.o.engine.pull(image, await this.o.registryCredentials?.(host), host);
  }

  /**
   * One container of `revision`, started and accepting connections. Environment per Knative's runtime
   * contract ("Environment variables"): PORT (MUST), K_SERVICE, K_CONFIGURATION, K_REVISION (SHOULD).
   * Slipway's app is the Knative Service and its Configuration, so both are the app name. A container
   * that does not get ready is removed and its last output reported. Confinement: isolation.ts.
   */
  async launch(revision: Revision): Promise<Instance> {
    const runtime = this.o.apps?.[revision.app] ?? DEFAULT_APP_RUNTIME;
    const isolated = runtime.network !== 'host';
    if (isolated && !(ENFORCER_LABEL in (await this.o.engine.imageLabels(revision.image)))) {
      throw new SlipwayError(
        'SLW_REVISION_FAILED',
        `revision ${revision.name}: the image does not carry Slipway's enforcer, which serves isolated apps (network: isolated, the default) to the router; promote images through the pipeline (it injects it), or set apps[].network: host for ${revision.app}`,
      );
    }
    if (!isolated)
      this.o.logger.warn(
        { app: revision.app, revision: revision.name },
        `revision ${revision.name} runs with the host's network (apps[].network: host): it can reach every service on this machine's loopback`,
      );
    // Secrets are opened here, for the container's environment only: never into labels (the router and
    // `docker ps` read those) and never into a log line.
    const secrets = this.openSecrets(revision);
    const port = isolated ? (revision.spec.port ?? ISOLATED_PORT) : await freeLoopbackPort();
    const run = isolated ? makeRunDir(this.o.runRoot, randomBytes(6).toString('hex')) : undefined;
    const env = {
      ...revision.spec.env,
      ...secrets,
      PORT: String(port),
      K_SERVICE: revision.app,
      K_CONFIGURATION: revision.app,
      K_REVISION: revision.name,
      ...(run ? { SLIPWAY_PROXY_SOCKET: PROXY_SOCKET } : {}),
    };
    let id: string;
    try {
      id = await this.o.engine.create({
        name: `slipway-${this.o.target}-${revision.name}-${randomBytes(3).toString('hex')}`,
        image: revision.image,
        env,
        labels: containerLabels(this.o.labels, this.o.target, revision.app, revision.name, port, run?.socket),
        stopTimeout: Math.ceil(this.o.drainTimeout / 1000),
        hostConfig: hostConfig(runtime, run?.dir),
        ...(revision.spec.resources.memory ? { memory: revision.spec.resources.memory } : {}),
        ...(revision.spec.resources.cpu ? { cpu: revision.spec.resources.cpu } : {}),
      });
    } catch (err) {
      removeRunDir(run?.socket);
      throw err;
    }
    const instance: Instance = { id, port, ...(run ? { socket: run.socket } : {}) };
    try {
      await this.o.engine.start(id);
      const outcome = await waitUntilAccepting(
        instance,
        Date.now() + this.o.startTimeout,
        async () => (await this.o.engine.inspectState(id))?.status === 'running',
      );
      if (outcome !== 'ready') {
        const output = await this.o.engine.logs(id).catch(() => '');
        const why =
          outcome === 'exited' ? 'exited before it accepted connections' : `did not accept connections on PORT=${port} within ${this.o.startTimeout} ms`;
        throw new SlipwayError(
          'SLW_REVISION_FAILED',
          `revision ${revision.name}: the container ${why}; the app must listen on the port in $PORT (Knative runtime contract)${output ? `. Its last output:\n${output}` : ''}`,
        );
      }
    } catch (err) {
      await this.remove(instance).catch(() => undefined);
      throw err;
    }
    return instance;
  }

  private openSecrets(revision: Revision): Record<string, string> {
    const sealed = Object.entries(revision.spec.secrets ?? {});
    if (sealed.length === 0) return {};
    if (!this.o.secrets)
      throw new SlipwayError(
        'SLW_SECRET_KEY',
        `revision ${revision.name} has secrets but this process has no secrets key to open them; run it with the same secrets key as the server (secrets.keyEnv)`,
      );
    return Object.fromEntries(sealed.map(([name, value]) => [name, this.o.secrets!.open(revision.app, name, value)]));
  }

  /** Removes the container and its run directory (only one below runRoot: the path comes from a label). */
  private async remove(instance: Instance): Promise<void> {
    await this.o.engine.remove(instance.id);
    if (instance.socket && dirname(dirname(resolve(instance.socket))) === resolve(this.o.runRoot)) removeRunDir(instance.socket);
  }

  pause(instance: Instance): Promise<void> {
    return this.o.engine.pause(instance.id);
  }

  /** A paused container's sockets stay open while it is frozen: unpausing is all a resume takes. */
  resume(instance: Instance): Promise<void> {
    return this.o.engine.unpause(instance.id);
  }

  /** Graceful stop (SIGTERM, SIGKILL after drainTimeout), then removal. A paused container is thawed first so it sees SIGTERM. */
  async stop(instance: Instance, paused = false): Promise<void> {
    if (paused) await this.o.engine.unpause(instance.id).catch(() => undefined);
    await this.o.engine.stop(instance.id, Math.ceil(this.o.drainTimeout / 1000));
    await this.remove(instance);
  }

  /** This target's containers, as labels describe them (adoption after a restart). */
  async list(filter: Record<string, string> = {}): Promise<ContainerIdentity[]> {
    const found = await this.o.engine.list({ ...this.o.labels, [LABEL.target]: this.o.target, ...filter });
    return found.flatMap((c) => identify(c) ?? []);
  }

  /** Removes every container of a revision, whichever process started it. */
  async removeRevision(revision: string): Promise<void> {
    for (const c of await this.list({ [LABEL.revision]: revision })) await this.remove(c);
  }
}
