// SPDX-License-Identifier: GPL-2.0

//! The C entry points of the server transport: the Rust half of the ksmbd
//! shim. `rust/kmod/server_ops.c` puts them in `smbdrs_server_ops`, whose
//! types `shim/include/smbdrs_server.h` declares.
//!
//! The server is a boxed [`Server`] ksmbd holds as a `void *` from start to
//! stop; a connection is an `Arc<ServerConn>` whose reference ksmbd holds
//! from `accepted` to destroy.

use core::ffi::c_void;
use core::net::SocketAddr;
use core::ptr::NonNull;

use kernel::bindings;
use kernel::ffi::{c_int, c_uint};
use kernel::prelude::*;
use kernel::sync::{Arc, ArcBorrow};

use super::{Acceptor, Server, ServerConfig, ServerConn};
use crate::ib::{with_raw_sockaddr, KernelIter};

/// `accepted` of `struct smbdrs_server_config`.
type AcceptedFn = unsafe extern "C" fn(conn: *mut c_void, peer: *const bindings::sockaddr) -> c_int;

/// `struct smbdrs_server_config`.
#[repr(C)]
pub struct ServerConfigC {
    max_read_write_size: u32,
    accepted: Option<AcceptedFn>,
}

const _: () = assert!(core::mem::size_of::<ServerConfigC>() == 16);

/// Hands connections to ksmbd's shim.
struct CAcceptor {
    accepted: AcceptedFn,
}

impl Acceptor for CAcceptor {
    fn accepted(&self, conn: Arc<ServerConn>, peer: SocketAddr) -> Result {
        let raw = Arc::into_raw(conn).cast_mut().cast::<c_void>();
        // SAFETY: The shim's callback takes a connection reference (given
        // up here) and a socket address valid for the call.
        let rc = with_raw_sockaddr(peer, |sa| unsafe { (self.accepted)(raw, sa) });
        if rc != 0 {
            // SAFETY: Refused: the reference given above comes back.
            drop(unsafe { Arc::from_raw(raw.cast::<ServerConn>()) });
            return Err(Error::from_errno(rc));
        }
        Ok(())
    }
}

/// Borrows a connection ksmbd holds.
///
/// # Safety
///
/// `conn` came from `accepted` and is not destroyed before the borrow ends
/// (ksmbd destroys it from its connection thread, once nothing else of the
/// connection runs in the transport).
unsafe fn server_conn<'a>(conn: *mut c_void) -> ArcBorrow<'a, ServerConn> {
    // SAFETY: By the function's contract.
    unsafe { ArcBorrow::from_raw(conn.cast::<ServerConn>()) }
}

