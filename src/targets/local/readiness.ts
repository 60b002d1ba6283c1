import { createConnection, createServer } from 'node:net';

/** A loopback port free right now: each container gets its own (host networking, no port mapping). */
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until the port accepts connections: Knative's default readiness probe is `tcpSocket` on the
 * container's port with `initialDelaySeconds: 0` (runtime-contract.md, "Probes"). Probing starts at once
 * and backs off from 2 ms to 20 ms, since cold-start latency is mostly this wait. `alive` is asked every
 * ~250 ms so a container that exited fails fast instead of at the deadline.
 */
export async function waitUntilAccepting(port: number, deadline: number, alive: () => Promise<boolean>): Promise<'ready' | 'exited' | 'timeout'> {
  let delay = 2;
  let nextAliveCheck = Date.now() + 250;
  for (;;) {
    if (await accepts(port)) return 'ready';
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
