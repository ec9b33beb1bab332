// SPDX-License-Identifier: GPL-2.0

//! The ib layer's self test: over one RDMA device, connect two queue pairs
//! through rdma_cm (a listener and an active side in the same kernel),
//! exchange messages, register a fast-registration memory region on the
//! passive side, RDMA-write into it and RDMA-read it back from the active
//! side, check every byte on both sides, invalidate; then the other way
//! round with `rdma_rw` contexts, as an SMB Direct server moves data: the
//! active side registers memory, the passive side RDMA-writes into it and
//! reads it back; disconnect and tear everything down.

use core::net::{Ipv4Addr, SocketAddrV4};

use kernel::prelude::*;
use kernel::sync::Arc;

use super::completions::Completions;
use crate::ib::{
    Access, CmEvent, CmId, ConnParam, Cq, CqPoll, DmaBuf, DmaDir, FastRegMr, Listener, Pd,
    QueuePair, QueuePairCaps, RemoteKey, RwBuf, RwCtx, RwDir, RwPostError, SgBuf, WorkHandler,
    WorkKind, PAGE_SIZE,
};

/// The rdma_cm port the self test listens on.
const PORT: u16 = 18515;
pub(super) const TIMEOUT_MS: u32 = 5000;
const MESSAGES: usize = 8;
const RECV_SIZE: usize = 1024;
const MR_PAGES: usize = 4;

/// What a passing run saw.
pub(super) struct Report {
    pub(super) device: KVec<u8>,
    pub(super) messages: usize,
    pub(super) message_bytes: usize,
    pub(super) rdma_bytes: usize,
    pub(super) rkey: u32,
}

