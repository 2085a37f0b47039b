# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# The vmm lane of make bench, inside the test machine: khv-run (over khv)
# against QEMU (over KVM) booting the same second-level guest.  Sourced by
# bench-guest.sh when its config says KIND=vmm; bench-guest.sh swaps the
# hypervisor modules and alternates the order of the backends per round.
#
# Files (scripts/bench-vmm.sh packs them): /khv/l2/{vmlinuz,initrd.cpio.gz}
# (the guest: tools/khv-run/tests/guest/init with blkbench), /khv/l2/khv-run,
# /khv/qemu/qemu-system-x86_64 and its firmware in /khv/qemu/share,
# /khv/l2/tun.ko, /khv/bench/vmm-time.
#
# Per backend and round, three boots, each timed by vmm-time from the
# VMM's start:
#   boot   no devices but the serial port; the guest powers off at once:
#          the time to the first line of its init (KHVRUN-START)
#   full   a 64 MiB virtio-blk disk on /tmp and a virtio-net tap: the
#          VMM's RSS 2 s into the guest's 3 s idle (all of it, and without
#          the guest's RAM), then the guest's blkbench and 16 MiB over TCP
#          to this machine (vmm-time -l times them)
#   microvm (QEMU only) the boot above with -M microvm
#   pvh    the boot above from the same kernel uncompressed (/khv/l2/vmlinux,
#          entered by its PVH note): khv-run, QEMU -M pc and -M microvm.
#          Both VMMs run the bzImage's decompressor in the guest, at the
#          same cost; this pair shows what is left when neither does.
# Output, one line per figure:
#   BENCH <khv|kvm> vmm <what> value=<N> round=<R>
# what: boot_ms, microvm_boot_ms, pvh_boot_ms, pvh_microvm_boot_ms, rss_kb, vmm_rss_kb, seqwrite_mbs,
# seqread_mbs, randread_iops, net_mbs.  A boot that fails prints "BENCH <backend> vmm
# failed (...)" and its VMM's output.

L2=/khv/l2
QEMU=/khv/qemu/qemu-system-x86_64
APPEND="console=ttyS0 quiet panic=-1"
VMM_MEM=256M

# vmm_cmd <backend> <pc|microvm> <boot|full> <kernel>: the command line
vmm_cmd() {
	case $1 in
	khv)
		printf '%s' "$L2/khv-run -k $4 -i $L2/initrd.cpio.gz -m $VMM_MEM -c 1"
		[ "$3" = full ] && printf '%s' " --disk path=/tmp/vmm-disk.img --net tap=khvtap0"
		;;
	kvm)
		printf '%s' "$QEMU -L /khv/qemu/share -accel kvm -M $2 -cpu host -m $VMM_MEM -smp 1"
		printf '%s' " -nodefaults -no-user-config -display none -serial stdio -no-reboot"
		printf '%s' " -kernel $4 -initrd $L2/initrd.cpio.gz"
		if [ "$3" = full ]; then
			printf '%s' " -drive file=/tmp/vmm-disk.img,format=raw,if=none,id=d0"
			printf '%s' " -device virtio-blk-pci,drive=d0"
			printf '%s' " -netdev tap,id=n0,ifname=khvtap0,script=no,downscript=no"
			printf '%s' " -device virtio-net-pci,netdev=n0,romfile="
		fi
		;;
	esac
}

