# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
# vmm-ui.sh: stock virt-manager under Xvfb, driven by tests/virt-manager-ui.py
# (sourced by virt-manager.sh and virt-manager-remote.sh; bash).
#
# vmm_missing: what of virt-manager's test kit this machine lacks (nothing
# printed when all is there).
vmm_missing() {
	local c missing=
	for c in virt-manager xvfb-run dbus-run-session gsettings; do
		command -v "$c" >/dev/null || missing="$missing $c"
	done
	/usr/bin/python3 -c 'import dogtail' 2>/dev/null || missing="$missing python3-dogtail"
	printf '%s' "$missing"
}

# vmm_ui <dir> <uri> <mode> <domain> <first TAP number> <png> [<uri 2>]:
# virt-manager connected to <uri> in a display of its own, with the
# accessibility bus on, and virt-manager-ui.py <mode> driving it (its TAP
# lines on stdout, the screenshot at <png>; <uri 2>, the connection it
# adds and migrates to); the status is the UI script's.  As root, both run
# as nobody with a home of their own under <dir> (nothing of the host's
# libvirt or desktop is touched); <dir>'s parent must let nobody in.
# virt-manager's log and the script's stderr are reported on failure.
vmm_ui() {
	local t=$1 uri=$2 mode=$3 dom=$4 first=$5 png=$6 uri2=${7:-} rc
	local user=(env)
	mkdir -p "$t/bin" "$t/home" "$t/run"
	cp "$(dirname "${BASH_SOURCE[0]}")/virt-manager-ui.py" "$t/bin/"
	chmod 0755 "$t" "$t/bin"
	[ "$(id -u)" = 0 ] && chown -R nobody "$t/home" "$t/run" &&
		user=(setpriv --reuid=nobody --regid=nogroup --clear-groups env)
	"${user[@]}" HOME="$t/home" XDG_RUNTIME_DIR="$t/run" XDG_CONFIG_HOME="$t/home/.config" \
		XDG_CACHE_HOME="$t/home/.cache" GNOME_ACCESSIBILITY=1 NO_AT_BRIDGE=0 \
		timeout 900 xvfb-run -a -s "-screen 0 1280x1024x24" dbus-run-session -- bash -c '
		gsettings set org.gnome.desktop.interface toolkit-accessibility true
		virt-manager --no-fork -c "$1" >"$2/home/vmm.log" 2>&1 &
		/usr/bin/python3 "$2/bin/virt-manager-ui.py" "$3" "$1" "$4" "$5" "$2/home/shot.png" "$6"' \
		sh "$uri" "$t" "$mode" "$dom" "$first" "$uri2" 2>"$t/ui.err"
	rc=$?
	if [ "$rc" != 0 ]; then
		sed 's/^/# ui: /' "$t/ui.err" | tail -n 20
		tail -n 20 "$t/home/vmm.log" | sed 's/^/# vmm: /'
	fi
	cp "$t/home/shot.png" "$png" 2>/dev/null
	pkill -f "virt-manager.*$t" 2>/dev/null
	return "$rc"
}
