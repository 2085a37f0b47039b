#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# daemon.sh <build dir>: virtkhvd, the per-driver daemon, as an
# unprivileged user's session daemon (khv:///session): stock virsh reaches
# it through libvirt's remote driver, as virt-manager would.  khv-run is
# played by tests/fake-khv-run.  TAP on stdout.
#
# Run as root, it runs the daemon and virsh as "nobody" with a home of its
# own, so that nothing of the host's libvirt directories is touched.
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

# What nobody runs must be where nobody can read it.
mkdir -p "$t/bin" "$t/home" "$t/run"
cp "$build/virtkhvd" "$build/libvirt_driver_khv.so" "$here/fake-khv-run" "$t/bin/"
chmod 0755 "$t" "$t/bin"
chown -R nobody "$t/home" "$t/run"
env_vars=(HOME="$t/home" XDG_RUNTIME_DIR="$t/run" XDG_CONFIG_HOME="$t/home/.config"
	XDG_CACHE_HOME="$t/home/.cache" LIBVIRT_DRIVER_DIR="$t/bin")
user=(env)
[ "$(id -u)" = 0 ] && user=(setpriv --reuid=nobody --regid=nogroup --clear-groups env)
as_user() { "${user[@]}" "${env_vars[@]}" "$@"; }
sock=$t/run/libvirt/virtkhvd-sock
state=$t/run/libvirt/khv

