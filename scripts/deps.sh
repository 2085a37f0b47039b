#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install the Debian packages the test lanes need, only those missing:
# quick and silent when everything is present.  EXTRA_DEBS adds more.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

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
	# libslirp for --net user
	libjson-c-dev pkg-config acpica-tools libslirp-dev
	# make bench, vmm lane: SeaBIOS for the QEMU -M pc it compares khv-run with
	seabios
	# make profile: single-steps the test machine through QEMU's gdb stub
	gdb
)
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
[ ${#missing[@]} -eq 0 ] && exit 0

say "deps: installing ${missing[*]}"
sudo=()
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null || die "not root and no sudo; install: ${missing[*]}"
	sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
