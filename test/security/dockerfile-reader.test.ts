import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluateGate, loadPolicies, parseDockerfile, type PolicyInput } from '../../src/policy/index.js';

const OK = '127.0.0.1:5000/slipway/busybox:1.36';
const EVIL = 'ghcr.io/evil/tools:1';
const BOM = '\uFEFF';

/** The images the build gate says BuildKit will resolve, as `reason ref`. */
const images = (text: string, buildArgs?: Record<string, string>) =>
  parseDockerfile(text, buildArgs ? { buildArgs } : {}).images.map((i) => `${i.reason} ${i.ref}`);

/**
 * Each way a Dockerfile made BuildKit resolve an image the build gate did not see (each row passed the
 * gate before this reader). Every row names the disallowed image; the gate must list it, and the default
 * registry rule then refuses the build.
 */
const BYPASSES: [string, string, string][] = [
  [
    'a stage ARG does not change a later FROM (only global ARGs do)',
    `ARG IMG=${EVIL}\nFROM ${OK} AS one\nARG IMG=${OK}\nFROM \${IMG}\nCOPY --from=one /x /x\n`,
    `from ${EVIL}`,
  ],
  ['an escape directive after a blank line is a comment', `\n# escape=\`\nFROM ${OK}\nRUN echo \`\nFROM ${EVIL}\n`, `from ${EVIL}`],
  ['a BOM before the escape directive is dropped, so the directive holds', `${BOM}# escape=\`\nFROM ${OK}\nRUN echo \\\nFROM ${EVIL}\n`, `from ${EVIL}`],
  ['COPY --from=<image>', `FROM ${OK}\nCOPY --from=${EVIL} /bin/sh /sh\n`, `copy-from ${EVIL}`],
  ['COPY --from=<image> with a quoted flag value', `FROM ${OK}\nCOPY --from="${EVIL}" /bin/sh /sh\n`, `copy-from ${EVIL}`],
  ['RUN --mount=from=<image> (a bind mount by default)', `FROM ${OK}\nRUN --mount=from=${EVIL},target=/t true\n`, `mount-from ${EVIL}`],
  ['RUN --mount=type=bind,from=<image>', `FROM ${OK}\nRUN --mount=type=bind,from=${EVIL},target=/t true\n`, `mount-from ${EVIL}`],
  ['RUN --mount=type=cache,from=<image>', `FROM ${OK}\nRUN --mount=type=cache,target=/c,from=${EVIL} true\n`, `mount-from ${EVIL}`],
  ['RUN --mount with a CSV-quoted from field', `FROM ${OK}\nRUN --mount=type=bind,"from=${EVIL}",target=/t true\n`, `mount-from ${EVIL}`],
  ['ONBUILD COPY --from=<image>, run by a later FROM of that stage', `FROM ${OK} AS base\nONBUILD COPY --from=${EVIL} /x /x\nFROM base\n`, `copy-from ${EVIL}`],
  ['# syntax=<frontend image>', `# syntax=${EVIL}\nFROM ${OK}\n`, `syntax ${EVIL}`],
  ['# syntax= after other directives, upper case', `# escape=\\\n# SYNTAX = ${EVIL}\nFROM ${OK}\n`, `syntax ${EVIL}`],
  ['// syntax=<frontend image>', `// syntax=${EVIL}\nFROM ${OK}\n`, `syntax ${EVIL}`],
  ['# syntax= after a #! line', `#!/usr/bin/env buildctl\n# syntax=${EVIL}\nFROM ${OK}\n`, `syntax ${EVIL}`],
  ['a continuation comment line does not end the instruction', `FROM ${OK}\nRUN echo \\\n# note\n  hi\nCOPY --from=${EVIL} /x /x\n`, `copy-from ${EVIL}`],
  [
    'a heredoc body ends at its terminator, after which instructions count again',
    `FROM ${OK}\nRUN <<EOF\necho hi\nEOF\nCOPY --from=${EVIL} /x /x\n`,
    `copy-from ${EVIL}`,
  ],
];

/** Reading rules the gate already got right, kept so the new reader does not lose them. */
const KEPT: [string, string, string][] = [
  ['an escape directive after an ordinary comment is a comment', `# hello\n# escape=\`\nFROM ${OK}\nRUN echo \`\nFROM ${EVIL}\n`, `from ${EVIL}`],
  ['a FROM keyword in lower case', `from ${EVIL}\n`, `from ${EVIL}`],
  ['a FROM continued over an empty line', `FROM \\\n\n  ${EVIL}\n`, `from ${EVIL}`],
  ['quotes and escapes in FROM are removed by BuildKit', 'FROM "ghcr.io/evil/"too\\ls:1\n', `from ${EVIL}`],
  ['${VAR:-default} in FROM with the global ARG unset', 'ARG IMG\nFROM ${IMG:-ghcr.io/evil/tools:1}\n', `from ${EVIL}`],
  ['${VAR:+alt} in FROM with the global ARG set', 'ARG SET=1\nFROM ${SET:+ghcr.io/evil/tools:1}\n', `from ${EVIL}`],
  [
    'a check directive before the escape directive (the old parser stops at check)',
    `# check=skip=all\n# escape=\`\nFROM ${OK}\nRUN echo \`\nFROM ${EVIL}\n`,
    `from ${EVIL}`,
  ],
];