# A receiver for the guest's 16 MiB, listening before the guest can reach
# this machine (it sends as soon as its ping is answered); then the test
# machine's end of the tap, once the VMM has created it.
vmm_tap_peer() {
	$B/vmm-time -l 5001 -t 240 >/tmp/vmm-net.out &
	i=0
	while [ ! -e /sys/class/net/khvtap0 ] && [ $i -lt 600 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	ip addr add 10.0.3.1/24 dev khvtap0 && ip link set khvtap0 up
	wait
}

# vmm_boot <backend> <round> <pc|microvm> <boot|full> <action> [pvh]
# pvh: boot /khv/l2/vmlinux (PVH) rather than the bzImage.
vmm_boot() {
	kernel=$L2/vmlinuz pre=
	[ "$6" = pvh ] && kernel=$L2/vmlinux pre=pvh_
	log=/tmp/vmm-$1-$3-$4$6.log
	peer=
	if [ "$4" = full ]; then
		dd if=/dev/zero of=/tmp/vmm-disk.img bs=1M count=64 2>/dev/null
		vmm_tap_peer &
		peer=$!
	fi
	# shellcheck disable=SC2046 # the command line is a list of words
	out=$($B/vmm-time -m KHVRUN-START -r 2 -t 180 -o "$log" -- \
		$(vmm_cmd "$1" "$3" "$4" "$kernel") --append "$APPEND khvrun=$5" 2>&1)
	r=$?
	[ -n "$peer" ] && kill "$peer" 2>/dev/null
	killall vmm-time 2>/dev/null
	wait
	rm -f /tmp/vmm-disk.img
	if [ "$r" != 0 ]; then
		echo "BENCH $1 vmm failed ($3 $4 $6: $out)"
		sed 's/^/#   /' "$log" | tail -n 40
		return 1
	fi
	mark=$(echo "$out" | sed -n 's/.* mark_ms=\([0-9]*\).*/\1/p')
	rss=$(echo "$out" | sed -n 's/.* rss_kb=\([0-9-]*\).*/\1/p')
	ram=$(echo "$out" | sed -n 's/.* ram_rss_kb=\([0-9-]*\).*/\1/p')
	case $3/$4 in
	pc/boot) echo "BENCH $1 vmm ${pre}boot_ms value=$mark round=$2" ;;
	microvm/boot) echo "BENCH $1 vmm ${pre}microvm_boot_ms value=$mark round=$2" ;;
	pc/full)
		echo "BENCH $1 vmm rss_kb value=$rss round=$2"
		[ "$rss" -gt 0 ] && [ "$ram" -ge 0 ] &&
			echo "BENCH $1 vmm vmm_rss_kb value=$((rss - ram)) round=$2"
		sed -n 's/^KHVRUN-BLK //p' "$log" | tr ' ' '\n' |
			sed -n "s/^\([a-z_]*\)=\([0-9.]*\)\r*$/BENCH $1 vmm \1 value=\2 round=$2/p"
		sed -n "s/^VMMNET .* mbs=\([0-9.]*\).*/BENCH $1 vmm net_mbs value=\1 round=$2/p" \
			/tmp/vmm-net.out 2>/dev/null
		rm -f /tmp/vmm-net.out
		;;
	esac
	return 0
}

# shellcheck disable=SC2154 # broken, B: bench-guest.sh's
vmm_bench() {	# vmm_bench <khv|kvm> <round>
	case " $broken " in *" $1 "*) return ;; esac
	use "$1" || return
	# khv-run's tap and QEMU's need the tun driver.
	[ -e /dev/net/tun ] || insmod $L2/tun.ko 2>/dev/null
	echo "KHV-BENCH-BEGIN $1 round=$2"
	# The command line goes last, as --append, which both VMMs take.
	vmm_boot "$1" "$2" pc boot poweroff || { fail "$1" "boot"; return; }
	vmm_boot "$1" "$2" pc full bench || { fail "$1" "full run"; return; }
	vmm_boot "$1" "$2" pc boot poweroff pvh || { fail "$1" "PVH boot"; return; }
	if [ "$1" = kvm ]; then
		# QEMU -M microvm, nested under TCG, has hung silently before its
		# firmware printed anything (once in 9 boots): one more try, said.
		for k in "" pvh; do
			vmm_boot "$1" "$2" microvm boot poweroff $k && continue
			echo "BENCH $1 vmm note (microvm ${k:+$k }boot retried)"
			vmm_boot "$1" "$2" microvm boot poweroff $k ||
				{ fail "$1" "microvm ${k:+$k }boot"; return; }
		done
	fi
	echo "KHV-BENCH-END $1 round=$2 rc=0"
}
