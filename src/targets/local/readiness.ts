import { createConnection, createServer } from 'node:net';

/** A loopback port free right now: each host-networked container gets its own (no port mapping). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Where a container is reached: its proxy socket (isolated network) or a loopback port (host network). */
export interface Endpoint {
  port: number;
  socket?: string;
}

/** One TCP connect to 127.0.0.1:port: true when something accepts. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Asks the enforcer's proxy whether the app accepts on its port (enforcer/src/proxy.c, `<socket>.probe`:
 * one byte, `1` or `0`). Connecting to the proxy socket itself would prove nothing: the proxy accepts
 * before the app listens. The probe does the tcpSocket check inside the container's network namespace.
 */
export function probeSocket(path: string, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ path: `${path}.probe` });
    let answer = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
      if (answer.length >= 1) done(answer[0] === '1');
    });
    socket.once('end', () => done(answer[0] === '1'));
    socket.once('error', () => done(false));
  });
}

/** Whether the container's app accepts connections, by the endpoint's kind. */
export const ready = (e: Endpoint): Promise<boolean> => (e.socket ? probeSocket(e.socket) : accepts(e.port));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until the app accepts connections: Knative's default readiness probe is `tcpSocket` on the
 * container's port with `initialDelaySeconds: 0` (runtime-contract.md, "Probes"). Probing starts at once
 * and backs off from 2 ms to 20 ms, since cold-start latency is mostly this wait. `alive` is asked every
 * ~250 ms so a container that exited fails fast instead of at the deadline.
 */
export async function waitUntilAccepting(endpoint: Endpoint, deadline: number, alive: () => Promise<boolean>): Promise<'ready' | 'exited' | 'timeout'> {
  let delay = 2;
  let nextAliveCheck = Date.now() + 250;
  for (;;) {
    if (await ready(endpoint)) return 'ready';
    const now = Date.now();
    if (now >= deadline) return 'timeout';
    if (now >= nextAliveCheck) {
      if (!(await alive())) return 'exited';
      nextAliveCheck = now + 250;
    }
    await sleep(Math.min(delay, deadline - now));
    delay = Math.min(delay * 2, 20);
  }
}
