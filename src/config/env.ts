import type { z } from 'zod';

/**
 * Maps config keys to `SLIPWAY_*` environment variables mechanically:
 * `github.webhookSecret` ↔ `SLIPWAY_GITHUB_WEBHOOK_SECRET`. Object-valued keys recurse; any other key
 * (scalars, lists, maps) is a leaf whose env value is parsed by its type (lists and maps as JSON).
 */

export type LeafKind = 'string' | 'number' | 'boolean' | 'json';

export interface EnvKey {
  path: string[];
  env: string;
  kind: LeafKind;
}

interface Def {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  options?: z.ZodType[];
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** Strips wrappers that do not change what the user writes (defaults, optionality, transforms). */
function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (;;) {
    const def = defOf(current);
    if ((def.type === 'default' || def.type === 'prefault' || def.type === 'optional' || def.type === 'nullable') && def.innerType) {
      current = def.innerType;
    } else if (def.type === 'pipe' && def.in) {
      current = def.in;
    } else {
      return current;
    }
  }
}

function leafKind(schema: z.ZodType): LeafKind {
  const def = defOf(schema);
  if (def.type === 'number') return 'number';
  if (def.type === 'boolean') return 'boolean';
  if (def.type === 'string' || def.type === 'enum' || def.type === 'literal') return 'string';
  // A union of number and string (durations) is written as a string, like "60s".
  if (def.type === 'union' && def.options?.some((o) => defOf(unwrap(o)).type === 'string')) return 'string';
  return 'json';
}

export const envName = (path: readonly string[]): string =>
  'SLIPWAY_' + path.map((part) => part.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_');

export function envKeys(schema: z.ZodType, path: string[] = []): EnvKey[] {
  const inner = unwrap(schema);
  const def = defOf(inner);
  if (def.type === 'object' && def.shape) {
    return Object.entries(def.shape).flatMap(([key, child]) => envKeys(child, [...path, key]));
  }
  return [{ path, env: envName(path), kind: leafKind(inner) }];
}

/** Parses an env value for a leaf; returns an error message instead of throwing so all problems are collected. */
export function parseEnvValue(key: EnvKey, raw: string): { value: unknown } | { error: string } {
  switch (key.kind) {
    case 'string':
      return { value: raw };
    case 'number': {
      const value = Number(raw);
      return raw.trim() !== '' && Number.isFinite(value) ? { value } : { error: `expected a number, got "${raw}"` };
    }
    case 'boolean':
      if (raw === 'true' || raw === '1') return { value: true };
      if (raw === 'false' || raw === '0') return { value: false };
      return { error: `expected true or false, got "${raw}"` };
    case 'json':
      try {
        return { value: JSON.parse(raw) as unknown };
      } catch (err) {
        return { error: `expected JSON (a list or map), ${(err as Error).message}` };
      }
  }
}
