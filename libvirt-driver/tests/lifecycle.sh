#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lifecycle.sh <module dir>: running domains through stock virsh, the
# driver embedded (khv:///embed?root=DIR), khv-run played by
# tests/fake-khv-run (this machine has no khv).  TAP on stdout.
#
# Each virsh process is a new driver: it finds the running domains again
# from their status files (khv_process.c), so most checks here also check
# that.  What needs one driver watching khv-run (events, the reason a
# domain stopped) runs as several commands in one virsh process.
set -uo pipefail

mod_dir=$1
here=$(cd "$(dirname "$0")" && pwd)
root=$(mktemp -d)
cleanup() {
	pkill -f "fake-khv-run.*$root" 2>/dev/null
	rm -rf "$root"
}
trap cleanup EXIT
export LIBVIRT_DRIVER_DIR=$mod_dir
uri="khv:///embed?root=$root"
run=$root/run/khv

# shellcheck source-path=SCRIPTDIR source=tap.sh
. "$here/tap.sh"

# vsh <args...>: virsh on the embedded URI; output in $out, status in $rc.
vsh() {
	out=$(timeout 60 virsh -q -c "$uri" "$@" 2>&1)
	rc=$?
}


# The domain: COM1 and a virtio console on ptys, fake-khv-run as emulator.
domxml() {	# domxml <name> <kernel>
	cat <<EOF
<domain type='kvm'>
  <name>$1</name>
  <memory unit='MiB'>128</memory>
  <vcpu>2</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>$2</kernel>
    <cmdline>console=ttyS0</cmdline>
  </os>
  <devices>
    <emulator>$here/fake-khv-run</emulator>
    <disk type='file' device='disk'>
      <source file='$root/disk.img'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <serial type='pty'><target port='0'/></serial>
    <console type='pty'><target type='virtio'/></console>
  </devices>
</domain>
EOF
}

alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

echo "1..62"

domxml vm /boot/vmlinuz >"$root/vm.xml"
vsh define "$root/vm.xml"
ok "$rc" "virsh define: a domain run by fake-khv-run"

vsh start vm
ok "$rc" "virsh start"
[ "$rc" = 0 ] || say
pid=$(cat "$run/vm.pid" 2>/dev/null)
alive "$pid" && grep -qa fake-khv-run "/proc/$pid/cmdline"
ok $? "khv-run runs (pid $pid), daemonized"
vsh list
[ "$rc" = 0 ] && has "^ *$pid *vm *running"
ok $? "virsh list (a new driver, found again): running, its ID the pid"
want="--kernel /boot/vmlinuz --append console=ttyS0 --memory 131072K --cpus 2 --serial pty"
want+=" --console pty --disk path=$root/disk.img --control $run/vm.ctl"
[ "$(tr '\n' ' ' <"$run/vm.ctl.argv")" = "$want " ]
ok $? "khv-run's command line: $want"
grep -q -- "--control $run/vm.ctl" "$root/log/khv/vm.log"
ok $? "the command line heads the domain's log (log/khv/vm.log)"

vsh dumpxml vm
serial=$(grep -A1 "<serial type='pty'>" <<<"$out" | sed -n "s/.*<source path='\([^']*\)'.*/\1/p")
hvc=$(grep -B0 -A1 "<console type='pty'>" <<<"$out" | sed -n "s/.*<source path='\([^']*\)'.*/\1/p")
[ -c "$serial" ] && [ -c "$hvc" ] && [ "$serial" != "$hvc" ] && has "<alias name='serial0'/>"
ok $? "live XML: COM1 on $serial, hvc0 on $hvc, aliases"
vsh dumpxml --inactive vm
! has "<source path=" && ! has "<alias"
ok $? "the inactive XML has no pty path and no alias"

# What it uses: khv-run's CPU time, its vCPUs, its disk's counters.
vsh dominfo vm
[ "$rc" = 0 ] && has "^CPU time: *[0-9.]*s"
ok $? "virsh dominfo: khv-run's CPU time" || say
vsh vcpuinfo vm
[ "$rc" = 0 ] && has "^VCPU: *1" && has "^State: *running" && has "^State: *blocked" &&
	has "^CPU time: *[0-9.]*s" && has "^CPU Affinity:"
