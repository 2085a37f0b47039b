#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Pack a bootable CD image for Bochs, which has no direct kernel boot:
#   /isolinux/isolinux.bin, ldlinux.c32   the boot loader (isolinux package,
#                                          syslinux-common)
#   /isolinux/isolinux.cfg                serial console, one entry, no menu
#   /vmlinuz                              /boot/vmlinuz-<test kernel>
#   /initrd.gz                            the initramfs given
# The kernel command line is "console=ttyS0,115200 <kernel args...>".
#
# usage: mkiso.sh <out.iso> <initramfs.cpio.gz> [kernel args...]
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=${1:?usage: mkiso.sh <out.iso> <initramfs.cpio.gz> [kernel args...]}
initrd=${2:?usage: mkiso.sh <out.iso> <initramfs.cpio.gz> [kernel args...]}
shift 2

kver=$(test_kver)
kernel=/boot/vmlinuz-$kver
[ -r "$kernel" ] || die "cannot read $kernel (root needed on Debian)"
[ -r "$initrd" ] || die "cannot read $initrd"
isolinux_bin=${ISOLINUX_BIN:-/usr/lib/ISOLINUX/isolinux.bin}
ldlinux=${LDLINUX_C32:-/usr/lib/syslinux/modules/bios/ldlinux.c32}
[ -r "$isolinux_bin" ] || die "$isolinux_bin missing (apt-get install isolinux)"
[ -r "$ldlinux" ] || die "$ldlinux missing (apt-get install syslinux-common)"
command -v genisoimage >/dev/null || die "genisoimage missing (apt-get install genisoimage)"

root=${out%.iso}.isoroot
rm -rf "$root"
mkdir -p "$root/isolinux"
cp "$isolinux_bin" "$ldlinux" "$root/isolinux/"
cp "$kernel" "$root/vmlinuz"
cp "$initrd" "$root/initrd.gz"

# SERIAL 0 mirrors the loader's own (few) messages on COM1; PROMPT 0 and
# no TIMEOUT boot the single entry at once.  The kernel line is one line:
# syslinux has no continuation lines.
cat >"$root/isolinux/isolinux.cfg" <<EOF
SERIAL 0 115200
PROMPT 0
DEFAULT khv
LABEL khv
	KERNEL /vmlinuz
	INITRD /initrd.gz
	APPEND console=ttyS0,115200 $*
EOF

# -boot-info-table patches isolinux.bin in place: it is our own copy.
genisoimage -quiet -R -J -o "$out.tmp" \
	-b isolinux/isolinux.bin -c isolinux/boot.cat \
	-no-emul-boot -boot-load-size 4 -boot-info-table "$root"
mv "$out.tmp" "$out"
rm -rf "$root"
