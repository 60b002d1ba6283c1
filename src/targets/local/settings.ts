/**
 * `targets.<name>` with `kind: local`, as the config schema (src/config/schema.ts) parses it; declared
 * here because targets may not import config. Defaults live in the schema, once; durations are ms.
 */
export interface LocalTargetSettings {
  kind: 'local';
  /** Router address, `host:port`. Default `127.0.0.1:8081`. */
  listen: string;
  /** Apps are `<app>.<domain>`. Default `localhost`. */
  domain: string;
  /** Idle ms before a revision's containers are paused (scale to zero). Default 60 s. */
  idleTimeout: number;
  /** Idle ms before paused containers are removed. Default 10 min. */
  removeAfter: number;
  /** Soft target of in-flight requests per container before scaling out. Default 100. */
  concurrency: number;
  /** Most containers per revision. Default 4. */
  maxScale: number;
  /** ms a revision must need fewer containers before one is drained. Default 60 s. */
  stableWindow: number;
  /** ms a container may take to accept connections. Default 60 s. */
  startTimeout: number;
  /** ms between SIGTERM and SIGKILL. Default 30 s. */
  drainTimeout: number;
  /** Unreferenced revisions kept per app. Default 20. */
  keepRevisions: number;
  /** Docker Engine socket. Default `/var/run/docker.sock`. */
  docker: string;
  /** Append to a client's X-Forwarded-For instead of replacing it. Default false (the router is the edge). */
  trustProxy: boolean;
}
