#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Drive stock virt-manager through its accessibility tree (dogtail).

usage: virt-manager-ui.py MODE URI DOMAIN FIRST SCREENSHOT

virt-manager already runs, connected to URI, under Xvfb (its caller
starts it).  Each step acts through the UI as a user would and checks the
outcome twice: in the UI and in libvirt (virsh on the same URI).  One TAP
line per step, numbered from FIRST; the plan is the caller's.  MODE:

  local   (virt-manager.sh; khv-run is a fake) select the VM, Run, open
          its window, Shut Down and confirm, Run, Force Off from the
          menu; a screenshot of the screen at the end.  6 steps.
  remote  (virt-manager-remote.sh; lane khvrun's test machine runs the
          real khv-run and its guest, tests/guest/init khvrun=vnc) Run,
          open the VM's window, whose graphical console shows the
          guest's screen (its orange band), type a line into it (the
          guest turns the band green), read the line the guest reported
          in the serial console, a screenshot of the VM's window, Shut
          Down (ACPI: the guest powers itself off), Run and Force Off.
          9 steps.
"""
import subprocess
import sys
import time

from dogtail import tree
from dogtail.config import config

mode, uri, dom, first, shot = (sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]),
                               sys.argv[5])
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


def run():
    """Run: the list says Running, and so does libvirt."""
    select_row("Shutoff")
    press(manager, "Run")
    ok(eventually(lambda: row("Running"), 60) and
       eventually(lambda: virsh_state().startswith("running"), 30),
       "Run: the list says Running, libvirt says %s" % virsh_state())


def vm_window():
    return next((w for w in app.children if w.roleName == "frame"
                 and w.name.startswith(dom + " on ")), None)


def open_window():
    """Open: the VM's window (details and console pages)."""
    select_row("Running")
    press(manager, "Open")
    win = eventually(vm_window, 30)
    ok(bool(win), "Open: the VM's window (%s)" % (win.name if win else "none"))
    return win


def menu_item(win, name):
    """Activate a menu item, not on screen until its menu opens."""
    item = win.findChild(lambda x: x.roleName in ("menu item", "radio menu item")
                         and x.name == name,
                         retry=False, requireResult=False, showingOnly=False)
    if item:
        item.doActionNamed("click")
    return bool(item)


def shut_down():
    """Shut Down: the ACPI power button; the guest powers itself off."""
    select_row("Running")
    press(manager, "Shut Down")
    confirm()
    ok(eventually(lambda: row("Shutoff"), 90) and
       eventually(lambda: virsh_state().startswith("shut off (shutdown)"), 30),
       "Shut Down: the guest powered off (libvirt: %s), the list says Shutoff" % virsh_state())


def force_off():
    """Run again, then Force Off from the shutdown menu."""
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


def save_screen(what, crop=None):
    """The screen (or the part crop=(x, y, w, h) of it) as a PNG at shot."""
    try:
        pix = grab()
        if crop:
            x, y, w, h = crop
            x, y = max(x, 0), max(y, 0)
            w, h = min(w, pix.get_width() - x), min(h, pix.get_height() - y)
            pix = pix.new_subpixbuf(x, y, w, h)
        pix.savev(shot, "png", [], [])
        ok(True, "a screenshot of %s: %s (%dx%d)" % (what, shot, pix.get_width(),
                                                      pix.get_height()))
    except Exception as e:  # noqa: BLE001 - report, do not hide
        ok(False, "a screenshot of %s: %s" % (what, e))


def grab():
    """The X screen's pixels (a GdkPixbuf, RGB)."""
    import gi
    gi.require_version("Gdk", "3.0")
    from gi.repository import Gdk
    root = Gdk.get_default_root_window()
    _, _, w, h = root.get_geometry()
    return Gdk.pixbuf_get_from_window(root, 0, 0, w, h)


# The guest's band (tests/guest/init khvrun=vnc): orange, green once a
# line was typed.  Xvfb's 24-bit screen keeps them exact.
ORANGE, GREEN = (255, 128, 0), (0, 255, 0)


def find_colour(pix, rgb):
    """How many pixels of the colour the screen shows, and where the first is."""
    n = pix.get_n_channels()
    stride = pix.get_rowstride()
    data = pix.get_pixels()
    count, first = 0, None
    want = bytes(rgb)
    for y in range(0, pix.get_height(), 2):	# every other row: fast enough
        line = data[y * stride:y * stride + pix.get_width() * n]
        x = line.find(want)
        while x >= 0:
            if x % n == 0:
                count += 1
                if first is None:
                    first = (x // n, y)
            x = line.find(want, x + 1)
    return count, first


def local_steps():
    run()
    win = open_window()
    if win:
        menu_item(win, "Close")
        eventually(lambda: not vm_window(), 20)
    shut_down()
    force_off()
    save_screen("the session")


def remote_steps():
    from dogtail import rawinput
    run()
    win = open_window()
    # The console page shows the guest's screen once it has booted (nested,
    # in an emulator: a minute or more under make check).
    band = eventually(lambda: (lambda c: c if c[0] > 2000 else None)(
        find_colour(grab(), ORANGE)), 240)
    ok(bool(band), "the graphical console shows the guest's screen (%d pixels of its "
       "orange band)" % (band[0] if band else 0))
    # A click on the band gives the console the keyboard; a line typed
    # there reaches the guest's tty1 through VNC and the PS/2 keyboard.
    typed = False
    if band:
        x, y = band[1]
        rawinput.click(x + 40, y + 4)
        time.sleep(1)
        rawinput.typeText("khv")
        rawinput.pressKey("Return")
        typed = True
    green = typed and eventually(lambda: (lambda g, o: g[0] > 2000 and o[0] == 0)(
        find_colour(grab(), GREEN), find_colour(grab(), ORANGE)), 90)
    ok(bool(green), "a line typed into the console reaches the guest (its band turned green)")
    # View > Consoles > Serial 1: COM1's pty through the daemon's console
    # stream holds what the guest reported on its serial port.
    term = None
    if win and menu_item(win, "Serial 1"):
        term = eventually(lambda: find(win, roleName="terminal"), 30)
    text = term and eventually(lambda: (lambda t: t if "KHVRUN-VNC-KEY line=khv" in t
                                        else None)(term.text), 60)
    if term and not text:
        print("# serial console: %r" % term.text[-400:])
    ok(bool(text), "the serial console shows the guest's report of the line (%s)" %
       ("KHVRUN-VNC-KEY line=khv" if text else "no terminal" if not term else "not there"))
    # Back to the screen, for the screenshot of the VM's window.
    if win and menu_item(win, "Graphical Console VNC"):
        eventually(lambda: find_colour(grab(), GREEN)[0] > 2000, 20)
    if win:
        (x, y), (w, h) = win.position, win.size
        save_screen("the VM's window", (x, y, w, h))
    else:
        save_screen("the screen")
    shut_down()
    # The VM's window covers the manager's (Xvfb has no window manager),
    # and Force Off takes pointer clicks there.
    if win:
        menu_item(win, "Close")
        eventually(lambda: not vm_window(), 20)
    force_off()


if mode == "local":
    local_steps()
else:
    remote_steps()
sys.exit(1 if failed else 0)
