import { z } from 'zod';

/**
 * A job carries only the build id: the build row in the store is the truth, so a job can never
 * disagree with what the API shows, and a retried job reads the latest state.
 */
export const buildJobSchema = z.strictObject({ buildId: z.string().min(1) });
export type BuildJob = z.infer<typeof buildJobSchema>;

/** What live followers (SSE) receive. */
export type BuildEvent =
  | { type: 'log'; buildId: string; id: number; ts: string; stage: string | null; level: string; line: string }
  | { type: 'state'; buildId: string; state: string; terminal: boolean };
