#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lab-host.sh [dir]: README's two lab-host commands on a Debian 12 system
# made from scratch (make check-lab-host; not part of make check: it takes
# about an hour under TCG).  A debootstrapped bookworm with systemd, its
# own kernel and headers, a user "lab" with sudo and a clean clone of this
# tree in its home, written to an ext4 image and booted in QEMU with
# AMD-V (-cpu max, SVM).  At boot a unit of the image's own (not khv's)
# runs, as lab: sudo make lab-install, then make lab-vm, and checks what a
# user would: khv loaded by DKMS's build, /dev/khv 0660 root:khv, lab in
# group khv, virtkhvd socket-activated, the VM running under khv-run, the
# default network and a storage pool through khv:///system (libvirtd's
# sockets linked); then make uninstall.  TAP on the machine's console,
# which is <dir>/console.log; the exit status is the TAP's.
#
# The image gets lab-install's packages beforehand (apt-get in a chroot on
# this machine, at native speed); make lab-install still runs its
# dependency step, which then finds them.  <dir>/root, the debootstrapped
# tree with those packages, is kept between runs (LAB_FRESH=1 remakes it).
set -euo pipefail
KHV_ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib.sh
. "$KHV_ROOT/scripts/lib.sh"
dir=${1:-$KHV_ROOT/build/lab-host}
root=$dir/root
mirror=${LAB_MIRROR:-http://deb.debian.org/debian}
[ "$(id -u)" = 0 ] || die "lab-host: needs root (debootstrap, chroot)"
command -v debootstrap >/dev/null || die "lab-host: apt-get install debootstrap"
mkdir -p "$dir"

if [ "${LAB_FRESH:-0}" = 1 ] || [ ! -e "$root/.khv-lab-ready" ]; then
	rm -rf "$root"
	say "lab-host: debootstrap bookworm into $root"
	debootstrap --include=systemd-sysv,udev,dbus,linux-image-amd64,linux-headers-amd64,sudo,make,ifupdown,isc-dhcp-client,ca-certificates,kmod,procps,iproute2,git \
		bookworm "$root" "$mirror" >"$dir/debootstrap.log" 2>&1 ||
		die "lab-host: debootstrap failed ($dir/debootstrap.log)"
	# As Debian's installer writes it: deb and deb-src.
	printf 'deb %s bookworm main\ndeb-src %s bookworm main\ndeb %s bookworm-updates main\ndeb-src %s bookworm-updates main\n' \
		"$mirror" "$mirror" "$mirror" "$mirror" >"$root/etc/apt/sources.list"
	# lab-install's packages (scripts/deps.sh --lab, less the kernel's
	# headers, which are the image kernel's already) and libvirt's build
	# dependencies.
	mount --bind /proc "$root/proc"
	trap 'umount "$root/proc" 2>/dev/null || :' EXIT
	chroot "$root" sh -c 'export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq &&
		apt-get install -y -qq --no-install-recommends gcc make libc6-dev pkg-config dkms \
			libjson-c-dev libslirp-dev libnbd-dev libvncserver-dev zlib1g-dev libvirt-dev libvirt-clients \
			dpkg-dev qemu-system-common virt-manager libvirt-daemon libvirt-daemon-system \
			libvirt-daemon-config-network &&
		apt-get build-dep -y -qq --no-install-recommends libvirt' >"$dir/packages.log" 2>&1 ||
		die "lab-host: installing the packages failed ($dir/packages.log)"
	umount "$root/proc"
	trap - EXIT
	touch "$root/.khv-lab-ready"
fi

# The machine: its name, root filesystem, network (QEMU's user network,
# eth0 by DHCP), the user lab (sudo without a password, as a lab user
# has it), this tree as a clean clone, and the test unit.
echo khv-lab-host >"$root/etc/hostname"
echo "/dev/vda / ext4 defaults 0 1" >"$root/etc/fstab"
printf 'auto lo\niface lo inet loopback\nauto eth0\niface eth0 inet dhcp\n' >"$root/etc/network/interfaces"
chroot "$root" sh -c 'id lab >/dev/null 2>&1 || useradd -m -s /bin/bash lab'
echo "lab ALL=(ALL) NOPASSWD: ALL" >"$root/etc/sudoers.d/lab"
rm -rf "$root/home/lab/khv"
git clone -q "$KHV_ROOT" "$root/home/lab/khv"
chroot "$root" chown -R lab:lab /home/lab/khv
install -m 0755 "$KHV_ROOT/scripts/lab-host-test.sh" "$root/usr/local/sbin/khv-lab-test"
cat >"$root/etc/systemd/system/khv-lab-test.service" <<'EOF'
[Unit]
Description=khv lab-host test (scripts/lab-host.sh)
After=network-online.target
Wants=network-online.target

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/khv-lab-test
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS0
ExecStopPost=/bin/systemctl poweroff --no-block

[Install]
WantedBy=multi-user.target
EOF
ln -sf /etc/systemd/system/khv-lab-test.service \
	"$root/etc/systemd/system/multi-user.target.wants/khv-lab-test.service"
# No login prompt on the console the test writes to.
ln -sf /dev/null "$root/etc/systemd/system/serial-getty@ttyS0.service"

kver=$(basename "$(ls -d "$root"/lib/modules/* | sort -V | tail -n 1)")
say "lab-host: image for kernel $kver"
rm -f "$dir/disk.img"
truncate -s 16G "$dir/disk.img"
mkfs.ext4 -q -F -d "$root" "$dir/disk.img" || die "lab-host: mkfs.ext4 -d failed"

say "lab-host: booting (console: $dir/console.log)"
rm -f "$dir/console.log"
timeout "${LAB_TIMEOUT:-5400}" qemu-system-x86_64 -accel tcg,thread=multi -cpu max -smp 2 -m 6G \
	-nographic -no-reboot -kernel "$root/boot/vmlinuz-$kver" -initrd "$root/boot/initrd.img-$kver" \
	-append "root=/dev/vda rw console=ttyS0 net.ifnames=0 panic=-1" \
	-drive "file=$dir/disk.img,format=raw,if=virtio" -nic user,model=virtio-net-pci \
	</dev/null >"$dir/console.log" 2>&1 || say "lab-host: QEMU ended with status $?"
tr -d '\r' <"$dir/console.log" | grep -E '^(ok|not ok|1\.\.|# |Bail out)' || :
grep -q '^KHV-LAB-DONE' "$dir/console.log" || die "lab-host: the test did not finish ($dir/console.log)"
! tr -d '\r' <"$dir/console.log" | grep -q '^not ok'
