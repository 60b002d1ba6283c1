import { parseImageRef } from '../registry/index.js';
import type { BaseImageInput, DockerfileInput } from './inputs.js';

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

/**
 * Splits a Dockerfile into instructions: comments and parser directives dropped, backslash (or the
 * `# escape=` character) continuations joined. Heredocs are kept as opaque text of their instruction.
 */
export function instructions(text: string): Instruction[] {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const escapeDirective = /^#\s*escape\s*=\s*(\S)/i.exec(lines.find((l) => l.trim() !== '') ?? '');
  const escape = escapeDirective?.[1] ?? '\\';
  const out: Instruction[] = [];
  let current = '';
  let start = 0;
  lines.forEach((raw, i) => {
    const line = raw.trimEnd();
    if (current === '' && (line.trim().startsWith('#') || line.trim() === '')) return;
    if (current !== '' && line.trim().startsWith('#')) return; // comments inside continuations are dropped
    if (current === '') start = i + 1;
    if (line.endsWith(escape)) {
      current += `${line.slice(0, -1)} `;
      return;
    }
    current += line;
    const m = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(current);
    if (m) out.push({ keyword: m[1]!.toUpperCase(), args: m[2]!.trim(), line: start });
    current = '';
  });
  return out;
}

/** `${VAR}`, `${VAR:-default}` and `$VAR` from build args and ARG defaults, as BuildKit expands FROM. */
function substitute(text: string, vars: Record<string, string>): string {
  return text.replace(/\$\{(\w+)(?::?-([^}]*))?\}|\$(\w+)/g, (_m, braced: string | undefined, fallback: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare)!;
    return vars[name] ?? fallback ?? '';
  });
}

/**
 * What the `build` gate sees of a Dockerfile (issue 4): stages, base images with registry, repository,
 * tag and digest, the final stage's USER instructions and exposed ports.
 */
export function parseDockerfile(text: string, options: { path?: string; buildArgs?: Record<string, string> } = {}): DockerfileInput {
  const vars: Record<string, string> = {};
  const stages: DockerfileInput['stages'] = [];
  const baseImages: BaseImageInput[] = [];
  let users: string[] = [];
  let exposedPorts: string[] = [];
  const stageNames = new Set<string>();
  for (const ins of instructions(text)) {
    if (ins.keyword === 'ARG') {
      // ARGs before the first FROM may parameterize FROM; build args override their defaults.
      for (const part of ins.args.split(/\s+/)) {
        const [name, ...value] = part.split('=');
        if (!name) continue;
        vars[name] = options.buildArgs?.[name] ?? (value.length ? value.join('=').replace(/^["']|["']$/g, '') : vars[name] ?? '');
      }
    } else if (ins.keyword === 'FROM') {
      const words = ins.args.split(/\s+/).filter((w) => !w.startsWith('--platform'));
      const base = substitute(words[0] ?? '', { ...vars, ...options.buildArgs });
      const asIndex = words.findIndex((w) => w.toLowerCase() === 'as');
      const name = asIndex >= 0 ? (words[asIndex + 1] ?? '').toLowerCase() : '';
      stages.push({ name, base });
      baseImages.push(baseImage(base, stageNames));
      if (name) stageNames.add(name);
      users = [];
      exposedPorts = [];
    } else if (ins.keyword === 'USER') {
      users.push(substitute(ins.args, vars));
    } else if (ins.keyword === 'EXPOSE') {
      exposedPorts.push(...ins.args.split(/\s+/).filter(Boolean).map((p) => (p.includes('/') ? p : `${p}/tcp`)));
    }
  }
  return { path: options.path ?? 'Dockerfile', stages, baseImages, users, exposedPorts };
}

function baseImage(ref: string, stageNames: Set<string>): BaseImageInput {
  const empty = { ref, registry: '', repository: '', tag: '', digest: '', scratch: false, stage: '' };
  if (stageNames.has(ref.toLowerCase())) return { ...empty, stage: ref.toLowerCase() };
  if (ref === 'scratch') return { ...empty, scratch: true };
  try {
    const parsed = parseImageRef(ref);
    return { ...empty, registry: parsed.registry, repository: parsed.repository, tag: parsed.tag ?? (parsed.digest ? '' : 'latest'), digest: parsed.digest ?? '' };
  } catch {
    // An unparseable FROM is BuildKit's to report; the gate sees it with empty parts (and rules on registry fail).
    return empty;
  }
}
