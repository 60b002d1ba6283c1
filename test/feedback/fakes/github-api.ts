import { createPublicKey, createVerify, type KeyObject } from 'node:crypto';
import { need, now, RequestViolation, SHA_RE, startStrictServer, type FakeRequest, type Route, type StrictServer } from './strict-server.js';

/**
 * A strict fake of the parts of GitHub's REST API Slipway calls (docs.github.com, REST reference:
 * check runs, commit statuses, issue comments, deployments and their statuses, collaborator
 * permissions, GitHub App installations and access tokens). Paths, methods, the `Authorization`
 * header (`token …` for tokens and installation tokens, `bearer <RS256 JWT>` for App endpoints), the
 * `Accept` header and every required body field are checked; responses carry the fields GitHub's
 * documented examples show.
 */

export interface FakeCheckRun {
  id: number;
  head_sha: string;
  name: string;
  status: string;
  conclusion: string | null;
  details_url: string;
  external_id: string;
  output: { title: string | null; summary: string | null };
  annotations: Record<string, unknown>[];
  updates: number;
}

export interface FakeGithubOptions {
  /** A plain token (PAT / OAuth): its requests carry `token <t>`. */
  token?: string;
  /** Personal tokens may not write checks: POST check-runs answers 403 as GitHub does. */
  checksForbidden?: boolean;
  /** GitHub App: its id and public key verify the JWT; installation tokens are minted here. */
  app?: {
    id: number;
    publicKeyPem: string;
    installationId: number;
    tokenLifetimeMs?: number;
    /** Repositories (`owner/name`) the App is installed on; others answer 404 as GitHub does. Default: all. */
    repositories?: string[];
    /** What the installation was granted; a token asking for more is refused (422). Default: FEEDBACK_GRANTS + contents: read. */
    grants?: Record<string, 'read' | 'write'>;
  };
  /** login → permission (admin, write, read, none); others are 404. */
  permissions?: Record<string, 'admin' | 'maintain' | 'write' | 'triage' | 'read' | 'none'>;
  /** Pull request number → state (merged ones are `closed`, with `merged: true`); others are 404. */
  pullRequests?: Record<number, 'open' | 'closed' | 'merged'>;
}

export interface FakeGithub extends StrictServer {
  checkRuns: FakeCheckRun[];
  statuses: { sha: string; state: string; context: string; description: string | undefined; target_url: string | undefined }[];
  comments: Map<number, { id: number; body: string; user: string }[]>;
  deployments: {
    id: number;
    ref: string;
    environment: string;
    transient_environment: boolean;
    statuses: { state: string; environment_url?: string; log_url?: string }[];
  }[];
  tokensMinted: number;
  /** What an installation token minted here may do, or undefined when it was not minted here (or has expired). */
  tokenScope(token: string): { repositories: string[] | 'all'; permissions: Record<string, string> } | undefined;
}

const FEEDBACK_GRANTS = { checks: 'write', statuses: 'write', pull_requests: 'write', deployments: 'write', metadata: 'read' } as const;
const LEVEL = { read: 1, write: 2 } as const;

const CHECK_STATUS = ['queued', 'in_progress', 'completed'] as const;
const CONCLUSIONS = ['action_required', 'cancelled', 'failure', 'neutral', 'success', 'skipped', 'stale', 'timed_out'] as const;
const DEPLOYMENT_STATES = ['error', 'failure', 'inactive', 'in_progress', 'queued', 'pending', 'success'] as const;

