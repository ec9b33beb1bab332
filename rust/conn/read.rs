// SPDX-License-Identifier: GPL-2.0

//! The reader's side of a connection: upper-layer messages taken as a byte
//! stream with boundaries.
//!
//! A reader first learns the length of the next message
//! ([`Connection::next_message`]), then reads its bytes in as many pieces as
//! it likes ([`Connection::read_message`]); the pieces are handed over where
//! they lie in the receive buffers, and each buffer is posted again as soon
//! as its last byte is read. cifs reads this way (a length, then the PDU in
//! parts); [`Connection::recv`] reads a whole message into one buffer.

use kernel::prelude::*;

use super::core::ConnCore;
use super::state::StateGuard;
use super::Connection;
use crate::ib::{errno, DmaBuf};
use crate::smbdirect::Delivery;

/// Where the reader is: the open message's length and the bytes of it not
/// read yet. Kept under the reader lock, so one reader reads at a time.
#[derive(Default)]
pub(super) struct ReadCursor {
    open: Option<(u32, u32)>,
}

/// How a fragment taken for reading fits the open message.
fn fits(d: &Delivery, read: u32, total: u32, at: u32) -> bool {
    d.message_length == total
        && read < d.data_length
        && d.message_offset.checked_add(read) == Some(at)
}

impl Connection {
    /// Waits at most `timeout_ms` for the next upper-layer message and
    /// returns its length; [`Connection::read_message`] then reads it. Asked
    /// again before a byte of it is read, it returns the same length; asked
    /// in the middle of a message, it fails with `EINVAL`.
    pub fn next_message(&self, timeout_ms: u32) -> Result<u32> {
        let mut cursor = self.core.reader.lock();
        self.open_message(&mut cursor, timeout_ms)
    }

    fn open_message(&self, cursor: &mut ReadCursor, timeout_ms: u32) -> Result<u32> {
        match cursor.open {
            Some((total, left)) if total == left => return Ok(total),
            Some(_) => return Err(EINVAL),
            None => {}
        }
        let core = self.core.as_arc_borrow();
        let mut left = ConnCore::jiffies(timeout_ms);
        let mut st = core.state.lock();
        loop {
            // A partly read fragment means a message is open: not here.
            if let Some((_, d)) = st.ready.peek() {
                let d = *d;
                if !d.start_of_message || d.message_offset != 0 || d.message_length == 0 {
                    pr_err_ratelimited!(
                        "smbdirect-rs: a message does not start where one should\n"
                    );
                    ConnCore::fail(core, &mut st, EIO);
                    return Err(EIO);
                }
                cursor.open = Some((d.message_length, d.message_length));
                return Ok(d.message_length);
            }
            if let Some(e) = st.broken() {
                return Err(e);
            }
            if !ConnCore::wait(&core.readable, &mut st, &mut left)? {
                return Err(errno(kernel::bindings::ETIMEDOUT));
            }
        }
    }

    /// Reads the next `len` bytes of the open message, handing them to
    /// `sink` in pieces as they lie in the receive buffers (no lock is held
    /// while `sink` runs). `len` must not pass the end of the message.
    ///
    /// Returns the bytes read: all `len` of them, or fewer if a signal came
    /// while waiting for the rest (an error if it came before any). A
    /// message whose next fragment does not come within `timeout_ms` ends
    /// the connection, since the stream cannot be resumed mid-message; so
    /// does an error from `sink`, which has taken part of a fragment.
    pub fn read_message(
        &self,
        len: u32,
        timeout_ms: u32,
        sink: &mut dyn FnMut(&[u8]) -> Result,
    ) -> Result<u32> {
        let mut cursor = self.core.reader.lock();
        self.read_open(&mut cursor, len, timeout_ms, sink)
    }

