#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# mkdeb.sh <version>: Debian packages of khv, built from make install's
# parts with PREFIX=/usr into build/deb/ (Documentation/khv/install.rst):
#   khv-dkms                    khv.ko's sources under DKMS, udev rule,
#                               khv group, loaded at boot
#   libkhv1, libkhv-dev         the library; its headers, .a, .pc
#   khv-run                     the VMM and its man page
#   libvirt-daemon-driver-khv   the libvirt driver, virtkhvd, its units
# Library dependencies come from dpkg-shlibdeps; the driver depends on the
# exact libvirt0 it was built against (libvirt has no stable driver ABI).
set -euo pipefail
ver=${1:?usage: mkdeb.sh <version>}
root=$(cd "$(dirname "$0")/.." && pwd)
out=${DEB_OUT:-$root/build/deb}
arch=$(dpkg --print-architecture)
maint="khv developers <khv@localhost>"
rm -rf "$out"
mkdir -p "$out"

stage() {	# stage <package> <make target>: make install's part into its tree
	mkdir -p "$out/$1"
	make -C "$root" --no-print-directory "$2" PREFIX=/usr DESTDIR="$out/$1" >"$out/$1.log" 2>&1 ||
		{ tail -n 20 "$out/$1.log" >&2; exit 1; }
}

shlibs() {	# shlibs <file>...: the Depends of those ELF files
	local d
	d=$(mktemp -d)
	mkdir -p "$d/debian"
	printf 'Source: khv\n\nPackage: khv\nArchitecture: any\n' >"$d/debian/control"
	(cd "$d" && dpkg-shlibdeps -O "$@" 2>/dev/null) | sed -n 's/^shlibs:Depends=//p'
	rm -rf "$d"
}

control() {	# control <package> <arch> <depends> <description...>
	local pkg=$1 a=$2 deps=$3 size
	shift 3
	mkdir -p "$out/$pkg/DEBIAN"
	size=$(du -sk --exclude=DEBIAN "$out/$pkg" | cut -f1)
	{
		echo "Package: $pkg"
		echo "Version: $ver"
		echo "Architecture: $a"
		echo "Maintainer: $maint"
		echo "Installed-Size: $size"
		[ -z "$deps" ] || echo "Depends: $deps"
		echo "Section: admin"
		echo "Priority: optional"
		echo "Homepage: file:///usr/share/doc/$pkg"
		echo "Description: $1"
		shift
		for l in "$@"; do echo " $l"; done
	} >"$out/$pkg/DEBIAN/control"
}

script() {	# script <package> <postinst|prerm|...>: body from stdin
	{ echo '#!/bin/sh'; echo 'set -e'; cat; } >"$out/$1/DEBIAN/$2"
	chmod 755 "$out/$1/DEBIAN/$2"
}

# ---- khv-dkms
stage khv-dkms install-module
control khv-dkms all "dkms, kmod, udev" \
	"khv hypervisor kernel module (DKMS)" \
	"khv.ko's sources, rebuilt by DKMS for every installed kernel; the udev" \
	"rule and the khv group that give /dev/khv to that group's members."
script khv-dkms postinst <<POST
if [ "\$1" = configure ]; then
	getent group khv >/dev/null || groupadd --system khv
	dkms add -m khv -v $ver >/dev/null 2>&1 || true
	dkms install -m khv -v $ver || echo "khv-dkms: khv.ko was not built for \$(uname -r) (its headers?)"
	udevadm control --reload-rules 2>/dev/null || true
	modprobe khv 2>/dev/null || true
fi
POST
script khv-dkms prerm <<PRERM
rmmod khv 2>/dev/null || true
dkms remove -m khv -v $ver --all >/dev/null 2>&1 || true
PRERM

# ---- libkhv1, libkhv-dev: one staging tree, split
stage libkhv install-libkhv
mkdir -p "$out/libkhv1/usr/lib" "$out/libkhv-dev/usr/lib"
mv "$out"/libkhv/usr/lib/libkhv.so.* "$out/libkhv1/usr/lib/"
mv "$out/libkhv/usr/include" "$out/libkhv-dev/usr/"
mv "$out"/libkhv/usr/lib/* "$out/libkhv-dev/usr/lib/"
rm -rf "$out/libkhv" "$out/libkhv.log"
control libkhv1 "$arch" "$(shlibs "$out"/libkhv1/usr/lib/libkhv.so.*.*)" \
	"C library for the khv hypervisor (/dev/khv)"
script libkhv1 postinst <<<'[ "$1" != configure ] || ldconfig'
control libkhv-dev "$arch" "libkhv1 (= $ver)" \
	"C library for the khv hypervisor: headers, static library, pkg-config"

# ---- khv-run
stage khv-run install-khv-run
control khv-run "$arch" "$(shlibs "$out/khv-run/usr/bin/khv-run" "$out/khv-run/usr/bin/khv-top" \
	"$out/khv-run/usr/bin/khv-trace")" \
	"virtual machine monitor for the khv hypervisor" \
	"Boots Linux and Multiboot guests on /dev/khv: virtio disks, network," \
	"console and rng, a serial port, ACPI power button, a control socket."

# ---- libvirt-daemon-driver-khv
stage libvirt-daemon-driver-khv install-libvirt
d=$out/libvirt-daemon-driver-khv
libvirt=$(dpkg-query -W -f='${Version}' libvirt0)
control libvirt-daemon-driver-khv "$arch" \
	"libvirt0 (= $libvirt), khv-run, khv-dkms, $(shlibs "$d/usr/sbin/virtkhvd" "$d"/usr/lib/*/libvirt/connection-driver/libvirt_driver_khv.so |
		sed 's/libvirt0 ([^)]*)\(, \)\{0,1\}//; s/, $//')" \
	"libvirt driver and daemon for the khv hypervisor" \
	"virtkhvd serves khv:///system to virsh, virt-install and virt-manager."
# qcow2 disks: QEMU's storage daemon serves them (khv_storage.c).
echo "Recommends: qemu-system-common" >>"$d/DEBIAN/control"
find "$d/etc" -type f | sed "s|^$d||" >"$d/DEBIAN/conffiles"
script libvirt-daemon-driver-khv postinst <<'POST'
if [ "$1" = configure ] && [ -d /run/systemd/system ]; then
	systemctl daemon-reload
	systemctl enable --now virtkhvd.socket virtkhvd-ro.socket virtkhvd-admin.socket || true
fi
POST
script libvirt-daemon-driver-khv prerm <<'PRERM'
if [ -d /run/systemd/system ]; then
	systemctl disable --now virtkhvd-tcp.socket virtkhvd-admin.socket virtkhvd-ro.socket \
		virtkhvd.socket virtkhvd.service >/dev/null 2>&1 || true
fi
PRERM
script libvirt-daemon-driver-khv postrm <<'POSTRM'
[ ! -d /run/systemd/system ] || systemctl daemon-reload || true
POSTRM

# The tree's driver again with the default emulator path (/usr/local).
make -C "$root/libvirt-driver" all >/dev/null
rm -f "$out"/*.log
for p in khv-dkms libkhv1 libkhv-dev khv-run libvirt-daemon-driver-khv; do
	fakeroot dpkg-deb --build -Zxz "$out/$p" "$out/${p}_${ver}_$(sed -n 's/^Architecture: //p' "$out/$p/DEBIAN/control").deb" >/dev/null
	rm -rf "${out:?}/$p"
done
ls "$out"
