// Bench settings come from the environment (BENCH_DURATION=…); a value that is not a positive number
// stops the bench with its name instead of measuring something else.
export function envNumber(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name}=${raw} is not a positive number`);
  return n;
}
