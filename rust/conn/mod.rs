// SPDX-License-Identifier: GPL-2.0

//! The shared SMB Direct connection: one object, over the engine and the ib
//! layer, that the cifs and ksmbd transports both use.
//!
//! A [`Connection`] is made actively ([`Connection::connect`]) or from a
//! connect request taken off a [`Listener`](crate::ib::Listener)
//! ([`Connection::accept`]); either way it returns once MS-SMBD negotiation
//! is done. Then any number of threads may [`Connection::send`] upper-layer
//! messages at once: each message is a list of page spans ([`OutMessage`])
//! that are DMA-mapped where they lie, never copied, with the MS-SMBD
//! headers taken from a preallocated pool. One reader at a time takes whole
//! messages with [`Connection::recv`], copied out of receive buffers that
//! are posted again at once (a fixed pool, never reallocated).
//!
//! The connection ends when its owner calls [`Connection::shutdown`] or
//! drops it, when the peer disconnects, when the engine finds a protocol
//! error, a work request fails, or the device goes away: every waiter then
//! gets the error, and a work item disconnects, drains the queue pair and
//! frees every resource. See `core.rs` for the locking and completion model
//! and `Documentation/connection.md` for the whole picture.
//!
//! The RDMA channel (`rdma.rs`): [`Connection::register`] registers a
//! caller's pages for the peer from a pool of fast-registration regions,
//! [`Connection::rdma_read`] and [`Connection::rdma_write`] move a caller's
//! pages against the peer's buffer descriptors.
//!
//! The engine's keepalive, idle and negotiation deadlines run on a timer
//! (delayed work) re-armed after every input.
//!
//! Sends and receives do not allocate: work request contexts come from the
//! queue pair's pool, headers and receive buffers from the connection's.

mod core;
mod gate;
mod rdma;
mod read;
mod send;
mod state;

use ::core::net::{IpAddr, SocketAddr};

use kernel::prelude::*;
use kernel::sync::Arc;

use self::core::{ConnCore, Resources, Watch};
use self::state::{Phase, SpanList, State};
use crate::ib::{
    errno, spans_from_slice, CmEvent, CmId, ConnParam, Cq, CqPoll, DmaBuf, DmaDir, FastRegMr,
    Incoming, KernelIter, Listener, NoIoScope, PageSpan, Pd, QueuePair, QueuePairCaps, SpanSink,
    Timer, MAX_PAYLOAD_SPANS, PAGE_SIZE,
};
use crate::smbdirect::engine::MAX_HEADER_LEN;
use crate::smbdirect::rdma::negotiate_ird_ord;
use crate::smbdirect::{
    port_for, Config, Consumer, DeviceCaps, Engine, Instant, IrdOrd, NegotiatedParams, Role, Stats,
    TransportKind,
};

pub use self::gate::{CallGate, Inside};
pub use self::rdma::Registration;
pub use self::send::COPY_MAX;
pub use self::state::ConnCounters;

/// Whether the legacy iWARP private data was reported yet (once a load).
static LEGACY_IWARP_SAID: ::core::sync::atomic::AtomicBool =
    ::core::sync::atomic::AtomicBool::new(false);

/// Messages that may be queued for sending at once, across all senders.
const MESSAGE_SLOTS: usize = 32;
/// RDMA reads a connection issues or serves at once, at most.
const MAX_IRD_ORD: u32 = 16;
/// Fast-registration regions per connection: twice the RDMA reads the peer
/// may have in flight against us, as upstream's client sizes its pool, so
/// that I/Os queue at the server rather than wait for a region here.
const MR_POOL: usize = 2 * MAX_IRD_ORD as usize;

/// A snapshot of a connection's counters, for logs and debug files.
#[derive(Clone, Copy, Debug)]
pub struct ConnStats {
    /// The engine's credits, queues and counters.
    pub engine: Stats,
    /// The connection layer's counters.
    pub conn: ConnCounters,
    /// Receive buffers not posted.
    pub free_receives: usize,
    /// Header buffers not in flight.
    pub free_headers: usize,
    /// Delivered fragments not yet read.
    pub unread_fragments: usize,
    /// Work request contexts allocated on the data path because the
    /// preallocated ones ran out (0 when the pools are sized right).
    pub context_misses: u64,
}

