// SPDX-License-Identifier: GPL-2.0

//! rdma_cm identifiers: address and route resolution, connect, listen,
//! accept, reject and disconnect, for both the active and the passive side.
//!
//! C header: [`include/rdma/rdma_cm.h`](srctree/include/rdma/rdma_cm.h).
//!
//! rdma_cm reports events through a callback on its own workqueues. The
//! callback here only records them in the identifier's [`CmShared`] state
//! and wakes waiters; callers wait for the event they need with a timeout.
//! Disconnection and device removal are also kept as sticky flags, so a
//! waiter never misses them even if the event ring overflows.

use core::net::SocketAddr;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, Ordering};

use kernel::bindings;
use kernel::error::to_result;
use kernel::ffi::{c_int, c_void};
use kernel::prelude::*;
use kernel::sync::{new_condvar, new_spinlock, Arc, ArcBorrow, CondVar, SpinLock, UniqueArc};
use kernel::time::msecs_to_jiffies;

use super::qp::QueuePair;
use super::{errno, ffi};

/// Events kept per identifier before the oldest are dropped.
const EVENT_RING: usize = 16;
/// Connect requests a listener holds before it refuses new ones.
const MAX_PENDING: usize = 8;
/// Bytes of private data kept from a connect request.
const MAX_PRIVATE: usize = 64;
/// The reason we give when refusing a connection: `IB_CM_REJ_CONSUMER_DEFINED`
/// of include/rdma/ib_cm.h (not in the bindings), as upstream's kernel
/// consumers do. iWARP ignores it.
const REJECT_CONSUMER_DEFINED: u8 = 28;

/// An event the connection manager reported on an identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmEvent {
    /// `rdma_resolve_addr` finished.
    AddrResolved,
    /// `rdma_resolve_addr` failed with this status.
    AddrError(i32),
    /// `rdma_resolve_route` finished.
    RouteResolved,
    /// `rdma_resolve_route` failed with this status.
    RouteError(i32),
    /// The connection is established.
    Established,
    /// Connecting failed with this status.
    ConnectError(i32),
    /// The peer is unreachable (status).
    Unreachable(i32),
    /// The peer rejected the connection (reject reason).
    Rejected(i32),
    /// The connection is gone.
    Disconnected,
    /// The RDMA device is going away; the owner must tear down.
    DeviceRemoval,
    /// The local address changed.
    AddrChange,
    /// The connection's time-wait state ended.
    TimewaitExit,
    /// Any other event, by its `rdma_cm_event_type` value.
    Other(u32),
}

impl CmEvent {
    fn from_raw(event: bindings::rdma_cm_event_type, status: c_int) -> Self {
        match event {
            bindings::rdma_cm_event_type_RDMA_CM_EVENT_ADDR_RESOLVED => Self::AddrResolved,
            bindings::rdma_cm_event_type_RDMA_CM_EVENT_ADDR_ERROR => Self::AddrError(status),
            bindings::rdma_cm_event_type_RDMA_CM_EVENT_ROUTE_RESOLVED => Self::RouteResolved,
            bindings::rdma_cm_event_type_RDMA_CM_EVENT_ROUTE_ERROR => Self::RouteError(status),
            bindings::rdma_cm_event_type_RDMA_CM_EVENT_ESTABLISHED => Self::Established,
            bindings::rdma_cm_event_type_RDMA_CM_EVENT_CONNECT_ERROR => Self::ConnectError(status),
            bindings::rdma_cm_event_type_RDMA_CM_EVENT_UNREACHABLE => Self::Unreachable(status),
            bindings::rdma_cm_event_type_RDMA_CM_EVENT_REJECTED => Self::Rejected(status),
            bindings::rdma_cm_event_type_RDMA_CM_EVENT_DISCONNECTED => Self::Disconnected,
            bindings::rdma_cm_event_type_RDMA_CM_EVENT_DEVICE_REMOVAL => Self::DeviceRemoval,
            bindings::rdma_cm_event_type_RDMA_CM_EVENT_ADDR_CHANGE => Self::AddrChange,
            bindings::rdma_cm_event_type_RDMA_CM_EVENT_TIMEWAIT_EXIT => Self::TimewaitExit,
            other => Self::Other(other),
        }
    }

    /// Whether this event ends any wait for progress on the identifier.
    fn is_fatal(self) -> bool {
        !matches!(
            self,
            Self::AddrResolved
                | Self::RouteResolved
                | Self::Established
                | Self::AddrChange
                | Self::Other(_)
        )
    }
}

