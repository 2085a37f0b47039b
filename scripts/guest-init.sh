#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# /init of the khv test guest (busybox).  Everything the host needs is
# printed on the serial console between KHV-* marker lines, which
# scripts/check-log.sh parses.  The kernel command line picks the job:
#   khvmode=check  load khv.ko, run every selftest (default)
#   khvtests=a,b   with khvmode=check: run only these selftests
#   khvskip=a,b    with khvmode=check: run the others (two lanes that boot
#                  one image and share its tests out)
#   khvfuzz=S,N,T[,O,I]  selftest fuzz: seed S, N operations, T seconds,
#                  operation and instruction masks O and I
#   khvdirtylog=m,n  selftest dirty_log: only these modes (wp, cpu, pml);
#                  the others skip with a reason starting "lane:"
#   khvxmig=ROLE,ADDR/LEN,PEER  selftests khvrun_xmig, libvirt-xmig: this side
#                  of a migration between two (src or dst), its address
#                  on the virtual network between them, the other's
#   khvmode=demo   load khv.ko, run /khv/tools/khv-hello, then (when the
#                  image has it) khv-run booting this kernel with 2 vCPUs
#   khvmode=run    load khv.ko, run /khv/run (from INITRAMFS_EXTRA)
#   khvmode=refuse try to load khv.ko on a CPU without VMX and SVM: the
#                  host expects insmod to fail (ENODEV), no /dev/khv
# /khv/config (written by mkinitramfs.sh) sets TESTS, TEST_TIMEOUT, TEST_TIMEOUTS,
# RUN_TIMEOUT, INSMOD_ARGS, RMMOD and LIBPATH.

PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PATH
/bin/busybox mkdir -p /proc /sys /dev /tmp /usr/bin /usr/sbin /sbin
/bin/busybox --install -s

mount -t proc proc /proc
# All of magic SysRq: a lane that times out has QEMU press Alt-SysRq 9, L,
# W and T (qemu-run.sh), and the guest prints where every busy CPU, every
# blocked task and every task is.  Debian's default (0x1b6) leaves those
# dumps out.
echo 1 >/proc/sys/kernel/sysrq
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmpfs /tmp
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
# Loopback, as every Linux system has it: khv-run's VNC server and the
# libvirt daemon are reached on 127.0.0.1.
ip link set lo up 2>/dev/null

TESTS=
TEST_TIMEOUT=60
TEST_TIMEOUTS=
RUN_TIMEOUT=600
INSMOD_ARGS=
RMMOD=1
LIBPATH=
. /khv/config
[ -n "$LIBPATH" ] && export LD_LIBRARY_PATH="$LIBPATH"
export HOME=/tmp TMPDIR=/tmp

