#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# test-install.sh <version>: make install and make uninstall into a
# staging directory, and make deb (make check-install; TAP).  Nothing of
# the running system is touched: with DESTDIR, make install only copies.
set -uo pipefail
ver=${1:?usage: test-install.sh <version>}
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../libvirt-driver/tests/tap.sh
. "$root/libvirt-driver/tests/tap.sh"
stage=$(mktemp -d)
debs=$(mktemp -d)
trap 'rm -rf "$stage" "$debs"' EXIT
echo "1..15"

inst() { make -C "$root" --no-print-directory "$@" DESTDIR="$stage" >"$stage.log" 2>&1; }
files() { (cd "$stage" && find . \( -type f -o -type l \) | sed 's|^\./|/|' | sort); }

inst install
ok $? "make install DESTDIR=... PREFIX=/usr/local" || tail -n 20 "$stage.log" | sed 's/^/# /'
libdir=$(pkg-config --variable=libdir libvirt 2>/dev/null || echo /usr/lib/x86_64-linux-gnu)
want="/etc/libvirt/virtkhvd.conf
/etc/modules-load.d/khv.conf
/etc/systemd/system/virtkhvd-admin.socket
/etc/systemd/system/virtkhvd-ro.socket
/etc/systemd/system/virtkhvd-tcp.socket
/etc/systemd/system/virtkhvd.service
/etc/systemd/system/virtkhvd.socket
/etc/sysusers.d/khv.conf
/etc/udev/rules.d/60-khv.rules
$libdir/libvirt/connection-driver/libvirt_driver_khv.so
/usr/local/bin/khv-run
/usr/local/bin/khv-top
/usr/local/bin/khv-trace
/usr/local/include/libkhv.h
/usr/local/include/linux/khv.h
/usr/local/lib/libkhv.a
/usr/local/lib/libkhv.so
/usr/local/lib/libkhv.so.1
/usr/local/lib/libkhv.so.1.0.0
/usr/local/lib/pkgconfig/libkhv.pc
/usr/local/sbin/virtkhvd
/usr/local/share/man/man1/khv-run.1
/usr/local/share/man/man1/khv-top.1
/usr/local/share/man/man1/khv-trace.1
/usr/local/share/man/man8/virtkhvd.8"
got=$(files | grep -v '^/usr/src/')
[ "$got" = "$(sort <<<"$want")" ]
ok $? "the files: udev, sysusers, modules-load, libkhv, khv-run, the driver, virtkhvd, units, man pages" ||
	diff <(sort <<<"$want") <(printf '%s\n' "$got") | sed 's/^/# /'

# The DKMS tree builds what Kbuild lists: every object's source is there,
# and every header a source includes.
src=$stage/usr/src/khv-$ver
missing=""
for o in $(sed -n 's/\\$//; s/^khv-y :=//; /^[[:space:]]/p; /^khv-y/p' "$src/Kbuild" | tr ' \t' '\n' | grep '\.o$'); do
	[ -f "$src/${o%.o}.c" ] || [ -f "$src/${o%.o}.S" ] || missing+=" $o"
done
for f in $(cd "$src" && find . -name '*.[chS]'); do
	for h in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$src/$f"); do
		d=$(dirname "$src/$f")
		[ -f "$d/$h" ] || [ -f "$src/$h" ] || [ -f "$src/uapi/$h" ] || missing+=" $f:$h"
	done
done
grep -q "^PACKAGE_VERSION=\"$ver\"$" "$src/dkms.conf" && grep -q '^BUILT_MODULE_NAME\[0\]="khv"$' "$src/dkms.conf" &&
	grep -q '^AUTOINSTALL="yes"$' "$src/dkms.conf" && [ -z "$missing" ] && [ "$(grep -c '\.o' "$src/Kbuild")" -gt 5 ]
ok $? "the DKMS tree: dkms.conf for $ver, every source and header Kbuild needs${missing:+ (missing:$missing)}"

grep -q 'KERNEL=="khv".*GROUP="khv".*MODE="0660"' "$stage/etc/udev/rules.d/60-khv.rules" &&
	grep -q '^g khv' "$stage/etc/sysusers.d/khv.conf"
ok $? "/dev/khv 0660 for group khv, which sysusers creates"

# The units as systemd reads them (the binaries they run from the stage).
unit_ok=0
if command -v systemd-analyze >/dev/null; then
	out=$(cd "$stage/etc/systemd/system" && sed -i "s|ExecStart=/usr/local|ExecStart=$stage/usr/local|" virtkhvd.service &&
		SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no ./virtkhvd.service ./virtkhvd*.socket 2>&1)
	unit_ok=$?
	[ -z "$out" ] || unit_ok=1
fi
grep -q "^ExecStart=$stage/usr/local/sbin/virtkhvd " "$stage/etc/systemd/system/virtkhvd.service" &&
	grep -q '^KillMode=process$' "$stage/etc/systemd/system/virtkhvd.service" &&
	grep -q '^ListenStream=/run/libvirt/virtkhvd-sock$' "$stage/etc/systemd/system/virtkhvd.socket" &&
	[ "$unit_ok" = 0 ]
ok $? "systemd units: socket-activated virtkhvd, khv-run outlives it (KillMode=process)" || say

