# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# make bench, lane vmm: khv-run against QEMU with KVM, both in the QEMU
# test machine (Documentation/khv/bench.rst).  Sourced by scripts/bench.sh,
# whose bench_lane builds and boots the image; this file adds what the
# lane carries and prints its table.  In the test machine,
# tools/bench/bench-guest.sh runs tools/bench/vmm-bench.sh.

# vmm_extra <extra dir>: khv-run, QEMU, the second-level guest and the
# timing tools, at the paths vmm-bench.sh expects.
# shellcheck disable=SC2154 # kver: set by scripts/bench.sh
vmm_extra() {
	local x=$1 f lib qemu
	qemu=$(command -v qemu-system-x86_64) || { result 1 "bench vmm: no qemu-system-x86_64"; return 1; }
	quiet "$OUT/vmm/build-khv-run.log" make -C "$KHV_ROOT/tools/khv-run" -j"$JOBS" ||
		{ result 1 "bench vmm: khv-run build (log: $OUT/vmm/build-khv-run.log)"; return 1; }
	mkdir -p "$x/khv/l2" "$x/khv/qemu/share"
	install -m 0755 "$KHV_ROOT/tools/bench/build/vmm-time" "$KHV_ROOT/tools/bench/build/qmp" \
		"$x/khv/bench/"
	install -m 0644 "$KHV_ROOT/tools/bench/vmm-bench.sh" "$x/khv/bench/"
	cp "$KHV_ROOT/tools/khv-run/build/khv-run" "$x/khv/l2/" &&
		cp "/boot/vmlinuz-$kver" "$x/khv/l2/vmlinuz" &&
		vmlinux_of "/boot/vmlinuz-$kver" "$x/khv/l2/vmlinux" &&
		cp "/lib/modules/$kver/kernel/drivers/net/tun.ko" "$x/khv/l2/" &&
		cp "$qemu" "$x/khv/qemu/" || { result 1 "bench vmm: copying the binaries"; return 1; }
	BLKBENCH=$KHV_ROOT/tools/bench/build/blkbench DIRTIER=$KHV_ROOT/tools/bench/build/dirtier \
		quiet "$OUT/vmm/initrd.log" \
		bash "$KHV_ROOT/tools/khv-run/tests/guest/mkinitrd.sh" "$x/khv/l2/initrd.cpio.gz" "$kver" ||
		{ result 1 "bench vmm: the guest's initrd (log: $OUT/vmm/initrd.log)"; return 1; }
	# Firmware: SeaBIOS and the option ROMs of -kernel for -M pc (bzImage,
	# PVH), qboot for -M microvm, the TPR-patching ROM pc loads under KVM.
	for f in /usr/share/seabios/bios-256k.bin /usr/share/qemu/bios-microvm.bin \
		/usr/share/qemu/linuxboot_dma.bin /usr/share/qemu/pvh.bin \
		/usr/share/qemu/kvmvapic.bin; do
		cp -L "$f" "$x/khv/qemu/share/" || { result 1 "bench vmm: no $f"; return 1; }
	done
	# Shared libraries, where the loader looks for them.
	for lib in $(ldd "$qemu" "$KHV_ROOT/tools/khv-run/build/khv-run" |
		awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\/.*[^:]$/) print $i }' | sort -u); do
		mkdir -p "$x$(dirname "$lib")" && cp -L "$lib" "$x$lib" ||
			{ result 1 "bench vmm: copying $lib"; return 1; }
	done
}

# vmm_figure <bench.txt> <backend> <what>: the median over rounds, or nothing.
vmm_figure() {
	awk -v b="$2" -v w="$3" '
	$1 == "BENCH" && $2 == b && $3 == "vmm" && $4 == w {
		for (i = 5; i <= NF; i++)
			if (index($i, "value=") == 1 && substr($i, 7) + 0 > 0)
				v[n++] = substr($i, 7) + 0
	}
	END {
		if (!n)
			exit
		for (i = 1; i < n; i++)
			for (j = i; j > 0 && v[j - 1] > v[j]; j--) {
				t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
			}
		m = n % 2 ? v[int(n / 2)] : (v[n / 2 - 1] + v[n / 2]) / 2
		printf "%g\n", m
	}' "$1"
}

# vmm_tables <bench.txt> <rounds>: one line per figure, khv-run, QEMU, the
# ratio and the goal; ratios also go to bench.txt as "BENCH ratio" lines.
vmm_tables() {
	local txt=$1 k q r line what peer goal unit label
	say ""
	say "vmm: khv-run (khv) against QEMU 7.2 (-accel kvm, kvm-amd), same guest, 1 vCPU, 256 MiB;"
	say "median of $2 rounds, alternating order"
	printf '%-36s %10s %10s %7s  %s\n' figure khv-run QEMU ratio goal
	# what, QEMU's figure to compare with, goal, unit
	while read -r line; do
		read -r what peer goal unit <<<"$line"
		k=$(vmm_figure "$txt" khv "$what")
		q=$(vmm_figure "$txt" kvm "$peer")
		r=-
		if [ -n "$k" ] && [ -n "$q" ]; then
			r=$(ratio "$k" "$q")
			say "BENCH ratio vmm $what/$peer khv-run/qemu=$r" >>"$txt"
		fi
		label=$what
		[ "$peer" = "$what" ] || label="$what vs $peer"
		printf '%-36s %10s %10s %7s  %s\n' "$label" "${k:--}" "${q:--}" "$r" "$goal (${unit//_/ })"
		[ -n "$k" ] || result 1 "bench vmm: no khv-run $what figure"
		[ -n "$q" ] || result 1 "bench vmm: no QEMU $peer figure"
	done <<-EOF
	boot_ms boot_ms <=0.5 ms,-M_pc
	boot_ms microvm_boot_ms <=0.5 ms,-M_microvm
	pvh_boot_ms pvh_boot_ms <=0.5 ms,vmlinux_by_PVH,-M_pc
	pvh_boot_ms pvh_microvm_boot_ms <=0.5 ms,vmlinux_by_PVH,-M_microvm
	seqwrite_mbs seqwrite_mbs >=1.0 MB/s
	seqread_mbs seqread_mbs >=1.0 MB/s
	randread_iops randread_iops >=1.0 4KiB_reads/s
	net_mbs net_mbs >=1.0 MB/s
	rss_kb rss_kb - KiB,idle,all
	vmm_rss_kb vmm_rss_kb <=0.25 KiB,idle,without_guest_RAM
	migrate_total_ms migrate_total_ms <=1.0 ms,1_GiB_guest_dirtying
	migrate_downtime_ms migrate_downtime_ms <=1.0 ms,same
	migrate_mb migrate_mb - MB_sent,same
	EOF
}
