// SPDX-License-Identifier: GPL-2.0

//! The SMB Direct server transport for ksmbd, on the shared connection.
//!
//! ksmbd keeps calling its transport entry points (`ksmbd_rdma_init`, the
//! per-connection `ksmbd_transport_ops`); the shim in
//! `shim/ksmbd/transport_rdma_shim.c` sends them here when ksmbd runs with
//! `rdma_impl=rust`, through `rust/kmod/server_ops.c` and `ffi.rs`.
//!
//! - [`Server`]: a listener on every local address whose device speaks
//!   RDMA (445 on InfiniBand and RoCE, 5445 on iWARP), one acceptor work
//!   item each; devices that come later get theirs when ib_core reports
//!   them, and a listener whose device goes ends with it.
//! - [`ServerConn`]: one accepted connection; the negotiation finishes on
//!   ksmbd's connection thread (`prepare`), then ksmbd reads the stream
//!   (length, then PDU), sends responses without copying, and moves READ
//!   and WRITE data with RDMA against the client's buffer descriptors.

pub mod ffi;

use ::core::net::{IpAddr, Ipv4Addr, SocketAddr};
use ::core::sync::atomic::{AtomicBool, Ordering};

use kernel::prelude::*;
use kernel::sync::{
    new_condvar, new_mutex, new_spinlock, Arc, ArcBorrow, CondVar, Mutex, SpinLock,
};
use kernel::workqueue::{self, impl_has_work, new_work, Work, WorkItem};

use crate::conn::{listen_smbd, CallGate, Connection, OutMessage, COPY_MAX};
use crate::ib::{errno, local_ipv4, DeviceListener, DeviceWatch, KernelIter, Listener, RemoteKey};
use crate::smbdirect::wire::DescriptorList;
use crate::smbdirect::Config;

/// How long a rescan after an address event waits for ib_core's GID table.
const ADDRESS_SETTLE_MS: u32 = 1_000;
/// Pending connect requests a listener holds.
const BACKLOG: u32 = 16;
/// How often an acceptor looks up from waiting, to notice a stop.
const ACCEPT_POLL_MS: u32 = 1_000;
/// Establishing an accepted connection waits this long at most.
const ACCEPT_MS: u32 = 20_000;
/// The client has this long to send its negotiate request ([MS-SMBD]
/// 3.1.5.1, as ksmbd).
const NEGOTIATE_MS: u32 = 120_000;
/// A read waits for a message this long before looking again.
const READ_POLL_MS: u32 = 5_000;
/// The rest of a message that has begun must come within this.
const READ_REST_MS: u32 = 60_000;
/// A send, or an RDMA transfer, waits this long at most.
const IO_MS: u32 = 60_000;
/// Span lists kept for reuse: ksmbd's workers send responses at once, each
/// with its own list, so that no sender waits for another's completion.
const SPARE_MESSAGES: usize = 16;
/// Buffer descriptors one request may carry. Windows sends 17 to 31 for
/// one I/O where ksmbd grants 9 read/write credits; each descriptor is
/// its own transfer, and transfers wait for credits, so many is fine.
const MAX_DESCRIPTORS: u32 = 256;

/// What ksmbd tells the transport when it starts.
pub struct ServerConfig {
    /// ksmbd-tools' "smbd max io size".
    pub max_read_write_size: u32,
}

/// Hands an accepted connection to ksmbd; an error refuses it.
pub trait Acceptor: Send + Sync + 'static {
    /// `conn` is established, its negotiation still to come.
    fn accepted(&self, conn: Arc<ServerConn>, peer: SocketAddr) -> Result;
}

/// Work items still running (acceptors, rescans), for [`Server::stop`].
struct Running {
    count: usize,
    stopping: bool,
}

/// One address's listener, or an empty slot a later one may take.
struct ListenSlot {
    ip: Ipv4Addr,
    task: Option<Arc<ListenTask>>,
}

/// What the listeners, acceptors and rescans share.
#[pin_data]
pub struct ServerCore {
    config: Config,
    acceptor: Arc<dyn Acceptor>,
    /// The addresses listened on, with their listeners. An ended
    /// listener leaves its slot empty, so forgetting it never allocates.
    #[pin]
    listeners: Mutex<KVec<ListenSlot>>,
    #[pin]
    running: Mutex<Running>,
    #[pin]
    idle: CondVar,
    #[pin]
    rescan: Work<ServerCore>,
    rescan_queued: AtomicBool,
    /// The next rescan follows an address event: let ib_core catch up.
    rescan_settle: AtomicBool,
}

impl_has_work! {
    impl HasWork<Self> for ServerCore { self.rescan }
}

