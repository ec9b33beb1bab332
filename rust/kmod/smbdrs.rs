// SPDX-License-Identifier: GPL-2.0

//! smbdirect-rs: SMB Direct (MS-SMBD) for cifs and ksmbd, in Rust.
//!
//! This crate root is the `smbdirect_rs` kernel module. It will carry the
//! shared protocol engine, the ib_core layer and the two transports; for now
//! it loads, reports its version and unloads.

use kernel::prelude::*;

/// Version of the smbdirect-rs module, kept in step with the engine crate.
const VERSION: &str = "0.1.0";

module! {
    type: SmbdirectRs,
    name: "smbdirect_rs",
    author: "smbdirect-rs developers",
    description: "SMB Direct (MS-SMBD) engine and transports in Rust",
    license: "GPL",
}

struct SmbdirectRs;

impl kernel::Module for SmbdirectRs {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        pr_info!("smbdirect-rs version {} loaded\n", VERSION);
        Ok(SmbdirectRs)
    }
}

impl Drop for SmbdirectRs {
    fn drop(&mut self) {
        pr_info!("smbdirect-rs version {} unloaded\n", VERSION);
    }
}
