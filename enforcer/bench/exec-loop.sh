#!/bin/sh
# Benchmark: the cost of running under slipway-enforcer.
#   - exec loop: N_EXEC x fork+execve(static true)+wait, bare / enforcer
#     (Landlock gate) / Landlock gate with policy report=all / enforcer
#     (seccomp gate, the fallback) / tini
#   - memfd_create loop: a notification round trip each under the Landlock gate
#   - start-up: manifest -> Landlock ruleset for N_MANIFEST executables
#   - syscall loops (no exec): N_SYS x getppid(), and N_SYS/2 x (write+read) on
#     /dev/null and /dev/zero, bare / enforcer
#   - the same syscall loops and the exec loop when a container-runtime-like
#     seccomp filter is already in place (Docker's default profile is one), to
#     separate the kernel's fixed seccomp entry cost from the enforcer's own
# Each comparison runs its two configurations alternately, ROUNDS times each,
# and reports the medians and the median of the per-round ratios, all in the
# same invocation.
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
echo '{"report":"all"}' >"$W/report-all.json"
export SLIPWAY_ENFORCER_MANIFEST="$W/manifest" SLIPWAY_ENFORCER_POLICY="$W/policy.json"
# files changed less than 2 s ago are re-hashed on every exec (see README)
sleep 2
E=$ROOT/build/enforcer
L=$W/execloop
# the seccomp gate (what runs where the kernel lacks Landlock): the test build
# with Landlock simulated away
ES() { SLIPWAY_ENFORCER_SIMULATE_NO_LANDLOCK=1 "$ROOT/build/enforcer-test" 2>/dev/null "$@"; }

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
measure() { # measure CMD...: median seconds over ROUNDS runs (the first line: wall)
	i=0
	while [ $i -lt "$ROUNDS" ]; do
		"$@" | head -n 1
		i=$((i + 1))
	done | median
}
# alt A B: runs the shell functions A and B alternately, ROUNDS times each, so
# that load from elsewhere falls on both alike. Each function prints the wall
# seconds its loop measured and the CPU seconds spent meanwhile by the loop,
# its children and its parent (the supervisor), as execloop reports them. Sets A_S and B_S (median wall seconds), RATIO (median of the
# per-round wall ratios B/A) and CRATIO (the same for CPU time).
alt() {
	fa=$1 fb=$2
	: >"$W/alt"
	i=0
	while [ $i -lt "$ROUNDS" ]; do
		# shellcheck disable=SC2046
		set -- $("$fa") $("$fb")
		echo "$1 $2 $3 $4" >>"$W/alt"
		i=$((i + 1))
	done
	A_S=$(cut -d' ' -f1 "$W/alt" | median)
	B_S=$(cut -d' ' -f3 "$W/alt" | median)
	RATIO=$(awk '{ printf "%.4f\n", $3 / $1 }' "$W/alt" | median)
	CRATIO=$(awk '{ printf "%.4f\n", ($2 > 0 ? $4 / $2 : 0) }' "$W/alt" | median)
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
row() { printf '%-48s %9.4f s   %s\n' "$1" "$2" "${3:-}"; }
pair() { # pair LABEL_A LABEL_B FN_A FN_B
	alt "$3" "$4"
	row "$1" "$A_S"
	row "$2" "$B_S" "$(printf 'wall %.2fx, CPU %.2fx' "$RATIO" "$CRATIO") (medians of $ROUNDS alternating pairs)"
}

echo "kernel $(uname -r), $(nproc) CPUs, median of $ROUNDS rounds; $(cut -d' ' -f1-3 /proc/loadavg) load average"
echo
echo "== exec loop: $N_EXEC x fork+exec+wait of a static 'true' =="
x_bare() { "$L" exec "$N_EXEC" "$W/true"; }
x_ll() { "$E" -- "$L" exec "$N_EXEC" "$W/true" 2>/dev/null; }
x_all() { SLIPWAY_ENFORCER_POLICY=$W/report-all.json "$E" -- "$L" exec "$N_EXEC" "$W/true" 2>/dev/null; }
x_sc() { SLIPWAY_ENFORCER_SIMULATE_NO_LANDLOCK=1 "$ROOT/build/enforcer-test" -- "$L" exec "$N_EXEC" "$W/true" 2>/dev/null; }
x_tini() { tini -s -- "$L" exec "$N_EXEC" "$W/true"; }
pair "bare" "under enforcer (Landlock gate)" x_bare x_ll
eb=$A_S ee=$B_S
pair "bare" "Landlock gate, report=all (every exec notified)" x_bare x_all
ea=$B_S eab=$A_S
pair "bare" "under enforcer (seccomp gate, fallback)" x_bare x_sc
es=$B_S esb=$A_S
if command -v tini >/dev/null 2>&1; then
	pair "bare" "under tini" x_bare x_tini
else
	echo "tini: not installed (apt-get install tini)"
fi
awk -v e="$ee" -v b="$eb" -v a="$ea" -v ab="$eab" -v s="$es" -v sb="$esb" -v n="$N_EXEC" 'BEGIN { printf "per exec: bare %.1f us; added: Landlock gate %+.1f us, report=all %+.1f us, seccomp gate %+.1f us\n", b / n * 1e6, (e - b) / n * 1e6, (a - ab) / n * 1e6, (s - sb) / n * 1e6 }'
# One process execve()s a missing path over and over: no fork, no new
# /proc/<pid>, no exec work, so this is the notification round trip (target
# blocks, supervisor wakes and checks, target wakes) plus the cheapest check.
N_RT=$((N_EXEC * 10))
nb=$(measure "$L" enoent "$N_RT")
ne=$(measure ES -- "$L" enoent "$N_RT")
awk -v e="$ne" -v b="$nb" -v n="$N_RT" 'BEGIN { printf "execve(missing path) x %d, no fork: bare %.1f us, seccomp gate %.1f us per call\n", n, b / n * 1e6, e / n * 1e6 }'
m_bare() { "$L" memfd "$N_MEMFD"; }
m_ll() { "$E" -- "$L" memfd "$N_MEMFD" 2>/dev/null; }
pair "memfd_create+close x $N_MEMFD, bare" "memfd_create+close, Landlock gate" m_bare m_ll
awk -v e="$B_S" -v b="$A_S" -v n="$N_MEMFD" 'BEGIN { printf "per memfd_create: bare %.1f us, Landlock gate %.1f us (one round trip)\n", b / n * 1e6, e / n * 1e6 }'

echo
echo "== syscall loops (no exec), no other seccomp filter =="
half=$((N_SYS / 2))
s_bare() { "$L" sys "$N_SYS"; }
s_ll() { "$E" -- "$L" sys "$N_SYS" 2>/dev/null; }
r_bare() { "$L" rw "$half"; }
r_ll() { "$E" -- "$L" rw "$half" 2>/dev/null; }
pair "getppid x $N_SYS, bare" "getppid x $N_SYS, under enforcer" s_bare s_ll
pair "write+read x $half, bare" "write+read x $half, under enforcer" r_bare r_ll

echo
echo "== same, under a pre-existing allow-all seccomp filter (container runtime) =="
ps_pre() { "$L" prefilter "$L" sys "$N_SYS"; }
ps_enf() { "$L" prefilter "$E" -- "$L" sys "$N_SYS" 2>/dev/null; }
pr_pre() { "$L" prefilter "$L" rw "$half"; }
pr_enf() { "$L" prefilter "$E" -- "$L" rw "$half" 2>/dev/null; }
px_pre() { "$L" prefilter "$L" exec "$N_EXEC" "$W/true"; }
px_enf() { "$L" prefilter "$E" -- "$L" exec "$N_EXEC" "$W/true" 2>/dev/null; }
pair "getppid, runtime filter only" "getppid, runtime filter + enforcer" ps_pre ps_enf
pair "write+read, runtime filter only" "write+read, runtime filter + enforcer" pr_pre pr_enf
pair "exec loop, runtime filter only" "exec loop, runtime filter + enforcer" px_pre px_enf
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