ok $? "virsh vcpuinfo: 2 vCPUs (running, halted: blocked), their threads' time" || say
vsh domblkstat vm vda
[ "$rc" = 0 ] && has "vda rd_req 1" && has "vda rd_bytes 512" && has "vda wr_req 2" &&
	has "vda wr_bytes 4096"
ok $? "virsh domblkstat vm vda: khv-run's counters" || say
vsh domblkstat vm vdz
[ "$rc" != 0 ] && has "no disk 'vdz'"
ok $? "virsh domblkstat of a disk the domain lacks: refused" || say
vsh domstats vm
[ "$rc" = 0 ] && has "state.state=1" && has "cpu.time=" && has "vcpu.current=2" &&
	has "vcpu.1.state=2" && has "block.count=1" && has "block.0.name=vda" &&
	has "block.0.fl.reqs=3"
ok $? "virsh domstats: state, cpu, vcpu and block groups" || say

vsh "suspend vm; domstate --reason vm; resume vm; domstate --reason vm"
[ "$rc" = 0 ] && has "^paused (user)" && has "^running (unpaused)"
ok $? "suspend, resume: paused (user), running (unpaused)" || say

# (That khv-run's RESET becomes a reboot event: tests/embed_api.c, which
# can listen before it acts.)
vsh reset vm
[ "$rc" = 0 ] && grep -q "command system_reset" "$root/log/khv/vm.log"
ok $? "virsh reset: khv-run's system_reset" || { say; tail -5 "$root/log/khv/vm.log" | sed "s/^/# log: /"; }

vsh start vm
[ "$rc" != 0 ] && has "already active"
ok $? "virsh start on a running domain: refused"

vsh "shutdown vm; event --domain vm --event lifecycle --timeout 10; domstate --reason vm"
[ "$rc" = 0 ] && has "event 'lifecycle' for domain 'vm': Stopped Shutdown" &&
	has "^shut off (shutdown)"
ok $? "virsh shutdown: the guest powers off; event stopped/shutdown; shut off (shutdown)"
[ "$rc" = 0 ] || say
ended() { ! alive "$pid" && [ ! -e "$run/vm.xml" ] && [ ! -e "$run/vm.pid" ] && [ ! -e "$run/vm.ctl" ]; }
eventually 10 ended
ok $? "khv-run ended; status, pid file and socket gone"

vsh domstats vm
[ "$rc" = 0 ] && has "state.state=5" && ! has "cpu.time" && ! has "block."
ok $? "virsh domstats of a shut-off domain: its state only" || say

vsh shutdown vm
[ "$rc" != 0 ] && has "not running"
ok $? "virsh shutdown on a shut-off domain: refused"

vsh "start vm; destroy vm; domstate --reason vm"
[ "$rc" = 0 ] && has "^shut off (destroyed)"
ok $? "virsh destroy: shut off (destroyed)" || say
pgrep -f "fake-khv-run.*$root" >/dev/null
[ $? != 0 ]
ok $? "no khv-run left after destroy"

# khv-run killed while a driver watches: crashed, with an event.
vsh start vm
pid=$(cat "$run/vm.pid" 2>/dev/null)
(sleep 1; kill -9 "$pid") &
vsh "event --domain vm --event lifecycle --timeout 10; domstate --reason vm"
wait
[ "$rc" = 0 ] && has "event 'lifecycle' for domain 'vm': Stopped Failed" &&
	has "^shut off (crashed)"
ok $? "khv-run killed: event stopped/failed, shut off (crashed)"
[ ! -e "$run/vm.xml" ] && [ ! -e "$run/vm.ctl" ]
ok $? "the crashed domain's status file and socket are gone"

# ...and while nobody watches: the next driver finds it gone.
vsh start vm
pid=$(cat "$run/vm.pid" 2>/dev/null)
kill -9 "$pid"
found_off() { vsh domstate --reason vm; [ "$rc" = 0 ] && has "^shut off (unknown)"; }
eventually 10 found_off
ok $? "khv-run killed unwatched: the next driver finds it shut off" || say
[ ! -e "$run/vm.xml" ]
ok $? "and removes its status file"

