#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# checkpatch.pl --no-tree -f on every kernel source file.  checkpatch and
# the data files it reads beside itself are taken from Debian's
# linux-source-6.1 tarball into build/lint/ (once; again when the tarball
# changes).  Fails on any ERROR or WARNING.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

TARBALL=${LINUX_SOURCE_TARBALL:-/usr/src/linux-source-6.1.tar.xz}
LINT=$BUILD/lint
CP=$LINT/scripts/checkpatch.pl
KERNEL_DIRS=(core svm vmx mmu irq uapi)

[ -f "$TARBALL" ] || die "$TARBALL missing (apt-get install linux-source-6.1, or make deps)"
mkdir -p "$LINT"
if [ ! -f "$CP" ] || [ "$TARBALL" -nt "$CP" ]; then
	top=${LINUX_SOURCE_TOP:-linux-source-6.1}
	# --occurrence: stop reading the archive once all three are found.
	tar -xJf "$TARBALL" -C "$LINT" --strip-components=1 --occurrence=1 \
		"$top/scripts/checkpatch.pl" "$top/scripts/spelling.txt" \
		"$top/scripts/const_structs.checkpatch"
	touch "$CP"
fi

cd "$KHV_ROOT"
dirs=()
for d in "${KERNEL_DIRS[@]}"; do
	[ -d "$d" ] && dirs+=("$d")
done
files=()
if [ ${#dirs[@]} -gt 0 ]; then
	mapfile -t files < <(find "${dirs[@]}" -type f -name '*.[ch]' | sort)
fi
if [ ${#files[@]} -eq 0 ]; then
	say "lint: no kernel sources found"
	exit 0
fi

out=$LINT/out
rm -rf "$out"
mkdir -p "$out"
# One perl per file, $JOBS at a time; each report lands in its own file.
# shellcheck disable=SC2016 # expanded by the inner sh
printf '%s\0' "${files[@]}" |
	xargs -0 -n1 -P"$JOBS" sh -c \
		'perl "$1" --no-tree -f --show-types --color=never "$3" >"$2/$(echo "$3" | tr / _).log" 2>&1; true' \
		sh "$CP" "$out"
bad=0
for f in "${files[@]}"; do
	log=$out/$(echo "$f" | tr / _).log
	if ! grep -q '^total: 0 errors, 0 warnings' "$log"; then
		bad=$((bad + 1))
		sed -n '/^total:/q;p' "$log"
		grep '^total:' "$log" | sed "s|^|$f: |"
	fi
done
if [ "$bad" -ne 0 ]; then
	say "lint: $bad of ${#files[@]} files have checkpatch errors or warnings"
	exit 1
fi
say "lint: ${#files[@]} files checkpatch clean"
