// SPDX-License-Identifier: GPL-2.0

//! The connection engine that ties negotiation, credits, fragmentation and
//! timers together.
//!
//! The [`Engine`] is driven from outside, in the style of quinn-proto: the
//! transport reports what happened (`on_recv`, `on_receives_posted`,
//! `on_send_complete`, `buffers_consumed`, `on_timeout`, ...) and polls for
//! what to do: [`Engine::poll_receives`] (receives to post),
//! [`Engine::poll_transmit`] (messages to send, at most as long as the
//! caller can map) and [`Engine::poll_event`] (news for the upper layer),
//! or all three in order with [`Engine::poll_action`].
//!
//! Grants only ever cover receives the transport reported as posted with
//! [`Engine::on_receives_posted`], so the polls may be drained from
//! different contexts, in any interleaving, as long as each call holds the
//! connection's lock.

use super::config::{Config, Consumer, Role};
use super::credits::{Credits, ReceiveCreditError};
use super::error::{
    CancelError, ConfigError, DecodeError, DisconnectReason, Error, LocalError, ProtocolError,
    RdmaError, SendError,
};
use super::fragment::{
    max_fragment_payload, Delivery, MessageId, NextFragment, Reassembly, SendQueue,
};
use super::negotiate::{self, NegotiatedParams};
use super::rdma::{RdmaCredits, RdmaOp};
use super::stats::{add, bump, Stats};
use super::timers::{Instant, TimerEvent, Timers};
use super::wire::{
    DataTransfer, DataTransferRepr, NegotiateRequest, NegotiateResponse, NegotiateResponseRepr,
    SMB_DIRECT_RESPONSE_REQUESTED, STATUS_NOT_SUPPORTED,
};

/// The largest header the engine emits: the 32-byte negotiate response.
pub const MAX_HEADER_LEN: usize = 32;

/// The lifecycle state of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum State {
    /// The negotiate exchange is in progress.
    Negotiating,
    /// Data may flow.
    Connected,
    /// A disconnect is pending (or a failure response is being sent).
    Closing,
    /// The connection is gone; inputs are ignored.
    Closed,
}

/// What a completed receive means for its buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecvOutcome {
    /// The buffer is free and must be posted again (it was a negotiate or
    /// credit-only message). It is one more requested receive: it counts as
    /// posted, and may be granted, only once the transport reports it with
    /// `on_receives_posted(1)` (or `on_receive_post_failed(1)`).
    Repost,
    /// The buffer holds payload for the upper layer: park it in the
    /// reassembly queue and return it later with `buffers_consumed`. With
    /// [`Consumer::Streaming`] a buffer may be returned as soon as its
    /// payload is copied; with [`Consumer::WholeMessage`] the configuration
    /// guarantees that a whole message fits in the buffers.
    Deliver(Delivery),
    /// The buffer is free and must not be posted again (teardown).
    Release,
}

/// Which message a [`Transmit`] carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransmitKind {
    /// The client's negotiate request (20 bytes).
    NegotiateRequest,
    /// The server's negotiate response (32 bytes).
    NegotiateResponse,
    /// A data transfer message, with or without payload.
    DataTransfer,
}

/// An opaque value the transport keeps with a posted send and hands back
/// to `on_send_complete`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SendToken(u64);

impl SendToken {
    /// The token of a message without upper-layer payload.
    const CONTROL: SendToken = SendToken(0);

    /// Returns the raw value, for storage in a C send context.
    pub const fn to_raw(self) -> u64 {
        self.0
    }

    /// Rebuilds a token from its raw value.
    pub const fn from_raw(raw: u64) -> Self {
        SendToken(raw)
    }
}

/// One message to post as a send work request.
///
/// The message is `header()` followed by `payload_len` bytes taken at
/// `payload_offset` of the upper-layer message `message`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transmit {
    /// Which message this is.
    pub kind: TransmitKind,
    header: [u8; MAX_HEADER_LEN],
    header_len: u8,
    /// The upper-layer message the payload comes from, if any.
    pub message: Option<MessageId>,
    /// The offset of the payload in that message.
    pub payload_offset: u32,
    /// The number of payload bytes.
    pub payload_len: u32,
    /// The token to pass to `on_send_complete` or `on_send_failed`.
    pub token: SendToken,
    /// A remote token (rkey) to invalidate: post this message as
    /// IB_WR_SEND_WITH_INV (§3.1.4.2). Only the last fragment of a message
    /// queued with `send_message_with_invalidate` carries it.
    pub invalidate: Option<u32>,
}

