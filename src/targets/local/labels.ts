import type { ContainerSummary } from './docker.js';

/**
 * Container labels: with the store, the local target's state (issue 7: restarting Slipway adopts the
 * containers that run). A container says which target, app and revision it serves and on which port.
 */
export const LABEL = {
  target: 'dev.slipway.target',
  app: 'dev.slipway.app',
  revision: 'dev.slipway.revision',
  port: 'dev.slipway.port',
} as const;

export interface ContainerIdentity {
  id: string;
  app: string;
  revision: string;
  port: number;
  /** Engine state: `running`, `paused`, `exited`… */
  state: string;
}

export function containerLabels(base: Record<string, string>, target: string, app: string, revision: string, port: number): Record<string, string> {
  return { ...base, [LABEL.target]: target, [LABEL.app]: app, [LABEL.revision]: revision, [LABEL.port]: String(port) };
}

/** What a listed container serves; undefined for containers whose labels are incomplete. */
export function identify(c: ContainerSummary): ContainerIdentity | undefined {
  const app = c.Labels[LABEL.app];
  const revision = c.Labels[LABEL.revision];
  const port = Number(c.Labels[LABEL.port]);
  if (!app || !revision || !Number.isInteger(port) || port <= 0) return undefined;
  return { id: c.Id, app, revision, port, state: c.State };
}