/// Connection parameters for `rdma_connect` and `rdma_accept`.
#[derive(Clone, Copy, Debug)]
pub struct ConnParam {
    /// Outstanding RDMA reads and atomics we accept from the peer.
    pub responder_resources: u8,
    /// Outstanding RDMA reads and atomics we issue to the peer.
    pub initiator_depth: u8,
    /// Transport retries on timeout (0..=7).
    pub retry_count: u8,
    /// Retries on receiver-not-ready (0..=7, 7 is infinite).
    pub rnr_retry_count: u8,
    /// Private data sent with the request or the answer (iWARP peers
    /// exchange IRD/ORD in 8 bytes).
    pub private: Option<[u8; 8]>,
}

impl ConnParam {
    /// The C parameters; they point into `self`, which must outlive their
    /// use (rdma_cm copies the private data during the call).
    fn raw_param(&self) -> bindings::rdma_conn_param {
        let (private_data, private_data_len) = match &self.private {
            Some(p) => (p.as_ptr().cast::<c_void>(), p.len() as u8),
            None => (core::ptr::null(), 0),
        };
        bindings::rdma_conn_param {
            private_data,
            private_data_len,
            responder_resources: self.responder_resources,
            initiator_depth: self.initiator_depth,
            flow_control: 0,
            retry_count: self.retry_count,
            rnr_retry_count: self.rnr_retry_count,
            ..Default::default()
        }
    }
}

/// A connect request that the listener's event handler took over.
///
/// # Invariants
///
/// `id` is a valid child identifier whose `context` holds one reference to
/// `shared` (from [`Arc::into_raw`]); unless `claimed`, this value owns both
/// and dropping it rejects and destroys the child. [`Listener::accept_next`]
/// hands them to a [`CmId`] and sets `claimed`.
struct PendingRequest {
    claimed: bool,
    id: NonNull<bindings::rdma_cm_id>,
    shared: Arc<CmShared>,
    param: ConnParam,
    private: [u8; MAX_PRIVATE],
    private_len: u8,
}

// SAFETY: The child identifier is owned by this value alone; rdma_cm allows
// it to be used and destroyed from any process context.
unsafe impl Send for PendingRequest {}

impl Drop for PendingRequest {
    fn drop(&mut self) {
        if self.claimed {
            return;
        }
        let id = self.id.as_ptr();
        // SAFETY: By the type invariant `id` is valid and ours; rejecting an
        // unanswered request and destroying it is the documented way to
        // refuse it. Nothing else references the child any more.
        unsafe {
            bindings::rdma_reject(id, core::ptr::null(), 0, REJECT_CONSUMER_DEFINED);
            let ctx = (*id).context;
            bindings::rdma_destroy_id(id);
            // `rdma_destroy_id` waited for running handlers: drop the
            // reference the context held.
            drop(Arc::from_raw(ctx.cast::<CmShared>()));
        }
    }
}

/// Told of the events of an identifier as they happen, from rdma_cm's event
/// handler: it must not sleep for long, and must not destroy the identifier
/// (hand that to a work item).
pub trait CmWatcher: Send + Sync {
    /// `ev` happened on the watched identifier.
    fn cm_event(&self, ev: CmEvent);
}

struct CmState {
    watcher: Option<Arc<dyn CmWatcher>>,
    events: [Option<CmEvent>; EVENT_RING],
    head: usize,
    len: usize,
    lost: u32,
    disconnected: bool,
    device_removed: bool,
    /// A listener whose owner stopped accepting.
    cancelled: bool,
    pending: [Option<PendingRequest>; MAX_PENDING],
}

impl CmState {
    fn new() -> Self {
        Self {
            watcher: None,
            events: [None; EVENT_RING],
            head: 0,
            len: 0,
            lost: 0,
            disconnected: false,
            device_removed: false,
            cancelled: false,
            pending: [const { None }; MAX_PENDING],
        }
    }

    fn push(&mut self, ev: CmEvent) {
        match ev {
            CmEvent::Disconnected => self.disconnected = true,
            CmEvent::DeviceRemoval => self.device_removed = true,
            _ => {}
        }
        if self.len == EVENT_RING {
            self.head = (self.head + 1) % EVENT_RING;
            self.len -= 1;
            self.lost = self.lost.saturating_add(1);
        }
        self.events[(self.head + self.len) % EVENT_RING] = Some(ev);
        self.len += 1;
    }

