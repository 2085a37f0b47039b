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
#   TEST_TIMEOUTS "name=secs ...": the limit of those selftests instead
#   BUILD         where logs and images go (default <repo>/build)

KHV_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$KHV_ROOT/build}
ACCEL=${ACCEL:-tcg}
TIMEOUT=${TIMEOUT:-240}
TEST_TIMEOUT=${TEST_TIMEOUT:-60}
JOBS=$(nproc 2>/dev/null || echo 2)
# Kernel arguments of every test-machine boot (qemu-run.sh, bochs-run.sh).
# cryptomgr.notests: the Debian kernel self-tests every crypto algorithm
# at boot, 3.7 of the 15 s a Bochs boot took before /init; khv tests
# nothing there.  KERNEL_ARGS= boots without.
KERNEL_ARGS=${KERNEL_ARGS-cryptomgr.notests}

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

# kvm_modules_into <kver> <vendor module> <dir>: the module and what it
# needs from the kernel's own tree, uncompressed into <dir> (busybox insmod
# may not read compressed ones); prints their file names in load order on
# one line, or fails saying why.
kvm_modules_into() {
	local kver=$1 module=$2 dir=$3 deps ko name names=()
	deps=$(modprobe -S "$kver" --show-depends "$module" 2>&1) ||
		{ say "cannot resolve $module for $kver: $deps" >&2; return 1; }
	deps=$(awk '$1 == "insmod" { print $2 }' <<<"$deps")
	[ -n "$deps" ] || { say "cannot resolve $module for $kver" >&2; return 1; }
	mkdir -p "$dir"
	for ko in $deps; do
		name=${ko##*/}
		case $name in
		*.ko) cp "$ko" "$dir/$name" ;;
		*.ko.xz) name=${name%.xz}; xz -dc "$ko" >"$dir/$name" ;;
		*.ko.zst) name=${name%.zst}; zstd -qdc "$ko" >"$dir/$name" ;;
		*.ko.gz) name=${name%.gz}; gzip -dc "$ko" >"$dir/$name" ;;
		*) false ;;
		esac || { say "cannot unpack $ko" >&2; return 1; }
		names+=("$name")
	done
	say "${names[*]}"
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
# vmlinux_of <bzImage> <output>: the same kernel uncompressed, for a PVH
# boot: the xz stream inside the bzImage (CONFIG_KERNEL_XZ), without its
# symbols.
vmlinux_of() {
	local off
	off=$(grep -abo $'\xfd7zXZ\x00' "$1" | head -n1 | cut -d: -f1)
	[ -n "$off" ] || return 1
	tail -c +$((off + 1)) "$1" | xz -dc 2>/dev/null >"$2.full"
	strip -o "$2" "$2.full" && rm -f "$2.full"
}