impl WorkItem for ServerCore {
    type Pointer = Arc<ServerCore>;

    fn run(this: Arc<ServerCore>) {
        this.rescan_queued.store(false, Ordering::Release);
        if this.rescan_settle.swap(false, Ordering::AcqRel) {
            // An address is bindable on a RoCE device once ib_core has put
            // it in the GID table, from a work item of its own.
            crate::ib::sleep_ms(ADDRESS_SETTLE_MS);
        }
        ServerCore::rescan(this.as_arc_borrow());
        this.leave();
    }
}

impl DeviceListener for ServerCore {
    fn device_added(this: ArcBorrow<'_, Self>) {
        Self::queue_rescan(this);
    }

    fn address_added(this: ArcBorrow<'_, Self>) {
        this.rescan_settle.store(true, Ordering::Release);
        Self::queue_rescan(this);
    }
}

impl ServerCore {
    /// Counts a work item in; false once stopping.
    fn enter(&self) -> bool {
        let mut r = self.running.lock();
        if r.stopping {
            return false;
        }
        r.count += 1;
        true
    }

    fn leave(&self) {
        let mut r = self.running.lock();
        r.count -= 1;
        if r.count == 0 {
            self.idle.notify_all();
        }
    }

    fn queue_rescan(this: ArcBorrow<'_, Self>) {
        if this.rescan_queued.swap(true, Ordering::AcqRel) || !this.enter() {
            return;
        }
        let arc: Arc<Self> = this.into();
        if workqueue::system().enqueue(arc).is_err() {
            // Already queued: cannot happen with the flag, but balance it.
            this.leave();
        }
    }

    /// Listens on every local address not listened on yet whose device
    /// speaks RDMA; addresses without one are skipped quietly.
    fn rescan(this: ArcBorrow<'_, Self>) {
        let addrs = match local_ipv4() {
            Ok(a) => a,
            Err(e) => {
                pr_err!("smbdirect-rs: server: cannot list addresses: {:?}\n", e);
                return;
            }
        };
        for ip in addrs {
            if this
                .listeners
                .lock()
                .iter()
                .any(|s| s.ip == ip && s.task.is_some())
            {
                continue;
            }
            let Ok((listener, port)) = listen_smbd(IpAddr::V4(ip), BACKLOG) else {
                continue;
            };
            let task = match Arc::pin_init(
                pin_init!(ListenTask {
                    core: this.into(),
                    listener,
                    ip,
                    work <- new_work!("smbdrs_server_accept"),
                }),
                GFP_KERNEL,
            ) {
                Ok(t) => t,
                Err(e) => {
                    pr_err!("smbdirect-rs: server: no memory for a listener: {:?}\n", e);
                    continue;
                }
            };
            if !this.enter() {
                return;
            }
            let registered = {
                let mut l = this.listeners.lock();
                match l.iter_mut().find(|s| s.task.is_none()) {
                    Some(slot) => {
                        *slot = ListenSlot {
                            ip,
                            task: Some(task.clone()),
                        };
                        Ok(())
                    }
                    None => l.push(
                        ListenSlot {
                            ip,
                            task: Some(task.clone()),
                        },
                        GFP_KERNEL,
                    ),
                }
            };
            if registered.is_err() {
                this.leave();
                continue;
            }
            pr_info!("smbdirect-rs: server: listening on {}:{}\n", ip, port);
            if workqueue::system_long().enqueue(task).is_err() {
                this.leave();
            }
        }
    }

    /// Empties the slot of an ended listener; its last reference goes
    /// (destroying the rdma_cm id) after the lock is dropped.
    fn forget(&self, ip: Ipv4Addr) {
        let ended = {
            let mut l = self.listeners.lock();
            l.iter_mut()
                .find(|s| s.ip == ip && s.task.is_some())
                .and_then(|s| s.task.take())
        };
        drop(ended);
    }
}

/// One listener and the work item that accepts from it.
#[pin_data]
pub struct ListenTask {
    core: Arc<ServerCore>,
    listener: Listener,
    ip: Ipv4Addr,
    #[pin]
    work: Work<ListenTask>,
}

impl_has_work! {
    impl HasWork<Self> for ListenTask { self.work }
}

impl WorkItem for ListenTask {
    type Pointer = Arc<ListenTask>;

    fn run(this: Arc<ListenTask>) {
        this.accept_loop();
        this.core.forget(this.ip);
        this.core.leave();
    }
}

