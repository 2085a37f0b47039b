#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot the test kernel with an initramfs in QEMU, serial console to a log.
# usage: qemu-run.sh <initrd.cpio.gz> <log> [kernel args...]
# Exit status: QEMU's, or 124 when TIMEOUT seconds passed (QEMU is killed).
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

cmd=(qemu-system-x86_64 -accel "$ACCEL" -cpu "${QEMU_CPU:-max}" -m "${QEMU_MEM:-2G}"
	-smp "${QEMU_SMP:-2}" -nographic -no-reboot
	-kernel "$kernel" -initrd "$initrd"
	-append "console=ttyS0 panic=-1 ${KERNEL_ARGS:+$KERNEL_ARGS }$*")
# QEMU_EXTRA: more QEMU options, word-split (make bench BENCH_ICOUNT=1 uses it).
# shellcheck disable=SC2206
[ -n "${QEMU_EXTRA:-}" ] && cmd+=(${QEMU_EXTRA})
say "${cmd[*]}" >"$log.cmd"
# stdin from /dev/null: QEMU must not touch the caller's terminal (two
# lanes run at once).  -k: a QEMU ignoring SIGTERM gets SIGKILL.
rc=0
timeout -k 10 "$TIMEOUT" "${cmd[@]}" </dev/null >"$log" 2>"$log.err" || rc=$?
exit "$rc"
