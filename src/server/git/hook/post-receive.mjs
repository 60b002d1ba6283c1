// Installed by Slipway (src/server/git/hook/post-receive.mjs, copied into each push repository's root).
// Plain Node, no dependencies: it runs with the server's node binary but none of its modules.
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
      while ((split = buffer.indexOf('\n\n')) >= 0) {
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
