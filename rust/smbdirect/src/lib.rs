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
//! [`Engine::on_send_complete`], [`Engine::send_message`],
//! [`Engine::buffers_consumed`], [`Engine::on_timeout`] and a few more. After
//! any input the transport drains [`Engine::poll_action`] and performs each
//! [`Action`] in order, then arms a timer for [`Engine::poll_timeout`].
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
//! // The client posts one receive for the response, then sends the request.
//! assert_eq!(client.poll_action(), Some(Action::PostReceives(1)));
//! let Some(Action::Transmit(request)) = client.poll_action() else { panic!() };
//! assert_eq!(request.header().len(), 20);
//!
//! // The request arrives at the server, which reposts the buffer, posts
//! // the rest of its receives and answers, granting them all.
//! assert_eq!(server.on_recv(now, request.header()), Ok(RecvOutcome::Repost));
//! assert_eq!(server.poll_action(), Some(Action::PostReceives(254)));
//! let Some(Action::Transmit(response)) = server.poll_action() else { panic!() };
//! assert!(matches!(server.poll_action(), Some(Action::Connected(_))));
//!
//! // The client completes its send and processes the response.
//! client.on_send_complete(now, request.token).unwrap();
//! assert_eq!(client.on_recv(now, response.header()), Ok(RecvOutcome::Repost));
//! assert_eq!(client.poll_action(), Some(Action::PostReceives(254)));
//! assert!(matches!(client.poll_action(), Some(Action::Connected(_))));
//!
//! // Upper-layer messages are queued by length and leave as fragments.
//! let id = client.send_message(now, 3000).unwrap();
//! let Some(Action::Transmit(t)) = client.poll_action() else { panic!() };
//! assert_eq!((t.message, t.payload_offset, t.payload_len), (Some(id), 0, 1340));
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
pub mod stats;
pub mod timers;
pub mod wire;

pub use config::{port_for, Config, Role, TransportKind};
pub use engine::{Action, Engine, RecvOutcome, SendToken, State, Transmit, TransmitKind};
pub use error::{
    ConfigError, DecodeError, DisconnectReason, Error, LocalError, MrError, ProtocolError,
    SendError,
};
pub use fragment::{Delivery, MessageId};
pub use negotiate::NegotiatedParams;
pub use stats::Stats;
pub use timers::Instant;

/// The version of the engine, kept in step with the kernel module.
pub const VERSION: &str = "0.1.0";
