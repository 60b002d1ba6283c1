import { arch } from 'node:os';
import { parseLines, type Dialect, type Instruction } from './dockerfile-lines.js';
import { frontendImages } from './frontend-image.js';
import { normalizeImageRef } from './image-ref.js';
import type { BaseImageInput, DockerfileImage, DockerfileInput } from './inputs.js';
import { csvRecord, extractFlags, flagValues, parseWords, processWord, type Escape } from './shell-word.js';

export interface ParseDockerfileOptions {
  path?: string;
  /** The build request's build args (they override ARG defaults, BuildKit's `build-arg:` attributes). */
  buildArgs?: Record<string, string>;
  /** The platform BuildKit builds for, for `$TARGETARCH` and friends in FROM. Default: this machine's. */
  platform?: { os: string; architecture: string; variant?: string };
}

/** Instructions BuildKit knows; any other one makes it refuse the whole file before resolving anything. */
const KNOWN = new Set([
  'add',
  'arg',
  'cmd',
  'copy',
  'entrypoint',
  'env',
  'expose',
  'from',
  'healthcheck',
  'label',
  'maintainer',
  'onbuild',
  'run',
  'shell',
  'stopsignal',
  'user',
  'volume',
  'workdir',
]);
const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

/**
 * What the `build` gate sees of a Dockerfile: stages, every image BuildKit will resolve for it (stage
 * bases, `COPY --from`, `RUN --mount=…,from=`, the `# syntax=` frontend), the final stage's USER
 * instructions and exposed ports. The file is read as BuildKit today reads it and as the older BuildKit
 * in Docker Engine 20.10 reads it (dockerfile-lines.ts); `images` holds what either would resolve, so
 * a file written to read differently in the two still shows the gate every image.
 */
export function parseDockerfile(text: string, options: ParseDockerfileOptions = {}): DockerfileInput {
  const current = readAs(text, 'current', options);
  const legacy = readAs(text, 'legacy', options);
  const images = new Map<string, DockerfileImage>();
  const add = (img: DockerfileImage) => {
    const key = `${img.reason} ${img.ref}`;
    if (!images.has(key)) images.set(key, img);
  };
  current.images.forEach(add);
  // A file the older parser would refuse (e.g. a heredoc's body read as instructions) resolves nothing there.
  if (!legacy.refused) legacy.images.forEach(add);
  const frontends = frontendImages(text);
  const syntaxArg = options.buildArgs?.BUILDKIT_SYNTAX;
  if (syntaxArg) frontends.push(syntaxArg.split(' ')[0]!);
  for (const ref of frontends) add(image(ref, 'syntax', 1));
  return {
    path: options.path ?? 'Dockerfile',
    stages: current.stages,
    baseImages: current.baseImages,
    images: [...images.values()],
    users: current.users,
    exposedPorts: current.exposedPorts,
  };
}

interface Stage {
  name: string;
  base: string;
  line: number;
  instructions: Instruction[];
}

interface Reading {
  stages: DockerfileInput['stages'];
  baseImages: BaseImageInput[];
  images: DockerfileImage[];
  users: string[];
  exposedPorts: string[];
  /** BuildKit in this dialect would refuse the file before resolving any image. */
  refused: boolean;
}

