#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# virt-install-embed.py ARGS...: Debian's stock virt-install (virtinst),
# run against an embedded khv:/// URI.  An embedded driver runs in the
# client's process and needs the client's event loop, which virsh
# registers and virt-install does not (it only ever talks to daemons):
# register libvirt's default one, then hand over to virt-install itself.
import sys

import libvirt

libvirt.virEventRegisterDefaultImpl()
sys.path.insert(0, "/usr/share/virt-manager")
from virtinst import virtinstall  # noqa: E402  (after the path above)

sys.argv[0] = "virt-install"
virtinstall.runcli()
