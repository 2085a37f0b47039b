#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make bench: the cost of an exit round trip under khv and under KVM, in the
# same emulated machine (Documentation/khv/bench.rst).
#
# Builds khv.ko for the test kernel and tools/bench/build/khv-bench, packs
# them with the test kernel's own KVM modules into the lane's initramfs,
# boots QEMU (TCG, -cpu max) once, and in the guest: khv-bench on khv,
# rmmod khv, insmod kvm + kvm-amd, khv-bench on KVM.  Prints, per guest
# loop, the median cycles per exit under each and the ratio khv/KVM.
#
# Exit status: 0 when every figure was measured (whatever the ratios), 1
# when a build, a boot or a measurement failed.
#
# Knobs (environment or make variables), besides those of scripts/lib.sh:
#   BENCH_BACKENDS    "khv kvm" (default), or one of them.  With "kvm" alone
#                     khv.ko is not needed: the image then boots
#                     tools/bench/bench-guest.sh as /init.
#   BENCH_ROUNDS      rounds of (khv, KVM), alternating the order (default 3)
#   BENCH_ARGS        more khv-bench options, e.g. "--runs=5 --io-iters=20000"
#                     (default --runs=3: each round reports a median of 3)
#   BENCH_KVM_MODULE  the vendor module of the peer (default kvm-amd)
#   BENCH_APPEND      extra kernel command line, e.g. no5lvl
#   KHV_KO            a prebuilt khv.ko to measure instead of building one
#   BENCH_ICOUNT=1    deterministic mode: QEMU -icount (one vCPU), so the
#                     guest TSC counts emulated instructions, not host time;
#                     host load then changes nothing (needs QEMU_EXTRA
#                     support in scripts/qemu-run.sh)
#   TIMEOUT           limit for the whole boot (default 900 s here)
# Logs and images: build/bench/; the BENCH lines: build/bench/bench.txt.
set -uo pipefail
: "${TIMEOUT:=900}"
export TIMEOUT
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

OUT=$BUILD/bench
rm -rf "$OUT"
mkdir -p "$OUT"
RESULTS=$OUT/results.txt
export RESULTS
: >"$RESULTS"

BENCH_BACKENDS=${BENCH_BACKENDS:-khv kvm}
BENCH_ROUNDS=${BENCH_ROUNDS:-3}
BENCH_ARGS=${BENCH_ARGS:---runs=3}
BENCH_KVM_MODULE=${BENCH_KVM_MODULE:-kvm-amd}
BUSYBOX=${BUSYBOX:-/bin/busybox}
LOOPS="cpuid io"
want() { case " $BENCH_BACKENDS " in *" $1 "*) return 0 ;; esac; return 1; }

quiet() {	# quiet <log> <command...>: the log's tail on failure
	local log=$1 rc=0
	shift
	"$@" >"$log" 2>&1 || rc=$?
	[ "$rc" = 0 ] || tail -n 30 "$log" | sed 's/^/#   /' >&2
	return "$rc"
}

for b in $BENCH_BACKENDS; do
	case $b in khv | kvm) ;; *) die "BENCH_BACKENDS: unknown backend $b" ;; esac
done

bash "$KHV_ROOT/scripts/deps.sh" || die "could not install the packages the bench needs"
kver=$(test_kver)
[ -n "$kver" ] || die "no /boot/vmlinuz-*-amd64 (apt-get install linux-image-amd64)"
say "bench: test kernel $kver, accel $ACCEL, backends: $BENCH_BACKENDS"

# --- build -------------------------------------------------------------------
quiet "$OUT/build-bench.log" make -C "$KHV_ROOT/tools/bench" -j"$JOBS" ||
	die "tools/bench build failed (log: $OUT/build-bench.log)"
have_khv=0
if want khv && [ -n "${KHV_KO:-}" ]; then
	[ -f "$KHV_KO" ] || die "KHV_KO=$KHV_KO does not exist"
	have_khv=1
elif want khv; then
	if quiet "$OUT/build-module.log" \
		make -C "$KHV_ROOT" -j"$JOBS" module KDIR="$(test_kdir "$kver")"; then
		have_khv=1
	else
		result 1 "bench: khv.ko build (log: $OUT/build-module.log); measuring KVM only"
	fi
fi

