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
say() { printf '%s\n' "$out" | sed 's/^/# /'; }	# as TAP comments
