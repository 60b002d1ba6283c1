import { getApproval } from '../../store/index.js';
import { changeRequestLabel } from '../../forges/terms.js';
import type { StageContext } from '../context.js';

/**
 * Why a fork's pull request stops before signing, or undefined when it may go on. A fork runs code its
 * author controls; until a maintainer approves it (`/ok-to-test` or the slipway/ok-to-preview label) it
 * builds, is checked and gets the enforcer, but is neither signed with the trusted key nor promoted:
 * nothing it makes is an image the promote gate would accept, whoever asks to promote its digest later.
 */
export async function awaitingApproval(ctx: StageContext): Promise<string | undefined> {
  if (!ctx.build.fork || ctx.build.prNumber === null) return undefined;
  if (await getApproval(ctx.store.db, ctx.app.name, ctx.build.prNumber)) return undefined;
  return `${changeRequestLabel(ctx.build.forge, ctx.build.prNumber)} comes from a fork: its preview waits for a maintainer's /ok-to-test comment or the slipway/ok-to-preview label`;
}
