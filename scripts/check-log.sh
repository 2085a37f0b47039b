#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Judge one guest boot from its serial log (markers: scripts/guest-init.sh).
# usage: check-log.sh <lane> <serial log> <qemu exit status> <mode> <paging> [tests file]
#   mode    check | demo | run | refuse (insmod must fail: see below)
#   paging  5 | 4 | any: the paging depth the guest kernel must be using
# Prints result lines (and "# " diagnostics); appends results to $RESULTS.
# Per-test outputs and the guest dmesg go to <serial log's dir>/<lane>/.
# NO_SKIP=1: a skipped test is a failure (a lane that exists to run it).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tap.sh"

lane=$1 serial=$2 qrc=$3 mode=$4 paging=$5 tests_file=${6:-}
dir=$(dirname "$serial")/$lane
rm -rf "$dir"
mkdir -p "$dir"
log=$dir/console.txt
tr -d '\r' <"$serial" >"$log" 2>/dev/null || : >"$log"

# Kernel log lines that are not khv's fault and that the patterns below
# would otherwise flag (the emulated CPU makes the kernel grumble).
ALLOW_RE='RETBleed: WARNING|Spectre v2 mitigation leaves CPU vulnerable|WARNING: kernel not compiled with CPU_SRSO'
BAD_RE='BUG:|WARNING:|Oops|soft lockup|hung task|blocked for more than|general protection|Call Trace|Kernel panic|kernel BUG|rcu: INFO|detected stall|UBSAN:|KASAN:|list_(add|del) corruption|refcount_t:|[Uu]nable to handle|invalid opcode|double fault'
# khvmode=refuse: the reason khv must give, once, on a CPU without VMX and
# SVM (core/backend.c), and the errno string insmod (kmod or busybox) prints
# for ENODEV.
REFUSE_WHY_RE='neither VT-x \(VMX\) nor AMD-V \(SVM\)'
REFUSE_ERR='No such device'
# khv's name on kernel lines that the module loader prints, not khv.
LOADER_RE='loading out-of-tree module taints kernel|module verification failed'
# Taint bits khv may set: 12 (O, out-of-tree) and 13 (E, unsigned).
TAINT_OK=$(((1 << 12) | (1 << 13)))
TAINT_LETTERS=PFSRMBUDAWCIOELKXT

emit() { result "$1" "$lane: $2"; }
diag() { sed 's/^/#   /'; }
field() {	# field <marker> <key>: value of key=... on the marker's last line
	grep -a "$1" "$log" | tail -n1 | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n1
}

# 1. Did the guest run to its end?
done_ok=0
grep -aq '^KHV-DONE' "$log" && done_ok=1
if [ "$qrc" = 124 ]; then
	emit 1 "QEMU timed out after ${TIMEOUT}s"
elif [ "$done_ok" = 1 ]; then
	emit 0 "guest ran to completion"
else
	emit 1 "guest stopped before the end (QEMU exit status $qrc)"
fi
if [ "$done_ok" = 0 ]; then
	# A QEMU lane that timed out had its guest dump where it was stuck
	# (qemu-run.sh's watchdog: SysRq 9, L, W, T): the console before
	# that, then the busy CPUs and blocked tasks.  All tasks (T) stay
	# in the log.
	wd=$(grep -a -n 'sysrq: Changing Loglevel' "$log" | head -n1 | cut -d: -f1)
	if [ -n "$wd" ]; then
		say "# last console lines before the watchdog:"
		head -n $((wd - 1)) "$log" | tail -n 30 | diag
		say "# busy CPUs and blocked tasks (SysRq L, W; all tasks are in the log):"
		sed -n '/sysrq: Show backtrace of all active CPUs/,/sysrq: Show State/p' "$log" |
			head -n 200 | diag
	else
		say "# last console lines:"
		tail -n 30 "$log" | diag
	fi
	[ -s "$serial.err" ] && { say "# QEMU stderr:"; diag <"$serial.err"; }
