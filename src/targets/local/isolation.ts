import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SlipwayError } from '../../core/errors.js';
import type { AppRuntime } from '../types.js';

/**
 * How a revision's container is confined on the Docker Engine, and how the router reaches it.
 *
 * Always: every capability dropped (only the app's declared ones added back), `no-new-privileges`, and
 * optionally a read-only root filesystem with a tmpfs /tmp.
 *
 * Network `isolated` (the default): `NetworkMode: none`, so the container has loopback only and cannot
 * reach Redis, the registry, Slipway's API or anything else on the host. The router reaches the app
 * through a Unix socket that the injected enforcer serves inside the container (enforcer/src/proxy.c):
 * a per-container host directory is bind-mounted at /.slipway/run and the proxy forwards
 * `/.slipway/run/http.sock` to 127.0.0.1:$PORT. The host directories live in a parent of mode 0700, so
 * no other host user can reach (or plant) a socket; the per-container directory is 0777 because the
 * container's uid (whatever the image says, maybe user-namespace mapped) must create the socket in it.
 *
 * Network `host`: the host's network namespace, as before isolation existed: an explicit opt-in, logged
 * as a warning at every start, because such an app reaches every loopback service.
 */

export const RUN_MOUNT = '/.slipway/run';
export const PROXY_SOCKET = `${RUN_MOUNT}/http.sock`;
/** Inside an isolated container every revision has the network namespace to itself: one well-known port. */
export const ISOLATED_PORT = 8080;
/** Linux socket paths are at most 107 bytes (unix(7), sun_path); the probe socket adds `.probe`. */
const MAX_SOCKET_PATH = 107 - '.probe'.length;

/** Docker's HostConfig fields for the runtime (Engine API 1.41, ContainerCreate). */
export function hostConfig(runtime: AppRuntime, runDir: string | undefined): Record<string, unknown> {
  return {
    NetworkMode: runtime.network === 'host' ? 'host' : 'none',
    SecurityOpt: ['no-new-privileges'],
    CapDrop: ['ALL'],
    ...(runtime.capabilities.length ? { CapAdd: runtime.capabilities.map((c) => `CAP_${c}`) } : {}),
    ...(runtime.readOnlyRootFilesystem ? { ReadonlyRootfs: true, Tmpfs: { '/tmp': 'rw,nosuid,nodev,noexec,size=64m' } } : {}),
    ...(runDir ? { Binds: [`${runDir}:${RUN_MOUNT}:rw`] } : {}),
  };
}

/** Creates `<root>/<key>` for one container: the root private (0700), the container's directory writable by it. */
export function makeRunDir(root: string, key: string): { dir: string; socket: string } {
  mkdirSync(root, { recursive: true, mode: 0o700 });
  chmodSync(root, 0o700);
  const dir = join(root, key);
  const socket = join(dir, 'http.sock');
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH) {
    throw new SlipwayError(
      'SLW_CONFIG_INVALID',
      `the proxy socket path ${socket} is longer than a Unix socket path may be (${MAX_SOCKET_PATH} bytes); set dataDir to a shorter path`,
    );
  }
  mkdirSync(dir, { mode: 0o777 });
  chmodSync(dir, 0o777);
  return { dir, socket };
}

/** Removes a container's run directory (its socket went with the container). */
export function removeRunDir(socket: string | undefined): void {
  if (socket) rmSync(dirname(socket), { recursive: true, force: true });
}
