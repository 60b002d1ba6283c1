import { configReference } from './reference.js';
import { REPO_FORMS, SECRET_PATHS } from './schema.js';

const code = (items: readonly string[]): string => items.map((i) => `\`${i}\``).join(', ');

/**
 * docs/configuration.md, whole: the schema's keys as a table between the prose that explains how they are
 * read. `node scripts/config-reference.mjs` writes it; test/docs/references.test.ts fails when the
 * committed file differs, so the prose lives here and the file is never edited by hand.
 */
export function configurationDoc(): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const rows = configReference().map((r) => `| \`${r.key}\` | \`${r.env}\` | \`${esc(r.default)}\` | ${esc(r.description)} |`);
  return [
    '# Configuration reference',
    '',
    '<!-- Generated from src/config/schema.ts by `npm run build && node scripts/config-reference.mjs`; do not edit. -->',
    '',
    INTRO,
    '',
    '| key | environment variable | default | meaning |',
    '|---|---|---|---|',
    ...rows,
    '',
    FOOTER,
    '',
  ].join('\n');
}

const INTRO = `\`slipway.yaml\` (path from \`--config\` or \`SLIPWAY_CONFIG\`). Every key can also be set in the environment as
\`SLIPWAY_\` + the key path in UPPER_SNAKE case; lists and maps take JSON there. Unknown keys are errors; all
problems are reported at once with their key path; the effective configuration is logged at start with secrets
redacted. Durations are written like \`500ms\`, \`60s\`, \`5m\`, \`72h\`. Relative paths resolve against the working
directory. Secrets (${code(SECRET_PATHS)}) never appear in logs, errors or API output. A key's meaning and default come from its
description and default in \`src/config/schema.ts\`: change them there.`;

const FOOTER = `\`targets.<name>\` is \`{ kind: local, listen, domain, idleTimeout, removeAfter, concurrency, maxScale, stableWindow,
startTimeout, drainTimeout, keepRevisions, docker }\` (see [serving.md](serving.md) for what each does) or \`{ kind: knative,
kubeconfig, context, namespace, domain, readyTimeout: 5m }\` (see [serving.md](serving.md), "The \`knative\` target"). \`apps[]\` entries
take \`name\` (a DNS label), \`repo\` (${REPO_FORMS.map((f) => `\`${f}\``).join(' or ')}), \`cloneUrl\`, \`dockerfile\`
(\`Dockerfile\`), \`context\` (\`.\`), \`branches\` (branch → target), \`tags\` (tag glob → target), \`previews\`
(\`{ target, ttl: 72h }\`) and \`buildSecrets\` (secret id → the worker's environment variable holding it; a build fails
naming the variable when it is not set), the credential a private source is fetched with when the forge's own
(\`github.app\`, \`github.token\`, \`gitlab.token\`) is not the one: \`cloneToken\` (the worker's environment variable
holding an HTTPS token) or \`deployKey\` with \`knownHosts\` (an SSH private key file, mode 0600, and the known_hosts
file its server's key is checked against; ssh:// sources only; see [forges.md](forges.md), "Private repositories"),
and, for local targets, \`network\` (\`isolated\`: loopback only, reached
through the enforcer's socket; \`host\`: the host's network, a warned opt-in), \`capabilities\` (Linux capabilities
added back after all are dropped, e.g. \`[NET_BIND_SERVICE]\`) and \`readOnlyRootFilesystem\` (\`false\`; \`true\` adds a
tmpfs \`/tmp\`); every target they name must be defined. SQLite runs in WAL mode; for several server or worker
machines use PostgreSQL (\`database: postgres://…\`).`;
