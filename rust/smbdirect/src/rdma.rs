// SPDX-License-Identifier: GPL-2.0

//! RDMA read/write credits and the IRD/ORD of a connection (§3.1.4.3,
//! §3.1.4.4; known bug 22's "read/write credits for RDMA read/write").
//!
//! A server moves SMB2 READ and WRITE payload with RDMA writes and reads
//! into and out of the client's buffers. Each such work request takes a
//! slot of the send queue beside the sends, so the transport sizes the QP
//! for `Config::rdma_credit_max` of them and the engine lends them out:
//! `rdma_acquire` before posting, `rdma_release` when the work completes.
//! RDMA reads are bounded a second time by the ORD, the reads the peer
//! accepted to have outstanding at once (its responder resources, as the
//! rdma_cm exchange negotiated them).

use super::error::{LocalError, RdmaError};

/// The kind of an RDMA operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RdmaOp {
    /// An RDMA read from the peer's memory (the server's side of an SMB2
    /// WRITE).
    Read,
    /// An RDMA write into the peer's memory (the server's side of an SMB2
    /// READ).
    Write,
}

/// The inbound and outbound RDMA read depths of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IrdOrd {
    /// Responder resources: the peer's reads we serve at once (IRD).
    pub ird: u8,
    /// Initiator depth: our reads outstanding at once (ORD).
    pub ord: u8,
}

impl IrdOrd {
    /// The 8 bytes of connect private data that carry IRD/ORD over iWARP:
    /// IRD then ORD, big-endian 32-bit. MPA v1 (legacy iWARP) has no
    /// negotiation of its own, so Windows and Linux peers send these
    /// alongside the connection parameters.
    pub fn to_iwarp_private(self) -> [u8; 8] {
        let mut out = [0u8; 8];
        out[..4].copy_from_slice(&u32::from(self.ird).to_be_bytes());
        out[4..].copy_from_slice(&u32::from(self.ord).to_be_bytes());
        out
    }

    /// The peer's IRD/ORD from an iWARP connect request's private data,
    /// when the peer is legacy: the data is exactly 8 bytes and disagrees
    /// with what the connection parameters `reported` (an MPA v2 peer
    /// sends the same values; cifs sends them in host order, which also
    /// disagrees, as ksmbd treats it). Values are cut to 255, the width of
    /// the connection parameters. `None` otherwise: keep `reported`.
    pub fn from_iwarp_private(private: &[u8], reported: IrdOrd) -> Option<IrdOrd> {
        let (ird, ord) = match private {
            [a, b, c, d, e, f, g, h] => (
                u32::from_be_bytes([*a, *b, *c, *d]),
                u32::from_be_bytes([*e, *f, *g, *h]),
            ),
            _ => return None,
        };
        if (ird, ord) == (u32::from(reported.ird), u32::from(reported.ord)) {
            return None;
        }
        let cut = |v: u32| u8::try_from(v).unwrap_or(u8::MAX);
        Some(IrdOrd {
            ird: cut(ird),
            ord: cut(ord),
        })
    }
}

/// Returns the IRD/ORD to accept or connect with: our ORD cannot exceed the
/// reads the peer serves (its IRD) nor what the device initiates
/// (`max_qp_init_rd_atom`), and our IRD cannot exceed the peer's ORD nor
/// what the device serves (`max_qp_rd_atom`).
pub fn negotiate_ird_ord(peer: IrdOrd, max_qp_rd_atom: u8, max_qp_init_rd_atom: u8) -> IrdOrd {
    IrdOrd {
        ird: peer.ord.min(max_qp_rd_atom),
        ord: peer.ird.min(max_qp_init_rd_atom),
    }
}

/// The RDMA read/write credits of one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RdmaCredits {
    max: u16,
    held: u16,
    max_reads: u16,
    reads: u16,
}

impl RdmaCredits {
    /// Creates `max` credits; reads are refused until [`Self::set_ord`].
    pub const fn new(max: u16) -> Self {
        RdmaCredits {
            max,
            held: 0,
            max_reads: 0,
            reads: 0,
        }
    }

    /// Sets the most RDMA reads outstanding at once, the negotiated ORD.
    pub fn set_ord(&mut self, ord: u8) {
        self.max_reads = u16::from(ord).min(self.max);
    }

    /// Returns the credits held by RDMA work in flight.
    pub const fn held(&self) -> u16 {
        self.held
    }

    /// Returns the RDMA reads in flight.
    pub const fn reads(&self) -> u16 {
        self.reads
    }

