#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make profile: where the instructions of one interrupt round trip go,
# under khv and under KVM, function by function.
#
# Boots the test kernel in QEMU (TCG, one CPU, -icount, nokaslr) with
# khv-bench, the kvm-amd modules and tools/bench/profile-guest.sh; for each
# backend the guest starts a long khv-bench loop and gdb single-steps the
# whole machine through PROFILE_HITS round trips (tools/bench/profile-step.py),
# from the first instruction of the guest's interrupt handler to the next
# time it runs.  Each address is then named from the guest's /proc/kallsyms
# (kernel and modules), khv-bench's symbols (the VMM thread and the helper
# thread) or the guest's own code.  Every instruction counts once, as in the
# amd lane's BENCH_ICOUNT=1 figures.  Documentation/khv/bench.rst.
#
#   PROFILE_LOOP      ipi or msi (default msi)
#   PROFILE_BACKENDS  "khv kvm" (default), or one of them
#   PROFILE_HITS      round trips stepped (default 6; the first is dropped)
#   PROFILE_TOP       functions listed per backend (default 30)
#   PROFILE_TIMEOUT   seconds the test machine may run (default 3000)
# Output: build/profile/<loop>.txt (the table) and the raw address files.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

LOOP=${PROFILE_LOOP:-msi}
BACKENDS=${PROFILE_BACKENDS:-khv kvm}
HITS=${PROFILE_HITS:-6}
TOP=${PROFILE_TOP:-30}
OUT=$KHV_ROOT/build/profile
# Stepping is slow: the machine's limit is PROFILE_TIMEOUT, not TIMEOUT.
TIMEOUT=${PROFILE_TIMEOUT:-3000}

# Only loops that no timer drives: QEMU holds timers and interrupts while
# it single-steps (letting them through makes the host's tick run on every
# step), so a timer loop would never see its timer fire.
case $LOOP in
ipi) isr=ipi0_isr ;;
msi) isr=msi_isr ;;
*) die "PROFILE_LOOP: $LOOP is not ipi or msi (the timer loops cannot be stepped)" ;;
esac
[[ $HITS =~ ^[0-9]+$ ]] && [ "$HITS" -ge 2 ] || die "PROFILE_HITS: at least 2"
for b in $BACKENDS; do
	case $b in khv | kvm) ;; *) die "PROFILE_BACKENDS: unknown backend $b" ;; esac
done
command -v gdb >/dev/null || die "gdb missing (apt-get install gdb)"

kver=$(test_kver)
rm -rf "$OUT"
mkdir -p "$OUT/extra/khv/bench/kmod"
say "profile: building khv.ko and khv-bench for $kver"
make -s -C "$KHV_ROOT" module KDIR="$(test_kdir "$kver")" >"$OUT/build.log" 2>&1 ||
	die "khv.ko build failed (log: $OUT/build.log)"
make -s -C "$KHV_ROOT/tools/bench" >>"$OUT/build.log" 2>&1 ||
	die "khv-bench build failed (log: $OUT/build.log)"
bench=$KHV_ROOT/tools/bench/build/khv-bench
install -m 0755 "$bench" "$OUT/extra/khv/bench/"
install -m 0755 "$KHV_ROOT/tools/bench/profile-guest.sh" "$OUT/extra/khv/run"
kmods=$(kvm_modules_into "$kver" kvm-amd "$OUT/extra/khv/bench/kmod")
cat >"$OUT/extra/khv/bench/config" <<-CONF
BACKENDS="$BACKENDS"
LOOP=$LOOP
KVM_MODULES="$kmods"
CONF

# Where a round trip starts: the IRET of the guest's handler (real-mode
# code), at its offset in the payload, which khv-bench loads at
# BENCH_GUEST_LOAD (tools/bench/guest.h).  Not the handler's first
# instruction: QEMU delivers an injected interrupt and runs that instruction
# in one step, so a single-step never stops there.
load=$(awk '$2 == "BENCH_GUEST_LOAD" { print $3 }' "$KHV_ROOT/tools/bench/guest.h")
sym() { nm "$bench" | awk -v s="$1" '$3 == s { print $1 }'; }
at=$(sym "$isr")
iret=$(objdump -D -m i8086 --start-address=0x"$at" --stop-address=$((0x$at + 256)) "$bench" |
	awk -F'\t' '$3 ~ /^iret/ && !found { gsub(/[ :]/, "", $1); print $1; found = 1 }')
[ -n "$iret" ] || die "no IRET in $isr of $bench"
mark=$(printf '%016x' $((load + 0x$iret - 0x$(sym khv_bench_guest))))
payload=$((0x$(sym khv_bench_guest_end) - 0x$(sym khv_bench_guest)))

