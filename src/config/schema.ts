import { z } from 'zod';
import { parseDuration } from './duration.js';
import { parseSize } from './size.js';
import { DNS_LABEL_RE } from '../core/types.js';
import { envEntryProblems } from '../core/env-names.js';
import { parseHostPort } from '../core/host-port.js';
import { forgeIds, forgeSections, providerOf, type ForgeId } from '../forges/registry.js';
import { isForgeId } from '../forges/terms.js';
import { parseRepoSpec } from './repo-spec.js';

/**
 * The one configuration schema (docs/architecture.md).
 * Every key has a description and a default, so `slipway up` runs with no file at all. Objects are
 * strict: an unknown key is an error that names its path, never silently ignored.
 */

/**
 * A quantity people write with a unit (`60s`, `10GiB`) and Slipway holds as a number; a plain number
 * is taken as it is. `parse` returns undefined for text it cannot read, and the message says how to
 * write it.
 */
const quantity = (fallback: string, description: string, parse: (text: string) => number | undefined, what: string, examples: string, held: string) =>
  z
    .union([z.number().int().nonnegative(), z.string()])
    .default(fallback)
    .transform((value, ctx) => {
      if (typeof value === 'number') return value;
      const parsed = parse(value);
      if (parsed === undefined) {
        ctx.addIssue({ code: 'custom', message: `"${value}" is not a ${what}: write it like ${examples}` });
        return z.NEVER;
      }
      return parsed;
    })
    .describe(`${description} (a ${what} such as ${held})`);

const duration = (fallback: string, description: string) =>
  quantity(fallback, description, parseDuration, 'duration', '500ms, 60s, 5m, 72h or 1h30m', '60s; milliseconds internally');

const size = (fallback: string, description: string) => quantity(fallback, description, parseSize, 'size', '500MiB, 10GiB or 2GB', '10GiB; bytes internally');

const hostPort = z.string().refine((v) => parseHostPort(v) !== undefined, 'write it as host:port, e.g. 127.0.0.1:8080');

