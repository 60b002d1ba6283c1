import type { Kysely } from 'kysely';
import { changeRequestLabel, changeRequestName } from '../../forges/terms.js';
import { SlipwayError } from '../../core/errors.js';
import { buildsOfDigest, getApproval, type Build, type Database } from '../../store/index.js';

export interface ImageOrigin {
  /** The build that made the digest. */
  build: Build;
  /** It came from a fork's pull request (approved, or it would have been refused). */
  fork: boolean;
}

/**
 * Where an image to promote came from: the build that made its digest, if Slipway made it. A fork's
 * pull request runs code its author controls, so what it built is never promoted by digest unless a
 * maintainer approved that pull request (`/ok-to-test` or the label): an unapproved fork's image is
 * refused here even if something signed it. When several builds made the same digest (the same commit
 * built again once approved), one that is trusted counts: a branch build first, then an approved fork.
 * A digest no build made (an image from elsewhere) has no origin; the promote gate still requires a
 * trusted signature and the enforcer.
 */
export async function imageOrigin(db: Kysely<Database>, digest: string): Promise<ImageOrigin | undefined> {
  const builds = await buildsOfDigest(db, digest);
  if (builds.length === 0) return undefined;
  const own = builds.find((b) => !b.fork);
  if (own) return { build: own, fork: false };
  for (const b of builds) {
    if (b.prNumber !== null && (await getApproval(db, b.app, b.prNumber))) return { build: b, fork: true };
  }
  const first = builds[0]!;
  throw new SlipwayError(
    'SLW_PROMOTION_ORIGIN',
    `${digest} was built by build ${first.id} from a fork's ${first.prNumber === null ? changeRequestName(first.forge) : changeRequestLabel(first.forge, first.prNumber)} that no maintainer approved; approve it with /ok-to-test (or the slipway/ok-to-preview label) and promote what its approved build makes`,
    { details: { digest, sourceBuild: first.id, fork: true, approved: false } },
  );
}