# A kernel khv-run refuses: the error says what khv-run said.
domxml badvm /srv/bad-kernel >"$root/bad.xml"
vsh define "$root/bad.xml"
vsh start badvm
[ "$rc" != 0 ] && has "not a Linux bzImage"
ok $? "a kernel khv-run refuses: start fails with khv-run's words"
[ "$rc" != 0 ] || say
vsh "domstate badvm; list --all"
has "^shut off" && ! has "badvm *running"
ok $? "and the domain is shut off"
[ ! -e "$run/badvm.xml" ] && [ ! -e "$run/badvm.pid" ]
ok $? "and nothing of it is left in run/khv"
vsh undefine badvm

# Save and restore (khv_save.c): khv-run's snapshot, then the XML and a
# trailer; restore runs khv-run --restore on the image.
img=$root/vm.sav
vsh "start vm; save vm $img; domstate --reason vm"
[ "$rc" = 0 ] && has "^shut off (saved)" && [ -s "$img" ] && [ ! -e "$img.part" ] &&
	[ ! -e "$run/vm.xml" ]
ok $? "virsh save: shut off (saved), the image written, khv-run gone" || say
vsh save-image-dumpxml "$img"
[ "$rc" = 0 ] && has "<name>vm</name>" && ! has "/dev/pts" && tail -c 64 "$img" | grep -qa "khv-libvirt-save"
ok $? "virsh save-image-dumpxml: the domain as defined (no ptys); the trailer ends the file" || say
vsh "restore $img; domstate --reason vm"
[ "$rc" = 0 ] && has "^running (restored)" && grep -qxF -- "$img" "$run/vm.ctl.argv" &&
	grep -qxF -- "--restore" "$run/vm.ctl.argv" && [ -s "$run/vm.ctl.restored" ]
ok $? "virsh restore: khv-run --restore on the image, running (restored)" || say
vsh "save vm $root/vm2.sav --paused; restore $root/vm2.sav; domstate --reason vm"
[ "$rc" = 0 ] && has "^paused (user)" && grep -qxF -- "--paused" "$run/vm.ctl.argv"
ok $? "virsh save --paused, restore: khv-run --paused, the domain paused" || say
vsh "resume vm; domstate vm"
[ "$rc" = 0 ] && has "^running"
ok $? "and resumed, it runs" || say
vsh save vm "$root/refuse.sav"
[ "$rc" != 0 ] && has "EBUSY" && [ ! -e "$root/refuse.sav" ] && [ ! -e "$root/refuse.sav.part" ]
ok $? "a save khv-run refuses: its words, no file left" || say
vsh "domstate --reason vm; suspend vm; resume vm"
[ "$rc" = 0 ] && has "^running"
ok $? "and the domain runs on, its monitor back" || say
# An image the driver cannot finish after khv-run wrote its snapshot and
# quit (an XML over the trailer's 4 MiB): the snapshot is kept, and said.
vsh dumpxml --inactive vm
printf '%s\n' "$out" | python3 -c 'import sys; s = sys.stdin.read(); sys.stdout.write(s.replace("</name>", "</name><description>" + "x" * 5000000 + "</description>", 1))' >"$root/big.xml"
vsh save vm "$root/big.sav" --xml "$root/big.xml"
out2=$out
vsh domstate --reason vm
[ "$rc" = 0 ] && grep -q "too long; the guest's snapshot is kept in '$root/big.sav.part'" <<<"$out2" &&
	has "^shut off" && ! grep -q "failed: operation failed" <<<"$out2" &&
	[ -s "$root/big.sav.part" ] && [ ! -e "$root/big.sav" ] && head -c 15 "$root/big.sav.part" | grep -q KHVSNAP-FAKE
ok $? "an image the driver cannot finish: khv-run's snapshot kept as .part, said; the domain shut off" ||
	{ out="$out2 / $out"; say; }
vsh start vm
vsh destroy vm

vsh save-image-dumpxml "$img"
printf '%s\n' "$out" >"$root/vm-img.xml"
sed "s|<name>vm</name>|&<description>saved once</description>|" "$root/vm-img.xml" >"$root/vm-desc.xml"
vsh "save-image-define $img $root/vm-desc.xml --paused; save-image-dumpxml $img"
[ "$rc" = 0 ] && has "<description>saved once</description>" &&
	[ "$(tail -c 44 "$img" | head -c 1 | od -An -tu1 | tr -d ' ')" = 0 ]
