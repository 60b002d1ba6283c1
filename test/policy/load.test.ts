import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSlipwayError } from '../../src/core/errors.js';
import { evaluateGate, loadPolicies, parseDockerfile, sampleInput } from '../../src/policy/index.js';

const policy = (over: { name?: string; gate?: string; mode?: string; expression?: string; match?: unknown; extra?: string } = {}) =>
  [
    'apiVersion: slipway.dev/v1',
    'kind: ImagePolicy',
    `metadata: { name: ${over.name ?? 'p'} }`,
    'spec:',
    `  gate: ${over.gate ?? 'image'}`,
    `  mode: ${over.mode ?? 'enforce'}`,
    ...(over.match ? [`  match: ${JSON.stringify(over.match)}`] : []),
    '  rules:',
    `    - expression: ${JSON.stringify(over.expression ?? "image.config.User != ''")}`,
    '      message: "fix it"',
    ...(over.extra ? [over.extra] : []),
  ].join('\n');

describe('loading policies', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'slipway-policy-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => writeFileSync(join(dir, name), text);
  const problems = () => {
    try {
      loadPolicies(dir, { required: true });
    } catch (err) {
      expect(isSlipwayError(err, 'SLW_POLICY_INVALID')).toBe(true);
      return (err as Error).message;
    }
    throw new Error('expected the policies to be refused');
  };

  it('loads the default policies shipped in policies/', () => {
    const set = loadPolicies('policies', { required: true });
    expect(set.policies.map((p) => p.name).sort()).toEqual([
      'allowed-base-registries',
      'forks-stay-in-previews',
      'image-hygiene',
      'non-root',
      'pinned-base-images',
      'promote-requirements',
    ]);
  });

  it('loads several documents per file', () => {
    write('a.yaml', `${policy({ name: 'one' })}\n---\n${policy({ name: 'two', gate: 'source', expression: '!event.fork' })}\n`);
    expect(loadPolicies(dir).policies.map((p) => `${p.name}@${p.source.split('/').pop()}`)).toEqual(['one@a.yaml#1', 'two@a.yaml#2']);
  });

  it.each([
    ['bad YAML', 'x.yaml', 'spec: [unclosed', /x\.yaml document 1: not valid YAML/],
    ['a wrong apiVersion', 'x.yaml', policy().replace('slipway.dev/v1', 'v2'), /apiVersion: apiVersion must be slipway.dev\/v1/],
    ['an unknown gate', 'x.yaml', policy({ gate: 'deploy' }), /spec\.gate: gate must be one of source, build, image, promote/],
    ['an unknown key', 'x.yaml', policy({ extra: '  bogus: 1' }), /spec: Unrecognized key: "bogus"/],
    ['a CEL syntax error, with its position', 'x.yaml', policy({ expression: 'image.config.User ==' }), /rule 0: CEL syntax error at expression:1:\d+/],
    [
      'a field the gate does not have',
      'x.yaml',
      policy({ gate: 'source', expression: "image.config.User != ''" }),
      /rule 0: .*the source gate offers: app, event, target/,
    ],
    ['a misspelled field', 'x.yaml', policy({ expression: "image.confg.User != ''" }), /rule 0: .*confg/],
    ['a type mismatch', 'x.yaml', policy({ expression: "image.size > 'big'" }), /rule 0: found no matching overload for '_>_' applied to '\(int, string\)'/],
    ['a rule that is not a boolean', 'x.yaml', policy({ expression: 'image.size + 1' }), /rule 0: the expression gives an int, not a boolean/],
    [
      'an expression too expensive to ever run',
      'x.yaml',
      policy({ expression: 'image.layers.all(a, image.layers.all(b, image.layers.all(c, image.layers.all(d, a.size + b.size + c.size + d.size > 0))))' }),
      /rule 0: expression is too expensive/,
    ],
  ])('refuses %s, naming the file, document and rule', (_name, file, text, message) => {
    write(file, text);
    expect(problems()).toMatch(message);
  });

  it('reports every problem at once, and duplicate names', () => {
    write('a.yaml', policy({ name: 'dup' }));
    write('b.yaml', `${policy({ name: 'dup' })}\n---\n${policy({ name: 'bad', expression: '((' })}`);
    const message = problems();
    expect(message).toMatch(/have 2 problems/);
    expect(message).toMatch(/b\.yaml document 1: policy name "dup" is also used by .*a\.yaml document 1/);
    expect(message).toMatch(/b\.yaml document 2 \(policy bad\) rule 0: CEL syntax error/);
  });

  it('treats a missing directory as no policies unless it was asked for', () => {
    expect(loadPolicies(join(dir, 'none')).policies).toEqual([]);
    expect(() => loadPolicies(join(dir, 'none'), { required: true })).toThrow(/does not exist/);
  });
});

