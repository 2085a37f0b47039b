#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# virt-manager-remote.sh <lane log> <lane pid> <uri> <png> <ssh uri> <key>: stock
# virt-manager on the build machine manages a real khv VM on another
# machine, lane khvrun's test machine, as a user manages a lab host: over
# khv+tcp:// (QEMU's user network forwards the URI's port to the test
# machine's virtkhvd, and the VM's VNC port likewise; scripts/check.sh
# chooses them).  The test machine's half is tests/remote.sh (selftest
# libvirt-remote): it defines VM "lab" and prints KHV-REMOTE-READY on the
# lane's console (<lane log>); this script waits for that line (or for the
# lane, process <lane pid>, to end), then tests/virt-manager-ui.py in its
# remote mode drives virt-manager: Run, the graphical console showing the
# guest's screen, a line typed into it reaching the guest, the serial
# console, a screenshot of the VM's window (saved at <png>), Shut Down,
# Run and Force Off.
# Before it, virsh reaches the same daemon over khv+ssh:// (<ssh uri>,
# root's <key>: libvirt's ssh transport, OpenSSH's client, dropbear and
# virt-ssh-helper there).  Last, virsh undefines lab, which ends the test
# machine's half.
# TAP on stdout.
set -uo pipefail

log=$1 lane=$2 uri=$3 png=$4 sshuri=$5 key=$6
here=$(cd "$(dirname "$0")" && pwd)
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT

# shellcheck source-path=SCRIPTDIR source=tap.sh
. "$here/tap.sh"
# shellcheck source-path=SCRIPTDIR source=vmm-ui.sh
. "$here/vmm-ui.sh"

vsh() {	# vsh <args...>: virsh on the test machine; output in $out, status in $rc
	out=$(timeout 120 virsh -q -c "$uri" "$@" 2>&1)
	rc=$?
}

echo "1..13"
ready() { grep -q KHV-REMOTE-READY "$log" 2>/dev/null || ! kill -0 "$lane" 2>/dev/null; }
# The lane's own limit bounds the wait (scripts/check.sh).
eventually 900 ready
grep -q KHV-REMOTE-READY "$log" 2>/dev/null
ok $? "the test machine serves lab ($(grep -o 'KHV-REMOTE-READY.*' "$log" | head -n 1 | tr -d '\r'))" || {
	echo "Bail out! lane khvrun ended without serving (see its log)"
	exit 1
}
vsh list --all --name
[ "$rc" = 0 ] && has '^lab$'
ok $? "virsh over $uri lists lab" || say

# khv+ssh://: the ssh command libvirt runs is OpenSSH's with this run's key
# and no known_hosts (the test machine's host key is new every run).
printf '#!/bin/sh\nexec ssh -o UserKnownHostsFile=/dev/null -o GlobalKnownHostsFile=/dev/null -o LogLevel=ERROR "$@"\n' \
	>"$t/ssh"
chmod 0755 "$t/ssh"
suri="$sshuri?keyfile=$key&no_verify=1&no_tty=1&command=$t/ssh"
out=$(timeout 120 virsh -q -c "$suri" "list --all --name; dominfo lab" 2>&1)
rc=$?
[ "$rc" = 0 ] && has '^lab$' && has '^State: *shut off'
ok $? "virsh over $sshuri (dropbear, virt-ssh-helper there): lab, shut off" || say

missing=$(vmm_missing)
if [ -n "$missing" ]; then
	for i in $(seq 4 12); do ok 0 "virt-manager step $i # SKIP missing:$missing"; done
else
	# The UI steps are TAP lines 4 to 12.
	vmm_ui "$t" "$uri" remote lab 4 "$png" || fail=1
	n=12
fi

# The test machine's half ends once lab is gone.
vsh destroy lab
vsh undefine lab
ok "$rc" "virsh undefine lab" || say
exit "$fail"