ok $? "virsh save-image-define: a new description and paused, in place" || say
sed "s|>2</vcpu>|>1</vcpu>|" "$root/vm-img.xml" >"$root/vm-1cpu.xml"
vsh save-image-define "$img" "$root/vm-1cpu.xml"
[ "$rc" != 0 ] && has "vCPU"
ok $? "save-image-define of another machine (1 vCPU): refused" || say
head -c -10 "$img" >"$root/trunc.sav"
vsh restore "$root/trunc.sav"
[ "$rc" != 0 ] && has "not a save image\|truncated"
ok $? "a truncated image: refused" || say
{ printf 'X'; tail -c +2 "$img"; } >"$root/badsnap.sav"
vsh "restore $root/badsnap.sav"
out2=$out
vsh "domstate --reason vm"
[ "$rc" = 0 ] && grep -q "not a khv-run snapshot" <<<"$out2" && has "^shut off" &&
	[ ! -e "$run/vm.xml" ] && [ ! -e "$run/vm.pid" ]
ok $? "an image whose snapshot khv-run refuses: its words, the domain stays shut off" ||
	{ out=$out2; say; }

# Managed save: the next start restores and spends the image.
msave=$root/lib/khv/save/vm.save
vsh "start vm; managedsave vm; dominfo vm; list --all --managed-save"
[ "$rc" = 0 ] && has "^Managed save: *yes" && has "vm *saved" && [ -s "$msave" ]
ok $? "virsh managedsave: the image in lib/khv/save, list says saved" || say
vsh "undefine vm"
[ "$rc" != 0 ] && has "managed save"
ok $? "undefine with a managed save image: refused" || say
vsh "start vm; domstate --reason vm; dominfo vm"
[ "$rc" = 0 ] && has "^running (restored)" && has "^Managed save: *no" && [ ! -e "$msave" ] &&
	grep -qxF -- "$msave" "$run/vm.ctl.argv"
ok $? "virsh start: restored from it, the image removed" || say
vsh "managedsave vm; start vm --force-boot; domstate --reason vm"
[ "$rc" = 0 ] && has "^running (booted)" && [ ! -e "$msave" ] &&
	! grep -qxF -- "--restore" "$run/vm.ctl.argv"
ok $? "virsh start --force-boot: booted, the image dropped" || say
vsh "managedsave vm; undefine --managed-save vm; list --all"
[ "$rc" = 0 ] && ! has " vm " && [ ! -e "$msave" ]
ok $? "virsh undefine --managed-save: domain and image gone" || say
vsh define "$root/vm.xml"
vsh "start vm --paused; domstate --reason vm; domjobinfo vm; destroy vm"
[ "$rc" = 0 ] && has "^paused (user)" && has "Job type: *None" &&
	grep -qxF -- "--paused" "$run/vm.ctl.argv"
ok $? "virsh start --paused: khv-run --paused; domjobinfo: no job" || say

# Transient domains: created from XML, gone when they stop.
domxml tvm /boot/vmlinuz >"$root/tvm.xml"
vsh create "$root/tvm.xml"
ok "$rc" "virsh create: a transient domain starts"
vsh dominfo tvm
has "^Persistent: *no" && has "^State: *running"
ok $? "it is running and not persistent"
vsh "destroy tvm; list --all"
[ "$rc" = 0 ] && ! has tvm
ok $? "destroyed, it is gone" || say

# A persistent domain undefined while it runs becomes transient.
vsh "start vm; undefine vm; dominfo vm"
[ "$rc" = 0 ] && has "^Persistent: *no" && [ ! -e "$root/etc/khv/vm.xml" ]
ok $? "virsh undefine on a running domain: it runs on, transient"
vsh "destroy vm; list --all"
[ "$rc" = 0 ] && ! has " vm "
ok $? "and destroyed, it is gone"

vsh define "$root/vm.xml"
vsh "autostart vm; dominfo vm"
[ "$rc" = 0 ] && has "^Autostart: *enable" && [ -L "$root/etc/khv/autostart/vm.xml" ]
ok $? "virsh autostart: the link in etc/khv/autostart"
vsh "autostart --disable vm; dominfo vm"
[ "$rc" = 0 ] && has "^Autostart: *disable" && [ ! -e "$root/etc/khv/autostart/vm.xml" ]
ok $? "virsh autostart --disable"

