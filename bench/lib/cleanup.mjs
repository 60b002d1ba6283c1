// What every bench needs: everything it starts (child processes, containers, Redis keys, temp dirs) is
// registered here and undone on exit, on error, and on Ctrl-C — in reverse order, each step on its own
// so one failing does not leave the rest behind.

/** Returns `{ onCleanup(fn), cleanup() }` for the bench named `name` (used in messages). */
export function cleanupRegistry(name) {
  const cleanups = [];
  let cleaningUp;
  function cleanup() {
    cleaningUp ??= (async () => {
      for (const fn of cleanups.splice(0).reverse()) {
        try {
          await fn();
        } catch (err) {
          process.stderr.write(`bench/${name}: cleanup: ${err?.message ?? err}\n`);
        }
      }
    })();
    return cleaningUp;
  }
  for (const signal of ['SIGINT', 'SIGTERM']) {
    // `on`, not `once`: a second signal (a terminal sends one to the whole group, run.mjs forwards
    // another) must not kill the bench before it has stopped its children.
    process.on(signal, () => {
      if (!cleaningUp) process.stderr.write(`bench/${name}: ${signal}, cleaning up\n`);
      cleanup().finally(() => process.exit(130));
    });
  }
  return { onCleanup: (fn) => cleanups.push(fn), cleanup };
}
