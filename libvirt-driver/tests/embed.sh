#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# embed.sh <module dir>: stock virsh against libvirt_driver_khv.so in
# embedded mode (khv:///embed?root=DIR: libvirt loads the module into
# virsh itself, state under DIR).  TAP on stdout.
set -uo pipefail

mod_dir=$1
here=$(cd "$(dirname "$0")" && pwd)
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
export LIBVIRT_DRIVER_DIR=$mod_dir
uri="khv:///embed?root=$root"

# shellcheck source-path=SCRIPTDIR source=tap.sh
. "$(dirname "$0")/tap.sh"

# vsh <args...>: virsh on the embedded URI; output in $out, status in $rc.
vsh() {
	out=$(timeout 60 virsh -q -c "$uri" "$@" 2>&1)
	rc=$?
}


echo "1..67"

vsh uri
[ "$rc" = 0 ] && [ "$out" = "$uri" ]
ok $? "virsh uri: $uri"

vsh version
[ "$rc" = 0 ] && has "Running hypervisor: KHV 0.1.0"
ok $? "virsh version: KHV 0.1.0"

vsh hostname
ok "$rc" "virsh hostname: $out"
[ "$out" = "$(hostname)" ]
ok $? "virsh hostname is the host's ($(hostname))"

vsh nodeinfo
[ "$rc" = 0 ] && has "^CPU(s): *$(nproc)\$"
ok $? "virsh nodeinfo: $(nproc) CPUs"

vsh maxvcpus
[ "$rc" = 0 ] && [ "$out" = 64 ]
ok $? "virsh maxvcpus: 64 (KHV_MAX_VCPUS)"

vsh capabilities
caps_ok=0
for want in "<os_type>hvm</os_type>" "<arch name='x86_64'>" "<domain type='kvm'/>" \
	"<emulator>/"; do
	grep -qF -- "$want" <<<"$out" || { caps_ok=1; echo "# capabilities lack $want"; }
done
[ "$rc" = 0 ] && [ "$caps_ok" = 0 ]
ok $? "virsh capabilities: x86_64 hvm guests of type kvm, khv-run as emulator"

vsh domcapabilities
dc_ok=0
for want in "<domain>kvm</domain>" "<arch>x86_64</arch>" "<vcpu max='64'/>" \
	"<loader supported='no'/>" "<disk supported='yes'>" "<value>virtio</value>" \
	"<graphics supported='yes'>" "<value>vnc</value>" "<video supported='yes'>" \
	"<value>vga</value>" "<value>bochs</value>" \
	"<hostdev supported='no'/>" "<rng supported='yes'>"; do
	grep -qF -- "$want" <<<"$out" || { dc_ok=1; echo "# domcapabilities lack $want"; }
done
[ "$rc" = 0 ] && [ "$dc_ok" = 0 ] && ! has "<value>spice</value>" && ! has "<value>qxl</value>"
ok $? "virsh domcapabilities: kernel boot, virtio disks and rng, VNC with vga/bochs; no loader, hostdev"
vsh domcapabilities --virttype qemu
[ "$rc" != 0 ] && has "unknown virttype 'qemu'"
ok $? "virsh domcapabilities --virttype qemu: refused"

vsh list --all
[ "$rc" = 0 ] && [ -z "$out" ]
ok $? "virsh list --all: no domains yet, no error"

# The embedded driver keeps its state under the root it was given.
[ -d "$root/etc/khv" ] && [ -d "$root/run/khv" ]
ok $? "state under the embedded root: etc/khv, run/khv"

# One process, one embedded root: a second root is refused with a reason.
other=$(mktemp -d)
out=$(timeout 60 virsh -q -c "$uri" "connect khv:///embed?root=$other" 2>&1)
rc=$?
rm -rf "$other"
[ "$rc" != 0 ] && has "is open at"
ok $? "a second embedded root in the same process is refused"

vsh maxvcpus --type qemu
[ "$rc" != 0 ] && has "unknown domain type 'qemu'"
ok $? "virsh maxvcpus --type qemu: refused"

