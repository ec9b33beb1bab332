/* SPDX-License-Identifier: GPL-2.0-only */
/* smbdirect-rs: self-test module parameters, read by rust/selftest/. */
#ifndef _SMBDRS_SELFTEST_PARAMS_H
#define _SMBDRS_SELFTEST_PARAMS_H

const char *smbdrs_selftest_name(void);
const char *smbdrs_selftest_addr(void);
int smbdrs_selftest_run(const char *name);

#endif /* _SMBDRS_SELFTEST_PARAMS_H */
