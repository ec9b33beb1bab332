// SPDX-License-Identifier: GPL-2.0

//! The C entry points of the client transport: the Rust half of the cifs
//! shim. `rust/kmod/client_ops.c` puts them in `smbdrs_client_ops`, whose
//! types `shim/include/smbdrs_client.h` declares; the structures here
//! mirror that header (both sides assert the sizes).
//!
//! A connection is an `Arc<ClientConn>` whose reference cifs holds as a
//! `void *` from connect to destroy; a registration is a boxed
//! [`ClientRegistration`] cifs holds until it deregisters it.

use core::ffi::c_void;
use core::ptr::NonNull;

use kernel::bindings;
use kernel::ffi::{c_int, c_uint};
use kernel::prelude::*;
use kernel::sync::{Arc, ArcBorrow};

use super::{ClientConn, ClientRegistration, ClientTunables, PROTOCOL_VERSION};
use crate::ib::{socket_addr_from_raw, KernelIter};

/// `struct smbdrs_client_config`.
#[repr(C)]
pub struct ClientConfigC {
    receive_credit_max: u32,
    send_credit_target: u32,
    max_send_size: u32,
    max_fragmented_recv_size: u32,
    max_receive_size: u32,
    keepalive_interval_ms: u32,
    max_frmr_depth: u32,
}

/// `struct smbdrs_client_info`.
#[repr(C)]
#[derive(Default)]
pub struct ClientInfoC {
    protocol: u32,
    receive_credit_max: u32,
    send_credit_target: u32,
    max_send_size: u32,
    max_receive_size: u32,
    max_fragmented_send_size: u32,
    max_fragmented_recv_size: u32,
    max_read_write_size: u32,
    keepalive_interval_ms: u32,
    max_frmr_depth: u32,
    responder_resources: u32,
    initiator_depth: u32,
    connected: u32,
    send_credits: u32,
    receive_credits: u32,
    receive_credit_target: u32,
    receives_posted: u32,
    unread_fragments: u32,
    free_headers: u32,
    mrs_in_use: u32,
    messages_sent: u64,
    messages_read: u64,
    bytes_sent: u64,
    bytes_received: u64,
    keepalives_sent: u64,
    send_waits: u64,
    registrations: u64,
    remote_invalidations: u64,
    local_invalidations: u64,
    mr_recoveries: u64,
    mr_waits: u64,
    context_misses: u64,
    softirq_completions: u64,
    deferred_pumps: u64,
}

/// `struct smbdrs_buffer_desc`.
#[repr(C)]
pub struct BufferDescC {
    offset: u64,
    token: u32,
    length: u32,
}

// The same sizes are asserted in client_ops.c against the header.
const _: () = assert!(core::mem::size_of::<ClientConfigC>() == 28);
const _: () = assert!(core::mem::size_of::<ClientInfoC>() == 192);
const _: () = assert!(core::mem::size_of::<BufferDescC>() == 16);

