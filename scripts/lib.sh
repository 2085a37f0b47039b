# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2034
# Shared helpers for the khv test lanes; sourced by the other scripts/.
#
# Knobs (environment, or make variables on the make command line):
#   TEST_KVER     kernel version booted in QEMU (default: newest
#                 /boot/vmlinuz-*-amd64 that has headers installed)
#   ACCEL         QEMU accelerator: tcg (default) or kvm
#   TIMEOUT       hard limit in seconds for one QEMU boot (default 240)
#   TEST_TIMEOUT  limit in seconds for one selftest inside the guest (60)
#   BUILD         where logs and images go (default <repo>/build)

KHV_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$KHV_ROOT/build}
ACCEL=${ACCEL:-tcg}
TIMEOUT=${TIMEOUT:-240}
TEST_TIMEOUT=${TEST_TIMEOUT:-60}
JOBS=$(nproc 2>/dev/null || echo 2)

# The scripts call make themselves with their own -j; a jobserver or
# variables inherited from an outer make would only confuse the sub-makes.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES

say() { printf '%s\n' "$*"; }
die() { printf '%s: error: %s\n' "${0##*/}" "$*" >&2; exit 1; }

# Result bookkeeping: every check appends "ok - what" or "not ok - what" to
# $RESULTS; summary() counts them.
RESULTS=${RESULTS:-}
lane_begin() {	# lane_begin <name>: fresh build/<name>/, empty results; sets OUT
	OUT=$BUILD/$1
	rm -rf "$OUT"
	mkdir -p "$OUT"
	RESULTS=$OUT/results.txt
	export RESULTS
	: >"$RESULTS"
}
result() {	# result <0|1> <description>
	local line
	if [ "$1" = 0 ]; then line="ok - $2"; else line="not ok - $2"; fi
	say "$line"
	[ -n "$RESULTS" ] && say "$line" >>"$RESULTS"
	return 0
}

# The test kernel: the newest installed Debian amd64 image with a kbuild
# directory, so that the module we boot is built for the kernel we boot.
test_kver() {
	local v best="" any=""
	if [ -n "${TEST_KVER:-}" ]; then
		say "$TEST_KVER"
		return
	fi
	for v in $(printf '%s\n' /boot/vmlinuz-*-amd64 | sed -n 's|^/boot/vmlinuz-||p' | grep -v '\*' | sort -V); do
		any=$v
		[ -d "/usr/src/linux-headers-$v" ] || [ -d "/lib/modules/$v/build" ] && best=$v
	done
	say "${best:-$any}"
}

test_kdir() {	# test_kdir <kver>
	if [ -d "/lib/modules/$1/build" ]; then
		say "/lib/modules/$1/build"
	else
		say "/usr/src/linux-headers-$1"
	fi
}

# Selftest names as the guest will run them: selftests/TESTS or
# selftests/build/TESTS (one name per line, '#' comments; a name is a path
# under selftests/build/, or failing that under selftests/), else every
# executable file in selftests/build/.
selftest_dir() { say "$KHV_ROOT/selftests"; }

selftest_path() {	# selftest_path <name> -> host path or nothing
	local d
	d=$(selftest_dir)
	if [ -f "$d/build/$1" ]; then
		say "$d/build/$1"
	elif [ -f "$d/$1" ]; then
		say "$d/$1"
	fi
}

selftest_list() {
	local d f
	d=$(selftest_dir)
	for f in "$d/TESTS" "$d/build/TESTS"; do
		if [ -f "$f" ]; then
			sed -e 's/#.*//' -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' "$f" | grep -v '^$'
			return 0
		fi
	done
	[ -d "$d/build" ] || return 0
	for f in "$d"/build/*; do
		[ -f "$f" ] && [ -x "$f" ] || continue
		case $f in *.so | *.so.* | *.o | *.a | *.d) continue ;; esac
		say "${f##*/}"
	done
}
