#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# khv-top end to end against the simulated device (make check): SIM is
# khv-top's own main() linked with tests/sim_khv.c, whose ioctl() plays
# /dev/khv (the scenario: sim_khv.h, sim_default()); /dev/null stands for
# the device node.  Checks the batch lines, the exit statuses, VMs that
# come and go, the filters, and the live view once under a pseudo-terminal.
#
# Usage: e2e.sh SIM OUTDIR
set -uo pipefail

SIM=$1
OUT=$2
mkdir -p "$OUT"
pass=0
fail=0

ok() {
	pass=$((pass + 1))
}

bad() {
	fail=$((fail + 1))
	echo "not ok: $*"
}

# expect STATUS NAME -- command...: runs it, output in $OUT/NAME.{out,err}
expect() {
	local want=$1 name=$2 rc
	shift 3
	"$@" >"$OUT/$name.out" 2>"$OUT/$name.err"
	rc=$?
	if [ "$rc" = "$want" ]; then
		ok
	else
		bad "$name: exit status $rc, not $want"
		sed 's/^/#   /' "$OUT/$name.err" | head -20
	fi
}

# has NAME REGEX: a line of $OUT/NAME.out matches
has() {
	if grep -Eq -- "$2" "$OUT/$1.out"; then ok; else bad "$1: no line matches '$2'"; fi
}

hasnt() {
	if grep -Eq -- "$2" "$OUT/$1.out"; then bad "$1: a line matches '$2'"; else ok; fi
}

err_has() {
	if grep -Eq -- "$2" "$OUT/$1.err"; then ok; else bad "$1: stderr lacks '$2'"; fi
}

count() {
	grep -Ec -- "$2" "$OUT/$1.out"
}

# field NAME LINE_REGEX KEY: KEY's value on the first matching line
field() {
	grep -E -- "$2" "$OUT/$1.out" | head -1 | tr ' ' '\n' | sed -n "s/^$3=//p"
}

# within NAME VALUE LOW HIGH
within() {
	if awk -v v="$2" -v lo="$3" -v hi="$4" 'BEGIN { exit !(v != "" && v + 0 >= lo && v + 0 <= hi) }'
	then ok; else bad "$1: '$2' is not within $3..$4"; fi
}

# Every line: a known record, then key=value words without spaces in values.
wellformed() {
	if awk '
		$1 !~ /^(sample|vm|exit|counter)$/ { print "record: " $0; bad = 1 }
		{ for (i = 2; i <= NF; i++) if ($i !~ /^[a-z0-9_]+=[^= ]+$/) { print "word: " $i; bad = 1 } }
		END { exit bad }' "$OUT/$1.out"; then ok; else bad "$1: malformed lines"; fi
}

D=--device=/dev/null

# ---- usage and failures ----------------------------------------------------
expect 0 help -- "$SIM" --help
has help '^Usage: khv-top'
has help 'exit iter=N id=ID name=REASON'
expect 0 version -- "$SIM" --version
has version '^khv-top [0-9]'
expect 1 usage -- "$SIM" --batch --frobnicate
err_has usage 'unknown option --frobnicate'
expect 1 usage2 -- "$SIM" --vm=1 --pid=2
expect 2 nodev -- "$SIM" --batch --device=/nonexistent/khv
err_has nodev '/nonexistent/khv: '
expect 2 nostats -- env KHV_SIM=nostats "$SIM" --batch "$D"
err_has nostats 'KHV_CAP_STATS_FD'
expect 4 listfail -- env KHV_SIM=listfail "$SIM" --batch --once "$D"
err_has listfail 'reading the VMs'
expect 3 novm -- "$SIM" --batch --once --vm=99 "$D"
err_has novm 'no VM with id 99'
expect 3 nopid -- "$SIM" --batch --once --pid=1 "$D"

# ---- one read: figures since each VM started -------------------------------
expect 0 once -- "$SIM" --batch --once "$D"
wellformed once
has once '^sample iter=1 vms=3 time=[0-9]+\.[0-9]{3}$'
has once '^vm iter=1 id=1 pid=4242 comm=khv-run state=running vcpus=2 window=total secs=(9|10)\.[0-9]{3} rate=[0-9.]+ delta=115 count=115 guest=[0-9.]+ khv=[0-9.]+ user=[0-9.]+ halt=[0-9.]+$'
# 100 in the kernel in [1024, 2048), 10 through userspace in [2048, 4096), at 1 GHz.
has once '^exit iter=1 id=1 name=svm_ioio code=0x7b rate=[0-9.]+ delta=110 count=110 p50_us=1\.587 p99_us=3\.871 kernel_p50_us=1\.536 kernel_p99_us=2\.038 user_p50_us=3\.072 user_p99_us=4\.076$'
has once '^exit iter=1 id=1 name=svm_hlt code=0x78 .* count=5 p50_us=98\.304 p99_us=130\.417 .* user_p50_us=- user_p99_us=-$'
has once '^counter iter=1 id=1 name=user_exit/io unit=none kind=cumulative rate=[0-9.]+ delta=10 value=10$'
has once '^counter iter=1 id=1 name=mmu/pages_pinned unit=pages kind=instant rate=- delta=- value=1001$'
has once '^vm iter=1 id=2 pid=4243 comm=odd\\x20name\\x01 state=running vcpus=1 window=total'
has once '^vm iter=1 id=3 pid=4244 comm=other-user state=denied vcpus=1 window=- secs=- rate=- delta=- count=- guest=- khv=- user=- halt=-$'
hasnt once ' id=4 '
hasnt once 'svm_cpuid'
# Exit reasons by rate: ioio, then hlt.
if [ "$(grep '^exit iter=1 id=1 ' "$OUT/once.out" | cut -d' ' -f4 | tr '\n' ' ')" = "name=svm_ioio name=svm_hlt " ]
then ok; else bad "once: exit lines not by rate"; fi
v=$(field once '^vm iter=1 id=1 ' guest)
within once-guest "$v" 48 52
v=$(field once '^vm iter=1 id=1 ' khv)
within once-khv "$v" 8 12

