#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# guest.sh: the libvirt driver end to end, in lane khvrun's test machine
# (khv loaded, khv-run, a Linux guest of its own under /khv/l2): stock
# virsh with libvirt_driver_khv.so embedded (khv:///embed?root=DIR) runs a
# real khv-run.  Installed as selftest libvirt.sh (scripts/check.sh).
# busybox sh; TAP on stdout.
#
# Each virsh process is a new driver that finds the running domain again
# from its status file; what needs one driver watching (events, the
# reason a domain stopped) runs as several commands in one virsh.

export LIBVIRT_DRIVER_DIR=/khv/libvirt
root=/tmp/libvirt-test
rm -rf "$root"
mkdir -p "$root" /var/lock
uri="khv:///embed?root=$root"
n=0
fail=0

ok() {	# ok <0|1> <description>: returns <0|1>
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		fail=1
	fi
	return "$1"
}

vsh() {	# vsh <args...>: output in $out, status in $rc
	out=$(timeout 300 virsh -q -c "$uri" "$@" 2>&1)
	rc=$?
}

has() { echo "$out" | grep -q -- "$1"; }
say() { echo "$out" | sed 's/^/# /'; }

# wait_line <file> <text> <seconds>: 0 once the file holds the text.
wait_line() {
	i=0
	while [ "$i" -lt "$3" ]; do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 1
		i=$((i + 1))
	done
	return 1
}

# The guest: lane khvrun's Linux (its init reports a KHVRUN-INIT line on
# COM1, then holds until the ACPI power button), COM1 on a pty.
cat >"$root/vm.xml" <<EOF
<domain type='kvm'>
  <name>l2</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>/khv/l2/vmlinuz</kernel>
    <initrd>/khv/l2/initrd.cpio.gz</initrd>
    <cmdline>console=ttyS0 panic=-1 cryptomgr.notests loglevel=5 khvrun=hold</cmdline>
  </os>
  <devices>
    <emulator>/khv/l2/khv-run</emulator>
    <serial type='pty'><target port='0'/></serial>
    <memballoon model='none'/>
  </devices>
</domain>
EOF

echo "1..12"

vsh define "$root/vm.xml"
ok "$rc" "virsh define" || say
vsh start l2
ok "$rc" "virsh start: khv-run runs the guest" || say
vsh list
echo "$out" | grep -q "^ *[0-9][0-9]* *l2 *running"
ok $? "virsh list: running" || say

# COM1's pty from the live XML: the guest's own words come through it.
vsh dumpxml l2
pty=$(echo "$out" | grep -A1 "<serial type='pty'>" | sed -n "s/.*<source path='\([^']*\)'.*/\1/p")
[ -c "$pty" ]
ok $? "the live XML names COM1's pty ($pty)" || say
(timeout 240 cat "$pty" >"$root/com1.log" 2>&1 &)
wait_line "$root/com1.log" "KHVRUN-INIT" 240
ok $? "the guest booted: its init line came through the pty" ||
	sed 's/^/# com1: /' "$root/com1.log" | tail -n 20
grep "KHVRUN-INIT" "$root/com1.log" | head -n 1 | sed 's/^/# /'

vsh dominfo l2
has "^State: *running" && has "^CPU(s): *1"
ok $? "virsh dominfo: running, 1 vCPU" || say

# The ACPI power button: the guest powers itself off.
vsh "shutdown l2; event --domain l2 --event lifecycle --timeout 120; domstate --reason l2"
[ "$rc" = 0 ] && has "Stopped Shutdown" && has "^shut off (shutdown)"
ok $? "virsh shutdown: the guest powers off; stopped/shutdown, shut off (shutdown)" || say
pgrep -f "khv-run.*$root" >/dev/null
[ $? != 0 ]
ok $? "no khv-run left"

vsh "start l2; destroy l2; domstate --reason l2"
[ "$rc" = 0 ] && has "^shut off (destroyed)"
ok $? "virsh start, destroy: shut off (destroyed)" || say

# khv-run killed while a driver watches: crashed, with an event.
vsh start l2
pid=$(cat "$root/run/khv/l2.pid" 2>/dev/null)
(sleep 2; kill -9 "$pid") &
vsh "event --domain l2 --event lifecycle --timeout 60; domstate --reason l2"
wait
[ "$rc" = 0 ] && has "Stopped Failed" && has "^shut off (crashed)"
ok $? "khv-run killed: stopped/failed, shut off (crashed)" || say

vsh undefine l2
ok "$rc" "virsh undefine" || say
vsh list --all
[ "$rc" = 0 ] && [ -z "$out" ]
ok $? "nothing left in the list" || say

exit "$fail"