vsh list --all --managed-save
ok "$rc" "virsh list --all --managed-save (a filter flag): accepted"

# Persistent domains: define, describe, find again in a new process,
# undefine (tests/xml/minimal.xml: every element khv accepts).
xml=$(dirname "$0")/xml/minimal.xml
vsh define "$xml"
ok "$rc" "virsh define tests/xml/minimal.xml"
vsh list --all
[ "$rc" = 0 ] && has "khv-minimal *shut off"
ok $? "virsh list --all: khv-minimal, shut off"
vsh dominfo khv-minimal
[ "$rc" = 0 ] && has "^CPU(s): *2$" && has "^Max memory: *262144 KiB" && has "^Persistent: *yes"
ok $? "virsh dominfo: 2 vCPUs, 256 MiB, persistent"
vsh domstate khv-minimal
[ "$rc" = 0 ] && [ "$out" = "shut off" ]
ok $? "virsh domstate: shut off"
vsh dumpxml khv-minimal
first=$out
for want in "<kernel>/var/lib/khv/vmlinuz</kernel>" "<emulator>/" "<target dev='vda' bus='virtio'/>" \
	"<model type='virtio'/>" "<serial type='pty'>"; do
	grep -qF -- "$want" <<<"$out" || { rc=1; echo "# dumpxml lacks $want"; }
done
ok "$rc" "virsh dumpxml: kernel, emulator, disk, interface, serial as defined"
printf '%s\n' "$first" >"$root/again.xml"
vsh define "$root/again.xml"
again_rc=$rc
vsh dumpxml khv-minimal
[ "$again_rc" = 0 ] && [ "$out" = "$first" ]
ok $? "its XML defined again comes back the same (a round trip)"
[ -f "$root/etc/khv/khv-minimal.xml" ]
ok $? "the definition is saved under the root (etc/khv/khv-minimal.xml)"
vsh dominfo khv-minimal
[ "$rc" = 0 ]
ok $? "a new process finds the definition again"
vsh undefine khv-minimal
undef_rc=$rc
vsh list --all
[ "$undef_rc" = 0 ] && [ -z "$out" ] && [ ! -e "$root/etc/khv/khv-minimal.xml" ]
ok $? "virsh undefine: gone from the list and from etc/khv"
vsh dominfo khv-minimal
[ "$rc" != 0 ] && has "failed to get domain 'khv-minimal'"
ok $? "an undefined domain is not found"

# What khv-run cannot honour is refused at define time, naming the element.
refuse() {	# refuse <what> <sed script on minimal.xml> <expected text>
	sed "$2" "$xml" >"$root/bad.xml"
	vsh define "$root/bad.xml"
	[ "$rc" != 0 ] && grep -qF -- "$3" <<<"$out"
	ok $? "refused: $1 ($3)"
	[ "$rc" != 0 ] || echo "# defined anyway: $out"
}
refuse "another domain type" "s/<domain type='kvm'>/<domain type='qemu'>/" "<domain type='qemu'>"
refuse "firmware" "s|<kernel>|<loader>/usr/share/OVMF/OVMF_CODE.fd</loader><kernel>|" "<os><loader>"
refuse "no kernel" "/<kernel>/d; /<initrd>/d; /<cmdline>/d" "without <os><kernel>"
refuse "65 vCPUs" "s|<vcpu>2</vcpu>|<vcpu>65</vcpu>|" "65 vCPUs (at most 64)"
refuse "a CD-ROM" "s/device='disk'/device='cdrom'/" "<disk device='cdrom'>"
refuse "a SATA disk" "s/bus='virtio'/bus='sata'/; s/dev='vda'/dev='sda'/" "<disk><target bus='sata'>"
refuse "a VMDK disk" "s/type='raw'/type='vmdk'/" "<disk><driver type='vmdk'>"
refuse "qcow2 written through" "s/type='raw' cache='none'/type='qcow2' cache='writethrough'/" \
	"<disk><driver type='qcow2' cache='writethrough'>"