# khvrun_files <dir> <kver>: what khv-run needs in a test machine to boot
# the test kernel as a second-level guest, under <dir>/khv/l2/ (khv-run,
# khv-top, khv-trace (with the PLplot driver and data directories its plots
# load at run time, which ldd does not see),
# vmlinuz, a stripped vmlinux for PVH, the busybox initrd of
# tools/khv-run/tests/guest/, tun and bridge modules) and khv-run's shared
# libraries at their host paths.  Lane khvrun and make demo use it.
khvrun_files() {
	local extra=$1 kv=$2
	mkdir -p "$extra/khv/l2"
	strip --strip-debug -o "$extra/khv/l2/khv-run" "$KHV_ROOT/tools/khv-run/build/khv-run" &&
	strip --strip-debug -o "$extra/khv/l2/khv-top" "$KHV_ROOT/tools/khv-top/build/khv-top" &&
	strip --strip-debug -o "$extra/khv/l2/khv-trace" "$KHV_ROOT/tools/khv-trace/build/khv-trace" &&
	cp "/boot/vmlinuz-$kv" "$extra/khv/l2/vmlinuz" &&
	bash "$KHV_ROOT/tools/khv-run/tests/guest/mkinitrd.sh" "$extra/khv/l2/initrd.cpio.gz" "$kv" || return 1
	# tun, a module in Debian's kernel, for the tap of the virtio-net test;
	# the bridge and what it needs (in load order) for the two-guest test.
	cp "/lib/modules/$kv/kernel/drivers/net/tun.ko" "/lib/modules/$kv/kernel/net/llc/llc.ko" \
		"/lib/modules/$kv/kernel/net/802/stp.ko" \
		"/lib/modules/$kv/kernel/net/bridge/bridge.ko" "$extra/khv/l2/" || return 1
	vmlinux_of "/boot/vmlinuz-$kv" "$extra/khv/l2/vmlinux" || return 1
	# khv-run's, khv-top's and khv-trace's shared libraries (json-c, libslirp,
	# ncurses, libtracefs, PLplot...), where the loader looks.
	copy_libs "$extra" "$KHV_ROOT/tools/khv-run/build/khv-run" \
		"$KHV_ROOT/tools/khv-top/build/khv-top" "$KHV_ROOT/tools/khv-trace/build/khv-trace" ||
		return 1
	local d
	for d in /usr/lib/x86_64-linux-gnu/plplot*/drivers /usr/share/plplot[0-9]*; do
		[ -d "$d" ] || return 1
		mkdir -p "$extra$(dirname "$d")" && cp -a "$d" "$extra$d" || return 1
	done
	copy_libs "$extra" /usr/lib/x86_64-linux-gnu/plplot*/drivers/svg.so
}