describe('the build gate reads Dockerfiles as BuildKit does', () => {
  it.each([...BYPASSES, ...KEPT])('%s', (_name, text, expected) => {
    expect(images(text)).toContain(expected);
  });

  const policies = loadPolicies(resolve('policies'));
  const gate = (text: string) => {
    const input: PolicyInput = {
      app: { name: 'hello' },
      event: {
        forge: 'github',
        repo: 'o/r',
        ref: 'refs/heads/main',
        branch: 'main',
        tag: '',
        commit: 'a'.repeat(40),
        author: 'a',
        fork: false,
        pullRequest: 0,
        trigger: 'push',
      },
      target: { name: 'local', kind: 'local' },
      dockerfile: parseDockerfile(text),
    };
    return evaluateGate(policies, 'build', { app: 'hello', branch: 'main', target: 'local' }, input);
  };

  it.each([...BYPASSES, ...KEPT])('the default policies refuse: %s', (_name, text) => {
    const result = gate(text);
    expect(result.rejected).toBe(true);
    expect(result.decisions.find((d) => d.outcome === 'deny')?.policy).toBe('allowed-base-registries');
  });

  it('lets a clean multi-stage file through and names no stage, index or scratch as an image', () => {
    const text = [
      '# syntax=127.0.0.1:5000/slipway/dockerfile:1.7',
      `ARG BASE=${OK}`,
      'FROM --platform=$BUILDPLATFORM ${BASE} AS Build',
      'RUN --mount=type=cache,target=/root/.cache --mount=type=tmpfs,target=/tmp --mount=type=secret,id=t true',
      'FROM scratch AS empty',
      'FROM build',
      'COPY --from=BUILD /x /x',
      'COPY --from=0 /y /y',
      'COPY --from=empty /z /z',
      'RUN --mount=from=build,target=/b true',
      'COPY --from=scratch /n /n',
    ].join('\n');
    expect(images(text)).toEqual(['from 127.0.0.1:5000/slipway/busybox:1.36', 'syntax 127.0.0.1:5000/slipway/dockerfile:1.7']);
    expect(gate(text).rejected).toBe(false);
  });

  it('reads heredoc bodies as content, not instructions', () => {
    const text = `FROM ${OK}\nCOPY <<EOF /etc/motd\nFROM ${EVIL}\nUSER root\nEOF\nRUN <<-"END" sh\n\tEXPOSE 9999\n\tEND\nUSER app\n`;
    const df = parseDockerfile(text);
    expect(df.images.map((i) => i.ref)).toEqual([OK]);
    expect(df.users).toEqual(['app']);
    expect(df.exposedPorts).toEqual([]);
  });

  it('takes global ARG defaults and build args, and keeps stage ARGs to their stage', () => {
    const text = `ARG REG=127.0.0.1:5000\nARG TAG=1.0\nARG IMG=\${REG}/slipway/busybox:\${TAG}\nFROM \${IMG} AS a\nARG TAG=9\nFROM \${REG}/slipway/other:\${TAG}\nCOPY --from=a /x /x\n`;
    expect(images(text)).toEqual(['from 127.0.0.1:5000/slipway/busybox:1.0', 'from 127.0.0.1:5000/slipway/other:1.0']);
    expect(images(text, { TAG: '2.0' })).toEqual(['from 127.0.0.1:5000/slipway/busybox:2.0', 'from 127.0.0.1:5000/slipway/other:2.0']);
    // A build arg is taken verbatim, as BuildKit does: the IMG default is not used at all.
    expect(images(text, { IMG: `${EVIL}` })).toContain(`from ${EVIL}`);
  });

  it('treats a form it does not evaluate as an unknown image, which the registry rule refuses', () => {
    const df = parseDockerfile('ARG IMG=127.0.0.1:5000/x\nFROM ${IMG%/x}/evil\n');
    expect(df.images).toEqual([expect.objectContaining({ reason: 'from', registry: '' })]);
    expect(gate('ARG IMG=127.0.0.1:5000/x\nFROM ${IMG%/x}/evil\n').rejected).toBe(true);
    expect(gate(`FROM ${OK}\nCOPY --from=\${X} /x /x\n`).rejected).toBe(true);
  });

  it('normalizes Docker Hub names and keeps digests', () => {
    const digest = `sha256:${'b'.repeat(64)}`;
    const df = parseDockerfile(`FROM alpine\nFROM index.docker.io/library/node:20@${digest}\n`);
    expect(df.images.map((i) => [i.registry, i.repository, i.tag, i.digest])).toEqual([
      ['docker.io', 'library/alpine', 'latest', ''],
      ['docker.io', 'library/node', '20', digest],
    ]);
  });

  it('keeps baseImages for existing policies', () => {
    const df = parseDockerfile(`FROM ${OK} AS b\nFROM b\n`);
    expect(df.baseImages.map((b) => [b.ref, b.stage, b.registry])).toEqual([
      [OK, '', '127.0.0.1:5000'],
      ['b', 'b', ''],
    ]);
  });
});