refuse "an e1000 NIC" "s/<model type='virtio'\/>/<model type='e1000'\/>/" "<interface><model type='e1000'>"
refuse "user networking" "s/<interface type='bridge'>/<interface type='user'>/; /<source bridge/d" \
	"<interface type='user'>"
refuse "a serial port to a file" "s|<serial type='pty'>|<serial type='file'><source path='/tmp/x'/>|" \
	"<serial type='file'>"
refuse "SPICE" "s|</devices>|<graphics type='spice'/></devices>|" "<graphics type='spice'> (only 'vnc')"
refuse "two displays" "s|</devices>|<graphics type='vnc'/><graphics type='vnc'/></devices>|" \
	"more than one <graphics>"
refuse "a QXL adapter" \
	"s|</devices>|<graphics type='vnc'/><video><model type='qxl'/></video></devices>|" \
	"<video><model type='qxl'>"
refuse "a display without an adapter" \
	"s|</devices>|<graphics type='vnc'/><video><model type='none'/></video></devices>|" \
	"<graphics> with <video><model type='none'>"
refuse "VNC on a Unix socket" \
	"s|</devices>|<graphics type='vnc'><listen type='socket'/></graphics></devices>|" \
	"<graphics><listen type='socket'>"
refuse "a WebSocket port" "s|</devices>|<graphics type='vnc' websocket='5700'/></devices>|" \
	"<graphics websocket=...>"
refuse "a keymap" "s|</devices>|<graphics type='vnc' keymap='de'/></devices>|" \
	"<graphics keymap=...>"
refuse "a PS/2 mouse" "s|</devices>|<graphics type='vnc'/><input type='mouse' bus='ps2'/></devices>|" \
	"<input type='mouse' bus='ps2'>"
refuse "a tablet with no display" "s|</devices>|<input type='tablet' bus='virtio'/></devices>|" \
	"virtio <input> devices without <graphics>"
refuse "two tablets" \
	"s|</devices>|<graphics type='vnc'/><input type='tablet' bus='virtio'/><input type='tablet' bus='virtio'/></devices>|" \
	"more than one virtio tablet"
refuse "another amount of video memory" \
	"s|</devices>|<graphics type='vnc'/><video><model type='vga' vram='65536'/></video></devices>|" \
	"<video><model vram='65536'>"
refuse "a virtio balloon" "s/<memballoon model='none'\/>/<memballoon model='virtio'\/>/" \
	"<memballoon model='virtio'>"
refuse "restart on power-off" "s|<devices>|<on_poweroff>restart</on_poweroff><devices>|" \
	"<on_poweroff>restart</on_poweroff>"
refuse "keep a crashed guest" "s|<devices>|<on_crash>preserve</on_crash><devices>|" \
	"<on_crash>preserve</on_crash>"
refuse "an unsafe cache" "s/cache='none'/cache='unsafe'/" "<disk><driver cache='unsafe'>"
refuse "a 21-character disk serial" "s|khv-disk-0|khv-disk-0123456789ab|" \
	"<disk><serial> of more than 20 characters"
refuse "two virtio consoles" \
	"s|</devices>|<console type='pty'><target type='virtio'/></console><console type='pty'><target type='virtio'/></console></devices>|" \
	"more than one <console> on a virtio target"
refuse "vCPU hotplug" "s|<vcpu>2</vcpu>|<vcpu current='1'>2</vcpu>|" "<vcpu current='1'>"
refuse "a CPU mode" "s|<devices>|<cpu mode='host-passthrough'/><devices>|" "<cpu>"
refuse "SMM" "s|<devices>|<features><smm state='on'/></features><devices>|" "<features><smm/>"
refuse "Hyper-V enlightenments" \
	"s|<devices>|<features><hyperv mode='custom'><relaxed state='on'/></hyperv></features><devices>|" \
	"<features><hyperv/>"
refuse "a clock in local time" "s|<devices>|<clock offset='localtime'/><devices>|" \
	"<clock offset='localtime'>"
refuse "an HPET" "s|<devices>|<clock offset='utc'><timer name='hpet' present='yes'/></clock><devices>|" \
	"<timer name='hpet'>"
