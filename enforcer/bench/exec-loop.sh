#!/bin/sh
# Benchmark: the cost of running under slipway-enforcer.
#   - exec loop: N_EXEC x fork+execve(static true)+wait, bare / enforcer / tini
#   - syscall loops (no exec): N_SYS x getppid(), and N_SYS/2 x (write+read) on
#     /dev/null and /dev/zero, bare / enforcer
#   - the same syscall loops when a container-runtime-like seccomp filter is
#     already in place (Docker's default profile is one), to separate the
#     kernel's fixed seccomp entry cost from the enforcer's own
# Each figure is the median of ROUNDS runs, all in the same invocation.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
make -C "$ROOT" -s build/enforcer build/helpers/true build/helpers/execloop >/dev/null

N_EXEC=${N_EXEC:-2000}
N_SYS=${N_SYS:-2000000}
ROUNDS=${ROUNDS:-5}
W=$(mktemp -d /tmp/slipway-enforcer-bench.XXXXXX)
W=$(cd "$W" && pwd -P)
trap 'rm -rf "$W"' EXIT INT TERM
cp "$ROOT/build/helpers/true" "$ROOT/build/helpers/execloop" "$W/"
for f in true execloop; do
	printf '%s %s %04o %s\n' "$(sha256sum <"$W/$f" | cut -c1-64)" "$(stat -c %s "$W/$f")" \
		"0$(stat -c %a "$W/$f")" "$W/$f"
done >"$W/manifest"
echo '{}' >"$W/policy.json"
export SLIPWAY_ENFORCER_MANIFEST="$W/manifest" SLIPWAY_ENFORCER_POLICY="$W/policy.json"
# files changed less than 2 s ago are re-hashed on every exec (see README)
sleep 2
E=$ROOT/build/enforcer
L=$W/execloop

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
measure() { # measure CMD...: median seconds over ROUNDS runs
	i=0
	while [ $i -lt "$ROUNDS" ]; do
		"$@"
		i=$((i + 1))
	done | median
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
row() { printf '%-44s %9.4f s   %s\n' "$1" "$2" "${3:-}"; }

echo "kernel $(uname -r), $(nproc) CPUs, median of $ROUNDS rounds"
echo
echo "== exec loop: $N_EXEC x fork+exec+wait of a static 'true' =="
# interleave the configurations round by round to spread out noise
eb=$(measure "$L" exec "$N_EXEC" "$W/true")
ee=$(measure "$E" -- "$L" exec "$N_EXEC" "$W/true")
row "bare" "$eb"
row "under enforcer" "$ee" "$(ratio "$ee" "$eb") of bare"
if command -v tini >/dev/null 2>&1; then
	et=$(measure tini -s -- "$L" exec "$N_EXEC" "$W/true")
	row "under tini" "$et" "$(ratio "$et" "$eb") of bare"
else
	echo "tini: not installed (apt-get install tini)"
fi
ef=$(measure "$E" -- "$L" exec "$N_EXEC" "$W/true")
row "under enforcer (again)" "$ef" "$(ratio "$ef" "$eb") of bare"
awk -v e="$ee" -v b="$eb" -v n="$N_EXEC" 'BEGIN { printf "per exec: bare %.1f us, enforcer +%.1f us\n", b / n * 1e6, (e - b) / n * 1e6 }'
# One process execve()s a missing path over and over: no fork, no new
# /proc/<pid>, no exec work, so this is the notification round trip (target
# blocks, supervisor wakes and checks, target wakes) plus the cheapest check.
N_RT=$((N_EXEC * 10))
nb=$(measure "$L" enoent "$N_RT")
ne=$(measure "$E" -- "$L" enoent "$N_RT")
awk -v e="$ne" -v b="$nb" -v n="$N_RT" 'BEGIN { printf "execve(missing path) x %d, no fork: bare %.1f us, enforcer %.1f us per call\n", n, b / n * 1e6, e / n * 1e6 }'

echo
echo "== syscall loops (no exec) =="
sb=$(measure "$L" sys "$N_SYS")
se=$(measure "$E" -- "$L" sys "$N_SYS")
row "getppid x $N_SYS, bare" "$sb"
row "getppid x $N_SYS, under enforcer" "$se" "$(ratio "$se" "$sb") of bare"
half=$((N_SYS / 2))
rb=$(measure "$L" rw "$half")
re=$(measure "$E" -- "$L" rw "$half")
row "write+read x $half, bare" "$rb"
row "write+read x $half, under enforcer" "$re" "$(ratio "$re" "$rb") of bare"

echo
echo "== same, under a pre-existing allow-all seccomp filter (container runtime) =="
pb=$(measure "$L" prefilter "$L" sys "$N_SYS")
pe=$(measure "$L" prefilter "$E" -- "$L" sys "$N_SYS")
row "getppid, runtime filter only" "$pb"
row "getppid, runtime filter + enforcer" "$pe" "$(ratio "$pe" "$pb")"
pxb=$(measure "$L" prefilter "$L" exec "$N_EXEC" "$W/true")
pxe=$(measure "$L" prefilter "$E" -- "$L" exec "$N_EXEC" "$W/true")
row "exec loop, runtime filter only" "$pxb"
row "exec loop, runtime filter + enforcer" "$pxe" "$(ratio "$pxe" "$pxb")"
