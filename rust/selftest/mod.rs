// SPDX-License-Identifier: GPL-2.0

//! Self tests run inside the kernel at module load, chosen by the
//! `selftest=` module parameter (CONFIG_SMBDIRECT_RS_SELFTEST). Each prints
//! one line `smbdirect_rs: selftest NAME: PASS ...` or `... FAIL ...` that
//! the VM scenarios assert on.

use core::net::Ipv4Addr;
use core::str::FromStr;

use kernel::prelude::*;
use kernel::str::CStr;

mod rdma;

extern "C" {
    fn smbdrs_selftest_name() -> *const kernel::ffi::c_char;
    fn smbdrs_selftest_addr() -> *const kernel::ffi::c_char;
}

fn param(f: unsafe extern "C" fn() -> *const kernel::ffi::c_char) -> &'static str {
    // SAFETY: The parameters are NUL-terminated strings owned by the module,
    // set before init and read-only (0444) afterwards.
    let s = unsafe { CStr::from_char_ptr(f()) };
    s.to_str().unwrap_or("")
}

/// Runs the self test named by the module parameter, if any.
pub(crate) fn run_from_params() {
    let name = param(smbdrs_selftest_name);
    if name.is_empty() {
        return;
    }
    let addr_text = param(smbdrs_selftest_addr);
    let Ok(addr) = Ipv4Addr::from_str(addr_text) else {
        pr_err!(
            "selftest {}: FAIL bad selftest_addr {:?}\n",
            name,
            addr_text
        );
        return;
    };
    match name {
        "rdma" => match rdma::run(addr) {
            Ok(r) => pr_info!(
                "selftest rdma: PASS device={} messages={} message_bytes={} rdma_write={} rdma_read={} rkey={:#x}\n",
                core::str::from_utf8(&r.device).unwrap_or("?"),
                r.messages,
                r.message_bytes,
                r.rdma_bytes,
                r.rdma_bytes,
                r.rkey
            ),
            Err(e) => pr_err!("selftest rdma: FAIL {}: {:?}\n", e.0, e.1),
        },
        other => pr_err!("selftest {}: FAIL unknown self test\n", other),
    }
}
