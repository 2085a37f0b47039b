#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Drive stock virt-manager through its accessibility tree (dogtail).

usage: virt-manager-ui.py URI DOMAIN FIRST SCREENSHOT

virt-manager already runs (virt-manager.sh starts it on URI under Xvfb).
Each step acts through the UI as a user would (select the VM, press Run,
open its window, press Shut Down and confirm, Force Off from the menu) and
checks the outcome twice: in the UI (the list's state text) and in libvirt
(virsh domstate on the same URI).  One TAP line per step, numbered from
FIRST; the plan is the caller's.  A screenshot of the screen is saved at
the end.
"""
import subprocess
import sys
import time

from dogtail import tree
from dogtail.config import config

uri, dom, first, shot = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
config.searchShowingOnly = True
config.searchCutoffCount = 3
config.defaultDelay = 0.3
config.actionDelay = 0.3
n = first
failed = 0


def ok(cond, what):
    global n, failed
    print("%s %d - virt-manager: %s" % ("ok" if cond else "not ok", n, what), flush=True)
    n += 1
    failed += not cond
    return cond


def eventually(fn, secs):
    end = time.time() + secs
    while time.time() < end:
        try:
            v = fn()
            if v:
                return v
        except Exception:
            pass
        time.sleep(0.5)
    return None


def virsh_state():
    r = subprocess.run(["virsh", "-q", "-c", uri, "domstate", "--reason", dom],
                       capture_output=True, text=True, timeout=60)
    return r.stdout.strip()


def find(parent, **kw):
    """A descendant (or None), without dogtail's own long retries."""
    try:
        return parent.findChild(lambda x: all(
            getattr(x, k) == v for k, v in kw.items()), retry=False, requireResult=False)
    except Exception:
        return None


def row(state):
    """The VM's cell in the manager's list, showing state ("Running"...)."""
    return find(manager, roleName="table cell", name="%s\n%s" % (dom, state))


def press(parent, name, role="push button"):
    b = eventually(lambda: find(parent, roleName=role, name=name), 20)
    if not b:
        return False
    b.doActionNamed("click")
    return True


def confirm():
    """virt-manager asks before shutting down or forcing off: say yes."""
    def dialog():
        for w in app.children:
            b = find(w, roleName="push button", name="Yes")
            if b:
                return b
        return None
    b = eventually(dialog, 10)
    if b:
        b.doActionNamed("click")


def select_row(state):
    """Select the VM in the list."""
    cell = eventually(lambda: row(state), 30)
    if not cell:
        return None
    cell.click()	# a pointer click in the X server, as a user's
    return cell


# Generous: under make check, six emulators share the CPUs with this.
app = eventually(lambda: tree.root.application("virt-manager"), 240)
manager = app and eventually(
    lambda: find(app, roleName="frame", name="Virtual Machine Manager"), 240)
listed = manager and eventually(lambda: row("Shutoff"), 240)
if not listed:
    print("# virt-manager: application %s, manager window %s" % (bool(app), bool(manager)))
if not ok(bool(listed), "connects over %s and lists %s as Shutoff" % (uri.split(":")[0], dom)):
    print("Bail out! virt-manager shows no VM")
    sys.exit(1)

# Run.
select_row("Shutoff")
press(manager, "Run")
ok(eventually(lambda: row("Running"), 60) and
   eventually(lambda: virsh_state().startswith("running"), 30),
   "Run: the list says Running, libvirt says %s" % virsh_state())

# The VM's window (details and console pages) opens and closes.
select_row("Running")
press(manager, "Open")
win = eventually(lambda: find(app, roleName="frame", name="%s on %s" % (dom, "khv User session"))
                 or next((w for w in app.children if w.roleName == "frame"
                          and w.name.startswith(dom + " on ")), None), 30)
ok(bool(win), "Open: the VM's window (%s)" % (win.name if win else "none"))
if win:
    # File > Close: a menu item not on screen until its menu opens.
    close = win.findChild(lambda x: x.roleName == "menu item" and x.name == "Close",
                          retry=False, requireResult=False, showingOnly=False)
    if close:
        close.doActionNamed("click")
    eventually(lambda: not any(w.roleName == "frame" and w.name.startswith(dom + " on ")
                               for w in app.children), 20)

# Shut Down: the ACPI power button; the guest powers itself off.
select_row("Running")
press(manager, "Shut Down")
confirm()
ok(eventually(lambda: row("Shutoff"), 90) and
   eventually(lambda: virsh_state().startswith("shut off (shutdown)"), 30),
   "Shut Down: the guest powered off (libvirt: %s), the list says Shutoff" % virsh_state())

# Run again, then Force Off from the shutdown menu.
select_row("Shutoff")
press(manager, "Run")
eventually(lambda: row("Running"), 60)
select_row("Running")
menu = eventually(lambda: find(manager, roleName="toggle button", name="Menu"), 20)
forced = False
if menu:
    menu.click()	# GTK pops a menu up only for a real pointer event
    item = eventually(lambda: find(manager, roleName="menu item", name="Force Off")
                      or find(app, roleName="menu item", name="Force Off"), 20)
    if item:
        item.click()
        confirm()
        forced = True
ok(forced and eventually(lambda: row("Shutoff"), 60) and
   eventually(lambda: virsh_state().startswith("shut off (destroyed)"), 30),
   "Force Off: libvirt says %s, the list says Shutoff" % virsh_state())

try:
    from dogtail.utils import screenshot
    path = screenshot(shot, timeStamp=False)
    ok(bool(path), "a screenshot of the session: %s" % path)
except Exception as e:  # noqa: BLE001 - report, do not hide
    ok(False, "a screenshot of the session: %s" % e)
sys.exit(1 if failed else 0)
