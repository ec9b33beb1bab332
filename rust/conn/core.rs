// SPDX-License-Identifier: GPL-2.0

//! The shared core of a connection: the engine under a spinlock, the
//! posting path under a mutex, the completion handler and the teardown.
//!
//! # Locking and completion model
//!
//! - Completions run in softirq (`IB_POLL_SOFTIRQ`, as upstream's client
//!   polls), so a completion wakes the thread waiting for it with no work
//!   item in between; the `cq_workqueue` module parameter moves them to
//!   ib_core's workqueue instead. Either way the handler only updates the
//!   state and wakes waiters; posting what a completion makes due (reposts,
//!   sends it gave credits to) takes the mutex below, so from softirq it is
//!   left to a work item (`pump_work`).
//! - `state` (spinlock, taken with softirqs off) guards the engine, the
//!   message slots, the delivered fragments and the buffer pools. It is
//!   held only for engine calls and list updates, never across a post or a
//!   wait.
//! - `res` (mutex) owns the queue pair and the rest of the RDMA resources.
//!   Holding it is what allows posting, so fragments reach the send queue in
//!   the order the engine produced them even with many senders. It is held
//!   for one pass of [`ConnCore::pump`], never across a wait for credits or
//!   completions. Lock order: `res`, then `state`.
//! - Waiters sleep with the state lock, with a timeout, on one of three
//!   queues by what they wait for: `readable` (delivered messages, the
//!   negotiation, the end), `sendable` (message slots, queue room, sent
//!   messages) and `ops` (operation slots and completions, memory regions,
//!   RDMA credits). A completion wakes only the queue it concerns: under
//!   load a receive does not wake every sender, nor a send the reader.
//!   Anything that ends the connection wakes all three.
//! - Teardown takes the resources out of `res` and drops them with no lock
//!   held: the drain runs the completion handler, which takes both locks.

use core::sync::atomic::{AtomicBool, Ordering};

use kernel::prelude::*;
use kernel::sync::{new_condvar, new_mutex, Arc, ArcBorrow, CondVar, CondVarTimeoutResult, Mutex};
use kernel::time::{ktime_ms_delta, msecs_to_jiffies, Ktime};
use kernel::workqueue::{impl_has_work, new_work, Work, WorkItem};

use super::read::ReadCursor;
use super::state::{Phase, State, StateGuard};
use crate::ib::{
    errno, in_task, new_spinlock_bh, pump_queue, CmEvent, CmId, CmWatcher, Cq, Done, Pd, QueuePair,
    SendPayload, SpinLockBh, Timer, TimerHandler, WorkHandler, WorkKind,
};
use crate::smbdirect::{DisconnectReason, Event, Instant, RecvOutcome, SendToken};

/// What a work request of a connection is, for its completion.
pub(super) enum Tag {
    Recv,
    Send(SendToken),
    /// An operation a caller waits for, by its slot.
    Op(u16),
}

/// The RDMA resources of a connection, in the order they are dropped.
pub(super) struct Resources {
    /// The engine's timers; stopped before anything else goes.
    pub(super) timer: Timer<ConnCore>,
    pub(super) qp: QueuePair<ConnCore>,
    pub(super) cq: Cq,
    pub(super) pd: Pd,
    pub(super) id: CmId,
}

/// The shared core of one connection (see the module documentation).
#[pin_data]
pub(super) struct ConnCore {
    #[pin]
    pub(super) state: SpinLockBh<State>,
    #[pin]
    pub(super) readable: CondVar,
    #[pin]
    pub(super) sendable: CondVar,
    #[pin]
    pub(super) ops: CondVar,
    #[pin]
    pub(super) res: Mutex<Option<Resources>>,
    /// One reader at a time, and where it is in the message it reads.
    #[pin]
    pub(super) reader: Mutex<ReadCursor>,
    #[pin]
    teardown: Work<ConnCore>,
    /// Runs the pump for a completion handled in softirq.
    #[pin]
    pump_work: Work<ConnCore, PUMP_WORK>,
    /// Held for a whole teardown, so that a second caller returns only
    /// once everything is freed.
    #[pin]
    teardown_lock: Mutex<()>,
    teardown_queued: AtomicBool,
    epoch: Ktime,
    /// Payload spans one send may carry (device SGEs minus the header's).
    pub(super) payload_spans: usize,
}

/// The work item identifier of [`ConnCore`]'s `pump_work`.
const PUMP_WORK: u64 = 1;