# copy_libs <dir> <elf>...: the shared libraries the files load, each
# under <dir> at the path the host loader found it.
copy_libs() {
	local extra=$1 lib
	shift
	# (Given several files, ldd heads each one's list with "FILE:".)
	for lib in $(ldd "$@" |
		awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\// && $i !~ /:$/) print $i }' | sort -u); do
		mkdir -p "$extra$(dirname "$lib")" && cp -L "$lib" "$extra$lib" || return 1
	done
}

# libvirt_files <dir> <kver>: libvirt's driver tests for lane khvrun
# (selftest "libvirt": libvirt-driver/tests/guest.sh; selftest
# "libvirt-remote": tests/remote.sh, the lab host that the build machine's
# virt-manager manages): the module, virtkhvd, stock virsh, QEMU's storage
# daemon and qemu-img (qcow2 disks), the e1000 module (the test machine's
# NIC for remote.sh), dropbear and libvirt's virt-ssh-helper (khv+ssh://
# to it; scripts/deps.sh unpacks the helper), and every library they load,
# at the paths the host loader found them.
libvirt_files() {
	local extra=$1 kv=$2 mod=$KHV_ROOT/libvirt-driver/build/libvirt_driver_khv.so
	local helper=$KHV_ROOT/build/deps/usr/bin/virt-ssh-helper
	local daemon=$KHV_ROOT/libvirt-driver/build/virtkhvd
	[ -f "$mod" ] && [ -f "$daemon" ] || return 1
	mkdir -p "$extra/khv/libvirt" "$extra/khv/selftests" "$extra/usr/bin" &&
	strip --strip-debug -o "$extra/khv/libvirt/libvirt_driver_khv.so" "$mod" &&
	strip --strip-debug -o "$extra/khv/libvirt/virtkhvd" "$daemon" &&
	cp /usr/bin/virsh "$extra/usr/bin/virsh" &&
	# qcow2 disks: QEMU's storage daemon, and qemu-img for the test's images
	cp /usr/bin/qemu-storage-daemon /usr/bin/qemu-img "$extra/usr/bin/" &&
	install -m 0755 "$KHV_ROOT/libvirt-driver/tests/guest.sh" "$extra/khv/selftests/libvirt" &&
	install -m 0755 "$KHV_ROOT/libvirt-driver/tests/remote.sh" "$extra/khv/selftests/libvirt-remote" &&
	cp "/lib/modules/$kv/kernel/drivers/net/ethernet/intel/e1000/e1000.ko" "$extra/khv/libvirt/" &&
	mkdir -p "$extra/usr/sbin" && cp /usr/sbin/dropbear "$extra/usr/sbin/" &&
	cp "$helper" "$extra/usr/bin/" &&
	cp "$KHV_ROOT/libvirt-driver/tests/tap.sh" "$extra/khv/libvirt/tap.sh" ||
		return 1
	# libvirtd with only its storage driver and the directory backend
	# (storage pools for the remote tests), from the same package.
	local lvd=$KHV_ROOT/build/deps mlib=usr/lib/x86_64-linux-gnu/libvirt
	mkdir -p "$extra/khv/libvirtd/storage-backend" &&
	cp "$lvd/usr/sbin/libvirtd" "$extra/usr/sbin/" &&
	cp "$lvd/$mlib/connection-driver/libvirt_driver_storage.so" "$extra/khv/libvirtd/" &&
	cp "$lvd/$mlib/storage-backend/libvirt_storage_backend_fs.so" "$extra/khv/libvirtd/storage-backend/" ||
		return 1
	# and its network driver (<interface type='network'> on the default
	# network): dnsmasq, the leases helper, iptables (the legacy one: the
	# fewer kernel modules) with its extensions, and the netfilter modules
	# its NAT rules need, in load order (tap.sh's start_libvirtd).
	local xt=/usr/lib/x86_64-linux-gnu/xtables m
	mkdir -p "$extra/usr/lib/libvirt" "$extra$xt" "$extra/khv/libvirt/nf" &&
	cp "$lvd/$mlib/connection-driver/libvirt_driver_network.so" "$extra/khv/libvirtd/" &&
	cp "$lvd/usr/lib/libvirt/libvirt_leaseshelper" "$extra/usr/lib/libvirt/" &&
	cp /usr/sbin/dnsmasq /usr/sbin/xtables-legacy-multi "$extra/usr/sbin/" &&
	ln -sf xtables-legacy-multi "$extra/usr/sbin/iptables" &&
	ln -sf xtables-legacy-multi "$extra/usr/sbin/ip6tables" &&
	cp "$xt"/*.so "$extra$xt/" ||
		return 1
	for m in iptable_filter iptable_nat iptable_mangle ip6table_filter ip6table_nat \
		ip6table_mangle xt_conntrack xt_MASQUERADE xt_CHECKSUM xt_tcpudp ipt_REJECT ip6t_REJECT; do
		kvm_modules_into "$kv" "$m" "$extra/khv/libvirt/nf" || return 1
	done | tr ' ' '\n' | awk '!seen[$0]++' >"$extra/khv/libvirt/nf/order" || return 1
	copy_libs "$extra" /usr/bin/virsh "$mod" "$daemon" /usr/bin/qemu-storage-daemon /usr/bin/qemu-img \
		/usr/sbin/dropbear "$helper" "$lvd/usr/sbin/libvirtd" \
		"$lvd/$mlib/connection-driver/libvirt_driver_storage.so" \
		"$lvd/$mlib/storage-backend/libvirt_storage_backend_fs.so" \
		"$lvd/$mlib/connection-driver/libvirt_driver_network.so" \
		"$lvd/usr/lib/libvirt/libvirt_leaseshelper" /usr/sbin/dnsmasq \
		/usr/sbin/xtables-legacy-multi "$xt"/*.so
}

# free_port <lo> <hi> [udp]: a TCP (UDP) port in [lo, hi] that nothing
# listens on (is bound to) here (nothing printed if twenty tries found none).
free_port() {
	local p proto=t
	[ "${3:-}" = udp ] && proto=u
	for p in $(shuf -i "$1-$2" -n 20); do
		ss "-H${proto}ln" "sport = :$p" | grep -q . || { say "$p"; return 0; }
	done
	return 1
}

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