    fn pop(&mut self) -> Option<CmEvent> {
        if self.len == 0 {
            return None;
        }
        let ev = self.events[self.head].take();
        self.head = (self.head + 1) % EVENT_RING;
        self.len -= 1;
        ev
    }
}

/// The state an identifier shares with its event handler.
#[pin_data]
pub(crate) struct CmShared {
    #[pin]
    state: SpinLock<CmState>,
    #[pin]
    cond: CondVar,
}

impl CmShared {
    fn new() -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(Self {
                state <- new_spinlock!(CmState::new(), "smbdrs_cm_state"),
                cond <- new_condvar!("smbdrs_cm_cond"),
            }),
            GFP_KERNEL,
        )
    }

    fn record(&self, ev: CmEvent) {
        let mut state = self.state.lock();
        state.push(ev);
        let watcher = state.watcher.clone();
        drop(state);
        self.cond.notify_all();
        // Outside the lock: the watcher may call back into the identifier.
        if let Some(w) = watcher {
            w.cm_event(ev);
        }
    }
}

/// The event handler of every identifier we create.
///
/// # Safety
///
/// Called by rdma_cm only, with valid `id` and `event`, and with
/// `id->context` set by this module to a live [`CmShared`] reference.
unsafe extern "C" fn cm_handler(
    id: *mut bindings::rdma_cm_id,
    event: *mut bindings::rdma_cm_event,
) -> c_int {
    // SAFETY: rdma_cm passes an event valid for the duration of the call.
    let (kind, status) = unsafe { ((*event).event, (*event).status) };
    // SAFETY: The context of every identifier we create (and of the children
    // of our listeners, which inherit it) holds a reference from
    // `Arc::into_raw`, released only after `rdma_destroy_id` has returned,
    // which waits for this handler to finish.
    let shared = unsafe { ArcBorrow::from_raw((*id).context.cast::<CmShared>()) };

    if kind == bindings::rdma_cm_event_type_RDMA_CM_EVENT_CONNECT_REQUEST {
        // SAFETY: `id` is the new child and `event` describes it; see above.
        return unsafe { on_connect_request(shared, id, event) };
    }
    shared.record(CmEvent::from_raw(kind, status));
    0
}

/// Takes over a connect request: gives the child identifier its own state
/// and queues it on the listener. A non-zero return makes rdma_cm destroy
/// the child, which is how a full queue or no memory refuses it.
///
/// # Safety
///
/// `child` and `event` are the arguments of a CONNECT_REQUEST callback, and
/// `child->context` is still the listener's.
unsafe fn on_connect_request(
    listener: ArcBorrow<'_, CmShared>,
    child: *mut bindings::rdma_cm_id,
    event: *mut bindings::rdma_cm_event,
) -> c_int {
    let Ok(shared) = CmShared::new() else {
        return -(bindings::ENOMEM as c_int);
    };
    // SAFETY: For a CONNECT_REQUEST on a connected (RC) port space the
    // `conn` member of the parameter union is the valid one.
    let conn = unsafe { (*event).param.conn };
    let mut private = [0u8; MAX_PRIVATE];
    let private_len = usize::from(conn.private_data_len).min(MAX_PRIVATE);
    if !conn.private_data.is_null() && private_len > 0 {
        // SAFETY: rdma_cm guarantees `private_data_len` readable bytes at
        // `private_data` during the callback; we copy at most that many.
        let src =
            unsafe { core::slice::from_raw_parts(conn.private_data.cast::<u8>(), private_len) };
        private[..private_len].copy_from_slice(src);
    }

    let mut state = listener.state.lock();
    let Some(slot) = state.pending.iter_mut().find(|p| p.is_none()) else {
        return -(bindings::ENOMEM as c_int);
    };
    let ctx = Arc::into_raw(shared.clone());
    // SAFETY: rdma_cm holds the child's handler mutex during this callback,
    // so no other handler call reads `context` concurrently; from now on the
    // child's events find their own state.
    unsafe { (*child).context = ctx.cast_mut().cast::<c_void>() };
    *slot = Some(PendingRequest {
        claimed: false,
        // SAFETY: rdma_cm never passes a null identifier.
        id: unsafe { NonNull::new_unchecked(child) },
        shared,
        param: ConnParam {
            responder_resources: conn.responder_resources,
            initiator_depth: conn.initiator_depth,
            retry_count: conn.retry_count,
            rnr_retry_count: conn.rnr_retry_count,
            private: None,
        },
        private,
        private_len: private_len as u8,
    });
    drop(state);
    listener.cond.notify_all();
    0
}