impl_has_work! {
    impl HasWork<Self> for ConnCore { self.teardown }
    impl HasWork<Self, PUMP_WORK> for ConnCore { self.pump_work }
}

impl WorkItem for ConnCore {
    type Pointer = Arc<ConnCore>;

    fn run(this: Arc<ConnCore>) {
        this.teardown_now();
    }
}

impl WorkItem<PUMP_WORK> for ConnCore {
    type Pointer = Arc<ConnCore>;

    fn run(this: Arc<ConnCore>) {
        Self::pump(this.as_arc_borrow());
    }
}

impl ConnCore {
    pub(super) fn new(state: State, payload_spans: usize) -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(Self {
                state <- new_spinlock_bh!(state, "smbdrs_conn_state"),
                readable <- new_condvar!("smbdrs_conn_readable"),
                sendable <- new_condvar!("smbdrs_conn_sendable"),
                ops <- new_condvar!("smbdrs_conn_ops"),
                res <- new_mutex!(None, "smbdrs_conn_res"),
                reader <- new_mutex!(ReadCursor::default(), "smbdrs_conn_reader"),
                teardown <- new_work!("smbdrs_conn_teardown"),
                pump_work <- new_work!("smbdrs_conn_pump"),
                teardown_lock <- new_mutex!((), "smbdrs_conn_teardown_lock"),
                teardown_queued: AtomicBool::new(false),
                epoch: Ktime::ktime_get(),
                payload_spans,
            }),
            GFP_KERNEL,
        )
    }

    /// The engine's clock: milliseconds since the connection was made.
    pub(super) fn now(&self) -> Instant {
        let ms = ktime_ms_delta(Ktime::ktime_get(), self.epoch);
        Instant::from_millis(u64::try_from(ms).unwrap_or(0))
    }

    /// Ends the connection with `err` (the first error is kept), wakes every
    /// waiter and schedules the teardown.
    pub(super) fn fail(this: ArcBorrow<'_, Self>, st: &mut State, err: Error) {
        if st.broken().is_none() {
            st.phase = Phase::Broken(err);
            let now = this.now();
            st.engine.on_disconnected(now);
        }
        this.wake_all();
        Self::schedule_teardown(this);
    }

    fn schedule_teardown(this: ArcBorrow<'_, Self>) {
        if this.teardown_queued.swap(true, Ordering::AcqRel) {
            return;
        }
        let _ =
            crate::ib::teardown_queue().enqueue::<Arc<ConnCore>, 0>(Arc::<ConnCore>::from(this));
    }

    /// Acts on the engine's events: wakes senders and connect waiters,
    /// ends the connection on a disconnect.
    pub(super) fn handle_events(this: ArcBorrow<'_, Self>, st: &mut State) {
        let mut sent = false;
        while let Some(ev) = st.engine.poll_event() {
            match ev {
                Event::Connected(p) => {
                    st.params = Some(p);
                    if st.phase == Phase::Connecting {
                        st.phase = Phase::Connected;
                    }
                    this.wake_all();
                }
                Event::MessageSent(id) => {
                    st.message_sent(id);
                    sent = true;
                }
                Event::Disconnect(reason) => {
                    pr_warn_ratelimited_reason(reason);
                    Self::fail(this, st, disconnect_error(reason));
                }
            }
        }
        if sent {
            this.sendable.notify_all();
        }
    }

    /// Wakes every waiter, whatever it waits for.
    pub(super) fn wake_all(&self) {
        self.readable.notify_all();
        self.sendable.notify_all();
        self.ops.notify_all();
    }

    /// Posts what the engine wants posted, in its order: owed reposts and
    /// new receives, then sends while there are header buffers and credits.
    pub(super) fn pump(this: ArcBorrow<'_, Self>) {
        let res = this.res.lock();
        let Some(r) = res.as_ref() else {
            return;
        };
        Self::pump_receives(this, r);
        Self::pump_sends(this, r);
        // Re-arm for the engine's next deadline (keepalive, idle timeout,
        // negotiation timeout).
        let now = this.now();
        let deadline = {
            let mut st = this.state.lock();
            // Copied here so that `stats` needs no sleeping lock.
            st.counters.context_misses = r.qp.context_misses();
            match st.engine.poll_timeout().map(|t| t.as_millis()) {
                Some(t) if st.timer_at.map_or(true, |armed| t < armed) => {
                    st.timer_at = Some(t);
                    Some(t)
                }
                _ => None,
            }
        };
        if let Some(t) = deadline {
            r.timer.arm(t.saturating_sub(now.as_millis()).max(1));
        }
    }

    fn pump_receives(this: ArcBorrow<'_, Self>, r: &Resources) {
        loop {
            let mut st = this.state.lock();
            if st.broken().is_some() {
                return;
            }
            let owed = st.reposts_owed;
            let asked = if owed > 0 {
                st.reposts_owed = 0;
                owed
            } else {
                match st.engine.poll_receives() {
                    Some(n) => n,
                    None => return,
                }
            };
            let mut posted: u16 = 0;
            let mut err = None;
            while posted < asked {
                let Some(buf) = st.free_recvs.pop() else {
                    err = Some(errno(kernel::bindings::ENOBUFS));
                    break;
                };
                drop(st);
                let r2 = r.qp.post_recv(buf, Tag::Recv);
                st = this.state.lock();
                match r2 {
                    Ok(()) => posted += 1,
                    Err((e, buf, _)) => {
                        if let Some(buf) = buf {
                            let _ = st.free_recvs.push(buf);
                        }
                        st.counters.post_errors += 1;
                        err = Some(e);
                        break;
                    }
                }
            }
            let now = this.now();
            if posted > 0 {
                if owed > 0 {
                    st.counters.receives_recycled += u64::from(posted);
                }
                let _ = st.engine.on_receives_posted(now, posted);
            }
            if let Some(e) = err {
                st.engine.on_receive_post_failed(now, asked - posted);
                pr_err_ratelimited!("smbdirect-rs: posting a receive failed: {:?}\n", e);
                Self::fail(this, &mut st, e);
                return;
            }
            Self::handle_events(this, &mut st);
        }
    }

    fn pump_sends(this: ArcBorrow<'_, Self>, r: &Resources) {
        loop {
            let mut st = this.state.lock();
            if !st.established || st.broken().is_some() {
                return;
            }
            let Some(mut header) = st.free_headers.pop() else {
                return;
            };
            // How much of the next message one send can map from where it
            // stands (the header takes one SGE).
            let max = match st.engine.next_fragment() {
                Some(f) => match st.slot_of(f.message) {
                    Some(slot) => slot.reach(f.offset, this.payload_spans),
                    None => 0,
                },
                None => u32::MAX,
            };
            let Some(t) = st.engine.poll_transmit(max) else {
                let _ = st.free_headers.push(header);
                Self::handle_events(this, &mut st);
                return;
            };
            let mut payload = SendPayload::new();
            if let Some(id) = t.message.filter(|_| t.payload_len > 0) {
                let taken = st
                    .slot_of(id)
                    .map(|slot| slot.payload_at(t.payload_offset, t.payload_len, &mut payload))
                    .unwrap_or(0);
                if taken != t.payload_len {
                    // The engine and the slot disagree: a bug, not a wire
                    // error; end the connection rather than send garbage.
                    pr_err_ratelimited!(
                        "smbdirect-rs: fragment of {} bytes found {} in its message\n",
                        t.payload_len,
                        taken
                    );
                    let now = this.now();
                    st.engine.on_send_failed(now, t.token);
                    let _ = st.free_headers.push(header);
                    Self::fail(this, &mut st, EINVAL);
                    return;
                }
                st.counters.payload_spans_mapped += payload.spans() as u64;
            }
            let hdr = t.header();
            header.write(|b| b[..hdr.len()].copy_from_slice(hdr));
            let hdr_len = hdr.len() as u32;
            drop(st);
            let posted =
                r.qp.post_send_gather(header, hdr_len, payload, t.invalidate, Tag::Send(t.token));
            if let Err((e, header, _)) = posted {
                let mut st = this.state.lock();
                if let Some(h) = header {
                    let _ = st.free_headers.push(h);
                }
                st.counters.post_errors += 1;
                let now = this.now();
                st.engine.on_send_failed(now, t.token);
                pr_err_ratelimited!("smbdirect-rs: posting a send failed: {:?}\n", e);
                Self::fail(this, &mut st, e);
                return;
            }
        }
    }

    /// Handles one completed receive.
    fn received(this: ArcBorrow<'_, Self>, st: &mut State, done: Done<Tag>) {
        let ok = done.is_ok();
        if let Some(rkey) = done.invalidated_rkey {
            if !st.note_remote_invalidation(rkey) {
                pr_warn_ratelimited!(
                    "smbdirect-rs: the peer invalidated a key we did not register ({:#x})\n",
                    rkey
                );
            }
        }
        let Some(mut buf) = done.buf else {
            return;
        };
        if !ok {
            st.counters.completion_errors += 1;
            let _ = st.free_recvs.push(buf);
            let now = this.now();
            st.engine.on_recv_failed(now);
            if st.broken().is_none() && !crate::ib::wc_flushed(done.status) {
                // The usual cause: the peer sent a message past the receive
                // length it agreed to, which no receive buffer holds.
                pr_err_ratelimited!(
                    "smbdirect-rs: a receive failed ({}); a message longer than the agreed receive length ({} bytes) does this; ending the connection\n",
                    crate::ib::wc_status_msg(done.status),
                    st.params.map_or(0, |p| p.max_receive_size)
                );
            }
            if st.broken().is_none() {
                Self::fail(this, st, crate::ib::wc_error(done.status));
            }
            return;
        }
        let now = this.now();
        let len = done.byte_len as usize;
        let outcome = buf.read(|b| st.engine.on_recv(now, b.get(..len).unwrap_or(&[])));
        match outcome {
            Ok(RecvOutcome::Repost) => {
                let _ = st.free_recvs.push(buf);
                st.reposts_owed = st.reposts_owed.saturating_add(1);
            }
            Ok(RecvOutcome::Deliver(d)) => {
                if let Err((buf, _)) = st.ready.push((buf, d)) {
                    // Cannot happen: the ring holds every receive buffer.
                    let _ = st.free_recvs.push(buf);
                    Self::fail(this, st, errno(kernel::bindings::ENOBUFS));
                }
                this.readable.notify_all();
            }
            Ok(RecvOutcome::Release) => {
                let _ = st.free_recvs.push(buf);
            }
            Err(e) => {
                let _ = st.free_recvs.push(buf);
                pr_err_ratelimited!("smbdirect-rs: message from the peer refused: {}\n", e);
            }
        }
    }

    /// Handles one completed send.
    fn sent(this: ArcBorrow<'_, Self>, st: &mut State, done: Done<Tag>, token: SendToken) {
        let ok = done.is_ok();
        if let Some(h) = done.buf {
            let _ = st.free_headers.push(h);
        }
        let now = this.now();
        if ok {
            let _ = st.engine.on_send_complete(now, token);
        } else {
            st.counters.completion_errors += 1;
            st.engine.on_send_failed(now, token);
            if st.broken().is_none() && !crate::ib::wc_flushed(done.status) {
                pr_err_ratelimited!(
                    "smbdirect-rs: a send failed ({}); ending the connection\n",
                    crate::ib::wc_status_msg(done.status)
                );
            }
            if st.broken().is_none() {
                Self::fail(this, st, crate::ib::wc_error(done.status));
            }
        }
    }

    /// Tears the connection down: disconnects, drains and frees every RDMA
    /// resource and pooled buffer. Callers waiting on the connection get
    /// its error; in-flight work requests complete (flushed) first.
    pub(super) fn teardown_now(&self) {
        let _serial = self.teardown_lock.lock();
        let res = self.res.lock().take();
        {
            let mut st = self.state.lock();
            if st.broken().is_none() {
                st.phase = Phase::Broken(errno(kernel::bindings::ESHUTDOWN));
                let now = self.now();
                st.engine.on_disconnected(now);
            }
        }
        self.wake_all();
        let Some(r) = res else {
            // Already torn down (the lock serialises teardowns), or never
            // set up: nothing is posted.
            self.state.lock().drained = true;
            self.wake_all();
            return;
        };
        r.timer.stop();
        r.id.unwatch();
        r.id.disconnect();
        let Resources {
            timer,
            qp,
            cq,
            pd,
            id,
        } = r;
        drop(timer);
        // Drains: every completion runs (and gives its buffer back) before
        // this returns.
        drop(qp);
        self.state.lock().drained = true;
        self.wake_all();
        // The pooled buffers hold the protection domain: free them before
        // the identifier goes.
        let (recvs, headers, ready, partial, mrs) = {
            let mut st = self.state.lock();
            (
                st.free_recvs.take_all(),
                st.free_headers.take_all(),
                st.ready.take_all(),
                st.partial.take(),
                st.free_mrs.take_all(),
            )
        };
        drop(mrs);
        drop(recvs);
        drop(headers);
        drop(ready);
        drop(partial);
        drop(cq);
        drop(pd);
        drop(id);
    }

    /// Waits on `queue` (one of this connection's) for at most `left`
    /// jiffies; `Err` on a signal, `Ok(false)` on timeout.
    pub(super) fn wait(
        queue: &CondVar,
        st: &mut StateGuard<'_>,
        left: &mut kernel::time::Jiffies,
    ) -> Result<bool> {
        match queue.wait_interruptible_timeout(st, *left) {
            CondVarTimeoutResult::Timeout => Ok(false),
            CondVarTimeoutResult::Signal { .. } => Err(ERESTARTSYS),
            CondVarTimeoutResult::Woken { jiffies } => {
                *left = jiffies;
                Ok(true)
            }
        }
    }

    /// Waits, however long it takes, until the teardown has drained the
    /// queue pair (it is queued whenever the connection breaks). A caller
    /// whose work request may still be posted must not return before: it
    /// frees the memory the request reads or writes once it returns, and a
    /// page reference does not keep slab memory (ksmbd's response
    /// buffers, cifs's request headers).
    pub(super) fn wait_drained(queue: &CondVar, st: &mut StateGuard<'_>) {
        while !st.drained {
            queue.wait(st);
        }
    }

    /// Jiffies of `ms` milliseconds, for [`ConnCore::wait`].
    pub(super) fn jiffies(ms: u32) -> kernel::time::Jiffies {
        msecs_to_jiffies(ms)
    }
}