/// One upper-layer message to send: page spans, in order.
///
/// The span list is lent to the connection for the duration of
/// [`Connection::send`] and handed back, so a caller that reuses one
/// `OutMessage` allocates only when it needs more spans than ever before.
#[derive(Default)]
pub struct OutMessage {
    spans: SpanList,
    len: u32,
}

impl OutMessage {
    /// An empty message.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a span.
    pub fn push(&mut self, span: PageSpan) -> Result {
        let len = self
            .len
            .checked_add(span.len())
            .ok_or(errno(kernel::bindings::EMSGSIZE))?;
        self.spans.push(span)?;
        self.len = len;
        Ok(())
    }

    /// Appends `bytes` of kernel memory (kmalloc'd or vmalloc'd), referenced
    /// where they lie, not copied: they must stay unchanged until the send
    /// returns. On an error the message holds part of them: clear it.
    pub fn push_bytes(&mut self, bytes: &[u8]) -> Result {
        let _noio = NoIoScope::enter();
        spans_from_slice(bytes, self)?;
        Ok(())
    }

    /// Appends the next `len` bytes of `iter`, referenced where they lie,
    /// not copied (see [`OutMessage::push_bytes`]); advances `iter`.
    pub fn push_iter(&mut self, iter: &mut KernelIter<'_>, len: usize) -> Result {
        let _noio = NoIoScope::enter();
        iter.take_spans(len, self)?;
        Ok(())
    }

    /// Drops every span, keeping the list's memory.
    pub fn clear(&mut self) {
        self.spans.clear();
        self.len = 0;
    }

    /// The message's length in bytes.
    pub fn len(&self) -> u32 {
        self.len
    }

    /// Whether the message has no bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl SpanSink for OutMessage {
    fn push_span(&mut self, span: PageSpan) -> Result {
        self.push(span)
    }
}

/// An SMB Direct connection (see the module documentation).
pub struct Connection {
    core: Arc<ConnCore>,
    /// The address connected to (active side only).
    peer: Option<SocketAddr>,
    /// The other end's address, as rdma_cm saw it.
    remote: Option<SocketAddr>,
    /// RDMA reads in flight the peer may target at us, and we at it
    /// (IRD, ORD), as agreed by rdma_cm.
    rdma_depths: (u8, u8),
}

/// A new engine, in the heap. The engine is over 3 KiB: built in
/// `establish`'s frame, with the copies moving it takes, it overflowed the
/// 16 KiB stack of a mount on a kernel without KASAN (which doubles the
/// stack). Its own frame here is gone before `establish` goes deeper.
#[inline(never)]
fn boxed_engine(role: Role, config: Config) -> Result<KBox<Engine>> {
    let slot = KBox::new_uninit(GFP_KERNEL)?;
    match Engine::new(role, config, Instant::from_millis(0)) {
        Ok(engine) => Ok(KBox::write(slot, engine)),
        Err(e) => {
            pr_err!("smbdirect-rs: configuration refused: {:?}\n", e);
            Err(EINVAL)
        }
    }
}

/// The SMB Direct port of a device: 5445 on iWARP, 445 on InfiniBand and
/// RoCE ([MS-SMB2] 2.1); mixing them up is an upstream interoperability bug.
fn smbd_port(iwarp: bool) -> u16 {
    port_for(if iwarp {
        TransportKind::Iwarp
    } else {
        TransportKind::InfinibandOrRoce
    })
}

/// Listens for SMB Direct on `ip` the way ksmbd does: on 5445 if the device
/// that owns `ip` speaks iWARP, on 445 otherwise. The device is found by
/// resolving the address first: an iWARP listener on 445 would collide with
/// SMB over TCP, whose port iWARP shares. Returns the listener and its port.
pub fn listen_smbd(ip: IpAddr, backlog: u32) -> Result<(Listener, u16)> {
    let iwarp = {
        let probe = CmId::new()?;
        probe.resolve(SocketAddr::new(ip, smbd_port(false)), 2_000)?;
        probe.is_iwarp()?
    };
    let port = smbd_port(iwarp);
    Ok((Listener::bind(SocketAddr::new(ip, port), backlog)?, port))
}

