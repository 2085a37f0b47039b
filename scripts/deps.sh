#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install the Debian packages the test lanes need, only those missing:
# quick and silent when everything is present.  EXTRA_DEBS adds more.
# deps.sh --lab: what make install needs on a lab host instead (the
# builds, DKMS and the running kernel's headers, virt-manager), without
# the test machines (make lab-install; Documentation/khv/install.rst).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

lab=0
[ "${1:-}" = --lab ] && lab=1
pkgs=(
	gcc make libc6-dev perl xz-utils gzip cpio kmod
	busybox-static qemu-system-x86
	# The vmx lane: Bochs (bochs-term satisfies its display dependency
	# without wxWidgets; the lane itself uses the built-in rfb display)
	# and the tools for its boot CD.
	bochs bochs-term bochsbios vgabios isolinux syslinux-common genisoimage
	linux-image-amd64 linux-headers-amd64
	linux-source-6.1	# kselftest_harness.h and checkpatch.pl come from its tarball
	# khv-run: its control protocol's JSON (json-c); iasl checks its ACPI tables;
	# libslirp for --net user; zlib's CRC-32 frames its snapshot stream
	libjson-c-dev pkg-config acpica-tools libslirp-dev zlib1g-dev
	# khv-run's NBD disks (libnbd), which QEMU's storage daemon serves for
	# the libvirt driver's qcow2 disks; qemu-img and qemu-io make test images
	libnbd-dev qemu-utils
	# khv-run's graphical console: a VNC server (libvncserver; its client
	# library, libvncclient, drives the tests)
	libvncserver-dev
	# khv-top's live view of the host's VMs (ncurses)
	libncurses-dev
	# khv-trace: ftrace instances and their events (libtracefs, libtraceevent,
	# the libraries trace-cmd is built on), its plots (PLplot, whose SVG
	# device is in the core library), libxml2 to check them in its tests
	libtracefs-dev libtraceevent-dev libplplot-dev libxml2-dev
	# make bench, vmm lane: SeaBIOS for the QEMU -M pc it compares khv-run with
	seabios
	# make profile: single-steps the test machine through QEMU's gdb stub
	gdb
	# libvirt-driver/: the libvirt it is built for and tested with (virsh),
	# and apt-get source (dpkg-dev) for libvirt's internal headers
	libvirt-dev libvirt-clients dpkg-dev
	# stock virt-install, whose XML the driver's tests define; stock
	# virt-manager, driven under Xvfb through its accessibility tree (dogtail):
	# xvfb-run needs xauth, a D-Bus session (dbus-daemon) carries the
	# accessibility bus (at-spi2-core), and the a11y switch is a GSettings
	# key that must persist between processes (dconf)
	virtinst virt-manager xvfb xauth python3-dogtail gir1.2-gtk-vnc-2.0 dbus-daemon
	at-spi2-core libglib2.0-bin dconf-gsettings-backend dconf-service
	# khv+ssh:// to lane khvrun's test machine (libvirt-driver/tests/remote.sh):
	# dropbear is its SSH server (the package has no service to start
	# here), OpenSSH's client is libvirt's
	dropbear-bin openssh-client
	# libvirt's network driver in that test machine (the default network,
	# tests/guest.sh): its DHCP server and NAT rules
	dnsmasq-base iptables
	# make check-install, make deb: packages built as a user would
	# (fakeroot, dpkg-shlibdeps), units checked by systemd-analyze, man
	# pages by man
	fakeroot systemd man-db binutils
)
if [ "$lab" = 1 ]; then
	pkgs=(gcc make libc6-dev pkg-config dkms "linux-headers-$(uname -r)"
		libjson-c-dev libslirp-dev libnbd-dev libvncserver-dev zlib1g-dev libvirt-dev libvirt-clients dpkg-dev
		qemu-system-common
		virt-manager
		# virt-ssh-helper, which khv+ssh:// runs on the lab host
		libvirt-daemon
		# libvirtd: the storage pools and the default network a khv
		# connection uses (virtkhvd.service links their sockets)
		libvirt-daemon-system libvirt-daemon-config-network)
fi
# Sanitizer runtimes for clang-built test binaries (gcc ships its own).
if command -v clang-14 >/dev/null 2>&1 || command -v clang >/dev/null 2>&1; then
	pkgs+=(libclang-rt-14-dev)
fi
# shellcheck disable=SC2206
pkgs+=(${EXTRA_DEBS:-})

installed() {
	[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

missing=()
for p in "${pkgs[@]}"; do
	installed "$p" || missing+=("$p")
done

sudo=()
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null || die "not root and no sudo; install: ${missing[*]}"
	sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
updated=0
if [ ${#missing[@]} -gt 0 ]; then
	say "deps: installing ${missing[*]}"
	"${sudo[@]}" apt-get update -qq
	updated=1
	"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# libvirt-driver/ compiles against libvirt's internal headers from Debian's
# source package of the installed libvirt, configured as Debian does
# (libvirt-driver/libvirt-tree.sh): a deb-src entry beside the host's
# sources, and libvirt's build dependencies.
debsrc=/etc/apt/sources.list.d/khv-deb-src.sources
if ! grep -rqsE '^(Types:.*deb-src|deb-src )' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	[ -f /etc/apt/sources.list.d/debian.sources ] ||
		die "no deb-src entry and no /etc/apt/sources.list.d/debian.sources to derive one from"
	say "deps: adding $debsrc (deb-src of debian.sources) for libvirt's source"
	sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources |
		"${sudo[@]}" tee "$debsrc" >/dev/null
	updated=0
fi
# A simulation says what is missing; it fails when apt has no source index yet.
if ! sim=$(apt-get -s -qq build-dep libvirt 2>/dev/null) || grep -q '^Inst ' <<<"$sim"; then
	say "deps: installing libvirt's build dependencies (apt-get build-dep libvirt)"
	[ "$updated" = 1 ] || "${sudo[@]}" apt-get update -qq
	"${sudo[@]}" apt-get build-dep -y -qq --no-install-recommends libvirt >/dev/null
fi

# libvirt-daemon's virt-ssh-helper (the helper libvirt's ssh transport runs
# on the remote host) and libvirtd with its storage driver, for lane
# khvrun's test machine (khv+ssh://, storage pools): Debian ships them in
# libvirt-daemon, whose install would also bring libvirt's QEMU driver to
# this machine, so the package of the installed libvirt's version is
# unpacked under build/deps instead.
helper=$KHV_ROOT/build/deps/usr/bin/virt-ssh-helper
if [ "$lab" = 0 ] && [ ! -x "$helper" ]; then
	v=$(dpkg-query -W -f='${Version}' libvirt0)
	d=$(mktemp -d)
	say "deps: unpacking libvirt-daemon $v (virt-ssh-helper, libvirtd)"
	(cd "$d" && apt-get download -qq "libvirt-daemon=$v") ||
		{ "${sudo[@]}" apt-get update -qq && (cd "$d" && apt-get download -qq "libvirt-daemon=$v"); } ||
		die "cannot download libvirt-daemon $v"
	rm -rf "$KHV_ROOT/build/deps"
	mkdir -p "$KHV_ROOT/build/deps"
	dpkg-deb -x "$d"/libvirt-daemon_*.deb "$KHV_ROOT/build/deps"
	rm -rf "$d"
	[ -x "$helper" ] || die "no virt-ssh-helper in libvirt-daemon $v"
fi
