// SPDX-License-Identifier: GPL-2.0

//! A synchronous driver that runs the sans-I/O engine over one queue pair:
//! the calling thread performs the engine's actions, waits for completions
//! and feeds them back. First light uses it on both sides; the cifs and
//! ksmbd transports will drive the same engine from their own contexts.

use kernel::prelude::*;
use kernel::sync::Arc;
use kernel::time::Ktime;

use super::completions::Completions;
use crate::ib::{DmaBuf, DmaDir, Done, QueuePair, WorkKind};
use crate::smbdirect::{
    Action, Config, DisconnectReason, Engine, Instant, MessageId, NegotiatedParams, RecvOutcome,
    Role, SendToken,
};

/// The engine plus its queue pair, driven by the calling thread.
pub(super) struct Pump {
    engine: Engine,
    qp: QueuePair<Completions>,
    done: Arc<Completions>,
    epoch: Ktime,
    recv_size: usize,
    /// The message being sent (one at a time), until the engine says it
    /// went out.
    outgoing: Option<(MessageId, KVec<u8>)>,
    incoming: KVec<u8>,
    /// A reassembled message, until the caller takes it.
    received: Option<KVec<u8>>,
    /// The negotiated parameters, once connected.
    pub(super) params: Option<NegotiatedParams>,
    /// Why the engine tore the connection down, if it did.
    pub(super) disconnect: Option<DisconnectReason>,
    /// Data transfer messages received with payload.
    pub(super) fragments_received: u32,
    /// Data transfer messages sent with payload.
    pub(super) fragments_sent: u32,
}

impl Pump {
    pub(super) fn new(
        role: Role,
        config: Config,
        qp: QueuePair<Completions>,
        done: Arc<Completions>,
    ) -> Result<Self> {
        let epoch = Ktime::ktime_get();
        let engine = Engine::new(role, config, Instant::from_millis(0)).map_err(|e| {
            pr_err!("engine config refused: {:?}\n", e);
            EINVAL
        })?;
        Ok(Self {
            engine,
            qp,
            done,
            epoch,
            recv_size: config.max_receive_size as usize,
            outgoing: None,
            incoming: KVec::new(),
            received: None,
            params: None,
            disconnect: None,
            fragments_received: 0,
            fragments_sent: 0,
        })
    }

    fn now(&self) -> Instant {
        let ms = kernel::time::ktime_ms_delta(Ktime::ktime_get(), self.epoch);
        Instant::from_millis(u64::try_from(ms).unwrap_or(0))
    }

    /// Queues one upper-layer message.
    pub(super) fn send(&mut self, msg: &[u8]) -> Result {
        if self.outgoing.is_some() {
            return Err(EBUSY);
        }
        let now = self.now();
        let id = self
            .engine
            .send_message(now, msg.len() as u32)
            .map_err(|e| {
                pr_err!("engine refused a message of {} bytes: {:?}\n", msg.len(), e);
                EINVAL
            })?;
        let mut copy = KVec::new();
        copy.extend_from_slice(msg, GFP_KERNEL)?;
        self.outgoing = Some((id, copy));
        Ok(())
    }

    /// Takes the oldest fully reassembled message, if any.
    fn take_message(&mut self) -> Option<KVec<u8>> {
        self.received.take()
    }

    /// Closes the connection through the engine.
    pub(super) fn close(&mut self) -> Result {
        let now = self.now();
        self.engine.close(now);
        self.perform()
    }

    /// Performs every pending engine action.
    pub(super) fn perform(&mut self) -> Result {
        while let Some(action) = self.engine.poll_action() {
            match action {
                Action::PostReceives(n) => {
                    let mut posted: u16 = 0;
                    let mut failed = None;
                    for _ in 0..n {
                        let r = match DmaBuf::new(self.qp.pd(), self.recv_size, DmaDir::FromDevice)
                        {
                            Ok(buf) => self.qp.post_recv(buf, 0).map_err(|(e, _, _)| e),
                            Err(e) => Err(e),
                        };
                        match r {
                            Ok(()) => posted += 1,
                            Err(e) => {
                                failed = Some(e);
                                break;
                            }
                        }
                    }
                    // Only receives really posted may be granted.
                    let now = self.now();
                    let _ = self.engine.on_receives_posted(now, posted);
                    if let Some(e) = failed {
                        self.engine.on_receive_post_failed(now, n - posted);
                        return Err(e);
                    }
                }
                Action::Transmit(t) => {
                    let total = t.total_len() as usize;
                    let mut buf = DmaBuf::new(self.qp.pd(), total, DmaDir::ToDevice)?;
                    let header = t.header();
                    let payload = match t.message {
                        Some(id) => {
                            let Some((_, msg)) = self.outgoing.as_ref().filter(|(m, _)| *m == id)
                            else {
                                pr_err!("engine sent a fragment of an unknown message\n");
                                return Err(EINVAL);
                            };
                            let start = t.payload_offset as usize;
                            let end = start + t.payload_len as usize;
                            msg.get(start..end).ok_or(EINVAL)?
                        }
                        None => &[],
                    };
                    if !payload.is_empty() {
                        self.fragments_sent += 1;
                    }
                    buf.write(|b| {
                        b[..header.len()].copy_from_slice(header);
                        b[header.len()..header.len() + payload.len()].copy_from_slice(payload);
                    });
                    self.qp
                        .post_send(buf, total as u32, t.token.to_raw())
                        .map_err(|(e, _, _)| e)?;
                }
                Action::Connected(p) => self.params = Some(p),
                Action::MessageSent(id) => {
                    if self.outgoing.as_ref().is_some_and(|(m, _)| *m == id) {
                        self.outgoing = None;
                    }
                }
                Action::Disconnect(r) => {
                    if self.disconnect.is_none() {
                        self.disconnect = Some(r);
                    }
                }
            }
        }
        Ok(())
    }