impl Connection {
    /// Connects to `dst`, negotiates as the client, and returns once
    /// messages may flow; each step waits at most `timeout_ms`.
    pub fn connect(dst: SocketAddr, config: Config, timeout_ms: u32) -> Result<Self> {
        let id = CmId::new()?;
        id.resolve(dst, timeout_ms)?;
        let mut conn = Self::establish(id, None, Role::Client, config, timeout_ms)?;
        conn.peer = Some(dst);
        Ok(conn)
    }

    /// Connects to the SMB Direct server at `ip`: on the port of the
    /// device's transport (5445 on iWARP, 445 on InfiniBand and RoCE), then,
    /// if refused there, on the other one, as upstream's client falls back.
    pub fn connect_smbd(ip: IpAddr, config: Config, timeout_ms: u32) -> Result<Self> {
        let iwarp = {
            let probe = CmId::new()?;
            probe.resolve(SocketAddr::new(ip, smbd_port(false)), timeout_ms)?;
            probe.is_iwarp()?
        };
        let refused = |e: Error| {
            e == errno(kernel::bindings::ECONNREFUSED) || e == errno(kernel::bindings::ECONNRESET)
        };
        match Self::connect(SocketAddr::new(ip, smbd_port(iwarp)), config, timeout_ms) {
            Err(e) if refused(e) => {
                Self::connect(SocketAddr::new(ip, smbd_port(!iwarp)), config, timeout_ms)
            }
            r => r,
        }
    }

    /// The address connected to (the active side's).
    pub fn peer(&self) -> Option<SocketAddr> {
        self.peer
    }

    /// Accepts `incoming`, negotiates as the server, and returns once
    /// messages may flow; each step waits at most `timeout_ms`.
    pub fn accept(incoming: Incoming, config: Config, timeout_ms: u32) -> Result<Self> {
        let conn = Self::accept_unnegotiated(incoming, config, timeout_ms)?;
        conn.wait_negotiated(timeout_ms)?;
        Ok(conn)
    }

    /// Accepts `incoming` like [`Connection::accept`] but returns once
    /// rdma_cm established it, before the client's negotiate request: a
    /// server's acceptor hands the rest ([`Connection::wait_negotiated`])
    /// to the connection's own thread, so that a slow client holds up no
    /// other.
    pub fn accept_unnegotiated(
        incoming: Incoming,
        config: Config,
        timeout_ms: u32,
    ) -> Result<Self> {
        let id = incoming.id()?.clone();
        Self::establish(id, Some(incoming), Role::Server, config, timeout_ms)
    }

