// SPDX-License-Identifier: GPL-2.0

//! Local protocol parameters (§3.1.1.1) and their defaults.
//!
//! The defaults follow the Linux implementation, which the specification
//! leaves to the implementer: 255 credits, 1364-byte messages (so that a
//! 24-byte header leaves 1340 payload bytes), 120-second keepalive and
//! negotiate timers.

use super::error::ConfigError;
use super::fragment::{max_fragment_payload, MAX_SEND_QUEUE_DEPTH};
use super::wire::{MIN_FRAGMENTED_SIZE, MIN_RECEIVE_SIZE};

/// Which end of the connection the engine runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The initiator, which sends the negotiate request (cifs).
    Client,
    /// The responder, which answers it (ksmbd).
    Server,
}

/// The RDMA transport family, which decides the TCP-like port number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// iWARP, which shares the IP port space with TCP.
    Iwarp,
    /// InfiniBand or RoCE, which have a port space of their own.
    InfinibandOrRoce,
}

/// How the upper layer takes payload out of delivered receive buffers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consumer {
    /// Buffers are returned (`buffers_consumed`) as their payload is copied
    /// out, whether or not the message is complete.
    Streaming,
    /// Buffers are kept until the whole upper-layer message has arrived, as
    /// the Linux client reads a whole PDU at a time. Then every message of
    /// `max_fragmented_recv_size` bytes must fit in the receive buffers, or
    /// all of them end up parked and no credit can be granted (known bug 10).
    WholeMessage,
}

/// The port for SMB Direct over iWARP (§1.9, [MS-SMB2] §2.1).
pub const SMBD_PORT_IWARP: u16 = 5445;

/// The port for SMB Direct over InfiniBand and RoCE.
pub const SMBD_PORT_IB: u16 = 445;

/// Returns the port SMB Direct uses on a transport.
///
/// iWARP runs over TCP, so it cannot share port 445 with SMB over TCP and
/// uses 5445; InfiniBand and RoCE have their own port namespace and use 445.
/// Mixing them up is one of the upstream interoperability bugs.
pub const fn port_for(transport: TransportKind) -> u16 {
    match transport {
        TransportKind::Iwarp => SMBD_PORT_IWARP,
        TransportKind::InfinibandOrRoce => SMBD_PORT_IB,
    }
}

/// The local parameters of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// The number of receive buffers the transport allocates; the engine
    /// never posts (or grants) more (Connection.ReceiveCreditMax).
    pub receive_credit_max: u16,
    /// The number of send credits we ask the peer for
    /// (Connection.SendCreditTarget).
    pub send_credit_target: u16,
    /// The number of sends the transport can have in flight at once.
    pub send_queue_depth: u16,
    /// The largest message we send, header included (Connection.MaxSendSize).
    pub max_send_size: u32,
    /// The size of each receive buffer (Connection.MaxReceiveSize).
    pub max_receive_size: u32,
    /// The largest upper-layer message we reassemble
    /// (Connection.MaxFragmentedRecvSize).
    pub max_fragmented_recv_size: u32,
    /// The largest RDMA read or write we perform or allow
    /// (Connection.MaxReadWriteSize).
    pub max_read_write_size: u32,
    /// The idle time after which a keepalive is sent (§3.1.2.2).
    pub keepalive_interval_ms: u64,
    /// The time an unanswered keepalive waits before the connection is
    /// dropped.
    pub keepalive_timeout_ms: u64,
    /// The time the negotiate exchange may take.
    pub negotiate_timeout_ms: u64,
    /// How the upper layer consumes delivered buffers.
    pub consumer: Consumer,
    /// The RDMA read/write (or memory-registration) work requests the
    /// transport may have on the send queue beside the sends; the engine
    /// lends them out with `rdma_acquire` (ksmbd's read/write credits).
    pub rdma_credit_max: u16,
}

/// The limits of an RDMA device that bound a configuration (`ib_device_attr`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceCaps {
    /// The most work requests of one queue (send or receive) of a QP.
    pub max_qp_wr: u32,
    /// The most entries of one completion queue.
    pub max_cqe: u32,
    /// The most SGEs of one send work request.
    pub max_send_sge: u32,
    /// The most SGEs of one receive work request.
    pub max_recv_sge: u32,
    /// The most pages one fast-registration MR maps.
    pub max_fast_reg_page_list_len: u32,
    /// The page size of fast registration.
    pub page_size: u32,
}

impl Config {
    /// The defaults of the Linux client (cifs).
    ///
    /// `max_fragmented_recv_size` is 173910, which is (255 * 1364) / 2: half
    /// of the receive buffers can hold a partial message, so that the other
    /// half can always be posted and granted (known bug 10).
    pub const fn default_client() -> Self {
        Config {
            receive_credit_max: 255,
            send_credit_target: 255,
            send_queue_depth: 255,
            max_send_size: 1364,
            max_receive_size: 1364,
            max_fragmented_recv_size: 173_910,
            max_read_write_size: 1_048_576,
            keepalive_interval_ms: 120_000,
            keepalive_timeout_ms: 120_000,
            negotiate_timeout_ms: 120_000,
            consumer: Consumer::WholeMessage,
            rdma_credit_max: 0,
        }
    }

