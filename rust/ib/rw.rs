// SPDX-License-Identifier: GPL-2.0

//! RDMA read/write contexts (`rdma_rw`): how an SMB Direct server moves
//! data to and from the client's registered memory, the buffer
//! descriptors of [MS-SMBD] 2.2.3.1 naming the remote side.
//!
//! C header: [`include/rdma/rw.h`](srctree/include/rdma/rw.h).
//!
//! An [`RwCtx`] owns its local buffer ([`RwBuf`]) and its `rdma_rw_ctx`;
//! `rdma_rw_ctx_init` DMA-maps the buffer and builds the work requests
//! (splitting them within the device's SGE limits, with MRs on iWARP),
//! [`super::QueuePair::post_rw`] posts them and the completion hands the
//! context back; [`RwCtx::into_buf`] destroys the context (unmapping the
//! buffer) and returns the bytes. The context holds the queue pair's core,
//! so the `ib_qp` cannot be destroyed under it.

use kernel::bindings;
use kernel::prelude::*;
use kernel::sync::Arc;

use super::dma::PageBuf;
use super::mr::RemoteKey;
use super::qp::{QpCore, QueuePair};
use super::verbs::WorkHandler;

/// Which way an [`RwCtx`] moves data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RwDir {
    /// RDMA read: remote memory into the local buffer (an SMB2 WRITE's data).
    Read,
    /// RDMA write: the local buffer into remote memory (an SMB2 READ's data).
    Write,
}

impl RwDir {
    fn dma(self) -> bindings::dma_data_direction {
        match self {
            Self::Read => bindings::dma_data_direction_DMA_FROM_DEVICE,
            Self::Write => bindings::dma_data_direction_DMA_TO_DEVICE,
        }
    }
}

/// The local buffer of an [`RwCtx`]: `rdma_rw_ctx_init` maps it.
pub type RwBuf = PageBuf;

/// An initialised `rdma_rw_ctx` with its buffer.
///
/// # Invariants
///
/// `ctx` was initialised by `rdma_rw_ctx_init` on `core`'s queue pair over
/// `buf`'s scatterlist in direction `dir`, and is destroyed exactly once, in
/// `destroy`.
pub struct RwCtx {
    core: Arc<QpCore>,
    ctx: KBox<bindings::rdma_rw_ctx>,
    buf: Option<RwBuf>,
    dir: RwDir,
    /// Send queue entries its work requests take.
    wrs: u32,
}

// SAFETY: The context is only touched by its owner or, while posted, by
// ib_core.
unsafe impl Send for RwCtx {}

impl RwCtx {
    /// Prepares to move all of `buf` to or from `remote` (which must be at
    /// least as long).
    pub fn new<H: WorkHandler>(
        qp: &QueuePair<H>,
        mut buf: RwBuf,
        remote: RemoteKey,
        dir: RwDir,
    ) -> Result<Self, (Error, RwBuf)> {
        if buf.is_empty() || (buf.len() as u64) > remote.length {
            return Err((EINVAL, buf));
        }
        let mut ctx = match KBox::new(bindings::rdma_rw_ctx::default(), GFP_KERNEL) {
            Ok(c) => c,
            Err(_) => return Err((ENOMEM, buf)),
        };
        let core = qp.core().clone();
        let nents = buf.nents();
        // SAFETY: `ctx` is zeroed memory for a context; the queue pair is
        // valid; the scatterlist covers `buf`, which `Self` keeps until the
        // context is destroyed.
        let ret = unsafe {
            bindings::rdma_rw_ctx_init(
                &mut *ctx,
                core.as_ptr(),
                core.port_num(),
                buf.sg_ptr(),
                nents,
                0,
                remote.addr,
                remote.rkey,
                dir.dma(),
            )
        };
        if ret < 0 {
            return Err((Error::from_errno(ret), buf));
        }
        Ok(Self {
            core,
            ctx,
            buf: Some(buf),
            dir,
            // A successful init returns the number of work requests.
            wrs: ret as u32,
        })
    }

    pub(crate) fn core(&self) -> &Arc<QpCore> {
        &self.core
    }

    /// Send queue entries the context's work requests take.
    pub fn work_requests(&self) -> u32 {
        self.wrs
    }

    pub(crate) fn as_ptr(&mut self) -> *mut bindings::rdma_rw_ctx {
        &mut *self.ctx
    }

    fn destroy(&mut self) -> Option<RwBuf> {
        let mut buf = self.buf.take()?;
        let nents = buf.nents();
        // SAFETY: By the type invariant the context is initialised on this
        // queue pair over `buf` and not destroyed yet (`buf` was still
        // here); it is not posted (a posted context is owned by its work
        // request). Destroying unmaps the buffer.
        unsafe {
            bindings::rdma_rw_ctx_destroy(
                &mut *self.ctx,
                self.core.as_ptr(),
                self.core.port_num(),
                buf.sg_ptr(),
                nents,
                self.dir.dma(),
            )
        };
        Some(buf)
    }

    /// Destroys the context and gives the buffer back to the CPU.
    pub fn into_buf(mut self) -> Result<RwBuf> {
        self.destroy().ok_or(EINVAL)
    }
}

impl Drop for RwCtx {
    fn drop(&mut self) {
        drop(self.destroy());
    }
}