fn to_c(r: Result) -> c_int {
    match r {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// # Safety
///
/// `config` points to a valid configuration whose `accepted` callback
/// stays callable until [`smbdrs_server_stop`] returns; `server` points to
/// writable memory.
#[no_mangle]
pub unsafe extern "C" fn smbdrs_server_start(
    config: *const ServerConfigC,
    server: *mut *mut c_void,
) -> c_int {
    // SAFETY: By the function's contract `config` is valid when not null.
    let Some(config) = (unsafe { config.as_ref() }) else {
        return EINVAL.to_errno();
    };
    let (Some(accepted), Some(server)) = (config.accepted, NonNull::new(server)) else {
        return EINVAL.to_errno();
    };
    let acceptor: Arc<dyn Acceptor> = match Arc::new(CAcceptor { accepted }, GFP_KERNEL) {
        Ok(a) => a,
        Err(_) => return ENOMEM.to_errno(),
    };
    let cfg = ServerConfig {
        max_read_write_size: config.max_read_write_size,
    };
    let started = Server::start(&cfg, acceptor).and_then(|s| Ok(KBox::new(s, GFP_KERNEL)?));
    match started {
        Ok(s) => {
            // SAFETY: `server` is writable by the function's contract.
            unsafe { server.as_ptr().write(KBox::into_raw(s).cast()) };
            0
        }
        Err(e) => e.to_errno(),
    }
}

/// # Safety
///
/// `server` came from [`smbdrs_server_start`] and is not used again.
#[no_mangle]
pub unsafe extern "C" fn smbdrs_server_stop(server: *mut c_void) {
    if server.is_null() {
        return;
    }
    // SAFETY: By the function's contract this takes back the box.
    let server = unsafe { KBox::from_raw(server.cast::<Server>()) };
    KBox::into_inner(server).stop();
}

/// # Safety
///
/// `conn` is live (see [`server_conn`]).
#[no_mangle]
pub unsafe extern "C" fn smbdrs_server_negotiate(conn: *mut c_void) -> c_int {
    // SAFETY: By the function's contract.
    to_c(unsafe { server_conn(conn) }.negotiate())
}

/// # Safety
///
/// `conn` is live (see [`server_conn`]); `buf` is valid for writes of
/// `size` bytes, and nothing else uses it during the call.
#[no_mangle]
pub unsafe extern "C" fn smbdrs_server_read(
    conn: *mut c_void,
    buf: *mut c_void,
    size: c_uint,
) -> c_int {
    let Some(buf) = NonNull::new(buf.cast::<u8>()) else {
        return EINVAL.to_errno();
    };
    // SAFETY: By the function's contract.
    let buf = unsafe { core::slice::from_raw_parts_mut(buf.as_ptr(), size as usize) };
    // SAFETY: By the function's contract.
    match unsafe { server_conn(conn) }.read(buf) {
        Ok(n) => c_int::try_from(n).unwrap_or(c_int::MAX),
        Err(e) => e.to_errno(),
    }
}

/// # Safety
///
/// `conn` is live (see [`server_conn`]); `iter` is a valid iterator over
/// kernel memory, which ksmbd does not touch during the call.
#[no_mangle]
pub unsafe extern "C" fn smbdrs_server_send(
    conn: *mut c_void,
    iter: *mut bindings::iov_iter,
    invalidate: bool,
    rkey: u32,
) -> c_int {
    let Some(iter) = NonNull::new(iter) else {
        return EINVAL.to_errno();
    };
    // SAFETY: By the function's contract.
    let mut iter = unsafe { KernelIter::from_raw(iter) };
    let invalidate = invalidate.then_some(rkey);
    // SAFETY: By the function's contract.
    to_c(unsafe { server_conn(conn) }.send(&mut iter, invalidate))
}

/// # Safety
///
/// `conn` is live (see [`server_conn`]); `buf` is kernel memory (kmalloc'd
/// or vmalloc'd) valid for `len` bytes and `desc` for `desc_len` bytes,
/// neither changed by anything else during the call.
#[no_mangle]
pub unsafe extern "C" fn smbdrs_server_rdma(
    conn: *mut c_void,
    write: bool,
    buf: *mut c_void,
    len: c_uint,
    desc: *const c_void,
    desc_len: c_uint,
) -> c_int {
    let (Some(buf), Some(desc)) = (
        NonNull::new(buf.cast::<u8>()),
        NonNull::new(desc.cast_mut().cast::<u8>()),
    ) else {
        return EINVAL.to_errno();
    };
    // SAFETY: By the function's contract.
    // `&mut`: an RDMA read writes into it.
    let buf = unsafe { core::slice::from_raw_parts_mut(buf.as_ptr(), len as usize) };
    // SAFETY: By the function's contract.
    let desc = unsafe { core::slice::from_raw_parts(desc.as_ptr(), desc_len as usize) };
    // SAFETY: By the function's contract.
    to_c(unsafe { server_conn(conn) }.rdma(write, buf, desc))
}

/// # Safety
///
/// `conn` is live (see [`server_conn`]).
#[no_mangle]
pub unsafe extern "C" fn smbdrs_server_abort(conn: *mut c_void) {
    // SAFETY: By the function's contract.
    unsafe { server_conn(conn) }.abort();
}

/// # Safety
///
/// `conn` came from `accepted` and is not used again.
#[no_mangle]
pub unsafe extern "C" fn smbdrs_server_destroy(conn: *mut c_void) {
    if conn.is_null() {
        return;
    }
    // SAFETY: By the function's contract this takes back ksmbd's reference.
    let conn = unsafe { Arc::from_raw(conn.cast::<ServerConn>()) };
    ServerConn::destroy(conn);
}