impl ListenTask {
    fn accept_loop(&self) {
        loop {
            let incoming = match self.listener.accept_next(ACCEPT_POLL_MS) {
                Ok(i) => i,
                Err(e) if e == errno(kernel::bindings::ETIMEDOUT) => continue,
                Err(e) if e == ENODEV => {
                    pr_info!(
                        "smbdirect-rs: server: the device of {} went away; its listener ends\n",
                        self.ip
                    );
                    return;
                }
                Err(e) if e == errno(kernel::bindings::ECANCELED) => return,
                Err(e) => {
                    pr_err_ratelimited!("smbdirect-rs: server: accept failed: {:?}\n", e);
                    continue;
                }
            };
            let conn = match Connection::accept_unnegotiated(incoming, self.core.config, ACCEPT_MS)
            {
                Ok(c) => c,
                Err(e) => {
                    pr_err_ratelimited!(
                        "smbdirect-rs: server: a connection could not be accepted: {:?}\n",
                        e
                    );
                    continue;
                }
            };
            let peer = conn
                .remote()
                .unwrap_or(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0));
            let conn = match ServerConn::new(conn) {
                Ok(c) => c,
                Err(e) => {
                    pr_err_ratelimited!("smbdirect-rs: server: no memory: {:?}\n", e);
                    continue;
                }
            };
            if let Err(e) = self.core.acceptor.accepted(conn.clone(), peer) {
                pr_err_ratelimited!(
                    "smbdirect-rs: server: ksmbd refused a connection from {}: {:?}\n",
                    peer,
                    e
                );
                ServerConn::destroy(conn);
            }
        }
    }
}

/// The transport while ksmbd runs: its listeners and their acceptors.
pub struct Server {
    core: Arc<ServerCore>,
    watch: Option<DeviceWatch<ServerCore>>,
}

impl Server {
    /// Starts listening on every RDMA device, and on those added later.
    pub fn start(config: &ServerConfig, acceptor: Arc<dyn Acceptor>) -> Result<Self> {
        let engine_config = Config {
            max_read_write_size: config.max_read_write_size,
            ..Config::default_server()
        };
        let core = Arc::pin_init(
            pin_init!(ServerCore {
                config: engine_config,
                acceptor,
                listeners <- new_mutex!(KVec::new(), "smbdrs_server_listeners"),
                running <- new_mutex!(Running { count: 0, stopping: false }, "smbdrs_server_running"),
                idle <- new_condvar!("smbdrs_server_idle"),
                rescan <- new_work!("smbdrs_server_rescan"),
                rescan_queued: AtomicBool::new(false),
                rescan_settle: AtomicBool::new(false),
            }),
            GFP_KERNEL,
        )?;
        // Reports every device present now, so the first scan happens here.
        let watch = DeviceWatch::new(core.clone())?;
        Ok(Self {
            core,
            watch: Some(watch),
        })
    }

    /// Stops listening: no new device is watched, every listener is
    /// cancelled, and this returns once no acceptor or scan runs.
    pub fn stop(mut self) {
        drop(self.watch.take());
        self.core.running.lock().stopping = true;
        let listeners = self.core.listeners.lock();
        for task in listeners.iter().filter_map(|s| s.task.as_ref()) {
            task.listener.cancel();
        }
        drop(listeners);
        let mut r = self.core.running.lock();
        while r.count > 0 {
            self.core.idle.wait(&mut r);
        }
    }
}

/// One SMB Direct connection ksmbd serves.
#[pin_data]
pub struct ServerConn {
    conn: Connection,
    /// Spare span lists for [`ServerConn::send`].
    #[pin]
    spare: SpinLock<[Option<OutMessage>; SPARE_MESSAGES]>,
    /// The calls inside, which destroy waits for.
    #[pin]
    gate: CallGate,
}