impl Transmit {
    /// Returns the header bytes to send before the payload.
    pub fn header(&self) -> &[u8] {
        self.header
            .get(..usize::from(self.header_len))
            .unwrap_or(&self.header)
    }

    /// Returns the length of the whole message, header plus payload.
    pub fn total_len(&self) -> u32 {
        u32::from(self.header_len).saturating_add(self.payload_len)
    }
}

/// News for the upper layer, returned by [`Engine::poll_event`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The negotiation succeeded with these parameters.
    Connected(NegotiatedParams),
    /// Every fragment of this upper-layer message was sent and completed;
    /// its buffer may be released.
    MessageSent(MessageId),
    /// Tear the connection down; no further action follows.
    Disconnect(DisconnectReason),
}

impl From<Event> for Action {
    fn from(e: Event) -> Self {
        match e {
            Event::Connected(p) => Action::Connected(p),
            Event::MessageSent(id) => Action::MessageSent(id),
            Event::Disconnect(r) => Action::Disconnect(r),
        }
    }
}

/// Something the transport must do, returned by [`Engine::poll_action`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// Post this many free receive buffers, then report them with
    /// `on_receives_posted` (or `on_receive_post_failed`).
    PostReceives(u16),
    /// Post this send.
    Transmit(Transmit),
    /// The negotiation succeeded with these parameters.
    Connected(NegotiatedParams),
    /// Every fragment of this upper-layer message was sent and completed;
    /// its buffer may be released.
    MessageSent(MessageId),
    /// Tear the connection down; no further action follows.
    Disconnect(DisconnectReason),
}

/// The sans-I/O state machine of one SMB Direct connection.
#[derive(Debug, Clone)]
pub struct Engine {
    role: Role,
    config: Config,
    state: State,
    params: Option<NegotiatedParams>,
    credits: Credits,
    timers: Timers,
    queue: SendQueue,
    reassembly: Reassembly,
    sends_in_flight: u16,
    /// Sends in flight that carry no upper-layer payload.
    control_in_flight: u16,
    /// The fragments received of the message being reassembled.
    message_fragments: u16,
    rdma: RdmaCredits,
    /// The negotiate request (client) or response (server) is to be sent.
    negotiate_pending: bool,
    /// The server refuses the negotiation with this status.
    refuse_status: Option<u32>,
    /// A `Connected` action is to be returned.
    connected_event: bool,
    /// The peer asked for a prompt message (RESPONSE_REQUESTED).
    response_requested: bool,
    /// A keepalive (RESPONSE_REQUESTED) is to be sent.
    keepalive_pending: bool,
    /// A `Disconnect` action is to be returned.
    disconnect: Option<DisconnectReason>,
    /// Disconnect with this reason once every send has completed.
    close_when_idle: Option<DisconnectReason>,
    stats: Stats,
}