    /// Takes `n` credits for `n` work requests of kind `op`.
    pub fn acquire(&mut self, op: RdmaOp, n: u16) -> Result<(), RdmaError> {
        let max = match op {
            RdmaOp::Read => self.max_reads,
            RdmaOp::Write => self.max,
        };
        if n == 0 || n > max {
            return Err(RdmaError::TooLarge { wanted: n, max });
        }
        let held = self.held.saturating_add(n);
        let reads = match op {
            RdmaOp::Read => self.reads.saturating_add(n),
            RdmaOp::Write => self.reads,
        };
        if held > self.max || reads > self.max_reads {
            return Err(RdmaError::WouldBlock);
        }
        self.held = held;
        self.reads = reads;
        Ok(())
    }

    /// Returns `n` credits of completed work requests of kind `op`.
    pub fn release(&mut self, op: RdmaOp, n: u16) -> Result<(), LocalError> {
        let held = match op {
            RdmaOp::Read => self.reads,
            RdmaOp::Write => self.held.saturating_sub(self.reads),
        };
        if n > held {
            return Err(LocalError::TooManyRdmaReleased { released: n, held });
        }
        self.held = self.held.saturating_sub(n);
        if let RdmaOp::Read = op {
            self.reads = self.reads.saturating_sub(n);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads are bounded by the ORD as well as by the credits; writes only
    /// by the credits.
    #[test]
    fn credits_and_ord() {
        let mut c = RdmaCredits::new(8);
        assert_eq!(
            c.acquire(RdmaOp::Read, 1),
            Err(RdmaError::TooLarge { wanted: 1, max: 0 })
        );
        c.set_ord(2);
        c.acquire(RdmaOp::Read, 2).unwrap();
        assert_eq!(c.acquire(RdmaOp::Read, 1), Err(RdmaError::WouldBlock));
        c.acquire(RdmaOp::Write, 6).unwrap();
        assert_eq!(c.acquire(RdmaOp::Write, 1), Err(RdmaError::WouldBlock));
        assert_eq!(
            c.acquire(RdmaOp::Write, 9),
            Err(RdmaError::TooLarge { wanted: 9, max: 8 })
        );
        assert_eq!(
            c.release(RdmaOp::Write, 7),
            Err(LocalError::TooManyRdmaReleased {
                released: 7,
                held: 6
            })
        );
        c.release(RdmaOp::Read, 1).unwrap();
        assert_eq!((c.held(), c.reads()), (7, 1));
        c.acquire(RdmaOp::Read, 1).unwrap();
        c.release(RdmaOp::Read, 2).unwrap();
        c.release(RdmaOp::Write, 6).unwrap();
        assert_eq!((c.held(), c.reads()), (0, 0));
    }

    /// Legacy iWARP private data: taken only when it is 8 bytes and
    /// disagrees with the connection parameters; cut to a byte; written
    /// back big-endian.
    #[test]
    fn iwarp_private_data() {
        let reported = IrdOrd { ird: 32, ord: 1 };
        let same = reported.to_iwarp_private();
        assert_eq!(same, [0, 0, 0, 32, 0, 0, 0, 1]);
        assert_eq!(IrdOrd::from_iwarp_private(&same, reported), None);
        let legacy = [0, 0, 0, 8, 0, 0, 0, 4];
        assert_eq!(
            IrdOrd::from_iwarp_private(&legacy, reported),
            Some(IrdOrd { ird: 8, ord: 4 })
        );
        // cifs writes host order (little-endian): 32 and 1.
        let cifs = [32, 0, 0, 0, 1, 0, 0, 0];
        assert_eq!(
            IrdOrd::from_iwarp_private(&cifs, reported),
            Some(IrdOrd { ird: 255, ord: 255 })
        );
        assert_eq!(IrdOrd::from_iwarp_private(&legacy[..7], reported), None);
        assert_eq!(IrdOrd::from_iwarp_private(&[0; 9], reported), None);
        assert_eq!(IrdOrd::from_iwarp_private(&[], reported), None);
        let big = [0, 0, 1, 0, 0, 0, 0, 255];
        assert_eq!(
            IrdOrd::from_iwarp_private(&big, reported),
            Some(IrdOrd { ird: 255, ord: 255 })
        );
        let one_differs = [0, 0, 0, 32, 0, 0, 0, 2];
        assert_eq!(
            IrdOrd::from_iwarp_private(&one_differs, reported),
            Some(IrdOrd { ird: 32, ord: 2 })
        );
    }

    /// Each side's depth is bounded by the other side and by the device.
    #[test]
    fn ird_ord() {
        let peer = IrdOrd { ird: 16, ord: 4 };
        assert_eq!(negotiate_ird_ord(peer, 8, 8), IrdOrd { ird: 4, ord: 8 });
        assert_eq!(negotiate_ird_ord(peer, 2, 32), IrdOrd { ird: 2, ord: 16 });
    }
}