/// The owner of one `rdma_cm_id`.
///
/// # Invariants
///
/// `id` is valid until `drop`; its `context` holds one reference to `shared`
/// that `drop` releases after `rdma_destroy_id`.
pub(crate) struct CmIdInner {
    id: NonNull<bindings::rdma_cm_id>,
    shared: Arc<CmShared>,
    has_qp: AtomicBool,
}

// SAFETY: rdma_cm identifiers may be used from any process context; the
// shared state is protected by its lock.
unsafe impl Send for CmIdInner {}
// SAFETY: Through `&CmIdInner` the identifier is passed to exported rdma_cm
// functions, which check and change its state under rdma_cm's own locks
// (`cma_comp_exch` on the state, the handler mutex); its fields are only
// read, once each (`device`, `port_num`), or set before it is shared
// (`context`). The queue pair slot is claimed atomically.
unsafe impl Sync for CmIdInner {}

impl CmIdInner {
    pub(crate) fn as_ptr(&self) -> *mut bindings::rdma_cm_id {
        self.id.as_ptr()
    }

    /// The device the identifier is bound to, once an address is resolved or
    /// bound.
    pub(crate) fn device(&self) -> Result<*mut bindings::ib_device> {
        // SAFETY: `id` is valid by the type invariant. rdma_cm sets `device`
        // while binding, possibly on its own workqueue: read it once.
        let dev = unsafe { core::ptr::read_volatile(core::ptr::addr_of!((*self.as_ptr()).device)) };
        if dev.is_null() {
            return Err(ENODEV);
        }
        Ok(dev)
    }

    pub(crate) fn port_num(&self) -> u32 {
        // SAFETY: `id` is valid by the type invariant; read once, as for
        // `device`.
        unsafe { core::ptr::read_volatile(core::ptr::addr_of!((*self.as_ptr()).port_num)) }
    }

    /// Claims the identifier's single queue pair slot.
    pub(crate) fn claim_qp(&self) -> Result {
        if self.has_qp.swap(true, Ordering::AcqRel) {
            return Err(EBUSY);
        }
        Ok(())
    }

    pub(crate) fn release_qp(&self) {
        self.has_qp.store(false, Ordering::Release);
    }
}

impl Drop for CmIdInner {
    fn drop(&mut self) {
        let id = self.as_ptr();
        // SAFETY: By the type invariant `id` is valid and owned by us. Every
        // object made on it (queue pair, PD, CQ) holds a reference to this
        // value, so they are all gone already.
        unsafe {
            let ctx = (*id).context;
            bindings::rdma_destroy_id(id);
            // No handler runs any more: release the context's reference.
            drop(Arc::from_raw(ctx.cast::<CmShared>()));
        }
    }
}

/// An rdma_cm identifier for a reliable connection (RDMA_PS_TCP, RC).
///
/// Owns the `rdma_cm_id`; destroys it when the last object made on it (a
/// [`super::Pd`], [`super::Cq`] or [`QueuePair`]) is gone.
#[derive(Clone)]
pub struct CmId {
    pub(crate) inner: Arc<CmIdInner>,
}

impl CmId {
    /// Creates an identifier in the initial network namespace.
    pub fn new() -> Result<Self> {
        let shared = CmShared::new()?;
        let slot = UniqueArc::<CmIdInner>::new_uninit(GFP_KERNEL)?;
        let ctx = Arc::into_raw(shared.clone());
        // SAFETY: `init_net` is a static valid for the kernel's lifetime;
        // `cm_handler` matches the handler type and `ctx` is a live reference
        // handed over to the identifier.
        let id = unsafe {
            bindings::__rdma_create_kernel_id(
                core::ptr::addr_of_mut!(bindings::init_net),
                Some(cm_handler),
                ctx.cast_mut().cast::<c_void>(),
                bindings::rdma_ucm_port_space_RDMA_PS_TCP,
                bindings::ib_qp_type_IB_QPT_RC,
                super::OWNER.as_char_ptr(),
            )
        };
        let id = match kernel::error::from_err_ptr(id) {
            Ok(id) => id,
            Err(e) => {
                // SAFETY: Creation failed, so the reference is still ours.
                drop(unsafe { Arc::from_raw(ctx) });
                return Err(e);
            }
        };
        let inner = slot.write(CmIdInner {
            // SAFETY: `from_err_ptr` returned a valid, non-null pointer.
            id: unsafe { NonNull::new_unchecked(id) },
            shared,
            has_qp: AtomicBool::new(false),
        });
        Ok(Self {
            inner: inner.into(),
        })
    }

