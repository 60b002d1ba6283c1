import type { ServerResponse } from 'node:http';

/** The head of a CGI answer (RFC 3875 §6): its `Status:` as the HTTP status, the other headers, and what follows. */
export interface CgiHead {
  status: number;
  headers: [string, string][];
  /** The first bytes of the body, read together with the head. */
  rest: Buffer;
}

/** Parses the CGI head once `buffered` holds all of it; undefined while the blank line has not arrived. */
export function parseCgiHead(buffered: Buffer): CgiHead | undefined {
  const end = buffered.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  let status = 200;
  const headers: [string, string][] = [];
  for (const line of buffered.subarray(0, end).toString('latin1').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === 'status') status = Number(value.split(' ')[0]) || 500;
    else headers.push([name, value]);
  }
  return { status, headers, rest: buffered.subarray(end + 4) };
}

/**
 * Streams a CGI program's stdout to `res`: the head becomes the response's status and headers once it
 * has arrived whole, everything after it the body.
 */
export function pipeCgiAnswer(stdout: NodeJS.ReadableStream, res: ServerResponse): void {
  let head = Buffer.alloc(0);
  let headersDone = false;
  stdout.on('data', (chunk: Buffer) => {
    if (headersDone) return void res.write(chunk);
    head = Buffer.concat([head, chunk]);
    const parsed = parseCgiHead(head);
    if (!parsed) return;
    headersDone = true;
    for (const [name, value] of parsed.headers) res.setHeader(name, value);
    res.writeHead(parsed.status);
    res.write(parsed.rest);
  });
}