function readAs(text: string, dialect: Dialect, options: ParseDockerfileOptions): Reading {
  const parsed = parseLines(text, dialect);
  const escape = parsed.escape;
  const buildArgs = options.buildArgs ?? {};
  const global = platformArgs(options.platform, buildArgs);
  const stages: Stage[] = [];
  const images: DockerfileImage[] = [];
  const baseImages: BaseImageInput[] = [];
  let refused = parsed.errors.length > 0;

  for (const ins of parsed.instructions) {
    if (!KNOWN.has(ins.keyword)) refused = true;
    const stage = stages.at(-1);
    if (ins.keyword === 'from') {
      const from = readFrom(ins, global, escape);
      if (!from) {
        refused = true;
        continue;
      }
      // Only stages above this FROM can be its base (BuildKit registers stages in order); names compare as
      // written after expansion against the lower-cased stage names.
      const isStage = stages.some((s) => s.name !== '' && s.name === from.base);
      baseImages.push(baseImage(from.base, from.unsure, isStage));
      if (!isStage && from.base !== 'scratch') images.push(image(from.unsure ? `${from.raw}` : from.base, 'from', ins.line, from.unsure));
      stages.push({ name: from.name, base: from.base, line: ins.line, instructions: [] });
    } else if (!stage) {
      // Before the first FROM: global ARGs, the only variables a FROM line can use.
      if (ins.keyword === 'arg') declareArgs(ins.args, escape, global, global, buildArgs, dialect);
    } else {
      stage.instructions.push(ins);
    }
  }

  const names = new Set(stages.map((s) => s.name).filter(Boolean));
  for (const stage of stages) {
    for (const ins of stage.instructions) images.push(...sourcesOf(ins, names, stages.length, escape));
  }

  const last = stages.at(-1);
  const { users, exposedPorts } = last ? finalStage(last, global, buildArgs, escape, dialect) : { users: [], exposedPorts: [] };
  return {
    stages: stages.map((s) => ({ name: s.name, base: s.base })),
    baseImages,
    images,
    users,
    exposedPorts,
    refused,
  };
}

/** BuildKit's automatic platform ARGs, usable in FROM without a declaration. */
function platformArgs(platform: ParseDockerfileOptions['platform'], buildArgs: Record<string, string>): Map<string, string> {
  const architecture =
    platform?.architecture ??
    ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' } as Record<string, string>)[arch()] ??
    arch();
  const os = platform?.os ?? 'linux';
  const variant = platform?.variant ?? '';
  const spec = [os, architecture, variant].filter(Boolean).join('/');
  const env = new Map<string, string>();
  for (const side of ['BUILD', 'TARGET']) {
    env.set(`${side}PLATFORM`, spec);
    env.set(`${side}OS`, os);
    env.set(`${side}ARCH`, architecture);
    env.set(`${side}VARIANT`, variant);
  }
  for (const key of env.keys()) if (key in buildArgs) env.set(key, buildArgs[key]!);
  return env;
}

/**
 * ARG: a build arg wins verbatim; else a default is expanded with `scope` as it stands; else the name
 * keeps its value (the older BuildKit reset it to ''). `into` receives the values.
 */
function declareArgs(
  args: string,
  escape: Escape,
  scope: Map<string, string>,
  into: Map<string, string>,
  buildArgs: Record<string, string>,
  dialect: Dialect,
): void {
  for (const word of parseWords(args, escape)) {
    const eq = word.indexOf('=');
    const key = eq >= 0 ? word.slice(0, eq) : word;
    if (!key) continue;
    if (Object.hasOwn(buildArgs, key)) into.set(key, buildArgs[key]!);
    else if (eq >= 0) into.set(key, processWord(word.slice(eq + 1), scope, escape).value);
    else if (dialect === 'legacy' && into === scope) into.set(key, '');
  }
}

function readFrom(ins: Instruction, global: Map<string, string>, escape: Escape): { base: string; raw: string; name: string; unsure: boolean } | undefined {
  const words = ins.args.split(/[\t\v\f\r ]+/).filter(Boolean);
  if (words.length !== 1 && !(words.length === 3 && words[1]!.toLowerCase() === 'as')) return undefined;
  const name = words.length === 3 ? words[2]!.toLowerCase() : '';
  if (name && !STAGE_NAME.test(name)) return undefined;
  const raw = words[0]!;
  const expanded = processWord(raw, global, escape);
  if (expanded.value === '' && !expanded.unsure) return undefined;
  return { base: expanded.value, raw, name, unsure: expanded.unsure };
}

function baseImage(ref: string, unsure: boolean, isStage: boolean): BaseImageInput {
  const empty = { ref, registry: '', repository: '', tag: '', digest: '', scratch: false, stage: '' };
  if (isStage) return { ...empty, stage: ref };
  if (ref === 'scratch') return { ...empty, scratch: true };
  const n = unsure ? undefined : normalizeImageRef(ref);
  // An unreadable reference is BuildKit's to report; the gate sees it with empty parts (and rules on registry fail).
  return n ? { ...empty, ...n } : empty;
}