expect 0 byname -- "$SIM" --batch --once --sort=name "$D"
if [ "$(grep '^exit iter=1 id=1 ' "$OUT/byname.out" | cut -d' ' -f4 | tr '\n' ' ')" = "name=svm_hlt name=svm_ioio " ]
then ok; else bad "byname: exit lines not by name"; fi

# ---- four reads 0.2 s apart -----------------------------------------------
start=$(date +%s%N)
expect 0 loop -- "$SIM" --batch --iterations=4 --interval=0.2 "$D"
took=$(( ($(date +%s%N) - start) / 1000000 ))
within loop-ms "$took" 580 5000
wellformed loop
[ "$(count loop '^sample ')" = 4 ] && ok || bad "loop: not 4 samples"
has loop '^sample iter=2 vms=4 '
# Read 2: the interval's work, VM 5 (born) from its start.
has loop '^vm iter=2 id=1 pid=4242 comm=khv-run state=running vcpus=2 window=interval secs=0\.[12][0-9]{2} rate=[0-9.]+ delta=116 count=231 '
has loop '^exit iter=2 id=1 name=svm_ioio code=0x7b rate=[0-9.]+ delta=110 count=220 p50_us=1\.587 p99_us=3\.871 '
has loop '^exit iter=2 id=1 name=svm_npf code=0x400 rate=[0-9.]+ delta=1 count=1 p50_us=0\.[0-9]{3} '
has loop '^vm iter=2 id=5 pid=4242 comm=khv-run state=running vcpus=1 window=total .* delta=116 count=116 '
v=$(field loop '^exit iter=2 id=1 name=svm_ioio ' rate)
within loop-rate "$v" 300 1000
v=$(field loop '^vm iter=3 id=1 ' guest)
within loop-guest "$v" 40 60
v=$(field loop '^vm iter=3 id=1 ' halt)
within loop-halt "$v" 7 13
# Read 3: VM 2 gone, with its last figures; read 4: no more.
has loop '^vm iter=3 id=2 pid=4243 comm=odd\\x20name\\x01 state=gone vcpus=1 window=interval secs=[0-9.]+ rate=0\.0 delta=0 count=231 '
has loop '^exit iter=3 id=2 name=svm_ioio .* delta=0 count=220 p50_us=- p99_us=- '
hasnt loop '^vm iter=4 id=2 '
has loop '^sample iter=4 vms=3 '

# ---- filters ----------------------------------------------------------------
# --vm: stops once its VM is gone and shown so, before the 10 reads.
expect 0 vm2 -- "$SIM" --batch --iterations=10 --interval=0.05 --vm=2 "$D"
[ "$(count vm2 '^sample ')" = 3 ] && ok || bad "vm2: not 3 samples"
[ "$(count vm2 '^vm ')" = 3 ] && ok || bad "vm2: not 3 vm lines"
hasnt vm2 ' id=1 '
has vm2 '^vm iter=3 id=2 .* state=gone '
expect 0 pid -- "$SIM" --batch -n 2 -d 0.05 --pid=4242 "$D"
[ "$(count pid '^vm iter=2 ')" = 2 ] && ok || bad "pid: not VMs 1 and 5"
hasnt pid ' id=2 '

# ---- a file khv-top cannot read ---------------------------------------------
expect 0 corrupt -- env KHV_SIM=corrupt "$SIM" --batch --once "$D"
has corrupt '^vm iter=1 id=1 pid=4242 comm=khv-run state=error vcpus=2 window=- '
has corrupt '^vm iter=1 id=2 .* state=running '

# ---- the live view, under a pseudo-terminal ---------------------------------
if command -v script >/dev/null 2>&1; then
	(sleep 1.5; printf 'n'; sleep 0.3; printf 'a'; sleep 0.3; printf 't'; sleep 0.3; printf 'q') |
		TERM=xterm timeout 20 script -qfec "$SIM $D --interval=0.2" "$OUT/ui.out" \
		>/dev/null 2>"$OUT/ui.err"
	rc=$?
	if [ "$rc" = 0 ]; then ok; else bad "live view: exit status $rc"; sed 's/^/#   /' "$OUT/ui.err" | head; fi
	# ncurses rewrites only what changed: look for the changed parts.
	for want in 'khv-top - 3 VMs' 'EXIT REASON' 'svm_ioio' 'all VMs' 'COUNTER' 'q quit'; do
		if grep -aq -- "$want" "$OUT/ui.out"; then ok; else bad "live view: no '$want' on the screen"; fi
	done
	if grep -aq 'ERROR: AddressSanitizer\|runtime error' "$OUT/ui.out" "$OUT/ui.err"; then
		bad "live view: a sanitizer report"
	else
		ok
	fi
	expect 3 ui-novm -- env TERM=xterm timeout 20 script -qfec "$SIM $D --vm=99" /dev/null
else
	echo "# no script(1): the live view is not tried"
fi

echo "e2e: $pass passed, $fail failed"
[ "$fail" = 0 ]