/// A failure: the step that failed and why.
pub(super) struct Failure(pub(super) &'static str, pub(super) Error);

pub(super) trait Step<T> {
    fn step(self, what: &'static str) -> Result<T, Failure>;
}

impl<T> Step<T> for Result<T> {
    fn step(self, what: &'static str) -> Result<T, Failure> {
        self.map_err(|e| Failure(what, e))
    }
}

impl<T> Step<T> for Result<T, kernel::alloc::AllocError> {
    fn step(self, what: &'static str) -> Result<T, Failure> {
        self.map_err(|_| Failure(what, ENOMEM))
    }
}

impl<T, B, G> Step<T> for Result<T, (Error, B, G)> {
    fn step(self, what: &'static str) -> Result<T, Failure> {
        self.map_err(|(e, _, _)| Failure(what, e))
    }
}

impl<T> Step<T> for Result<T, RwPostError<u64>> {
    fn step(self, what: &'static str) -> Result<T, Failure> {
        self.map_err(|(e, _)| Failure(what, e))
    }
}

pub(super) fn pattern(seed: u8, i: usize) -> u8 {
    (i as u8).wrapping_mul(31).wrapping_add(seed)
}

pub(super) fn caps() -> QueuePairCaps {
    QueuePairCaps {
        max_send_wr: 16,
        max_recv_wr: 16,
        max_send_sge: 1,
        max_recv_sge: 1,
        max_rdma_ctxs: 4,
    }
}

pub(super) fn conn_param() -> ConnParam {
    ConnParam {
        responder_resources: 1,
        initiator_depth: 1,
        retry_count: 6,
        rnr_retry_count: 7,
        private: None,
    }
}

fn key_message(key: &RemoteKey) -> [u8; 16] {
    let mut m = [0u8; 16];
    m[..8].copy_from_slice(&key.addr.to_le_bytes());
    m[8..12].copy_from_slice(&key.rkey.to_le_bytes());
    m[12..16].copy_from_slice(&(key.length as u32).to_le_bytes());
    m
}

fn key_from_message(m: &[u8]) -> RemoteKey {
    RemoteKey {
        addr: u64::from_le_bytes(m[..8].try_into().unwrap_or_default()),
        rkey: u32::from_le_bytes(m[8..12].try_into().unwrap_or_default()),
        length: u64::from(u32::from_le_bytes(m[12..16].try_into().unwrap_or_default())),
    }
}

/// Moves `buf` to or from `remote` with an `rdma_rw` context on `qp`.
fn rw(
    qp: &QueuePair<Completions>,
    done: &Completions,
    buf: RwBuf,
    remote: RemoteKey,
    dir: RwDir,
) -> Result<RwBuf, Failure> {
    let ctx = RwCtx::new(qp, buf, remote, dir).map_err(|(e, _)| Failure("rdma_rw_ctx_init", e))?;
    qp.post_rw(ctx, 0).step("rdma_rw_ctx_post")?;
    let mut d = done
        .wait(WorkKind::Rw, TIMEOUT_MS)
        .step("rdma_rw completion")?;
    let ctx = d.rw.take().ok_or(Failure("rdma_rw context back", EINVAL))?;
    ctx.into_buf().step("rdma_rw_ctx_destroy")
}

pub(super) fn post_recvs<H: WorkHandler<Tag = u64>>(
    qp: &QueuePair<H>,
    n: usize,
) -> Result<(), Failure> {
    for i in 0..n {
        let buf =
            DmaBuf::new(qp.pd(), RECV_SIZE, DmaDir::FromDevice).step("allocate receive buffer")?;
        qp.post_recv(buf, i as u64).step("post receive")?;
    }
    Ok(())
}

pub(super) fn send(
    qp: &QueuePair<Completions>,
    done: &Completions,
    bytes: &[u8],
) -> Result<(), Failure> {
    let mut buf =
        DmaBuf::new(qp.pd(), bytes.len(), DmaDir::ToDevice).step("allocate send buffer")?;
    buf.write(|b| b.copy_from_slice(bytes));
    qp.post_send(buf, bytes.len() as u32, 0).step("post send")?;
    done.wait(WorkKind::Send, TIMEOUT_MS)
        .step("send completion")?;
    Ok(())
}

pub(super) fn recv(done: &Completions, out: &mut [u8]) -> Result<usize, Failure> {
    let mut d = done
        .wait(WorkKind::Recv, TIMEOUT_MS)
        .step("receive completion")?;
    let len = d.byte_len as usize;
    if len > out.len() {
        return Err(Failure(
            "received message too long",
            crate::ib::errno(kernel::bindings::EMSGSIZE),
        ));
    }
    if let Some(buf) = d.buf.as_mut() {
        buf.read(|b| out[..len].copy_from_slice(&b[..len]));
    }
    Ok(len)
}

/// Two connected queue pairs on one device: the active (client) side and
/// the passive (server) side, with their completion rings.
pub(super) struct Pair<C: WorkHandler<Tag = u64> = Completions> {
    pub(super) listener: Listener,
    pub(super) client: CmId,
    pub(super) c_pd: Pd,
    pub(super) c_done: Arc<C>,
    pub(super) c_qp: QueuePair<C>,
    pub(super) s_id: CmId,
    pub(super) s_pd: Pd,
    pub(super) s_done: Arc<Completions>,
    pub(super) s_qp: QueuePair<Completions>,
}

impl Pair {
    /// Connects a pair over the device that owns `addr`, listening on
    /// `port`, with `client_recvs` and `server_recvs` receives posted. The
    /// client's completions run in softirq, the server's on the workqueue,
    /// so the ib layer is tested in both contexts.
    pub(super) fn connect(
        addr: Ipv4Addr,
        port: u16,
        client_recvs: usize,
        server_recvs: usize,
    ) -> Result<Self, Failure> {
        let c_done = Completions::new().step("client completions")?;
        Self::connect_with(
            addr,
            port,
            c_done,
            CqPoll::Softirq,
            client_recvs,
            server_recvs,
        )
    }
}

impl<C: WorkHandler<Tag = u64>> Pair<C> {
    /// As [`Pair::connect`], with `c_done` handling the client's
    /// completions, polled as `c_poll` says.
    pub(super) fn connect_with(
        addr: Ipv4Addr,
        port: u16,
        c_done: Arc<C>,
        c_poll: CqPoll,
        client_recvs: usize,
        server_recvs: usize,
    ) -> Result<Self, Failure> {
        let listen_at = SocketAddrV4::new(addr, port);
        let listener = Listener::bind(listen_at, 4).step("bind and listen")?;

        // Active side: resolve, build its queue pair, post receives, connect.
        let client = CmId::new().step("create active cm id")?;
        client
            .resolve(listen_at, TIMEOUT_MS)
            .step("resolve address and route")?;
        let c_pd = Pd::new(&client).step("client PD")?;
        let c_cq = Cq::new(&client, 64, c_poll).step("client CQ")?;
        let c_qp =
            QueuePair::new(&client, &c_pd, &c_cq, caps(), c_done.clone()).step("client QP")?;
        post_recvs(&c_qp, client_recvs)?;
        client.connect(&c_qp, conn_param()).step("rdma_connect")?;

        // Passive side: take the request, build its queue pair, accept.
        let incoming = listener.accept_next(TIMEOUT_MS).step("connect request")?;
        let s_id = incoming.id().step("incoming id")?.clone();
        let s_pd = Pd::new(&s_id).step("server PD")?;
        let s_cq = Cq::new(&s_id, 64, CqPoll::Workqueue).step("server CQ")?;
        let s_done = Completions::new().step("server completions")?;
        let s_qp = QueuePair::new(&s_id, &s_pd, &s_cq, caps(), s_done.clone()).step("server QP")?;
        post_recvs(&s_qp, server_recvs)?;
        let s_id = incoming
            .accept(&s_qp, conn_param(), TIMEOUT_MS)
            .step("rdma_accept")?;
        client
            .wait_for(CmEvent::Established, TIMEOUT_MS)
            .step("client established")?;
        Ok(Self {
            listener,
            client,
            c_pd,
            c_done,
            c_qp,
            s_id,
            s_pd,
            s_done,
            s_qp,
        })
    }

    /// Disconnects both sides and waits until each has seen it.
    ///
    /// The passive side answers the peer's disconnect request (DREQ) with
    /// its own `rdma_disconnect` (DREP); only then does the active side see
    /// DISCONNECTED without waiting for the CM's timeout.
    pub(super) fn disconnect(&self) -> Result<(), Failure> {
        disconnect(&self.client, &self.s_id)
    }
}

/// Disconnects `client` from `server` and waits until each has seen it (see
/// [`Pair::disconnect`]).
fn disconnect(client: &CmId, server: &CmId) -> Result<(), Failure> {
    client.disconnect();
    server
        .wait_for(CmEvent::Disconnected, TIMEOUT_MS)
        .step("server disconnected")?;
    server.disconnect();
    client
        .wait_for(CmEvent::Disconnected, TIMEOUT_MS)
        .step("client disconnected")
}

/// Runs the self test on the device that owns `addr`.
pub(super) fn run(addr: Ipv4Addr) -> Result<Report, Failure> {
    let Pair {
        listener,
        client,
        c_pd,
        c_done,
        c_qp,
        s_id,
        s_pd,
        s_done,
        s_qp,
    } = Pair::connect(addr, PORT, 4, MESSAGES + 2)?;

    let mut device = KVec::new();
    device
        .extend_from_slice(
            client.device_name().step("device name")?.as_bytes(),
            GFP_KERNEL,
        )
        .map_err(|_| ENOMEM)
        .step("device name")?;

    // Messages, active to passive, of growing sizes; every byte checked.
    let mut message_bytes = 0;
    let mut out = [0u8; RECV_SIZE];
    let mut msg = [0u8; RECV_SIZE];
    for m in 0..MESSAGES {
        let len = 24 + m * 100;
        for (i, b) in msg[..len].iter_mut().enumerate() {
            *b = pattern(m as u8, i);
        }
        send(&c_qp, &c_done, &msg[..len])?;
        let got = recv(&s_done, &mut out)?;
        if got != len || out[..len] != msg[..len] {
            return Err(Failure("message payload differs", EIO));
        }
        message_bytes += len;
    }

    // The passive side registers memory and tells the active side its key.
    let rdma_len = MR_PAGES * PAGE_SIZE;
    let sg = SgBuf::new(&s_pd, MR_PAGES, DmaDir::Bidirectional).step("MR buffer")?;
    let mut mr = FastRegMr::new(&s_pd, MR_PAGES as u32).step("allocate FRMR")?;
    let key = mr.map(sg).map_err(|(e, _)| Failure("map FRMR", e))?;
    let access = Access::LOCAL_WRITE
        .union(Access::REMOTE_WRITE)
        .union(Access::REMOTE_READ);
    s_qp.post_reg_mr(&mr, access, 0).step("post REG_MR")?;
    s_done
        .wait(WorkKind::RegMr, TIMEOUT_MS)
        .step("REG_MR completion")?;
    if key.length != rdma_len as u64 {
        return Err(Failure("FRMR length", EIO));
    }
    send(&s_qp, &s_done, &key_message(&key))?;
    let got = recv(&c_done, &mut out)?;
    if got != 16 {
        return Err(Failure("key message length", EIO));
    }
    let remote = RemoteKey {
        addr: u64::from_le_bytes(out[..8].try_into().unwrap_or_default()),
        rkey: u32::from_le_bytes(out[8..12].try_into().unwrap_or_default()),
        length: u64::from(u32::from_le_bytes(
            out[12..16].try_into().unwrap_or_default(),
        )),
    };
    if remote != key {
        return Err(Failure("key message differs", EIO));
    }

    // RDMA write a pattern into the region, read it back, compare.
    let mut src = DmaBuf::new(&c_pd, rdma_len, DmaDir::ToDevice).step("write source")?;
    src.write(|b| {
        b.iter_mut()
            .enumerate()
            .for_each(|(i, x)| *x = pattern(0xa5, i))
    });
    c_qp.post_rdma_write(src, rdma_len as u32, remote, 0)
        .step("post RDMA write")?;
    c_done
        .wait(WorkKind::RdmaWrite, TIMEOUT_MS)
        .step("RDMA write completion")?;
    let dst = DmaBuf::new(&c_pd, rdma_len, DmaDir::FromDevice).step("read sink")?;
    c_qp.post_rdma_read(dst, rdma_len as u32, remote, 0)
        .step("post RDMA read")?;
    let mut read = c_done
        .wait(WorkKind::RdmaRead, TIMEOUT_MS)
        .step("RDMA read completion")?;
    let read_ok = read
        .buf
        .as_mut()
        .is_some_and(|b| b.read(|b| b.iter().enumerate().all(|(i, &x)| x == pattern(0xa5, i))));
    if !read_ok {
        return Err(Failure("RDMA read data differs", EIO));
    }

    // Tell the passive side we are done; it invalidates and checks memory.
    send(&c_qp, &c_done, b"done")?;
    recv(&s_done, &mut out)?;
    s_qp.post_local_inv(&mr, 0).step("post LOCAL_INV")?;
    s_done
        .wait(WorkKind::LocalInv, TIMEOUT_MS)
        .step("LOCAL_INV completion")?;
    let data = mr.unmap().step("unmap FRMR")?.into_data();
    if !data.iter().enumerate().all(|(i, &x)| x == pattern(0xa5, i)) {
        return Err(Failure("registered memory differs", EIO));
    }

    // rdma_rw, the server's way: the active side registers, the passive
    // side writes a pattern there and reads it back.
    let c_sg = SgBuf::new(&c_pd, MR_PAGES, DmaDir::Bidirectional).step("client MR buffer")?;
    let mut c_mr = FastRegMr::new(&c_pd, MR_PAGES as u32).step("allocate client FRMR")?;
    let c_key = c_mr
        .map(c_sg)
        .map_err(|(e, _)| Failure("map client FRMR", e))?;
    c_qp.post_reg_mr(&c_mr, access, 0)
        .step("post client REG_MR")?;
    c_done
        .wait(WorkKind::RegMr, TIMEOUT_MS)
        .step("client REG_MR completion")?;
    send(&c_qp, &c_done, &key_message(&c_key))?;
    recv(&s_done, &mut out)?;
    let target = key_from_message(&out);
    let mut wbuf = RwBuf::new(MR_PAGES).step("rdma_rw source")?;
    wbuf.data_mut()
        .iter_mut()
        .enumerate()
        .for_each(|(i, x)| *x = pattern(0x3c, i));
    rw(&s_qp, &s_done, wbuf, target, RwDir::Write)?;
    let rbuf = rw(
        &s_qp,
        &s_done,
        RwBuf::new(MR_PAGES).step("rdma_rw sink")?,
        target,
        RwDir::Read,
    )?;
    if !rbuf
        .data()
        .iter()
        .enumerate()
        .all(|(i, &x)| x == pattern(0x3c, i))
    {
        return Err(Failure("rdma_rw read data differs", EIO));
    }
    send(&s_qp, &s_done, b"rw done")?;
    recv(&c_done, &mut out)?;
    c_qp.post_local_inv(&c_mr, 0)
        .step("post client LOCAL_INV")?;
    c_done
        .wait(WorkKind::LocalInv, TIMEOUT_MS)
        .step("client LOCAL_INV completion")?;
    let c_data = c_mr.unmap().step("unmap client FRMR")?.into_data();
    if !c_data
        .iter()
        .enumerate()
        .all(|(i, &x)| x == pattern(0x3c, i))
    {
        return Err(Failure("memory written by rdma_rw differs", EIO));
    }
    drop(c_mr);

    // Disconnect and wait for both sides to see it; drops tear down the
    // rest in order (QP drained and destroyed, CQ, PD, then the cm id).
    disconnect(&client, &s_id)?;
    let rkey = key.rkey;
    drop(mr);
    drop(c_qp);
    drop(s_qp);
    drop(listener);

    Ok(Report {
        device,
        messages: MESSAGES + 4,
        message_bytes: message_bytes + 16 + 4 + 16 + 7,
        rdma_bytes: rdma_len,
        rkey,
    })
}
