#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# libvirt-tree.sh <dir>: a configured source tree of the libvirt this host
# runs, for the driver's headers.  libvirt has no stable ABI for drivers
# built outside its tree: a driver is compiled against the internal
# headers and the configuration (config.h, meson-config.h) of the very
# version whose libvirt.so.0 will load it.  So this takes Debian's source
# package of the installed libvirt0 and configures it with Debian's own
# options (debian/rules), into <dir>/libvirt-<version>/build.  Nothing is
# built: the headers the driver includes need no generated file yet.
#
# Needs a deb-src entry for the host's sources (scripts/deps.sh adds one)
# and libvirt's build dependencies (apt-get build-dep libvirt).  Done once
# per version; later calls only print the path.
set -euo pipefail

dir=$1
ver=$(dpkg-query -W -f='${Version}' libvirt0 2>/dev/null) ||
	{ echo "libvirt-tree: libvirt0 is not installed" >&2; exit 1; }
up=${ver#*:}
up=${up%%-*}
tree=$dir/libvirt-$up
stamp=$tree/build/.khv-configured-$ver
if [ -f "$stamp" ]; then
	echo "$tree"
	exit 0
fi
mkdir -p "$dir"
rm -rf "$tree"
(cd "$dir" && apt-get source -qq --only-source "libvirt=$ver" >"$dir/apt-source.log" 2>&1) ||
	{ echo "libvirt-tree: apt-get source libvirt=$ver failed (is there a deb-src entry?)" >&2; exit 1; }
[ -d "$tree" ] || { echo "libvirt-tree: no $tree after apt-get source" >&2; exit 1; }

# Debian's configure options for Linux (debian/rules, DEB_CONFIGURE_EXTRA_ARGS
# with its linux-any choices), less docs and tests, which need more tools
# and change no header.
opts=(
	--prefix=/usr --libdir=lib/x86_64-linux-gnu --sysconfdir=/etc --localstatedir=/var
	--libexecdir=/usr/lib/libvirt -Drunstatedir=/run
	-Ddriver_qemu=enabled -Ddriver_libvirtd=enabled -Ddriver_remote=enabled
	-Dremote_default_mode=legacy -Ddriver_test=enabled -Ddriver_ch=disabled
	-Dqemu_user=libvirt-qemu -Dqemu_group=libvirt-qemu
	-Dqemu_moddir=/usr/lib/x86_64-linux-gnu/qemu -Dqemu_datadir=/usr/share/qemu
	-Ddocs=disabled -Dtests=disabled
	-Ddriver_openvz=enabled -Dsasl=enabled -Dyajl=enabled -Dlibssh2=enabled -Dlibssh=enabled
	-Dpolkit=enabled -Dsanlock=enabled -Dudev=enabled
	-Dstorage_fs=enabled -Dstorage_dir=enabled -Dstorage_lvm=enabled -Dstorage_iscsi=enabled
	-Dstorage_iscsi_direct=enabled -Dstorage_disk=enabled -Dstorage_rbd=enabled
	-Dstorage_gluster=enabled -Dstorage_vstorage=disabled -Dstorage_zfs=enabled
	-Dinit_script=systemd -Dnumactl=enabled -Dnumad=enabled
	-Dselinux=enabled -Dsecdriver_selinux=enabled -Dselinux_mount=/sys/fs/selinux
	-Dapparmor=enabled -Dsecdriver_apparmor=enabled -Dapparmor_profiles=enabled
	-Ddriver_esx=enabled -Dcapng=enabled -Dlibnl=enabled -Ddriver_network=enabled
	-Dnetcf=disabled -Ddriver_libxl=enabled -Ddriver_vbox=enabled -Ddriver_lxc=enabled
	-Dlogin_shell=enabled -Ddtrace=enabled -Daudit=enabled -Dfirewalld=enabled
	-Dattr=enabled -Dnss=enabled -Dwireshark_dissector=enabled
)
(cd "$tree" && meson setup build "${opts[@]}" >"$dir/libvirt-meson.log" 2>&1) ||
	{ echo "libvirt-tree: meson setup failed; see $dir/libvirt-meson.log" >&2; exit 1; }
touch "$stamp"
echo "$tree"
