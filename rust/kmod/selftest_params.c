// SPDX-License-Identifier: GPL-2.0-only
/*
 * smbdirect-rs: module parameters that select a self test to run at load
 * time (CONFIG_SMBDIRECT_RS_SELFTEST). Kept in C because the 6.12 Rust
 * module! macro has no parameter support.
 */

#include <linux/module.h>
#include <linux/string.h>

#include "selftest_params.h"

static char *selftest = "";
module_param(selftest, charp, 0444);
MODULE_PARM_DESC(selftest, "Self test to run at load: rdma (none by default)");

static char *selftest_addr = "192.0.2.1";
module_param(selftest_addr, charp, 0444);
MODULE_PARM_DESC(selftest_addr, "IPv4 address of the RDMA device to test");

/*
 * Writing a self test's name to /sys/module/smbdirect_rs/parameters/run
 * runs it in the writer's task, so that the task's fail-nth setting
 * reaches every allocation the test makes.
 */
static int smbdrs_run_set(const char *val, const struct kernel_param *kp)
{
	char name[32];

	if (strscpy(name, val, sizeof(name)) < 0)
		return -EINVAL;
	return smbdrs_selftest_run(strim(name));
}

static const struct kernel_param_ops smbdrs_run_ops = {
	.set = smbdrs_run_set,
};

module_param_cb(run, &smbdrs_run_ops, NULL, 0200);
MODULE_PARM_DESC(run, "Write a self test's name to run it now, in the writer's task");

const char *smbdrs_selftest_name(void)
{
	return selftest;
}

const char *smbdrs_selftest_addr(void)
{
	return selftest_addr;
}