env INITRAMFS_EXTRA="$OUT/extra" RMMOD=0 RUN_TIMEOUT=$((TIMEOUT - 60)) \
	bash "$KHV_ROOT/scripts/mkinitramfs.sh" "$OUT/initramfs.cpio.gz" --no-selftests --no-tools \
	>"$OUT/initramfs.log" 2>&1 || die "initramfs failed (log: $OUT/initramfs.log)"

port=$((20000 + $$ % 20000))
go=$OUT/go.sock
log=$OUT/console.log
say "profile: booting $kver in QEMU (tcg, -icount); $LOOP, $HITS round trips per backend"
QEMU_EXTRA="-icount shift=0,sleep=off -gdb tcp:127.0.0.1:$port -serial mon:stdio
	-serial unix:$go,server=on,wait=off" QEMU_SMP=1 TIMEOUT=$TIMEOUT \
	bash "$KHV_ROOT/scripts/qemu-run.sh" "$OUT/initramfs.cpio.gz" "$log" khvmode=run nokaslr &
qemu=$!
trap 'kill $qemu 2>/dev/null || true' EXIT

wait_for() {	# wait_for <pattern>: in the console, or die when QEMU ends
	until grep -aq "$1" "$log" 2>/dev/null; do
		kill -0 $qemu 2>/dev/null || die "QEMU ended before '$1' (console: $log)"
		grep -a '^PROFILE-FAILED' "$log" 2>/dev/null && die "the guest could not run the loop"
		sleep 1
	done
}

for b in $BACKENDS; do
	wait_for "^PROFILE-READY $b"
	say "profile: $b: single-stepping (a few minutes)"
	PROFILE_GDB=127.0.0.1:$port PROFILE_MARK=$mark PROFILE_HITS=$HITS \
		PROFILE_OUT=$OUT/$b.pcs PROFILE_GO=$go \
		timeout 1800 gdb -q -batch -x "$KHV_ROOT/tools/bench/profile-step.py" \
		>"$OUT/gdb-$b.log" 2>&1 || die "gdb failed (log: $OUT/gdb-$b.log)"
done
wait $qemu || true
trap - EXIT

# The kernel's symbols (printed once), then one table per backend.
sed -n '/^KALLSYMS-BEGIN/,/^KALLSYMS-END/p' "$log" | tr -d '\r' | sed '1d;$d' |
	base64 -d | gunzip >"$OUT/kallsyms" || die "no kernel symbols in $log"

# report <backend>: a total line split into the backend's module, the rest
# of the kernel, khv-bench and the guest, then "<instructions per round
# trip> <function>" lines, largest first; names: kernel or module symbols,
# user:<khv-bench symbol>, guest (the payload).  Every address is 16 hex
# digits, so sort orders them; sort -s keeps a symbol (listed first) ahead
# of an instruction at its own address.
report() {
	local b=$1
	{
		awk '{ print $1, "S", $2, "kernel" }' "$OUT/kallsyms"
		tr -d '\r' <"$log" | awk -v b="$b" '$1 == "KSYM" && $2 == b { print $3, "S", $4, "module" }'
		nm "$bench" | awk '$2 ~ /^[tTwW]$/ { print $1, "S", "user:" $3, "user" }'
		printf '%016x S guest guest\n%016x S ? user\n' "$load" $((load + payload))
		awk -v m="$mark" -v n="$HITS" '
			$1 == m { hit++ }
			hit >= 2 && hit <= n { print $1, "P" }' "$OUT/$b.pcs"
	} | LC_ALL=C sort -s -k1,1 |
		awk -v iters=$((HITS - 1)) '
		$2 == "S" { cur = $3; class = $4; next }
		{ count[cur]++; part[class]++; total++ }
		END {
			printf "%d total (module %d, kernel %d, user %d, guest %d)\n", total / iters,
				part["module"] / iters, part["kernel"] / iters, part["user"] / iters,
				part["guest"] / iters
			for (f in count) printf "%d %s\n", count[f] / iters + 0.5, f
		}' | sort -k1,1nr
}

table=$OUT/$LOOP.txt
{
	say "make profile PROFILE_LOOP=$LOOP: emulated instructions per round trip, mean of $((HITS - 1))"
	say "(QEMU TCG single-stepped: no interrupts or timers while stepping; kernel $kver)"
	for b in $BACKENDS; do
		report "$b" >"$OUT/$b.txt"
		say ""
		say "$b: $(head -n1 "$OUT/$b.txt")"
		sed -n "2,$((TOP + 1))p" "$OUT/$b.txt" | awk '{ printf "  %7d  %s\n", $1, $2 }'
	done
} | tee "$table"
say "profile: table $table, every function in $OUT/<backend>.txt"
