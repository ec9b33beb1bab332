// SPDX-License-Identifier: GPL-2.0

//! The host's RDMA devices and addresses, as a server sees them: where it
//! can listen, and word when a device or an address comes.
//!
//! C headers: [`include/linux/inetdevice.h`](srctree/include/linux/inetdevice.h),
//! [`include/rdma/ib_verbs.h`](srctree/include/rdma/ib_verbs.h) (`ib_client`).

use core::ffi::c_void;
use core::net::Ipv4Addr;

use kernel::ffi::c_int;
use kernel::prelude::*;
use kernel::sync::{Arc, ArcBorrow};

use super::ffi;

/// The most addresses [`local_ipv4`] reports.
const MAX_ADDRS: usize = 64;

/// The IPv4 addresses of the interfaces that are up (loopback aside).
pub fn local_ipv4() -> Result<KVec<Ipv4Addr>> {
    let mut raw = [0u32; MAX_ADDRS];
    // SAFETY: `raw` has room for `MAX_ADDRS` addresses.
    let n = unsafe { ffi::smbdrs_local_ipv4(raw.as_mut_ptr(), MAX_ADDRS as i32) };
    let n = usize::try_from(n).unwrap_or(0).min(MAX_ADDRS);
    let mut out = KVec::with_capacity(n, GFP_KERNEL)?;
    for a in &raw[..n] {
        // Network order in memory, as the kernel keeps it.
        out.push(Ipv4Addr::from(a.to_ne_bytes()), GFP_KERNEL)?;
    }
    Ok(out)
}

/// Told when an RDMA device appears (and once per device present when the
/// watch starts), or an IPv4 address is added to an interface (where a
/// device present may now be listened on). Runs in ib_core's or the
/// address notifier's context (under RTNL): it should only queue work.
pub trait DeviceListener: Send + Sync {
    /// A device was added.
    fn device_added(this: ArcBorrow<'_, Self>);

    /// An IPv4 address was added to an interface. ib_core learns of it
    /// through a notifier of its own and updates a RoCE device's GID table
    /// from a work item, so the address may not be bindable yet.
    fn address_added(this: ArcBorrow<'_, Self>) {
        Self::device_added(this);
    }
}

/// The one device watch of the module (ib_core's client); stops on drop,
/// once no callback runs any more.
pub struct DeviceWatch<T: DeviceListener> {
    /// A reference made raw for ib_core's callbacks, taken back on drop.
    ctx: *const T,
}

// SAFETY: The watch only holds a reference to a `Send + Sync` listener.
unsafe impl<T: DeviceListener> Send for DeviceWatch<T> {}
// SAFETY: As above; `&DeviceWatch` gives access to nothing.
unsafe impl<T: DeviceListener> Sync for DeviceWatch<T> {}

/// ib_core's report of a device or address change, for the listener at
/// `ctx`.
///
/// # Safety
///
/// `ctx` is the reference a [`DeviceWatch`] made raw, not yet taken back.
unsafe extern "C" fn changed<T: DeviceListener>(ctx: *mut c_void, what: c_int) {
    // SAFETY: `ctx` is the reference the watch made raw, held until its
    // callbacks stopped (see `DeviceWatch::drop`).
    let this = unsafe { ArcBorrow::from_raw(ctx.cast::<T>()) };
    if what == ffi::SMBDRS_ADDRESS_ADDED {
        T::address_added(this);
    } else {
        T::device_added(this);
    }
}

impl<T: DeviceListener> DeviceWatch<T> {
    /// Starts watching; `EBUSY` from ib_core if another watch runs.
    pub fn new(listener: Arc<T>) -> Result<Self> {
        let ctx = Arc::into_raw(listener);
        // SAFETY: `changed::<T>` matches the callback type; `ctx` stays
        // valid while the watch lives.
        let r = kernel::error::to_result(unsafe {
            ffi::smbdrs_watch_devices(Some(changed::<T>), ctx.cast_mut().cast())
        });
        if let Err(e) = r {
            // SAFETY: Not registered: take the reference back.
            drop(unsafe { Arc::from_raw(ctx) });
            return Err(e);
        }
        Ok(Self { ctx })
    }
}

impl<T: DeviceListener> Drop for DeviceWatch<T> {
    fn drop(&mut self) {
        // SAFETY: The watch is registered (by `new`); this returns once no
        // callback runs.
        unsafe { ffi::smbdrs_unwatch_devices() };
        // SAFETY: `ctx` came from `Arc::into_raw` in `new` and no callback
        // can use it any more.
        drop(unsafe { Arc::from_raw(self.ctx) });
    }
}