# A VNC display with autoport and a password: khv-run picks the port, the
# live XML tells it (what virt-manager connects to), the password reached
# khv-run through a file that is gone once it started.
sed -e "s|<name>vm</name>|<name>gvm</name>|" \
	-e "s|</devices>|<graphics type='vnc' autoport='yes' passwd='pw,1'><listen type='address' address='127.0.0.1'/></graphics><input type='tablet' bus='usb'/></devices>|" \
	"$root/vm.xml" >"$root/gvm.xml"
vsh "define $root/gvm.xml; start gvm"
ok "$rc" "a VNC display: started" || say
vsh "dumpxml gvm"
port=$(sed -n "s/.*<graphics type='vnc' port='\([0-9]*\)'.*/\1/p" <<<"$out")
[ -n "$port" ] && [ "$port" -ge 5900 ] && [ "$port" -le 5999 ] && has "autoport='yes'" &&
	grep -qxF -- "--vnc" "$run/gvm.ctl.argv" && grep -qx -- "--tablet" "$run/gvm.ctl.argv" &&
	grep -qx -- "--display" "$run/gvm.ctl.argv" && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
ok $? "the live XML names the port khv-run listens on ($port), --vnc/--display/--tablet given" || say
[ "$(cat "$run/gvm.ctl.vncpw-seen" 2>/dev/null)" = "pw,1" ] && [ ! -e "$run/gvm.vncpw" ]
ok $? "the password reached khv-run; its file is gone after the start"
vsh "destroy gvm; undefine gvm"
ok "$rc" "a VNC display: destroyed, undefined" || say

# A qcow2 disk with a backing file: QEMU's storage daemon serves it over
# NBD before khv-run starts, and ends with it.
if command -v qemu-img >/dev/null && [ -x /usr/bin/qemu-storage-daemon ]; then
	qemu-img create -q -f raw "$root/base.raw" 8M &&
		qemu-io -f raw -c 'write -P 0x5a 0 64k' "$root/base.raw" >/dev/null &&
		qemu-img create -q -f qcow2 -b "$root/base.raw" -F raw "$root/q,1.qcow2"
	sed -e "s|<name>vm</name>|<name>qvm</name>|" \
		-e "s|<source file='$root/disk.img'/>|<driver type='qcow2'/><source file='$root/q,1.qcow2'/>|" \
		"$root/vm.xml" >"$root/qvm.xml"
	vsh "define $root/qvm.xml; start qvm"
	qsd=$(cat "$run/qvm-vda.qsd.pid" 2>/dev/null)
	sock=$run/qvm-vda.nbd
	[ "$rc" = 0 ] && alive "$qsd" && [ -S "$sock" ] &&
		grep -qxF "nbd=nbd+unix:///vda?socket=$sock" "$run/qvm.ctl.argv"
	ok $? "a qcow2 disk: its storage daemon serves it, khv-run gets --disk nbd=..." || say
	out=$(qemu-io -f raw -c 'read -P 0x5a 0 64k' "nbd+unix:///vda?socket=$sock" 2>&1)
	has "^read 65536/65536"
	ok $? "the export reads the backing file's data through the overlay" || say
	vsh "destroy qvm"
	! alive "$qsd" && [ ! -e "$sock" ] && [ ! -e "$run/qvm-vda.qsd.pid" ]
	ok $? "destroyed: the storage daemon ended, its socket and pid file gone"
	sed -e "s|<name>qvm</name>|<name>qbad</name>|" -e "s|q,1.qcow2|missing.qcow2|" \
		"$root/qvm.xml" >"$root/qbad.xml"
	vsh "define $root/qbad.xml"
	vsh "start qbad"
	[ "$rc" != 0 ] && has "storage daemon of disk vda" && has "missing.qcow2" &&
		! pgrep -f "fake-khv-run.*qbad" >/dev/null
	ok $? "a missing qcow2 image: start fails with the storage daemon's words, no khv-run" || say
	vsh "undefine qvm; undefine qbad"
else
	for w in "its storage daemon" "the export reads" "destroyed" "a missing image"; do
		ok 0 "a qcow2 disk: $w # SKIP no qemu-img or qemu-storage-daemon"
	done
fi

exit "$fail"
