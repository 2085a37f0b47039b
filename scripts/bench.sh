#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make bench: the cost of an exit round trip under khv and under KVM, in the
# same emulated machine (Documentation/khv/bench.rst).
#
# Builds khv.ko for the test kernel and tools/bench/build/khv-bench, packs
# them with the test kernel's own KVM modules into the lane's initramfs,
# and per vendor lane boots the emulator once: QEMU (TCG, -cpu max) with
# kvm-amd as the peer (AMD-V), Bochs with kvm-intel (VT-x).  In the guest:
# khv-bench on khv, rmmod khv, insmod the KVM modules, khv-bench on KVM.
# Prints one table per lane: per guest loop, the median cycles per exit
# under each and the ratio khv/KVM.
#
# Exit status: 0 when every figure was measured (whatever the ratios), 1
# when a build, a boot or a measurement failed.
#
# Knobs (environment or make variables), besides those of scripts/lib.sh:
#   BENCH_LANES       "amd intel vmm" (default), or some of them: amd boots
#                     QEMU with kvm-amd as the peer, intel boots Bochs with
#                     kvm-intel; vmm boots QEMU and in it compares khv-run
#                     with QEMU over kvm-amd booting a Linux guest
#                     (scripts/bench-vmm.sh)
#   BENCH_VMM_ROUNDS  vmm lane: rounds (default 3)
#   BENCH_VMM_MEM     vmm lane: the test machine's memory (default 4G: the
#                     migration figures run two 1 GiB guests at once)
#   BENCH_BACKENDS    "khv kvm" (default), or one of them.  With "kvm" alone
#                     khv.ko is not needed: the image then boots
#                     tools/bench/bench-guest.sh as /init.
#   BENCH_DIRTY_BITS  khv's module parameter dirty_bits (default: khv's, 1):
#                     0 measures the dirty log by write protection
#   BENCH_TIMING_ROUNDS  rounds of khv's exit loops with exit_timing on and
#                     off (default 2; Documentation/khv/bench.rst)
#   BENCH_TIMING_GATE the bench fails when exit_timing costs more than this
#                     many percent on an exit loop (default 5: a regression
#                     gate; the goal, 2 %, is reported as met or not).  Only
#                     where the clock counts instructions (intel, and amd
#                     with BENCH_ICOUNT=1): host time under TCG is too noisy
#   BENCH_ROUNDS      amd lane: rounds of (khv, KVM), alternating the order
#                     (default 3)
#   BENCH_ARGS        amd lane: more khv-bench options, e.g. "--runs=5 --io-iters=20000"
#                     (default --runs=3: each round reports a median of 3)
#   BENCH_KVM_MODULE  the vendor module of the amd lane's peer (default
#                     kvm-amd)
#   BENCH_KVM_ARGS    parameters for kvm.ko, e.g. "lapic_timer_advance_ns=0
#                     halt_poll_ns=0" (default: none, KVM's defaults)
#   BENCH_INTEL_ROUNDS, BENCH_INTEL_ARGS  the intel lane's rounds and
#                     khv-bench options (default 2 and --runs=3: Bochs'
#                     clock counts instructions, so runs barely differ)
#   BENCH_APPEND      extra kernel command line (both lanes), e.g. no5lvl,
#                     or l1tf=off (kvm-intel then skips its L1D flushes)
#   KHV_KO            a prebuilt khv.ko to measure instead of building one
#   BENCH_ICOUNT=1    amd lane, deterministic mode: QEMU -icount (one
#                     vCPU), so the guest TSC counts emulated instructions, not host time;
#                     host load then changes nothing (needs QEMU_EXTRA
#                     support in scripts/qemu-run.sh)
#   TIMEOUT           limit for one lane's boot (default 900 s here)
# Logs and images: build/bench/<lane>/; the BENCH lines:
# build/bench/<lane>/bench.txt.
set -uo pipefail
: "${TIMEOUT:=900}"
export TIMEOUT
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=scripts/bench-vmm.sh
. "$(dirname "$0")/bench-vmm.sh"

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
BENCH_LANES=${BENCH_LANES:-amd intel vmm}
BENCH_VMM_ROUNDS=${BENCH_VMM_ROUNDS:-3}
BENCH_INTEL_ROUNDS=${BENCH_INTEL_ROUNDS:-2}
BENCH_INTEL_ARGS=${BENCH_INTEL_ARGS:---runs=3}
BUSYBOX=${BUSYBOX:-/bin/busybox}
LOOPS="cpuid io"
DIRTY_LOOPS="dirty dirty-sparse"
IRQ_LOOPS="timer hlt-timer ipi msi"
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
for v in $BENCH_LANES; do
	case $v in amd | intel | vmm) ;; *) die "BENCH_LANES: unknown lane $v (amd, intel, vmm)" ;; esac
