import { SlipwayError } from './errors.js';

/** An address as `host:port`; an IPv6 host is written in brackets (`[::1]:8080`) and held without them. */
export interface HostPort {
  host: string;
  port: number;
}

const HOST_PORT_RE = /^(?:\[([0-9a-fA-F:]+)\]|([^:\s]+)):(\d{1,5})$/;

/** `host:port` → its parts; undefined when it is not written so. */
export function parseHostPort(value: string): HostPort | undefined {
  const m = HOST_PORT_RE.exec(value);
  if (!m) return undefined;
  return { host: m[1] ?? m[2]!, port: Number(m[3]) };
}

/** `host:port` from the configuration (which checked it) → its parts. */
export function hostPort(value: string): HostPort {
  const parsed = parseHostPort(value);
  if (!parsed) throw new SlipwayError('SLW_CONFIG_INVALID', `"${value}" is not an address; write it as host:port, e.g. 127.0.0.1:8080`);
  return parsed;
}

/** The parts → `host:port`, an IPv6 host in brackets. */
export const formatHostPort = ({ host, port }: HostPort): string => `${host.includes(':') ? `[${host}]` : host}:${port}`;