    /// Takes over the child identifier of `req`: from here on the new value
    /// owns it and `req`'s drop leaves it alone.
    fn from_pending(req: &mut PendingRequest) -> Result<Self> {
        // Allocated before the request is claimed: on failure the request
        // still owns the child and rejects and destroys it, once.
        let slot = UniqueArc::<CmIdInner>::new_uninit(GFP_KERNEL)?;
        req.claimed = true;
        let inner = slot.write(CmIdInner {
            id: req.id,
            shared: req.shared.clone(),
            has_qp: AtomicBool::new(false),
        });
        Ok(Self {
            inner: inner.into(),
        })
    }

    fn shared(&self) -> &CmShared {
        &self.inner.shared
    }

    /// Waits up to `timeout_ms` for the next event.
    pub fn next_event(&self, timeout_ms: u32) -> Result<CmEvent> {
        let shared = self.shared();
        let mut state = shared.state.lock();
        let mut left = msecs_to_jiffies(timeout_ms);
        loop {
            if let Some(ev) = state.pop() {
                return Ok(ev);
            }
            if state.device_removed {
                return Ok(CmEvent::DeviceRemoval);
            }
            match shared.cond.wait_interruptible_timeout(&mut state, left) {
                kernel::sync::CondVarTimeoutResult::Timeout => {
                    return Err(errno(bindings::ETIMEDOUT))
                }
                kernel::sync::CondVarTimeoutResult::Signal { .. } => return Err(ERESTARTSYS),
                kernel::sync::CondVarTimeoutResult::Woken { jiffies } => left = jiffies,
            }
        }
    }

    /// Waits for `want`; any fatal event or a timeout is an error.
    pub fn wait_for(&self, want: CmEvent, timeout_ms: u32) -> Result {
        loop {
            let ev = self.next_event(timeout_ms)?;
            if ev == want {
                return Ok(());
            }
            if ev.is_fatal() {
                // An address no RDMA device owns is the caller's to judge
                // (a server probes every local address); say the rest.
                if !matches!(ev, CmEvent::AddrError(_)) {
                    pr_warn_ratelimited!("rdma_cm: waiting for {:?}, got {:?}\n", want, ev);
                }
                return Err(match ev {
                    CmEvent::Rejected(_) => errno(bindings::ECONNREFUSED),
                    CmEvent::Unreachable(_) | CmEvent::AddrError(_) | CmEvent::RouteError(_) => {
                        errno(bindings::EHOSTUNREACH)
                    }
                    _ => errno(bindings::ECONNRESET),
                });
            }
        }
    }

    /// Tells `watcher` of every event from now on (replacing any earlier
    /// watcher), and at once of a disconnection or device removal that
    /// already happened. The identifier holds the reference until
    /// [`CmId::unwatch`] or its destruction.
    pub fn watch(&self, watcher: Arc<dyn CmWatcher>) {
        let mut state = self.shared().state.lock();
        let missed = if state.device_removed {
            Some(CmEvent::DeviceRemoval)
        } else if state.disconnected {
            Some(CmEvent::Disconnected)
        } else {
            None
        };
        state.watcher = Some(watcher.clone());
        drop(state);
        if let Some(ev) = missed {
            watcher.cm_event(ev);
        }
    }

    /// Stops telling the watcher of events and drops its reference.
    pub fn unwatch(&self) {
        let old = self.shared().state.lock().watcher.take();
        drop(old);
    }

    /// Whether the peer disconnected or the device went away.
    pub fn is_disconnected(&self) -> bool {
        let state = self.shared().state.lock();
        state.disconnected || state.device_removed
    }

