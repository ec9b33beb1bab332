// SPDX-License-Identifier: GPL-2.0

//! A conservative peer: a model of Linux 6.12's SMB Direct credit
//! handling, written independently of the engine.
//!
//! It posts all its receive buffers up front and grants on each message
//! exactly the receives it posted since its previous message (6.12's
//! `new_credits_offered`) and never keeps one in reserve. It does have the
//! later last-credit fix (its last credit only goes with a grant): without
//! it, 6.12 stalls against any peer (known bug 8). It sends a
//! credit-only message only to answer RESPONSE_REQUESTED or, with
//! [`Granting::OnPost`], when a refill leaves the other end below its target
//! minus one (6.12's `check_and_send_immediate`); with
//! [`Granting::DataOnly`] grants ride on data and keepalive answers only.

use smbdirect::fragment::{max_fragment_payload, Reassembly};
use smbdirect::negotiate::{self, NegotiatedParams};
use smbdirect::wire::{DataTransfer, DataTransferRepr, NegotiateRequest, NegotiateResponse};
use smbdirect::{
    Config, Error, Event, MessageId, ProtocolError, RecvOutcome, Role, SendError, TransmitKind,
};
use std::collections::{HashMap, VecDeque};

/// When the conservative peer sends a credit-only message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Granting {
    /// Answers RESPONSE_REQUESTED, and sends its new credits when the other
    /// end runs below its target minus one after a refill.
    OnPost,
    /// Answers RESPONSE_REQUESTED only; grants otherwise ride on data.
    DataOnly,
}

/// A message the peer wants posted, in the simulator's own form.
#[derive(Clone, Debug)]
pub struct PeerTransmit {
    pub kind: TransmitKind,
    pub header: Vec<u8>,
    pub message: Option<MessageId>,
    pub payload_offset: u32,
    pub payload_len: u32,
    pub token: u64,
}

pub struct Peer {
    pub role: Role,
    pub config: Config,
    pub granting: Granting,
    pub params: Option<NegotiatedParams>,
    pub send_credits: u16,
    /// Credits granted to the other end and not yet used.
    pub receive_credits: u16,
    /// Receives posted since the last grant.
    pub new_credits: u16,
    pub target: u16,
    pub posted: u16,
    pub requested: u16,
    pub parked: u16,
    negotiate_pending: bool,
    connected_event: bool,
    response_requested: bool,
    /// Queued messages: id, length, bytes handed out.
    queue: VecDeque<(u64, u32, u32)>,
    in_flight: HashMap<u64, u16>,
    sends_in_flight: u16,
    next_id: u64,
    reassembly: Reassembly,
    pub empty_sent: u64,
}

impl Peer {
    pub fn new(role: Role, config: Config, granting: Granting) -> Self {
        Peer {
            role,
            config,
            granting,
            params: None,
            send_credits: 0,
            receive_credits: 0,
            new_credits: 0,
            target: 1,
            posted: 0,
            requested: 0,
            parked: 0,
            negotiate_pending: role == Role::Client,
            connected_event: false,
            response_requested: false,
            queue: VecDeque::new(),
            in_flight: HashMap::new(),
            sends_in_flight: 0,
            next_id: 1,
            reassembly: Reassembly::new(),
            empty_sent: 0,
        }
    }

    fn free(&self) -> u16 {
        self.config.receive_credit_max - self.posted - self.requested - self.parked
    }

    pub fn poll_receives(&mut self) -> Option<u16> {
        // Everything up front, and every buffer back as soon as it is free.
        let n = self.free();
        (n > 0).then(|| {
            self.requested += n;
            n
        })
    }

    pub fn on_receives_posted(&mut self, n: u16) {
        assert!(n <= self.requested);
        self.requested -= n;
        self.posted += n;
        self.new_credits += n;
    }

    pub fn buffers_consumed(&mut self, n: u16) {
        assert!(n <= self.parked);
        self.parked -= n;
    }

    pub fn send_message(&mut self, len: u32) -> Result<MessageId, SendError> {
        let Some(p) = self.params else {
            return Err(SendError::NotConnected);
        };
        assert!(len > 0 && len <= p.max_fragmented_send_size);
        if self.queue.len() >= usize::from(self.config.send_queue_depth) {
            return Err(SendError::QueueFull);
        }
        let id = self.next_id;
        self.next_id += 1;
        self.queue.push_back((id, len, 0));
        Ok(MessageId(id))
    }

    fn take_grant(&mut self) -> u16 {
        let g = self.new_credits;
        self.new_credits = 0;
        self.receive_credits += g;
        g
    }

