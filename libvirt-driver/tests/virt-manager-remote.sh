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
# console, a screenshot of the VM's window (saved at <png>), the guest's
# address on the default network in the NIC's details, Shut Down, Run and
# Force Off, the connection's Virtual Networks and Storage pages, and the
# new-VM wizard making and starting VM "wiz".
# Before it, virsh reaches the same daemon over khv+ssh:// (<ssh uri>,
# root's <key>: libvirt's ssh transport, OpenSSH's client, dropbear and
# virt-ssh-helper there), and virt-install --import creates and starts a
# second VM, vi, whose guest's boot shows in its console stream.  Last,
# virsh undefines lab, which ends the test machine's half.
# TAP on stdout.
set -uo pipefail

log=$1 lane=$2 uri=$3 png=$4 sshuri=$5 key=$6
here=$(cd "$(dirname "$0")" && pwd)
t=$(mktemp -d)
# However this ends, lab goes: the test machine's half waits for that.
cleanup() {
	local c
	for c in "destroy wiz" "undefine wiz --remove-all-storage" "undefine lab"; do
		# shellcheck disable=SC2086 # the command's words
		timeout 60 virsh -q -c "$uri" $c >/dev/null 2>&1
	done
	rm -rf "$t"
}
trap cleanup EXIT
trap 'exit 143' TERM

# shellcheck source-path=SCRIPTDIR source=tap.sh
. "$here/tap.sh"
# shellcheck source-path=SCRIPTDIR source=vmm-ui.sh
. "$here/vmm-ui.sh"

vsh() {	# vsh <args...>: virsh on the test machine; output in $out, status in $rc
	out=$(timeout 120 virsh -q -c "$uri" "$@" 2>&1)
	rc=$?
}

# console_line <domain> <text> <seconds>: the first line of the domain's
# console (libvirt's console stream, as virt-manager's serial console reads
# it) that holds the text, in $out; status 0 if one came in time.
console_line() {
	out=$(timeout $(($3 + 60)) /usr/bin/python3 - "$uri" "$1" "$2" "$3" 2>&1 <<'PY'
import signal, sys, libvirt
uri, dom, want, secs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
got = b""


def report(*_):
    line = [x for x in got.decode(errors="replace").splitlines() if want in x]
    print(line[0] if line else "no %s in %d bytes: %r" % (want, len(got), got[-300:]))
    sys.exit(0 if line else 1)


# A blocking stream: without an event loop, the remote driver reads a
# non-blocking stream's data only when something else waits on the
# connection.  The alarm ends the wait.
signal.signal(signal.SIGALRM, report)
signal.alarm(secs)
conn = libvirt.open(uri)
st = conn.newStream(0)
conn.lookupByName(dom).openConsole(None, st, 0)
while want.encode() not in got or b"\n" not in got[got.index(want.encode()):]:
    r = st.recv(4096)
    if not r:
        break
    got += r
report()
PY
)
}

echo "1..27"
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

# virt-install --import, direct kernel boot, on the remote host, with a
# new qcow2 disk in the default storage pool (libvirt's storage driver
# there, through the khv connection): it defines and starts the VM, whose
# guest writes a pattern to its disk and reports it on COM1 (read through
# libvirt's console stream, as virt-manager's serial console).  virt-install
# names no format for the volume it made: the driver takes the pool's.
vsh "pool-define-as default dir --target /var/lib/libvirt/images; pool-build default; pool-start default; pool-list"
[ "$rc" = 0 ] && has '^ *default *active'
ok $? "a storage pool through the khv connection (libvirt's storage driver there)" || say
vi_args=(--connect "$uri" --import --name vi --memory 256 --vcpus 1 --osinfo linux2022
	--boot "kernel=/khv/l2/vmlinux,initrd=/khv/l2/initrd.cpio.gz,kernel_args=console=ttyS0 panic=-1 quiet khvrun=disk"
	--disk "pool=default,size=0.01,format=qcow2,bus=virtio"
	--network none --graphics none --serial pty --noautoconsole)
out=$(timeout 180 virt-install "${vi_args[@]}" 2>&1)
rc=$?
ok "$rc" "virt-install --import with direct kernel boot and a new pool disk starts vi" || say
vsh dumpxml --inactive vi
has "<driver type='qcow2'/>"
ok $? "vi's disk: qcow2, the pool's word for the volume virt-install made" || say
console_line vi KHVRUN-DISK-FLUSHED 240
rc=$?
ok "$rc" "vi's guest wrote its disk: $(printf '%s' "$out" | tail -n 1 | tr -d '\r')" || say
vsh destroy vi
# The volume, fetched through the storage driver, holds the pattern as
# qcow2 data.
i=0
while [ "$i" -lt 2048 ]; do printf 'khvrun disk line %08d\n' "$i"; i=$((i + 1)); done >"$t/pattern"
vsh vol-download --pool default vi.qcow2 "$t/vi.qcow2"
[ "$rc" = 0 ] && qemu-img convert -f qcow2 -O raw "$t/vi.qcow2" "$t/vi.raw" &&
	head -c "$(wc -c <"$t/pattern")" "$t/vi.raw" | cmp -s - "$t/pattern"
ok $? "the pool's qcow2 volume holds the guest's pattern (vol-download, qemu-img)" || say
vsh "undefine vi --remove-all-storage"
ok "$rc" "virsh undefine vi with its volume" || say

missing=$(vmm_missing)
if [ -n "$missing" ]; then
	for i in $(seq 10 24); do ok 0 "virt-manager step $i # SKIP missing:$missing"; done
else
	# The UI steps are TAP lines 10 to 24.
	vmm_ui "$t" "$uri" remote lab 10 "$png" || fail=1
	# shellcheck disable=SC2034 # tap.sh's counter, past the UI's lines
	n=24
fi

# The test machine's half ends once lab is gone.
vsh destroy wiz
vsh undefine wiz --remove-all-storage
vsh destroy lab
vsh "undefine lab; pool-destroy default; pool-undefine default"
ok "$rc" "virsh undefine lab, the pool removed" || say
exit "$fail"