impl ServerConn {
    fn new(conn: Connection) -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(Self {
                conn,
                spare <- new_spinlock!([const { None }; SPARE_MESSAGES], "smbdrs_server_spare"),
                gate <- CallGate::new(),
            }),
            GFP_KERNEL,
        )
    }

    /// Waits for the client's negotiate request and answers it.
    pub fn negotiate(&self) -> Result {
        let _in = self.gate.enter()?;
        self.conn.wait_negotiated(NEGOTIATE_MS)
    }

    /// Fills `buf` from the received stream: a length at a message
    /// boundary, else the message's next bytes. Waits as long as it takes
    /// (ksmbd's loop has no timeout of its own), until the connection ends.
    pub fn read(&self, buf: &mut [u8]) -> Result<usize> {
        let _in = self.gate.enter()?;
        let mut done = 0;
        while done < buf.len() {
            let mut at = done;
            let r = self
                .conn
                .read_framed(buf.len() - done, READ_POLL_MS, READ_REST_MS, &mut |b| {
                    let to = buf.get_mut(at..at + b.len()).ok_or(EIO)?;
                    to.copy_from_slice(b);
                    at += b.len();
                    Ok(())
                });
            match r {
                Ok(n) => done += n,
                Err(e) if e == errno(kernel::bindings::ETIMEDOUT) && done == 0 => {}
                Err(e) if e == EINVAL => {
                    pr_err_ratelimited!(
                        "smbdirect-rs: server: a read does not match the message boundaries; ending the connection\n"
                    );
                    self.conn.abort();
                    return Err(EIO);
                }
                Err(e) => return Err(e),
            }
        }
        Ok(done)
    }

    /// Sends the bytes of `iter` as one message, the last fragment as a
    /// Send with Invalidate of `invalidate` if given. Up to a page is
    /// copied and queued ([`Connection::send_copy`]); longer responses go
    /// from ksmbd's pages, and this returns once they have left.
    ///
    /// Senders do not wait for each other: each takes a span list of its
    /// own (a spare one, or a new one), so many responses are in flight at
    /// once, as ksmbd's workers send them.
    ///
    /// A response that could not be sent ends the connection: ksmbd only
    /// logs the failure, and the client would wait for that response
    /// forever on a connection that otherwise works. Once disconnected it
    /// reconnects and replays what it still needs.
    pub fn send(&self, iter: &mut KernelIter<'_>, invalidate: Option<u32>) -> Result {
        let _in = self.gate.enter()?;
        let r = self.send_message(iter, invalidate);
        if let Err(e) = r {
            if self.conn.error().is_none() {
                pr_err_ratelimited!(
                    "smbdirect-rs: server: a response could not be sent ({}); ending the connection\n",
                    e.to_errno()
                );
                self.conn.abort();
            }
        }
        r
    }

    fn send_message(&self, iter: &mut KernelIter<'_>, invalidate: Option<u32>) -> Result {
        let len = iter.count();
        if (1..=COPY_MAX).contains(&len) {
            // Most responses: copied, and ksmbd's worker goes on at once.
            return self.conn.send_copy(len, invalidate, IO_MS, |page| {
                iter.copy_to_page(page, 0, len)
            });
        }
        let mut out = self
            .spare
            .lock()
            .iter_mut()
            .find_map(Option::take)
            .unwrap_or_default();
        let r = out.push_iter(iter, len).and_then(|()| match invalidate {
            Some(rkey) => self.conn.send_with_invalidate(&mut out, rkey, IO_MS),
            None => self.conn.send(&mut out, IO_MS),
        });
        out.clear();
        let mut spare = self.spare.lock();
        if let Some(free) = spare.iter_mut().find(|m| m.is_none()) {
            *free = Some(out);
        } else {
            drop(spare);
            drop(out);
        }
        r
    }

    /// RDMA-writes `buf` to (an SMB2 READ) or RDMA-reads it from (an SMB2
    /// WRITE) the client's buffers described by `desc`, as many
    /// descriptors as it takes to cover `buf`, the last one cut.
    pub fn rdma(&self, write: bool, buf: &mut [u8], desc: &[u8]) -> Result {
        let _in = self.gate.enter()?;
        let keys = parse_descriptors(desc, buf.len())?;
        if write {
            self.conn.rdma_write(buf, &keys, IO_MS)
        } else {
            self.conn.rdma_read(buf, &keys, IO_MS)
        }
    }

    /// Ends the connection without waiting (ksmbd's `shutdown`).
    pub fn abort(&self) {
        self.conn.abort();
    }

    /// Ends the connection, waits for the calls inside, frees it once the
    /// last reference goes.
    pub fn destroy(this: Arc<Self>) {
        this.gate.close();
        this.conn.shutdown();
        this.gate.wait_empty();
    }
}

/// The client's buffer descriptors ([MS-SMBD] 2.2.3.1) that cover `len`
/// bytes, validated by the engine, the last one cut to fit; `EINVAL` (said
/// once in a while) if they are malformed, too many or too short.
pub fn parse_descriptors(desc: &[u8], len: usize) -> Result<KVec<RemoteKey>> {
    let list = DescriptorList::parse(desc, len as u64, MAX_DESCRIPTORS).map_err(|e| {
        pr_err_ratelimited!("smbdirect-rs: server: buffer descriptors refused: {}\n", e);
        EINVAL
    })?;
    let mut keys = KVec::with_capacity(list.len(), GFP_KERNEL)?;
    for d in (0..list.len()).filter_map(|i| list.get(i)) {
        keys.push(
            RemoteKey {
                addr: d.offset,
                rkey: d.token,
                length: u64::from(d.length),
            },
            GFP_KERNEL,
        )?;
    }
    Ok(keys)
}