impl TimerHandler for ConnCore {
    fn fire(this: ArcBorrow<'_, Self>) {
        {
            let mut st = this.state.lock();
            // Fired: the next pump arms for whatever deadline is next.
            st.timer_at = None;
            let now = this.now();
            st.engine.on_timeout(now);
            Self::handle_events(this, &mut st);
        }
        // Sends a keepalive if one is due, and re-arms.
        Self::pump(this);
    }
}

impl WorkHandler for ConnCore {
    type Tag = Tag;

    fn complete(this: ArcBorrow<'_, Self>, done: Done<Tag>) {
        let task = in_task();
        let needed = {
            let mut st = this.state.lock();
            if !task {
                st.counters.softirq_completions += 1;
            }
            match (done.kind, &done.tag) {
                (WorkKind::Recv, _) => Self::received(this, &mut st, done),
                (WorkKind::Send, Tag::Send(token)) => {
                    let token = *token;
                    Self::sent(this, &mut st, done, token)
                }
                (_, Tag::Op(i)) => {
                    let i = *i;
                    if !done.is_ok() {
                        st.counters.completion_errors += 1;
                    }
                    Self::op_done(&mut st, i, done.status, done.rw);
                    this.ops.notify_all();
                }
                _ => drop(done),
            }
            Self::handle_events(this, &mut st);
            let needed = st.needs_pump();
            if needed && !task {
                st.counters.deferred_pumps += 1;
            }
            needed
        };
        // Most completions leave nothing to post: skip the posting path
        // (its mutex and lock round trips showed in the 4 KiB profile).
        if !needed {
            return;
        }
        if task {
            Self::pump(this);
        } else {
            // The posting path sleeps on its mutex. Already queued, the
            // work item will see this completion's state too.
            let _ = pump_queue().enqueue::<Arc<ConnCore>, PUMP_WORK>(Arc::<ConnCore>::from(this));
        }
    }
}