# --- what goes into the guest, on top of the lane's image ----------------------
extra=$OUT/extra
mkdir -p "$extra/khv/bench/kmod"
install -m 0755 "$KHV_ROOT/tools/bench/build/khv-bench" "$extra/khv/bench/"
install -m 0755 "$KHV_ROOT/tools/bench/bench-guest.sh" "$extra/khv/run"

# The peer: the vendor module and its dependencies, in load order, from the
# test kernel's own tree; compressed modules are unpacked here because
# busybox insmod may not read them.
kmods=()
if want kvm; then
	deps=$(modprobe -S "$kver" --show-depends "$BENCH_KVM_MODULE" 2>"$OUT/modprobe.err" |
		awk '$1 == "insmod" { print $2 }')
	[ -n "$deps" ] || die "cannot resolve $BENCH_KVM_MODULE for $kver: $(cat "$OUT/modprobe.err")"
	for ko in $deps; do
		name=${ko##*/}
		case $name in
		*.ko) cp "$ko" "$extra/khv/bench/kmod/$name" ;;
		*.ko.xz) name=${name%.xz}; xz -dc "$ko" >"$extra/khv/bench/kmod/$name" ;;
		*.ko.zst) name=${name%.zst}; zstd -qdc "$ko" >"$extra/khv/bench/kmod/$name" ;;
		*.ko.gz) name=${name%.gz}; gzip -dc "$ko" >"$extra/khv/bench/kmod/$name" ;;
		*) die "unexpected module file $ko" ;;
		esac || die "cannot unpack $ko"
		kmods+=("$name")
	done
fi

backends=$BENCH_BACKENDS
[ "$have_khv" = 1 ] || backends=$(tr ' ' '\n' <<<"$BENCH_BACKENDS" | grep -vx khv | tr '\n' ' ')
cat >"$extra/khv/bench/config" <<EOF
BACKENDS="$backends"
BENCH_ARGS="$BENCH_ARGS"
ROUNDS=$BENCH_ROUNDS
KVM_MODULES="${kmods[*]-}"
EOF

# --- the image -----------------------------------------------------------------
img=$OUT/initramfs.cpio.gz
if [ "$have_khv" = 1 ]; then
	# The lane's image; guest-init.sh loads khv.ko and runs /khv/run, which
	# unloads khv itself before loading KVM (RMMOD=0).
	quiet "$OUT/initramfs.log" env INITRAMFS_EXTRA="$extra" RMMOD=0 \
		RUN_TIMEOUT=$((TIMEOUT - 60)) \
		bash "$KHV_ROOT/scripts/mkinitramfs.sh" "$img" --no-selftests --no-tools ||
		die "initramfs failed (log: $OUT/initramfs.log)"
	mode=run
