// SPDX-License-Identifier: GPL-2.0

//! Misuse of the ib layer from safe code: each call below used to corrupt
//! memory or the device's state and must now return an error, leaving the
//! connection usable. Also the teardown of a queue pair dropped from its
//! own completion handler, which used to deadlock.

use core::net::Ipv4Addr;

use kernel::prelude::*;
use kernel::sync::{
    new_condvar, new_spinlock, Arc, ArcBorrow, CondVar, CondVarTimeoutResult, SpinLock,
};
use kernel::time::msecs_to_jiffies;

use super::rdma::{caps, pattern, recv, send, Failure, Pair, Step, TIMEOUT_MS};
use crate::ib::{
    qp::is_queue_full, Access, Cq, CqPoll, DmaBuf, DmaDir, Done, FastRegMr, MrState, QueuePair,
    QueuePairCaps, SgBuf, WorkHandler, WorkKind,
};

/// The rdma_cm port the misuse test listens on.
const PORT: u16 = 18516;

/// What a passing run checked.
pub(super) struct Report {
    pub(super) refusals: u32,
    pub(super) send_capacity: u32,
    pub(super) deferred_teardown: bool,
    pub(super) iwarp: bool,
}

/// Fails unless `r` is the error `want`.
fn refused<T, B, G>(
    r: Result<T, (Error, B, G)>,
    want: Error,
    what: &'static str,
    count: &mut u32,
) -> Result<(), Failure> {
    match r {
        Err((e, _, _)) if e == want => {
            *count += 1;
            Ok(())
        }
        Err((e, _, _)) => Err(Failure(what, e)),
        Ok(_) => Err(Failure(what, EEXIST)),
    }
}

fn refused_plain<T>(
    r: Result<T>,
    want: Error,
    what: &'static str,
    count: &mut u32,
) -> Result<(), Failure> {
    refused(r.map_err(|e| (e, (), ())), want, what, count)
}

fn mr_access() -> Access {
    Access::LOCAL_WRITE
        .union(Access::REMOTE_WRITE)
        .union(Access::REMOTE_READ)
}

