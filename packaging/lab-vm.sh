#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# lab-vm.sh [name]: a first VM on a lab host after make lab-install: the
# host's own kernel and initramfs, 512 MiB, 2 vCPUs, a serial console,
# defined and started through virtkhvd (khv:///system).  With no root
# disk, Debian's initramfs gives up looking for one after about 30 s and
# opens its (initramfs) shell on the console: virt-manager -c khv:///system
# shows the VM, virsh -c khv:///system console NAME reaches the shell.
# (KHV_URI: another connection; KHV_LAB_KVER: another kernel of /boot;
# KHV_LAB_START=0: define only; for tests.)
set -eu
name=${1:-khv-lab}
kver=${KHV_LAB_KVER:-$(uname -r)}
uri=${KHV_URI:-khv:///system}
for f in "/boot/vmlinuz-$kver" "/boot/initrd.img-$kver"; do
	[ -r "$f" ] || { echo "lab-vm: cannot read $f" >&2; exit 1; }
done
xml=$(mktemp)
trap 'rm -f "$xml"' EXIT
cat >"$xml" <<XML
<domain type='kvm'>
  <name>$name</name>
  <memory unit='MiB'>512</memory>
  <vcpu>2</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>/boot/vmlinuz-$kver</kernel>
    <initrd>/boot/initrd.img-$kver</initrd>
    <cmdline>console=ttyS0 rootdelay=1</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <serial type='pty'><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
    <rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>
  </devices>
</domain>
XML
virsh -c "$uri" define "$xml"
[ "${KHV_LAB_START:-1}" = 1 ] || exit 0
virsh -c "$uri" start "$name"
echo "lab-vm: $name runs; virt-manager -c $uri, or virsh -c $uri console $name"
