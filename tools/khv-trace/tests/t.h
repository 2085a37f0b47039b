/* SPDX-License-Identifier: GPL-2.0 */
/* khv-trace's unit tests: the tools' harness (tools/testlib/unit.h). */
#ifndef KHV_TRACE_T_H
#define KHV_TRACE_T_H

#include "../../testlib/unit.h"

#define KTR_TEST(name)	UNIT_TEST(name)

#endif /* KHV_TRACE_T_H */