    fn establish(
        id: CmId,
        incoming: Option<Incoming>,
        role: Role,
        config: Config,
        timeout_ms: u32,
    ) -> Result<Self> {
        let pd = Pd::new(&id)?;
        let lim = pd.limits();
        let dev = DeviceCaps {
            max_qp_wr: lim.max_qp_wr,
            max_cqe: lim.max_cqe,
            max_send_sge: lim.max_send_sge,
            max_recv_sge: lim.max_recv_sge,
            max_fast_reg_page_list_len: lim.max_fast_reg_page_list_len,
            page_size: PAGE_SIZE as u32,
        };
        // Receive buffers are copied out and reposted as the reader goes.
        let wanted = Config {
            consumer: Consumer::Streaming,
            ..config
        };
        let config = wanted.fit_device(&dev).map_err(|e| {
            pr_err!(
                "smbdirect-rs: configuration does not fit the device: {:?}\n",
                e
            );
            EINVAL
        })?;
        let payload_spans = (lim.max_send_sge.saturating_sub(1) as usize).min(MAX_PAYLOAD_SPANS);
        if payload_spans == 0 {
            pr_err!("smbdirect-rs: the device offers one send SGE; two are needed\n");
            return Err(EINVAL);
        }
        let engine = boxed_engine(role, config)?;
        let send_wr = u32::from(config.send_queue_depth);
        let recv_wr = u32::from(config.receive_credit_max);
        let rdma_ctxs = u32::from(config.rdma_credit_max);
        // Pages of one region: the device's page list, or the largest I/O.
        let mr_pages = lim
            .max_fast_reg_page_list_len
            .min(config.max_read_write_size / PAGE_SIZE as u32 + 1) as usize;
        // Sends, one REG_MR or LOCAL_INV per region, and what rdma_rw adds
        // per context (at most four work requests: registration, the
        // transfer, invalidation, signature), each queue with one more for
        // the drain, all on one CQ.
        let sq = send_wr + MR_POOL as u32;
        let cq = Cq::new(
            &id,
            sq + 4 * rdma_ctxs + recv_wr + 2,
            CqPoll::for_connections(),
        )?;
        let mut state = State::new(
            engine,
            MESSAGE_SLOTS,
            recv_wr as usize,
            send_wr as usize,
            MR_POOL,
            mr_pages,
            MR_POOL + rdma_ctxs as usize,
        )?;
        for _ in 0..recv_wr {
            let buf = DmaBuf::new(&pd, config.max_receive_size as usize, DmaDir::FromDevice)?;
            state.free_recvs.push(buf).map_err(|_| ENOMEM)?;
        }
        for _ in 0..send_wr {
            let buf = DmaBuf::new(&pd, MAX_HEADER_LEN, DmaDir::ToDevice)?;
            state.free_headers.push(buf).map_err(|_| ENOMEM)?;
        }
        if mr_pages > 0 {
            for _ in 0..MR_POOL {
                let mr = FastRegMr::new(&pd, mr_pages as u32)?;
                state.free_mrs.push(mr).map_err(|_| ENOMEM)?;
            }
        }
        // IRD/ORD: what the device offers, bounded; the passive side takes
        // no more than the active side offers. rdma_cm reports a request's
        // values from the receiver's side: its `initiator_depth` is the
        // requester's responder resources (the reads we may issue), its
        // `responder_resources` the requester's initiator depth. A client
        // that never reads (cifs asks initiator depth 0) still gets one
        // responder resource, as ksmbd gives.
        //
        // Over iWARP both sides also put IRD/ORD in the private data, for
        // legacy (MPA v1) peers that cannot negotiate them otherwise: a
        // request whose data disagrees with its parameters is taken at
        // its data's word, and answered in kind (as ksmbd does).
        let iwarp = id.is_iwarp().unwrap_or(false);
        let mut ird = lim.max_qp_rd_atom.min(MAX_IRD_ORD) as u8;
        let mut ord = lim.max_qp_init_rd_atom.min(MAX_IRD_ORD) as u8;
        let mut answer_private = false;
        if let Some(inc) = &incoming {
            let reported = IrdOrd {
                ird: inc.param.initiator_depth,
                ord: inc.param.responder_resources,
            };
            let legacy = if iwarp {
                IrdOrd::from_iwarp_private(inc.private_data(), reported)
            } else {
                None
            };
            if let Some(l) = legacy {
                if !LEGACY_IWARP_SAID.swap(true, ::core::sync::atomic::Ordering::Relaxed) {
                    pr_info!(
                        "smbdirect-rs: an iWARP peer sent legacy IRD/ORD private data (ird {}, ord {}); answering in kind (said once)\n",
                        l.ird,
                        l.ord
                    );
                }
            }
            let peer = legacy.unwrap_or(reported);
            answer_private = legacy.is_some();
            let peer = IrdOrd {
                ord: peer.ord.max(1),
                ..peer
            };
            IrdOrd { ird, ord } = negotiate_ird_ord(peer, ird, ord);
        }
        let private = if (incoming.is_none() && iwarp) || answer_private {
            Some(IrdOrd { ird, ord }.to_iwarp_private())
        } else {
            None
        };
        state.engine.set_rdma_ord(ord);
        let core = ConnCore::new(state, payload_spans)?;
        let caps = QueuePairCaps {
            max_send_wr: sq,
            max_recv_wr: recv_wr,
            max_send_sge: payload_spans as u32 + 1,
            max_recv_sge: 1,
            max_rdma_ctxs: rdma_ctxs,
        };
        let qp = QueuePair::new(&id, &pd, &cq, caps, core.clone())?;
        let watch = Arc::new(Watch(core.clone()), GFP_KERNEL)?;
        let param = ConnParam {
            responder_resources: ird,
            initiator_depth: ord,
            retry_count: 6,
            rnr_retry_count: 7,
            private,
        };
        let timer = Timer::new(core.clone())?;
        *core.res.lock() = Some(Resources {
            timer,
            qp,
            cq,
            pd,
            id: id.clone(),
        });
        // From here on, dropping `conn` tears everything down.
        let conn = Connection {
            core,
            peer: None,
            remote: id.remote_addr().ok(),
            rdma_depths: (ird, ord),
        };
        id.watch(watch);
        let core = conn.core.as_arc_borrow();
        // Receives first: the peer may send as soon as it is established.
        ConnCore::pump(core);
        {
            let res = core.res.lock();
            let r = res.as_ref().ok_or(errno(kernel::bindings::ENOTCONN))?;
            match incoming {
                None => r.id.connect(&r.qp, param)?,
                Some(incoming) => {
                    incoming.accept_start(&r.qp, param)?;
                }
            }
        }
        id.wait_for(CmEvent::Established, timeout_ms)?;
        core.state.lock().established = true;
        ConnCore::pump(core);
        if role == Role::Client {
            conn.wait_negotiated(timeout_ms)?;
        }
        Ok(conn)
    }

