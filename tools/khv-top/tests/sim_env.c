// SPDX-License-Identifier: GPL-2.0
/*
 * The simulated device of the end-to-end test (tests/e2e.sh): khv-top's own
 * main() linked with sim_khv.c and this, which sets up sim_default() before
 * main() runs, with the twist named by $KHV_SIM.
 */
#include <stdlib.h>

#include "sim_khv.h"

__attribute__((constructor)) static void sim_env(void)
{
	sim_default(getenv("KHV_SIM"));
}