/// Runs the misuse checks on the device that owns `addr`.
pub(super) fn run(addr: Ipv4Addr) -> Result<Report, Failure> {
    let pair = Pair::connect(addr, PORT, 4, 4)?;
    let mut n = 0;

    // A buffer of the other side's protection domain (the same device).
    let foreign = DmaBuf::new(&pair.s_pd, 64, DmaDir::ToDevice).step("foreign buffer")?;
    refused(
        pair.c_qp.post_send(foreign, 64, 0),
        EINVAL,
        "send of another PD's buffer",
        &mut n,
    )?;
    let empty = DmaBuf::new(&pair.c_pd, 64, DmaDir::ToDevice).step("send buffer")?;
    refused(
        pair.c_qp.post_send(empty, 0, 0),
        EINVAL,
        "zero-length send",
        &mut n,
    )?;

    // The memory-region state machine.
    let mut mr = FastRegMr::new(&pair.c_pd, 4).step("allocate FRMR")?;
    refused(
        pair.c_qp.post_reg_mr(&mr, mr_access(), 0),
        EINVAL,
        "registration of an unmapped region",
        &mut n,
    )?;
    refused(
        pair.c_qp.post_local_inv(&mr, 0),
        EINVAL,
        "invalidation of an unregistered region",
        &mut n,
    )?;
    let other_pd = SgBuf::new(&pair.s_pd, 4, DmaDir::Bidirectional).step("foreign SG buffer")?;
    match mr.map(other_pd) {
        Err((e, _)) if e == EINVAL => n += 1,
        Err((e, _)) => return Err(Failure("map of another PD's buffer", e)),
        Ok(_) => return Err(Failure("map of another PD's buffer", EEXIST)),
    }
    let sg = SgBuf::new(&pair.c_pd, 4, DmaDir::Bidirectional).step("SG buffer")?;
    mr.map(sg).map_err(|(e, _)| Failure("map", e))?;
    let sg2 = SgBuf::new(&pair.c_pd, 4, DmaDir::Bidirectional).step("second SG buffer")?;
    match mr.map(sg2) {
        Err((e, _)) if e == EBUSY => n += 1,
        Err((e, _)) => return Err(Failure("map of a mapped region", e)),
        Ok(_) => return Err(Failure("map of a mapped region", EEXIST)),
    }
    pair.c_qp
        .post_reg_mr(&mr, mr_access(), 0)
        .step("post REG_MR")?;
    refused(
        pair.c_qp.post_reg_mr(&mr, mr_access(), 0),
        EINVAL,
        "second registration while one is posted",
        &mut n,
    )?;
    pair.c_done
        .wait(WorkKind::RegMr, TIMEOUT_MS)
        .step("REG_MR completion")?;
    if mr.state() != MrState::Registered {
        return Err(Failure("region registered", EIO));
    }
    refused_plain(mr.unmap(), EBUSY, "unmap of a registered region", &mut n)?;
    pair.c_qp.post_local_inv(&mr, 0).step("post LOCAL_INV")?;
    pair.c_done
        .wait(WorkKind::LocalInv, TIMEOUT_MS)
        .step("LOCAL_INV completion")?;
    let sg = mr.unmap().step("unmap after invalidation")?;

    // A region dropped while its registration is posted: the buffer must
    // stay until the completion has come and the region is deregistered
    // (KASAN reports a use-after-free otherwise).
    mr.map(sg).map_err(|(e, _)| Failure("map again", e))?;
    pair.c_qp
        .post_reg_mr(&mr, mr_access(), 0)
        .step("post REG_MR before drop")?;
    drop(mr);
    pair.c_done
        .wait(WorkKind::RegMr, TIMEOUT_MS)
        .step("REG_MR completion after drop")?;

    let iwarp = pair.c_qp.is_iwarp();
    if iwarp {
        // iWARP needs an RDMA read's sink registered for remote write.
        let sink = DmaBuf::new(&pair.c_pd, 64, DmaDir::FromDevice).step("read sink")?;
        let remote = crate::ib::RemoteKey {
            addr: 0,
            rkey: 0,
            length: 64,
        };
        refused(
            pair.c_qp.post_rdma_read(sink, 64, remote, 0),
            crate::ib::errno(kernel::bindings::EOPNOTSUPP),
            "RDMA read into an unregistered sink on iWARP",
            &mut n,
        )?;
    }
    // iWARP has no receiver-not-ready retry: a send the peer has no
    // receive for breaks the connection, so the queue is filled on RoCE only.
    let capacity = pair.c_qp.send_capacity();
    if !iwarp {
        // The queues refuse what would take the drain's slot. The server has
        // 4 receives posted: sends beyond those wait for receiver-not-ready
        // retries (infinite), so they stay outstanding and fill the queue.
        let mut posted = 0u32;
        loop {
            let buf = DmaBuf::new(&pair.c_pd, 64, DmaDir::ToDevice).step("filler buffer")?;
            match pair.c_qp.post_send(buf, 64, 0) {
                Ok(()) => posted += 1,
                Err((e, _, _)) if is_queue_full(e) => break,
                Err((e, _, _)) => return Err(Failure("post filler send", e)),
            }
            if posted > capacity {
                return Err(Failure("send queue over capacity", EIO));
            }
        }
        if posted != capacity {
            return Err(Failure("sends accepted differ from capacity", EIO));
        }
        n += 1;
        // Let them through one receive at a time (the first 4 had one each).
        for i in 0..posted {
            if i >= 4 {
                super::rdma::post_recvs(&pair.s_qp, 1)?;
            }
            recv(&pair.s_done, &mut [0u8; 1024])?;
            pair.c_done
                .wait(WorkKind::Send, TIMEOUT_MS)
                .step("filler send completion")?;
        }
    }

    let recv_capacity = pair.c_qp.recv_capacity();
    super::rdma::post_recvs(&pair.c_qp, (recv_capacity - 4) as usize)?;
    let extra = DmaBuf::new(&pair.c_pd, 64, DmaDir::FromDevice).step("extra receive")?;
    match pair.c_qp.post_recv(extra, 0) {
        Err((e, _, _)) if is_queue_full(e) => n += 1,
        Err((e, _, _)) => return Err(Failure("receive beyond capacity", e)),
        Ok(()) => return Err(Failure("receive beyond capacity", EEXIST)),
    }

    // Still usable after all of the above.
    let mut msg = [0u8; 100];
    for (i, b) in msg.iter_mut().enumerate() {
        *b = pattern(7, i);
    }
    super::rdma::post_recvs(&pair.s_qp, 1)?;
    send(&pair.c_qp, &pair.c_done, &msg)?;
    let mut out = [0u8; 1024];
    let got = recv(&pair.s_done, &mut out)?;
    if got != msg.len() || out[..got] != msg {
        return Err(Failure("message after misuse differs", EIO));
    }

    pair.disconnect()?;
    let send_capacity = capacity;
    drop(pair);

    let deferred_teardown = drop_from_completion(addr, &mut n)?;
    Ok(Report {
        refusals: n,
        send_capacity,
        deferred_teardown,
        iwarp,
    })
}

/// Drops its queue pair from the first successful completion, as a
/// transport does when the peer's message says to go away.
#[pin_data]
struct DropOnComplete {
    #[pin]
    state: SpinLock<DropState>,
    #[pin]
    cond: CondVar,
}

struct DropState {
    qp: Option<QueuePair<DropOnComplete>>,
    dropped: bool,
    flushed: u32,
}