fi

# 2. Paging depth.
if [ "$paging" != any ]; then
	la57=$(field '^KHV-PAGING' la57_flag)
	vbits=$(field '^KHV-PAGING' virt_bits)
	vmalloc=$(field '^KHV-PAGING' vmalloc)
	case $vmalloc in
	0xffff*) by_vmalloc=4 ;;
	0x*) by_vmalloc=5 ;;
	*) by_vmalloc='?' ;;
	esac
	by_flag='?'
	[ "$la57" = 1 ] && by_flag=5
	[ "$la57" = 0 ] && by_flag=4
	what="la57 flag=$la57, vmalloc at $vmalloc, $vbits-bit virtual addresses"
	if [ "$by_flag" = "?" ] || [ "$by_vmalloc" = "?" ]; then
		emit 1 "paging depth not reported"
	elif [ "$by_flag" != "$by_vmalloc" ]; then
		emit 1 "paging signals disagree ($what)"
	elif [ "$by_flag" = "$paging" ]; then
		emit 0 "$paging-level paging in use ($what)"
	elif [ "$paging" = 5 ] && [ "$vbits" != 57 ] && [ "$ACCEL" != tcg ]; then
		emit 0 "5-level paging # SKIP the CPU has no LA57 ($what)"
	else
		emit 1 "expected $paging-level paging, got $by_flag-level ($what)"
	fi
fi

# 3. Module load and unload (in mode refuse: the load must fail).
insmod_rc=$(field '^KHV-INSMOD ' rc)
insmod_msg=$(grep -a '^KHV-INSMOD-MSG' "$log" | sed 's/^KHV-INSMOD-MSG //')
if [ "$mode" = refuse ]; then
	svm=$(field '^KHV-CPUFLAGS' svm)
	vmx=$(field '^KHV-CPUFLAGS' vmx)
	if [ "$svm" = 0 ] && [ "$vmx" = 0 ]; then
		emit 0 "CPU has neither svm nor vmx in /proc/cpuinfo"
	else
		emit 1 "CPU has neither svm nor vmx in /proc/cpuinfo (svm=${svm:-?} vmx=${vmx:-?})"
	fi
	if [ -z "$insmod_rc" ]; then
		emit 1 "insmod refused with ENODEV (no report)"
	elif [ "$insmod_rc" = 0 ]; then
		emit 1 "insmod refused with ENODEV (it loaded)"
	elif grep -q "$REFUSE_ERR" <<<"$insmod_msg"; then
		emit 0 "insmod refused with ENODEV"
	else
		emit 1 "insmod refused with ENODEV (exit status $insmod_rc, not '$REFUSE_ERR')"
	fi
	[ "$insmod_rc" = 0 ] || [ -z "$insmod_msg" ] || diag <<<"$insmod_msg"
elif [ "$insmod_rc" = 0 ]; then
	emit 0 "insmod khv.ko"
else
	if [ -n "$insmod_rc" ]; then
		emit 1 "insmod khv.ko (exit status $insmod_rc)"
	else
		emit 1 "insmod khv.ko (no report)"
	fi
	[ -z "$insmod_msg" ] || diag <<<"$insmod_msg"
fi
if grep -aq '^KHV-RMMOD' "$log" && [ "$mode" != refuse ]; then
	rmmod_rc=$(field '^KHV-RMMOD' rc)
	if [ "$rmmod_rc" = 0 ]; then
		emit 0 "rmmod khv"
	else
		emit 1 "rmmod khv (exit status $rmmod_rc)"
	fi
fi