done

bash "$KHV_ROOT/scripts/deps.sh" || die "could not install the packages the bench needs"
kver=$(test_kver)
[ -n "$kver" ] || die "no /boot/vmlinuz-*-amd64 (apt-get install linux-image-amd64)"
say "bench: test kernel $kver, lanes: $BENCH_LANES, backends: $BENCH_BACKENDS"

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

backends=$BENCH_BACKENDS
[ "$have_khv" = 1 ] || backends=$(tr ' ' '\n' <<<"$BENCH_BACKENDS" | grep -vx khv | tr '\n' ' ')

# --- one lane --------------------------------------------------------------------
# bench_lane <lane> <runner script> <KVM vendor module> <rounds> <khv-bench args>
# Builds the lane's image, boots it and prints its table; everything goes to
# $OUT/<lane>/.  Problems are result lines in $RESULTS.
bench_lane() {
	local lane=$1 runner=$2 kvm_module=$3 rounds=$4 args=$5
	local dir=$OUT/$lane extra=$OUT/$lane/extra img=$OUT/$lane/initramfs.cpio.gz
	local names mode qrc console l b clock kind
	local kmods=()
	mkdir -p "$extra/khv/bench/kmod"
	install -m 0755 "$KHV_ROOT/tools/bench/build/khv-bench" "$extra/khv/bench/"
	install -m 0755 "$KHV_ROOT/tools/bench/bench-guest.sh" "$extra/khv/run"

	# The peer: the vendor module and its dependencies, in load order, from
	# the test kernel's own tree; compressed modules are unpacked here
	# because busybox insmod may not read them.
	if want kvm; then
		if ! names=$(kvm_modules_into "$kver" "$kvm_module" "$extra/khv/bench/kmod" \
			2>"$dir/modprobe.err"); then
			result 1 "bench $lane: $(cat "$dir/modprobe.err")"
			return 1
		fi
		read -r -a kmods <<<"$names"
	fi

	kind=exits
	if [ "$lane" = vmm ]; then
		kind=vmm
		vmm_extra "$extra" || return 1
	fi

	cat >"$extra/khv/bench/config" <<-CONF
	KIND=$kind
	BACKENDS="$backends"
	BENCH_ARGS="$args"
	ROUNDS=$rounds
	TIMING_ROUNDS=${BENCH_TIMING_ROUNDS:-2}
	KVM_MODULES="${kmods[*]-}"
	KVM_ARGS="${BENCH_KVM_ARGS:-}"
	CONF

	# --- the image ---
	if [ "$have_khv" = 1 ]; then
		# The lane's image; guest-init.sh loads khv.ko and runs /khv/run,
		# which unloads khv itself before loading KVM (RMMOD=0).
		if ! quiet "$dir/initramfs.log" env INITRAMFS_EXTRA="$extra" RMMOD=0 \
			INSMOD_ARGS="${INSMOD_ARGS:-}${BENCH_DIRTY_BITS:+ dirty_bits=$BENCH_DIRTY_BITS}" \
			RUN_TIMEOUT=$((TIMEOUT - 60)) \
			bash "$KHV_ROOT/scripts/mkinitramfs.sh" "$img" --no-selftests --no-tools; then
			result 1 "bench $lane: initramfs failed (log: $dir/initramfs.log)"
			return 1
		fi
		mode=run
	else
		# No khv.ko, so guest-init.sh (which needs it) cannot be used: a
		# minimal image with bench-guest.sh as /init.  khv-bench is static.
		[ -x "$BUSYBOX" ] || die "$BUSYBOX missing (apt-get install busybox-static)"
		local root=$dir/standalone.root
		mkdir -p "$root"/{bin,proc,sys,dev,tmp}
		cp "$BUSYBOX" "$root/bin/busybox"
		ln -sf busybox "$root/bin/sh"
		cp -a "$extra"/. "$root"/
		install -m 0755 "$KHV_ROOT/tools/bench/bench-guest.sh" "$root/init"
		(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
			gzip -1 >"$img" || { result 1 "bench $lane: initramfs failed"; return 1; }
		mode=standalone
	fi

	# --- the run ---
	qrc=0
	clock="host TSC"
	if [ "$lane" = vmm ]; then
		say "bench vmm: booting $kver in QEMU ($ACCEL, -cpu ${QEMU_CPU:-max}); in it Linux guests under khv-run and QEMU+KVM, about 2 minutes per round"
	elif [ "$lane" = amd ]; then
		say "bench amd: booting $kver in QEMU ($ACCEL, -cpu ${QEMU_CPU:-max}); about a minute per backend"
		if [ "${BENCH_ICOUNT:-0}" = 1 ]; then
			clock="TSC under -icount: 1 cycle = 1 emulated instruction"
		fi
	else
		say "bench intel: booting $kver in Bochs (${BOCHS_CPU:-broadwell_ult}); about 3 minutes"
		clock="Bochs TSC: advances with emulated instructions"
	fi
	# shellcheck disable=SC2086 # BENCH_APPEND is a list of kernel arguments
	BOCHS_TIMEOUT=${BOCHS_TIMEOUT:-$TIMEOUT} bash "$KHV_ROOT/scripts/$runner" "$img" \
		"$dir/bench.log" khvmode=run ${BENCH_APPEND:-} || qrc=$?

	# The lane's verdict on the boot (completion, kernel log, taint).
	# Without khv.ko its khv-specific lines (insmod, the /khv/run section)
	# do not apply.
	if [ "$mode" = run ]; then
		bash "$KHV_ROOT/scripts/check-log.sh" "bench-$lane" "$dir/bench.log" "$qrc" run any
	else
		RESULTS=$dir/check-log.txt bash "$KHV_ROOT/scripts/check-log.sh" "bench-$lane" \
			"$dir/bench.log" "$qrc" run any >/dev/null
		grep -v -e 'insmod khv.ko' -e "bench-$lane/run:" "$dir/check-log.txt" | while read -r l; do
			say "$l"
			say "$l" >>"$RESULTS"
		done
	fi

	console=$dir/bench-$lane/console.txt
	grep -a '^BENCH ' "$console" >"$dir/bench.txt"
	if grep -aq '^KHV-BENCH-DONE rc=0' "$console"; then
		result 0 "bench $lane: every backend ran"
	else
		result 1 "bench $lane: a backend failed (KHV-BENCH-DONE: $(grep -a '^KHV-BENCH-DONE' "$console" | tail -n1))"
		grep -a -E '^(BENCH .*failed|khv-bench: )' "$console" | sed 's/^/#   /'
	fi

	# --- the tables ---
	if [ "$lane" = vmm ]; then
		vmm_tables "$dir/bench.txt" "$rounds"
		say "bench $lane: figures $dir/bench.txt, console $console"
		return 0
	fi
	say ""
	say "$lane ($kvm_module as the peer). Cycles per exit round trip ($clock):"
	say "median of $rounds rounds, (best single run)"
	# shellcheck disable=SC2086 # lists of loop names
	table "$dir/bench.txt" $LOOPS
	say ""
	say "$lane, interrupts (in-kernel irqchip). Cycles per interrupt or round trip ($clock):"
	say "median of $rounds rounds, (best single run); hlt-timer: beyond the programmed delay"
	# shellcheck disable=SC2086
	table "$dir/bench.txt" $IRQ_LOOPS
	say ""
	say "$lane, the dirty log. Cycles per pass: pages written, one get of the log ($clock);"
	say "dirty: the $(guest_def BENCH_DIRTY_PAGES) pages of its slot, dirty-sparse: one in $(guest_def BENCH_SPARSE_STRIDE) of $(guest_def BENCH_SPARSE_PAGES)"
	say "median of $rounds rounds, (best single run); khv: module parameter dirty_bits=${BENCH_DIRTY_BITS:-1}"
	# shellcheck disable=SC2086
	table "$dir/bench.txt" $DIRTY_LOOPS
	say ""
	if want khv && [ "$have_khv" = 1 ]; then
		say "$lane, the cost of timing every exit (khv module parameter exit_timing, goal < 2 %):"
		say "cycles per exit round trip, median of the runs (best single run)"
		timing_table "$dir/bench.txt" $LOOPS
		say ""
	fi
	for l in $LOOPS $DIRTY_LOOPS $IRQ_LOOPS; do
		for b in $BENCH_BACKENDS; do
			[ -n "$(figure "$dir/bench.txt" "$b" "$l")" ] || result 1 "bench $lane: no $b $l figure"
		done
	done
	say "bench $lane: figures $dir/bench.txt, console $console"
}

# table <bench.txt> <loop>...: one line per loop, khv, KVM and the ratio;
# the ratios also go to bench.txt as "BENCH ratio" lines.
table() {
	local txt=$1 l km kb vm vb kc vc rc
	shift
	printf '%-12s %20s %20s %16s\n' loop khv KVM khv/KVM
	for l in "$@"; do
		km="" kb="" vm="" vb=""
		read -r km kb < <(figure "$txt" khv "$l")
		read -r vm vb < <(figure "$txt" kvm "$l")
		kc=- vc=- rc=-
		[ -n "${km:-}" ] && kc="$km ($kb)"
		[ -n "${vm:-}" ] && vc="$vm ($vb)"
		if [ -n "${km:-}" ] && [ -n "${vm:-}" ]; then
			rc="$(ratio "$km" "$vm") ($(ratio "$kb" "$vb"))"
			say "BENCH ratio $l khv/kvm=$(ratio "$km" "$vm") best=$(ratio "$kb" "$vb")" >>"$txt"
		fi
		printf '%-12s %20s %20s %16s\n' "$l" "$kc" "$vc" "$rc"
	done
}

# timing_table <bench.txt> <loop>...: khv with exit timing on and off
# (bench-guest.sh's backends khv-timing1 and khv-timing0), and the cost of
# having it on, in percent; also into bench.txt as "BENCH overhead" lines.
timing_table() {
	local txt=$1 l om ob fm fb oc fc pc gates="" g
	shift
	printf '%-9s %20s %20s %16s
' loop "timing on" "timing off" overhead
	for l in "$@"; do
		om="" ob="" fm="" fb=""
		read -r om ob < <(figure "$txt" khv-timing1 "$l")
		read -r fm fb < <(figure "$txt" khv-timing0 "$l")
		oc=- fc=- pc=-
		[ -n "${om:-}" ] && oc="$om ($ob)"
		[ -n "${fm:-}" ] && fc="$fm ($fb)"
		if [ -n "${om:-}" ] && [ -n "${fm:-}" ]; then
			pc="$(percent "$om" "$fm") ($(percent "$ob" "$fb"))"
			say "BENCH overhead exit_timing $l pct=$(percent "$om" "$fm") best=$(percent "$ob" "$fb")" >>"$txt"
			gates="$gates $l:$om:$fm"
		else
			result 1 "bench $lane: no exit timing figure for $l"
		fi
		printf '%-9s %20s %20s %16s
' "$l" "$oc" "$fc" "$pc"
	done
	for g in $gates; do
		IFS=: read -r l om fm <<<"$g"
		timing_gate "$l" "$om" "$fm"
	done
}
percent() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.1f%%", (a / b - 1) * 100 }'; }

# timing_gate <loop> <on> <off>: exit_timing's cost on one loop, against
# the 2 % goal (said) and BENCH_TIMING_GATE (a failed result above it).
timing_gate() {
	local gate=${BENCH_TIMING_GATE:-5} pct
	pct=$(awk -v a="$2" -v b="$3" 'BEGIN { printf "%.2f", (a / b - 1) * 100 }')
	if [ "$clock" = "host TSC" ]; then
		say "exit_timing on $1: $pct % (host time: no verdict; BENCH_ICOUNT=1 for one)"
		return 0
	fi
	if awk -v p="$pct" 'BEGIN { exit !(p < 2) }'; then
		say "exit_timing on $1: $pct % (goal < 2 %: met)"
	else
		say "exit_timing on $1: $pct % (goal < 2 %: not met)"
	fi
	if awk -v p="$pct" -v g="$gate" 'BEGIN { exit !(p > g) }'; then
		result 1 "bench $lane: exit_timing costs $pct % on $1, over the gate of $gate %"
	else
		result 0 "bench $lane: exit_timing costs $pct % on $1, within the gate of $gate %"
	fi
}

# Each round prints, per (backend, loop), the median and the minimum of its
# runs: cycles_per_exit= for the exit loops, cycles_per_iter= for the
# interrupt loops.  The figure is the median of the round medians; "best"
# is the smallest run of all, a second view that host load (which only
# ever adds time) cannot inflate.
figure() {	# figure <bench.txt> <backend> <loop> -> "median best" or nothing
	awk -v b="$2" -v l="$3" '
	$1 == "BENCH" && $2 == b && $3 == l {
		for (i = 4; i <= NF; i++) {
			if (index($i, "cycles_per_exit=") == 1 || index($i, "cycles_per_iter=") == 1)
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
	}' "$1"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
# guest_def <name>: a number tools/bench/guest.h defines (the dirty loops').
guest_def() { awk -v n="$1" '$1 == "#define" && $2 == n { print $3 }' "$KHV_ROOT/tools/bench/guest.h"; }

# --- the lanes -----------------------------------------------------------------
for v in $BENCH_LANES; do
	mkdir -p "$OUT/$v"
	case $v in
	amd)
		if [ "${BENCH_ICOUNT:-0}" = 1 ]; then
			[ "$ACCEL" = tcg ] || die "BENCH_ICOUNT=1 needs ACCEL=tcg"
			grep -q QEMU_EXTRA "$KHV_ROOT/scripts/qemu-run.sh" ||
				die "BENCH_ICOUNT=1: scripts/qemu-run.sh does not pass QEMU_EXTRA to QEMU yet"
		fi
		# -icount: 1 ns of virtual time per instruction, and no sleeping to
		# keep virtual time near real time.  One vCPU: with two, secondary
		# CPU bring-up hangs under -icount in QEMU 7.2.  A subshell, so the
		# intel lane does not inherit it.
		(
			if [ "${BENCH_ICOUNT:-0}" = 1 ]; then
				export QEMU_EXTRA="-icount shift=0,sleep=off ${QEMU_EXTRA:-}" QEMU_SMP=1
			fi
			bench_lane amd qemu-run.sh "$BENCH_KVM_MODULE" "$BENCH_ROUNDS" "$BENCH_ARGS"
		)
		;;
	intel)
		bench_lane intel bochs-run.sh kvm-intel "$BENCH_INTEL_ROUNDS" "$BENCH_INTEL_ARGS"
		;;
	vmm)
		# The migration pair: two 1 GiB guests at once.
		QEMU_MEM=${BENCH_VMM_MEM:-4G} \
			bench_lane vmm qemu-run.sh "$BENCH_KVM_MODULE" "$BENCH_VMM_ROUNDS" ""
		;;
	esac
done

fail=$(grep -c '^not ok' "$RESULTS")
if [ "$fail" -ne 0 ]; then
	say "bench: $fail problem(s); consoles: $OUT/<lane>/bench-<lane>/console.txt"
	exit 1
fi
say "bench: ok (figures: $OUT/<lane>/bench.txt)"
