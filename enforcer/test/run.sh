#!/bin/sh
# End-to-end tests for slipway-enforcer: builds everything, then runs the
# real binary against a throw-away manifest/policy in a temp dir.
# Needs Linux with seccomp user notification (>= 5.0; 6.x recommended).
# Last line of output: "N passed, M failed"; exit status 1 on any failure.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
B=$ROOT/build
H=$B/helpers

if ! make -C "$ROOT" -s build/enforcer build/enforcer-test build/unit \
	build/helpers/true build/helpers/xexec build/helpers/execloop >/dev/null; then
	echo "build failed"
	echo "0 passed, 1 failed"
	exit 1
fi
E=$B/enforcer
ET=$B/enforcer-test

W=$(mktemp -d /tmp/slipway-enforcer-test.XXXXXX)
# keep this path free of symlinks so canonical paths are predictable
W=$(cd "$W" && pwd -P)
cleanup() { rm -rf "$W"; }
trap cleanup EXIT INT TERM

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
not_ok() {
	fail=$((fail + 1))
	echo "not ok - $1"
	[ -f "$W/out" ] && sed 's/^/    stdout: /' "$W/out" | head -20
	[ -f "$W/err" ] && sed 's/^/    stderr: /' "$W/err" | head -20
	return 0
}
check() { # check NAME COND...
	name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}

# --- the "image": copies of static helpers plus some host binaries -------
mkdir -p "$W/img/bin" "$W/tmp"
cp "$H/true" "$W/img/bin/prog"
cp "$H/true" "$W/img/bin/prog2"
cp "$H/true" "$W/img/bin/prog3"
cp "$H/xexec" "$W/img/bin/xexec"
cp "$H/true" "$W/img/bin/noexec" && chmod 0644 "$W/img/bin/noexec"
cp "$H/true" "$W/img/bin/unlisted"
ln -s prog "$W/img/bin/link-to-prog"
printf '#!/bin/sh\necho script-ran\n' >"$W/img/bin/script.sh" && chmod 0755 "$W/img/bin/script.sh"
printf '#!/bin/sh\necho dropped-script-ran\n' >"$W/tmp/dropped.sh" && chmod 0755 "$W/tmp/dropped.sh"

pathof() { # first executable file named $1 on PATH (not a shell builtin)
	IFS=:
	for d in $PATH; do
		if [ -f "$d/$1" ] && [ -x "$d/$1" ]; then
			unset IFS
			echo "$d/$1"
			return 0
		fi
	done
	unset IFS
	return 1
}
entry() { # one manifest line for the file a path resolves to
	r=$(readlink -f "$1")
	printf '%s %s %04o %s\n' "$(sha256sum <"$r" | cut -c1-64)" "$(stat -c %s "$r")" \
		"0$(stat -c %a "$r")" "$r"
}
{
	echo "# test manifest"
	for b in sh env cat cp sleep chmod dd true mv rm ln; do
		p=$(pathof "$b") || { echo "missing host tool $b" >&2; exit 1; }
		entry "$p"
	done
	# the ELF interpreter: the kernel opens it for exec too, and Landlock checks that
	entry "$(readlink -f /lib64/ld-linux-x86-64.so.2)"
	for f in prog prog2 prog3 xexec noexec script.sh; do entry "$W/img/bin/$f"; done
} >"$W/manifest" || exit 1
echo '{}' >"$W/policy.json"
PROG=$W/img/bin/prog
XEXEC=$W/img/bin/xexec

# run [ENFORCER] -- CMD...: stdout/stderr/status into $W/out, $W/err, $rc
run_with() {
	bin=$1
	shift
	SLIPWAY_ENFORCER_MANIFEST=${MANIFEST:-$W/manifest} SLIPWAY_ENFORCER_POLICY=${POLICY:-$W/policy.json} \
		"$bin" -- "$@" >"$W/out" 2>"$W/err" </dev/null
	rc=$?
}
# Most checks below exercise the seccomp gate (the fallback, and audit mode):
# the test build with Landlock simulated away. The Landlock gate has its own
# section, run with the production binary.
run() { SLIPWAY_ENFORCER_SIMULATE_NO_LANDLOCK=1 run_with "$ET" "$@"; }
run_ll() { run_with "$E" "$@"; }
out_is() { [ "$(cat "$W/out")" = "$1" ]; }
err_has() { grep -qF -- "$1" "$W/err"; }
out_has() { grep -qF -- "$1" "$W/out"; }
rc_is() { [ "$rc" -eq "$1" ]; }
no_decisions() { ! grep -q '^slipway-enforcer: {' "$W/err"; }
# dec DECISION [PATH [RULE]]: a decision line with these fields ("" = any)
dec() {
	grep '^slipway-enforcer: {' "$W/err" | sed 's/^slipway-enforcer: //' |
		jq -en --arg d "$1" --arg p "${2:-}" --arg r "${3:-}" \
			'[inputs | select(.decision == $d and ($p == "" or .path == $p) and ($r == "" or .rule == $r))] | length > 0' >/dev/null
}
all() { for c in "$@"; do eval "$c" || return 1; done; }