# 4. Programs run in the guest, one marker-framed section each.
section() {	# section <marker> <name> <out file>; prints "<begun> <ended> <rc>"
	# The guest prints an empty line before the END marker (in case the
	# program's last line had no newline): hold one line back to drop it.
	awk -v b="KHV-$1-BEGIN $2" -v e="KHV-$1-END $2 rc=" -v out="$3" '
	state == 0 {
		i = index($0, b)
		if (i && substr($0, i + length(b)) == "")
			state = 1
		next
	}
	state == 1 {
		i = index($0, e)
		if (i) {
			rc = substr($0, i + length(e))
			sub(/[^0-9].*/, "", rc)
			state = 2
			if (have && held != "")
				print held > out
			if (i > 1)
				print substr($0, 1, i - 1) > out
			have = 0
			exit
		}
		if (have)
			print held > out
		held = $0
		have = 1
	}
	END {
		if (have)
			print held > out
		print (state >= 1), (state == 2), (rc == "" ? "?" : rc)
	}' "$log"
}

judge_program() {	# judge_program <marker> <name>
	local out=$dir/${2//\//_}.out begun ended rc label=$lane/$2
	: >"$out"
	read -r begun ended rc < <(section "$1" "$2" "$out")
	if [ "$insmod_rc" != 0 ]; then
		result 1 "$label: not run (khv.ko did not load)"
	elif [ "$begun" = 0 ]; then
		result 1 "$label: not run"
	elif [ "$ended" = 0 ]; then
		# The harness's last "RUN" names the test that was running: in
		# the failure line, since a CI record keeps only the tail.
		local last
		last=$(tr -d '\r' <"$out" | sed -n 's/^#  RUN  *\([^ ]*\).*/\1/p' | tail -n1)
		result 1 "$label: did not finish${last:+ (in $last)}"
		diag <"$out"
	else
		local res
		res=$(tap_results "$label" "$rc" "$out")
		# A lane that exists to run a test (NO_SKIP=1) fails if it skips,
		# but for what the lane chose not to run (reason "lane: ...",
		# e.g. khvdirtylog=).
		if [ "${NO_SKIP:-0}" = 1 ]; then
			res=$(sed -E '/# SKIP lane: /!s/^ok - (.*# SKIP.*)$/not ok - \1 (this lane must not skip)/' <<<"$res")
		fi
		say "$res"
		[ -n "$RESULTS" ] && say "$res" >>"$RESULTS"
		if grep -q '^not ok' <<<"$res"; then
			[ "$rc" = 143 ] || [ "$rc" = 137 ] &&
				say "# $label: killed after ${TEST_TIMEOUT}s?"
			diag <"$out"
		fi
	fi
}

# demo_program <name> <line> <what>: judge a demo program, show its output
# between dashes, and require <line> in it.
demo_program() {
	local out=$dir/$1.out
	judge_program DEMO "$1"
	say "---- $1 in the guest ----"
	cat "$out"
	say "-------------------------"
	if grep -aq "$2" "$out"; then
		emit 0 "$3"
	else
		emit 1 "$3: no \"$2\" in its output"
	fi
}

case $mode in
check)
	ntests=0
	if [ -n "$tests_file" ] && [ -s "$tests_file" ]; then
		while read -r t; do
			judge_program TEST "$t"
			ntests=$((ntests + 1))
		done <"$tests_file"
	fi
	if [ "$ntests" = 0 ] && [ "${ALLOW_NO_TESTS:-0}" != 1 ]; then
		emit 1 "no selftests to run"
	fi
	;;
demo)
	demo_program khv-hello 'hello from a khv guest' "khv-hello printed its hello line"
	# Linux under khv-run (make demo packs it; guest-init.sh runs it).
	demo_program khv-run 'KHVRUN-INIT cpus=2 online=0-1 acpi=yes' \
		"khv-run booted Linux to its init with 2 vCPUs and ACPI"
	;;
run)
	judge_program RUN run
	;;
esac

# 5. Kernel log: the guest's dmesg (when it got that far) and whatever
# the console caught with a printk timestamp (an oops kills the guest
# before the dmesg dump).
awk '/^KHV-DMESG-BEGIN/ { on = 1; next } /^KHV-DMESG-END/ { on = 0 } on' "$log" >"$dir/dmesg.txt"

