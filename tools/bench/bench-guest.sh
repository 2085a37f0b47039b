#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The benchmark inside the test guest; scripts/bench.sh packs it with
# khv-bench, the KVM modules of the test kernel and /khv/bench/config.
#
# Two roles:
#  - /khv/run, started by scripts/guest-init.sh (khvmode=run) after it
#    loaded khv.ko.
#  - /init of an image without khv.ko (KVM figures only, for when khv.ko
#    is not buildable): then it also mounts, dumps dmesg and powers off,
#    printing the same markers guest-init.sh does.
#
# khv and KVM cannot be loaded at the same time (khv keeps EFER.SVME set
# while loaded and KVM refuses SVM that someone else turned on), so the
# script swaps modules between backends.  The emulator's speed drifts
# (host load), so instead of all of khv then all of KVM it runs ROUNDS
# rounds in the order A B, B A, A B, ...: both backends see the same drift.
#
# Output: khv-bench's "BENCH <backend> <loop> ..." lines (exit and
# interrupt loops), one set per round;
# "BENCH <backend> failed (<why>)" when a backend could not run; at the end
# "KHV-BENCH-DONE rc=<0|1>".

B=/khv/bench
BACKENDS="khv kvm"
BENCH_ARGS=
KVM_MODULES=
KVM_ARGS=
ROUNDS=3
TIMING_ROUNDS=2
KIND=exits
INSMOD_ARGS=
# shellcheck disable=SC1091 # written by mkinitramfs.sh / scripts/bench.sh
[ -f /khv/config ] && . /khv/config
# shellcheck disable=SC1091
. $B/config

standalone=0
if [ "$$" = 1 ]; then
	standalone=1
	PATH=/bin:/sbin:/usr/bin:/usr/sbin
	export PATH
	/bin/busybox mkdir -p /proc /sys /dev /tmp /usr/bin /usr/sbin /sbin
	/bin/busybox --install -s
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	mount -t devtmpfs devtmpfs /dev
	mount -t tmpfs tmpfs /tmp
	dmesg -n 4
	echo "KHV-LANE mode=bench-standalone kernel=$(uname -r) cmdline=$(cat /proc/cmdline)"
	echo "KHV-TAINTED-BOOT $(cat /proc/sys/kernel/tainted)"
fi

rc=0
broken=
fail() {	# fail <backend> <why>: no more rounds for that backend
	echo "BENCH $1 failed ($2)"
	broken="$broken $1"
	rc=1
}
loaded() { grep -q "^$1 " /proc/modules; }
modname() { basename "$1" .ko | tr - _; }

# Leave only <backend>'s hypervisor module(s) loaded.
use() {
	case $1 in
	khv)
		# KVM gives SVM back when its last VM is gone, but only unloading
		# it makes sure it will not take SVM again.
		for m in $KVM_MODULES; do
			case $m in irqbypass.ko | ccp.ko) continue ;; esac
			echo "$m"
		done | sed -n '1!G;h;$p' | while read -r m; do
			loaded "$(modname "$m")" && rmmod "$(modname "$m")"
		done
		loaded kvm && { fail khv "cannot unload kvm"; return 1; }
		if ! loaded khv; then
			# shellcheck disable=SC2086 # a list of module parameters
			insmod /khv/khv.ko $INSMOD_ARGS
			r=$?
			echo "KHV-INSMOD rc=$r"
			[ "$r" = 0 ] || { fail khv "insmod khv.ko failed"; return 1; }
		fi
		[ -c /dev/khv ] || { fail khv "no /dev/khv: khv.ko not loaded"; return 1; }
		;;
	kvm)
		if loaded khv; then
			rmmod khv
			r=$?
			echo "KHV-RMMOD rc=$r"
			[ "$r" = 0 ] || { fail kvm "rmmod khv failed"; return 1; }
		fi
		for m in $KVM_MODULES; do
			loaded "$(modname "$m")" && continue
			a=
			[ "$m" = kvm.ko ] && a=$KVM_ARGS
			# shellcheck disable=SC2086 # a list of module parameters
			insmod "$B/kmod/$m" $a || { fail kvm "insmod $m failed"; return 1; }
		done
		[ -c /dev/kvm ] || { fail kvm "no /dev/kvm after loading $KVM_MODULES"; return 1; }
		;;
	esac
	return 0
}

