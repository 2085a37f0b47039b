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
#   migrate a 1 GiB guest whose dirtier (tools/bench/dirtier) writes
#          MIG_RATE MiB/s over MIG_DIRTY MiB, migrated live to a second
#          VMM on this machine over TCP (127.0.0.1): khv-run to khv-run
#          --incoming, QEMU to QEMU -incoming, both told the same downtime
#          limit (300 ms, QEMU's default) and QEMU without its bandwidth
#          cap (khv-run has none); the source's query-migrate gives the
#          total time, the downtime and the bytes sent, and the
#          destination must be running afterwards
# Output, one line per figure:
#   BENCH <khv|kvm> vmm <what> value=<N> round=<R>
# what: boot_ms, microvm_boot_ms, pvh_boot_ms, pvh_microvm_boot_ms, rss_kb, vmm_rss_kb, seqwrite_mbs,
# seqread_mbs, randread_iops, net_mbs, migrate_total_ms, migrate_downtime_ms, migrate_mb.  A boot that fails prints "BENCH <backend> vmm
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

MIG_MEM=1G
MIG_DIRTY=${MIG_DIRTY:-256}
MIG_RATE=${MIG_RATE:-8}

# mig_cmd <backend> <side> <log> <control socket> [incoming URI]: a VMM of the
# migration pair, its COM1 in <log>.
mig_cmd() {
	case $1 in
	khv)
		printf '%s' "$L2/khv-run -k $L2/vmlinuz -i $L2/initrd.cpio.gz -m $MIG_MEM -c 1"
		printf '%s' " --control $4"
		[ -n "$5" ] && printf '%s' " --incoming $5"
		;;
	kvm)
		printf '%s' "$QEMU -L /khv/qemu/share -accel kvm -M pc -cpu host -m $MIG_MEM -smp 1"
		printf '%s' " -nodefaults -no-user-config -display none -no-reboot"
		printf '%s' " -serial file:$3 -qmp unix:$4,server=on,wait=off"
		printf '%s' " -kernel $L2/vmlinuz -initrd $L2/initrd.cpio.gz"
		[ -n "$5" ] && printf '%s' " -incoming $5"
		;;
	esac
}

# field <json> <name>: the first number after "name": in the line.
field() { echo "$1" | sed -n "s/.*\"$2\": *\([0-9.]*\).*/\1/p" | head -n 1; }

# vmm_migrate <backend> <round>
vmm_migrate() {
	src=/tmp/mig-src.sock dst=/tmp/mig-dst.sock uri=tcp:127.0.0.1:4444
	append="$APPEND khvrun=dirty khvdirty=$MIG_DIRTY,$MIG_RATE"
	rm -f $src $dst /tmp/mig-*.log /tmp/mig-*.err
	# khv-run writes COM1 on its stdout, QEMU into its -serial file.
	err=log
	[ "$1" = kvm ] && err=err
	# shellcheck disable=SC2046 # the command lines are lists of words
	$(mig_cmd "$1" dst /tmp/mig-dst.log $dst $uri) --append "$append" >/tmp/mig-dst.$err 2>&1 &
	dpid=$!
	# shellcheck disable=SC2046
	$(mig_cmd "$1" src /tmp/mig-src.log $src) --append "$append" >/tmp/mig-src.$err 2>&1 &
	spid=$!
	i=0
	until grep -q "KHVRUN-DIRTY ready" /tmp/mig-src.log 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 2400 ] || ! kill -0 $spid 2>/dev/null; then
			echo "BENCH $1 vmm failed (migrate: the guest's dirtier did not start)"
			tail -n 20 /tmp/mig-src.* | sed 's/^/#   /'
			kill $spid $dpid 2>/dev/null
			wait
			return 1
		fi
		sleep 0.1
	done
	sleep 2		# the dirtier at its rate
	params='"downtime-limit": 300'
	[ "$1" = kvm ] && params="$params, \"max-bandwidth\": 10737418240"
	out=$($B/qmp $src "{\"execute\": \"migrate-set-parameters\", \"arguments\": {$params}}" \
		"{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"$uri\"}}" 2>&1)
	info=
	case $out in *error*) info="refused: $out" ;; esac
	i=0
	while [ -z "$info" ] && [ $i -lt 1200 ]; do
		sleep 0.5
		i=$((i + 1))
		info=$($B/qmp $src '{"execute": "query-migrate"}' 2>&1)
		case $info in
		*'"completed"'* | *'"failed"'* | *'"cancelled"'*) ;;
		*) info= ;;
		esac
	done
	state=$($B/qmp $dst '{"execute": "query-status"}' 2>&1)
	kill $spid $dpid 2>/dev/null
	wait
	case $info in
	*'"completed"'*) ;;
	*)
		echo "BENCH $1 vmm failed (migrate: ${info:-no end in 600 s})"
		tail -n 20 /tmp/mig-src.* /tmp/mig-dst.* | sed 's/^/#   /'
		return 1
		;;
	esac
	case $state in
	*'"running"'*) ;;
	*)
		echo "BENCH $1 vmm failed (migrate: the destination is not running: $state)"
		return 1
		;;
	esac
	total=$(field "$info" total-time)
	down=$(field "$info" downtime)
	sent=$(field "$info" transferred)
	echo "BENCH $1 vmm migrate_total_ms value=$total round=$2"
	echo "BENCH $1 vmm migrate_downtime_ms value=$down round=$2"
	echo "BENCH $1 vmm migrate_mb value=$(awk -v b="$sent" 'BEGIN { printf "%.1f", b / 1e6 }') round=$2"
	echo "BENCH $1 vmm note (migrate: $info)"
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
	vmm_migrate "$1" "$2" || { fail "$1" "migration"; return; }
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
