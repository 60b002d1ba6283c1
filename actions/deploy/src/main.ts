import * as core from '@actions/core';
import { ApiClient, ApiError } from '../../../src/client/api-client.js';
import { deployContext, type DeployResult } from '../../../src/client/deploy-flow.js';

/**
 * The GitHub Action step: packs the context, uploads it with a token (by default the job's
 * OIDC token, which Slipway scopes to this repository), follows the build's log in one `::group::` per
 * stage, sets the outputs, writes a job summary, and fails the step with an `::error` annotation when
 * the build fails or a policy rejects it.
 */
async function run(): Promise<void> {
  const input = (name: string) => core.getInput(name).trim() || undefined;
  const server = core.getInput('server', { required: true });
  const app = core.getInput('app', { required: true });
  const token = input('token') ?? (await core.getIDToken(input('audience') ?? 'slipway'));
  core.setSecret(token);

  let group: string | null | undefined;
  const result: DeployResult = await deployContext(
    new ApiClient(server, token),
    {
      app,
      dir: input('context') ?? '.',
      dockerfile: input('dockerfile'),
      target: input('target'),
      tag: input('tag'),
      ref: process.env.GITHUB_REF,
      wait: (input('wait') ?? 'true') !== 'false',
    },
    {
      packed: (files, bytes) => core.info(`packed ${files} files (${(bytes / 1024).toFixed(1)} KiB)`),
      queued: (build) => {
        core.setOutput('build-id', build.id);
        core.info(`build ${build.id} ${build.state} for ${build.app} → ${build.target}: ${build.url}`);
      },
      log: (l) => {
        if (l.stage !== group) {
          if (group !== undefined) core.endGroup();
          group = l.stage;
          core.startGroup(l.stage ?? 'build');
        }
        core.info(l.line);
      },
    },
  );
  if (group !== undefined) core.endGroup();

  const { build } = result;
  const view = build as typeof build & { image?: unknown };
  const image = typeof view.image === 'string' ? view.image : '';
  core.setOutput('build-id', build.id);
  core.setOutput('image', image);
  core.setOutput('digest', build.digest ?? '');
  core.setOutput('revision', result.revision ?? '');
  core.setOutput('url', result.url ?? '');

  await core.summary
    .addHeading(`Slipway: ${build.app} ${build.state}`, 3)
    .addTable([
      [
        { data: 'build', header: true },
        { data: 'state', header: true },
        { data: 'target', header: true },
        { data: 'digest', header: true },
        { data: 'revision', header: true },
        { data: 'url', header: true },
      ],
      [
        `<a href="${build.url}">${build.id}</a>`,
        build.state,
        build.target,
        build.digest ?? '',
        result.revision ?? '',
        result.url ? `<a href="${result.url}">${result.url}</a>` : '',
      ],
    ])
    .write();

  if (!result.succeeded && (input('wait') ?? 'true') !== 'false') {
    const why = build.error ? `${build.error.message} (${build.error.code})` : `it ended ${build.state}`;
    const title = build.state === 'rejected' ? 'Slipway: rejected by policy' : `Slipway: build ${build.state}`;
    core.error(`build ${build.id} for ${build.app}: ${why}`, { title });
    core.setFailed(`build ${build.id} ${build.state}`);
  }
}

run().catch((err: unknown) => {
  const message = err instanceof ApiError ? `${err.message}${err.code ? ` (${err.code})` : ''}` : (err as Error).message;
  core.error(message, { title: 'Slipway deploy failed' });
  core.setFailed(message);
});