    fn feed(&mut self, done: Done<u64>) -> Result {
        let now = self.now();
        match done.kind {
            WorkKind::Recv if done.is_ok() => {
                let Some(mut buf) = done.buf else {
                    return Err(EINVAL);
                };
                let len = done.byte_len as usize;
                let mut bytes = KVec::new();
                buf.read(|b| bytes.extend_from_slice(&b[..len.min(b.len())], GFP_KERNEL))?;
                match self.engine.on_recv(now, &bytes) {
                    Ok(RecvOutcome::Repost) => match self.qp.post_recv(buf, 0) {
                        Ok(()) => {
                            let _ = self.engine.on_receives_posted(now, 1);
                        }
                        Err((e, _, _)) => {
                            self.engine.on_receive_post_failed(now, 1);
                            return Err(e);
                        }
                    },
                    Ok(RecvOutcome::Deliver(d)) => {
                        self.fragments_received += 1;
                        let start = d.data_offset as usize;
                        let end = start + d.data_length as usize;
                        self.incoming
                            .extend_from_slice(bytes.get(start..end).ok_or(EINVAL)?, GFP_KERNEL)?;
                        if d.end_of_message {
                            if self.received.is_some() {
                                pr_err!("a second message arrived before the first was taken\n");
                                return Err(EBUSY);
                            }
                            self.received = Some(core::mem::take(&mut self.incoming));
                        }
                        // The payload is copied: the buffer is consumed.
                        drop(buf);
                        let _ = self.engine.buffers_consumed(now, 1);
                    }
                    Ok(RecvOutcome::Release) => drop(buf),
                    Err(e) => {
                        pr_err!("engine refused a received message: {:?}\n", e);
                    }
                }
            }
            WorkKind::Recv => self.engine.on_recv_failed(now),
            WorkKind::Send if done.is_ok() => {
                let _ = self
                    .engine
                    .on_send_complete(now, SendToken::from_raw(done.tag));
            }
            WorkKind::Send => self
                .engine
                .on_send_failed(now, SendToken::from_raw(done.tag)),
            _ => {}
        }
        self.perform()
    }

    /// Drives the connection until `until` holds, the engine disconnects, or
    /// `timeout_ms` passes.
    pub(super) fn run(&mut self, timeout_ms: u64, mut until: impl FnMut(&Self) -> bool) -> Result {
        let deadline = self.now().as_millis().saturating_add(timeout_ms);
        self.perform()?;
        loop {
            if until(self) {
                return Ok(());
            }
            if self.disconnect.is_some() {
                return Err(kernel::error::code::EPIPE);
            }
            let now = self.now();
            if now.as_millis() >= deadline {
                return Err(crate::ib::errno(kernel::bindings::ETIMEDOUT));
            }
            let mut wait = deadline - now.as_millis();
            if let Some(t) = self.engine.poll_timeout() {
                wait = wait.min(t.as_millis().saturating_sub(now.as_millis()));
            }
            match self.done.wait_any(wait.clamp(1, 200) as u32)? {
                Some(done) => self.feed(done)?,
                None => {
                    let now = self.now();
                    self.engine.on_timeout(now);
                    self.perform()?;
                }
            }
        }
    }

    /// Drives the connection until MS-SMBD negotiation finishes and returns
    /// the negotiated parameters.
    pub(super) fn negotiate(&mut self, timeout_ms: u64) -> Result<NegotiatedParams> {
        self.run(timeout_ms, |p| p.params.is_some())?;
        self.params.ok_or(EINVAL)
    }

    /// Drives the connection until a whole upper-layer message has arrived
    /// and returns it.
    pub(super) fn next_message(&mut self, timeout_ms: u64) -> Result<KVec<u8>> {
        self.run(timeout_ms, |p| p.has_message())?;
        self.take_message().ok_or(EINVAL)
    }

    /// The queue pair, for connecting and accepting.
    pub(super) fn queue_pair(&self) -> &QueuePair<Completions> {
        &self.qp
    }

    /// Whether a reassembled message is waiting.
    fn has_message(&self) -> bool {
        self.received.is_some()
    }
}
