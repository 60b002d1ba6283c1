import { describe, expect, it } from 'vitest';
import { formatImageRef, parseChallenge, parseImageRef } from '../../src/registry/index.js';

const D = `sha256:${'a'.repeat(64)}`;

describe('image references', () => {
  it.each([
    ['127.0.0.1:5000/slipway/hello@' + D, { registry: '127.0.0.1:5000', repository: 'slipway/hello', tag: undefined, digest: D }],
    ['127.0.0.1:5000/slipway/hello:abc123', { registry: '127.0.0.1:5000', repository: 'slipway/hello', tag: 'abc123', digest: undefined }],
    ['localhost/app:1', { registry: 'localhost', repository: 'app', tag: '1' }],
    ['ghcr.io/org/team/app:v1.2@' + D, { registry: 'ghcr.io', repository: 'org/team/app', tag: 'v1.2', digest: D }],
    ['busybox', { registry: 'docker.io', repository: 'library/busybox', tag: undefined }],
    ['octo/app:latest', { registry: 'docker.io', repository: 'octo/app', tag: 'latest' }],
  ])('parses %s', (text, expected) => {
    expect(parseImageRef(text)).toMatchObject(expected);
  });

  it('formats back what it parsed', () => {
    expect(formatImageRef(parseImageRef('127.0.0.1:5000/slipway/hello:abc@' + D))).toBe('127.0.0.1:5000/slipway/hello:abc@' + D);
  });

  it.each([
    ['127.0.0.1:5000/Slipway/Hello', /lower-case/],
    ['app@sha256:123', /not a sha256 digest/],
    ['app:bad tag', /tag "bad tag"/],
    ['', /repository path/],
  ])('refuses %j with what to fix', (text, message) => {
    expect(() => parseImageRef(text)).toThrow(message);
  });
});

describe('WWW-Authenticate challenges', () => {
  it.each([
    [
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"',
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' } },
    ],
    ['Basic realm="slipway-test"', { scheme: 'basic', params: { realm: 'slipway-test' } }],
    [
      'Bearer realm="https://x/token",scope="repository:a:pull,push"',
      { scheme: 'bearer', params: { realm: 'https://x/token', scope: 'repository:a:pull,push' } },
    ],
  ])('parses %s', (header, expected) => expect(parseChallenge(header)).toEqual(expected));

  it('has nothing to say about an absent header', () => expect(parseChallenge(null)).toBeUndefined());
});