fn to_c(r: Result) -> c_int {
    match r {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// Borrows the connection cifs holds.
///
/// # Safety
///
/// `conn` came from [`smbdrs_client_connect`] and is not destroyed before
/// the borrow ends (cifs destroys a connection under its server lock, or
/// from the thread that reads from it).
unsafe fn client<'a>(conn: *mut c_void) -> ArcBorrow<'a, ClientConn> {
    // SAFETY: By the function's contract `conn` is a live `Arc` pointer.
    unsafe { ArcBorrow::from_raw(conn.cast::<ClientConn>()) }
}

/// # Safety
///
/// `dst` points to an IPv4 or IPv6 socket address, `config` to a valid
/// configuration and `conn` to writable memory for a pointer.
#[no_mangle]
pub unsafe extern "C" fn smbdrs_client_connect(
    dst: *const bindings::sockaddr,
    config: *const ClientConfigC,
    conn: *mut *mut c_void,
) -> c_int {
    let (Some(dst), Some(config), Some(conn)) = (
        NonNull::new(dst.cast_mut()),
        // SAFETY: By the function's contract `config` is valid when not
        // null.
        unsafe { config.as_ref() },
        NonNull::new(conn),
    ) else {
        return EINVAL.to_errno();
    };
    let tunables = ClientTunables {
        receive_credit_max: config.receive_credit_max,
        send_credit_target: config.send_credit_target,
        max_send_size: config.max_send_size,
        max_fragmented_recv_size: config.max_fragmented_recv_size,
        max_receive_size: config.max_receive_size,
        keepalive_interval_ms: config.keepalive_interval_ms,
        max_frmr_depth: config.max_frmr_depth,
    };
    // SAFETY: By the function's contract `dst` is a valid socket address.
    let r =
        unsafe { socket_addr_from_raw(dst) }.and_then(|dst| ClientConn::connect(dst, &tunables));
    match r {
        Ok(client) => {
            // SAFETY: `conn` is writable by the function's contract.
            unsafe { conn.as_ptr().write(Arc::into_raw(client).cast_mut().cast()) };
            0
        }
        Err(e) => e.to_errno(),
    }
}

/// # Safety
///
/// `conn` came from [`smbdrs_client_connect`] and is not used again.
#[no_mangle]
pub unsafe extern "C" fn smbdrs_client_destroy(conn: *mut c_void) {
    if conn.is_null() {
        return;
    }
    // SAFETY: By the function's contract this takes back the reference
    // `smbdrs_client_connect` gave cifs.
    let client = unsafe { Arc::from_raw(conn.cast::<ClientConn>()) };
    ClientConn::destroy(client);
}

/// # Safety
///
/// `conn` is live (see [`client`]); `parts` points to `nparts` valid
/// iterators over kernel memory, which cifs does not touch during the call.
#[no_mangle]
pub unsafe extern "C" fn smbdrs_client_send(
    conn: *mut c_void,
    parts: *mut bindings::iov_iter,
    nparts: c_uint,
) -> c_int {
    let Some(parts) = NonNull::new(parts) else {
        return EINVAL.to_errno();
    };
    // SAFETY: By the function's contract.
    let client = unsafe { client(conn) };
    let iters = (0..nparts as usize).map(|i| {
        // SAFETY: `i < nparts`: a valid iterator of the array, borrowed
        // only by this iteration.
        unsafe { KernelIter::from_raw(NonNull::new_unchecked(parts.as_ptr().add(i))) }
    });
    to_c(client.send(iters))
}

/// # Safety
///
/// `conn` is live (see [`client`]); `to` is a valid destination iterator
/// over kernel memory.
#[no_mangle]
pub unsafe extern "C" fn smbdrs_client_recv(
    conn: *mut c_void,
    to: *mut bindings::iov_iter,
) -> c_int {
    let Some(to) = NonNull::new(to) else {
        return EINVAL.to_errno();
    };
    // SAFETY: By the function's contract.
    let client = unsafe { client(conn) };
    // SAFETY: By the function's contract.
    let mut to = unsafe { KernelIter::from_raw(to) };
    match client.recv(&mut to) {
        Ok(n) => c_int::try_from(n).unwrap_or(c_int::MAX),
        Err(e) => e.to_errno(),
    }
}

/// # Safety
///
/// `conn` is live (see [`client`]); `iter` is a valid iterator over kernel
/// memory that stays valid until the registration is deregistered; `desc`
/// and `reg` point to writable memory.
#[no_mangle]
pub unsafe extern "C" fn smbdrs_client_register_mr(
    conn: *mut c_void,
    iter: *mut bindings::iov_iter,
    writing: bool,
    desc: *mut BufferDescC,
    reg: *mut *mut c_void,
) -> c_int {
    let (Some(iter), Some(desc), Some(reg)) =
        (NonNull::new(iter), NonNull::new(desc), NonNull::new(reg))
    else {
        return EINVAL.to_errno();
    };
    // SAFETY: By the function's contract.
    let client: Arc<ClientConn> = unsafe { client(conn) }.into();
    // SAFETY: By the function's contract.
    let mut iter = unsafe { KernelIter::from_raw(iter) };
    let (registration, key) = match ClientConn::register(&client, &mut iter, writing) {
        Ok(r) => r,
        Err(e) => return e.to_errno(),
    };
    let Ok(length) = u32::try_from(key.length) else {
        return EINVAL.to_errno();
    };
    let boxed = {
        let _noio = crate::ib::NoIoScope::enter();
        KBox::new(registration, GFP_KERNEL)
    };
    let boxed = match boxed {
        Ok(b) => b,
        Err(_) => return ENOMEM.to_errno(),
    };
    // SAFETY: `desc` and `reg` are writable by the function's contract.
    unsafe {
        desc.as_ptr().write(BufferDescC {
            offset: key.addr,
            token: key.rkey,
            length,
        });
        reg.as_ptr().write(KBox::into_raw(boxed).cast());
    }
    0
}

/// # Safety
///
/// `reg` came from [`smbdrs_client_register_mr`] and is not used again.
#[no_mangle]
pub unsafe extern "C" fn smbdrs_client_deregister_mr(reg: *mut c_void) -> c_int {
    if reg.is_null() {
        return 0;
    }
    // SAFETY: By the function's contract this takes back the box
    // `smbdrs_client_register_mr` gave cifs.
    let reg = unsafe { KBox::from_raw(reg.cast::<ClientRegistration>()) };
    to_c(KBox::into_inner(reg).deregister())
}

/// # Safety
///
/// `conn` is live (see [`client`]); `out` points to writable memory.
#[no_mangle]
pub unsafe extern "C" fn smbdrs_client_info(conn: *mut c_void, out: *mut ClientInfoC) {
    let Some(out) = NonNull::new(out) else {
        return;
    };
    // SAFETY: By the function's contract.
    let client = unsafe { client(conn) };
    let i = client.info();
    let mut c = ClientInfoC {
        protocol: PROTOCOL_VERSION,
        max_frmr_depth: i.max_frmr_depth,
        responder_resources: i.rdma_depths.0.into(),
        initiator_depth: i.rdma_depths.1.into(),
        connected: i.connected.into(),
        keepalive_interval_ms: u32::try_from(i.keepalive_interval_ms).unwrap_or(u32::MAX),
        ..Default::default()
    };
    if let Some(p) = i.params {
        c.receive_credit_max = i.receive_credit_max;
        c.send_credit_target = i.send_credit_target;
        c.max_send_size = p.max_send_size;
        c.max_receive_size = p.max_receive_size;
        c.max_fragmented_send_size = p.max_fragmented_send_size;
        c.max_fragmented_recv_size = p.max_fragmented_recv_size;
        c.max_read_write_size = p.max_read_write_size;
    }
    if let Some(s) = i.stats {
        let e = s.engine;
        c.send_credits = e.send_credits.into();
        c.receive_credits = e.receive_credits.into();
        c.receive_credit_target = e.receive_credit_target.into();
        c.receives_posted = e.posted_receives.into();
        c.unread_fragments = u32::try_from(s.unread_fragments).unwrap_or(u32::MAX);
        c.free_headers = u32::try_from(s.free_headers).unwrap_or(u32::MAX);
        c.messages_sent = e.messages_sent;
        c.messages_read = s.conn.messages_read;
        c.bytes_sent = e.bytes_sent;
        c.bytes_received = e.bytes_received;
        c.keepalives_sent = e.keepalives_sent;
        c.send_waits = s.conn.send_waits;
        c.registrations = s.conn.registrations;
        c.remote_invalidations = s.conn.remote_invalidations;
        c.local_invalidations = s.conn.local_invalidations;
        c.mr_recoveries = s.conn.mr_recoveries;
        c.mr_waits = s.conn.mr_waits;
        c.mrs_in_use = u32::try_from(s.conn.mrs_in_use).unwrap_or(u32::MAX);
        c.context_misses = s.context_misses;
        c.softirq_completions = s.conn.softirq_completions;
        c.deferred_pumps = s.conn.deferred_pumps;
    }
    // SAFETY: `out` is writable by the function's contract.
    unsafe { out.as_ptr().write(c) };
}