describe('evaluating policies', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'slipway-policy-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const ctx = { app: 'hello', branch: 'main', target: 'local' };

  it('denies in enforce mode and only warns in audit mode', () => {
    writeFileSync(
      join(dir, 'a.yaml'),
      `${policy({ name: 'strict', expression: "image.config.User == 'nobody'" })}\n---\n${policy({ name: 'lenient', mode: 'audit', expression: "image.config.User == 'nobody'" })}`,
    );
    const result = evaluateGate(loadPolicies(dir), 'image', ctx, sampleInput('image'));
    expect(result.rejected).toBe(true);
    expect(result.decisions.map((d) => [d.policy, d.outcome, d.message])).toEqual([
      ['strict', 'deny', 'fix it'],
      ['lenient', 'warn', 'fix it'],
    ]);
    writeFileSync(join(dir, 'a.yaml'), policy({ name: 'lenient', mode: 'audit', expression: "image.config.User == 'nobody'" }));
    expect(evaluateGate(loadPolicies(dir), 'image', ctx, sampleInput('image')).rejected).toBe(false);
  });

  it('applies a policy only to the apps, branches and targets it matches', () => {
    writeFileSync(join(dir, 'a.yaml'), policy({ expression: 'false', match: { apps: ['web-*'], branches: ['main', 'release/*'], targets: ['prod'] } }));
    const set = loadPolicies(dir);
    expect(evaluateGate(set, 'image', { app: 'web-shop', branch: 'release/1.2', target: 'prod' }, sampleInput('image')).rejected).toBe(true);
    for (const other of [
      { app: 'api', branch: 'main', target: 'prod' },
      { app: 'web-shop', branch: 'dev', target: 'prod' },
      { app: 'web-shop', branch: 'main', target: 'local' },
    ]) {
      expect(evaluateGate(set, 'image', other, sampleInput('image')).decisions).toEqual([]);
    }
    expect(evaluateGate(set, 'build', { app: 'web-shop', branch: 'main', target: 'prod' }, sampleInput('build')).decisions).toEqual([]);
  });

  it('cuts off a rule whose cost on the input at hand exceeds the limit, and fails closed', () => {
    writeFileSync(join(dir, 'a.yaml'), policy({ expression: 'image.config.Env.all(a, image.config.Env.all(b, a == b || a != b))' }));
    const set = loadPolicies(dir);
    const small = sampleInput('image');
    expect(evaluateGate(set, 'image', ctx, small).rejected).toBe(false);
    const huge = sampleInput('image');
    huge.image!.config.Env = Array.from({ length: 20_000 }, (_, i) => `V${i}=x`);
    const started = performance.now();
    const result = evaluateGate(set, 'image', ctx, huge);
    expect(performance.now() - started).toBeLessThan(2000); // 400 million comparisons were not attempted
    expect(result.rejected).toBe(true);
    expect(result.decisions[0]!.message).toMatch(/rule could not be evaluated: rule exceeds the cost limit .* for collections of 20000 elements/);
  });

  it('refuses at load a rule that names a label the sample lacks', () => {
    writeFileSync(join(dir, 'a.yaml'), policy({ expression: "image.labels['team'] == 'core'" }));
    expect(() => loadPolicies(dir)).toThrow(/team/);
  });

  it('fails closed when a rule errors on the real input (a label missing at run time)', () => {
    writeFileSync(join(dir, 'a.yaml'), policy({ mode: 'audit', expression: "image.labels['org.opencontainers.image.source'].startsWith('https://')" }));
    const set = loadPolicies(dir);
    const input = sampleInput('image');
    input.image!.labels = {};
    const result = evaluateGate(set, 'image', ctx, input);
    expect(result.decisions[0]).toMatchObject({ outcome: 'warn' });
    expect(result.decisions[0]!.message).toMatch(/^fix it \(rule could not be evaluated: .*org\.opencontainers\.image\.source/);
  });
});

describe('reading Dockerfiles for the build gate', () => {
  it('finds stages, base images with their parts, users and ports', () => {
    const df = parseDockerfile(
      [
        '# syntax comment',
        'ARG BASE=127.0.0.1:5000/slipway/busybox',
        'ARG TAG=1.36',
        'FROM --platform=linux/amd64 ${BASE}:${TAG} AS build',
        'RUN echo hi \\',
        '  && echo there',
        'USER root',
        'FROM scratch AS empty',
        'FROM ghcr.io/org/app@sha256:' + 'b'.repeat(64),
        'FROM node',
        'FROM build',
        'COPY --from=build /x /x',
        'USER 1000:1000',
        'EXPOSE 8080 9090/udp',
      ].join('\n'),
      { buildArgs: { TAG: '1.37' } },
    );
    expect(df.stages.map((s) => s.name)).toEqual(['build', 'empty', '', '', '']);
    expect(df.baseImages).toEqual([
      {
        ref: '127.0.0.1:5000/slipway/busybox:1.37',
        registry: '127.0.0.1:5000',
        repository: 'slipway/busybox',
        tag: '1.37',
        digest: '',
        scratch: false,
        stage: '',
      },
      { ref: 'scratch', registry: '', repository: '', tag: '', digest: '', scratch: true, stage: '' },
      {
        ref: `ghcr.io/org/app@sha256:${'b'.repeat(64)}`,
        registry: 'ghcr.io',
        repository: 'org/app',
        tag: '',
        digest: `sha256:${'b'.repeat(64)}`,
        scratch: false,
        stage: '',
      },
      { ref: 'node', registry: 'docker.io', repository: 'library/node', tag: 'latest', digest: '', scratch: false, stage: '' },
      { ref: 'build', registry: '', repository: '', tag: '', digest: '', scratch: false, stage: 'build' },
    ]);
    expect(df.users).toEqual(['1000:1000']);
    expect(df.exposedPorts).toEqual(['8080/tcp', '9090/udp']);
  });
});
