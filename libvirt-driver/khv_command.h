/* SPDX-License-Identifier: GPL-2.0 */
/* khv_command.h: a domain definition as khv-run's command line. */
#pragma once

#include "domain_conf.h"
#include "vircommand.h"

/*
 * The khv-run command for def: its control socket at ctlPath, tapfds[i]
 * the open tap of def->nets[i].  Only for definitions the validate
 * callbacks of khv_domain.c accepted.
 */
virCommand *khvBuildCommandLine(const virDomainDef *def, const char *ctlPath,
                                const int *tapfds);