    fn read_open(
        &self,
        cursor: &mut ReadCursor,
        len: u32,
        timeout_ms: u32,
        sink: &mut dyn FnMut(&[u8]) -> Result,
    ) -> Result<u32> {
        let Some((total, unread)) = cursor.open else {
            return Err(EINVAL);
        };
        if len > unread {
            return Err(EINVAL);
        }
        let core = self.core.as_arc_borrow();
        let mut left = ConnCore::jiffies(timeout_ms);
        let mut done = 0u32;
        while done < len {
            let mut st = core.state.lock();
            let (mut buf, d, read) = loop {
                if let Some(p) = st.partial.take() {
                    break p;
                }
                if let Some((buf, d)) = st.ready.pop() {
                    break (buf, d, 0);
                }
                if let Some(e) = st.broken() {
                    return if done > 0 { Ok(done) } else { Err(e) };
                }
                match ConnCore::wait(&core.readable, &mut st, &mut left) {
                    Ok(true) => {}
                    Ok(false) => {
                        let e = errno(kernel::bindings::ETIMEDOUT);
                        pr_err_ratelimited!(
                            "smbdirect-rs: the rest of a message did not come in time\n"
                        );
                        ConnCore::fail(core, &mut st, e);
                        return Err(e);
                    }
                    Err(e) if done == 0 => return Err(e),
                    Err(_) => return Ok(done),
                }
            };
            drop(st);
            let at = total - cursor.open.map_or(0, |(_, u)| u);
            let n = (len - done).min(d.data_length.saturating_sub(read));
            let copied = if fits(&d, read, total, at) {
                let from = (d.data_offset + read) as usize;
                buf.read(|b| match b.get(from..from + n as usize) {
                    Some(src) => sink(src),
                    None => Err(EIO),
                })
            } else {
                Err(EIO)
            };
            let mut st = core.state.lock();
            if let Err(e) = copied {
                pr_err_ratelimited!(
                    "smbdirect-rs: a fragment could not be read into its message ({:?})\n",
                    e
                );
                Self::recycle(core, st, buf);
                let mut st = core.state.lock();
                ConnCore::fail(core, &mut st, EIO);
                return Err(EIO);
            }
            done += n;
            cursor.open = Some((total, unread - done));
            if read + n < d.data_length {
                if st.broken().is_none() {
                    st.partial = Some((buf, d, read + n));
                } else {
                    drop(st);
                    drop(buf);
                }
                continue;
            }
            if d.end_of_message {
                st.counters.messages_read += 1;
            }
            Self::recycle(core, st, buf);
        }
        if unread == done {
            cursor.open = None;
        }
        Ok(done)
    }

    /// Gives a receive buffer whose payload was read back to the pool, and
    /// tells the engine, which may grant the peer a credit for it.
    fn recycle(core: kernel::sync::ArcBorrow<'_, ConnCore>, mut st: StateGuard<'_>, buf: DmaBuf) {
        if st.broken().is_some() {
            // The teardown may have emptied the pools already: free the
            // buffer rather than keep the device's PD alive.
            drop(st);
            drop(buf);
            return;
        }
        let _ = st.free_recvs.push(buf);
        st.counters.receives_recycled += 1;
        let now = core.now();
        if let Err(e) = st.engine.buffers_consumed(now, 1) {
            pr_err_ratelimited!("smbdirect-rs: {}\n", e);
        }
        ConnCore::handle_events(core, &mut st);
        drop(st);
        ConnCore::pump(core);
    }

    /// Reads the stream cifs's and ksmbd's receive loops read, as from a
    /// TCP socket: at a message boundary `want` must be 4 and gets the
    /// next message's length, big endian (the RFC 1002 header of SMB over
    /// TCP, which SMB Direct does not send), waiting at most `first_ms`
    /// for the message (`ETIMEDOUT`); then the message's bytes, in reads
    /// of any size up to its end (see [`Connection::read_message`], with
    /// `rest_ms`). Returns the bytes handed to `sink`. A read across a
    /// message boundary is refused with `EINVAL`.
    pub fn read_framed(
        &self,
        want: usize,
        first_ms: u32,
        rest_ms: u32,
        sink: &mut dyn FnMut(&[u8]) -> Result,
    ) -> Result<usize> {
        let mut cursor = self.core.reader.lock();
        if want == 0 {
            return Ok(0);
        }
        match cursor.open {
            None if want == 4 => {
                let len = self.open_message(&mut cursor, first_ms)?;
                sink(&len.to_be_bytes())?;
                Ok(4)
            }
            Some((_, unread)) if want <= unread as usize => {
                let n = self.read_open(&mut cursor, want as u32, rest_ms, sink)?;
                Ok(n as usize)
            }
            _ => Err(EINVAL),
        }
    }

    /// Waits at most `timeout_ms` for the next upper-layer message and
    /// copies it into `buf`; returns its length. A message longer than
    /// `buf` stays queued and gives `EMSGSIZE`.
    pub fn recv(&self, buf: &mut [u8], timeout_ms: u32) -> Result<usize> {
        let mut cursor = self.core.reader.lock();
        let len = self.open_message(&mut cursor, timeout_ms)?;
        let dst = buf
            .get_mut(..len as usize)
            .ok_or(errno(kernel::bindings::EMSGSIZE))?;
        let mut at = 0usize;
        let mut copy = |src: &[u8]| -> Result {
            let to = dst.get_mut(at..at + src.len()).ok_or(EIO)?;
            to.copy_from_slice(src);
            at += src.len();
            Ok(())
        };
        let mut done = 0;
        while done < len {
            done += self.read_open(&mut cursor, len - done, timeout_ms, &mut copy)?;
        }
        Ok(len as usize)
    }
}
