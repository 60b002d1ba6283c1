import type { Gate } from './document.js';

/**
 * What each gate's rules see (documented in policies/README.md). Plain data, converted for CEL by
 * `toCelValue` (whole numbers become CEL ints so `image.size < 100` compares ints, as users write it).
 */
export interface EventInput {
  forge: string;
  repo: string;
  ref: string;
  branch: string;
  tag: string;
  commit: string;
  author: string;
  fork: boolean;
  /** PR number or MR iid; 0 when the build is not for a pull/merge request. */
  pullRequest: number;
  trigger: string;
}

export interface BaseImageInput {
  /** As written after FROM, with build args substituted. */
  ref: string;
  registry: string;
  repository: string;
  tag: string;
  digest: string;
  /** `FROM scratch`. */
  scratch: boolean;
  /** Name of an earlier stage when FROM refers to one (then it is not an image). */
  stage: string;
}

/** An image BuildKit will resolve for the Dockerfile (never a stage, never `scratch`). */
export interface DockerfileImage {
  /** As written, with build args substituted. */
  ref: string;
  /** '' when the reference cannot be read (a form the gate does not evaluate, or not a reference). */
  registry: string;
  repository: string;
  /** `latest` when neither tag nor digest is written. */
  tag: string;
  digest: string;
  /** A stage base, `COPY --from=<image>`, `RUN --mount=from=<image>`, or the `# syntax=` frontend. */
  reason: 'from' | 'copy-from' | 'mount-from' | 'syntax';
  line: number;
}

export interface DockerfileInput {
  path: string;
  stages: { name: string; base: string }[];
  baseImages: BaseImageInput[];
  /** Every image BuildKit will resolve: what a registry rule must check. */
  images: DockerfileImage[];
  /** USER instructions of the final stage, in order. */
  users: string[];
  exposedPorts: string[];
}

export interface ImageInput {
  /** Full reference, `registry/repo@sha256:…` when addressed by digest. */
  ref: string;
  registry: string;
  repository: string;
  digest: string;
  byDigest: boolean;
  config: {
    User: string;
    /**
     * The numeric uid `User` resolves to (a name through the image's /etc/passwd; `00`, `root:x`, `0:0`
     * are all 0); null when it cannot be resolved (no passwd, unknown name): judge this, not `User`.
     */
    uid: number | null;
    Env: string[];
    Entrypoint: string[];
    Cmd: string[];
    WorkingDir: string;
    ExposedPorts: string[];
    Labels: Record<string, string>;
  };
  labels: Record<string, string>;
  layers: { digest: string; size: number; mediaType: string }[];
  /** Sum of the layers' compressed sizes, in bytes. */
  size: number;
  created: string;
  os: string;
  architecture: string;
}

export interface SignaturesInput {
  /** Ids (file names or fingerprints) of the trusted keys that verified a signature of the digest. */
  verified: string[];
}

export interface TargetInput {
  name: string;
  kind: string;
}

export interface PolicyInput {
  app: { name: string };
  event: EventInput;
  target: TargetInput;
  dockerfile?: DockerfileInput;
  image?: ImageInput;
  signatures?: SignaturesInput;
}

/** Which variables each gate has (later gates see everything earlier ones saw). */
export const GATE_VARIABLES: Record<Gate, (keyof PolicyInput)[]> = {
  source: ['app', 'event', 'target'],
  build: ['app', 'event', 'target', 'dockerfile'],
  image: ['app', 'event', 'target', 'dockerfile', 'image'],
  promote: ['app', 'event', 'target', 'image', 'signatures'],
};

/** Converts plain data for CEL: safe whole numbers → bigint (CEL int), everything else as is. */
export function toCelValue(value: unknown): unknown {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? BigInt(value) : value;
  if (Array.isArray(value)) return value.map(toCelValue);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toCelValue(v)]));
  }
  return value;
}

const SAMPLE_DIGEST = `sha256:${'0'.repeat(64)}`;

/**
 * A representative input per gate, with every documented field present. Each rule is evaluated
 * against it when policies load: a rule that names a field that does not exist, compares mismatched
 * types, or is not a boolean fails start-up with its file and rule, not a build later.
 */
export function sampleInput(gate: Gate): PolicyInput {
  const full: Required<PolicyInput> = {
    app: { name: 'sample' },
    event: {
      forge: 'github',
      repo: 'octo/sample',
      ref: 'refs/heads/main',
      branch: 'main',
      tag: '',
      commit: 'a'.repeat(40),
      author: 'octocat',
      fork: false,
      pullRequest: 0,
      trigger: 'push',
    },
    target: { name: 'local', kind: 'local' },
    dockerfile: {
      path: 'Dockerfile',
      stages: [
        { name: 'build', base: '127.0.0.1:5000/slipway/busybox:latest' },
        { name: '', base: 'build' },
      ],
      baseImages: [
        {
          ref: '127.0.0.1:5000/slipway/busybox:latest',
          registry: '127.0.0.1:5000',
          repository: 'slipway/busybox',
          tag: 'latest',
          digest: '',
          scratch: false,
          stage: '',
        },
        { ref: 'build', registry: '', repository: '', tag: '', digest: '', scratch: false, stage: 'build' },
      ],
      images: [
        {
          ref: '127.0.0.1:5000/slipway/busybox:latest',
          registry: '127.0.0.1:5000',
          repository: 'slipway/busybox',
          tag: 'latest',
          digest: '',
          reason: 'from',
          line: 1,
        },
      ],
      users: ['app'],
      exposedPorts: ['8080/tcp'],
    },
    image: {
      ref: `127.0.0.1:5000/slipway/sample@${SAMPLE_DIGEST}`,
      registry: '127.0.0.1:5000',
      repository: 'slipway/sample',
      digest: SAMPLE_DIGEST,
      byDigest: true,
      config: {
        User: 'app',
        uid: 1000,
        Env: ['PATH=/bin'],
        Entrypoint: [],
        Cmd: ['/bin/app'],
        WorkingDir: '/',
        ExposedPorts: ['8080/tcp'],
        Labels: { 'org.opencontainers.image.source': 'https://github.com/octo/sample' },
      },
      labels: { 'org.opencontainers.image.source': 'https://github.com/octo/sample', 'org.opencontainers.image.revision': 'a'.repeat(40) },
      layers: [{ digest: SAMPLE_DIGEST, size: 1024, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }],
      size: 1024,
      created: '2026-01-01T00:00:00Z',
      os: 'linux',
      architecture: 'amd64',
    },
    signatures: { verified: ['cosign.pub'] },
  };
  return Object.fromEntries(GATE_VARIABLES[gate].map((k) => [k, full[k]])) as unknown as PolicyInput;
}