# khv-bench prints "BENCH <backend> <loop> failed" for a loop that did not
# complete; its exit status covers the rest.
bench() {	# bench <backend> <round>
	case " $broken " in *" $1 "*) return ;; esac
	use "$1" || return
	echo "KHV-BENCH-BEGIN $1 round=$2"
	# shellcheck disable=SC2086 # a list of options
	$B/khv-bench --backend="$1" $BENCH_ARGS </dev/null 2>&1
	r=$?
	echo "KHV-BENCH-END $1 round=$2 rc=$r"
	[ "$r" = 0 ] || fail "$1" "khv-bench exit status $r"
}

# KIND=vmm: the rounds boot guests under khv-run and QEMU (vmm-bench.sh).
# shellcheck source=tools/bench/vmm-bench.sh
[ "$KIND" = vmm ] && . $B/vmm-bench.sh

order=$BACKENDS
reverse=$(for b in $BACKENDS; do echo "$b"; done | sed -n '1!G;h;$p')
round=1
while [ "$round" -le "$ROUNDS" ]; do
	for b in $order; do
		case $b in
		khv | kvm) if [ "$KIND" = vmm ]; then vmm_bench "$b" "$round"; else bench "$b" "$round"; fi ;;
		*) fail "$b" "unknown backend" ;;
		esac
	done
	if [ "$order" = "$BACKENDS" ]; then order=$reverse; else order=$BACKENDS; fi
	round=$((round + 1))
done
# What timing every exit costs (core/stats.c): khv's exit loops with the
# module parameter exit_timing on and off, TIMING_ROUNDS rounds in the
# order on off, off on, ...; printed as backends "khv-timing1" and
# "khv-timing0" (scripts/bench.sh's overhead table).
timing_cost() {
	p=/sys/module/khv/parameters/exit_timing
	case " $BACKENDS " in *" khv "*) ;; *) return ;; esac
	case " $broken " in *" khv "*) return ;; esac
	use khv || return
	[ -w $p ] || { fail khv-timing "no $p"; return; }
	order="1 0"
	r=1
	while [ "$r" -le "$TIMING_ROUNDS" ]; do
		for v in $order; do
			echo "$v" >$p
			echo "KHV-BENCH-BEGIN khv-timing$v round=$r"
			# shellcheck disable=SC2086 # a list of options
			$B/khv-bench --backend=khv $BENCH_ARGS --loop=exits </dev/null 2>&1 |
				sed "s/^BENCH khv /BENCH khv-timing$v /"
		done
		if [ "$order" = "1 0" ]; then order="0 1"; else order="1 0"; fi
		r=$((r + 1))
	done
	echo 1 >$p
}
[ "$KIND" = exits ] && timing_cost

# The counters of last, short runs: proof of what was measured.  The exit
# loops share a VM; each interrupt loop gets its own, so that its counters
# divide by its iterations (1000, plus 100 of warm-up).
for b in $BACKENDS; do
	[ "$KIND" = exits ] || break
	case " $broken " in *" $b "*) continue ;; esac
	use "$b" || continue
	$B/khv-bench --backend="$b" --runs=1 --loop=exits --cpuid-iters=1000 \
		--io-iters=1000 --stats </dev/null 2>&1 | grep -v '^BENCH '
	for l in timer hlt-timer ipi msi; do
		echo "khv-bench: $b counters of $l: 1100 iterations"
		$B/khv-bench --backend="$b" --runs=1 --loop="$l" --"$l"-iters=1000 \
			--stats </dev/null 2>&1 | grep -v '^BENCH '
	done
done
echo "KHV-BENCH-DONE rc=$rc"

if [ "$standalone" = 1 ]; then
	echo "KHV-TAINTED $(cat /proc/sys/kernel/tainted)"
	echo "KHV-DMESG-BEGIN"
	dmesg
	echo "KHV-DMESG-END"
	echo "KHV-DONE"
	sync
	sleep 1
	poweroff -f
fi
exit $rc
