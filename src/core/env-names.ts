/**
 * Names and sizes of an app's environment variables (`slipway env`, `apps[].env`, `apps[].secrets`),
 * checked in one place so the config file, the API and the targets refuse the same things.
 */

/** A POSIX shell variable name: what every runtime and `kubectl` accept, and what a shell can read back. */
export const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]{0,255}$/;

/** Longest value of one variable (bytes of UTF-8). */
export const ENV_VALUE_MAX_BYTES = 32 * 1024;
/** Most variables (plain and secret) one app may have on one target. */
export const ENV_MAX_ENTRIES = 200;

/**
 * Why a name may not be set by an app's people, or undefined when it may: `PORT` and `K_*` belong to the
 * serving runtime (Knative's runtime contract; a value set here would be overridden or rejected) and
 * `SLIPWAY_*` to Slipway (the enforcer's proxy socket).
 */
export function reservedEnvName(name: string): string | undefined {
  if (name === 'PORT') return 'PORT is set by the serving target (the port the app must listen on); set apps[].port instead';
  if (name.startsWith('K_')) return `${name}: K_* names are set by the serving target (Knative runtime contract)`;
  if (name.startsWith('SLIPWAY_')) return `${name}: SLIPWAY_* names are set by Slipway itself`;
  return undefined;
}

/** Every problem with one variable, for an error that lists them all. */
export function envEntryProblems(name: string, value: string | undefined): string[] {
  if (!ENV_NAME_RE.test(name)) {
    const shown = name.length > 64 ? `${name.slice(0, 64)}…` : name;
    return [`"${shown}" is not a variable name (letters, digits and _, not starting with a digit, at most 256 characters)`];
  }
  const reserved = reservedEnvName(name);
  if (reserved) return [reserved];
  if (value === undefined) return [];
  const problems: string[] = [];
  if (Buffer.byteLength(value, 'utf8') > ENV_VALUE_MAX_BYTES) problems.push(`${name}: the value is longer than ${ENV_VALUE_MAX_BYTES} bytes`);
  if (value.includes('\0')) problems.push(`${name}: the value contains a NUL byte, which no process environment can hold`);
  return problems;
}
