#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# shellcheck disable=SC2154 # name, subdir, copy, ...: set by the sourcing script
# Mutation check of a userspace harness over kernel sources: every mutant is
# one deliberate bug planted in a scratch copy of the tree (never in the tree
# itself), and the harness must fail on each.  Sourced by
# mmu/selftest/mutants.sh and vmx/selftest/mutants.sh, which set:
#   name     what the summary line calls the harness ("mmu", "vmx_caps")
#   subdir   the directory the mutant file names are relative to ("mmu")
#   copy     paths (relative to the top) a scratch tree needs
#   harness  the harness directory ("mmu/selftest"); bin its make target
#            and program
#   fail_re  the first output line matching it says what caught the bug
#   mutants  "file@@old@@new": the one line of subdir/file containing old
#            gets old replaced by new.  A mutant whose old text no longer
#            matches exactly one line is reported as stale.
# Then call mutants_main.  Exit status 0 only when every mutant was caught.
set -u

mutants_run_one() {
	local n=$1 spec=$2 file old new dir count p
	file=${spec%%@@*}
	spec=${spec#*@@}
	old=${spec%%@@*}
	new=${spec#*@@}
	dir=$work/$n
	for p in "${copy[@]}"; do
		mkdir -p "$dir/$(dirname "$p")"
		cp -r "$top/$p" "$dir/$p"
	done
	rm -f "$dir/$harness/$bin"
	count=$(grep -cF -- "$old" "$dir/$subdir/$file")
	if [ "$count" != 1 ]; then
		echo "STALE    $file: '$old' ($count matches)"
		return 2
	fi
	O=$old N=$new perl -pi -e 's/\Q$ENV{O}\E/$ENV{N}/' "$dir/$subdir/$file"
	if ! make -s -C "$dir/$harness" "$bin" >"$dir/build.log" 2>&1; then
		echo "NOBUILD  $file: '$old' -> '$new'"
		sed -n '1,5p' "$dir/build.log"
		return 1
	fi
	local rc=0
	(cd "$dir/$harness" && timeout 120 "./$bin") >"$dir/run.log" 2>&1 || rc=$?
	if [ "$rc" = 0 ]; then
		echo "SURVIVED $file: '$old' -> '$new'"
		return 1
	fi
	# A harness that hangs on a mutant has caught it too.
	[ "$rc" = 124 ] && echo "TIMEOUT after 120 s" >>"$dir/run.log"
	echo "killed   $file: '$old' -> '$new'"
	echo "         by $(grep -m1 -E "$fail_re|^TIMEOUT" "$dir/run.log" |
			   sed 's/^#   //; s/.*\(\(shim\|[a-z_]*_test\)\.c:\)/\1/')"
	return 0
}

mutants_main() {
	local max i=0 j m bad=0 killed=0

	top=$(cd "$(dirname "$0")/../.." && pwd)
	work=$(mktemp -d "/tmp/khv-$name-mutants.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	max=$(nproc 2>/dev/null || echo 4)
	for m in "${mutants[@]}"; do
		mutants_run_one "$i" "$m" >"$work/$i.out" 2>"$work/$i.err" &
		i=$((i + 1))
		while [ "$(jobs -rp | wc -l)" -ge "$max" ]; do
			wait -n
		done
	done
	wait
	for ((j = 0; j < i; j++)); do
		cat "$work/$j.out"
		if grep -q '^killed' "$work/$j.out"; then
			killed=$((killed + 1))
		else
			bad=$((bad + 1))
		fi
	done
	echo "$name mutants: $killed of $i killed"
	[ "$bad" = 0 ]
}