export async function startFakeGithub(options: FakeGithubOptions): Promise<FakeGithub> {
  let nextId = 1000;
  const id = () => ++nextId;
  const installationTokens = new Map<string, { expires: number; repositories: string[] | 'all'; permissions: Record<string, string> }>();
  const grants: Record<string, string> = options.app?.grants ?? { ...FEEDBACK_GRANTS, contents: 'read' };
  const installedOn = (owner: string, name: string) =>
    options.app?.repositories === undefined || options.app.repositories.some((r) => r.toLowerCase() === `${owner}/${name}`.toLowerCase());
  const publicKey: KeyObject | undefined = options.app ? createPublicKey(options.app.publicKeyPem) : undefined;
  // Filled in once the server listens; routes only run after that.
  const live = { port: 0, tokensMinted: 0 };
  const checkRuns: FakeCheckRun[] = [];
  const statuses: FakeGithub['statuses'] = [];
  const comments: FakeGithub['comments'] = new Map();
  const deployments: FakeGithub['deployments'] = [];
  const repoUrl = (o: string, r: string) => `https://api.github.com/repos/${o}/${r}`;
  const user = (login: string) => ({ login, id: 1, type: 'User', site_admin: false });

  const appEndpoint = (req: FakeRequest) => /^\/app\//.test(req.path) || /^\/repos\/[^/]+\/[^/]+\/installation$/.test(req.path);

  function authenticate(req: FakeRequest): void {
    const auth = String(req.headers.authorization ?? '');
    if (!String(req.headers.accept ?? '').includes('application/vnd.github'))
      throw new RequestViolation(415, `Accept must name a GitHub media type (got ${String(req.headers.accept)})`);
    if (!req.headers['user-agent'])
      throw new RequestViolation(403, 'Request forbidden by administrative rules. Please make sure your request has a User-Agent header');
    if (appEndpoint(req)) {
      if (!options.app || !publicKey) throw new RequestViolation(401, 'A JSON web token could not be decoded');
      verifyJwt(auth, options.app.id, publicKey);
      return;
    }
    const token = /^token (\S+)$/.exec(auth)?.[1];
    if (token === undefined) throw new RequestViolation(401, `Requires authentication (Authorization was ${auth ? 'not "token …"' : 'missing'})`);
    if (options.token !== undefined && token === options.token) return;
    const expires = installationTokens.get(token)?.expires;
    if (expires !== undefined && expires > Date.now()) return;
    throw new RequestViolation(401, 'Bad credentials');
  }

  const routes: Route[] = [
    {
      method: 'POST',
      path: /^\/repos\/([^/]+)\/([^/]+)\/check-runs$/,
      handle(req) {
        if (options.checksForbidden) {
          // What GitHub answers a personal access token ("Create a check run": only GitHub Apps may).
          return {
            status: 403,
            body: {
              message: 'You must authenticate via a GitHub App.',
              documentation_url: 'https://docs.github.com/rest/checks/runs#create-a-check-run',
              status: '403',
            },
          };
        }
        const b = req.body;
        const head = need.string(b, 'head_sha');
        if (!SHA_RE.test(head)) throw new RequestViolation(422, `head_sha ${head} is not a commit sha`);
        const run: FakeCheckRun = {
          id: id(),
          head_sha: head,
          name: need.string(b, 'name'),
          status: 'queued',
          conclusion: null,
          details_url: '',
          external_id: '',
          output: { title: null, summary: null },
          annotations: [],
          updates: 0,
        };
        applyCheck(run, b);
        checkRuns.push(run);
        return { status: 201, body: checkRunJson(req.params[0]!, req.params[1]!, run) };
      },
    },
    {
      method: 'PATCH',
      path: /^\/repos\/([^/]+)\/([^/]+)\/check-runs\/(\d+)$/,
      handle(req) {
        const run = checkRuns.find((r) => r.id === Number(req.params[2]));
        if (!run) throw new RequestViolation(404, 'Not Found');
        if (req.body?.['head_sha'] !== undefined) throw new RequestViolation(422, 'head_sha cannot be updated');
        applyCheck(run, req.body);
        run.updates++;
        return { status: 200, body: checkRunJson(req.params[0]!, req.params[1]!, run) };
      },
    },
    {
      method: 'POST',
      path: /^\/repos\/([^/]+)\/([^/]+)\/statuses\/([0-9a-f]{40})$/,
      handle(req) {
        const b = req.body;
        const status = {
          sha: req.params[2]!,
          state: need.oneOf(b, 'state', ['error', 'failure', 'pending', 'success'] as const),
          context: need.string(b, 'context'),
          description: need.optionalString(b, 'description', 140),
          target_url: need.optionalString(b, 'target_url'),
        };
        need.only(b, ['state', 'target_url', 'description', 'context']);
        statuses.push(status);
        return {
          status: 201,
          body: {
            url: `${repoUrl(req.params[0]!, req.params[1]!)}/statuses/${status.sha}`,
            id: id(),
            node_id: 'SC_fake',
            ...status,
            created_at: now(),
            updated_at: now(),
            creator: user('slipway[bot]'),
          },
        };
      },
    },
    {
      method: 'GET',
      path: /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/,
      handle(req) {
        const list = comments.get(Number(req.params[2])) ?? [];
        const perPage = Number(req.query.get('per_page') ?? 30);
        const page = Number(req.query.get('page') ?? 1);
        const slice = list.slice((page - 1) * perPage, page * perPage);
        const more = page * perPage < list.length;
        const link = more ? `<http://127.0.0.1:${live.port}${req.path}?per_page=${perPage}&page=${page + 1}>; rel="next"` : undefined;
        return {
          status: 200,
          body: slice.map((c) => commentJson(req.params[0]!, req.params[1]!, Number(req.params[2]), c)),
          headers: link ? { link } : ({} as Record<string, string>),
        };
      },
    },
    {
      method: 'POST',
      path: /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/,
      handle(req) {
        const n = Number(req.params[2]);
        need.only(req.body, ['body']);
        const c = { id: id(), body: need.string(req.body, 'body'), user: 'slipway[bot]' };
        comments.set(n, [...(comments.get(n) ?? []), c]);
        return { status: 201, body: commentJson(req.params[0]!, req.params[1]!, n, c) };
      },
    },
    {
      method: 'PATCH',
      path: /^\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/,
      handle(req) {
        need.only(req.body, ['body']);
        for (const [n, list] of comments) {
          const c = list.find((x) => x.id === Number(req.params[2]));
          if (c) {
            c.body = need.string(req.body, 'body');
            return { status: 200, body: commentJson(req.params[0]!, req.params[1]!, n, c) };
          }
        }
        throw new RequestViolation(404, 'Not Found');
      },
    },
    {
      method: 'POST',
      path: /^\/repos\/([^/]+)\/([^/]+)\/deployments$/,
      handle(req) {
        const b = req.body;
        const d = {
          id: id(),
          ref: need.string(b, 'ref'),
          environment: need.string(b, 'environment'),
          transient_environment: b?.['transient_environment'] === true,
          statuses: [] as FakeGithub['deployments'][number]['statuses'],
        };
        if (!Array.isArray(b?.['required_contexts']))
          throw new RequestViolation(422, 'required_contexts must be an array (else GitHub waits for every status context)');
        if (b?.['auto_merge'] !== false)
          throw new RequestViolation(409, 'Conflict merging main into the ref: auto_merge must be false for a commit deployment');
        need.optionalString(b, 'description', 140);
        deployments.push(d);
        return {
          status: 201,
          body: {
            url: `${repoUrl(req.params[0]!, req.params[1]!)}/deployments/${d.id}`,
            id: d.id,
            node_id: 'DE_fake',
            sha: d.ref,
            ref: d.ref,
            task: 'deploy',
            payload: {},
            environment: d.environment,
            description: b?.['description'] ?? null,
            creator: user('slipway[bot]'),
            created_at: now(),
            updated_at: now(),
            transient_environment: d.transient_environment,
            production_environment: false,
          },
        };
      },
    },
    {
      method: 'POST',
      path: /^\/repos\/([^/]+)\/([^/]+)\/deployments\/(\d+)\/statuses$/,
      handle(req) {
        const d = deployments.find((x) => x.id === Number(req.params[2]));
        if (!d) throw new RequestViolation(404, 'Not Found');
        const b = req.body;
        const state = need.oneOf(b, 'state', DEPLOYMENT_STATES);
        const environment_url = need.optionalString(b, 'environment_url');
        const log_url = need.optionalString(b, 'log_url');
        need.optionalString(b, 'description', 140);
        need.only(b, ['state', 'environment_url', 'log_url', 'description', 'auto_inactive', 'environment', 'target_url']);
        d.statuses.push({ state, ...(environment_url ? { environment_url } : {}), ...(log_url ? { log_url } : {}) });
        return {
          status: 201,
          body: {
            id: id(),
            node_id: 'DES_fake',
            state,
            creator: user('slipway[bot]'),
            description: b?.['description'] ?? '',
            environment: d.environment,
            environment_url: environment_url ?? '',
            log_url: log_url ?? '',
            created_at: now(),
            updated_at: now(),
            deployment_url: `${repoUrl(req.params[0]!, req.params[1]!)}/deployments/${d.id}`,
          },
        };
      },
    },
    {
      method: 'GET',
      path: /^\/repos\/([^/]+)\/([^/]+)\/pulls\/(\d+)$/,
      handle(req) {
        const number = Number(req.params[2]);
        const state = options.pullRequests?.[number];
        if (state === undefined) throw new RequestViolation(404, 'Not Found');
        return {
          status: 200,
          body: {
            url: `${repoUrl(req.params[0]!, req.params[1]!)}/pulls/${number}`,
            number,
            state: state === 'merged' ? 'closed' : state,
            merged: state === 'merged',
            user: user('octocat'),
          },
        };
      },
    },
    {
      method: 'GET',
      path: /^\/repos\/([^/]+)\/([^/]+)\/collaborators\/([^/]+)\/permission$/,
      handle(req) {
        const login = decodeURIComponent(req.params[2]!);
        const role = options.permissions?.[login];
        if (role === undefined) throw new RequestViolation(404, 'Not Found');
        // `permission` folds maintain into write and triage into read ("Get repository permissions for a user").
        const permission = role === 'maintain' ? 'write' : role === 'triage' ? 'read' : role;
        return { status: 200, body: { permission, role_name: role, user: user(login) } };
      },
    },
    {
      method: 'GET',
      path: /^\/repos\/([^/]+)\/([^/]+)\/installation$/,
      handle(req) {
        if (!installedOn(req.params[0]!, req.params[1]!)) throw new RequestViolation(404, 'Not Found');
        return {
          status: 200,
          body: {
            id: options.app!.installationId,
            account: user(req.params[0]!),
            app_id: options.app!.id,
            target_type: 'Organization',
            permissions: grants,
            events: [],
          },
        };
      },
    },
    {
      method: 'POST',
      path: /^\/app\/installations\/(\d+)\/access_tokens$/,
      handle(req) {
        if (Number(req.params[0]) !== options.app!.installationId) throw new RequestViolation(404, 'Not Found');
        // "Create an installation access token for an app": optional `repositories` (names, without the
        // owner), `repository_ids` and `permissions`, each no wider than the installation's.
        const b = req.body;
        need.only(b, ['repositories', 'repository_ids', 'permissions']);
        if (b?.['repository_ids'] !== undefined) throw new RequestViolation(422, 'this fake knows repositories by name only');
        let repositories: string[] | 'all' = 'all';
        if (b?.['repositories'] !== undefined) {
          const names = b['repositories'];
          if (!Array.isArray(names) || names.length === 0 || !names.every((n) => typeof n === 'string' && /^[A-Za-z0-9_.-]+$/.test(n)))
            throw new RequestViolation(422, '"repositories" must be a non-empty array of repository names (without the owner)');
          const owners = (options.app!.repositories ?? []).map((r) => r.split('/'));
          for (const n of names as string[])
            if (options.app!.repositories !== undefined && !owners.some(([, name]) => name!.toLowerCase() === n.toLowerCase()))
              throw new RequestViolation(422, 'There is at least one repository that does not exist or is not accessible to the parent installation.');
          repositories = names as string[];
        }
        let permissions: Record<string, string> = grants;
        if (b?.['permissions'] !== undefined) {
          const asked = b['permissions'];
          if (typeof asked !== 'object' || asked === null || Array.isArray(asked) || Object.keys(asked).length === 0)
            throw new RequestViolation(422, '"permissions" must be an object of permission → read or write');
          for (const [name, level] of Object.entries(asked as Record<string, unknown>)) {
            if (level !== 'read' && level !== 'write')
              throw new RequestViolation(422, `permission ${name} must be read or write (got ${JSON.stringify(level)})`);
            const granted = grants[name] as keyof typeof LEVEL | undefined;
            if (granted === undefined || LEVEL[granted] < LEVEL[level])
              throw new RequestViolation(422, 'The permissions requested are not granted to this installation.');
          }
          permissions = asked as Record<string, string>;
        }
        live.tokensMinted++;
        const token = `ghs_fake${live.tokensMinted}${'x'.repeat(28)}`;
        const expires = Date.now() + (options.app!.tokenLifetimeMs ?? 3600_000);
        installationTokens.set(token, { expires, repositories, permissions });
        return {
          status: 201,
          body: {
            token,
            expires_at: new Date(expires).toISOString().replace(/\.\d{3}Z$/, 'Z'),
            permissions,
            repository_selection: repositories === 'all' ? 'all' : 'selected',
            ...(repositories === 'all'
              ? {}
              : {
                  repositories: repositories.map((name, i) => ({
                    id: 500 + i,
                    name,
                    full_name: (options.app!.repositories ?? []).find((r) => r.endsWith(`/${name}`)) ?? name,
                    private: true,
                  })),
                }),
          },
        };
      },
    },
  ];

  function applyCheck(run: FakeCheckRun, b: Record<string, unknown> | undefined): void {
    const status = need.oneOf(b, 'status', CHECK_STATUS);
    run.status = status;
    if (status === 'completed') {
      run.conclusion = need.oneOf(b, 'conclusion', CONCLUSIONS);
      need.string(b, 'completed_at');
    } else if (b?.['conclusion'] !== undefined) throw new RequestViolation(422, 'conclusion given for a check run that is not completed');
    run.details_url = need.url(b, 'details_url');
    run.external_id = need.string(b, 'external_id');
    const output = b?.['output'] as Record<string, unknown> | undefined;
    if (output !== undefined) {
      run.output = { title: need.string(output, 'title'), summary: need.string(output, 'summary') };
      if ((run.output.summary ?? '').length > 65535) throw new RequestViolation(422, 'output.summary is too long (maximum is 65535 characters)');
      const annotations = output['annotations'];
      if (annotations !== undefined) {
        if (!Array.isArray(annotations) || annotations.length > 50) throw new RequestViolation(422, 'output.annotations must be an array of at most 50');
        for (const a of annotations as Record<string, unknown>[]) {
          need.string(a, 'path');
          need.string(a, 'message');
          need.oneOf(a, 'annotation_level', ['notice', 'warning', 'failure'] as const);
          if (typeof a['start_line'] !== 'number' || typeof a['end_line'] !== 'number')
            throw new RequestViolation(422, 'annotations need start_line and end_line');
        }
        run.annotations.push(...(annotations as Record<string, unknown>[]));
      }
    }
  }

  function checkRunJson(o: string, r: string, run: FakeCheckRun) {
    return {
      id: run.id,
      node_id: 'CR_fake',
      head_sha: run.head_sha,
      external_id: run.external_id,
      url: `${repoUrl(o, r)}/check-runs/${run.id}`,
      html_url: `https://github.com/${o}/${r}/runs/${run.id}`,
      details_url: run.details_url,
      status: run.status,
      conclusion: run.conclusion,
      started_at: now(),
      completed_at: run.status === 'completed' ? now() : null,
      output: { ...run.output, text: null, annotations_count: run.annotations.length, annotations_url: `${repoUrl(o, r)}/check-runs/${run.id}/annotations` },
      name: run.name,
      check_suite: { id: 5 },
      app: { id: options.app?.id ?? 1, slug: 'slipway', name: 'Slipway' },
      pull_requests: [],
    };
  }

  function commentJson(o: string, r: string, n: number, c: { id: number; body: string; user: string }) {
    return {
      id: c.id,
      node_id: 'IC_fake',
      url: `${repoUrl(o, r)}/issues/comments/${c.id}`,
      html_url: `https://github.com/${o}/${r}/pull/${n}#issuecomment-${c.id}`,
      body: c.body,
      user: user(c.user),
      created_at: now(),
      updated_at: now(),
      issue_url: `${repoUrl(o, r)}/issues/${n}`,
      author_association: 'NONE',
    };
  }

  const server = await startStrictServer({
    name: 'fake GitHub API',
    routes,
    authenticate,
    errorBody: (status, message) => ({ message, documentation_url: 'https://docs.github.com/rest', status: String(status) }),
  });
  live.port = server.port;
  const tokenScope = (token: string) => {
    const t = installationTokens.get(token);
    return t !== undefined && t.expires > Date.now() ? { repositories: t.repositories, permissions: t.permissions } : undefined;
  };
  const fake = Object.assign(server, { checkRuns, statuses, comments, deployments, tokensMinted: 0, tokenScope });
  // Object.assign would copy a getter's value once; the count must stay live.
  Object.defineProperty(fake, 'tokensMinted', { get: () => live.tokensMinted });
  return fake;
}

