import { z } from 'zod';

/**
 * What every forge's config section (`<forge>.*`, declared in `<forge>/config.ts`) holds, whatever else it
 * adds: where its repositories are cloned from.
 */
export interface ForgeSection {
  gitUrl: string;
}

/**
 * Where a forge's repositories are cloned from. Webhook payloads carry clone URLs too, but a payload is
 * input: Slipway derives `<gitUrl>/<owner>/<name>.git` from this instead, so a forged or odd payload can
 * never make a worker fetch from another host, scheme or local path.
 */
export const gitBaseUrl = (fallback: string, forge: string) =>
  z
    .url()
    .regex(/^(https|http|ssh):\/\//, 'use an https:// (or ssh://, http://) base URL')
    .default(fallback)
    .describe(
      `Base URL ${forge} repositories are fetched from (<gitUrl>/<owner>/<name>.git, never a URL from the webhook); its scheme is the only one git may use for them.`,
    );
