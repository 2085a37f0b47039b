/* SPDX-License-Identifier: GPL-2.0 */
/* khv-top's unit tests: the tools' harness (tools/testlib/unit.h). */
#ifndef KHV_TOP_T_H
#define KHV_TOP_T_H

#include "../../testlib/unit.h"

#define KT_TEST(name)	UNIT_TEST(name)

#endif /* KHV_TOP_T_H */
