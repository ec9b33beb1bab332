// SPDX-License-Identifier: GPL-2.0

//! A sans-I/O engine for SMB Direct, the SMB2 RDMA transport of [MS-SMBD].
//!
//! The engine implements the protocol rules (negotiation, credits,
//! fragmentation and reassembly, keepalives, buffer descriptors) and none of
//! the I/O. It owns no buffers, never blocks and never reads a clock: the
//! transport (cifs or ksmbd glue in the kernel, a simulator in tests) tells
//! it what happened and asks it what to do next. The same sources build on
//! the host for tests, property tests, fuzzing and benchmarks, and inside
//! the Linux kernel, where this file is included as a module with
//! `#[path = ".../rust/smbdirect/src/lib.rs"] pub mod smbdirect;`.
//!
//! # Driving the engine
//!
//! Inputs are methods of [`Engine`]: [`Engine::on_recv`],
//! [`Engine::on_receives_posted`], [`Engine::on_send_complete`],
//! [`Engine::send_message`], [`Engine::buffers_consumed`],
//! [`Engine::on_timeout`] and a few more. After any input the transport
//! polls [`Engine::poll_receives`], [`Engine::poll_transmit`] and
//! [`Engine::poll_event`] (or all three through [`Engine::poll_action`]),
//! performs what they return, then arms a timer for
//! [`Engine::poll_timeout`]. Receives count as posted, and are granted to
//! the peer, only once reported with [`Engine::on_receives_posted`].
//!
//! ```
//! use smbdirect::{Action, Config, Engine, Instant, RecvOutcome, Role};
//!
//! let now = Instant::from_millis(0);
//! let mut client = Engine::new(Role::Client, Config::default_client(), now).unwrap();
//! let mut server = Engine::new(Role::Server, Config::default_server(), now).unwrap();
//!
//! // The server posts one receive for the negotiate request.
//! assert_eq!(server.poll_action(), Some(Action::PostReceives(1)));
//! server.on_receives_posted(now, 1).unwrap();
//! // The client posts one receive for the response, then sends the request.
//! assert_eq!(client.poll_action(), Some(Action::PostReceives(1)));
//! client.on_receives_posted(now, 1).unwrap();
//! let Some(Action::Transmit(request)) = client.poll_action() else { panic!() };
//! assert_eq!(request.header().len(), 20);
//!
//! // The request arrives at the server, which reposts the buffer, posts
//! // the rest of its receives and answers once they are all posted,
//! // granting all but one kept in reserve.
//! assert_eq!(server.on_recv(now, request.header()), Ok(RecvOutcome::Repost));
//! server.on_receives_posted(now, 1).unwrap();
//! assert_eq!(server.poll_action(), Some(Action::PostReceives(254)));
//! server.on_receives_posted(now, 254).unwrap();
//! let Some(Action::Transmit(response)) = server.poll_action() else { panic!() };
//! assert!(matches!(server.poll_action(), Some(Action::Connected(_))));
//!
//! // The client completes its send and processes the response.
//! client.on_send_complete(now, request.token).unwrap();
//! assert_eq!(client.on_recv(now, response.header()), Ok(RecvOutcome::Repost));
//! client.on_receives_posted(now, 1).unwrap();
//! assert_eq!(client.poll_action(), Some(Action::PostReceives(254)));
//! client.on_receives_posted(now, 254).unwrap();
//! assert!(matches!(client.poll_action(), Some(Action::Transmit(_)))); // grants
//! assert!(matches!(client.poll_action(), Some(Action::Connected(_))));
//!
//! // Upper-layer messages are queued by length and leave as fragments, no
//! // longer than the transport can map.
//! let id = client.send_message(now, 3000).unwrap();
//! let t = client.poll_transmit(1000).unwrap();
//! assert_eq!((t.message, t.payload_offset, t.payload_len), (Some(id), 0, 1000));
//! let t = client.poll_transmit(u32::MAX).unwrap();
//! assert_eq!((t.payload_offset, t.payload_len), (1000, 1340));
//! ```
//!
//! # Where the rules live
//!
//! - [`wire`]: message layouts and every per-message check (§2.2, §3.1.5.6,
//!   §3.1.5.7, §3.1.5.8).
//! - [`negotiate`]: the negotiate exchange of both roles.
//! - [`credits`]: send and receive credits and the last-credit rule
//!   (§3.1.5.9).
//! - [`fragment`]: fragmentation, the send queue and reassembly.
//! - [`timers`]: the negotiate, idle and keepalive timers (§3.1.2.2).
//! - [`mr`]: memory-registration and RDMA read/write planning.
//! - [`rdma`]: RDMA read/write credits and IRD/ORD.
//! - [`engine`]: the state machine tying them together.

#![cfg_attr(not(any(test, CONFIG_RUST)), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects,
        clippy::float_arithmetic
    )
)]

pub mod config;
pub mod credits;
pub mod engine;
pub mod error;
pub mod fragment;
pub mod mr;
pub mod negotiate;
pub mod rdma;
pub mod stats;
pub mod timers;
pub mod wire;

pub use config::{port_for, Config, Consumer, DeviceCaps, Role, TransportKind};
pub use engine::{Action, Engine, Event, RecvOutcome, SendToken, State, Transmit, TransmitKind};
pub use error::{
    CancelError, ConfigError, DecodeError, DisconnectReason, Error, LocalError, MrError,
    ProtocolError, RdmaError, SendError,
};
pub use fragment::{Delivery, MessageId, NextFragment};
pub use negotiate::NegotiatedParams;
pub use rdma::{IrdOrd, RdmaOp};
pub use stats::Stats;
pub use timers::Instant;

/// The version of the engine, kept in step with the kernel module.
pub const VERSION: &str = "0.1.0";