    /// The defaults of the Linux server (ksmbd), with the safe fragmented
    /// size of the client instead of ksmbd 6.12's 1 MiB.
    pub const fn default_server() -> Self {
        Config {
            max_read_write_size: 8 * 1_048_576,
            // Work requests, not I/Os: a 1 MiB transfer takes 8 of them
            // over rxe (32 SGEs each) and 43 over siw (6). ksmbd lets its
            // max read/write size (8 MiB) be in flight; 16 held the Rust
            // server to one or two 1 MiB transfers at a time.
            rdma_credit_max: 256,
            ..Self::default_client()
        }
    }

    /// Returns the default configuration of a role.
    pub const fn default_for(role: Role) -> Self {
        match role {
            Role::Client => Self::default_client(),
            Role::Server => Self::default_server(),
        }
    }

    /// Returns the fragmented receive size that half of the receive
    /// buffers can hold, the rule behind Linux's 173910.
    pub const fn safe_max_fragmented_recv_size(&self) -> u32 {
        let all = (self.receive_credit_max as u64).saturating_mul(self.max_receive_size as u64) / 2;
        if all > u32::MAX as u64 {
            u32::MAX
        } else {
            all as u32
        }
    }

    /// Checks that every value is within what the protocol allows.
    pub const fn validate(&self) -> Result<(), ConfigError> {
        if self.receive_credit_max < 3 {
            return Err(ConfigError::ReceiveCreditMaxTooSmall);
        }
        if self.send_credit_target == 0 {
            return Err(ConfigError::ZeroSendCreditTarget);
        }
        if self.send_queue_depth == 0 {
            return Err(ConfigError::ZeroSendQueueDepth);
        }
        if self.max_send_size < MIN_RECEIVE_SIZE {
            return Err(ConfigError::MaxSendSizeTooSmall);
        }
        if self.max_receive_size < MIN_RECEIVE_SIZE {
            return Err(ConfigError::MaxReceiveSizeTooSmall);
        }
        if self.max_fragmented_recv_size < MIN_FRAGMENTED_SIZE {
            return Err(ConfigError::MaxFragmentedSizeTooSmall);
        }
        if self.keepalive_interval_ms == 0
            || self.keepalive_timeout_ms == 0
            || self.negotiate_timeout_ms == 0
        {
            return Err(ConfigError::ZeroTimeout);
        }
        if self.send_queue_depth > MAX_SEND_QUEUE_DEPTH {
            return Err(ConfigError::SendQueueDepthTooLarge);
        }
        if let Consumer::WholeMessage = self.consumer {
            // One buffer more than the message fills: the reserve receive
            // that lets a last send credit carry a grant while the rest
            // hold a partial message (without it two such ends stall).
            let needed = self.buffers_for_message();
            if needed >= self.receive_credit_max as u32 {
                return Err(ConfigError::ReassemblyExhaustion {
                    needed,
                    buffers: self.receive_credit_max,
                });
            }
        }
        Ok(())
    }

    /// Returns the receive buffers one `max_fragmented_recv_size` message
    /// fills when the peer sends full fragments of `max_receive_size` bytes
    /// with the 24-byte header Linux and this engine use.
    pub const fn buffers_for_message(&self) -> u32 {
        let payload = max_fragment_payload(self.max_receive_size);
        if payload == 0 {
            return u32::MAX;
        }
        self.max_fragmented_recv_size.div_ceil(payload)
    }

    /// Checks the configuration against the device (known bug 12): the
    /// sends, the RDMA read/write credits and one drain request must fit in
    /// the send queue, the receives and one drain request in the receive
    /// queue, every completion in one CQ, a message in the SGEs and
    /// `max_read_write_size` in one fast-registration MR.
    pub fn check_device(&self, dev: &DeviceCaps) -> Result<(), ConfigError> {
        self.validate()?;
        let send_wrs = u32::from(self.send_queue_depth)
            .saturating_add(u32::from(self.rdma_credit_max))
            .saturating_add(1);
        let recv_wrs = u32::from(self.receive_credit_max).saturating_add(1);
        for needed in [send_wrs, recv_wrs] {
            if needed > dev.max_qp_wr {
                return Err(ConfigError::QueueTooDeep {
                    needed,
                    max_qp_wr: dev.max_qp_wr,
                });
            }
        }
        let cqes = send_wrs.saturating_add(recv_wrs);
        if cqes > dev.max_cqe {
            return Err(ConfigError::CqTooSmall {
                needed: cqes,
                max_cqe: dev.max_cqe,
            });
        }
        if dev.max_send_sge == 0 || dev.max_recv_sge == 0 {
            return Err(ConfigError::TooFewSge);
        }
        let rw_bytes = self.rw_bytes(dev);
        if u64::from(self.max_read_write_size) > rw_bytes {
            return Err(ConfigError::ReadWriteTooLarge { max: rw_bytes });
        }
        Ok(())
    }