# The daemon is this script's child itself (setpriv and env exec it), so
# that stopping it stops the daemon.
start_daemon() {
	"${user[@]}" "${env_vars[@]}" "$t/bin/virtkhvd" >>"$t/daemon.log" 2>&1 &
	daemon_pid=$!
	for _ in $(seq 100); do
		as_user virsh -c khv:///session uri >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

stop_daemon() {	# 0 once it has exited
	kill "$daemon_pid" && wait "$daemon_pid" 2>/dev/null
	! kill -0 "$daemon_pid" 2>/dev/null && [ ! -S "$sock" ]
	local rc=$?
	daemon_pid=
	return "$rc"
}

vsh() {	# vsh <args...>: virsh on khv:///session; output in $out, status in $rc
	out=$(as_user timeout 60 virsh -q -c khv:///session "$@" 2>&1)
	rc=$?
}

cat >"$t/vm.xml" <<EOF
<domain type='kvm'>
  <name>vm</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>/boot/vmlinuz</kernel>
  </os>
  <devices>
    <emulator>$t/bin/fake-khv-run</emulator>
    <serial type='pty'/>
  </devices>
</domain>
EOF
chmod 0644 "$t/vm.xml"

# khv+tcp:// as from another machine: the daemon's settings turn its TCP
# listener on (loopback, a free port, no authentication: a test only).
port=""
for p in $(shuf -i 20000-60000 -n 20); do
	ss -ltn | grep -q ":$p " || { port=$p; break; }
done
mkdir -p "$t/home/.config/libvirt"
printf 'listen_tcp = 1\nlisten_addr = "127.0.0.1"\ntcp_port = "%s"\nauth_tcp = "none"\n' "$port" \
	>"$t/home/.config/libvirt/virtkhvd.conf"
chown -R nobody "$t/home/.config"
tcp_uri="khv+tcp://127.0.0.1:$port/session"

echo "1..20"

start_daemon
ok $? "virtkhvd listens on \$XDG_RUNTIME_DIR/libvirt/virtkhvd-sock" ||
	sed 's/^/# daemon: /' "$t/daemon.log"
vsh version
[ "$rc" = 0 ] && has "Running hypervisor: KHV 0.1.0"
ok $? "virsh -c khv:///session reaches the khv driver through the daemon" || say
vsh define "$t/vm.xml"
ok "$rc" "virsh define" || say
vsh start vm
ok "$rc" "virsh start" || say
pid=$(cat "$state/vm.pid" 2>/dev/null)
[ -n "$pid" ] && [ "$(stat -c %U "/proc/$pid")" = "$(as_user id -un)" ]
ok $? "khv-run runs as the session's user" || ls -la "$state" | sed 's/^/# /'
vsh list
[ "$rc" = 0 ] && has "^ *$pid *vm *running"
ok $? "virsh list: running, its ID khv-run's pid" || say
out=$(timeout 60 virsh -q -c "$tcp_uri" "list; domstate --reason vm" 2>&1)
rc=$?
[ "$rc" = 0 ] && has "^ *$pid *vm *running" && has "^running (booted)"
ok $? "virsh -c khv+tcp://127.0.0.1:PORT/session: the same domain, running" || say
out=$(timeout 60 virsh -q -c "$tcp_uri" "suspend vm; domstate --reason vm; resume vm" 2>&1)
rc=$?
[ "$rc" = 0 ] && has "^paused (user)"
ok $? "and controlled over TCP (suspend, resume)" || say

# The daemon keeps watching between clients: the state survives them.
vsh "suspend vm"
vsh domstate --reason vm
[ "$rc" = 0 ] && has "^paused (user)"
ok $? "suspended by one client, paused (user) for the next" || say
vsh "resume vm; shutdown vm; event --domain vm --event lifecycle --timeout 10"
[ "$rc" = 0 ] && has "Stopped Shutdown"
ok $? "a client gets the daemon's lifecycle event (stopped/shutdown)" || say
vsh domstate --reason vm
[ "$rc" = 0 ] && has "^shut off (shutdown)"
ok $? "and the next client sees shut off (shutdown)" || say

# A daemon restart leaves the domain running, and finds it again.
vsh start vm
pid=$(cat "$state/vm.pid" 2>/dev/null)
stop_daemon && kill -0 "$pid" 2>/dev/null
ok $? "the daemon stopped (its socket gone), khv-run runs on"
start_daemon
vsh list
[ "$rc" = 0 ] && has "^ *$pid *vm *running"
ok $? "the restarted daemon finds the domain running" || say

# khv-run killed with no client connected: the daemon saw it end.
kill -9 "$pid"
crashed() { vsh domstate --reason vm; [ "$rc" = 0 ] && has "^shut off (crashed)"; }
eventually 10 crashed
ok $? "khv-run killed: the daemon marks it shut off (crashed)" || say

vsh undefine vm
ok "$rc" "virsh undefine" || say
stop_daemon
ok $? "the daemon stops on SIGTERM"

# Socket activation, as systemd does it with packaging/virtkhvd*.socket:
# the sockets are listening before any daemon runs; the first connection
# starts virtkhvd on them (their names say which is which), and
# --timeout ends it once idle.  systemd-socket-activate passes on only
# the environment it is told to.
if command -v systemd-socket-activate >/dev/null; then
	pass=()
	for v in "${env_vars[@]}"; do pass+=(-E "${v%%=*}"); done
	"${user[@]}" "${env_vars[@]}" systemd-socket-activate "${pass[@]}" -l "$sock" \
		-l "$t/run/libvirt/virtkhvd-admin-sock" -l "127.0.0.1:$port" \
		--fdname=virtkhvd.socket:virtkhvd-admin.socket:virtkhvd-tcp.socket \
		"$t/bin/virtkhvd" --timeout 3 >>"$t/daemon.log" 2>&1 &
	daemon_pid=$!
	listening() { [ -S "$sock" ]; }
	eventually 10 listening && ! pgrep -f "^$t/bin/virtkhvd" >/dev/null
	ok $? "socket activation: the sockets listen, no daemon runs yet"
	out=$(timeout 60 virsh -q -c "$tcp_uri" "uri; list --all" 2>&1)
	rc=$?
	[ "$rc" = 0 ] && has "^khv+tcp://" && pgrep -f "^$t/bin/virtkhvd" >/dev/null
	ok $? "socket activation: a connection (TCP) starts virtkhvd on them" ||
		{ say; tail -n 5 "$t/daemon.log" | sed 's/^/# log: /'; }
	vsh "uri; list --all"
	[ "$rc" = 0 ] && has "^khv:///session"
	ok $? "socket activation: the local socket serves too" || say
	gone() { ! kill -0 "$daemon_pid" 2>/dev/null; }
	eventually 20 gone
	ok $? "socket activation: --timeout ends the idle daemon"
	daemon_pid=
else
	for w in "the sockets listen" "a connection starts virtkhvd" "the local socket" "--timeout ends it"; do
		ok 0 "socket activation: $w # SKIP no systemd-socket-activate"
	done
fi

exit "$fail"
