# SPDX-License-Identifier: GPL-2.0
#
# gdb -batch -x profile-step.py: single-step the test machine (QEMU's gdb
# stub) through a few round trips of a khv-bench loop and write every
# instruction's address, one per line.  scripts/profile.sh sets:
#   PROFILE_GDB     host:port of QEMU's gdb stub
#   PROFILE_MARK    hex address where each round trip starts (a guest ISR)
#   PROFILE_HITS    round trips to record
#   PROFILE_OUT     the address file
#   PROFILE_GO      the guest's go socket: written once stepping is done
# QEMU holds interrupts and timers while it single-steps, so every round
# trip stepped is alike: a picture of the path, not of the timing.
import os
import socket

import gdb

mark = int(os.environ["PROFILE_MARK"], 16)
hits_wanted = int(os.environ["PROFILE_HITS"])
limit = 100000 * (hits_wanted + 1)

gdb.execute("set pagination off")
gdb.execute("set confirm off")
gdb.execute("target remote " + os.environ["PROFILE_GDB"])
gdb.execute("hbreak *0x%x" % mark)
gdb.execute("continue")
gdb.execute("delete")

hits = 0
steps = 0
with open(os.environ["PROFILE_OUT"], "w") as out:
    while steps < limit:
        pc = int(gdb.parse_and_eval("$pc")) & 0xffffffffffffffff
        out.write("%016x\n" % pc)
        if pc == mark:
            hits += 1
            if hits > hits_wanted:
                break
        gdb.execute("stepi", to_string=True)
        steps += 1

gdb.execute("detach")
go = socket.socket(socket.AF_UNIX)
go.connect(os.environ["PROFILE_GO"])
go.sendall(b"go\n")
go.close()
