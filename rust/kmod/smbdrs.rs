// SPDX-License-Identifier: GPL-2.0

//! smbdirect-rs: SMB Direct (MS-SMBD) for cifs and ksmbd, in Rust.
//!
//! This crate root is the `smbdirect_rs` kernel module. It carries the ib
//! layer ([`ib`]), the shared protocol engine ([`smbdirect`]), the in-kernel
//! self tests and, in later stages, the two transports. Each part is a module pulled in
//! by path, because kbuild builds every listed `.rs` file as its own crate.

use kernel::prelude::*;

/// `pr_err!`, rate limited: for errors a peer or a device can cause.
macro_rules! pr_err_ratelimited {
    ($($arg:tt)*) => {
        if $crate::ib::print_allowed() {
            ::kernel::pr_err!($($arg)*);
        }
    };
}

/// `pr_warn!`, rate limited.
macro_rules! pr_warn_ratelimited {
    ($($arg:tt)*) => {
        if $crate::ib::print_allowed() {
            ::kernel::pr_warn!($($arg)*);
        }
    };
}

#[path = "../ib/mod.rs"]
pub mod ib;

#[path = "../smbdirect/src/lib.rs"]
pub mod smbdirect;

#[path = "../conn/mod.rs"]
pub mod conn;

#[path = "../client/mod.rs"]
pub mod client;

#[path = "../server/mod.rs"]
pub mod server;

#[cfg(CONFIG_SMBDIRECT_RS_SELFTEST)]
#[path = "../selftest/mod.rs"]
mod selftest;

/// Version of the smbdirect-rs module: the engine's.
const VERSION: &str = smbdirect::VERSION;

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
        ib::init()?;
        pr_info!("smbdirect-rs version {} loaded\n", VERSION);
        #[cfg(CONFIG_SMBDIRECT_RS_SELFTEST)]
        {
            selftest::run_from_params();
            selftest::set_ready(true);
        }
        Ok(SmbdirectRs)
    }
}

impl Drop for SmbdirectRs {
    fn drop(&mut self) {
        #[cfg(CONFIG_SMBDIRECT_RS_SELFTEST)]
        selftest::set_ready(false);
        ib::exit();
        pr_info!("smbdirect-rs version {} unloaded\n", VERSION);
    }
}
