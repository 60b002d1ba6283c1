/**
 * The post-receive hook Slipway installs in each push repository. git runs it after a push
 * updated refs and shows what it prints as `remote:` lines, which is how the build ids reach the
 * pusher. It only reports the updates back to the server that ran the push (URL and a per-process
 * secret arrive in its environment through http-backend), so all build logic stays in the server.
 * `git push -o wait` makes it follow the builds' logs until they end.
 */
export const HOOK_SH = `#!/bin/sh
# Installed by Slipway: reports this push to the server; its answer shows as "remote:" lines.
[ -n "$SLIPWAY_HOOK_URL" ] || exit 0
exec "$SLIPWAY_NODE" "$SLIPWAY_HOOK_SCRIPT"
`;

export const HOOK_JS = `// Installed by Slipway (src/server/git/hook-script.ts). Plain Node, no dependencies.
let input = '';
process.stdin.setEncoding('utf8');
for await (const chunk of process.stdin) input += chunk;
const env = process.env;
const options = Array.from({ length: Number(env.GIT_PUSH_OPTION_COUNT ?? 0) }, (_, i) => env['GIT_PUSH_OPTION_' + i]);
let answer;
try {
  const res = await fetch(env.SLIPWAY_HOOK_URL, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-slipway-hook-secret': env.SLIPWAY_HOOK_SECRET },
    body: JSON.stringify({ app: env.SLIPWAY_APP, pusher: env.REMOTE_USER ?? '', updates: input }),
  });
  answer = await res.json();
} catch (err) {
  console.log('slipway: could not start builds: ' + err.message);
  process.exit(0);
}
for (const line of answer.lines ?? []) console.log(line);
if (options.includes('wait')) {
  for (const id of answer.builds ?? []) {
    const res = await fetch(env.SLIPWAY_API_URL + '/api/v1/builds/' + id + '/logs', { headers: { accept: 'text/event-stream' } });
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body) {
      buffer += decoder.decode(chunk, { stream: true });
      let split;
      while ((split = buffer.indexOf('\\n\\n')) >= 0) {
        const frame = buffer.slice(0, split);
        buffer = buffer.slice(split + 2);
        const event = /^event: (.*)$/m.exec(frame)?.[1];
        const data = /^data: (.*)$/m.exec(frame)?.[1];
        if (!data) continue;
        const parsed = JSON.parse(data);
        if (event === 'log') console.log((parsed.stage ? '[' + parsed.stage + '] ' : '') + parsed.line);
        if (event === 'end') console.log('slipway: build ' + id + ' ' + parsed.state);
      }
    }
  }
}
`;