else
	# No khv.ko, so guest-init.sh (which needs it) cannot be used: a minimal
	# image with bench-guest.sh as /init.  khv-bench is static.
	[ -x "$BUSYBOX" ] || die "$BUSYBOX missing (apt-get install busybox-static)"
	root=$OUT/standalone.root
	mkdir -p "$root"/{bin,proc,sys,dev,tmp}
	cp "$BUSYBOX" "$root/bin/busybox"
	ln -s busybox "$root/bin/sh"
	cp -a "$extra"/. "$root"/
	install -m 0755 "$KHV_ROOT/tools/bench/bench-guest.sh" "$root/init"
	(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$img" ||
		die "initramfs failed"
	mode=standalone
fi

# --- the run -------------------------------------------------------------------
if [ "${BENCH_ICOUNT:-0}" = 1 ]; then
	[ "$ACCEL" = tcg ] || die "BENCH_ICOUNT=1 needs ACCEL=tcg"
	grep -q QEMU_EXTRA "$KHV_ROOT/scripts/qemu-run.sh" ||
		die "BENCH_ICOUNT=1: scripts/qemu-run.sh does not pass QEMU_EXTRA to QEMU yet"
	# 1 ns of virtual time per instruction, and no sleeping to keep virtual
	# time near real time.  One vCPU: with two, secondary CPU bring-up hangs
	# under -icount in QEMU 7.2.
	export QEMU_EXTRA="-icount shift=0,sleep=off ${QEMU_EXTRA:-}" QEMU_SMP=1
fi
say "bench: booting $kver in QEMU ($ACCEL, -cpu ${QEMU_CPU:-max}); about a minute per backend"
qrc=0
# shellcheck disable=SC2086 # BENCH_APPEND is a list of kernel arguments
bash "$KHV_ROOT/scripts/qemu-run.sh" "$img" "$OUT/bench.log" khvmode=run ${BENCH_APPEND:-} || qrc=$?

# The lane's verdict on the boot (completion, kernel log, taint).  Without
# khv.ko its khv-specific lines (insmod, the /khv/run section) do not apply.
if [ "$mode" = run ]; then
	bash "$KHV_ROOT/scripts/check-log.sh" bench "$OUT/bench.log" "$qrc" run any
else
	RESULTS=$OUT/check-log.txt bash "$KHV_ROOT/scripts/check-log.sh" bench \
		"$OUT/bench.log" "$qrc" run any >/dev/null
	grep -v -e 'insmod khv.ko' -e 'bench/run:' "$OUT/check-log.txt" | while read -r l; do
		say "$l"
		say "$l" >>"$RESULTS"
	done
fi

console=$OUT/bench/console.txt
grep -a '^BENCH ' "$console" >"$OUT/bench.txt"
if grep -aq '^KHV-BENCH-DONE rc=0' "$console"; then
	result 0 "bench: every backend ran"
else
	result 1 "bench: a backend failed (KHV-BENCH-DONE: $(grep -a '^KHV-BENCH-DONE' "$console" | tail -n1))"
	grep -a -E '^(BENCH .*failed|khv-bench: )' "$console" | sed 's/^/#   /'
fi

# --- the table ---------------------------------------------------------------
# Each round prints, per (backend, loop), the median and the minimum of its
# runs.  The figure is the median of the round medians; "best" is the
# smallest run of all, a second view that host load (which only ever adds
# time) cannot inflate.
figure() {	# figure <backend> <loop> -> "median best" or nothing
	awk -v b="$1" -v l="$2" '
	$1 == "BENCH" && $2 == b && $3 == l {
		for (i = 4; i <= NF; i++) {
			if (index($i, "cycles_per_exit=") == 1)
				v[n++] = substr($i, 17) + 0
			if (index($i, "min=") == 1 && (best == "" || substr($i, 5) + 0 < best))
				best = substr($i, 5) + 0
		}
	}
	END {
		if (!n)
			exit
		for (i = 1; i < n; i++)	# insertion sort: a handful of values
			for (j = i; j > 0 && v[j - 1] > v[j]; j--) {
				t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
			}
		m = n % 2 ? v[int(n / 2)] : (v[n / 2 - 1] + v[n / 2]) / 2
		printf "%.0f %.0f\n", m, best
	}' "$OUT/bench.txt"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

say ""
clock="host TSC"
[ "${BENCH_ICOUNT:-0}" = 1 ] && clock="TSC under -icount: 1 cycle = 1 emulated instruction"
say "Cycles per exit round trip ($clock): median of $BENCH_ROUNDS rounds, (best single run)"
printf '%-6s %20s %20s %16s\n' loop khv KVM khv/KVM
for l in $LOOPS; do
	read -r km kb < <(figure khv "$l")
	read -r vm vb < <(figure kvm "$l")
	kc=- vc=- rc=-
	[ -n "${km:-}" ] && kc="$km ($kb)"
	[ -n "${vm:-}" ] && vc="$vm ($vb)"
	if [ -n "${km:-}" ] && [ -n "${vm:-}" ]; then
		rc="$(ratio "$km" "$vm") ($(ratio "$kb" "$vb"))"
		say "BENCH ratio $l khv/kvm=$(ratio "$km" "$vm") best=$(ratio "$kb" "$vb")" >>"$OUT/bench.txt"
	fi
	printf '%-6s %20s %20s %16s\n' "$l" "$kc" "$vc" "$rc"
done
say ""
for l in $LOOPS; do
	for b in $BENCH_BACKENDS; do
		[ -n "$(figure "$b" "$l")" ] || result 1 "bench: no $b $l figure"
	done
done

fail=$(grep -c '^not ok' "$RESULTS")
if [ "$fail" -ne 0 ]; then
	say "bench: $fail problem(s); console log: $console"
	exit 1
fi
say "bench: ok (figures: $OUT/bench.txt, console: $console)"
