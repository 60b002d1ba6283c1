import type { Server } from 'node:http';
import { SlipwayError } from '../../core/errors.js';
import { formatHostPort, type HostPort } from '../../core/host-port.js';
import type { Logger } from '../../log/index.js';
import type { Revision, ServingHandle, ServingState } from '../types.js';
import type { Containers, Instance } from './containers.js';
import type { DecisionCollector } from './decisions.js';
import { LABEL, type ContainerIdentity } from './labels.js';
import { ready } from './readiness.js';
import { RevisionPool, type PoolSettings } from './pool.js';
import { createRouter, type Resolution } from './router.js';
import { buildRouteTable, routeTableKey, type HostRoute } from './routes.js';

export interface LocalServingOptions {
  target: string;
  domain: string;
  listen: HostPort;
  pool: PoolSettings;
  state: ServingState;
  containers: Containers;
  logger: Logger;
  /** How often the store is read for route changes made by other processes (ms). */
  refreshInterval?: number;
  /** Reads the enforcer's decisions from every container the pools take; absent: not collected. */
  decisions?: DecisionCollector;
  /** Keep a client's X-Forwarded-For (a proxy Slipway trusts sits in front). Default: replace it. */
  trustProxy?: boolean;
}

/**
 * The local target's data plane in one process: the router, one pool per live revision, and the
 * route table, re-read from the store every second (another process — a worker promoting, a server
 * changing traffic — writes there) and at once after changes made in this process.
 *
 * State lives in the store and in container labels, so a restarted process picks up where the last
 * one stopped: routes come from the store, and containers still running (or paused) are adopted, not
 * restarted. Run one router per target: two would each scale the same containers.
 */
export class LocalServing {
  private readonly pools = new Map<string, RevisionPool>();
  private table = new Map<string, HostRoute>();
  private tableKey = '';
  private server: Server | undefined;
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private again = false;

  constructor(private readonly o: LocalServingOptions) {}

  async start(): Promise<ServingHandle> {
    try {
      return await this.listen();
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  private async listen(): Promise<ServingHandle> {
    await this.refresh();
    await this.adoptAll();
    const server = createRouter({ resolve: (host) => this.resolve(host), logger: this.o.logger, trustProxy: this.o.trustProxy ?? false });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new SlipwayError(
            'SLW_TARGET_UNAVAILABLE',
            `the router of target ${this.o.target} cannot listen on ${formatHostPort(this.o.listen)} (${err.code ?? err.message}); set targets.${this.o.target}.listen to a free address`,
            { cause: err },
          ),
        ),
      );
      server.listen(this.o.listen.port, this.o.listen.host, () => resolve());
    });
    const { address, port } = server.address() as { address: string; port: number };
    const url = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
    this.timer = setInterval(
      () => void this.refresh().catch((err: unknown) => this.o.logger.warn({ err }, 'router: reading routes failed')),
      this.o.refreshInterval ?? 1000,
    );
    this.timer.unref();
    this.o.logger.info({ address: url, hosts: [...this.table.keys()] }, 'router listening');
    return { address: url, close: () => this.close() };
  }

  private resolve(host: string): Resolution {
    const route = this.table.get(host);
    if (!route) return { kind: 'unknown-host' };
    const revision = route.choice.pick();
    const pool = revision ? this.pools.get(revision) : undefined;
    if (!revision || !pool) return { kind: 'no-revision', app: route.app };
    return { kind: 'route', revision, pool };
  }

  /** A pool per ready revision; pools of revisions that are gone close and remove their containers. */
  private syncPools(revisions: readonly Revision[]): Revision[] {
    const live = new Map(revisions.filter((r) => r.state === 'ready').map((r) => [r.name, r]));
    for (const [name, pool] of this.pools) {
      if (!live.has(name)) {
        this.pools.delete(name);
        void pool.close(true);
      }
    }
    const added: Revision[] = [];
    for (const [name, revision] of live) {
      if (this.pools.has(name)) continue;
      const decisions = this.o.decisions;
      const watch = decisions ? (i: Instance) => decisions.follow(revision, i.id) : undefined;
      this.pools.set(name, new RevisionPool(revision, this.o.containers, this.o.pool, this.o.logger.child({ revision: name }), watch));
      added.push(revision);
    }
    return added;
  }

  /** Re-reads routes and revisions; coalesces calls that come in while one runs. */
  refresh(): Promise<void> {
    if (this.refreshing) {
      this.again = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.again = false;
        const [routes, revisions] = await Promise.all([this.o.state.listRoutes(this.o.target), this.o.state.listLiveRevisions(this.o.target)]);
        const added = this.syncPools(revisions);
        // Revisions deployed by another process (a worker) bring a running container: take it over.
        if (this.server) for (const r of added) await this.adoptRevision(r.name);
        const key = routeTableKey(routes, revisions);
        if (key !== this.tableKey) {
          this.table = buildRouteTable(this.o.domain, routes, revisions);
          this.tableKey = key;
        }
      } while (this.again);
    })().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  /** A container started in this process by deploy: the pool of its revision takes it. */
  async handOver(revision: Revision, instance: Instance): Promise<void> {
    await this.refresh();
    const pool = this.pools.get(revision.name);
    if (pool) pool.adopt(instance, false);
    else await this.o.containers.stop(instance);
  }

  private async adoptAll(): Promise<void> {
    const found = await this.o.containers.list();
    const revisions = await this.o.state.listLiveRevisions(this.o.target);
    const creating = new Set(revisions.filter((r) => r.state === 'created').map((r) => r.name));
    for (const c of found) {
      const pool = this.pools.get(c.revision);
      if (pool) await this.adoptOne(pool, c);
      else if (!creating.has(c.revision)) {
        // Its revision was deleted (or failed) while no router ran: nothing will route to it again.
        this.o.logger.info({ container: c.id.slice(0, 12), revision: c.revision }, 'removing a container of a revision that is gone');
        await this.o.containers.stop(c, c.state === 'paused').catch(() => undefined);
      }
    }
  }

  private async adoptRevision(name: string): Promise<void> {
    const pool = this.pools.get(name);
    if (!pool) return;
    for (const c of await this.o.containers.list({ [LABEL.revision]: name })) await this.adoptOne(pool, c);
  }

  private async adoptOne(pool: RevisionPool, c: ContainerIdentity): Promise<void> {
    const serves = c.state === 'paused' || (c.state === 'running' && (await ready(c)));
    if (serves) {
      pool.adopt(c, c.state === 'paused');
      this.o.logger.debug({ container: c.id.slice(0, 12), revision: c.revision, state: c.state }, 'adopted');
      return;
    }
    this.o.logger.info({ container: c.id.slice(0, 12), revision: c.revision, state: c.state }, 'removing a container that does not serve');
    await this.o.containers.stop(c).catch(() => undefined);
  }

  /** Pool counts per revision (status, tests, the bench). */
  poolCounts(revision: string): RevisionPool['counts'] | undefined {
    return this.pools.get(revision)?.counts;
  }

  /** Stops routing; containers keep running for the next router to adopt. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const server = this.server;
    this.server = undefined;
    if (server) {
      // Requests in flight get a few seconds to finish; idle keep-alive connections go at once.
      const force = setTimeout(() => server.closeAllConnections(), 5000);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      clearTimeout(force);
    }
    await this.refreshing?.catch(() => undefined);
    this.o.decisions?.close();
    for (const pool of this.pools.values()) await pool.close(false);
    this.pools.clear();
  }
}
