#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make check-debug: every selftest on a debug kernel (scripts/debug-kernel.sh:
# KASAN, lockdep, atomic-sleep checks, KFENCE, SLUB debugging, hung-task and
# lockup detectors), in the QEMU lane (AMD-V under TCG, 5-level paging, two
# fake NUMA nodes, preempt=full).  Not part of make check: the kernel takes
# about 25 minutes to build on 2 CPUs (once, cached) and runs several times
# slower than the Debian one.  The kernel log is judged by check-log.sh,
# which fails on any KASAN, lockdep, KFENCE, UBSAN, "sleeping function",
# hung-task or lockup report.  Results in build/check-debug/results.txt,
# the last line "check-debug: N passed, M failed"; status 0 only when M is 0.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tap.sh"

lane_begin check-debug
t0=$(date +%s)
stamp() { say "== $* ($(($(date +%s) - t0))s)"; }

summary() {
	local pass fail
	pass=$(grep -c '^ok' "$RESULTS")
	fail=$(grep -c '^not ok' "$RESULTS")
	stamp "done, logs in $OUT"
	if [ "$fail" -ne 0 ]; then
		say "failures:"
		grep '^not ok' "$RESULTS" | sed 's/^/  /'
	fi
	say "check-debug: $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit
}

stamp "deps"
bash "$KHV_ROOT/scripts/deps.sh" >"$OUT/deps.log" 2>&1 || {
	result 1 "deps: could not install the packages the lane needs"
	summary
}

stamp "debug kernel"
if ! bash "$KHV_ROOT/scripts/debug-kernel.sh" >"$OUT/debug-kernel.log" 2>&1; then
	tail -n 20 "$OUT/debug-kernel.log" | sed 's/^/#   /'
	result 1 "debug kernel: build"
	summary
fi
tree=$(tail -n1 "$OUT/debug-kernel.log")
kver=$(make -s -C "$tree" kernelrelease)
result 0 "debug kernel: $kver ($tree)"

# khv.ko for the debug kernel, built in a copy of the kernel sources so
# that the tree's own khv.ko (for the Debian kernel) stays as it is.
stamp "khv.ko for $kver"
src=$OUT/src
mkdir -p "$src"
cp -r "$KHV_ROOT"/Kbuild "$KHV_ROOT"/core "$KHV_ROOT"/svm "$KHV_ROOT"/vmx "$KHV_ROOT"/mmu \
	"$KHV_ROOT"/irq "$KHV_ROOT"/uapi "$src"/
find "$src" \( -name '*.o' -o -name '.*.cmd' -o -name '*.ko' \) -delete
if make -C "$tree" M="$src" W=1 -j"$JOBS" modules >"$OUT/build-module.log" 2>&1; then
	result 0 "build: khv.ko for $kver"
	warn=$(grep -a -i -E '(^|[^[:alnum:]_])warning:' "$OUT/build-module.log")
	[ -z "$warn" ]
	result $? "build: khv.ko without W=1 warnings"
	[ -z "$warn" ] || printf '%s\n' "$warn" | sed 's/^/#   /'
else
	tail -n 30 "$OUT/build-module.log" | sed 's/^/#   /'
	result 1 "build: khv.ko for $kver"
	summary
fi
for part in libkhv selftests tools; do
	make -C "$KHV_ROOT" -j"$JOBS" "$part" >"$OUT/build-$part.log" 2>&1
	result $? "build: $part"
done

# Every selftest the tree lists, with the time limits of a slow kernel.
selftest_list >"$OUT/tests.txt"
: >"$OUT/tests-built.txt"
while read -r t; do
	[ -n "$(selftest_path "$t")" ] && say "$t" >>"$OUT/tests-built.txt"
done <"$OUT/tests.txt"
stamp "initramfs ($(wc -l <"$OUT/tests-built.txt") selftests)"
if ! env KHV_KO="$src/khv.ko" TESTS_FILE="$OUT/tests-built.txt" \
	TEST_TIMEOUT="${DEBUG_TEST_TIMEOUT:-900}" \
	bash "$KHV_ROOT/scripts/mkinitramfs.sh" "$OUT/initramfs.cpio.gz" >"$OUT/initramfs.log" 2>&1; then
	tail -n 20 "$OUT/initramfs.log" | sed 's/^/#   /'
	result 1 "initramfs"
	summary
fi

ltimeout=${DEBUG_TIMEOUT:-5400}
stamp "boot $kver in QEMU (timeout ${ltimeout}s)"
qrc=0
env KHV_KERNEL="$tree/arch/x86/boot/bzImage" QEMU_MEM="${QEMU_MEM:-3G}" TIMEOUT="$ltimeout" \
	bash "$KHV_ROOT/scripts/qemu-run.sh" "$OUT/initramfs.cpio.gz" "$OUT/debug.log" \
	khvmode=check preempt=full numa=fake=2 numa_balancing=disable || qrc=$?
stamp "lane debug: QEMU exit status $qrc"
TIMEOUT=$ltimeout bash "$KHV_ROOT/scripts/check-log.sh" debug "$OUT/debug.log" "$qrc" check 5 \
	"$OUT/tests-built.txt"
summary