refuse "a tick policy" \
	"s|<devices>|<clock offset='utc'><timer name='rtc' tickpolicy='catchup'/></clock><devices>|" \
	"<timer name='rtc' tickpolicy='catchup'>"
vsh list --all
[ "$rc" = 0 ] && [ -z "$out" ]
ok $? "nothing was defined by the refused definitions"

# A display as virt-manager writes one: the adapter libvirt adds is the VGA
# one, the PS/2 keyboard is there, a USB tablet becomes the virtio tablet.
sed "s|</devices>|<graphics type='vnc' port='-1' autoport='yes'><listen type='address'/></graphics><input type='tablet' bus='usb'/></devices>|" \
	"$xml" >"$root/gfx.xml"
vsh define "$root/gfx.xml"
ok "$rc" "a VNC display and a USB tablet: defined" || say
vsh "dumpxml khv-minimal; undefine khv-minimal"
[ "$rc" = 0 ] && has "<graphics type='vnc' port='-1' autoport='yes'>" && has "<model type='vga' vram='16384'" &&
	has "<input type='tablet' bus='virtio'/>" && has "<input type='keyboard' bus='ps2'/>" &&
	! has "bus='usb'"
ok $? "its XML: model vga (16 MiB), a PS/2 keyboard, the tablet on virtio" || say

# Stock virt-install's own XML for a kernel-boot VM is one khv takes.  (It
# treats a khv:// connection as it treats any non-QEMU one: virtio only
# when asked for; and without a storage driver, as in embedded mode, it
# cannot add a disk at all.)
kv=$(ls /boot/vmlinuz-* 2>/dev/null | sed -n 's|^/boot/vmlinuz-||p' | sort -V | tail -n1)
if [ -x /usr/bin/virt-install ] && [ -n "$kv" ]; then
	out=$(/usr/bin/python3 "$here/virt-install-embed.py" --connect "$uri" --name vi \
		--memory 512 --vcpus 2 --osinfo linux2022 --graphics none --disk none \
		--network bridge=br0,model=virtio,mac=52:54:00:aa:bb:cc \
		--boot "kernel=/boot/vmlinuz-$kv,kernel_args=console=ttyS0" --print-xml 2>&1)
	rc=$?
	printf '%s\n' "$out" >"$root/vi.xml"
	[ "$rc" = 0 ] && has "<kernel>/boot/vmlinuz-$kv</kernel>" && has '<model type="virtio"/>'
	ok $? "virt-install --print-xml: a kernel-boot VM with a virtio NIC" || say
	vsh define "$root/vi.xml"
	ok "$rc" "virt-install's XML: defined" || say
	vsh "dumpxml vi; undefine vi"
	[ "$rc" = 0 ] && has "<console type='pty'>" && has "<source bridge='br0'/>"
	ok $? "virt-install's XML: the console and the bridge kept, then undefined" || say
	# Its defaults for a display, as virt-manager's wizard uses them.
	out=$(/usr/bin/python3 "$here/virt-install-embed.py" --connect "$uri" --name vg \
		--memory 512 --vcpus 1 --osinfo linux2022 --disk none --network none \
		--boot "kernel=/boot/vmlinuz-$kv" --print-xml 2>&1)
	rc=$?
	printf '%s\n' "$out" >"$root/vg.xml"
	[ "$rc" = 0 ] && has "<graphics type=\"vnc\"" && has '<input type="tablet" bus="usb"/>'
	ok $? "virt-install --print-xml: its default display is VNC with a USB tablet" || say
	vsh "define $root/vg.xml; dumpxml vg; undefine vg"
	[ "$rc" = 0 ] && has "<graphics type='vnc'" && has "<model type='vga'" &&
		has "<input type='tablet' bus='virtio'/>"
	ok $? "virt-install's display: defined (vga adapter, virtio tablet), then undefined" || say
else
	for w in "--print-xml" "defined" "kept" "display XML" "display defined"; do
		ok 0 "virt-install's XML: $w # SKIP no /usr/bin/virt-install or no kernel in /boot"
	done
fi

exit "$fail"