    /// Waits at most `timeout_ms` for MS-SMBD negotiation to finish.
    pub fn wait_negotiated(&self, timeout_ms: u32) -> Result {
        let core = &self.core;
        let mut left = ConnCore::jiffies(timeout_ms);
        let mut st = core.state.lock();
        loop {
            match st.phase {
                Phase::Connected => return Ok(()),
                Phase::Broken(e) => return Err(e),
                Phase::Connecting => {}
            }
            if !ConnCore::wait(&core.readable, &mut st, &mut left)? {
                pr_err!("smbdirect-rs: SMB Direct negotiation timed out\n");
                return Err(errno(kernel::bindings::ETIMEDOUT));
            }
        }
    }

    /// The other end's address, as rdma_cm saw it.
    pub fn remote(&self) -> Option<SocketAddr> {
        self.remote
    }

    /// RDMA reads in flight the peer may target at us and we at it
    /// (responder resources and initiator depth).
    pub fn rdma_depths(&self) -> (u8, u8) {
        self.rdma_depths
    }

    /// The negotiated parameters.
    pub fn params(&self) -> Option<NegotiatedParams> {
        self.core.state.lock().params
    }

    /// A snapshot of the connection's counters. Takes only a spinlock, so
    /// it may be called in atomic context (cifs's DebugData holds one).
    pub fn stats(&self) -> ConnStats {
        let st = self.core.state.lock();
        let context_misses = st.counters.context_misses;
        ConnStats {
            engine: st.engine.stats(),
            conn: st.counters,
            free_receives: st.free_recvs.len(),
            free_headers: st.free_headers.len(),
            unread_fragments: st.ready.len(),
            context_misses,
        }
    }

    /// The error the connection ended with, if it did.
    pub fn error(&self) -> Option<Error> {
        self.core.state.lock().broken()
    }

    /// Waits at most `timeout_ms` for the connection to end (the peer
    /// disconnecting, an error, a shutdown); the error it ended with.
    pub fn wait_ended(&self, timeout_ms: u32) -> Option<Error> {
        let core = &self.core;
        let mut left = ConnCore::jiffies(timeout_ms);
        let mut st = core.state.lock();
        loop {
            if let Some(e) = st.broken() {
                return Some(e);
            }
            if !matches!(ConnCore::wait(&core.readable, &mut st, &mut left), Ok(true)) {
                return None;
            }
        }
    }

    /// Ends the connection without waiting: every waiter wakes with
    /// `ESHUTDOWN` and a work item disconnects and frees the resources.
    /// For callers that may not sleep long (ksmbd's `shutdown`).
    pub fn abort(&self) {
        let core = self.core.as_arc_borrow();
        let mut st = core.state.lock();
        ConnCore::fail(core, &mut st, errno(kernel::bindings::ESHUTDOWN));
    }

    /// Ends the connection: disconnects, waits for every work request in
    /// flight and frees every resource. Senders and readers get `ESHUTDOWN`
    /// (or the error the connection had already ended with).
    pub fn shutdown(&self) {
        {
            let mut st = self.core.state.lock();
            let now = self.core.now();
            st.engine.close(now);
        }
        self.core.teardown_now();
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.core.teardown_now();
    }
}