impl Engine {
    /// Creates the engine of a new connection at time `now`.
    ///
    /// A client starts by asking for one receive (for the negotiate
    /// response) and sending the negotiate request; a server asks for one
    /// receive and waits for the request.
    pub fn new(role: Role, config: Config, now: Instant) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Engine {
            role,
            config,
            state: State::Negotiating,
            params: None,
            credits: Credits::new(config.receive_credit_max, config.send_credit_target),
            timers: Timers::new(now, &config),
            queue: SendQueue::new(config.send_queue_depth),
            reassembly: Reassembly::new(),
            sends_in_flight: 0,
            control_in_flight: 0,
            message_fragments: 0,
            rdma: RdmaCredits::new(config.rdma_credit_max),
            negotiate_pending: role == Role::Client,
            refuse_status: None,
            connected_event: false,
            response_requested: false,
            keepalive_pending: false,
            disconnect: None,
            close_when_idle: None,
            stats: Stats::default(),
        })
    }

    /// Returns the role of the local end.
    pub const fn role(&self) -> Role {
        self.role
    }

    /// Returns the lifecycle state.
    pub const fn state(&self) -> State {
        self.state
    }

    /// Returns the local configuration.
    pub const fn config(&self) -> &Config {
        &self.config
    }

    /// Returns the negotiated parameters, once connected.
    pub const fn params(&self) -> Option<&NegotiatedParams> {
        self.params.as_ref()
    }

    /// Returns a snapshot of the counters.
    pub fn stats(&self) -> Stats {
        let mut s = self.stats;
        s.send_credits = self.credits.send_credits();
        s.send_credit_target = self.credits.send_credit_target();
        s.receive_credits = self.credits.receive_credits();
        s.receive_credit_target = self.credits.receive_credit_target();
        s.posted_receives = self.credits.posted();
        s.requested_receives = self.credits.requested();
        s.rdma_credits_held = self.rdma.held();
        s.parked_receives = self.credits.parked();
        s.sends_in_flight = self.sends_in_flight;
        s.send_queue_len = u16::try_from(self.queue.len()).unwrap_or(u16::MAX);
        s
    }

    /// Records a fatal error: the connection moves to `Closing` and the next
    /// `poll_action` returns `Disconnect`.
    fn fail(&mut self, reason: DisconnectReason) {
        match reason {
            DisconnectReason::Decode(_) => bump(&mut self.stats.decode_errors),
            DisconnectReason::Protocol(_) => bump(&mut self.stats.protocol_errors),
            DisconnectReason::Misuse(_) => bump(&mut self.stats.local_errors),
            DisconnectReason::TransportFailure => bump(&mut self.stats.transport_errors),
            DisconnectReason::NegotiateTimeout => bump(&mut self.stats.negotiate_timeouts),
            DisconnectReason::NegotiateRefused { .. } => bump(&mut self.stats.negotiate_refused),
            DisconnectReason::IdleTimeout => bump(&mut self.stats.idle_timeouts),
            DisconnectReason::LocalClose | DisconnectReason::PeerDisconnected => {}
        }
        if self.state != State::Closed && self.disconnect.is_none() {
            self.disconnect = Some(reason);
        }
        if self.state != State::Closed {
            self.state = State::Closing;
        }
    }

    fn fail_decode(&mut self, e: DecodeError) -> Error {
        self.fail(DisconnectReason::Decode(e));
        Error::Decode(e)
    }

    fn fail_protocol(&mut self, e: ProtocolError) -> Error {
        self.fail(DisconnectReason::Protocol(e));
        Error::Protocol(e)
    }

    fn fail_local(&mut self, e: LocalError) -> Error {
        self.fail(DisconnectReason::Misuse(e));
        Error::Local(e)
    }

    fn fail_credit(&mut self, e: ReceiveCreditError) -> Error {
        match e {
            ReceiveCreditError::Protocol(p) => self.fail_protocol(p),
            ReceiveCreditError::Local(l) => self.fail_local(l),
        }
    }

    /// Handles a completed receive of `bytes` (the received length, not the
    /// whole buffer).
    ///
    /// On `Err` the connection is being torn down: the buffer is free, and
    /// `poll_action` returns the `Disconnect` (after a failure response, for
    /// a server refusing the version range).
    pub fn on_recv(&mut self, now: Instant, bytes: &[u8]) -> Result<RecvOutcome, Error> {
        match self.state {
            State::Closing | State::Closed => {
                self.credits.on_receive_flushed();
                Ok(RecvOutcome::Release)
            }
            State::Negotiating => self.recv_negotiate(now, bytes),
            State::Connected => self.recv_data(now, bytes),
        }
    }

    fn recv_negotiate(&mut self, now: Instant, bytes: &[u8]) -> Result<RecvOutcome, Error> {
        if let Err(e) = self.credits.on_receive(false) {
            return Err(self.fail_credit(e));
        }
        match self.role {
            Role::Server => match negotiate::process_request(&self.config, bytes) {
                Ok(params) => {
                    self.params = Some(params);
                    self.credits
                        .set_receive_credit_target(params.receive_credit_target);
                    self.state = State::Connected;
                    self.negotiate_pending = true;
                    self.timers.connected(now, &self.config);
                    self.credits.repost();
                    Ok(RecvOutcome::Repost)
                }
                Err(e @ DecodeError::UnsupportedVersion { .. }) => {
                    // §3.1.5.6: answer with a failure response, then drop.
                    bump(&mut self.stats.decode_errors);
                    self.refuse_status = Some(STATUS_NOT_SUPPORTED);
                    self.negotiate_pending = true;
                    self.state = State::Closing;
                    Err(Error::Decode(e))
                }
                Err(e) => Err(self.fail_decode(e)),
            },
            Role::Client => match negotiate::process_response(&self.config, bytes) {
                Ok(params) => {
                    self.params = Some(params);
                    self.credits
                        .set_initial_send_credits(params.initial_send_credits);
                    add(
                        &mut self.stats.credits_received,
                        u64::from(params.initial_send_credits),
                    );
                    self.credits
                        .set_receive_credit_target(params.receive_credit_target);
                    self.state = State::Connected;
                    self.connected_event = true;
                    self.timers.connected(now, &self.config);
                    self.credits.repost();
                    Ok(RecvOutcome::Repost)
                }
                Err(e @ DecodeError::NegotiateFailed { status }) => {
                    self.fail(DisconnectReason::NegotiateRefused { status });
                    Err(Error::Decode(e))
                }
                Err(e) => Err(self.fail_decode(e)),
            },
        }
    }

    fn recv_data(&mut self, now: Instant, bytes: &[u8]) -> Result<RecvOutcome, Error> {
        let Some(params) = self.params else {
            self.credits.on_receive_flushed();
            return Ok(RecvOutcome::Release);
        };
        let got = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        if got > params.max_receive_size {
            self.credits.on_receive_flushed();
            return Err(self.fail_decode(DecodeError::TooLong {
                max: params.max_receive_size,
                got,
            }));
        }
        let repr = match DataTransferRepr::parse(&DataTransfer::new_unchecked(bytes)) {
            Ok(r) => r,
            Err(e) => {
                self.credits.on_receive_flushed();
                return Err(self.fail_decode(e));
            }
        };
        // §3.1.5.8: DataLength + RemainingDataLength within
        // Connection.MaxFragmentedRecvSize, a rule of the connection rather
        // than of the message.
        let max = params.max_fragmented_recv_size;
        match repr.data_length.checked_add(repr.remaining_data_length) {
            Some(total) if total <= max => {}
            total => {
                self.credits.on_receive_flushed();
                return Err(self.fail_decode(DecodeError::FragmentTooLarge {
                    total: total.unwrap_or(u32::MAX),
                    max,
                }));
            }
        }
        if let Err(e) = self.credits.on_receive(true) {
            return Err(self.fail_credit(e));
        }
        if let Err(e) = self.credits.apply_grant(repr.credits_granted) {
            return Err(self.fail_protocol(e));
        }
        add(
            &mut self.stats.credits_received,
            u64::from(repr.credits_granted),
        );
        self.credits
            .set_receive_credit_target(repr.credits_requested);
        if repr.response_requested() {
            self.response_requested = true;
            bump(&mut self.stats.response_requests_received);
        }
        self.timers.on_receive(now, &self.config);
        if repr.data_length == 0 {
            bump(&mut self.stats.empty_received);
            self.credits.repost();
            return Ok(RecvOutcome::Repost);
        }
        match self.reassembly.accept(&repr) {
            Ok(d) => {
                self.credits.park();
                bump(&mut self.stats.fragments_received);
                add(&mut self.stats.bytes_received, u64::from(d.data_length));
                if d.end_of_message {
                    bump(&mut self.stats.messages_received);
                }
                self.message_fragments = if d.start_of_message {
                    1
                } else {
                    self.message_fragments.saturating_add(1)
                };
                // A whole-message consumer returns nothing before the end of
                // the message: if its start already holds every buffer, no
                // credit can ever be granted for the rest (known bug 10,
                // reached by a peer sending fragments shorter than ours).
                if self.config.consumer == Consumer::WholeMessage
                    && self.reassembly.in_progress()
                    && self.message_fragments >= self.config.receive_credit_max
                {
                    return Err(self.fail_protocol(ProtocolError::ReassemblyExhausted {
                        parked: self.message_fragments,
                    }));
                }
                Ok(RecvOutcome::Deliver(d))
            }
            Err(e) => Err(self.fail_protocol(e)),
        }
    }

    /// Handles a failed receive work request.
    ///
    /// Flushed receives during teardown are expected and ignored; any other
    /// failure tears the connection down.
    pub fn on_recv_failed(&mut self, _now: Instant) {
        self.credits.on_receive_flushed();
        if matches!(self.state, State::Negotiating | State::Connected) {
            self.fail(DisconnectReason::TransportFailure);
        }
    }

    /// Records that `n` of the receives asked for (by `PostReceives` or
    /// `RecvOutcome::Repost`) are posted: `ib_post_recv` succeeded. Only
    /// from now on may they be granted to the peer (known bug 7).
    pub fn on_receives_posted(&mut self, _now: Instant, n: u16) -> Result<(), Error> {
        match self.credits.receives_posted(n) {
            Ok(()) => {
                add(&mut self.stats.receives_posted, u64::from(n));
                Ok(())
            }
            Err(e) => Err(self.fail_local(e)),
        }
    }

    /// Records that `n` of the receives asked for could not be posted. Their
    /// buffers are free again. A receive queue that refuses work is broken,
    /// as upstream treats it, so the connection is torn down.
    pub fn on_receive_post_failed(&mut self, _now: Instant, n: u16) {
        if n == 0 {
            return;
        }
        if let Err(e) = self.credits.receive_post_failed(n) {
            self.fail_local(e);
            return;
        }
        if matches!(self.state, State::Negotiating | State::Connected) {
            self.fail(DisconnectReason::TransportFailure);
        }
    }

    /// Handles a completed send, identified by the token of its `Transmit`.
    pub fn on_send_complete(&mut self, _now: Instant, token: SendToken) -> Result<(), Error> {
        if self.sends_in_flight == 0 {
            return Err(self.fail_local(LocalError::UnexpectedSendCompletion));
        }
        if token == SendToken::CONTROL {
            if self.control_in_flight == 0 {
                return Err(self.fail_local(LocalError::UnknownSendToken));
            }
            self.control_in_flight = self.control_in_flight.saturating_sub(1);
        } else if !self.queue.on_complete(MessageId(token.0)) {
            return Err(self.fail_local(LocalError::UnknownSendToken));
        }
        self.sends_in_flight = self.sends_in_flight.saturating_sub(1);
        if self.sends_in_flight == 0 {
            if let Some(reason) = self.close_when_idle.take() {
                self.fail(reason);
            }
        }
        Ok(())
    }

    /// Handles a failed send; the connection is torn down.
    pub fn on_send_failed(&mut self, _now: Instant, token: SendToken) {
        self.sends_in_flight = self.sends_in_flight.saturating_sub(1);
        if token == SendToken::CONTROL {
            self.control_in_flight = self.control_in_flight.saturating_sub(1);
        } else {
            self.queue.on_complete(MessageId(token.0));
        }
        if self.state != State::Closed {
            self.fail(DisconnectReason::TransportFailure);
        }
    }

    /// Records that the upper layer is done with `n` delivered receive
    /// buffers, which may now be posted (and granted) again.
    pub fn buffers_consumed(&mut self, _now: Instant, n: u16) -> Result<(), Error> {
        match self.credits.consume(n) {
            Ok(()) => Ok(()),
            Err(e) => Err(self.fail_local(e)),
        }
    }

    /// Queues one upper-layer message of `len` bytes for sending.
    ///
    /// The message goes out as fragments through `Transmit`s that refer to
    /// it by the returned identifier; a `MessageSent` event tells when its
    /// buffer may be released. At most `send_queue_depth` messages wait.
    pub fn send_message(&mut self, now: Instant, len: u32) -> Result<MessageId, SendError> {
        self.queue_message(now, len, None)
    }

    /// Queues a message like [`Engine::send_message`], to be sent with
    /// Send-with-Invalidate of `remote_token` (an rkey of the peer, from an
    /// SMB2 READ or WRITE with the RDMA_V1_INVALIDATE channel): its last
    /// fragment's `Transmit` carries the token (§3.1.4.2, known bug 22).
    pub fn send_message_with_invalidate(
        &mut self,
        now: Instant,
        len: u32,
        remote_token: u32,
    ) -> Result<MessageId, SendError> {
        self.queue_message(now, len, Some(remote_token))
    }

    fn queue_message(
        &mut self,
        _now: Instant,
        len: u32,
        invalidate: Option<u32>,
    ) -> Result<MessageId, SendError> {
        let result = match (self.state, self.params) {
            (State::Connected, Some(p)) if len > p.max_fragmented_send_size => {
                Err(SendError::MessageTooLarge {
                    len,
                    max: p.max_fragmented_send_size,
                })
            }
            (State::Connected, Some(_)) => self.queue.push(len, invalidate),
            _ => Err(SendError::NotConnected),
        };
        if result.is_err() {
            bump(&mut self.stats.sends_rejected);
        }
        result
    }

    /// Cancels a queued message none of whose fragments was handed out yet:
    /// it will not be sent and no `MessageSent` follows, so its buffer is
    /// the caller's again. A message that started leaving cannot be half
    /// sent and gives [`CancelError::Started`].
    pub fn cancel_message(&mut self, _now: Instant, id: MessageId) -> Result<(), CancelError> {
        self.queue.cancel(id)?;
        bump(&mut self.stats.messages_cancelled);
        Ok(())
    }

    /// Returns where the next fragment would start, so that a transport
    /// mapping the message zero-copy can work out how many bytes from there
    /// fit in its SGEs and pass that to [`Engine::poll_transmit`].
    pub fn next_fragment(&self) -> Option<NextFragment> {
        if self.state != State::Connected || self.negotiate_pending {
            return None;
        }
        self.queue.next_fragment_start()
    }

    /// Sets the RDMA reads we may have outstanding, the ORD negotiated by
    /// the rdma_cm exchange (see [`negotiate_ird_ord`](super::rdma::negotiate_ird_ord)).
    pub fn set_rdma_ord(&mut self, ord: u8) {
        self.rdma.set_ord(ord);
    }

    /// Takes `n` RDMA read/write credits, one per work request about to be
    /// posted. `WouldBlock` means: wait for a release.
    pub fn rdma_acquire(&mut self, _now: Instant, op: RdmaOp, n: u16) -> Result<(), RdmaError> {
        if self.state != State::Connected {
            return Err(RdmaError::NotConnected);
        }
        self.rdma.acquire(op, n)
    }

    /// Returns `n` RDMA read/write credits once their work requests
    /// completed (or were flushed).
    pub fn rdma_release(&mut self, _now: Instant, op: RdmaOp, n: u16) -> Result<(), Error> {
        match self.rdma.release(op, n) {
            Ok(()) => Ok(()),
            Err(e) => Err(self.fail_local(e)),
        }
    }

    /// Closes the connection from the local side.
    pub fn close(&mut self, _now: Instant) {
        if matches!(self.state, State::Negotiating | State::Connected) {
            self.fail(DisconnectReason::LocalClose);
        }
    }

    /// Records that the transport saw the connection go away; no
    /// `Disconnect` action follows.
    pub fn on_disconnected(&mut self, _now: Instant) {
        self.state = State::Closed;
        self.disconnect = None;
        self.timers.stop();
    }

    /// Handles the expiry of the deadline returned by `poll_timeout` (it is
    /// harmless to call it early or more than once).
    pub fn on_timeout(&mut self, now: Instant) {
        if self.state == State::Closed {
            return;
        }
        // At most one event of each kind can be due at once.
        for _ in 0..3 {
            match self.timers.poll(now, &self.config) {
                Some(TimerEvent::NegotiateTimeout) => self.fail(DisconnectReason::NegotiateTimeout),
                Some(TimerEvent::IdleTimeout) => self.fail(DisconnectReason::IdleTimeout),
                Some(TimerEvent::SendKeepalive) => self.keepalive_pending = true,
                None => break,
            }
        }
    }

    /// Returns when `on_timeout` should be called next, if at all.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            State::Closed => None,
            _ => self.timers.next_deadline(),
        }
    }

    /// Returns the number of receives to post now.
    fn receives_wanted(&self) -> u16 {
        match self.state {
            // One receive for the negotiate message, and only one.
            State::Negotiating => {
                let have = self
                    .credits
                    .posted()
                    .saturating_add(self.credits.requested())
                    .saturating_add(self.credits.parked());
                1u16.saturating_sub(have).min(self.credits.free_buffers())
            }
            State::Connected => self.credits.free_buffers(),
            State::Closing | State::Closed => 0,
        }
    }

    /// Whether the transport has nothing to do for the engine now: no
    /// receive to post, nothing to transmit (a fragment, a credit grant, a
    /// keepalive or an answer), no event. A transport may skip polling an
    /// idle engine (a completion that changed nothing it must act on); when
    /// unsure this says `false`. Time passing is apart: see
    /// [`Engine::poll_timeout`].
    pub fn is_idle(&self) -> bool {
        if self.disconnect.is_some() || self.connected_event || self.negotiate_pending {
            return false;
        }
        if self.receives_wanted() > 0 || self.queue.has_done() {
            return false;
        }
        !(self.state == State::Connected
            && (self.queue.has_unsent()
                || self.response_requested
                || self.keepalive_pending
                || self.credits.wants_credit_message()))
    }

    /// Returns the number of free receive buffers to post now, if any. They
    /// count as posted once reported with `on_receives_posted`.
    pub fn poll_receives(&mut self) -> Option<u16> {
        if self.disconnect.is_some() {
            return None;
        }
        let n = self.receives_wanted();
        if n == 0 {
            return None;
        }
        Some(self.credits.request_receives(n))
    }

    /// Returns the next message to post, if one may and should go.
    ///
    /// `max_payload` bounds the payload of a fragment: a transport that
    /// maps the message zero-copy passes what fits in its SGEs from
    /// [`Engine::next_fragment`]'s offset (known bug 5), others
    /// `u32::MAX`. The fragment is never longer than MaxSendSize allows.
    pub fn poll_transmit(&mut self, max_payload: u32) -> Option<Transmit> {
        if self.state == State::Closed || self.disconnect.is_some() {
            return None;
        }
        if self.negotiate_pending {
            return self.transmit_negotiate();
        }
        if self.state == State::Connected {
            return self.transmit_data(max_payload);
        }
        None
    }

    /// Returns the next event for the upper layer, if any. A `Disconnect`
    /// is always returned first, and nothing follows it.
    pub fn poll_event(&mut self) -> Option<Event> {
        if let Some(reason) = self.disconnect.take() {
            self.state = State::Closed;
            self.timers.stop();
            return Some(Event::Disconnect(reason));
        }
        if self.state == State::Closed {
            return None;
        }
        if self.connected_event {
            self.connected_event = false;
            if let Some(p) = self.params {
                return Some(Event::Connected(p));
            }
        }
        if let Some(id) = self.queue.pop_done() {
            bump(&mut self.stats.messages_sent);
            return Some(Event::MessageSent(id));
        }
        None
    }

    /// Returns the next thing the transport must do, or `None` when idle:
    /// a pending `Disconnect` first, then receives to post, then a message
    /// (of any payload length MaxSendSize allows), then events.
    pub fn poll_action(&mut self) -> Option<Action> {
        if self.disconnect.is_some() {
            return self.poll_event().map(Action::from);
        }
        if let Some(n) = self.poll_receives() {
            return Some(Action::PostReceives(n));
        }
        if let Some(t) = self.poll_transmit(u32::MAX) {
            return Some(Action::Transmit(t));
        }
        self.poll_event().map(Action::from)
    }

    fn transmit_negotiate(&mut self) -> Option<Transmit> {
        if self.sends_in_flight >= self.config.send_queue_depth {
            return None;
        }
        let mut header = [0u8; MAX_HEADER_LEN];
        let (kind, len) = match (self.role, self.refuse_status, self.params) {
            (Role::Client, _, _) => {
                let repr = negotiate::build_request(&self.config);
                repr.emit(&mut NegotiateRequest::new_unchecked(&mut header[..]));
                (TransmitKind::NegotiateRequest, repr.buffer_len())
            }
            (Role::Server, Some(status), _) => {
                let repr = NegotiateResponseRepr::failure(status);
                repr.emit(&mut NegotiateResponse::new_unchecked(&mut header[..]));
                self.close_when_idle = Some(DisconnectReason::NegotiateRefused { status });
                (TransmitKind::NegotiateResponse, repr.buffer_len())
            }
            (Role::Server, None, Some(params)) => {
                // §3.1.5.3: CreditsGranted counts posted receives, and this
                // is the first message that grants credits. Wait until every
                // receive asked for is reported, so that it grants them.
                if self.credits.requested() > 0 || self.credits.posted() == 0 {
                    return None;
                }
                let granted = self.credits.grant_initial();
                add(&mut self.stats.credits_granted, u64::from(granted));
                let repr = negotiate::build_response(&self.config, &params, granted);
                repr.emit(&mut NegotiateResponse::new_unchecked(&mut header[..]));
                self.connected_event = true;
                (TransmitKind::NegotiateResponse, repr.buffer_len())
            }
            (Role::Server, None, None) => return None,
        };
        self.negotiate_pending = false;
        self.refuse_status = None;
        self.sends_in_flight = self.sends_in_flight.saturating_add(1);
        self.control_in_flight = self.control_in_flight.saturating_add(1);
        Some(Transmit {
            kind,
            header,
            header_len: u8::try_from(len).unwrap_or(0),
            message: None,
            payload_offset: 0,
            payload_len: 0,
            token: SendToken::CONTROL,
            invalidate: None,
        })
    }

    /// Builds the next data transfer message, if one may and should go.
    fn transmit_data(&mut self, max_payload: u32) -> Option<Transmit> {
        let params = self.params?;
        let limit = max_fragment_payload(params.max_send_size).min(max_payload);
        let fragment = self.queue.peek_fragment(limit);
        // An empty message only goes when no upper-layer message has bytes
        // left to send, so it can never land between two fragments of one
        // message (known bug 9); grants ride on the fragments instead.
        if fragment.is_none() && self.queue.has_unsent() {
            return None;
        }
        let want_empty = fragment.is_none()
            && (self.response_requested
                || self.keepalive_pending
                || self.credits.wants_credit_message());
        if fragment.is_none() && !want_empty {
            return None;
        }
        if self.sends_in_flight >= self.config.send_queue_depth {
            return None;
        }
        if !self.credits.can_send() {
            bump(&mut self.stats.send_blocked_no_credit);
            return None;
        }
        let granted = self.credits.spend_and_grant();
        add(&mut self.stats.credits_granted, u64::from(granted));
        // A keepalive asks for a response; so does a fragment that leaves us
        // with at most one credit, so that the peer answers (and grants)
        // promptly instead of waiting for its own traffic.
        let low = fragment.is_some() && self.credits.send_credits() <= 1;
        let flags = if self.keepalive_pending || low {
            if self.keepalive_pending {
                bump(&mut self.stats.keepalives_sent);
            }
            SMB_DIRECT_RESPONSE_REQUESTED
        } else {
            0
        };
        self.keepalive_pending = false;
        self.response_requested = false;
        let mut repr = DataTransferRepr {
            credits_requested: self.config.send_credit_target,
            credits_granted: granted,
            flags,
            remaining_data_length: 0,
            data_offset: 0,
            data_length: 0,
        };
        let (message, payload_offset, token, invalidate) = match fragment {
            Some((id, f)) => {
                repr.remaining_data_length = f.remaining;
                repr.data_offset = DataTransfer::<&[u8]>::DATA_OFFSET;
                repr.data_length = f.length;
                let invalidate = self.queue.invalidate_for(&f);
                self.queue.commit_fragment(&f);
                bump(&mut self.stats.fragments_sent);
                add(&mut self.stats.bytes_sent, u64::from(f.length));
                (Some(id), f.offset, SendToken(id.0), invalidate)
            }
            None => {
                bump(&mut self.stats.empty_sent);
                self.control_in_flight = self.control_in_flight.saturating_add(1);
                (None, 0, SendToken::CONTROL, None)
            }
        };
        let mut header = [0u8; MAX_HEADER_LEN];
        repr.emit(&mut DataTransfer::new_unchecked(&mut header[..]));
        self.sends_in_flight = self.sends_in_flight.saturating_add(1);
        Some(Transmit {
            kind: TransmitKind::DataTransfer,
            header,
            header_len: u8::try_from(repr.header_len()).unwrap_or(0),
            message,
            payload_offset,
            payload_len: repr.data_length,
            token,
            invalidate,
        })
    }
}