# In mode refuse, khv says why exactly once, and leaves nothing behind.
if [ "$mode" = refuse ]; then
	khv_lines=$(grep -a -E '(^|\] )khv: ' "$dir/dmesg.txt" | grep -a -v -E "$LOADER_RE")
	n=0
	[ -n "$khv_lines" ] && n=$(wc -l <<<"$khv_lines")
	why=$(sed -E 's/^\[ *[0-9]+\.[0-9]+\] //' <<<"$khv_lines")
	if [ "$n" = 1 ] && grep -q -E "$REFUSE_WHY_RE" <<<"$why"; then
		emit 0 "one log line: $why"
	elif [ "$n" = 1 ]; then
		emit 1 "one log line saying why (it does not name VMX and SVM: $why)"
	else
		emit 1 "one log line saying why ($n khv lines in the kernel log)"
		[ "$n" = 0 ] || diag <<<"$khv_lines"
		[ "$(field '^KHV-INSMOD ' via)" = busybox ] &&
			say "# busybox insmod retries a failed finit_module with init_module: no kmod in the image?"
	fi
	dev=$(field '^KHV-LOADED' dev_khv)
	mod=$(field '^KHV-LOADED' sys_module)
	if [ "$dev" = 0 ] && [ "$mod" = 0 ]; then
		emit 0 "no /dev/khv, no /sys/module/khv after the refusal"
	else
		emit 1 "no /dev/khv, no /sys/module/khv after the refusal (dev_khv=${dev:-?} sys_module=${mod:-?})"
	fi
fi
bad=$({
	grep -a -E '\[ *[0-9]+\.[0-9]+\]' "$log" | grep -v -x -F -f "$dir/dmesg.txt"
	cat "$dir/dmesg.txt"
} | grep -a -E "$BAD_RE" | grep -a -v -E "$ALLOW_RE")
# The taint letters of any report header ("Tainted: G           OE").
badtaint=$(grep -a -o 'Tainted: [A-Z ]* [0-9]' "$log" |
	sed 's/^Tainted: //; s/ [0-9]$//' | tr -d ' GOE' | sort -u | tr -d '\n')
if [ -z "$bad" ] && [ -z "$badtaint" ]; then
	emit 0 "kernel log clean"
else
	emit 1 "kernel log has oops/BUG/WARNING/lockup lines${badtaint:+, taint flags $badtaint}"
	head -n 20 <<<"$bad" | diag
	# The first report in full, for context.
	first=$(head -n1 <<<"$bad")
	if [ -n "$first" ]; then
		say "# first report:"
		cat "$dir/dmesg.txt" "$log" | grep -a -F -x -m1 -A 40 -- "$first" |
			sed '/---\[ end trace/q' | diag
	fi
fi

# 6. Taint at the end, read from /proc/sys/kernel/tainted.  Bit 2 (S, CPU
# out of spec) is what the kernel sets for clearcpuid=, which a lane's
# command line may carry on purpose (lane vmxpml: Bochs' XSAVE size for
# AVX-512, Documentation/khv/bochs.rst).
taint_why=out-of-tree/unsigned
if grep -a -m1 '^KHV-LANE ' "$log" | grep -q ' clearcpuid='; then
	TAINT_OK=$((TAINT_OK | (1 << 2)))
	taint_why+="/clearcpuid="
fi
taint=$(grep -a '^KHV-TAINTED ' "$log" | tail -n1 | awk '{ print $2 }')
if [ -z "$taint" ]; then
	emit 1 "taint not reported"
else
	extra=$((taint & ~TAINT_OK))
	letters=
	for ((i = 0; i < ${#TAINT_LETTERS}; i++)); do
		((taint & (1 << i))) && letters+=${TAINT_LETTERS:i:1}
	done
	if [ "$extra" = 0 ]; then
		emit 0 "taint $taint${letters:+ ($letters)} only $taint_why"
	else
		emit 1 "kernel tainted $taint ($letters): more than O/E"
	fi
fi
exit 0
