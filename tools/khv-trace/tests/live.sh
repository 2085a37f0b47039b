#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# khv-trace record for real, on a machine without khv (make check-live):
# uprobes named khv:khv_entry, khv:khv_exit, khv:khv_userspace_exit and
# khv:khv_halt, with core/trace.h's fields, on the functions of a fake VMM
# (tests/fake_khv.c), so that record's whole path runs against the kernel's
# tracefs: its own instance, the trace clock, set_event_pid and event-fork
# (the fake's vCPU threads start after the recording), the raw per-CPU
# buffers, the formats read by name (a uprobe's differ from a tracepoint's:
# __probe_ip first), the per-CPU stats, SIGINT and SIGTERM, a process that
# exits, a ring buffer too small (losses reported), and the instance gone
# at the end every time.
#
# Needs root, a mounted tracefs with uprobe_events, and no khv loaded (the
# uprobes take khv's event names; with khv loaded, record is tested against
# khv itself in the lanes).  Skips, with status 0, otherwise.  Writes
# uprobe_events (the top level's dynamic events, not record's): the probes
# are removed on exit.
#
# Usage: live.sh KHV_TRACE FAKE_KHV OUTDIR
set -uo pipefail

KT=$(realpath "$1")
FAKE=$(realpath "$2")
OUT=$3
pass=0
fail=0

skip() {
	echo "check-live: skipped: $*"
	exit 0
}

ok() {
	pass=$((pass + 1))
}

bad() {
	fail=$((fail + 1))
	echo "not ok: $*"
}

[ "$(id -u)" = 0 ] || skip "not root"
TFS=$(awk '$3 == "tracefs" { print $2; exit }' /proc/mounts)
[ -n "$TFS" ] || skip "tracefs is not mounted"
[ -w "$TFS/uprobe_events" ] || skip "no uprobes (CONFIG_UPROBE_EVENTS)"
[ -e "$TFS/events/khv" ] && skip "khv's events are there already (khv is loaded)"
command -v readelf >/dev/null || skip "no readelf"

rm -rf "$OUT"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
PIDS=()

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	for e in khv_entry khv_exit khv_userspace_exit khv_halt; do
		echo "-:khv/$e" >>"$TFS/uprobe_events" 2>/dev/null
	done
}
trap cleanup EXIT

