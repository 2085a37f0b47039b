#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make fuzz: selftest fuzz (selftests/fuzz/) for as long as asked, in the
# QEMU lane (AMD-V under TCG, 5-level paging, two fake NUMA nodes), or in
# the Bochs lane (VT-x) with FUZZ_LANE=bochs.
#   SECONDS  how long the fuzzer runs (default 600)
#   CALLS    stop after this many operations instead (default 0: no limit)
#   SEED     the seed (default: from the clock; printed either way)
#   DEBUG=1  boot the make check-debug kernel (KASAN, lockdep...) instead
# Passes when the fuzzer reports no violation and the kernel log and
# taint are clean (check-log.sh's rules).  Logs in build/fuzz/.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tap.sh"

lane_begin fuzz
secs=${FUZZ_SECONDS:-600}
calls=${FUZZ_CALLS:-0}
seed=${FUZZ_SEED:-$(date +%s%N | cut -c1-15)}
lane=${FUZZ_LANE:-qemu}

summary() {
	local pass fail
	pass=$(grep -c '^ok' "$RESULTS")
	fail=$(grep -c '^not ok' "$RESULTS")
	grep -a '^# fuzz: [0-9]\|^# fuzz: exits\|^# fuzz: errnos' "$OUT/fuzz.log" 2>/dev/null
	say "fuzz: seed $seed, $secs s, $calls operations (0: no limit), lane $lane"
	say "fuzz: $pass passed, $fail failed (logs in $OUT)"
	[ "$fail" -eq 0 ]
	exit
}

ko=$KHV_ROOT/khv.ko
kernel_env=()
if [ "${DEBUG:-0}" = 1 ]; then
	bash "$KHV_ROOT/scripts/debug-kernel.sh" >"$OUT/debug-kernel.log" 2>&1 || {
		result 1 "debug kernel: build"
		summary
	}
	tree=$(tail -n1 "$OUT/debug-kernel.log")
	mkdir -p "$OUT/src"
	cp -r "$KHV_ROOT"/Kbuild "$KHV_ROOT"/core "$KHV_ROOT"/svm "$KHV_ROOT"/vmx \
		"$KHV_ROOT"/mmu "$KHV_ROOT"/irq "$KHV_ROOT"/uapi "$OUT/src"/
	find "$OUT/src" \( -name '*.o' -o -name '.*.cmd' -o -name '*.ko' \) -delete
	make -C "$tree" M="$OUT/src" W=1 -j"$JOBS" modules >"$OUT/build-module.log" 2>&1
	result $? "build: khv.ko for the debug kernel"
	ko=$OUT/src/khv.ko
	kernel_env=(KHV_KERNEL="$tree/arch/x86/boot/bzImage")
else
	kdir=$(test_kdir "$(test_kver)")
	make -C "$KHV_ROOT" module KDIR="$kdir" >"$OUT/build-module.log" 2>&1
	result $? "build: khv.ko"
fi
make -C "$KHV_ROOT" selftests >"$OUT/build-selftests.log" 2>&1
result $? "build: selftests"
grep -q '^not ok' "$RESULTS" && summary

say fuzz >"$OUT/tests.txt"
env KHV_KO="$ko" TESTS_FILE="$OUT/tests.txt" TEST_TIMEOUT=$((secs + 300)) \
	bash "$KHV_ROOT/scripts/mkinitramfs.sh" "$OUT/initramfs.cpio.gz" >"$OUT/initramfs.log" 2>&1
result $? "initramfs"
grep -q '^not ok' "$RESULTS" && summary

# The boot's own limit: the run, the harness and the slowest emulator.
ltimeout=$((secs * 3 + 600))
args=(khvmode=check khvtests=fuzz "khvfuzz=$seed,$calls,$secs")
say "fuzz: seed $seed, $secs s, lane $lane (boot limit ${ltimeout}s)"
qrc=0
if [ "$lane" = bochs ]; then
	env BOCHS_SMP= BOCHS_TIMEOUT="$ltimeout" TIMEOUT="$ltimeout" \
		bash "$KHV_ROOT/scripts/bochs-run.sh" "$OUT/initramfs.cpio.gz" "$OUT/fuzz.log" \
		"${args[@]}" || qrc=$?
	depth=4
else
	env "${kernel_env[@]}" TIMEOUT="$ltimeout" bash "$KHV_ROOT/scripts/qemu-run.sh" \
		"$OUT/initramfs.cpio.gz" "$OUT/fuzz.log" "${args[@]}" \
		numa=fake=2 numa_balancing=disable || qrc=$?
	depth=5
fi
NO_SKIP=1 TIMEOUT=$ltimeout bash "$KHV_ROOT/scripts/check-log.sh" "fuzz" "$OUT/fuzz.log" "$qrc" \
	check "$depth" "$OUT/tests.txt"
summary
