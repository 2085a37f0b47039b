#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot the test kernel with an initramfs in QEMU, serial console to a log.
# usage: qemu-run.sh <initrd.cpio.gz> <log> [kernel args...]
# Exit status: QEMU's, or 124 when TIMEOUT seconds passed (QEMU is killed,
# after the guest printed where it was stuck: see the watchdog below).
# The default CPU is "max": under TCG that emulates SVM with nested paging
# and LA57.  ACCEL=kvm swaps the accelerator for hosts that have it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

initrd=${1:?usage: qemu-run.sh <initrd> <log> [kernel args...]}
log=${2:?usage: qemu-run.sh <initrd> <log> [kernel args...]}
shift 2

# KHV_KERNEL: another kernel image (make check-debug boots its debug kernel).
kernel=${KHV_KERNEL:-}
[ -n "$kernel" ] || kernel=/boot/vmlinuz-$(test_kver)
[ -r "$kernel" ] || die "cannot read $kernel (root needed on Debian)"

# QEMU_TCG_THREAD=single|multi: TCG's threads (QEMU's default: multi, one
# host thread per vCPU).  make check's lanes choose (scripts/check.sh).
accel=$ACCEL
[ "$ACCEL" = tcg ] && [ -n "${QEMU_TCG_THREAD:-}" ] && accel="tcg,thread=$QEMU_TCG_THREAD"
# no_timer_check: the kernel's boot test of the timer interrupt waits a
# few ticks; a TCG machine that boots while the others load the host's
# cores misses them and panics ("IO-APIC + timer doesn't work!", lane
# xmigdst once), a test of wiring an emulator gets right (KVM's guests
# skip it too).
cmd=(qemu-system-x86_64 -accel "$accel" -cpu "${QEMU_CPU:-max}" -m "${QEMU_MEM:-2G}"
	-smp "${QEMU_SMP:-2}" -nographic -no-reboot
	-kernel "$kernel" -initrd "$initrd"
	-append "console=ttyS0 panic=-1 no_timer_check ${KERNEL_ARGS:+$KERNEL_ARGS }$*")
# QEMU_EXTRA: more QEMU options, word-split (make bench BENCH_ICOUNT=1 uses it).
# shellcheck disable=SC2206
[ -n "${QEMU_EXTRA:-}" ] && cmd+=(${QEMU_EXTRA})
# The human monitor on two FIFOs (<log>.mon.in, .out; QEMU opens both
# read-write, so neither open blocks): at the timeout it asks the guest
# where it is stuck before QEMU is killed.
mon=$log.mon
rm -f "$mon.in" "$mon.out" "$log.monitor"
mkfifo "$mon.in" "$mon.out"
cmd+=(-monitor "pipe:$mon")
say "${cmd[*]}" >"$log.cmd"
# stdin from /dev/null: QEMU must not touch the caller's terminal (two
# lanes run at once).
"${cmd[@]}" </dev/null >"$log" 2>"$log.err" &
qpid=$!
timeout $((TIMEOUT + 60)) cat "$mon.out" >"$log.monitor" 2>/dev/null &
mon_send() {	# mon_send <command>: never blocks on a QEMU that is gone
	timeout 5 bash -c 'printf "%s\n" "$1" >"$2"' _ "$1" "$mon.in" 2>/dev/null
}
# The watchdog.  At TIMEOUT the guest's console gets the backtraces of
# every busy CPU, of the blocked tasks and of all tasks (magic SysRq L, W
# and T, pressed on the PS/2 keyboard; guest-init enables SysRq), the
# monitor log every vCPU's registers; then SIGTERM, SIGKILL 10 s later.
(
	sleep "$TIMEOUT" &
	spid=$!
	trap 'kill $spid 2>/dev/null; exit 0' TERM
	wait "$spid"
	kill -0 "$qpid" 2>/dev/null || exit 0
	: >"$log.timedout"
	mon_send "sendkey alt-sysrq-9"	# console loglevel 9: the dumps are KERN_INFO
	sleep 1
	mon_send "sendkey alt-sysrq-l"
	sleep 5
	mon_send "sendkey alt-sysrq-w"
	sleep 5
	mon_send "sendkey alt-sysrq-t"
	sleep 15
	mon_send "info registers -a"
	sleep 1
	kill "$qpid" 2>/dev/null
	sleep 10
	kill -9 "$qpid" 2>/dev/null
) &
wpid=$!
# Killed itself (make profile's cleanup): QEMU goes too, not left to the
# watchdog.
trap 'kill "$qpid" 2>/dev/null || true' TERM INT HUP
rc=0
wait "$qpid" || rc=$?
if kill -0 "$qpid" 2>/dev/null; then
	wait "$qpid" || true
fi
kill "$wpid" 2>/dev/null || true
wait "$wpid" 2>/dev/null || true
rm -f "$mon.in" "$mon.out"
if [ -e "$log.timedout" ]; then
	rm -f "$log.timedout"
	rc=124
fi
exit "$rc"