mode=check
SKIP_TESTS=
# shellcheck disable=SC2013 # words, not lines
for arg in $(cat /proc/cmdline); do
	case $arg in
	khvmode=*) mode=${arg#khvmode=} ;;
	# A lane that runs only some of the image's selftests (comma list).
	khvtests=*) TESTS=$(echo "${arg#khvtests=}" | tr ',' ' ') ;;
	khvskip=*) SKIP_TESTS=$(echo "${arg#khvskip=}" | tr ',' ' ') ;;
	# make fuzz: seed,operations,seconds[,ops,insns] for selftest fuzz
	# (an empty field: the default).
	khvfuzz=*)
		v=${arg#khvfuzz=},,,,
		KHV_FUZZ_SEED=${v%%,*}
		v=${v#*,}
		KHV_FUZZ_CALLS=${v%%,*}
		v=${v#*,}
		KHV_FUZZ_SECONDS=${v%%,*}
		v=${v#*,}
		KHV_FUZZ_OPS=${v%%,*}
		v=${v#*,}
		KHV_FUZZ_INSNS=${v%%,*}
		export KHV_FUZZ_SEED KHV_FUZZ_CALLS KHV_FUZZ_SECONDS KHV_FUZZ_OPS KHV_FUZZ_INSNS
		;;
	khvdirtylog=*)
		KHV_DIRTY_LOG_MODES=${arg#khvdirtylog=}
		export KHV_DIRTY_LOG_MODES
		;;
	khvxmig=*)
		KHV_XMIG=${arg#khvxmig=}
		export KHV_XMIG
		;;
	esac
done

# Only errors and worse go to the console while tests print TAP there; the
# full kernel log is dumped at the end (an oops raises the level itself).
dmesg -n 4

echo "KHV-LANE mode=$mode kernel=$(uname -r) cmdline=$(cat /proc/cmdline)"

# Paging depth, two independent signals: the kernel clears the la57 CPU
# flag when it does not use 5-level paging, and vmalloc addresses start
# with 0xffff only with 4-level paging (5-level puts vmalloc far lower).
# kptr_restrict=1 shows root the real addresses instead of hashes.
echo 1 >/proc/sys/kernel/kptr_restrict
la57=0
grep -qw la57 /proc/cpuinfo && la57=1
vbits=$(sed -n 's/^address sizes.* \([0-9]*\) bits virtual.*/\1/p' /proc/cpuinfo | head -n1)
vmalloc=$(sed -n '1s/-.*//p' /proc/vmallocinfo)
echo "KHV-PAGING la57_flag=$la57 virt_bits=$vbits vmalloc=$vmalloc"
echo "KHV-TAINTED-BOOT $(cat /proc/sys/kernel/tainted)"

# The virtualization extensions this CPU shows (khvmode=refuse needs none).
svm=0 vmx=0
grep -qw svm /proc/cpuinfo && svm=1
grep -qw vmx /proc/cpuinfo && vmx=1
echo "KHV-CPUFLAGS svm=$svm vmx=$vmx"

# kmod's insmod when the image has it: it makes one finit_module call, as
# on a real system; busybox's retries a failure with init_module, so a
# refusing khv would run its init (and log its reason) twice.
INSMOD=insmod via=busybox
[ -x /khv/bin/insmod ] && INSMOD=/khv/bin/insmod via=kmod
# shellcheck disable=SC2086 # INSMOD_ARGS: zero or more parameters
$INSMOD /khv/khv.ko $INSMOD_ARGS >/tmp/insmod.out 2>&1
loaded=$?
sed 's/^/KHV-INSMOD-MSG /' /tmp/insmod.out
echo "KHV-INSMOD rc=$loaded via=$via"
# What a load left behind: the device node and the module in sysfs.
dev=0 mod=0
[ -e /dev/khv ] && dev=1
[ -d /sys/module/khv ] && mod=1
echo "KHV-LOADED dev_khv=$dev sys_module=$mod"
# Where khv's code sits, to read a RIP from a wedged machine's monitor.
[ -r /sys/module/khv/sections/.text ] &&
	echo "KHV-TEXT $(cat /sys/module/khv/sections/.text)"

run_one() {	# run_one <marker> <name> <seconds> <command...>
	marker=$1 name=$2 limit=$3
	shift 3
	echo "KHV-$marker-BEGIN $name"
	t0=$(cut -d' ' -f1 /proc/uptime)
	timeout -k 5 "$limit" "$@" </dev/null 2>&1
	rc=$?
	t1=$(cut -d' ' -f1 /proc/uptime)
	echo ""
	# secs: the guest's own clock (in Bochs it follows emulated instructions).
	echo "KHV-$marker-END $name rc=$rc secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')"
	# Killed by its timeout (SIGTERM 143, SIGKILL 137): what is still
	# alive and holds khv (a /dev/khv or khv-vm/vcpu file), thread by
	# thread with its kernel stack, so that a hang in khv shows where.
	# busybox's timeout signals only the process it started: a selftest's
	# harness dies, its test process (a child) may live on, and with its
	# files the module.  Each holder gets a SIGKILL after the dump: one
	# that SIGKILL cannot end is a hang in khv, and rmmod below says so.
	case $rc in 124 | 137 | 143) sleep 5; khv_holders kill ;; esac
}

# test_limit <name>: its seconds from TEST_TIMEOUTS ("name=secs ..."), else
# TEST_TIMEOUT: an image may hold a test far longer than the others.
test_limit() {
	for tl in $TEST_TIMEOUTS; do
		[ "${tl%%=*}" = "$1" ] && { echo "${tl#*=}"; return; }
	done
	echo "$TEST_TIMEOUT"
}

khv_holders() {	# khv_holders [kill]
	pids=
	for d in /proc/[0-9]*; do
		held=0
		for f in "$d"/fd/*; do
			case $(readlink "$f" 2>/dev/null) in *khv*) held=1 ;; esac
		done
		[ "$held" = 1 ] || continue
		pids="$pids ${d#/proc/}"
		echo "KHV-HOLDER pid ${d#/proc/} ppid $(cut -d' ' -f4 "$d/stat" 2>/dev/null) $(cat "$d/comm" 2>/dev/null)"
		for t in "$d"/task/*; do
			echo "KHV-HOLDER  task ${t##*/} state $(cut -d' ' -f3 "$t/stat" 2>/dev/null) wchan $(cat "$t/wchan" 2>/dev/null)"
			sed 's/^/KHV-HOLDER    /' "$t/stack" 2>/dev/null
		done
	done
	[ "${1:-}" = kill ] && [ -n "$pids" ] || return 0
	# shellcheck disable=SC2086 # one word per pid
	kill -9 $pids 2>/dev/null
	echo "KHV-HOLDER killed$pids"
}

if [ "$loaded" = 0 ]; then
	case $mode in
	check)
		cd /khv/selftests || echo "KHV-ERROR no /khv/selftests"
		for t in $TESTS; do
			case " $SKIP_TESTS " in *" $t "*) continue ;; esac
			run_one TEST "$t" "$(test_limit "$t")" "./$t"
		done
		cd /
		;;
	demo)
		run_one DEMO khv-hello "$TEST_TIMEOUT" /khv/tools/khv-hello
		if [ -x /khv/l2/khv-run ]; then
			run_one DEMO khv-run 240 /khv/l2/khv-run -k /khv/l2/vmlinuz \
				-i /khv/l2/initrd.cpio.gz -m 256M -c 2 \
				-a "console=ttyS0 quiet panic=-1 khvrun=poweroff"
		fi
		;;
	run)
		run_one RUN run "$RUN_TIMEOUT" /khv/run
		;;
	esac
	if [ "$RMMOD" = 1 ]; then
		# A test killed by its timeout may still be tearing its VMs
		# down (its files hold the module): give that 30 s.  A module
		# still in use after them is a leak, reported as such.
		i=0
		until rmmod khv 2>/tmp/rmmod.err; do
			i=$((i + 1))
			[ "$i" -lt 30 ] && grep -q "temporarily unavailable\|in use" /tmp/rmmod.err || break
			sleep 1
		done
		rc=0
		[ -d /sys/module/khv ] && rc=1 && cat /tmp/rmmod.err
		echo "KHV-RMMOD rc=$rc waited=${i}s"
	fi
fi

echo "KHV-TAINTED $(cat /proc/sys/kernel/tainted)"
echo "KHV-DMESG-BEGIN"
dmesg
echo "KHV-DMESG-END"
echo "KHV-DONE"
sync
sleep 1
poweroff -f