# --- unit tests (manifest parser, policy reader, sha256) -----------------
"$B/unit" >"$W/unit.out" 2>&1
urc=$?
sed 's/^/    /' "$W/unit.out" | grep -v '^    unit:' || true
line=$(grep '^unit:' "$W/unit.out")
up=$(echo "$line" | sed -n 's/^unit: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
uf=$(echo "$line" | sed -n 's/^unit: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
if [ -n "$up" ] && [ -n "$uf" ] && [ "$urc" -eq 0 ] && [ "$uf" -eq 0 ]; then
	echo "ok - unit tests ($up checks)"
	pass=$((pass + up))
else
	echo "not ok - unit tests: ${line:-no summary} (exit $urc)"
	pass=$((pass + ${up:-0}))
	fail=$((fail + ${uf:-1}))
	[ "${uf:-0}" -eq 0 ] && fail=$((fail + 1))
fi

# --- allowed execution ----------------------------------------------------
run sh -c 'echo hello from the workload; cat /dev/null; exit 0'
check "allowed binary runs, output passes through, nothing logged" \
	all 'rc_is 0' 'out_is "hello from the workload"' no_decisions

run "$PROG"
check "listed static binary as CMD runs" all 'rc_is 0' no_decisions

run sh -c "cd '$W/img/bin' && ./prog && ./link-to-prog && '$W/img/bin/link-to-prog' && echo fine"
check "relative path and symlink to a listed file are allowed" all 'rc_is 0' 'out_is fine' no_decisions

run sh -c "'$W/img/bin/script.sh'"
check "listed #! script runs" all 'rc_is 0' 'out_is script-ran'

SLIPWAY_ENFORCER_LOG=all run sh -c "'$PROG'"
check "SLIPWAY_ENFORCER_LOG=all logs allowed execs" \
	all 'rc_is 0' "dec allowed '$(readlink -f "$(pathof sh)")'" "dec allowed '$PROG' manifest"

run env
check "SLIPWAY_ENFORCER_* variables are removed from the workload env" \
	all 'rc_is 0' '! grep -q SLIPWAY_ENFORCER_ "$W/out"' 'grep -q "^PATH=" "$W/out"'

# --- drift: enforce mode ------------------------------------------------
run sh -c "cp '$PROG' '$W/tmp/dropped' && '$W/tmp/dropped'; echo status=\$?"
check "binary copied at runtime into /tmp is denied (126, EPERM)" \
	all 'rc_is 0' 'out_is status=126' 'err_has "Operation not permitted"' \
	"dec denied '$W/tmp/dropped' not-in-manifest"

jq_ok() { # every decision line is a JSON object with the documented fields
	command -v jq >/dev/null 2>&1 || return 0
	grep '^slipway-enforcer: {' "$W/err" | sed 's/^slipway-enforcer: //' |
		jq -e 'select(.v != 1 or (.ts|test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$")|not)
			or (.decision|IN("allowed","denied","audited")|not) or (.path|type)!="string"
			or (.rule|type)!="string" or (.detail|type)!="string" or (.pid|type)!="number"
			or (.uid|type|IN("number","null")|not) or (.parent|type|IN("string","null")|not)
			or (.sha256|type|IN("string","null")|not) or (.gate|IN("landlock","seccomp")|not))' >/dev/null && return 1
	return 0
}
check "decision log lines are JSON with the documented fields (v 1)" jq_ok

run "$W/tmp/dropped"
check "unlisted CMD is refused: exit 126 with a hint" \
	all 'rc_is 126' 'err_has "cannot execute"' 'err_has "not part of the image manifest"' \
	'dec denied'

run sh -c "'$W/tmp/dropped.sh'; echo status=\$?"
check "unlisted #! script is denied" all 'out_is status=126' 'dec denied'

run sh -c "cp '$PROG' '$W/img/bin/prog-copy' && '$W/img/bin/prog-copy'; echo status=\$?"
check "copy of a listed binary at a new path is denied" \
	all 'out_is status=126' "dec denied '$W/img/bin/prog-copy' not-in-manifest"

# Modified in place: first prove the hash cache is in use (the file must be
# at least 2 s old to be cached), then change one byte, same size.
sleep 2
SLIPWAY_ENFORCER_LOG=all run sh -c "'$W/img/bin/prog2' && '$W/img/bin/prog2' &&
	printf 'X' | dd of='$W/img/bin/prog2' bs=1 seek=200 conv=notrunc 2>/dev/null &&
	'$W/img/bin/prog2'; echo status=\$?"
check "listed binary modified in place (same size) is denied, cache invalidated" \
	all 'out_is status=126' 'err_has "manifest (cached hash)"' \
	"dec denied '$W/img/bin/prog2' sha256-mismatch"

run sh -c "cp '$PROG' '$W/tmp/p' && cat '$W/tmp/p' '$W/tmp/p' > '$W/img/bin/prog2' && '$W/img/bin/prog2'; echo status=\$?"
check "listed binary replaced with different size is denied" \
	all 'out_is status=126' 'err_has "size"'

run sh -c "chmod 4755 '$PROG' && '$PROG'; echo status=\$?; chmod 0755 '$PROG'"
check "listed binary with changed mode bits is denied" \
	all 'out_is status=126' 'err_has "mode 4755 differs from manifest 0755"'

# --- exec paths a shell cannot produce (test/helpers/xexec.c) ------------
run "$XEXEC" memfd "$PROG"
check "memfd_create + execveat(AT_EMPTY_PATH) is denied" \
	all 'rc_is 126' 'err_has "Operation not permitted"' 'err_has "fileless execution"'

run "$XEXEC" fdexec "$W/tmp/dropped"
check "execveat(AT_EMPTY_PATH) on an unlisted file is denied" all 'rc_is 126' 'err_has "not in manifest"'

run "$XEXEC" fdexec "$PROG"
check "execveat(AT_EMPTY_PATH) on a listed file is allowed (fexecve)" all 'rc_is 0' no_decisions

run "$XEXEC" dirfd "$W/img/bin" prog
check "execveat(dirfd, relative name) of a listed file is allowed" all 'rc_is 0' no_decisions

run "$XEXEC" dirfd "$W/tmp" dropped
check "execveat(dirfd, relative name) of an unlisted file is denied" all 'rc_is 126' 'err_has "not in manifest"'

run "$XEXEC" pageend "$PROG"
check "path string ending just before an unmapped page is read correctly" all 'rc_is 0' no_decisions

run "$XEXEC" pagecross "$PROG"
check "path string across a page boundary is read whole (listed: allowed)" all 'rc_is 0' no_decisions

run "$XEXEC" pagecross "$W/tmp/dropped"
check "path string across a page boundary is read whole (unlisted: denied)" \
	all 'rc_is 126' "err_has '\"path\":\"$W/tmp/dropped\"'" 'err_has "not in manifest"'

run "$XEXEC" procfd "$PROG"
check "exec through /proc/self/fd/N (magic link) is denied" all 'rc_is 126' 'dec denied'

# Kernels without IA32 emulation (ia32_emulation=0) answer int 0x80 with SIGSEGV.
INT80=
"$XEXEC" int80 /nonexistent >/dev/null 2>&1
[ $? -eq 127 ] && INT80=1
if [ -n "$INT80" ]; then
	run "$XEXEC" int80 "$PROG"
	check "i386 execve via int 0x80 is refused by the filter" all 'rc_is 126' 'err_has "Operation not permitted"'
else
	echo "skip - int 0x80 tests (this kernel has no IA32 emulation)"
fi

run "$XEXEC" listener
check "workload cannot install a nested seccomp listener" all 'rc_is 126' 'err_has "Operation not permitted"'

# --- a workload that chroot()s: paths resolve against its own root --------
if [ "$(id -u)" -eq 0 ] && CHROOT=$(pathof chroot); then
	C=$W/jail
	mkdir -p "$C/sub"
	cp "$H/true" "$C/prog"
	cp "$H/xexec" "$C/xexec"
	cp "$H/true" "$C/unlisted"
	{ cat "$W/manifest"; entry "$C/prog"; entry "$C/xexec"; entry "$CHROOT"; } >"$W/jail-manifest"
	MANIFEST=$W/jail-manifest run "$CHROOT" "$C" /prog
	check "chroot: listed file (absolute path inside the jail) is allowed" all 'rc_is 0' no_decisions
	MANIFEST=$W/jail-manifest run "$CHROOT" "$C" /unlisted
	check "chroot: unlisted file is denied under its real path" \
		all 'rc_is 126' "err_has '\"path\":\"$C/unlisted\"'"
	MANIFEST=$W/jail-manifest run "$CHROOT" "$C" /xexec dirfd /sub ../prog
	check "chroot: relative execveat (with ..) of a listed file is allowed" all 'rc_is 0' no_decisions
	MANIFEST=$W/jail-manifest run "$CHROOT" "$C" /xexec dirfd / unlisted
	check "chroot: relative execveat of an unlisted file is denied" all 'rc_is 126' 'err_has "not in manifest"'
else
	echo "skip - chroot tests (need root and chroot(8))"
fi

# --- a workload in a mount namespace of its own: names prove nothing there -
if [ "$(id -u)" -eq 0 ] && UNSHARE=$(pathof unshare) && MOUNT=$(pathof mount); then
	{ cat "$W/manifest"; entry "$UNSHARE"; entry "$MOUNT"; } >"$W/ns-manifest"
	MANIFEST=$W/ns-manifest run "$UNSHARE" -m --propagation private sh -c \
		"mount --bind '$W/img/bin/unlisted' '$W/img/bin/prog2' || exit 9
		'$W/img/bin/prog2'; a=\$?; '$PROG'; echo \"a=\$a b=\$?\""
	check "own mount namespace: unlisted file bind-mounted over a listed path is denied" \
		all 'out_is "a=126 b=0"' 'err_has "path does not name this file"'
else
	echo "skip - mount namespace test (needs root, unshare(1) and mount(8))"
fi

# --- audit mode and allow list -------------------------------------------
echo '{"mode":"audit"}' >"$W/audit.json"
POLICY=$W/audit.json run sh -c "'$W/tmp/dropped'; echo status=\$?"
check "audit mode: unlisted binary runs but is logged as audit" \
	all 'out_is status=0' "dec audited '$W/tmp/dropped' not-in-manifest"

POLICY=$W/audit.json run "$XEXEC" memfd "$PROG"
check "audit mode: memfd exec runs but is logged" all 'rc_is 0' 'dec audited "" fileless'

printf '{"allow":["%s/tmp/"],"future":{"x":[1,2]}}\n' "$W" >"$W/allow.json"
POLICY=$W/allow.json run sh -c "'$W/tmp/dropped'; echo status=\$?"
check "policy allow list (directory prefix) permits unlisted path" all 'out_is status=0' no_decisions

printf '{"allow":["%s/tmp/dropped"]}\n' "$W" >"$W/allow1.json"
POLICY=$W/allow1.json run sh -c "'$W/tmp/dropped' && cp '$PROG' '$W/tmp/other' && '$W/tmp/other'; echo status=\$?"
check "policy allow list (exact path) permits only that path" \
	all 'out_is status=126' "err_has '\"path\":\"$W/tmp/other\"'"

POLICY=$W/no-such-policy.json run sh -c "'$W/tmp/dropped'; echo status=\$?"
check "missing policy file means enforce defaults" all 'out_is status=126'

# --- exit codes --------------------------------------------------------------
run sh -c 'exit 3'
check "exit status is passed through (3)" rc_is 3
run sh -c 'kill -KILL $$'
check "killed by SIGKILL gives 137" rc_is 137
run /nonexistent/command
check "missing command (absolute) gives 127" all 'rc_is 127' 'err_has "No such file or directory"'
run no-such-command-slipway
check "missing command (PATH search) gives 127" rc_is 127
run "$W/img/bin/noexec"
check "non-executable listed file gives 126" all 'rc_is 126' 'err_has "Permission denied"'
run "$W/img"
check "directory as command gives 126" rc_is 126
SLIPWAY_ENFORCER_MANIFEST=$W/manifest "$E" >"$W/out" 2>"$W/err"
rc=$?
check "usage error without a command gives 2" all 'rc_is 2' 'err_has usage'

# --- configuration errors fail closed -----------------------------------------
{ echo "# ok"; echo "0000 12 0755 /bin/x"; } >"$W/bad-manifest"
MANIFEST=$W/bad-manifest run true
check "malformed manifest: exit 126 naming the line" \
	all 'rc_is 126' 'err_has "malformed manifest"' 'err_has "line 2"' 'out_is ""'
printf '%s 1 0755 /bin/x' "$(printf '%064d' 0)" >"$W/trunc-manifest"
MANIFEST=$W/trunc-manifest run true
check "truncated manifest (no final newline) is rejected" all 'rc_is 126' 'err_has "missing final newline"'
MANIFEST=$W/does-not-exist run true
check "missing manifest: exit 126 with a hint (fail closed)" \
	all 'rc_is 126' 'err_has "cannot read manifest"' 'err_has "hint:"'
echo '{"mode":"enforce",}' >"$W/bad.json"
POLICY=$W/bad.json run true
check "malformed policy: exit 126 with a clear message" \
	all 'rc_is 126' 'err_has "malformed policy"' 'err_has "at byte"'
echo '{"mode":"permissive"}' >"$W/bad2.json"
POLICY=$W/bad2.json run true
check "policy with an unknown mode is rejected" all 'rc_is 126' 'err_has "\"mode\" must be"'

# --- gate selection: Landlock or seccomp unavailable (simulated; test build only) ---
SLIPWAY_ENFORCER_SIMULATE_UNSUPPORTED=1 run_with "$ET" sh -c 'echo should-not-run'
check "no seccomp: exit 126, workload not started" \
	all 'rc_is 126' 'out_is ""' 'err_has "seccomp user notification unavailable"' 'err_has "hint:"'
run sh -c "'$PROG'; '$W/tmp/dropped'; echo status=\$?"
check "no Landlock + onUnsupported fallback (default): seccomp gate, logged at start" \
	all 'out_is status=126' 'err_has "Landlock unavailable"' \
	'err_has "exec gate: seccomp user notification (policy onUnsupported=fallback)"' \
	"dec denied '$W/tmp/dropped' not-in-manifest"
echo '{"onUnsupported":"fail"}' >"$W/unsup.json"
POLICY=$W/unsup.json run sh -c 'echo should-not-run'
check "no Landlock + onUnsupported fail: exit 126, workload not started" \
	all 'rc_is 126' 'out_is ""' 'err_has "policy onUnsupported=fail"' 'err_has "hint:"'
SLIPWAY_ENFORCER_SIMULATE_NO_LANDLOCK=1 POLICY=$W/unsup.json run_ll sh -c "'$W/tmp/dropped'; echo status=\$?"
check "production build ignores the simulation variable (Landlock gate)" \
	all 'out_is status=126' 'err_has "exec gate: landlock"'
POLICY=$W/audit.json run_ll sh -c "'$W/tmp/dropped'; echo status=\$?"
check "audit mode uses the seccomp gate, which sees every exec" \
	all 'out_is status=0' 'err_has "audit mode"' "dec audited '$W/tmp/dropped' not-in-manifest"

# --- path read through /proc/<pid>/mem (simulated; test build only) -----------
# Docker's default seccomp profile refuses process_vm_readv without CAP_SYS_PTRACE.
SLIPWAY_ENFORCER_SIMULATE_NO_VM_READV=1 run sh -c "'$PROG'; '$W/tmp/dropped'; echo status=\$?"
check "without process_vm_readv: listed allowed, unlisted denied" \
	all 'out_is status=126' "dec denied '$W/tmp/dropped' not-in-manifest"
SLIPWAY_ENFORCER_SIMULATE_NO_VM_READV=1 run "$XEXEC" pageend "$PROG"
check "without process_vm_readv: path ending before an unmapped page" all 'rc_is 0' no_decisions
SLIPWAY_ENFORCER_SIMULATE_NO_VM_READV=1 run "$XEXEC" pagecross "$W/tmp/dropped"
check "without process_vm_readv: path across a page boundary" \
	all 'rc_is 126' "err_has '\"path\":\"$W/tmp/dropped\"'"

# --- the Landlock gate (production build) ------------------------------------
nodec() { ! grep -q '^slipway-enforcer: {' "$W/err"; }
run_ll sh -c "'$PROG' && cd '$W/img/bin' && ./prog && ./link-to-prog && '$W/img/bin/script.sh' && echo fine"
check "landlock: listed binaries, relative path, symlink and listed script run; gate logged" \
	all 'rc_is 0' 'out_is "script-ran
fine"' 'err_has "exec gate: landlock (ABI"' nodec

run_ll sh -c "'$W/tmp/dropped'; echo status=\$?"
check "landlock: dropped binary is refused by the kernel (126, EACCES)" \
	all 'out_is status=126' 'err_has "Permission denied"'

run_ll sh -c "cd '$W/tmp' && ./dropped; echo status=\$?"
check "landlock: dropped binary by relative path is refused" all 'out_is status=126'

run_ll sh -c "cp '$PROG' '$W/tmp/copy' && '$W/tmp/copy'; echo status=\$?"
check "landlock: copy of an image binary is refused" all 'out_is status=126'

before=$(sha256sum <"$W/img/bin/prog3")
run_ll sh -c "printf X | dd of='$W/img/bin/prog3' bs=1 seek=200 conv=notrunc 2>/dev/null; echo w=\$?
	cat /dev/null > '$W/img/bin/prog3'; echo t=\$?; '$W/img/bin/prog3'; echo x=\$?"
check "landlock: in-place modification and truncation of a listed binary are refused" \
	all 'out_is "w=1
t=2
x=0"' '[ "$(sha256sum <"$W/img/bin/prog3")" = "$before" ]'

run_ll sh -c "cp '$PROG' '$W/tmp/evil'; mv '$W/tmp/evil' '$W/img/bin/prog3'; echo m=\$?
	cp '$PROG' '$W/img/bin/new'; echo c=\$?; rm -f '$W/img/bin/prog3'; echo r=\$?"
check "landlock: a listed binary cannot be replaced by rename, removed, or joined by new files" \
	all 'out_is "m=1
c=1
r=1"' '[ "$(sha256sum <"$W/img/bin/prog3")" = "$before" ]'

run_ll sh -c "ln '$W/img/bin/prog3' '$W/tmp/hl'; echo a=\$?; cp '$PROG' '$W/tmp/evil2' &&
	ln '$W/tmp/evil2' '$W/img/bin/hl'; echo b=\$?; [ -e '$W/tmp/hl' ] || [ -e '$W/img/bin/hl' ]; echo e=\$?"
check "landlock: hard links of a listed binary into a writable directory (and back) are refused" \
	all 'out_is "a=1
b=1
e=1"' 'err_has "cross-device link"'

run_ll "$XEXEC" memfd "$PROG"
check "landlock: memfd_create + execveat(AT_EMPTY_PATH) is refused and reported (fileless, sha256)" \
	all 'rc_is 126' 'err_has "execveat(memfd): Permission denied"' 'dec denied "" fileless' jq_ok \
	"grep '^slipway-enforcer: {' '$W/err' | grep -q '\"syscall\":\"execveat\",.*\"sha256\":\"$(sha256sum <"$PROG" | cut -c1-64)\",\"pid\":[0-9]*,\"uid\":$(id -u),\"parent\":\"xexec\"'"
run_ll "$XEXEC" fdexec "$W/tmp/dropped"
check "landlock: execveat(AT_EMPTY_PATH) of a dropped binary is refused and reported" \
	all 'rc_is 126' 'err_has "execveat(fd): Permission denied"' "dec denied '$W/tmp/dropped' not-in-manifest"
run_ll "$XEXEC" fdexec "$PROG"
check "landlock: execveat(AT_EMPTY_PATH) of a listed binary runs, nothing reported (fexecve)" \
	all 'rc_is 0' nodec
run_ll "$XEXEC" memfdproc "$PROG"
check "landlock: memfd exec through /proc/self/fd/N is refused" \
	all 'rc_is 126' 'err_has "execve(/proc/self/fd/N of a memfd): Permission denied"'
run_ll "$XEXEC" memfdchmod "$PROG"
check "landlock: exec bits cannot be added to a memfd (F_SEAL_EXEC)" \
	all 'rc_is 126' 'err_has "fchmod(memfd, 0755): Operation not permitted"'
run_ll "$XEXEC" memfdx "$PROG"
check "landlock: memfd_create(MFD_EXEC) is refused and logged" \
	all 'rc_is 126' 'err_has "memfd_create: Operation not permitted"' 'dec denied "memfd:payload" memfd-exec' jq_ok
if [ -n "$INT80" ]; then
	run_ll "$XEXEC" int80 "$W/tmp/dropped"
	check "landlock: i386 execve of a dropped binary is refused too" all 'rc_is 126'
fi
run_ll "$XEXEC" listener
check "landlock: workload cannot install a nested seccomp listener" \
	all 'rc_is 126' 'err_has "Operation not permitted"'

run_ll sh "$W/tmp/dropped.sh"
check "landlock: an interpreter running a dropped script is allowed (path-based gate)" \
	all 'rc_is 0' 'out_is dropped-script-ran'
run_ll sh -c "'$W/tmp/dropped.sh'; echo status=\$?"
check "landlock: a dropped #! script executed directly is refused" all 'out_is status=126'

run_ll sh -c "echo hi > '$W/tmp/f' && cat '$W/tmp/f' && rm '$W/tmp/f' && echo x >> '$W/policy.json'; echo p=\$?"
check "landlock: the app writes where no executable lives; the enforcer's files are protected" \
	all 'out_is "hi
p=2"'

run_ll "$W/tmp/dropped"
check "landlock: unlisted CMD is refused (126) and logged with sha256, uid, parent" \
	all 'rc_is 126' 'err_has "not part of the image manifest"' \
	"dec denied '$W/tmp/dropped' not-in-manifest" jq_ok \
	"grep '^slipway-enforcer: {' '$W/err' | grep -q '\"sha256\":\"$(sha256sum <"$W/tmp/dropped" | cut -c1-64)\",\"pid\":[0-9]*,\"uid\":$(id -u),\"parent\":\"enforcer\"'"

POLICY=$W/allow.json run_ll sh -c "'$W/tmp/dropped'; echo status=\$?"
check "landlock: policy allow list (directory) permits unlisted binaries there" all 'out_is status=0'

# --- the Landlock gate with "report": "all": every denied exec is reported ---------
echo '{"report":"all"}' >"$W/report-all.json"
ndec() { [ "$(grep -c '^slipway-enforcer: {' "$W/err")" -eq "$1" ]; }
POLICY=$W/report-all.json run_ll sh -c "'$PROG' && cd '$W/img/bin' && ./prog && ./link-to-prog && '$W/img/bin/script.sh' && echo fine"
check "report all: listed binaries, relative path, symlink and listed script run, nothing reported" \
	all 'rc_is 0' 'out_is "script-ran
fine"' 'err_has "denials reported: every exec"' nodec
POLICY=$W/report-all.json run_ll sh -c "'$W/tmp/dropped'; echo status=\$?"
check "report all: dropped binary is refused (EACCES) and reported with sha256, uid, parent" \
	all 'out_is status=126' 'err_has "Permission denied"' "dec denied '$W/tmp/dropped' not-in-manifest" jq_ok \
	"grep '^slipway-enforcer: {' '$W/err' | grep -q '\"gate\":\"landlock\",\"syscall\":\"execve\",.*\"sha256\":\"$(sha256sum <"$W/tmp/dropped" | cut -c1-64)\",\"pid\":[0-9]*,\"uid\":$(id -u),\"parent\":\"sh\"'"
POLICY=$W/report-all.json run_ll sh -c "cd '$W/tmp' && ./dropped; echo status=\$?"
check "report all: dropped binary by relative path is refused and reported" \
	all 'out_is status=126' "dec denied '$W/tmp/dropped' not-in-manifest"
POLICY=$W/report-all.json run_ll sh -c "cp '$PROG' '$W/tmp/copy2' && '$W/tmp/copy2'; echo status=\$?"
check "report all: copy of an image binary is refused and reported" \
	all 'out_is status=126' "dec denied '$W/tmp/copy2' not-in-manifest"
POLICY=$W/report-all.json run_ll sh -c "'$W/tmp/dropped.sh'; echo status=\$?"
check "report all: a dropped #! script executed directly is refused and reported" \
	all 'out_is status=126' "dec denied '$W/tmp/dropped.sh' not-in-manifest"
POLICY=$W/report-all.json run_ll "$XEXEC" memfd "$PROG"
check "report all: memfd + execveat(AT_EMPTY_PATH) is refused and reported" \
	all 'rc_is 126' 'err_has "Permission denied"' 'dec denied "" fileless'
POLICY=$W/report-all.json run_ll "$XEXEC" memfdproc "$PROG"
check "report all: memfd exec through /proc/self/fd/N is refused (Landlock decides magic links, unreported)" \
	all 'rc_is 126' 'err_has "Permission denied"' nodec
POLICY=$W/report-all.json run_ll "$XEXEC" procfd "$PROG"
check "report all: a listed binary run through /proc/self/fd/N runs (as busybox runs applets via /proc/self/exe)" \
	all 'rc_is 0' nodec
POLICY=$W/report-all.json run_ll "$XEXEC" memfdx "$PROG"
check "report all: memfd_create(MFD_EXEC) is refused and reported" \
	all 'rc_is 126' 'dec denied "memfd:payload" memfd-exec'
POLICY=$W/report-all.json run_ll "$XEXEC" dirfd "$W/tmp" dropped
check "report all: execveat(dirfd, name) of a dropped binary is refused and reported" \
	all 'rc_is 126' "dec denied '$W/tmp/dropped' not-in-manifest"
POLICY=$W/report-all.json run_ll sh "$W/tmp/dropped.sh"
check "report all: an interpreter running a dropped script is allowed and not reported (path-based gate)" \
	all 'rc_is 0' 'out_is dropped-script-ran' nodec
POLICY=$W/report-all.json run_ll "$W/tmp/dropped"
check "report all: unlisted CMD is refused (126) and reported once" \
	all 'rc_is 126' 'err_has "not part of the image manifest"' "dec denied '$W/tmp/dropped' not-in-manifest" 'ndec 1'
POLICY=$W/report-all.json run_ll "$XEXEC" listener
check "report all: workload cannot install a nested seccomp listener" \
	all 'rc_is 126' 'err_has "Operation not permitted"'

if [ "$(id -u)" -eq 0 ] && [ -n "${CHROOT:-}" ]; then
	MANIFEST=$W/jail-manifest run_ll "$CHROOT" "$C" /prog
	check "landlock: chroot, listed file is allowed" all 'rc_is 0'
	MANIFEST=$W/jail-manifest run_ll "$CHROOT" "$C" /xexec dirfd / unlisted
	check "landlock: chroot, unlisted file is refused" all 'rc_is 126'
fi

# --- PID 1 duties ---------------------------------------------------------------
wait_for() { # wait_for FILE TEXT: up to 5 s
	i=0
	while [ $i -lt 100 ]; do
		grep -qF "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}
SLIPWAY_ENFORCER_MANIFEST=$W/manifest SLIPWAY_ENFORCER_POLICY=$W/policy.json \
	"$E" -- sh -c 'trap "exit 42" TERM; echo ready; while :; do sleep 0.05; done' >"$W/out" 2>"$W/err" &
epid=$!
wait_for "$W/out" ready
kill -TERM "$epid"
wait "$epid"
rc=$?
check "SIGTERM to the enforcer reaches the workload (trap exits 42)" rc_is 42

SLIPWAY_ENFORCER_MANIFEST=$W/manifest SLIPWAY_ENFORCER_POLICY=$W/policy.json \
	"$E" -- sh -c 'trap "exit 7" USR1; echo ready; while :; do sleep 0.05; done' >"$W/out" 2>"$W/err" &
epid=$!
wait_for "$W/out" ready
kill -USR1 "$epid"
wait "$epid"
rc=$?
check "SIGUSR1 is forwarded too" rc_is 7

children_of() { # prints "<pid> <state>" for each child of $1, from /proc
	for f in /proc/[0-9]*/stat; do
		s=$(cat "$f" 2>/dev/null) || continue
		rest=${s##*) }
		# shellcheck disable=SC2086
		set -- $rest
		[ "$2" = "$want_ppid" ] && echo "${f#/proc/} $1"
	done
	return 0
}
SLIPWAY_ENFORCER_MANIFEST=$W/manifest SLIPWAY_ENFORCER_POLICY=$W/policy.json \
	"$E" -- sh -c 'sh -c "sleep 4 & sleep 4 & sleep 4 &"; echo spawned; sleep 60' >"$W/out" 2>"$W/err" &
epid=$!
want_ppid=$epid
wait_for "$W/out" spawned
before=$(children_of | wc -l)
# The orphans exit after 4 s (a scan of /proc under load can take over a second); give them, and the
# reaping, up to 30 s rather than a fixed sleep.
i=0
while [ $i -lt 300 ] && [ "$(children_of | wc -l)" -gt 1 ]; do
	sleep 0.1
	i=$((i + 1))
done
zombies=$(children_of | grep -c ' Z$')
after=$(children_of | wc -l)
kill -TERM "$epid" 2>/dev/null
wait "$epid"
check "orphans are re-parented to the enforcer (subreaper): $before children" [ "$before" -ge 4 ]
check "orphans are reaped: $zombies zombies, $after child left" all '[ "$zombies" -eq 0 ]' '[ "$after" -eq 1 ]'

SLIPWAY_ENFORCER_MANIFEST=$W/manifest SLIPWAY_ENFORCER_POLICY=$W/policy.json \
	"$E" -- sh -c 'echo ready; sleep 5' >"$W/out" 2>"$W/err" &
epid=$!
wait_for "$W/out" ready
kill -TERM "$epid"
wait "$epid"
rc=$?
check "workload killed by a forwarded SIGTERM gives 143" rc_is 143

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