    /// Resolves `dst` to a device and a route, waiting up to `timeout_ms`
    /// for each step.
    pub fn resolve(&self, dst: impl Into<SocketAddr>, timeout_ms: u32) -> Result {
        let mut addr = RawSockAddr::new(dst.into());
        // SAFETY: `id` is valid; `addr` is a valid IPv4 or IPv6 socket
        // address that rdma_cm copies before returning.
        to_result(unsafe {
            bindings::rdma_resolve_addr(
                self.inner.as_ptr(),
                core::ptr::null_mut(),
                addr.as_mut_ptr(),
                timeout_ms as kernel::ffi::c_ulong,
            )
        })?;
        self.wait_for(CmEvent::AddrResolved, timeout_ms.saturating_add(1000))?;
        // SAFETY: `id` is valid and its address is resolved.
        to_result(unsafe {
            bindings::rdma_resolve_route(self.inner.as_ptr(), timeout_ms as kernel::ffi::c_ulong)
        })?;
        self.wait_for(CmEvent::RouteResolved, timeout_ms.saturating_add(1000))
    }

    /// Starts connecting the queue pair made on this identifier (after
    /// [`CmId::resolve`]); wait for [`CmEvent::Established`] with
    /// [`CmId::wait_for`].
    pub fn connect<H: super::WorkHandler>(&self, qp: &QueuePair<H>, param: ConnParam) -> Result {
        if !Arc::ptr_eq(&qp.core().id, &self.inner) {
            return Err(EINVAL);
        }
        let mut raw = param.raw_param();
        // SAFETY: `id` is valid with a queue pair; `raw` (and the private
        // data in `param` it points to) is copied during the call.
        to_result(unsafe { bindings::rdma_connect(self.inner.as_ptr(), &mut raw) })
    }

    /// Starts a graceful disconnect; the peer sees DISCONNECTED.
    pub fn disconnect(&self) {
        // SAFETY: `id` is valid; disconnecting an unconnected id is an error
        // return, not a problem.
        unsafe { bindings::rdma_disconnect(self.inner.as_ptr()) };
    }

    /// Whether the identifier's device speaks iWARP (port 5445 for SMB
    /// Direct) rather than InfiniBand or RoCE (port 445).
    pub fn is_iwarp(&self) -> Result<bool> {
        let dev = self.inner.device()?;
        // SAFETY: `dev` is the identifier's device, valid while it is bound.
        Ok(unsafe { ffi::smbdrs_rdma_protocol_iwarp(dev, self.inner.port_num()) })
    }

    /// The address of the other end: the destination resolved, or the
    /// requester of an accepted connection.
    pub fn remote_addr(&self) -> Result<SocketAddr> {
        // SAFETY: The id is valid; rdma_cm filled `route.addr.dst_addr` (a
        // `sockaddr_storage`) when it resolved or received the request,
        // and only rdma_cm calls made through `self` change it.
        let sa = unsafe { core::ptr::addr_of_mut!((*self.inner.as_ptr()).route.addr.dst_addr) };
        let sa = NonNull::new(sa.cast::<bindings::sockaddr>()).ok_or(EINVAL)?;
        // SAFETY: A `sockaddr_storage` holds any address its family says.
        unsafe { socket_addr_from_raw(sa) }
    }

    /// The device's name, copied (a rename may rewrite it at any time), for
    /// log messages.
    pub fn device_name(&self) -> Result<DeviceName> {
        let dev = self.inner.device()?;
        let mut name = DeviceName {
            bytes: [0; DEVICE_NAME_MAX],
            len: 0,
        };
        for (i, b) in name.bytes.iter_mut().enumerate() {
            // SAFETY: `dev` is valid while the identifier is bound to it;
            // `name` is an array of `DEVICE_NAME_MAX` bytes. Each byte is read
            // once: a concurrent rename can only mix two names.
            let c = unsafe {
                core::ptr::read_volatile(core::ptr::addr_of!((*dev).name).cast::<u8>().add(i))
            };
            if c == 0 {
                break;
            }
            *b = c;
            name.len = i + 1;
        }
        Ok(name)
    }
}

/// A listening identifier.
pub struct Listener {
    id: CmId,
}

impl Listener {
    /// Binds to `addr` and listens with room for `backlog` requests.
    pub fn bind(addr: impl Into<SocketAddr>, backlog: u32) -> Result<Self> {
        let id = CmId::new()?;
        let mut sa = RawSockAddr::new(addr.into());
        // SAFETY: `id` is valid; `sa` is a valid IPv4 or IPv6 socket address
        // copied by rdma_cm.
        to_result(unsafe { bindings::rdma_bind_addr(id.inner.as_ptr(), sa.as_mut_ptr()) })?;
        let backlog = c_int::try_from(backlog).map_err(|_| EINVAL)?;
        // SAFETY: `id` is valid and bound.
        to_result(unsafe { bindings::rdma_listen(id.inner.as_ptr(), backlog) })?;
        Ok(Self { id })
    }

