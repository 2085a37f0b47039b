#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lab-host-test.sh: the lab-host machine's half of scripts/lab-host.sh,
# run by a unit at boot as root (installed as /usr/local/sbin/khv-lab-test).
# README's two commands as user lab would type them, then what a user
# would check.  TAP on stdout (the machine's console); KHV-LAB-DONE last.
set -uo pipefail
n=0
fail=0
ok() {	# ok <status> <description>
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi
	return "$1"
}
as_lab() { su - lab -c "$*"; }	# a new login: its groups as of now
show() { sed 's/^/# /' "$1" | tail -n "${2:-25}"; }
log=/home/lab/lab-install.log
echo "1..12"
echo "# $(uname -r), $(nproc) CPUs, $(grep -c svm /proc/cpuinfo) with svm; kvm: $(lsmod | grep -o '^kvm[a-z_]*' | tr '\n' ' ')"

start=$(date +%s)
as_lab "cd khv && sudo make lab-install" >"$log" 2>&1
ok $? "sudo make lab-install ($(($(date +%s) - start)) s)" || show "$log" 40
grep '^khv:' "$log" | sed 's/^/# /'

lsmod | grep -q '^khv ' && [ -e "/lib/modules/$(uname -r)/updates/dkms/khv.ko" ]
ok $? "khv loaded, built by DKMS for $(uname -r) (beside: $(lsmod | grep -o '^kvm[a-z_]*' | tr '\n' ' '))" ||
	{ dmesg | grep -i 'khv\|kvm' | tail -n 5 | sed 's/^/# /'; }
[ "$(stat -c '%a %U %G' /dev/khv 2>/dev/null)" = "660 root khv" ]
ok $? "/dev/khv is 0660 root:khv ($(stat -c '%a %U %G' /dev/khv 2>&1))"
as_lab id | grep -q '(khv)'
ok $? "lab is in group khv at its next login"
systemctl is-active --quiet virtkhvd.socket && systemctl is-enabled --quiet virtkhvd.socket
ok $? "virtkhvd.socket enabled and listening"

out=$(as_lab "cd khv && make lab-vm" 2>&1)
ok $? "make lab-vm, as lab (no sudo)" || echo "$out" | sed 's/^/# /'
state() { as_lab "virsh -c khv:///system domstate khv-lab" 2>&1; }
i=0
while [ "$i" -lt 30 ] && [ "$(state)" != running ]; do sleep 1; i=$((i + 1)); done
st=$(state)
pid=$(cat /run/libvirt/khv/khv-lab.pid 2>/dev/null)
[ "$st" = running ] && [ -n "$pid" ] && grep -q khv-run "/proc/$pid/cmdline" 2>/dev/null &&
	systemctl is-active --quiet virtkhvd.service
ok $? "khv-lab runs under khv-run (pid ${pid:-none}), virtkhvd started by its socket ($st)"
out=$(as_lab "virsh -c khv:///system net-list --all" 2>&1)
echo "$out" | grep -q '^ *default '
ok $? "the default network through khv:///system (virtnetworkd-sock linked to libvirtd's)" ||
	{ echo "$out" | sed 's/^/# /'; ls -l /run/libvirt | sed 's/^/# /'; }
out=$(as_lab "virsh -c khv:///system pool-list --all" 2>&1)
ok $? "storage pools through khv:///system (virtstoraged-sock)" || echo "$out" | sed 's/^/# /'
# The guest: the host's own kernel, which ends in its initramfs's shell
# with no root disk (packaging/lab-vm.sh); its console through libvirt.
out=$(timeout 20 su - lab -c "virsh -c khv:///system dominfo khv-lab" 2>&1)
echo "$out" | grep -q '^CPU time: *[0-9.]*s'
ok $? "virsh dominfo: $(echo "$out" | grep '^CPU time' | tr -s ' ')" || echo "$out" | sed 's/^/# /'

as_lab "virsh -c khv:///system destroy khv-lab; virsh -c khv:///system undefine khv-lab" >/dev/null 2>&1
as_lab "cd khv && sudo make uninstall" >/home/lab/uninstall.log 2>&1
ok $? "sudo make uninstall" || show /home/lab/uninstall.log
! lsmod | grep -q '^khv ' && [ ! -e /usr/local/sbin/virtkhvd ] &&
	[ ! -e "/lib/modules/$(uname -r)/updates/dkms/khv.ko" ]
ok $? "khv unloaded, its DKMS module and virtkhvd gone"
echo "KHV-LAB-DONE fail=$fail"
exit "$fail"
