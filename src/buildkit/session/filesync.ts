import { open } from 'node:fs/promises';
import type { Metadata, ServerDuplexStream } from '@grpc/grpc-js';
import { walkContext, type StatMessage } from '../context/walk.js';

/** fsutil Packet types (types/wire.proto). */
export const PACKET = { STAT: 0, REQ: 1, DATA: 2, FIN: 3, ERR: 4 } as const;

interface Packet {
  type: number;
  stat?: StatMessage | null;
  ID?: number;
  data?: Buffer;
}

/** What the session served, per directory name: the test that a rebuild sends nothing reads this. */
export interface TransferStats {
  /** STAT packets sent (files and directories offered). */
  offered: number;
  /** Files BuildKit asked for (REQ). */
  requested: number;
  /** File bytes sent in DATA packets. */
  bytes: number;
}

/** Same chunk size as fsutil's sender (32 KiB buffers), so DATA messages stay small for HTTP/2 windows. */
const CHUNK = 32 * 1024;
const SENDERS = 4;

/**
 * Request metadata arrives as HTTP/2 headers; Node joins repeated headers with ", " and grpc-js keeps
 * that one string, so a list is split again. Newer BuildKit URL-encodes non-ASCII values and
 * says so with `<key>-encoded: 1` (session/filesync/filesync.go encodeOpts).
 */
export function metadataList(md: Metadata, key: string): string[] {
  const encoded = md.get(`${key}-encoded`).some((v) => String(v) === '1' || String(v) === 'true');
  const values = md.get(key).flatMap((v) => String(v).split(', '));
  return values.filter((v) => v !== '').map((v) => (encoded ? decodeURIComponent(v.replace(/\+/g, ' ')) : v));
}

/**
 * FileSync.DiffCopy, the sender side of fsutil's protocol (tonistiigi/fsutil send.go): every path as a
 * STAT packet (ID = its index), an empty STAT as terminator, then the file data of each REQ(ID) as
 * DATA packets closed by an empty DATA; FIN from the receiver is answered with FIN. BuildKit compares
 * the STATs with the copy it cached under the session's shared key and asks only for what changed.
 */
export function diffCopyHandler(dirs: ReadonlyMap<string, string>, stats: Map<string, TransferStats>) {
  return (call: ServerDuplexStream<Packet, Packet>): void => {
    void serve(call).catch((err: Error) => {
      call.write({ type: PACKET.ERR, data: Buffer.from(err.message) });
      call.end();
    });
  };

  async function serve(call: ServerDuplexStream<Packet, Packet>): Promise<void> {
    const dirName = metadataList(call.metadata, 'dir-name')[0] ?? '';
    const root = dirs.get(dirName);
    if (root === undefined) throw new Error(`no access allowed to dir "${dirName}"`);
    const entry: TransferStats = stats.get(dirName) ?? { offered: 0, requested: 0, bytes: 0 };
    stats.set(dirName, entry);

    const write = (p: Packet): Promise<void> | undefined => (call.write(p) ? undefined : new Promise((r) => call.once('drain', () => r())));
    const files = new Map<number, string>();
    const queue: number[] = [];
    const waiters: (() => void)[] = [];
    const wake = () => {
      for (const w of waiters.splice(0)) w();
    };
    let finished = false;

    // Receiver → REQ/FIN. Requests can arrive while STATs are still being sent.
    call.on('data', (p: Packet) => {
      if (p.type === PACKET.REQ) {
        queue.push(p.ID ?? 0);
        wake();
      } else if (p.type === PACKET.FIN) {
        finished = true;
        wake();
      } else if (p.type === PACKET.ERR) {
        finished = true;
        wake();
      }
    });
    call.on('end', () => {
      finished = true;
      wake();
    });
    call.on('cancelled', () => {
      finished = true;
      wake();
    });

    const entries = await walkContext(root, {
      include: metadataList(call.metadata, 'include-patterns'),
      exclude: metadataList(call.metadata, 'exclude-patterns'),
      followPaths: metadataList(call.metadata, 'followpaths'),
    });
    for (let id = 0; id < entries.length; id++) {
      const e = entries[id]!;
      if (e.regular) files.set(id, e.abs);
      await write({ type: PACKET.STAT, stat: e.stat });
    }
    await write({ type: PACKET.STAT, stat: null });
    entry.offered += entries.length;

    const sendFile = async (id: number) => {
      const path = files.get(id);
      if (path === undefined) throw new Error(`invalid file id ${id}`);
      files.delete(id);
      entry.requested++;
      const handle = await open(path, 'r');
      try {
        for (;;) {
          const buf = Buffer.allocUnsafe(CHUNK);
          const { bytesRead } = await handle.read(buf, 0, CHUNK, null);
          if (bytesRead === 0) break;
          entry.bytes += bytesRead;
          await write({ type: PACKET.DATA, ID: id, data: buf.subarray(0, bytesRead) });
        }
      } finally {
        await handle.close();
      }
      await write({ type: PACKET.DATA, ID: id, data: Buffer.alloc(0) });
    };

    const worker = async () => {
      for (;;) {
        const id = queue.shift();
        if (id !== undefined) {
          await sendFile(id);
          continue;
        }
        if (finished) return;
        await new Promise<void>((r) => waiters.push(r));
      }
    };
    await Promise.all(Array.from({ length: SENDERS }, worker));
    if (!call.destroyed) {
      call.write({ type: PACKET.FIN });
      call.end();
    }
  }
}
