// SPDX-License-Identifier: GPL-2.0-only
/*
 * smbdirect-rs: module parameters that select a self test to run at load
 * time (CONFIG_SMBDIRECT_RS_SELFTEST). Kept in C because the 6.12 Rust
 * module! macro has no parameter support.
 */

#include <linux/module.h>

#include "selftest_params.h"

static char *selftest = "";
module_param(selftest, charp, 0444);
MODULE_PARM_DESC(selftest, "Self test to run at load: rdma (none by default)");

static char *selftest_addr = "192.0.2.1";
module_param(selftest_addr, charp, 0444);
MODULE_PARM_DESC(selftest_addr, "IPv4 address of the RDMA device to test");

const char *smbdrs_selftest_name(void)
{
	return selftest;
}

const char *smbdrs_selftest_addr(void)
{
	return selftest_addr;
}
