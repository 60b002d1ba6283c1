import type { ChangeRequestCommand } from './events.js';

/**
 * Slipway's words in pull/merge requests, the same on every forge. Commands follow
 * Pipelines-as-Code's GitOps commands: a line that starts with `/name`, anywhere in the comment,
 * case-sensitive, so prose that merely mentions "retest" runs nothing.
 */

/** The label a maintainer adds to let a fork's pull request get a preview. */
export const OK_TO_PREVIEW_LABEL = 'slipway/ok-to-preview';

const COMMANDS: readonly ChangeRequestCommand[] = ['ok-to-test', 'retest', 'cancel'];

/** `/retest` or `/retest please`, not `/retested`; quoted lines (`> /retest`) are someone else's words. */
const COMMAND_LINE = /^\/([a-z-]+)(?:\s|$)/;

/** The first command in the comment, or undefined when it holds none. */
export function parseCommand(body: string): ChangeRequestCommand | undefined {
  for (const raw of body.split(/\r?\n/)) {
    const match = COMMAND_LINE.exec(raw.trim());
    const name = match?.[1];
    const command = COMMANDS.find((c) => c === name);
    if (command !== undefined) return command;
  }
  return undefined;
}
