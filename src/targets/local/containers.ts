import { randomBytes } from 'node:crypto';
import { SlipwayError } from '../../core/errors.js';
import type { Revision } from '../types.js';
import type { DockerEngine } from './docker.js';
import { LABEL, containerLabels, identify, type ContainerIdentity } from './labels.js';
import { freeLoopbackPort, waitUntilAccepting } from './readiness.js';

/** A running (or paused) container of a revision, listening on its own loopback port. */
export interface Instance {
  id: string;
  port: number;
}

export interface ContainersOptions {
  engine: DockerEngine;
  target: string;
  /** Labels every container of this installation carries (and adoption filters on). */
  labels: Record<string, string>;
  startTimeout: number;
  drainTimeout: number;
}

/** Starts, pauses, resumes and stops a revision's containers through the Engine. One job: container lifecycle. */
export class Containers {
  constructor(private readonly o: ContainersOptions) {}

  /** Pulls the image by digest unless the Engine already has it (the registry was checked by the promote gate). */
  async ensureImage(image: string): Promise<void> {
    if (!(await this.o.engine.hasImage(image))) await this.o.engine.pull(image);
  }

  /**
   * One container of `revision`, started and accepting connections. Environment per Knative's runtime
   * contract ("Environment variables"): PORT (MUST), K_SERVICE, K_CONFIGURATION, K_REVISION (SHOULD).
   * Slipway's app is the Knative Service and its Configuration, so both are the app name. A container
   * that does not get ready is removed and its last output reported.
   */
  async launch(revision: Revision): Promise<Instance> {
    const port = await freeLoopbackPort();
    const env = { ...revision.spec.env, PORT: String(port), K_SERVICE: revision.app, K_CONFIGURATION: revision.app, K_REVISION: revision.name };
    const id = await this.o.engine.create({
      name: `slipway-${this.o.target}-${revision.name}-${randomBytes(3).toString('hex')}`,
      image: revision.image,
      env,
      labels: containerLabels(this.o.labels, this.o.target, revision.app, revision.name, port),
      stopTimeout: Math.ceil(this.o.drainTimeout / 1000),
      ...(revision.spec.resources.memory ? { memory: revision.spec.resources.memory } : {}),
      ...(revision.spec.resources.cpu ? { cpu: revision.spec.resources.cpu } : {}),
    });
    try {
      await this.o.engine.start(id);
      const outcome = await waitUntilAccepting(port, Date.now() + this.o.startTimeout, async () => (await this.o.engine.inspectState(id))?.status === 'running');
      if (outcome !== 'ready') {
        const output = await this.o.engine.logs(id).catch(() => '');
        const why = outcome === 'exited' ? 'exited before it accepted connections' : `did not accept connections on PORT=${port} within ${this.o.startTimeout} ms`;
        throw new SlipwayError(
          'SLW_REVISION_FAILED',
          `revision ${revision.name}: the container ${why}; the app must listen on the port in $PORT (Knative runtime contract)${output ? `. Its last output:\n${output}` : ''}`,
        );
      }
    } catch (err) {
      await this.o.engine.remove(id).catch(() => undefined);
      throw err;
    }
    return { id, port };
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
    await this.o.engine.remove(instance.id);
  }

  /** This target's containers, as labels describe them (adoption after a restart). */
  async list(filter: Record<string, string> = {}): Promise<ContainerIdentity[]> {
    const found = await this.o.engine.list({ ...this.o.labels, [LABEL.target]: this.o.target, ...filter });
    return found.flatMap((c) => identify(c) ?? []);
  }

  /** Removes every container of a revision, whichever process started it. */
  async removeRevision(revision: string): Promise<void> {
    for (const c of await this.list({ [LABEL.revision]: revision })) await this.o.engine.remove(c.id);
  }
}
