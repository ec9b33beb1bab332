// SPDX-License-Identifier: GPL-2.0

//! The SMB Direct client transport for cifs, on the shared connection.
//!
//! cifs keeps calling the `smbd_*` functions it always called; the shim in
//! `shim/cifs/smbdirect_shim.c` sends them here for a mount with
//! `rdma_impl=rust`, through the C table in `rust/kmod/client_ops.c` and the
//! entry points in `ffi.rs`. This file is the transport itself, in safe
//! Rust:
//!
//! - [`ClientConn::connect`]: the SMB Direct port of the device's transport
//!   (falling back to the other), the `/proc/fs/cifs/smbd_*` tunables as
//!   the configuration.
//! - [`ClientConn::send`]: an SMB2 request or compound, header kvecs and
//!   data pages alike, sent as one message without copying; returns once
//!   the device is done with the caller's memory, as cifs frees it then.
//! - [`ClientConn::recv`]: the stream cifs's demultiplex thread reads: 4
//!   bytes at a message start are the message's length (cifs reads an
//!   RFC 1002 length first), then the message in any number of pieces.
//! - [`ClientConn::register`]: one region per I/O for the server's RDMA,
//!   whose buffer descriptor cifs puts in its READ or WRITE request.

pub mod ffi;

use ::core::net::SocketAddr;
use ::core::sync::atomic::{AtomicBool, Ordering};

use kernel::prelude::*;
use kernel::sync::{new_mutex, Arc, Mutex};

use crate::conn::{CallGate, Connection, OutMessage, Registration, COPY_MAX};
use crate::ib::{errno, KernelIter, RemoteKey, PAGE_SIZE};
use crate::smbdirect::{Config, NegotiatedParams};

/// Each step of connecting (address, route, connect, negotiate) waits this
/// long at most.
const CONNECT_STEP_MS: u32 = 20_000;
/// A send waits this long at most for credits and for its completion.
const SEND_MS: u32 = 60_000;
/// The demultiplex thread's read of a length returns `EAGAIN` after this
/// long, so that cifs can look at its own timers, as with a TCP socket's
/// receive timeout.
const RECV_POLL_MS: u32 = 5_000;
/// The rest of a message that has begun must come within this.
const RECV_REST_MS: u32 = 60_000;
/// Registering or invalidating a region waits this long at most.
const MR_MS: u32 = 30_000;
/// SMB Direct 1.0 ([MS-SMBD] 2.2.1), shown as cifs shows it.
pub const PROTOCOL_VERSION: u32 = 0x100;

/// What cifs asks for: its tunables (`/proc/fs/cifs/smbd_*`).
#[derive(Clone, Copy, Debug)]
pub struct ClientTunables {
    /// `smbd_receive_credit_max`.
    pub receive_credit_max: u32,
    /// `smbd_send_credit_target`.
    pub send_credit_target: u32,
    /// `smbd_max_send_size`.
    pub max_send_size: u32,
    /// `smbd_max_fragmented_recv_size`.
    pub max_fragmented_recv_size: u32,
    /// `smbd_max_receive_size`.
    pub max_receive_size: u32,
    /// `smbd_keep_alive_interval`, in milliseconds.
    pub keepalive_interval_ms: u32,
    /// `smbd_max_frmr_depth`: pages of one registration.
    pub max_frmr_depth: u32,
}

impl ClientTunables {
    /// The engine configuration these ask for; `EINVAL` for values no
    /// connection could use (cifs writes whatever the user echoes).
    fn config(&self) -> Result<Config> {
        let credits = |v: u32| u16::try_from(v).ok().filter(|&c| c > 0).ok_or(EINVAL);
        let pages = self.max_frmr_depth.clamp(1, 1 << 16);
        Ok(Config {
            receive_credit_max: credits(self.receive_credit_max)?,
            send_credit_target: credits(self.send_credit_target)?,
            send_queue_depth: credits(self.send_credit_target)?,
            max_send_size: self.max_send_size,
            max_receive_size: self.max_receive_size,
            max_fragmented_recv_size: self.max_fragmented_recv_size,
            max_read_write_size: pages.saturating_mul(PAGE_SIZE as u32),
            keepalive_interval_ms: u64::from(self.keepalive_interval_ms),
            ..Config::default_client()
        })
    }
}

