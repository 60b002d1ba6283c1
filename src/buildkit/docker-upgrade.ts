import type { Socket } from 'node:net';
import { CallCredentials, ChannelCredentials, type ChannelOptions } from '@grpc/grpc-js';

/**
 * grpc-js channel credentials whose connector turns a Docker Engine socket into a plain HTTP/2
 * connection to the Engine's built-in BuildKit: `POST /grpc` with `Upgrade: h2c`, then, after `101
 * Switching Protocols`, the socket speaks HTTP/2 (the Engine's router hijacks it for BuildKit's
 * Control API). The Engine's SETTINGS frame can arrive in the same read as the 101, so every byte
 * after the header block is pushed back onto the socket before grpc-js starts its HTTP/2 session.
 *
 * `_createSecureConnector` is grpc-js's extension point for credentials (declared abstract and public
 * in channel-credentials.d.ts); only `connect` does work here.
 */
export class DockerUpgradeCredentials extends ChannelCredentials {
  constructor(private readonly timeoutMs = 10_000) {
    super();
  }

  override compose(): ChannelCredentials {
    throw new Error('DockerUpgradeCredentials cannot be composed with call credentials');
  }

  _isSecure(): boolean {
    return false;
  }

  _equals(other: ChannelCredentials): boolean {
    return other === this;
  }

  _createSecureConnector(_target: unknown, _options: ChannelOptions, callCredentials?: CallCredentials) {
    const credentials = callCredentials ?? CallCredentials.createEmpty();
    return {
      connect: async (socket: Socket) => ({ socket: await upgradeToH2c(socket, this.timeoutMs), secure: false }),
      waitForReady: () => Promise.resolve(),
      getCallCredentials: () => credentials,
      destroy: () => undefined,
    };
  }
}

const HEADER_END = Buffer.from('\r\n\r\n');

/** Sends the upgrade request and resolves with the same socket once the Engine answered 101. */
export function upgradeToH2c(socket: Socket, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    const timer = setTimeout(() => fail(new Error(`Docker Engine did not answer the /grpc upgrade within ${timeoutMs} ms`)), timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('error', fail);
      socket.removeListener('close', onClose);
    };
    function fail(err: Error) {
      cleanup();
      reject(err);
    }
    const onClose = () => fail(new Error('Docker Engine closed the connection during the /grpc upgrade'));
    function onData(chunk: Buffer) {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf(HEADER_END);
      if (end < 0) {
        if (received.length > 64 * 1024) fail(new Error('Docker Engine sent an oversized answer to the /grpc upgrade'));
        return;
      }
      cleanup();
      const head = received.subarray(0, end).toString('latin1');
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1];
      if (status !== '101') {
        reject(new Error(`Docker Engine refused the /grpc upgrade: ${head.split('\r\n')[0] ?? head}`));
        return;
      }
      // Pause before pushing back: the HTTP/2 session attaches its own 'data' reader next.
      socket.pause();
      const rest = received.subarray(end + HEADER_END.length);
      if (rest.length > 0) socket.unshift(rest);
      resolve(socket);
    }
    socket.on('data', onData);
    socket.once('error', fail);
    socket.once('close', onClose);
    socket.write('POST /grpc HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: h2c\r\nContent-Length: 0\r\n\r\n');
  });
}
