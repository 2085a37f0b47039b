#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# virt-manager.sh <build dir>: stock virt-manager (Debian's 4.1) under Xvfb
# manages a khv VM as a user would, through its UI: the session virtkhvd
# listens on TCP and virt-manager connects to khv+tcp://127.0.0.1:PORT/session,
# as it would to another lab host.  tests/virt-manager-ui.py drives the UI
# through the accessibility tree (dogtail) and checks each state change in
# the list and with virsh.  khv-run is played by tests/fake-khv-run (this
# machine has no khv); the guest's own screen is lane khvrun's to show.
# A second session virtkhvd, the destination, listens on 127.0.0.2 (its
# own home and runtime directories, as tests/migration.sh's host b):
# virt-manager adds a connection to it (File > Add Connection, a custom
# URI) and migrates the running VM there with its Migrate dialog, as a
# user moves a VM from one lab host to another.
# TAP on stdout; a screenshot is left as <build dir>/virt-manager.png.
set -uo pipefail

build=$1
here=$(cd "$(dirname "$0")" && pwd)
t=$(mktemp -d)
daemon_pids=()
cleanup() {
	local p
	for p in "${daemon_pids[@]}"; do kill "$p" 2>/dev/null; done
	pkill -f "fake-khv-run.*$t" 2>/dev/null
	rm -rf "$t"
}
trap cleanup EXIT

# shellcheck source-path=SCRIPTDIR source=tap.sh
. "$here/tap.sh"
# shellcheck source-path=SCRIPTDIR source=vmm-ui.sh
. "$here/vmm-ui.sh"

plan=16
echo "1..$plan"
missing=$(vmm_missing)
if [ -n "$missing" ]; then
	for i in $(seq "$plan"); do ok 0 "virt-manager step $i # SKIP missing:$missing"; done
	exit 0
fi

# As daemon.sh: the daemons and virt-manager run as nobody, in homes of
# their own, so that nothing of the host's libvirt or desktop is touched.
# The source daemon's home is virt-manager's too; the destination's
# directories are under $t/dst.
mkdir -p "$t/bin" "$t/home/.config/libvirt" "$t/run" "$t/dst/home/.config/libvirt" "$t/dst/run"
cp "$build/virtkhvd" "$build/libvirt_driver_khv.so" "$here/fake-khv-run" "$t/bin/"
chmod 0755 "$t" "$t/bin" "$t/dst"
free_port() {	# a TCP port nothing listens on, on any address
	local p
	for p in $(shuf -i 20000-60000 -n 20); do
		ss -ltn | grep -q ":$p " || { echo "$p"; return 0; }
	done
	return 1
}
port=$(free_port)
dport=$(free_port)
while [ "$dport" = "$port" ]; do dport=$(free_port); done
conf() {	# conf <address> <port>: virtkhvd.conf, TCP without authentication
	printf 'listen_tcp = 1\nlisten_addr = "%s"\ntcp_port = "%s"\nauth_tcp = "none"\n' "$1" "$2"
}
conf 127.0.0.1 "$port" >"$t/home/.config/libvirt/virtkhvd.conf"
conf 127.0.0.2 "$dport" >"$t/dst/home/.config/libvirt/virtkhvd.conf"
chown -R nobody "$t/home" "$t/run" "$t/dst"
uri="khv+tcp://127.0.0.1:$port/session"
duri="khv+tcp://127.0.0.2:$dport/session"
user=(env)
[ "$(id -u)" = 0 ] && user=(setpriv --reuid=nobody --regid=nogroup --clear-groups env)
# env_of <home's parent>: the environment of the daemon whose directories
# are there, in $envs.
env_of() {
	envs=(HOME="$1/home" XDG_RUNTIME_DIR="$1/run" XDG_CONFIG_HOME="$1/home/.config"
		XDG_CACHE_HOME="$1/home/.cache" LIBVIRT_DRIVER_DIR="$t/bin")
}
as_user() { env_of "$t" && "${user[@]}" "${envs[@]}" "$@"; }

# Each started as a simple command, so that $! is the daemon itself.
env_of "$t"
"${user[@]}" "${envs[@]}" "$t/bin/virtkhvd" >>"$t/daemon.log" 2>&1 &
daemon_pids+=($!)
env_of "$t/dst"
"${user[@]}" "${envs[@]}" "$t/bin/virtkhvd" >>"$t/dst.log" 2>&1 &
daemon_pids+=($!)
up() { as_user virsh -c "$1" uri >/dev/null 2>&1; }
eventually 10 up "$uri"
ok $? "virtkhvd listens on 127.0.0.1:$port" || sed 's/^/# daemon: /' "$t/daemon.log"
eventually 10 up "$duri"
ok $? "the destination's virtkhvd listens on 127.0.0.2:$dport" ||
	sed 's/^/# destination: /' "$t/dst.log"

# A VM as virt-manager's wizard makes them: a serial console, a VNC display
# with autoport, a tablet on USB (which the driver takes as virtio).
cat >"$t/vm.xml" <<EOF
<domain type='kvm'>
  <name>vm1</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>/boot/vmlinuz</kernel>
  </os>
  <devices>
    <emulator>$t/bin/fake-khv-run</emulator>
    <serial type='pty'><target port='0'/></serial>
    <graphics type='vnc' autoport='yes'/>
    <input type='tablet' bus='usb'/>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
chmod 0644 "$t/vm.xml"
out=$(as_user virsh -q -c "$uri" define "$t/vm.xml" 2>&1)
rc=$?
ok "$rc" "virsh define over khv+tcp: vm1" || say

# The UI steps are TAP lines 4 to 15 of their own; a failed or missing one
# fails the script.
vmm_ui "$t" "$uri" local vm1 4 "$build/virt-manager.png" "$duri" || fail=1
n=15

# The destination's khv-run as the Migrate dialog asked for it: waiting on
# the port the dialog gave (its default, 49152, the first of libvirt's
# range), paused, and it received the source's stream (the fake writes
# the source's argument list, which names the source's control socket).
argv=$t/dst/run/libvirt/khv/vm1.ctl.argv
grep -qx -- "--incoming" "$argv" 2>/dev/null && grep -qx "tcp:0.0.0.0:49152" "$argv" &&
	grep -qx -- "--paused" "$argv" &&
	grep -qF "$t/run/libvirt/khv/vm1.ctl" "$t/dst/run/libvirt/khv/vm1.ctl.migrated-in"
ok $? "the destination's khv-run: --incoming tcp:0.0.0.0:49152 (the dialog's port),\
 --paused; it received the source's stream" ||
	{ [ -f "$argv" ] && sed 's/^/# argv: /' "$argv"; }
exit "$fail"