/// A client connection as cifs shows it in `/proc/fs/cifs/DebugData`.
#[derive(Clone, Copy, Debug, Default)]
pub struct ClientInfo {
    /// The negotiated parameters.
    pub params: Option<NegotiatedParams>,
    /// Pages one registration may map (`max_frmr_depth`).
    pub max_frmr_depth: u32,
    /// Responder resources and initiator depth.
    pub rdma_depths: (u8, u8),
    /// Whether messages still flow.
    pub connected: bool,
    /// The connection's counters.
    pub stats: Option<crate::conn::ConnStats>,
    /// What was asked for: receive buffers, send credits, keepalive.
    pub receive_credit_max: u32,
    /// See above.
    pub send_credit_target: u32,
    /// See above.
    pub keepalive_interval_ms: u64,
}

/// One SMB Direct connection of a cifs server (`TCP_Server_Info`).
#[pin_data]
pub struct ClientConn {
    conn: Connection,
    /// The message being sent: cifs sends under its server lock, so this
    /// is uncontended; keeping it keeps the span list's memory.
    #[pin]
    out: Mutex<OutMessage>,
    /// The calls inside, which destroy waits for.
    #[pin]
    gate: CallGate,
    /// Pages one registration maps: cifs's segment limit per I/O.
    max_frmr_depth: u32,
    config: Config,
    /// The peer sent a message cifs could not be handed; said once.
    misread: AtomicBool,
}

impl ClientConn {
    /// Connects to the SMB Direct server at `dst`'s address and negotiates.
    /// cifs's port is not used: SMB Direct has its own (5445 on iWARP, 445
    /// on InfiniBand and RoCE), tried in that order of likelihood.
    pub fn connect(dst: SocketAddr, tunables: &ClientTunables) -> Result<Arc<Self>> {
        let config = tunables.config().inspect_err(|_| {
            pr_err!(
                "smbdirect-rs: cifs's smbd_* tunables cannot make a connection: {:?}\n",
                tunables
            );
        })?;
        let conn = Connection::connect_smbd(dst.ip(), config, CONNECT_STEP_MS)?;
        let params = conn.params().ok_or(EINVAL)?;
        let max_frmr_depth = params.max_read_write_size / PAGE_SIZE as u32;
        Arc::pin_init(
            pin_init!(Self {
                conn,
                out <- new_mutex!(OutMessage::new(), "smbdrs_client_out"),
                gate <- CallGate::new(),
                max_frmr_depth,
                config,
                misread: AtomicBool::new(false),
            }),
            GFP_KERNEL,
        )
    }

    /// Ends the connection (waking every call waiting in it), waits until
    /// no call is inside, and frees everything once the last reference (a
    /// registration may hold one) goes.
    pub fn destroy(this: Arc<Self>) {
        this.gate.close();
        this.conn.shutdown();
        this.gate.wait_empty();
    }

