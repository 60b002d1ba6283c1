import { describe, expect, it } from 'vitest';
import { formatHostPort, hostPort, parseHostPort } from '../../src/core/host-port.js';

describe('host:port, parsed once (server.listen, targets.<local>.listen, BuildKit over TCP)', () => {
  it.each([
    ['127.0.0.1:8080', { host: '127.0.0.1', port: 8080 }],
    ['localhost:80', { host: 'localhost', port: 80 }],
    ['[::1]:8081', { host: '::1', port: 8081 }],
    ['0.0.0.0:0', { host: '0.0.0.0', port: 0 }],
  ])('reads %s', (value, parts) => {
    expect(parseHostPort(value)).toEqual(parts);
    expect(formatHostPort(parts)).toBe(value);
  });

  it.each(['nope', '8080', ':8080', 'host:', 'host:port', '::1:8080', 'a b:80', 'host:123456'])('refuses %j', (value) => {
    expect(parseHostPort(value)).toBeUndefined();
    expect(() => hostPort(value)).toThrow(/write it as host:port/);
  });
});