/// The rdma_cm watcher of a connection: a disconnection or the removal of
/// the device ends it and schedules its teardown (the identifier cannot be
/// destroyed from its own event handler, so the teardown runs on a work
/// item).
pub(super) struct Watch(pub(super) Arc<ConnCore>);

impl CmWatcher for Watch {
    fn cm_event(&self, ev: CmEvent) {
        let err = match ev {
            CmEvent::Disconnected => errno(kernel::bindings::ECONNRESET),
            CmEvent::DeviceRemoval => {
                pr_warn_ratelimited!("smbdirect-rs: RDMA device removed, ending its connection\n");
                errno(kernel::bindings::ENODEV)
            }
            _ => return,
        };
        let core = self.0.as_arc_borrow();
        let mut st = core.state.lock();
        ConnCore::fail(core, &mut st, err);
    }
}

fn disconnect_error(reason: DisconnectReason) -> Error {
    match reason {
        DisconnectReason::LocalClose => errno(kernel::bindings::ESHUTDOWN),
        DisconnectReason::IdleTimeout | DisconnectReason::NegotiateTimeout => {
            errno(kernel::bindings::ETIMEDOUT)
        }
        _ => errno(kernel::bindings::ECONNABORTED),
    }
}

fn pr_warn_ratelimited_reason(reason: DisconnectReason) {
    if reason != DisconnectReason::LocalClose {
        pr_warn_ratelimited!("smbdirect-rs: connection ends: {:?}\n", reason);
    }
}
