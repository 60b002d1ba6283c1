import type { z } from 'zod';
import { envKeys } from './env.js';
import { configSchema } from './schema.js';

export interface ReferenceRow {
  key: string;
  env: string;
  default: string;
  description: string;
}

interface Described {
  description?: string;
  _zod: { def: { type: string; innerType?: z.ZodType; in?: z.ZodType; shape?: Record<string, z.ZodType> } };
}

/** The description of the schema at `path`, taking the outermost `.describe()` on the way down. */
function describeAt(path: string[]): string {
  let node = configSchema as unknown as Described;
  let description = '';
  const take = () => {
    for (let n: Described | undefined = node; n; ) {
      if (n.description) {
        description = n.description;
        return;
      }
      const def = n._zod.def;
      n = (def.innerType ?? def.in) as unknown as Described | undefined;
    }
  };
  for (const part of path) {
    // unwrap to the object holding `part`
    let inner: Described | undefined = node;
    while (inner && !inner._zod.def.shape) inner = (inner._zod.def.innerType ?? inner._zod.def.in) as unknown as Described | undefined;
    node = inner!._zod.def.shape![part] as unknown as Described;
    description = '';
    take();
  }
  return description;
}

/** Rows for the configuration reference (docs/configuration.md): every key, its env variable, default and meaning. */
export function configReference(): ReferenceRow[] {
  const defaults = configSchema.parse({}) as unknown as Record<string, unknown>;
  return envKeys(configSchema).map((k) => {
    let value: unknown = defaults;
    for (const part of k.path) value = (value as Record<string, unknown> | undefined)?.[part];
    return {
      key: k.path.join('.'),
      env: k.env,
      default: value === undefined ? '—' : JSON.stringify(value),
      description: describeAt(k.path),
    };
  });
}