function image(ref: string, reason: DockerfileImage['reason'], line: number, unsure = false): DockerfileImage {
  const n = unsure ? undefined : normalizeImageRef(ref);
  return { ref, registry: n?.registry ?? '', repository: n?.repository ?? '', tag: n?.tag ?? '', digest: n?.digest ?? '', reason, line };
}

/**
 * Images an instruction inside a stage makes BuildKit resolve: `COPY --from` (`ADD --from` too, which
 * BuildKit refuses today but costs nothing to check) naming neither a stage nor a stage index, and
 * `RUN --mount=…,from=` naming no stage (mounts take names only). ONBUILD's instruction counts too: a
 * later `FROM <this stage>` runs it in the same build.
 */
function sourcesOf(ins: Instruction, stageNames: Set<string>, stageCount: number, escape: Escape): DockerfileImage[] {
  let { keyword, flags } = ins;
  if (keyword === 'onbuild') {
    const inner = /^(\S+)\s*([\s\S]*)$/.exec(ins.args);
    if (!inner) return [];
    keyword = inner[1]!.toLowerCase();
    flags = extractFlags(inner[2] ?? '').flags;
  }
  const out: DockerfileImage[] = [];
  const source = (value: string, reason: DockerfileImage['reason'], byIndex: boolean) => {
    // BuildKit expands no variables here: a value that quoting or expansion would change is refused by
    // today's BuildKit and read literally (so never as a valid name) by older ones.
    const literal = processWord(value, new Map(), escape);
    if (literal.unsure || literal.value !== value) {
      out.push(image(value, reason, ins.line, true));
      return;
    }
    if (byIndex && /^[+-]?\d+$/.test(value)) {
      const index = Number(value);
      if (index >= 0 && index < stageCount) return;
    }
    if (stageNames.has(value.toLowerCase()) || value === 'scratch') return;
    out.push(image(value, reason, ins.line));
  };
  if (keyword === 'copy' || keyword === 'add') {
    for (const from of flagValues(flags, 'from')) if (from !== undefined && from !== '') source(from, 'copy-from', true);
  } else if (keyword === 'run') {
    for (const mount of flagValues(flags, 'mount')) {
      const fields = mount === undefined ? undefined : csvRecord(mount);
      for (const field of fields ?? []) {
        const eq = field.indexOf('=');
        if (eq < 0 || field.slice(0, eq).toLowerCase() !== 'from') continue;
        // Every mount type counts: today's BuildKit resolves `from` whatever the type (older ones skipped tmpfs).
        source(field.slice(eq + 1), 'mount-from', false);
      }
    }
  }
  return out;
}

/** USER instructions and exposed ports of the final stage, with its ARG and ENV values expanded. */
function finalStage(stage: Stage, global: Map<string, string>, buildArgs: Record<string, string>, escape: Escape, dialect: Dialect) {
  const env = new Map<string, string>();
  const users: string[] = [];
  const exposedPorts: string[] = [];
  for (const ins of stage.instructions) {
    if (ins.keyword === 'arg') {
      // A stage ARG without a default takes the global value of that name.
      for (const word of parseWords(ins.args, escape)) {
        const key = word.split('=')[0]!;
        if (!word.includes('=') && !Object.hasOwn(buildArgs, key) && global.has(key)) env.set(key, global.get(key)!);
      }
      declareArgs(ins.args, escape, env, env, buildArgs, dialect);
    } else if (ins.keyword === 'env') {
      for (const word of parseWords(ins.args, escape)) {
        const eq = word.indexOf('=');
        if (eq > 0) env.set(word.slice(0, eq), processWord(word.slice(eq + 1), env, escape).value);
      }
    } else if (ins.keyword === 'user') {
      users.push(processWord(ins.args, env, escape).value);
    } else if (ins.keyword === 'expose') {
      for (const p of ins.args.split(/\s+/).filter(Boolean)) {
        const port = processWord(p, env, escape).value;
        if (port) exposedPorts.push(port.includes('/') ? port : `${port}/tcp`);
      }
    }
  }
  return { users, exposedPorts };
}
