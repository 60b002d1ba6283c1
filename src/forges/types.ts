import type { ForgeEvent } from './events.js';
import type { ForgeId } from './registry.js';
import type { z } from 'zod';
import type { Logger } from '../log/index.js';
import type { ForgeSection } from './section.js';
import type { ForgeTerms } from './terms-type.js';

/** Header names are lower-cased (Node's IncomingMessage convention). */
export type WebhookHeaders = Record<string, string | string[] | undefined>;

/** What the webhook route hands a forge: the raw bytes, exactly as received (signatures cover them). */
export interface WebhookRequest {
  headers: WebhookHeaders;
  rawBody: Buffer;
}

/**
 * `detect()` result: `foreign` when the request is not this forge's at all,
 * `ignored` with a reason that is data (exact wording, shown to the user in the 202 body), or the
 * normalized event.
 */
export type DetectResult = { kind: 'foreign' } | { kind: 'ignored'; reason: string; deliveryId: string } | { kind: 'accepted'; event: ForgeEvent };

/** Only what Slipway calls: webhooks in, feedback out. */
export interface Forge {
  readonly id: ForgeId;
  /** The forge's words (event header, `pull request #` / `merge request !`, preview tag prefix). */
  readonly terms: ForgeTerms;
  /**
   * Checks the signature (GitHub HMAC) or token (GitLab) in constant time over the raw bytes.
   * Throws SlipwayError `SLW_WEBHOOK_SIGNATURE` (no detail of what was expected) or
   * `SLW_WEBHOOK_NOT_CONFIGURED` when no secret is configured (fail closed).
   */
  verify(req: WebhookRequest): void;
  /**
   * The part of `verify` that needs no body (a missing secret, a missing or malformed signature header; for
   * a header token, all of it), run before the body is read so unauthenticated senders cannot make the
   * server buffer large bodies. Same errors as `verify`.
   */
  verifyHeaders(headers: WebhookHeaders): void;
  /**
   * Parses a verified request into one ForgeEvent. Throws `SLW_WEBHOOK_MALFORMED` when the body is
   * not what the event header promises (with what is wrong), `SLW_WEBHOOK_MEDIA_TYPE` for a content
   * type the forge never sends.
   */
  detect(req: WebhookRequest): DetectResult;
  /** The forge's REST API for feedback; undefined when no credentials are configured (nothing is reported). */
  readonly feedback: ForgeFeedback | undefined;
  /** Credentials to fetch repositories with; undefined when none are configured (public sources only). */
  readonly source?: ForgeSource | undefined;
}

/** A credential git fetches a repository with over HTTPS. Only `credential` may ever be shown. */
export interface SourceToken {
  /** The HTTP Basic user name the forge expects with the token (`x-access-token`, `oauth2`). */
  username: string;
  token: string;
  /** Which credential it is (`GitHub App 12 installation 345`, `github.token`), never its value. */
  credential: string;
  /** What the credential must be granted to fetch the repository, said when the forge refuses it. */
  grant: string;
}

export interface ForgeSource {
  /**
   * A token that can read `repo` (`owner/name`, `group/project`). Throws `SLW_SOURCE_ACCESS` when the
   * forge says no (the App is not installed there, or lacks contents: read); other failures keep their
   * `SLW_FORGE_*` code and are retried.
   */
  token(repo: string): Promise<SourceToken>;
}

/**
 * Build outcome in forge-neutral words; each forge maps it onto its own vocabulary (GitHub check run
 * status/conclusion or commit status state, GitLab commit status state).
 */
export type FeedbackState = 'queued' | 'running' | 'success' | 'failure' | 'rejected' | 'canceled';

/** One failed (or warning) policy rule, shown where the forge can show it (GitHub check annotations). */
export interface FeedbackAnnotation {
  /** Repository path the rule judged (the app's Dockerfile); GitHub requires a path. */
  path: string;
  level: 'failure' | 'warning';
  title: string;
  message: string;
}

/** The status of one build on its commit: a GitHub check run (or commit status), a GitLab commit status. */
export interface StatusReport {
  /** `owner/name` (GitHub), `group/project` (GitLab). */
  repo: string;
  sha: string;
  /** Branch or tag name the build came from (GitLab's status API takes it). */
  ref: string;
  /** Check run name / status context: `slipway/<target>`. */
  name: string;
  state: FeedbackState;
  /** The build page (`server.publicUrl` + `/builds/<id>`). */
  detailsUrl: string;
  /** Slipway's build id (GitHub `external_id`). */
  externalId: string;
  /** One line; forges cap it (GitHub statuses 140 characters, GitLab 255), so it is cut to fit. */
  description: string;
  /** Check run title. */
  title: string;
  /** Markdown: steps, digest, signature, policy decisions (GitHub check run summary). */
  summary: string;
  annotations: FeedbackAnnotation[];
  startedAt: string | undefined;
  completedAt: string | undefined;
}