    /// Sends the bytes of `parts`, in order, as one message. Up to a page
    /// is copied and queued ([`Connection::send_copy`]); longer messages
    /// (writes below the RDMA threshold) go from cifs's pages, and this
    /// returns once they have left.
    pub fn send<'a>(&self, parts: impl Iterator<Item = KernelIter<'a>> + Clone) -> Result {
        let _in = self.gate.enter()?;
        let len: usize = parts.clone().map(|p| p.count()).sum();
        if (1..=COPY_MAX).contains(&len) {
            // Most requests: copied and queued; cifs goes on at once.
            return self.conn.send_copy(len, None, SEND_MS, |page| {
                let mut at = 0;
                for mut part in parts {
                    let n = part.count();
                    if n > 0 {
                        part.copy_to_page(page, at, n)?;
                        at += n;
                    }
                }
                Ok(())
            });
        }
        let mut out = self.out.lock();
        out.clear();
        for mut part in parts {
            let len = part.count();
            if len > 0 {
                out.push_iter(&mut part, len)?;
            }
        }
        let r = self.conn.send(&mut out, SEND_MS);
        out.clear();
        r
    }

    /// Fills `to` from the received stream (see the module documentation);
    /// returns the bytes read, `EAGAIN` if no message came for a while.
    pub fn recv(&self, to: &mut KernelIter<'_>) -> Result<usize> {
        let _in = self.gate.enter()?;
        let want = to.count();
        let r = self
            .conn
            .read_framed(want, RECV_POLL_MS, RECV_REST_MS, &mut |b| to.copy_in(b));
        match r {
            Err(e) if e == errno(kernel::bindings::ETIMEDOUT) => Err(EAGAIN),
            Err(e) if e == EINVAL => {
                self.misread("a read does not match the message boundaries");
                Err(EIO)
            }
            r => r,
        }
    }

    fn misread(&self, what: &str) {
        if !self.misread.swap(true, Ordering::Relaxed) {
            pr_err!("smbdirect-rs: client: {}; ending the connection\n", what);
        }
        self.conn.shutdown();
    }

    /// Registers the next `iter.count()` bytes of `iter` for the server to
    /// RDMA-write (`writing`, an SMB2 READ) or RDMA-read (an SMB2 WRITE),
    /// as one region: cifs sends one buffer descriptor per I/O.
    pub fn register(
        this: &Arc<Self>,
        iter: &mut KernelIter<'_>,
        writing: bool,
    ) -> Result<(ClientRegistration, RemoteKey)> {
        let _in = this.gate.enter()?;
        let len = iter.count();
        let reg = this.conn.register_iter(iter, len, writing, MR_MS)?;
        let key = reg.descriptors().next();
        let (Some(key), 1) = (key, reg.descriptors().count()) else {
            pr_err_ratelimited!(
                "smbdirect-rs: client: an I/O of {} bytes needs more than one region of {} pages\n",
                len,
                this.max_frmr_depth
            );
            let _ = this.conn.deregister(reg, MR_MS);
            return Err(EINVAL);
        };
        Ok((
            ClientRegistration {
                client: this.clone(),
                reg: Some(reg),
            },
            key,
        ))
    }

    /// What cifs shows in DebugData.
    pub fn info(&self) -> ClientInfo {
        ClientInfo {
            params: self.conn.params(),
            max_frmr_depth: self.max_frmr_depth,
            rdma_depths: self.conn.rdma_depths(),
            connected: self.conn.error().is_none(),
            stats: Some(self.conn.stats()),
            receive_credit_max: self.config.receive_credit_max.into(),
            send_credit_target: self.config.send_credit_target.into(),
            keepalive_interval_ms: self.config.keepalive_interval_ms,
        }
    }
}

/// One registered I/O buffer, handed to cifs until its I/O is done; holds
/// its connection, which may have been destroyed meanwhile.
pub struct ClientRegistration {
    client: Arc<ClientConn>,
    reg: Option<Registration>,
}

impl ClientRegistration {
    /// Invalidates the region (unless the server's Send with Invalidate
    /// did) and returns it to the pool.
    pub fn deregister(mut self) -> Result {
        match self.reg.take() {
            Some(reg) => self.client.conn.deregister(reg, MR_MS),
            None => Ok(()),
        }
    }
}

impl Drop for ClientRegistration {
    fn drop(&mut self) {
        if let Some(reg) = self.reg.take() {
            let _ = self.client.conn.deregister(reg, MR_MS);
        }
    }
}
