import { Duplex } from 'node:stream';
import type { ClientDuplexStream } from '@grpc/grpc-js';

type BytesStream = ClientDuplexStream<{ data: Buffer }, { data: Buffer }>;

/**
 * The session's byte pipe: BuildKit runs an HTTP/2 connection (daemon as client) inside the
 * `Control.Session` stream, one `BytesMessage` per chunk. This Duplex is that connection as our
 * gRPC server sees it. Writes are coalesced per event-loop turn: HTTP/2 writes many small frames
 * (headers, window updates, one DATA frame per packet) and each message costs a frame of its own in
 * the outer connection.
 */
export class SessionTunnel extends Duplex {
  private pending: Buffer[] = [];
  private callbacks: ((err?: Error | null) => void)[] = [];
  private scheduled = false;

  constructor(private readonly stream: BytesStream) {
    super({ allowHalfOpen: false });
    stream.on('data', (msg: { data: Buffer }) => {
      if (msg.data.length > 0) this.push(msg.data);
    });
    stream.on('end', () => this.push(null));
    stream.on('error', (err: Error) => this.destroy(err));
  }

  override _read(): void {
    // Data is pushed as it arrives; grpc-js flow control limits how much that is.
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.pending.push(chunk);
    this.callbacks.push(callback);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (err?: Error | null) => void): void {
    for (const c of chunks) this.pending.push(c.chunk);
    this.callbacks.push(callback);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.scheduled = false;
    const data = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    const callbacks = this.callbacks;
    this.pending = [];
    this.callbacks = [];
    const done = () => {
      for (const cb of callbacks) cb();
    };
    if (this.stream.write({ data })) done();
    else this.stream.once('drain', done);
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.stream.end();
    callback();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.stream.cancel();
    callback(err);
  }
}
