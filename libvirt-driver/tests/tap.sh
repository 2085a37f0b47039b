# shellcheck shell=sh disable=SC2034,SC2154 # fail: the sourcing script's; out: its vsh's
# SPDX-License-Identifier: GPL-2.0
# tap.sh: what the driver's shell tests share (sourced; POSIX sh, for
# guest.sh's busybox too).  TAP lines on stdout; $fail is 1 once one
# failed, the script's exit status.
n=0
fail=0

ok() {	# ok <0|1> <description>: prints the line, returns <0|1>
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		fail=1
	fi
	return "$1"
}

# On the last command's output ($out, set by each script's vsh):
has() { printf '%s\n' "$out" | grep -q -- "$1"; }	# has <regex>
say() {	# as TAP comments, with the command's exit status
	echo "# exit status ${rc:-?}"
	printf '%s\n' "$out" | sed 's/^/# /'
}

# eventually <seconds> <command...>: the command, again every 0.1 s until
# it succeeds or the time is up (its status then).  For what follows a
# process's end or an event: under make check, emulators share the CPUs
# and "at once" can take a second.
eventually() {
	_until=$(($(date +%s) + $1))
	shift
	while ! "$@"; do
		[ "$(date +%s)" -lt "$_until" ] || return 1
		sleep 0.1
	done
}

# machine_root <dir>: what libvirt needs in lane khvrun's test machine
# (guest.sh, remote.sh), whose root starts with none of the daemon's
# directories and no user database (libvirt looks root up); <dir> made
# afresh for the test's files.  libvirt's client library looks under
# /var/run, which Debian links to /run.
machine_root() {
	rm -rf "$1"
	mkdir -p "$1" /var/lock /run /var/log /etc
	[ -f /etc/passwd ] || echo "root:x:0:0:root:/root:/bin/sh" >/etc/passwd
	[ -f /etc/group ] || echo "root:x:0:" >/etc/group
	[ -e /var/run ] || ln -s /run /var/run
}