    pub fn poll_transmit(&mut self, max_payload: u32) -> Option<PeerTransmit> {
        if self.negotiate_pending {
            let mut header = vec![0u8; 32];
            let kind = match (self.role, self.params) {
                (Role::Client, _) => {
                    let r = negotiate::build_request(&self.config);
                    r.emit(&mut NegotiateRequest::new_unchecked(&mut header[..]));
                    header.truncate(20);
                    TransmitKind::NegotiateRequest
                }
                (Role::Server, Some(p)) => {
                    if self.requested > 0 || self.posted == 0 {
                        return None;
                    }
                    let g = self.take_grant();
                    let r = negotiate::build_response(&self.config, &p, g);
                    r.emit(&mut NegotiateResponse::new_unchecked(&mut header[..]));
                    self.connected_event = true;
                    TransmitKind::NegotiateResponse
                }
                (Role::Server, None) => return None,
            };
            self.negotiate_pending = false;
            self.sends_in_flight += 1;
            return Some(PeerTransmit {
                kind,
                header,
                message: None,
                payload_offset: 0,
                payload_len: 0,
                token: 0,
            });
        }
        let p = self.params?;
        if self.sends_in_flight >= self.config.send_queue_depth || self.send_credits == 0 {
            return None;
        }
        let limit = max_fragment_payload(p.max_send_size).min(max_payload);
        let fragment = self
            .queue
            .iter_mut()
            .find(|(_, len, sent)| sent < len)
            .map(|e| {
                (
                    e.0,
                    e.2,
                    (e.1 - e.2).min(limit),
                    e.1 - e.2 - (e.1 - e.2).min(limit),
                )
            });
        let want_empty = fragment.is_none()
            && (self.response_requested
                || (self.granting == Granting::OnPost
                    && self.new_credits > 0
                    && self.receive_credits < self.target.saturating_sub(1)));
        if fragment.is_none() && !want_empty {
            return None;
        }
        if fragment.is_some_and(|f| f.2 == 0) {
            return None;
        }
        // The last-credit fix (93ac432274e1, known bug 8): without it two
        // ends can both spend their last credit and stall, whatever the
        // other end does, so the model has it; its granting stays 6.12's.
        if self.send_credits == 1 && self.new_credits == 0 {
            return None;
        }
        self.send_credits -= 1;
        self.response_requested = false;
        let mut repr = DataTransferRepr {
            credits_requested: self.config.send_credit_target,
            credits_granted: self.take_grant(),
            flags: 0,
            remaining_data_length: 0,
            data_offset: 0,
            data_length: 0,
        };
        let (message, offset, token) = match fragment {
            Some((id, offset, length, remaining)) => {
                repr.data_offset = 24;
                repr.data_length = length;
                repr.remaining_data_length = remaining;
                for e in self.queue.iter_mut() {
                    if e.0 == id {
                        e.2 += length;
                    }
                }
                *self.in_flight.entry(id).or_default() += 1;
                (Some(MessageId(id)), offset, id)
            }
            None => {
                self.empty_sent += 1;
                (None, 0, 0)
            }
        };
        let mut header = vec![0u8; repr.header_len()];
        repr.emit(&mut DataTransfer::new_unchecked(&mut header[..]));
        self.sends_in_flight += 1;
        Some(PeerTransmit {
            kind: TransmitKind::DataTransfer,
            header,
            message,
            payload_offset: offset,
            payload_len: repr.data_length,
            token,
        })
    }

    pub fn on_send_complete(&mut self, token: u64) {
        self.sends_in_flight -= 1;
        if token != 0 {
            *self.in_flight.get_mut(&token).expect("unknown token") -= 1;
        }
    }

    pub fn poll_event(&mut self) -> Option<Event> {
        if self.connected_event {
            self.connected_event = false;
            return self.params.map(Event::Connected);
        }
        let &(id, len, sent) = self.queue.front()?;
        if sent == len && self.in_flight.get(&id).copied().unwrap_or(0) == 0 {
            self.queue.pop_front();
            self.in_flight.remove(&id);
            return Some(Event::MessageSent(MessageId(id)));
        }
        None
    }

    pub fn on_recv(&mut self, bytes: &[u8]) -> Result<RecvOutcome, Error> {
        assert!(self.posted > 0, "peer: completion without a posted receive");
        self.posted -= 1;
        if self.params.is_none() || self.negotiate_pending && self.role == Role::Server {
            return self.recv_negotiate(bytes);
        }
        let repr = DataTransferRepr::parse(&DataTransfer::new_unchecked(bytes))?;
        if self.receive_credits == 0 {
            return Err(Error::Protocol(ProtocolError::NoReceiveCredit));
        }
        self.receive_credits -= 1;
        self.send_credits += repr.credits_granted;
        self.target = repr.credits_requested;
        if repr.response_requested() {
            self.response_requested = true;
        }
        if repr.data_length == 0 {
            self.requested += 1;
            return Ok(RecvOutcome::Repost);
        }
        let d = self.reassembly.accept(&repr).map_err(Error::Protocol)?;
        self.parked += 1;
        Ok(RecvOutcome::Deliver(d))
    }

    fn recv_negotiate(&mut self, bytes: &[u8]) -> Result<RecvOutcome, Error> {
        // The negotiate message used a receive never granted.
        self.new_credits = self.new_credits.saturating_sub(1);
        match self.role {
            Role::Server => {
                let p = negotiate::process_request(&self.config, bytes)?;
                self.target = p.receive_credit_target;
                self.params = Some(p);
                self.negotiate_pending = true;
            }
            Role::Client => {
                let p = negotiate::process_response(&self.config, bytes)?;
                self.target = p.receive_credit_target;
                self.send_credits = p.initial_send_credits;
                self.params = Some(p);
                self.connected_event = true;
            }
        }
        self.requested += 1;
        Ok(RecvOutcome::Repost)
    }
}
