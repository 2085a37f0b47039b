/* SPDX-License-Identifier: GPL-2.0 */
/*
 * khv-run's unit tests: the tools' harness (tools/testlib/unit.h).  They
 * run under ASan and UBSan (Makefile) and need no /dev/khv.
 */
#ifndef KHV_RUN_T_H
#define KHV_RUN_T_H

#include "../../testlib/unit.h"

#define KR_TEST(name)	UNIT_TEST(name)

#endif /* KHV_RUN_T_H */
