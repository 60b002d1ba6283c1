import type { ContainerSummary } from './docker.js';

/**
 * Container labels: with the store, the local target's state (restarting Slipway adopts the
 * containers that run). A container says which target, app and revision it serves and on which port.
 */
export const LABEL = {
  target: 'dev.slipway.target',
  app: 'dev.slipway.app',
  revision: 'dev.slipway.revision',
  port: 'dev.slipway.port',
  /** Host path of the enforcer's proxy socket (isolated network); absent with host networking. */
  socket: 'dev.slipway.socket',
} as const;

export interface ContainerIdentity {
  id: string;
  app: string;
  revision: string;
  port: number;
  /** Host path of the proxy socket the router connects to (isolated network); else 127.0.0.1:port. */
  socket?: string;
  /** Engine state: `running`, `paused`, `exited`… */
  state: string;
}

export function containerLabels(
  base: Record<string, string>,
  target: string,
  app: string,
  revision: string,
  port: number,
  socket: string | undefined,
): Record<string, string> {
  return {
    ...base,
    [LABEL.target]: target,
    [LABEL.app]: app,
    [LABEL.revision]: revision,
    [LABEL.port]: String(port),
    ...(socket ? { [LABEL.socket]: socket } : {}),
  };
}

/** What a listed container serves; undefined for containers whose labels are incomplete. */
export function identify(c: ContainerSummary): ContainerIdentity | undefined {
  const app = c.Labels[LABEL.app];
  const revision = c.Labels[LABEL.revision];
  const port = Number(c.Labels[LABEL.port]);
  if (!app || !revision || !Number.isInteger(port) || port <= 0) return undefined;
  const socket = c.Labels[LABEL.socket];
  return { id: c.Id, app, revision, port, ...(socket ? { socket } : {}), state: c.State };
}