/** A pull request (GitHub) or merge request (GitLab). */
export interface ChangeRequestRef {
  repo: string;
  /** PR number or MR iid. */
  number: number;
}

export interface CommentUpsert extends ChangeRequestRef {
  /** Hidden text the comment carries, so it is found again when its id is unknown or stale. */
  marker: string;
  /** Full Markdown body, marker included. */
  body: string;
}

/** A deployment of a build to an environment (a promotion; previews use `preview/pr-<n>`). */
export interface DeploymentReport {
  repo: string;
  sha: string;
  ref: string;
  environment: string;
  /** Previews: GitHub `transient_environment`, and they end when the PR closes. */
  transient: boolean;
  state: 'in_progress' | 'success' | 'failure';
  /** Where the revision serves; absent until serving has recorded a revision for the build. */
  environmentUrl: string | undefined;
  /** The build page. */
  logUrl: string;
  description: string;
}

/**
 * Forge API calls Slipway makes to report back. Each returns or takes an opaque `handle`
 * (check run id, comment id, deployment id) that the caller stores, so a later call updates in place.
 * Errors are SlipwayErrors `SLW_FORGE_*`; `details.retryAfterMs` tells when a retry may succeed.
 */
export interface ForgeFeedback {
  /** Creates or updates the build's status on its commit; returns the handle to pass next time. */
  publishStatus(report: StatusReport, handle: string | undefined): Promise<string | undefined>;
  /** Creates Slipway's one comment on the PR/MR or updates it in place; returns its id. */
  upsertComment(comment: CommentUpsert, handle: string | undefined): Promise<string>;
  /** Creates the deployment (no handle yet) and sets its status; returns its handle. */
  publishDeployment(report: DeploymentReport, handle: string | undefined): Promise<string>;
  /** A preview is gone: GitHub marks the deployments `inactive`, GitLab stops the environment. */
  retireEnvironment(repo: string, environment: string, handles: readonly string[]): Promise<void>;
  /** Whether the user may approve fork previews and run comment commands (write access / Developer). */
  hasWriteAccess(repo: string, user: { login: string; id: number }): Promise<boolean>;
  /** Whether pull request / merge request `number` is open (false once closed, merged or gone). */
  changeRequestOpen(repo: string, number: number): Promise<boolean>;
}

/** REST API access for feedback (config `github.*` / `gitlab.*`). */
export interface ForgeApiOptions {
  /** API base URL (`https://api.github.com`, `https://gitlab.com/api/v4`). */
  url: string;
  token?: string | undefined;
  /** GitHub App credentials (GitHub only): installation tokens instead of a token. */
  app?: { id: string | number; privateKey: string } | undefined;
  /** GitHub: report check runs (false: commit statuses only). Default true. */
  checks?: boolean | undefined;
  /** Longest one API request may take, in ms. Default 30000. */
  timeoutMs?: number | undefined;
}

export interface ForgeOptions {
  /** GitHub: the webhook secret used for `X-Hub-Signature-256`. GitLab: the expected `X-Gitlab-Token`. */
  secret: string | undefined;
  /** Without it (or without a token / app in it) the forge reports nothing. */
  api?: ForgeApiOptions | undefined;
  logger?: Logger | undefined;
  /** Base URL repositories are cloned from (`<forge>.gitUrl`); the forge's public host when absent. */
  gitUrl?: string | undefined;
}

export type ForgeFactory = (options: ForgeOptions) => Forge;

/** What every forge gets from the process besides its own section. */
export interface ForgeCommonOptions {
  /** `feedback.timeout`: longest one API request may take, in ms. */
  timeoutMs: number;
  logger: Logger;
}

/**
 * What a forge's folder gives the registry: its words, its configuration section, and how to make an
 * instance from that section. Nothing outside `src/forges/` names a forge: the config schema, the
 * composition root and the webhook routes all iterate the registry.
 */
export interface ForgeProvider<Section extends ForgeSection = ForgeSection> {
  readonly terms: ForgeTerms;
  /** The `<id>` section of the configuration: a zod schema with a description and a default for every key. */
  readonly config: z.ZodType<Section>;
  /** How a repository is written after `<id>:` in `apps[].repo` (`owner/name`, `group/project`). */
  readonly repoExample: string;
  /** Keys of its section that hold secrets (`token`, `app.privateKey`): redacted wherever config is shown. */
  readonly secretKeys: readonly string[];
  /** Its section (and what every forge gets) as the options `create` takes. */
  options(section: Section, common: ForgeCommonOptions): ForgeOptions;
  readonly create: ForgeFactory;
}
