#!/bin/sh
# Benchmark: the cost of running under slipway-enforcer.
#   - exec loop: N_EXEC x fork+execve(static true)+wait, bare / enforcer
#     (Landlock gate) / enforcer (seccomp gate, the fallback) / tini
#   - memfd_create loop: a notification round trip each under the Landlock gate
#   - start-up: manifest -> Landlock ruleset for N_MANIFEST executables
#   - syscall loops (no exec): N_SYS x getppid(), and N_SYS/2 x (write+read) on
#     /dev/null and /dev/zero, bare / enforcer
#   - the same syscall loops when a container-runtime-like seccomp filter is
#     already in place (Docker's default profile is one), to separate the
#     kernel's fixed seccomp entry cost from the enforcer's own
# Each figure is the median of ROUNDS runs, all in the same invocation.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
make -C "$ROOT" -s build/enforcer build/enforcer-test build/helpers/true build/helpers/execloop >/dev/null

N_EXEC=${N_EXEC:-2000}
N_SYS=${N_SYS:-2000000}
ROUNDS=${ROUNDS:-5}
N_MEMFD=${N_MEMFD:-20000}
N_MANIFEST=${N_MANIFEST:-10000}
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
# the seccomp gate (what runs where the kernel lacks Landlock): the test build
# with Landlock simulated away
ES() { SLIPWAY_ENFORCER_SIMULATE_NO_LANDLOCK=1 "$ROOT/build/enforcer-test" 2>/dev/null "$@"; }

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
ee=$(measure "$E" -- "$L" exec "$N_EXEC" "$W/true" 2>/dev/null)
es=$(measure ES -- "$L" exec "$N_EXEC" "$W/true")
row "bare" "$eb"
row "under enforcer (Landlock gate)" "$ee" "$(ratio "$ee" "$eb") of bare"
row "under enforcer (seccomp gate, fallback)" "$es" "$(ratio "$es" "$eb") of bare"
if command -v tini >/dev/null 2>&1; then
	et=$(measure tini -s -- "$L" exec "$N_EXEC" "$W/true")
	row "under tini" "$et" "$(ratio "$et" "$eb") of bare"
else
	echo "tini: not installed (apt-get install tini)"
fi
ef=$(measure "$E" -- "$L" exec "$N_EXEC" "$W/true" 2>/dev/null)
eb2=$(measure "$L" exec "$N_EXEC" "$W/true")
row "bare (again)" "$eb2"
row "under enforcer, Landlock (again)" "$ef" "$(ratio "$ef" "$eb2") of bare (again)"
awk -v e="$ee" -v s="$es" -v b="$eb" -v n="$N_EXEC" 'BEGIN { printf "per exec: bare %.1f us, Landlock gate %+.1f us, seccomp gate %+.1f us\n", b / n * 1e6, (e - b) / n * 1e6, (s - b) / n * 1e6 }'
# One process execve()s a missing path over and over: no fork, no new
# /proc/<pid>, no exec work, so this is the notification round trip (target
# blocks, supervisor wakes and checks, target wakes) plus the cheapest check.
N_RT=$((N_EXEC * 10))
nb=$(measure "$L" enoent "$N_RT")
ne=$(measure ES -- "$L" enoent "$N_RT")
awk -v e="$ne" -v b="$nb" -v n="$N_RT" 'BEGIN { printf "execve(missing path) x %d, no fork: bare %.1f us, seccomp gate %.1f us per call\n", n, b / n * 1e6, e / n * 1e6 }'
mb=$(measure "$L" memfd "$N_MEMFD")
me=$(measure "$E" -- "$L" memfd "$N_MEMFD" 2>/dev/null)
row "memfd_create+close x $N_MEMFD, bare" "$mb"
row "memfd_create+close, Landlock gate" "$me" "$(ratio "$me" "$mb") of bare"
awk -v e="$me" -v b="$mb" -v n="$N_MEMFD" 'BEGIN { printf "per memfd_create: bare %.1f us, Landlock gate %.1f us (one round trip)\n", b / n * 1e6, e / n * 1e6 }'

echo
echo "== syscall loops (no exec) =="
sb=$(measure "$L" sys "$N_SYS")
se=$(measure "$E" -- "$L" sys "$N_SYS" 2>/dev/null)
row "getppid x $N_SYS, bare" "$sb"
row "getppid x $N_SYS, under enforcer" "$se" "$(ratio "$se" "$sb") of bare"
half=$((N_SYS / 2))
rb=$(measure "$L" rw "$half")
re=$(measure "$E" -- "$L" rw "$half" 2>/dev/null)
row "write+read x $half, bare" "$rb"
row "write+read x $half, under enforcer" "$re" "$(ratio "$re" "$rb") of bare"

echo
echo "== same, under a pre-existing allow-all seccomp filter (container runtime) =="
pb=$(measure "$L" prefilter "$L" sys "$N_SYS")
pe=$(measure "$L" prefilter "$E" -- "$L" sys "$N_SYS" 2>/dev/null)
row "getppid, runtime filter only" "$pb"
row "getppid, runtime filter + enforcer" "$pe" "$(ratio "$pe" "$pb")"
pxb=$(measure "$L" prefilter "$L" exec "$N_EXEC" "$W/true")
pxe=$(measure "$L" prefilter "$E" -- "$L" exec "$N_EXEC" "$W/true" 2>/dev/null)
row "exec loop, runtime filter only" "$pxb"
row "exec loop, runtime filter + enforcer" "$pxe" "$(ratio "$pxe" "$pxb")"

echo
echo "== start-up: manifest -> Landlock ruleset, $N_MANIFEST executables =="
# N_MANIFEST empty executables in 100 directories, plus the two above
mkdir -p "$W/img"
awk -v n="$N_MANIFEST" -v w="$W/img" 'BEGIN { for (i = 0; i < n; i++) printf "%s/d%02d/x%05d\n", w, i % 100, i }' >"$W/list"
awk -v w="$W/img" 'BEGIN { for (i = 0; i < 100; i++) printf "%s/d%02d\n", w, i }' | xargs mkdir -p
xargs touch <"$W/list"
xargs chmod 0755 <"$W/list"
{
	cat "$W/manifest"
	awk '{ print "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 0 0755 " $0 }' "$W/list"
} >"$W/big-manifest"
once() { # once CMD...: wall seconds of one run
	t0=$(date +%s.%N)
	"$@" >/dev/null 2>&1
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f\n", b - a }'
}
tb=$(measure once "$W/true")
ts=$(measure once "$E" -- "$W/true")
tl=$(SLIPWAY_ENFORCER_MANIFEST=$W/big-manifest measure once "$E" -- "$W/true")
built=$(SLIPWAY_ENFORCER_MANIFEST=$W/big-manifest "$E" -- "$W/true" 2>&1 | sed -n 's/.*ruleset built in \([0-9]*\) ms.*/\1/p')
row "bare 'true'" "$tb"
row "enforcer, 2-entry manifest" "$ts" "$(ratio "$ts" "$tb") of bare"
row "enforcer, $N_MANIFEST-entry manifest" "$tl" "$(ratio "$tl" "$ts") of the 2-entry start"
echo "ruleset build alone ($N_MANIFEST executables): ${built:-?} ms (enforcer's own measurement)"
