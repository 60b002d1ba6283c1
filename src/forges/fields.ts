import { z } from 'zod';
import { COMMIT_SHA_RE, isShortRefName, refNameProblem, REPO_PATH_RE } from '../core/git-names.js';

/**
 * Payload fields that later reach git (argv, a URL, a ref), validated where a delivery is parsed: a
 * delivery whose commit, ref or repository path is not what git itself would produce is malformed.
 */
export const commitSha = z.string().regex(COMMIT_SHA_RE, 'must be a full commit id (40 or 64 lower-case hex digits)');

export const refName = z.string().superRefine((ref, ctx) => {
  const problem = refNameProblem(ref);
  if (problem) ctx.addIssue({ code: 'custom', message: `is not a git ref name: it ${problem}` });
});

export const branchName = z.string().refine(isShortRefName, 'is not a git branch name');

export const repoPath = z.string().regex(REPO_PATH_RE, 'must be a repository path such as owner/name (letters, digits, _ . -)');
