#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# live.sh: what make install and make uninstall do to the running system
# besides copying files (Documentation/khv/install.rst).  Only without
# DESTDIR; each step says what it did, and fails with what to run instead.
#   live.sh install-module <version>     the khv group, DKMS, udev, modprobe
#   live.sh uninstall-module <version>
#   live.sh install-libvirt              systemd: enable the sockets
#   live.sh uninstall-libvirt
#   live.sh ldconfig
set -eu

say() { printf 'khv: %s\n' "$*"; }
die() { printf 'khv: error: %s\n' "$*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }
systemd_up() { [ -d /run/systemd/system ] && have systemctl; }

[ "$(id -u)" = 0 ] || die "installing into the running system needs root (or DESTDIR=...)"

case $1 in
install-module)
	ver=$2
	if ! getent group khv >/dev/null; then
		groupadd --system khv
		say "group khv created: its members may open /dev/khv (usermod -aG khv USER)"
	fi
	have dkms || die "dkms is not installed (apt-get install dkms), or build khv.ko yourself: make module"
	# A reinstall of the same version: DKMS keeps its own copy, drop it first.
	if dkms status -m khv -v "$ver" 2>/dev/null | grep -q .; then
		dkms remove -m khv -v "$ver" --all >/dev/null
	fi
	dkms add -m khv -v "$ver"
	# For the running kernel (KHV_KERNEL: another); DKMS's own hook builds
	# it again for each kernel installed later (AUTOINSTALL in dkms.conf).
	kernel=${KHV_KERNEL:-$(uname -r)}
	dkms install -m khv -v "$ver" -k "$kernel" ||
		die "DKMS could not build khv.ko for $kernel (apt-get install linux-headers-$kernel?)"
	dkms status -m khv -v "$ver"
	if have udevadm; then
		udevadm control --reload-rules 2>/dev/null || :
		[ -e /sys/class/misc/khv ] && udevadm trigger --action=change /sys/class/misc/khv || :
	fi
	if [ "$kernel" != "$(uname -r)" ]; then
		say "khv.ko is built for $kernel, not the running kernel: it loads when $kernel boots"
	elif modprobe khv 2>/dev/null; then
		say "khv loaded: $(ls -l /dev/khv 2>/dev/null || echo 'no /dev/khv yet')"
	else
		say "khv did not load now (dmesg says why: no VT-x/AMD-V, or kvm_amd/kvm_intel holds it); it loads at boot"
	fi
	;;
uninstall-module)
	ver=$2
	if lsmod 2>/dev/null | grep -q '^khv '; then
		rmmod khv || say "khv is in use: it stays loaded until the VMs end"
	fi
	if have dkms && dkms status -m khv -v "$ver" 2>/dev/null | grep -q .; then
		dkms remove -m khv -v "$ver" --all
	fi
	have udevadm && udevadm control --reload-rules 2>/dev/null || :
	say "the khv group stays (groupdel khv removes it)"
	;;
install-libvirt)
	if systemd_up; then
		systemctl daemon-reload
		systemctl enable --now virtkhvd.socket virtkhvd-ro.socket virtkhvd-admin.socket
		say "virtkhvd listens on /run/libvirt/virtkhvd-sock: virsh -c khv:///system"
	else
		say "no systemd: start the daemon yourself (virtkhvd -d)"
	fi
	;;
uninstall-libvirt)
	if systemd_up; then
		systemctl disable --now virtkhvd-tcp.socket virtkhvd-admin.socket \
			virtkhvd-ro.socket virtkhvd.socket virtkhvd.service 2>/dev/null || :
		systemctl daemon-reload
	fi
	;;
ldconfig)
	ldconfig
	;;
*)
	die "unknown step $1"
	;;
esac