    /// Returns the bytes one transfer can register: one MR per I/O on a
    /// client (as cifs), one per RDMA read/write credit on a server (as
    /// ksmbd's rdma_rw contexts).
    fn rw_bytes(&self, dev: &DeviceCaps) -> u64 {
        u64::from(dev.max_fast_reg_page_list_len)
            .saturating_mul(u64::from(dev.page_size))
            .saturating_mul(u64::from(self.rdma_credit_max.max(1)))
    }

    /// Lowers the queue depths, credits and sizes that exceed the device, as
    /// upstream asks its users to ("consider lowering send_credit_target"),
    /// and returns the result if it then passes [`Config::check_device`].
    pub fn fit_device(&self, dev: &DeviceCaps) -> Result<Config, ConfigError> {
        let mut c = *self;
        // Half the CQ each way, one WR of each queue for the drain.
        let per_queue = dev.max_qp_wr.min(dev.max_cqe / 2).saturating_sub(1);
        let per_queue = u16::try_from(per_queue).unwrap_or(u16::MAX);
        c.receive_credit_max = c.receive_credit_max.min(per_queue);
        c.rdma_credit_max = c.rdma_credit_max.min(per_queue / 4);
        c.send_queue_depth = c
            .send_queue_depth
            .min(per_queue.saturating_sub(c.rdma_credit_max));
        c.send_credit_target = c.send_credit_target.min(c.receive_credit_max);
        c.max_read_write_size = c
            .max_read_write_size
            .min(u32::try_from(c.rw_bytes(dev)).unwrap_or(u32::MAX));
        if let Consumer::WholeMessage = c.consumer {
            // Fewer buffers hold less: shrink the largest message to fit.
            let fits = u32::from(c.receive_credit_max.saturating_sub(1))
                .saturating_mul(max_fragment_payload(c.max_receive_size));
            c.max_fragmented_recv_size = c
                .max_fragmented_recv_size
                .min(fits)
                .max(MIN_FRAGMENTED_SIZE);
        }
        c.check_device(dev)?;
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Known bug 17: iWARP uses 5445, InfiniBand and RoCE use 445.
    #[test]
    fn port_choice() {
        assert_eq!(port_for(TransportKind::Iwarp), 5445);
        assert_eq!(port_for(TransportKind::InfinibandOrRoce), 445);
    }

    /// The defaults match Linux and pass validation.
    #[test]
    fn defaults() {
        let c = Config::default_client();
        assert_eq!(c.receive_credit_max, 255);
        assert_eq!(c.send_credit_target, 255);
        assert_eq!(c.max_send_size, 1364);
        assert_eq!(c.max_receive_size, 1364);
        assert_eq!(c.max_fragmented_recv_size, 173_910);
        assert_eq!(c.safe_max_fragmented_recv_size(), 173_910);
        assert_eq!(c.keepalive_interval_ms, 120_000);
        assert_eq!(c.negotiate_timeout_ms, 120_000);
        assert_eq!(c.validate(), Ok(()));
        assert_eq!(Config::default_server().validate(), Ok(()));
        assert_eq!(
            Config::default_for(Role::Server).max_read_write_size,
            8 << 20
        );
    }

    #[test]
    fn validate_errors() {
        let ok = Config::default_client();
        let cases: [(Config, ConfigError); 7] = [
            (
                Config {
                    receive_credit_max: 2,
                    ..ok
                },
                ConfigError::ReceiveCreditMaxTooSmall,
            ),
            (
                Config {
                    send_credit_target: 0,
                    ..ok
                },
                ConfigError::ZeroSendCreditTarget,
            ),
            (
                Config {
                    send_queue_depth: 0,
                    ..ok
                },
                ConfigError::ZeroSendQueueDepth,
            ),
            (
                Config {
                    max_send_size: 127,
                    ..ok
                },
                ConfigError::MaxSendSizeTooSmall,
            ),
            (
                Config {
                    max_receive_size: 127,
                    ..ok
                },
                ConfigError::MaxReceiveSizeTooSmall,
            ),
            (
                Config {
                    max_fragmented_recv_size: 131_071,
                    ..ok
                },
                ConfigError::MaxFragmentedSizeTooSmall,
            ),
            (
                Config {
                    keepalive_interval_ms: 0,
                    ..ok
                },
                ConfigError::ZeroTimeout,
            ),
        ];
        for (c, e) in cases {
            assert_eq!(c.validate(), Err(e));
        }
    }
}
