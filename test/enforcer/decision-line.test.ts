import { describe, expect, it } from 'vitest';
import { parseDecisionLine } from '../../src/injection/index.js';

/**
 * The enforcer's decision lines (enforcer/README.md "Decision log") as the local target reads them
 * from a container's stderr. The app writes to the same stderr, so every line here may be hostile.
 */

const SHA = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';
const GOOD = { v: 1, ts: '2025-01-31T12:00:00.123Z', decision: 'denied', gate: 'seccomp', syscall: 'execve', path: '/tmp/x', sha256: SHA, pid: 42, uid: 1000, parent: 'sh', rule: 'not-in-manifest', detail: 'not in manifest' };
const line = (fields: Record<string, unknown>) => `slipway-enforcer: ${JSON.stringify(fields)}`;
const with_ = (patch: Record<string, unknown>) => line({ ...GOOD, ...patch });

describe('parseDecisionLine', () => {
  it('reads the README example exactly', () => {
    const fields: Record<string, unknown> = { ...GOOD };
    delete fields.v;
    expect(parseDecisionLine(line(GOOD))).toEqual(fields);
  });

  it.each([
    ['audited, landlock, execveat', { decision: 'audited', gate: 'landlock', syscall: 'execveat' }],
    ['memfd_create with a memfd: path', { syscall: 'memfd_create', path: 'memfd:payload', rule: 'memfd-exec', sha256: null }],
    ['nulls where the README allows them', { sha256: null, uid: null, parent: null }],
    ['allowed (LOG=all)', { decision: 'allowed', rule: 'manifest' }],
    ['an unknown future field (v1 may add fields)', { newField: { nested: true } }],
    ['an unknown rule that looks like a rule id', { rule: 'some-future-rule' }],
  ])('accepts %s', (_name, patch) => {
    const d = parseDecisionLine(with_(patch));
    expect(d).toBeDefined();
    expect(d).not.toHaveProperty('newField');
  });

  it.each([
    ['another enforcer line', 'slipway-enforcer: info: Landlock gate active'],
    ['an app line', 'GET / 200'],
    ['the prefix not at the start', ` ${line(GOOD)}`],
    ['bad JSON', 'slipway-enforcer: {"v":1,'],
    ['trailing data after the object', `${line(GOOD)} extra`],
    ['an unknown version', with_({ v: 2 })],
    ['version as a string', with_({ v: '1' })],
    ['a missing field', line(Object.fromEntries(Object.entries(GOOD).filter(([k]) => k !== 'rule')))],
    ['an unknown decision', with_({ decision: 'blocked' })],
    ['an unknown gate', with_({ gate: 'apparmor' })],
    ['an unknown syscall', with_({ syscall: 'open' })],
    ['a bad timestamp', with_({ ts: 'yesterday' })],
    ['an impossible date', with_({ ts: '2025-13-45T99:00:00Z' })],
    ['an uppercase sha256', with_({ sha256: SHA.toUpperCase() })],
    ['a short sha256', with_({ sha256: 'abc' })],
    ['a negative pid', with_({ pid: -1 })],
    ['a fractional uid', with_({ uid: 1.5 })],
    ['a huge uid', with_({ uid: 2 ** 40 })],
    ['a rule with markup', with_({ rule: '<img src=x>' })],
    ['a rule that is too long', with_({ rule: `r${'x'.repeat(64)}` })],
    ['an empty path', with_({ path: '' })],
    ['a path as an object', with_({ path: { toString: '/x' } })],
    ['an array instead of an object', 'slipway-enforcer: [1,2]'],
    ['a JSON null', 'slipway-enforcer: null'],
    ['an over-long detail', with_({ detail: 'd'.repeat(513) })],
    ['a line over 4 KiB', with_({ path: `/${'a'.repeat(4100)}` })],
    ['a line of 4 KiB in multi-byte characters', with_({ path: `/${'é'.repeat(2100)}` })],
  ])('ignores %s', (_name, input) => {
    expect(parseDecisionLine(input)).toBeUndefined();
  });

  it('escapes control and bidi characters a forged line could use against a terminal or a pull request page', () => {
    const d = parseDecisionLine(with_({ path: '/tmp/\u001b[2J\u202egnp.exe', parent: 'a\u0007b', detail: 'x\ny' }));
    expect(d?.path).toBe('/tmp/\\u001b[2J\\u202egnp.exe');
    expect(d?.parent).toBe('a\\u0007b');
    expect(d?.detail).toBe('x\\u000ay');
  });

  it('caps stored paths at 1024 characters', () => {
    const d = parseDecisionLine(with_({ path: `/${'p'.repeat(2000)}` }));
    expect(d?.path).toHaveLength(1024);
    expect(d?.path.endsWith('…')).toBe(true);
  });

  it('does not let __proto__ in a forged line reach the result', () => {
    const d = parseDecisionLine(`slipway-enforcer: ${JSON.stringify(GOOD).replace('{', '{"__proto__":{"polluted":1},')}`);
    expect(d).toBeDefined();
    expect((d as unknown as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