impl DropOnComplete {
    fn new() -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(Self {
                state <- new_spinlock!(
                    DropState { qp: None, dropped: false, flushed: 0 },
                    "smbdrs_selftest_drop"
                ),
                cond <- new_condvar!("smbdrs_selftest_drop_cond"),
            }),
            GFP_KERNEL,
        )
    }

    /// Waits until the queue pair was dropped and `flushed` of its
    /// receives came back flushed.
    fn wait(&self, flushed: u32) -> Result<(), Failure> {
        let mut s = self.state.lock();
        let mut left = msecs_to_jiffies(TIMEOUT_MS);
        while !(s.dropped && s.flushed >= flushed) {
            match self.cond.wait_interruptible_timeout(&mut s, left) {
                CondVarTimeoutResult::Timeout => {
                    return Err(Failure(
                        "teardown from completion",
                        crate::ib::errno(kernel::bindings::ETIMEDOUT),
                    ))
                }
                CondVarTimeoutResult::Signal { .. } => {
                    return Err(Failure("teardown from completion", ERESTARTSYS))
                }
                CondVarTimeoutResult::Woken { jiffies } => left = jiffies,
            }
        }
        Ok(())
    }
}

impl WorkHandler for DropOnComplete {
    type Tag = u64;

    fn complete(this: ArcBorrow<'_, Self>, done: Done<u64>) {
        let this = &*this;
        let ok = done.is_ok();
        let qp = if ok {
            this.state.lock().qp.take()
        } else {
            None
        };
        let dropped = qp.is_some();
        // The drop happens on this queue pair's completion workqueue: the
        // queue pair must defer its drain instead of waiting for itself.
        drop(qp);
        drop(done);
        let mut s = this.state.lock();
        s.dropped |= dropped;
        if !ok {
            s.flushed += 1;
        }
        drop(s);
        this.cond.notify_all();
    }
}

/// A queue pair dropped by its own completion handler is torn down on a
/// work item; a completion queue too small for a queue pair is refused.
fn drop_from_completion(addr: Ipv4Addr, n: &mut u32) -> Result<bool, Failure> {
    let handler = DropOnComplete::new().step("drop handler")?;
    // Its handler's lock is a plain spinlock: completions on the workqueue.
    let pair = Pair::connect_with(addr, PORT + 1, handler.clone(), CqPoll::Workqueue, 4, 4)?;
    let Pair {
        listener,
        client,
        c_pd,
        c_done: _,
        c_qp,
        s_id,
        s_pd: _,
        s_done,
        s_qp,
    } = pair;

    // The client's cm id has its queue pair, so a second one is refused
    // before any C object is made; a CQ too small for a queue pair is
    // refused after the queue pair was made, which is then destroyed.
    let small = Cq::new(&client, 8, CqPoll::Workqueue).step("small CQ")?;
    let tiny = QueuePairCaps {
        max_send_wr: 16,
        ..caps()
    };
    refused_plain(
        QueuePair::new(&client, &c_pd, &small, tiny, handler.clone()),
        EBUSY,
        "second queue pair on one cm id",
        n,
    )?;
    let spare = crate::ib::CmId::new().step("spare cm id")?;
    spare
        .resolve(core::net::SocketAddrV4::new(addr, PORT + 1), TIMEOUT_MS)
        .step("spare resolve")?;
    let spare_pd = crate::ib::Pd::new(&spare).step("spare PD")?;
    let spare_cq = Cq::new(&spare, 8, CqPoll::Workqueue).step("spare CQ")?;
    refused_plain(
        QueuePair::new(&spare, &spare_pd, &spare_cq, tiny, handler.clone()),
        ENOSPC,
        "queue pair larger than its CQ",
        n,
    )?;
    if spare_cq.unreserved() < 8 {
        return Err(Failure("CQ reservation left behind", EIO));
    }
    // The refused queue pair released its slot on the cm id.
    let fits = QueuePairCaps {
        max_send_wr: 2,
        max_recv_wr: 2,
        max_rdma_ctxs: 0,
        ..caps()
    };
    let spare_qp = QueuePair::new(&spare, &spare_pd, &spare_cq, fits, handler.clone())
        .step("queue pair that fits")?;
    drop(spare_qp);
    drop(small);

    handler.state.lock().qp = Some(c_qp);
    let mut msg = [0u8; 32];
    for (i, b) in msg.iter_mut().enumerate() {
        *b = pattern(9, i);
    }
    send(&s_qp, &s_done, &msg)?;
    // One receive completed and dropped the queue pair; the other three
    // come back flushed from the deferred drain.
    handler.wait(3)?;
    *n += 1;
    client.disconnect();
    s_id.wait_for(crate::ib::CmEvent::Disconnected, TIMEOUT_MS)
        .step("server saw the disconnect")?;
    s_id.disconnect();
    drop(s_qp);
    drop(listener);
    Ok(true)
}
