#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The second-level guest's initramfs for selftest khvrun: busybox (static)
# and tests/guest/init, with the test kernel's virtio modules (Debian builds
# them as modules) when its version is given.
# usage: mkinitrd.sh <output.cpio.gz> [kernel version]
set -euo pipefail
out=$1
kver=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
busybox=${BUSYBOX:-/bin/busybox}
[ -x "$busybox" ] || { echo "mkinitrd.sh: $busybox missing (busybox-static)" >&2; exit 1; }
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/proc" "$root/sys" "$root/dev" "$root/tmp"
cp "$busybox" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
install -m 0755 "$here/init" "$root/init"
# BLKBENCH: make bench's disk reader (tools/bench/build/blkbench, static).
[ -z "${BLKBENCH:-}" ] || install -m 0755 "$BLKBENCH" "$root/bin/blkbench"
# In load order (modprobe --show-depends); init insmods what it finds.
# Paths below /lib/modules/<version>/kernel/.
mods="drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_modern_dev
	drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci
	drivers/char/hw_random/virtio-rng drivers/acpi/button drivers/block/virtio_blk
	net/core/failover drivers/net/net_failover drivers/net/virtio_net
	drivers/char/virtio_console"
if [ -n "$kver" ]; then
	mkdir -p "$root/modules"
	for m in $mods; do
		f=/lib/modules/$kver/kernel/$m.ko
		for z in "" .xz .zst; do
			[ -f "$f$z" ] || continue
			case $z in
			"") cp "$f" "$root/modules/" ;;
			.xz) xz -dc "$f$z" >"$root/modules/$(basename "$f")" ;;
			.zst) zstd -qdc "$f$z" >"$root/modules/$(basename "$f")" ;;
			esac
			echo "$(basename "$f")" >>"$root/modules/order"
		done
	done
fi
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -9) >"$out"