/** `a`, `a or b`, `a, b or c`. */
const orList = (items: readonly string[]): string => (items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`);

const name = z.string().regex(DNS_LABEL_RE, 'use lower-case letters, digits and dashes (a DNS label), starting with a letter');

/** `github:owner/name or gitlab:group/project`: each registered forge with how it writes a repository. */
export const REPO_FORMS: readonly string[] = forgeIds().map((id) => `${id}:${providerOf(id)!.repoExample}`);
const repoForms = orList(REPO_FORMS);

/** `<forge>:<path>` for a registered forge; the ids are the registry's, so a new forge is accepted here by itself. */
const repoSpec = z.string().regex(new RegExp(`^(${forgeIds().join('|')}):[^\\s:]+\\/[^\\s:]+$`), `write it as ${repoForms}`);

const serverSchema = z
  .strictObject({
    listen: hostPort.default('127.0.0.1:8080').describe('Address the HTTP server (webhooks, API) listens on.'),
    publicUrl: z.url().default('http://127.0.0.1:8080').describe('URL users and forges reach the server at; used in links.'),
    webhookBodyLimit: z
      .number()
      .int()
      .positive()
      .default(25 * 1024 * 1024)
      .describe('Largest webhook body accepted, in bytes (GitHub caps payloads at 25 MB).'),
    webhookConcurrency: z
      .number()
      .int()
      .positive()
      .default(32)
      .describe('Most webhook bodies received at once before their signature is checked; more get 503 with Retry-After (forges redeliver).'),
  })
  .prefault({})
  .describe('The HTTP server.');

const LOOPBACK_HOST = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/;

const registrySchema = z
  .strictObject({
    url: z
      .url()
      .default('http://127.0.0.1:5000')
      .refine((url) => /^https:\/\//i.test(url) || (/^http:\/\//i.test(url) && LOOPBACK_HOST.test(new URL(url).hostname)), {
        message: 'write it as https://host[:port] (plain http only for a loopback registry such as http://127.0.0.1:5000)',
      })
      .describe(
        'OCI registry images are pushed to: the embedded http://127.0.0.1:5000, or a remote one over https (ghcr.io, docker.io, …) with its credentials under registries.',
      ),
    namespace: z.string().default('slipway').describe('Repository prefix: images go to <url>/<namespace>/<app>.'),
  })
  .prefault({})
  .describe('The OCI registry.');

const registryHost = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/, 'write the registry host as in image names: ghcr.io, docker.io, 127.0.0.1:5001');

const registriesSchema = z
  .record(
    registryHost,
    z.strictObject({
      username: z.string().min(1).describe('User name at the registry (for GHCR, the GitHub user; for Docker Hub, the Docker ID).'),
      passwordEnv: z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'write the name of an environment variable, e.g. GHCR_TOKEN')
        .describe('Name of the environment variable holding the password or access token (never the password itself).'),
    }),
  )
  .default({})
  .describe(
    "Registry credentials by host, used for every image Slipway touches (base image pulls, pushes, the registry client, the targets' pulls). Hosts not listed fall back to Docker's config.json ($DOCKER_CONFIG/config.json, else ~/.docker/config.json: credHelpers, credsStore, auths).",
  );

const signingSchema = z
  .strictObject({
    key: z.string().default('.slipway/cosign.key').describe('Encrypted cosign private key used to sign images.'),
    passwordEnv: z.string().default('SLIPWAY_KEY_PASSWORD').describe('Name of the environment variable holding the key password (never the password itself).'),
    trustedKeys: z.array(z.string()).default(['.slipway/cosign.pub']).describe('Public keys the promote gate trusts.'),
    cosign: z
      .strictObject({
        path: z
          .string()
          .min(1)
          .optional()
          .describe(
            "Path of a cosign executable. When it exists, signing and verifying run cosign (keyless OIDC signing, KMS keys) instead of Slipway's own cosign-compatible code.",
          ),
        timeout: duration('2m', 'Longest one cosign run may take before it is stopped'),
      })
      .prefault({})
      .describe('The cosign command-line tool, for what Slipway does not do itself.'),
  })
  .prefault({})
  .describe('Image signing.');

const apiSchema = z
  .strictObject({
    tokens: z
      .array(
        z.strictObject({
          name: z.string().describe('Who holds the token (shown in audit records).'),
          sha256: z
            .string()
            .regex(/^[a-f0-9]{64}$/, 'the SHA-256 of the token as 64 lower-case hex digits')
            .describe('SHA-256 of the token; the token itself is never stored.'),
        }),
      )
      .default([])
      .describe('Static bearer tokens for the API (reads and writes).'),
    publicReads: z.boolean().default(false).describe('Let anyone read builds, logs, apps and revisions (GET routes) without a token. Writes always need one.'),
    localToken: z
      .boolean()
      .default(true)
      .describe(
        'Generate a token into <dataDir>/local-token (mode 0600) that the CLI on the same machine uses when it talks to a loopback server, so the embedded default needs no typed token.',
      ),
    oidc: z
      .strictObject({
        issuer: z.url().default('https://token.actions.githubusercontent.com').describe('OIDC issuer accepted for GitHub Actions tokens.'),
        audience: z.string().default('slipway').describe('Expected `aud` of OIDC tokens.'),
        refs: z.array(z.string().min(1)).default([]).describe('Allowed `ref` claims (e.g. refs/heads/main; `*` globs); empty allows every ref.'),
        environments: z
          .array(z.string().min(1))
          .default([])
          .describe('Allowed `environment` claims (GitHub deployment environments); empty allows tokens with or without one.'),
        clockSkew: duration('30s', 'Clock difference tolerated when checking `exp` and `nbf`'),
      })
      .optional()
      .describe('GitHub Actions OIDC authentication.'),
    uploadLimit: size('200MiB', 'Largest build context upload (POST /api/v1/apps/:app/builds) accepted; larger ones get 413'),
    uploadRetention: duration('7d', 'How long a stored upload is kept once no queued or running build needs it (checked hourly)'),
    uploadUnpackedLimit: size('2GiB', "Largest total size of an upload's files once unpacked; past it (a gzip bomb, say) the upload gets 413"),
    uploadMaxEntries: z
      .number()
      .int()
      .min(1)
      .default(100_000)
      .describe(
        'Most tar entries (files, directories, links) an upload may hold; past it (millions of empty files, say) the upload gets 413 and a worker refuses to unpack it',
      ),
  })
  .prefault({})
  .describe('API authentication.');

const localTargetSchema = z.strictObject({
  kind: z.literal('local'),
  listen: hostPort.default('127.0.0.1:8081').describe('Address the router listens on.'),
  domain: z.string().default('localhost').describe('Apps are served at <app>.<domain>.'),
  idleTimeout: duration('60s', 'Idle time before a revision scales to zero: its containers are paused (no CPU) and resume in milliseconds'),
  removeAfter: duration('10m', "Idle time after which a paused revision's containers are removed (the next request starts one again)"),
  concurrency: z
    .number()
    .int()
    .min(1)
    .default(100)
    .describe("Soft target of in-flight requests per container; above it a revision scales out (Knative's container-concurrency-target-default)."),
  maxScale: z.number().int().min(1).max(64).default(4).describe("Most containers one revision scales out to (Knative's max-scale)."),
  stableWindow: duration('60s', "How long a revision must need fewer containers before one is drained and stopped (Knative's stable-window)"),
  startTimeout: duration(
    '60s',
    'Longest a container may take to accept connections on PORT before the revision counts as failed; requests wait this long at most',
  ),
  drainTimeout: duration('30s', "Grace between SIGTERM and SIGKILL when a container stops (Kubernetes' terminationGracePeriodSeconds)"),
  keepRevisions: z
    .number()
    .int()
    .min(0)
    .default(20)
    .describe("Revisions per app kept beyond those that take traffic or carry a tag; older ones are garbage-collected (Knative's min-non-active-revisions)."),
  docker: z.string().default('/var/run/docker.sock').describe('Docker Engine API socket the revisions run on.'),
  trustProxy: z
    .boolean()
    .default(false)
    .describe(
      'The router sits behind a proxy that sets X-Forwarded-For: append the client to it. Off (the router is the edge): the header a client sent is replaced, so an app never sees a forged client address.',
    ),
});

const knativeTargetSchema = z.strictObject({
  kind: z.literal('knative'),
  kubeconfig: z.string().default('~/.kube/config').describe('Path to the kubeconfig.'),
  context: z.string().optional().describe('kubeconfig context to use.'),
  namespace: name.default('default').describe('Namespace Knative Services are created in.'),
  domain: z
    .string()
    .min(1)
    .describe(
      "Apps are <app>.<domain> and tags <tag>-<app>.<domain>: set it to what Knative's config-domain and domain-template give (with the default template, <namespace>.<your domain>).",
    ),
  readyTimeout: duration('5m', 'Longest Slipway waits for a Service to report Ready after applying it; on timeout it reports the failing condition'),
  imagePullSecret: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'write the name of a Secret in the namespace (lower-case DNS subdomain)')
    .optional()
    .describe(
      "An existing kubernetes.io/dockerconfigjson Secret the Services pull images with. Without it, when Slipway has credentials for the image's registry (registries, Docker's config.json), it creates and updates the Secret slipway-registry-<host> in the namespace and references it.",
    ),
});

const targetSchema = z.discriminatedUnion('kind', [localTargetSchema, knativeTargetSchema]);

/** Linux capability names (capabilities(7), Linux 6.x), without the CAP_ prefix. */
export const LINUX_CAPABILITIES = [
  'AUDIT_CONTROL',
  'AUDIT_READ',
  'AUDIT_WRITE',
  'BLOCK_SUSPEND',
  'BPF',
  'CHECKPOINT_RESTORE',
  'CHOWN',
  'DAC_OVERRIDE',
  'DAC_READ_SEARCH',
  'FOWNER',
  'FSETID',
  'IPC_LOCK',
  'IPC_OWNER',
  'KILL',
  'LEASE',
  'LINUX_IMMUTABLE',
  'MAC_ADMIN',
  'MAC_OVERRIDE',
  'MKNOD',
  'NET_ADMIN',
  'NET_BIND_SERVICE',
  'NET_BROADCAST',
  'NET_RAW',
  'PERFMON',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYSLOG',
  'SYS_ADMIN',
  'SYS_BOOT',
  'SYS_CHROOT',
  'SYS_MODULE',
  'SYS_NICE',
  'SYS_PACCT',
  'SYS_PTRACE',
  'SYS_RAWIO',
  'SYS_RESOURCE',
  'SYS_TIME',
  'SYS_TTY_CONFIG',
  'WAKE_ALARM',
] as const;

const capability = z
  .string()
  .transform((c) => c.toUpperCase().replace(/^CAP_/, ''))
  .pipe(z.enum(LINUX_CAPABILITIES, { message: `not a Linux capability; use one of ${LINUX_CAPABILITIES.join(', ')}` }));

/** Variable name → value, each checked as `slipway env` checks it (names, reserved names, sizes). */
const envRecord = (description: string) =>
  z
    .record(z.string(), z.string())
    .default({})
    .superRefine((env, ctx) => {
      for (const [name, value] of Object.entries(env))
        for (const message of envEntryProblems(name, value)) ctx.addIssue({ code: 'custom', path: [name], message });
    })
    .describe(description);

const appSchema = z.strictObject({
  name: name.describe('App name: a DNS label, used in URLs and revision names.'),
  repo: repoSpec.describe(`Where pushes come from: ${repoForms}.`),
  cloneUrl: z.string().min(1).optional().describe('Fetch from here instead of the URL in the event (mirrors; tests: a local bare repository path).'),
  cloneToken: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'name an environment variable of the worker (letters, digits, _)')
    .optional()
    .describe(
      "Fetch this app's source over HTTPS with the token in this worker environment variable (never the value itself) instead of the forge's credential: a GitLab project or deploy token, a GitHub fine-grained token. Sent as an HTTP header through git's environment, never in a URL.",
    ),
  deployKey: z
    .string()
    .min(1)
    .optional()
    .describe(
      "Fetch this app's source over SSH with this private key file (mode 0600, relative paths from the working directory) and nothing else: no agent, no other key. Needs knownHosts and an ssh:// source (cloneUrl, or the forge's gitUrl).",
    ),
  knownHosts: z
    .string()
    .min(1)
    .optional()
    .describe(
      "known_hosts file holding the SSH host key(s) of the deployKey's server. Host keys are checked strictly against it and nothing is ever added to it (no trust on first use).",
    ),
  dockerfile: z.string().default('Dockerfile').describe('Dockerfile path within the context.'),
  context: z.string().default('.').describe('Build context directory within the repository.'),
  branches: z.record(z.string(), name).default({}).describe('Branch → target: pushes to these branches build and promote.'),
  tags: z.record(z.string(), name).default({}).describe('Tag glob → target (e.g. "v*": prod): tag pushes build and promote.'),
  buildSecrets: z
    .record(
      z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'a secret id is letters, digits, _ . - (as in RUN --mount=type=secret,id=ID)'),
      z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'name an environment variable of the worker (letters, digits, _)'),
    )
    .default({})
    .describe(
      'Build secrets for RUN --mount=type=secret,id=ID: id → the worker environment variable holding the value (never the value itself). Builds of fork pull requests get none.',
    ),
  previews: z
    .strictObject({
      target: name.describe('Target previews are served on.'),
      ttl: duration('72h', 'How long an idle preview lives'),
      env: envRecord(
        "Environment variables previews get on top of the app's (plain values; e.g. a staging DATABASE_URL). A fork's preview gets these and the app's plain variables, never its secrets.",
      ),
    })
    .optional()
    .describe('Pull/merge request previews.'),
  network: z
    .enum(['isolated', 'host'])
    .default('isolated')
    .describe(
      "Network of the app's containers on a local target: isolated (no network but loopback; the router reaches the app through the enforcer's socket) or host (the host's network, reaching every local service; logged as a warning at every start).",
    ),
  capabilities: z
    .array(capability)
    .default([])
    .describe('Linux capabilities the app needs (e.g. NET_BIND_SERVICE); all others are dropped, and no-new-privileges is always set.'),
  readOnlyRootFilesystem: z.boolean().default(false).describe("Run the app's containers with a read-only root filesystem and a fresh tmpfs at /tmp."),
  port: z
    .number()
    .int()
    .min(1)
    .max(65535)
    .optional()
    .describe(
      'Port the app listens on, given to it as PORT (Knative containerPort). Default: the target chooses (local: 8080 for isolated apps, a free loopback port with host networking).',
    ),
  resources: z
    .strictObject({
      cpu: z.number().positive().max(1024).optional().describe('CPU limit in cores, e.g. 0.5 (Docker NanoCpus; Knative resources.limits.cpu).'),
      memory: z
        .union([z.number().int().positive(), z.string()])
        .optional()
        .transform((value, ctx) => {
          if (value === undefined || typeof value === 'number') return value;
          const parsed = parseSize(value);
          if (parsed === undefined || parsed <= 0) {
            ctx.addIssue({ code: 'custom', message: `"${value}" is not a size: write it like 256MiB or 1GiB` });
            return z.NEVER;
          }
          return parsed;
        })
        .describe('Memory limit (a size such as 256MiB; Docker Memory; Knative resources.limits.memory).'),
    })
    .prefault({})
    .describe("Limits of each of the app's containers; a revision keeps the limits it was made with."),
  env: envRecord(
    'Environment variables of every revision of the app (plain values, shown by slipway env). Values set with slipway env override these; PORT, K_* and SLIPWAY_* are reserved.',
  ),
  secrets: z
    .record(z.string(), z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'name an environment variable of the server (letters, digits, _)'))
    .default({})
    .superRefine((secrets, ctx) => {
      for (const name of Object.keys(secrets)) for (const message of envEntryProblems(name, undefined)) ctx.addIssue({ code: 'custom', path: [name], message });
    })
    .describe(
      "Secret environment variables of the app: name → the environment variable of Slipway's workers holding the value (never the value itself). Sealed into each revision (AES-256-GCM), never shown; secrets set with slipway env --secret override these.",
    ),
});

const buildsSchema = z
  .strictObject({
    concurrency: z.number().int().min(1).max(64).default(2).describe('Builds one worker runs at once.'),
    attempts: z.number().int().min(1).max(20).default(3).describe('Tries per build for retryable failures (backoff between).'),
    backoff: duration('5s', 'First retry delay; doubles each try'),
    workspace: z.string().default('.slipway/workspaces').describe('Directory for per-build source checkouts (removed after each build).'),
    lockDuration: duration('30s', 'How long a worker holds a build before another may take it over if the worker died'),
    stalledInterval: duration('15s', 'How often workers look for builds whose worker died'),
    fetchTimeout: duration('10m', 'Longest a git fetch may take'),
    timeout: duration('60m', 'Longest a whole build may run before it fails with SLW_BUILD_TIMEOUT and its work (git, unpack, the BuildKit solve) is aborted'),
    stageTimeout: duration('30m', 'Longest one pipeline stage may run before the build fails with SLW_BUILD_TIMEOUT naming the stage'),
  })
  .prefault({})
  .describe('Build execution.');

const feedbackSchema = z
  .strictObject({
    concurrency: z.number().int().min(1).max(64).default(4).describe('Forge API calls (statuses, comments, deployments) one worker makes at once.'),
    attempts: z.number().int().min(1).max(50).default(8).describe('Tries per forge report before it is dropped (a forge outage never fails a build).'),
    backoff: duration('2s', 'First retry delay of a forge report; doubles each try unless the forge sends Retry-After'),
    timeout: duration('30s', 'Longest one forge API request may take'),
  })
  .prefault({})
  .describe('Reporting builds back to GitHub and GitLab.');

const enforcerSchema = z
  .strictObject({
    mode: z
      .enum(['enforce', 'audit'])
      .default('enforce')
      .describe('Runtime policy of the injected micro-enforcer: enforce refuses executables that were not in the image; audit only logs them.'),
    allow: z
      .array(z.string().regex(/^\//, 'an absolute path inside the image'))
      .default([])
      .describe('Extra executable paths the enforcer allows although the image did not have them.'),
    onUnsupported: z
      .enum(['fallback', 'fail'])
      .default('fallback')
      .describe(
        'What the enforcer does where the kernel lacks what its Landlock exec gate needs (Linux 6.3 with Landlock): fallback to the slower seccomp user-notification gate, or fail (exit 126, the app does not start).',
      ),
    report: z
      .enum(['no-cost', 'all'])
      .default('no-cost')
      .describe(
        'Which denied executions the Landlock exec gate reports as runtime events: no-cost reports the container command, fd-based execs (memfd) and executable memfds, at no cost to other execs; all reports every denied exec, at a seccomp notification round trip per exec (see enforcer/README.md, Performance).',
      ),
    binary: z
      .string()
      .optional()
      .describe('The static enforcer binary to inject. Default: enforcer/build/enforcer of this Slipway checkout (scripts/setup.sh builds it).'),
  })
  .prefault({})
  .describe('The micro-enforcer injected into every image.');

const logSchema = z
  .strictObject({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info').describe('Log level.'),
  })
  .prefault({})
  .describe('Logging.');

export const configSchema = z
  .strictObject({
    server: serverSchema,
    redis: z
      .string()
      .regex(/^rediss?:\/\//, 'write it as redis://host:port')
      .default('redis://127.0.0.1:6379')
      .describe('Redis URL for the build queue: redis://[user:password@]host:port[/db] (AUTH, ACL user), rediss://… for TLS. The password is never logged.'),
    redisTls: z
      .strictObject({
        ca: z.string().optional().describe('PEM file of the CA that signed the Redis server certificate (rediss:// URLs); default: the system CAs.'),
      })
      .prefault({})
      .describe('TLS to Redis (rediss:// URLs).'),
    redisPrefix: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+$/, 'use letters, digits, dot, dash and underscore')
      .default('slipway')
      .describe("Prefix of Slipway's queue keys and channels in Redis, so several installations can share one Redis."),
    database: z
      .string()
      .regex(/^(sqlite:|postgres:\/\/|postgresql:\/\/)/, 'write it as sqlite:PATH or postgres://user@host/db')
      .default('sqlite:.slipway/slipway.db')
      .describe('Database: sqlite:PATH (embedded default) or postgres://… (production).'),
    buildkit: z
      .string()
      .regex(/^(docker|unix|tcp):\/\//, 'write it as docker:///var/run/docker.sock, unix:///run/buildkit/buildkitd.sock or tcp://host:port')
      .default('docker:///var/run/docker.sock')
      .describe(
        "BuildKit address: docker://SOCKET (Docker Engine's BuildKit), unix://SOCKET or tcp://HOST:PORT (buildkitd; mTLS with ?ca=FILE&cert=FILE&key=FILE).",
      ),
    buildCache: z
      .strictObject({
        budget: size('10GiB', 'Largest BuildKit build cache Slipway leaves after a build; older cache beyond it is pruned'),
      })
      .prefault({})
      .describe('BuildKit build cache.'),
    registry: registrySchema,
    registries: registriesSchema,
    signing: signingSchema,
    policies: z.string().default('policies/').describe('Directory of policy files.'),
    dataDir: z
      .string()
      .default('.slipway')
      .describe(
        "Directory for uploaded build contexts (uploads/), git push repositories (git/), the enforcer's layer scan cache (cache/enforcer/) and the proxy sockets of isolated containers on local targets (run/<target>/, kept private: 0700). Server and workers must share it: several machines need shared storage here.",
      ),
    api: apiSchema,
    // One section per registered forge (`github`, `gitlab`), declared in its folder (src/forges/<forge>/config.ts).
    ...forgeSections(),
    targets: z
      .record(name, targetSchema)
      .prefault({ local: { kind: 'local' } })
      .describe('Serving targets by name.'),
    apps: z.array(appSchema).default([]).describe('Apps Slipway builds.'),
    builds: buildsSchema,
    enforcer: enforcerSchema,
    feedback: feedbackSchema,
    log: logSchema,
    secrets: z
      .strictObject({
        keyEnv: z
          .string()
          .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'name an environment variable (letters, digits, _)')
          .default('SLIPWAY_SECRETS_KEY')
          .describe(
            "Environment variable holding the 32-byte key (base64 or 64 hex digits) that encrypts app secrets at rest (AES-256-GCM); every Slipway process needs the same one. Unset: a key is generated into <dataDir>/secrets.key (mode 0600), which the embedded default's processes share; keep it with the database, without it stored secrets cannot be read.",
          ),
      })
      .prefault({})
      .describe('App secrets (slipway env --secret, apps[].secrets).'),
  })
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    if (config.redisTls.ca && !/^rediss:\/\//i.test(config.redis)) {
      ctx.addIssue({
        code: 'custom',
        path: ['redisTls', 'ca'],
        message: 'a Redis CA is set but redis is not a rediss:// URL; write rediss://host:port to use TLS',
      });
    }
    config.apps.forEach((app, index) => {
      if (seen.has(app.name)) ctx.addIssue({ code: 'custom', path: ['apps', index, 'name'], message: `app "${app.name}" is defined twice` });
      seen.add(app.name);
      const check = (target: string, path: (string | number)[]) => {
        if (!(target in config.targets)) {
          ctx.addIssue({
            code: 'custom',
            path,
            message: `target "${target}" is not defined under targets (defined: ${Object.keys(config.targets).join(', ') || 'none'})`,
          });
        }
      };
      for (const [branch, target] of Object.entries(app.branches)) check(target, ['apps', index, 'branches', branch]);
      for (const [tag, target] of Object.entries(app.tags)) check(target, ['apps', index, 'tags', tag]);
      if (app.previews) check(app.previews.target, ['apps', index, 'previews', 'target']);
      for (const issue of sourceCredentialIssues(app, config)) ctx.addIssue({ code: 'custom', path: ['apps', index, issue.key], message: issue.message });
    });
  });

/**
 * One credential per app source, and one that fits its transport: a deploy key only over ssh://, with
 * the host keys it is checked against; a token only over http(s).
 */
function sourceCredentialIssues(
  app: { repo: string; cloneUrl?: string | undefined; cloneToken?: string | undefined; deployKey?: string | undefined; knownHosts?: string | undefined },
  config: Readonly<Record<ForgeId, { gitUrl: string }>>,
): { key: string; message: string }[] {
  const issues: { key: string; message: string }[] = [];
  const forge = parseRepoSpec(app.repo).forge;
  const source = app.cloneUrl ?? (isForgeId(forge) ? config[forge].gitUrl : '');
  const ssh = /^ssh:\/\//.test(source);
  if (app.deployKey !== undefined) {
    if (app.knownHosts === undefined)
      issues.push({ key: 'knownHosts', message: "a deployKey needs knownHosts: the file with the SSH server's host key (no host is trusted on first use)" });
    if (app.cloneToken !== undefined) issues.push({ key: 'cloneToken', message: 'give a deployKey or a cloneToken, not both' });
    if (!ssh)
      issues.push({
        key: 'deployKey',
        message: `a deployKey is used over SSH only, but this app is fetched from ${source.replace(/\/\/[^/@]*@/, '//')}; set cloneUrl to its ssh:// URL`,
      });
  } else if (app.knownHosts !== undefined) {
    issues.push({ key: 'knownHosts', message: 'knownHosts is only used with a deployKey; add the deployKey or remove knownHosts' });
  }
  if (app.cloneToken !== undefined && ssh)
    issues.push({ key: 'cloneToken', message: 'a cloneToken is sent over HTTPS only, but this app is fetched over ssh://; use a deployKey' });
  return issues;
}

export type SlipwayConfig = z.output<typeof configSchema>;
export type AppConfig = SlipwayConfig['apps'][number];
export type TargetConfig = SlipwayConfig['targets'][string];
export type LocalTargetConfig = z.output<typeof localTargetSchema>;
export type KnativeTargetConfig = z.output<typeof knativeTargetSchema>;

/**
 * Paths whose values are secrets: redacted when the effective config is logged or shown.
 * URL-valued keys (database, redis) are redacted by masking their password instead.
 */
export const SECRET_PATHS: readonly string[] = forgeIds().flatMap((id) => providerOf(id)!.secretKeys.map((key) => `${id}.${key}`));
export const URL_PATHS_WITH_CREDENTIALS = ['database', 'redis'] as const;
