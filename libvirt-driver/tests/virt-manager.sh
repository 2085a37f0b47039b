#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# virt-manager.sh <build dir>: stock virt-manager (Debian's 4.1) under Xvfb
# manages a khv VM as a user would, through its UI: the session virtkhvd
# listens on TCP and virt-manager connects to khv+tcp://127.0.0.1:PORT/session,
# as it would to another lab host.  tests/virt-manager-ui.py drives the UI
# through the accessibility tree (dogtail) and checks each state change in
# the list and with virsh.  khv-run is played by tests/fake-khv-run (this
# machine has no khv); the guest's own screen is lane khvrun's to show.
# TAP on stdout; a screenshot is left as <build dir>/virt-manager.png.
set -uo pipefail

build=$1
here=$(cd "$(dirname "$0")" && pwd)
t=$(mktemp -d)
daemon_pid=
cleanup() {
	[ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null
	pkill -f "fake-khv-run.*$t" 2>/dev/null
	rm -rf "$t"
}
trap cleanup EXIT

# shellcheck source-path=SCRIPTDIR source=tap.sh
. "$here/tap.sh"
# shellcheck source-path=SCRIPTDIR source=vmm-ui.sh
. "$here/vmm-ui.sh"

echo "1..10"
missing=$(vmm_missing)
if [ -n "$missing" ]; then
	for i in $(seq 8); do ok 0 "virt-manager step $i # SKIP missing:$missing"; done
	exit 0
fi

# As daemon.sh: the daemon and virt-manager run as nobody, in a home of
# their own, so that nothing of the host's libvirt or desktop is touched.
mkdir -p "$t/bin" "$t/home/.config/libvirt" "$t/run"
cp "$build/virtkhvd" "$build/libvirt_driver_khv.so" "$here/fake-khv-run" "$t/bin/"
chmod 0755 "$t" "$t/bin"
port=""
for p in $(shuf -i 20000-60000 -n 20); do
	ss -ltn | grep -q ":$p " || { port=$p; break; }
done
printf 'listen_tcp = 1\nlisten_addr = "127.0.0.1"\ntcp_port = "%s"\nauth_tcp = "none"\n' "$port" \
	>"$t/home/.config/libvirt/virtkhvd.conf"
chown -R nobody "$t/home" "$t/run"
uri="khv+tcp://127.0.0.1:$port/session"
env_vars=(HOME="$t/home" XDG_RUNTIME_DIR="$t/run" XDG_CONFIG_HOME="$t/home/.config"
	XDG_CACHE_HOME="$t/home/.cache" LIBVIRT_DRIVER_DIR="$t/bin")
user=(env)
[ "$(id -u)" = 0 ] && user=(setpriv --reuid=nobody --regid=nogroup --clear-groups env)
as_user() { "${user[@]}" "${env_vars[@]}" "$@"; }

"${user[@]}" "${env_vars[@]}" "$t/bin/virtkhvd" >>"$t/daemon.log" 2>&1 &
daemon_pid=$!
up() { as_user virsh -c "$uri" uri >/dev/null 2>&1; }
eventually 10 up
ok $? "virtkhvd listens on 127.0.0.1:$port" || sed 's/^/# daemon: /' "$t/daemon.log"

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

# The UI steps are TAP lines 3 to 8 of their own; a failed or missing one
# fails the script.
vmm_ui "$t" "$uri" local vm1 3 "$build/virt-manager.png" || fail=1
exit "$fail"