/** RS256 JWT as GitHub checks it ("Generating a JSON Web Token for a GitHub App"): iss = App id, exp ≤ 10 minutes. */
function verifyJwt(auth: string, appId: number, key: KeyObject): void {
  const jwt = /^bearer (\S+)$/i.exec(auth)?.[1];
  if (jwt === undefined) throw new RequestViolation(401, 'A JSON web token could not be decoded (Authorization must be "Bearer <JWT>")');
  const [h, p, s] = jwt.split('.');
  if (h === undefined || p === undefined || s === undefined) throw new RequestViolation(401, 'A JSON web token could not be decoded');
  const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { alg?: string };
  if (header.alg !== 'RS256') throw new RequestViolation(401, `JWT alg ${header.alg} is not RS256`);
  if (!createVerify('RSA-SHA256').update(`${h}.${p}`).verify(key, Buffer.from(s, 'base64url')))
    throw new RequestViolation(401, "'Issuer' claim ('iss') must be an Integer; signature does not verify");
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as { iss?: unknown; exp?: number; iat?: number };
  if (String(claims.iss) !== String(appId)) throw new RequestViolation(401, `JWT iss ${String(claims.iss)} is not the App id`);
  const t = Date.now() / 1000;
  if (claims.exp === undefined || claims.exp < t || claims.exp - t > 600 + 60)
    throw new RequestViolation(401, "'Expiration time' claim ('exp') is too far in the future");
}