    /// The listening identifier.
    pub fn id(&self) -> &CmId {
        &self.id
    }

    /// Makes every present and future [`Listener::accept_next`] fail with
    /// `ECANCELED`, so a thread waiting for a request can be stopped.
    pub fn cancel(&self) {
        let shared = self.id.shared();
        shared.state.lock().cancelled = true;
        shared.cond.notify_all();
    }

    /// Waits up to `timeout_ms` for a connect request.
    pub fn accept_next(&self, timeout_ms: u32) -> Result<Incoming> {
        let shared = self.id.shared();
        let mut state = shared.state.lock();
        let mut left = msecs_to_jiffies(timeout_ms);
        let mut req = loop {
            if let Some(req) = state.pending.iter_mut().find_map(|p| p.take()) {
                break req;
            }
            if state.device_removed {
                return Err(ENODEV);
            }
            if state.cancelled {
                return Err(errno(bindings::ECANCELED));
            }
            match shared.cond.wait_interruptible_timeout(&mut state, left) {
                kernel::sync::CondVarTimeoutResult::Timeout => {
                    return Err(errno(bindings::ETIMEDOUT))
                }
                kernel::sync::CondVarTimeoutResult::Signal { .. } => return Err(ERESTARTSYS),
                kernel::sync::CondVarTimeoutResult::Woken { jiffies } => left = jiffies,
            }
        };
        drop(state);
        // On failure `req` drops here, which rejects and destroys the child.
        let id = CmId::from_pending(&mut req)?;
        let param = req.param;
        let private = req.private;
        let private_len = req.private_len;
        // The child now belongs to `id`; the request only drops its own
        // reference to the shared state.
        drop(req);
        Ok(Incoming {
            id: Some(id),
            param,
            private,
            private_len,
        })
    }
}

/// A connect request taken from a [`Listener`]: make a queue pair on
/// [`Incoming::id`], then accept it, or drop it to reject.
pub struct Incoming {
    id: Option<CmId>,
    /// What the peer asked for.
    pub param: ConnParam,
    private: [u8; MAX_PRIVATE],
    private_len: u8,
}

impl Incoming {
    /// The new connection's identifier, bound to the device the request
    /// came in on.
    pub fn id(&self) -> Result<&CmId> {
        self.id.as_ref().ok_or(EINVAL)
    }

    /// The private data the peer sent with its request.
    pub fn private_data(&self) -> &[u8] {
        &self.private[..usize::from(self.private_len)]
    }

    /// Accepts with `qp` (made on [`Incoming::id`]) and waits up to
    /// `timeout_ms` for the connection to be established.
    pub fn accept<H: super::WorkHandler>(
        self,
        qp: &QueuePair<H>,
        param: ConnParam,
        timeout_ms: u32,
    ) -> Result<CmId> {
        let id = self.accept_start(qp, param)?;
        id.wait_for(CmEvent::Established, timeout_ms)?;
        Ok(id)
    }

    /// Accepts with `qp` (made on [`Incoming::id`]) without waiting: wait
    /// for [`CmEvent::Established`] on the returned identifier.
    pub fn accept_start<H: super::WorkHandler>(
        mut self,
        qp: &QueuePair<H>,
        param: ConnParam,
    ) -> Result<CmId> {
        let id = self.id.take().ok_or(EINVAL)?;
        if !Arc::ptr_eq(&qp.core().id, &id.inner) {
            self.id = Some(id);
            return Err(EINVAL);
        }
        let mut raw = param.raw_param();
        let ptr = id.inner.as_ptr();
        // SAFETY: `ptr` is valid with a queue pair; rdma_accept must be
        // called with the handler mutex held, which `rdma_lock_handler`
        // takes.
        let ret = unsafe {
            bindings::rdma_lock_handler(ptr);
            let ret = bindings::rdma_accept(ptr, &mut raw);
            bindings::rdma_unlock_handler(ptr);
            ret
        };
        // A failed `rdma_accept` has already rejected the request and moved
        // the queue pair to the error state: nothing more to answer.
        to_result(ret)?;
        Ok(id)
    }
}

