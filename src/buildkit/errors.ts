import { status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import { SlipwayError } from '../core/errors.js';
import type { BuildStep } from './progress.js';

/**
 * What a failed Solve means for the user. BuildKit reports Solve errors as gRPC
 * code 2 (UNKNOWN) with a plain message, so the failing step comes from the Status stream (the
 * vertex with `error` set) and only the Dockerfile frontend's own failures are recognised by their
 * upstream wording (frontend/dockerfile: "dockerfile parse error", "failed to create LLB
 * definition"); Slipway's own code still branches only on the codes returned here.
 */
export function classifySolveError(err: unknown, failed: (BuildStep & { tail: string[] }) | undefined, where: string): SlipwayError {
  const se = err as Partial<ServiceError>;
  const message = (se.details || (err as Error).message || String(err)).trim();
  if (se.code === grpcStatus.UNAVAILABLE) {
    return new SlipwayError('SLW_BUILDKIT_UNREACHABLE', `BuildKit at ${where} went away during the build (${message}); the build will be retried`, {
      cause: err,
      details: { address: where },
    });
  }
  if (se.code === grpcStatus.CANCELLED) return new SlipwayError('SLW_BUILD_CANCELED', 'build canceled', { cause: err });
  if (REGISTRY_AUTH_RE.test(message)) {
    return new SlipwayError('SLW_REGISTRY_AUTH', `BuildKit was refused by a registry: ${stripPrefix(message)}`, { cause: err });
  }
  if (DOCKERFILE_RE.test(message) && (!failed || failed.name.startsWith('[internal]'))) {
    return new SlipwayError('SLW_BUILD_DOCKERFILE', `the Dockerfile is invalid: ${stripPrefix(message)}; fix it and push again`, { cause: err });
  }
  if (failed) {
    const tail = failed.tail.length ? `\n${failed.tail.join('\n')}` : '';
    // COPY/ADD of a path the context does not have: say where to look.
    const hint =
      /^\[[^\]]*\] (COPY|ADD) /.test(failed.name) && /not found/.test(failed.error ?? '')
        ? ' (is the path in the build context and not excluded by .dockerignore?)'
        : '';
    return new SlipwayError('SLW_BUILD_STEP_FAILED', `step ${failed.name} failed: ${failed.error ?? stripPrefix(message)}${hint}${tail}`, {
      cause: err,
      details: { step: failed.name, lines: failed.tail },
    });
  }
  return new SlipwayError('SLW_BUILD_FAILED', `the build failed: ${stripPrefix(message)}`, { cause: err });
}

/** containerd's and distribution's wording for a registry that refused the credentials (or their absence). */
const REGISTRY_AUTH_RE =
  /failed to authorize|failed to fetch (anonymous|oauth) token|\b401 Unauthorized\b|\b403 Forbidden\b|insufficient_scope|pull access denied|authentication required/i;

const DOCKERFILE_RE =
  /dockerfile parse error|failed to create LLB definition|unknown instruction|failed to parse (dockerfile|stage name)|target stage .* could not be found|Dockerfile .* (cannot be empty|not found)|failed to read dockerfile/i;

/** "failed to solve with frontend dockerfile.v0: failed to create LLB definition: X" → "X". */
function stripPrefix(message: string): string {
  return message.replace(/^(failed to solve with frontend dockerfile\.v0: )?(failed to create LLB definition: )?/, '');
}
