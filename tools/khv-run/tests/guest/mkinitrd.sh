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
# DIRTIER: make bench's memory-dirtying workload (tools/bench/build/dirtier).
[ -z "${DIRTIER:-}" ] || install -m 0755 "$DIRTIER" "$root/bin/dirtier"
# In load order (modprobe --show-depends); init insmods what it finds.
# Paths below /lib/modules/<version>/kernel/.
mods="drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_modern_dev
	drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci
	drivers/char/hw_random/virtio-rng drivers/acpi/button drivers/block/virtio_blk
	net/core/failover drivers/net/net_failover drivers/net/virtio_net
	drivers/char/virtio_console"
# The graphical console's drivers (khvrun=vnc only, which loads them from
# /modules/gfx): the bochs DRM driver and its helpers, input events, virtio
# input (after the virtio core above).
gfxmods="drivers/gpu/drm/drm drivers/gpu/drm/drm_kms_helper drivers/gpu/drm/ttm/ttm
	drivers/gpu/drm/drm_ttm_helper drivers/gpu/drm/drm_vram_helper
	drivers/gpu/drm/tiny/bochs drivers/input/evdev drivers/virtio/virtio_input"
copy_mods() {	# copy_mods <dir> <module paths...>
	dir=$1
	shift
	mkdir -p "$dir"
	for m in "$@"; do
		f=/lib/modules/$kver/kernel/$m.ko
		for z in "" .xz .zst; do
			[ -f "$f$z" ] || continue
			case $z in
			"") cp "$f" "$dir/" ;;
			.xz) xz -dc "$f$z" >"$dir/$(basename "$f")" ;;
			.zst) zstd -qdc "$f$z" >"$dir/$(basename "$f")" ;;
			esac
			echo "$(basename "$f")" >>"$dir/order"
		done
	done
}
if [ -n "$kver" ]; then
	# shellcheck disable=SC2086 # one word per module
	copy_mods "$root/modules" $mods
	# shellcheck disable=SC2086
	copy_mods "$root/modules/gfx" $gfxmods
fi
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -9) >"$out"