impl Drop for Incoming {
    fn drop(&mut self) {
        if let Some(id) = &self.id {
            // SAFETY: The identifier is valid; a request dropped without an
            // answer is refused.
            unsafe {
                bindings::rdma_reject(
                    id.inner.as_ptr(),
                    core::ptr::null(),
                    0,
                    REJECT_CONSUMER_DEFINED,
                )
            };
        }
    }
}

/// Bytes of an `ib_device` name (`IB_DEVICE_NAME_MAX`).
const DEVICE_NAME_MAX: usize = 64;

/// A copy of a device's name.
pub struct DeviceName {
    bytes: [u8; DEVICE_NAME_MAX],
    len: usize,
}

impl DeviceName {
    /// The name's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or(&[])
    }
}

impl core::fmt::Display for DeviceName {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for &b in self.as_bytes() {
            let c = if b.is_ascii_graphic() { b as char } else { '?' };
            core::fmt::Write::write_char(f, c)?;
        }
        Ok(())
    }
}

/// A socket address in the C layout rdma_cm takes.
enum RawSockAddr {
    V4(bindings::sockaddr_in),
    V6(bindings::sockaddr_in6),
}

impl RawSockAddr {
    fn new(addr: SocketAddr) -> Self {
        match addr {
            SocketAddr::V4(a) => Self::V4(bindings::sockaddr_in {
                sin_family: bindings::AF_INET as bindings::__kernel_sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: bindings::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                ..Default::default()
            }),
            SocketAddr::V6(a) => {
                let mut sa = bindings::sockaddr_in6 {
                    sin6_family: bindings::AF_INET6 as u16,
                    sin6_port: a.port().to_be(),
                    sin6_flowinfo: a.flowinfo().to_be(),
                    sin6_scope_id: a.scope_id(),
                    ..Default::default()
                };
                sa.sin6_addr.in6_u.u6_addr8 = a.ip().octets();
                Self::V6(sa)
            }
        }
    }

    fn as_mut_ptr(&mut self) -> *mut bindings::sockaddr {
        match self {
            Self::V4(sa) => core::ptr::from_mut(sa).cast(),
            Self::V6(sa) => core::ptr::from_mut(sa).cast(),
        }
    }
}

/// Reads the IPv4 or IPv6 socket address C hands over at `sa`;
/// `EAFNOSUPPORT` for any other family.
///
/// # Safety
///
/// `sa` points to a valid socket address, as long as its family says
/// (`sockaddr_in` or `sockaddr_in6`; cifs passes a `sockaddr_storage`).
pub unsafe fn socket_addr_from_raw(sa: NonNull<bindings::sockaddr>) -> Result<SocketAddr> {
    use core::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
    // SAFETY: Every socket address starts with its family.
    let family = u32::from(unsafe { (*sa.as_ptr()).sa_family });
    match family {
        bindings::AF_INET => {
            // SAFETY: The family says it is a `sockaddr_in`, valid by the
            // function's contract.
            let a = unsafe { &*sa.as_ptr().cast::<bindings::sockaddr_in>() };
            let ip = Ipv4Addr::from(a.sin_addr.s_addr.to_ne_bytes());
            Ok(SocketAddr::V4(SocketAddrV4::new(
                ip,
                u16::from_be(a.sin_port),
            )))
        }
        bindings::AF_INET6 => {
            // SAFETY: The family says it is a `sockaddr_in6`, valid by the
            // function's contract.
            let a = unsafe { &*sa.as_ptr().cast::<bindings::sockaddr_in6>() };
            // SAFETY: Every member of the address union is 16 plain bytes.
            let ip = Ipv6Addr::from(unsafe { a.sin6_addr.in6_u.u6_addr8 });
            Ok(SocketAddr::V6(SocketAddrV6::new(
                ip,
                u16::from_be(a.sin6_port),
                u32::from_be(a.sin6_flowinfo),
                a.sin6_scope_id,
            )))
        }
        _ => Err(errno(bindings::EAFNOSUPPORT)),
    }
}

/// Calls `f` with `addr` as a C socket address, valid for the call.
pub fn with_raw_sockaddr<R>(addr: SocketAddr, f: impl FnOnce(*const bindings::sockaddr) -> R) -> R {
    let mut raw = RawSockAddr::new(addr);
    f(raw.as_mut_ptr().cast_const())
}
