#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make demo: boot the test kernel in QEMU (5-level paging, like check's
# first lane), load khv.ko, run tools/khv-hello, then khv-run booting the
# same kernel with a busybox initramfs as a second-level guest (2 vCPUs);
# both outputs are shown here.  Fails when the hello line or the guest's
# init line is missing, either program fails, or the kernel log shows
# trouble.  Logs: build/demo/.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

OUT=$BUILD/demo
rm -rf "$OUT"
mkdir -p "$OUT"
RESULTS=$OUT/results.txt
export RESULTS
: >"$RESULTS"

quiet() {	# quiet <log> <what> <command...>
	local log=$1 what=$2
	shift 2
	"$@" >"$log" 2>&1 && return 0
	tail -n 40 "$log" >&2
	die "$what failed (log: $log)"
}

bash "$KHV_ROOT/scripts/deps.sh" || die "could not install the packages the demo needs"
kver=$(test_kver)
[ -n "$kver" ] || die "no /boot/vmlinuz-*-amd64 (apt-get install linux-image-amd64)"
say "demo: building khv.ko for $kver, libkhv, tools"
quiet "$OUT/build-module.log" "khv.ko build" \
	make -C "$KHV_ROOT" -j"$JOBS" module KDIR="$(test_kdir "$kver")"
quiet "$OUT/build-tools.log" "tools build" make -C "$KHV_ROOT" -j"$JOBS" tools
[ -x "$KHV_ROOT/tools/khv-hello" ] || die "tools/khv-hello was not built"
quiet "$OUT/build-khv-run.log" "khv-run build" make -C "$KHV_ROOT/tools/khv-run" -j"$JOBS"
quiet "$OUT/khv-run-files.log" "khv-run's guest" khvrun_files "$OUT/extra" "$kver"
quiet "$OUT/initramfs.log" "initramfs" env INITRAMFS_EXTRA="$OUT/extra" \
	bash "$KHV_ROOT/scripts/mkinitramfs.sh" "$OUT/initramfs.cpio.gz" --no-selftests

say "demo: booting $kver in QEMU ($ACCEL, -cpu ${QEMU_CPU:-max})"
qrc=0
# shellcheck disable=SC2086 # DEMO_APPEND: zero or more kernel arguments
bash "$KHV_ROOT/scripts/qemu-run.sh" "$OUT/initramfs.cpio.gz" "$OUT/demo.log" \
	khvmode=demo ${DEMO_APPEND:-} || qrc=$?
bash "$KHV_ROOT/scripts/check-log.sh" demo "$OUT/demo.log" "$qrc" demo any

fail=$(grep -c '^not ok' "$RESULTS")
if [ "$fail" -ne 0 ]; then
	say "demo: FAILED ($fail problems; console log: $OUT/demo/console.txt)"
	exit 1
fi
say "demo: ok"