# The links to libvirtd's socket (ExecStartPre, as systemd runs it: $$
# is a $), in a stand-in for /run/libvirt: made where no modular daemon
# has its socket, a daemon's own socket left alone, nothing made without
# libvirtd's.
pre=$(sed -n 's/^ExecStartPre=-//p' "$stage/etc/systemd/system/virtkhvd.service" | sed 's/\$\$/$/g')
run=$stage/run-libvirt
mksock() { python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$1"; }
mkdir -p "$run" && mksock "$run/libvirt-sock" && mksock "$run/virtnetworkd-sock" &&
	(eval "${pre//\/run\/libvirt/$run}") &&
	[ "$(readlink "$run/virtstoraged-sock")" = libvirt-sock ] &&
	[ -S "$run/virtnetworkd-sock" ] && [ ! -L "$run/virtnetworkd-sock" ] &&
	rm "$run"/*-sock && { (eval "${pre//\/run\/libvirt/$run}"); [ -z "$(ls -A "$run")" ]; }
ok $? "virtkhvd.service links virtstoraged-sock, virtnetworkd-sock to libvirtd's socket where needed" || {
	echo "# $pre"
	ls -l "$run" | sed 's/^/# /'
}

out=$(for m in "$stage/usr/local/share/man/man1/khv-run.1" "$stage/usr/local/share/man/man1/khv-top.1" \
	"$stage/usr/local/share/man/man1/khv-trace.1" "$stage/usr/local/share/man/man8/virtkhvd.8"; do
	LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$m" 2>&1 >/dev/null; done)
[ -z "$out" ]
ok $? "man pages render without warnings" || say

strings "$stage$libdir/libvirt/connection-driver/libvirt_driver_khv.so" | grep -F /usr/local/bin/khv-run >/dev/null
ok $? "the driver runs the installed khv-run (/usr/local/bin/khv-run)"

# An administrator's settings survive a reinstall and the uninstall.
echo 'log_level = 1' >>"$stage/etc/libvirt/virtkhvd.conf"
inst install-libvirt && grep -q '^log_level = 1$' "$stage/etc/libvirt/virtkhvd.conf"
ok $? "make install keeps a changed virtkhvd.conf"
inst uninstall
rc=$?
left=$(files)
[ "$rc" = 0 ] && [ "$left" = /etc/libvirt/virtkhvd.conf ]
ok $? "make uninstall removes everything else" || printf '%s\n' "$left" | sed 's/^/# left: /'

# make lab-vm's domain: the driver takes it as it is (a kernel of /boot
# with its initramfs, as the lab host's own).
kv=""
for k in $(ls /boot/vmlinuz-* 2>/dev/null | sed 's|^/boot/vmlinuz-||' | sort -V); do
	[ -r "/boot/vmlinuz-$k" ] && [ -r "/boot/initrd.img-$k" ] && kv=$k
done
if [ -n "$kv" ]; then
	vroot=$(mktemp -d)
	out=$(LIBVIRT_DRIVER_DIR=$root/libvirt-driver/build KHV_URI="khv:///embed?root=$vroot" \
		KHV_LAB_KVER=$kv KHV_LAB_START=0 sh "$root/packaging/lab-vm.sh" 2>&1)
	ok $? "make lab-vm's domain is defined by the driver (kernel $kv)" || say
	rm -rf "$vroot"
else
	ok 0 "make lab-vm's domain # SKIP no kernel with an initramfs in /boot"
fi

# The packages.
DEB_OUT=$debs bash "$root/packaging/mkdeb.sh" "$ver" >"$debs.log" 2>&1
ok $? "make deb" || tail -n 20 "$debs.log" | sed 's/^/# /'
rm -f "$debs.log"
arch=$(dpkg --print-architecture)
built=0
for p in khv-dkms_"${ver}"_all libkhv1_"${ver}_$arch" libkhv-dev_"${ver}_$arch" \
	khv-run_"${ver}_$arch" libvirt-daemon-driver-khv_"${ver}_$arch"; do
	[ -f "$debs/$p.deb" ] && built=$((built + 1))
done
drv=$debs/libvirt-daemon-driver-khv_${ver}_$arch.deb
out=$(dpkg-deb -c "$drv" 2>&1; dpkg-deb -f "$drv" Depends 2>&1; dpkg-deb -I "$drv" conffiles 2>&1)
[ "$built" = 5 ] && has "\./usr/sbin/virtkhvd$" && has "\./usr/lib/systemd/system/virtkhvd.socket$" &&
	has "^libvirt0 (= $(dpkg-query -W -f='${Version}' libvirt0))" && has "^/etc/libvirt/virtkhvd.conf$"
ok $? "five packages; the driver's: virtkhvd, units, the exact libvirt0, its conffile" || say
out=$(dpkg-deb -c "$debs/khv-dkms_${ver}_all.deb"; dpkg-deb -c "$debs/khv-run_${ver}_$arch.deb";
	dpkg-deb -I "$debs/khv-run_${ver}_$arch.deb")
has "\./usr/src/khv-$ver/dkms.conf$" && has "\./usr/lib/udev/rules.d/60-khv.rules$" &&
	has "\./usr/bin/khv-run$" && has "\./usr/bin/khv-top$" && has "\./usr/bin/khv-trace$" &&
	has "Depends: .*libjson-c" && has "Depends: .*libncurses" && has "Depends: .*libtracefs" &&
	has "Depends: .*libplplot"
ok $? "khv-dkms under /usr/src, rules under /usr/lib; khv-run, khv-top and khv-trace with their libraries' packages" || say
strings "$root/libvirt-driver/build/libvirt_driver_khv.so" | grep -F /usr/local/bin/khv-run >/dev/null
ok $? "the tree's driver is back to /usr/local/bin/khv-run after make deb"
# shellcheck disable=SC2154 # tap.sh's
exit "$fail"