# The file offset of a function of the fake (its LOAD segment's mapping).
offset() {
	local addr type off va msz
	addr=$((16#$(nm "$FAKE" | awk -v s="$1" '$3 == s { print $1 }')))
	# Type, Offset, VirtAddr, PhysAddr, FileSiz, MemSiz: the 2nd, 3rd and 6th.
	while read -r type off va _ _ msz _; do
		[ "$type" = LOAD ] || continue
		if [ "$addr" -ge $((va)) ] && [ "$addr" -lt $((va + msz)) ]; then
			printf '0x%x\n' $((addr - va + off))
			return
		fi
	done < <(readelf -lW "$FAKE")
}

probe() {
	if ! echo "$1" >>"$TFS/uprobe_events" 2>"$OUT/probe.err"; then
		skip "cannot add the uprobe '$1': $(cat "$OUT/probe.err")"
	fi
}
probe "p:khv/khv_entry $FAKE:$(offset khv_fake_entry) vcpu_id=%di:u32 rip=%si:u64"
probe "p:khv/khv_exit $FAKE:$(offset khv_fake_exit) vcpu_id=%di:u32 hw_code=%si:u32 rip=%dx:u64 ret=%cx:s32 name=+0(%r8):string info1=%r9:u64 info2=+8(%sp):u64"
probe "p:khv/khv_userspace_exit $FAKE:$(offset khv_fake_userspace_exit) vcpu_id=%di:u32 reason=%si:u32 ret=%dx:s32"
probe "p:khv/khv_halt $FAKE:$(offset khv_fake_halt) vcpu_id=%di:u32 mp_state=%si:u32 wake=%dx:u8"

TOP_CLOCK=$(cat "$TFS/trace_clock")
TOP_SIZE=$(cat "$TFS/buffer_size_kb")

instances_left() {
	ls -d "$TFS"/instances/khv-trace-* 2>/dev/null | wc -l
}

# start NAME SECONDS VCPUS DELAY_MS [GUEST_US]: a fake in the background; its pid in $NAME
start() {
	local name=$1 pid
	shift
	"$FAKE" "$@" >"$OUT/$name.pid" &
	PIDS+=($!)
	pid=$!
	printf -v "$name" '%s' "$pid"
}

# field FILE KEY: the value after "KEY" at the start of a line of report.txt
field() {
	awk -v k="$2" '$1 == k { $1 = ""; sub(/^ +/, ""); print; exit }' "$1"
}

# ---- one process, its threads made after the recording began ----
start A 4 2 500
start B 4 1 0
sleep 0.1
"$KT" record -p "$A" -d 2 -o "$OUT/a.dat" >"$OUT/rec-a.out" 2>"$OUT/rec-a.err"
rc=$?
[ $rc = 0 ] && ok || { bad "record -p: status $rc"; cat "$OUT/rec-a.err"; }
grep -Eq "^khv-trace: [0-9]+ events of process $A \(fake_khv\) in 2\.[0-9]+ s into .*a\.dat \(stopped by the duration\); events lost: [0-9]+" "$OUT/rec-a.out" &&
	ok || bad "record -p: summary: $(cat "$OUT/rec-a.out")"
[ "$(instances_left)" = 0 ] && ok || bad "record -p left its tracefs instance"
"$KT" report -i "$OUT/a.dat" -o "$OUT/rep-a" >/dev/null 2>"$OUT/rep-a.err" && ok ||
	bad "report of a.dat: $(cat "$OUT/rep-a.err")"
R=$OUT/rep-a/report.txt
[ "$(field "$R" process)" = "$A (fake_khv)" ] && ok || bad "a.dat: process $(field "$R" process)"
[ "$(field "$R" processes)" = "1: $A (fake_khv)" ] && ok || bad "a.dat: B's events recorded: $(field "$R" processes)"
[ "$(field "$R" vcpus)" = 2 ] && ok || bad "a.dat: vCPUs: $(field "$R" vcpus) (threads made after the start not followed?)"
grep -q 'trace clock mono' "$R" && ok || bad "a.dat: not the mono clock"
for r in svm_msr svm_ioio svm_hlt; do
	grep -Eq "^$r +0x[0-9a-f]+ +[1-9][0-9]* " "$R" && ok || bad "a.dat: no $r exits"
done
grep -Eq '^vcpu 1 +[1-9]' "$R" && ok || bad "a.dat: no vcpu 1 row"
grep -Eq 'Exits to userspace .*: io [1-9]' "$R" && ok || bad "a.dat: no userspace exits"
grep -Eq '^anomalies' "$R" && bad "a.dat: anomalies: $(grep '^anomalies' "$R")" || ok
wait

# ---- -p with a thread's id: its process is recorded ----
start A 2 2 0
sleep 0.3
tid=
for t in /proc/"$A"/task/*; do
	[ "${t##*/}" = "$A" ] || { tid=${t##*/}; break; }
done
"$KT" record -p "$tid" -d 0.3 -o "$OUT/tid.dat" >"$OUT/rec-tid.out" 2>"$OUT/rec-tid.err"
grep -q "^khv-trace: $tid is a thread of process $A (fake_khv): recording the process$" "$OUT/rec-tid.err" &&
	ok || bad "-p TID: $(cat "$OUT/rec-tid.err")"
grep -q "events of process $A (fake_khv)" "$OUT/rec-tid.out" && ok || bad "-p TID: $(cat "$OUT/rec-tid.out")"
wait

# ---- every VM, stopped by SIGINT ----
start A 3 1 0
start B 3 1 0
sleep 0.1
"$KT" record -d 30 -o "$OUT/all.dat" >"$OUT/rec-all.out" 2>"$OUT/rec-all.err" &
rec=$!
sleep 1
kill -INT $rec
t0=$(date +%s)
wait $rec
rc=$?
[ $rc = 0 ] && ok || bad "record stopped by SIGINT: status $rc: $(cat "$OUT/rec-all.err")"
[ $(($(date +%s) - t0)) -le 3 ] && ok || bad "record took long to stop on SIGINT"
grep -q 'stopped by a signal' "$OUT/rec-all.out" && ok || bad "SIGINT: $(cat "$OUT/rec-all.out")"
[ "$(instances_left)" = 0 ] && ok || bad "SIGINT left the tracefs instance"
"$KT" report -i "$OUT/all.dat" -o "$OUT/rep-all" >/dev/null 2>&1 && ok || bad "report of all.dat"
grep -q "^processes    2: " "$OUT/rep-all/report.txt" && ok ||
	bad "all.dat: $(grep '^processes' "$OUT/rep-all/report.txt")"
wait

# ---- SIGTERM, and a process that exits ----
start A 1 1 0
"$KT" record -p "$A" -d 10 -o "$OUT/exit.dat" >"$OUT/rec-exit.out" 2>&1
grep -q "stopped by the process's exit" "$OUT/rec-exit.out" && ok || bad "process exit: $(cat "$OUT/rec-exit.out")"
[ -s "$OUT/exit.dat" ] && ok || bad "process exit: no file"
start A 3 1 0
"$KT" record -p "$A" -d 30 -o "$OUT/term.dat" >"$OUT/rec-term.out" 2>&1 &
rec=$!
sleep 0.5
kill -TERM $rec
wait $rec && ok || bad "SIGTERM: status $?"
[ "$(instances_left)" = 0 ] && ok || bad "SIGTERM left the tracefs instance"
"$KT" report -i "$OUT/term.dat" -o "$OUT/rep-term" >/dev/null 2>&1 && ok || bad "report of term.dat"
wait

# ---- a buffer too small: the losses said ----
start A 3 4 0 0
sleep 0.1
"$KT" record -p "$A" -d 1 -b 4 -o "$OUT/lost.dat" >"$OUT/rec-lost.out" 2>&1
lost=$(sed -n 's/.*events lost: \([0-9]*\).*/\1/p' "$OUT/rec-lost.out")
[ -n "$lost" ] && [ "$lost" -gt 0 ] && ok || bad "small buffer: no loss reported: $(cat "$OUT/rec-lost.out")"
"$KT" report -i "$OUT/lost.dat" -o "$OUT/rep-lost" >/dev/null 2>&1 && ok || bad "report of lost.dat"
grep -Eq "^lost +$lost by the ring buffer's count" "$OUT/rep-lost/report.txt" && ok ||
	bad "lost.dat: $(grep '^lost' "$OUT/rep-lost/report.txt")"
echo "# small buffer: $(cat "$OUT/rec-lost.out")"
wait

# ---- errors: the instance removed, no file left ----
start A 20 1 0
"$KT" record -p "$A" -d 1 -o /proc/self/nope.dat >"$OUT/rec-bad.out" 2>"$OUT/rec-bad.err"
rc=$?
[ $rc = 5 ] && ok || bad "unwritable output: status $rc"
grep -q '^khv-trace: cannot write /proc/self/nope.dat: ' "$OUT/rec-bad.err" && ok ||
	bad "unwritable output: $(cat "$OUT/rec-bad.err")"
[ "$(instances_left)" = 0 ] && ok || bad "an error left the tracefs instance"
# A khv-trace killed outright leaves its instance; the next one removes it.
"$KT" record -p "$A" -d 10 -o "$OUT/killed.dat" >/dev/null 2>&1 &
rec=$!
for i in $(seq 50); do
	[ -s "$OUT/killed.dat" ] && break
	sleep 0.1
done
echo "# record's start (instance, buffers, formats, file): about $((i / 10)).$((i % 10)) s"
sleep 0.3
kill -KILL $rec
wait $rec 2>/dev/null
[ "$(instances_left)" = 1 ] && ok || bad "SIGKILL: $(instances_left) instances (1 expected)"
"$KT" report -i "$OUT/killed.dat" -o "$OUT/rep-killed" >/dev/null 2>"$OUT/rep-killed.err"
[ $? = 4 ] && grep -q 'incomplete' "$OUT/rep-killed.err" && ok || bad "killed.dat: $(cat "$OUT/rep-killed.err")"
"$KT" record -p "$A" -d 0.2 -o "$OUT/after.dat" >/dev/null 2>"$OUT/rec-after.err"
grep -q "removed the tracefs instance khv-trace-$rec of a khv-trace that died" "$OUT/rec-after.err" && ok ||
	bad "stale instance: $(cat "$OUT/rec-after.err")"
[ "$(instances_left)" = 0 ] && ok || bad "the stale instance is still there"
kill "$A"
wait

# The top level untouched: no khv event enabled there, its clock and buffer as they were.
grep -q '^khv:' "$TFS/set_event" && bad "a khv event is enabled in the top instance" || ok
[ "$(cat "$TFS/trace_clock")" = "$TOP_CLOCK" ] && ok || bad "the top instance's clock changed"
[ "$(cat "$TFS/buffer_size_kb")" = "$TOP_SIZE" ] && ok || bad "the top instance's buffer changed"

echo "check-live: $pass passed, $fail failed"
[ "$fail" = 0 ]
