// SPDX-License-Identifier: GPL-2.0

//! A simulated transport: two engines, or an engine and a model of Linux
//! 6.12 ([`peer`]), joined in memory.
//!
//! Each side models what the kernel transport does: it posts receives when
//! told to and reports them posted (at once, or later, as a transport whose
//! threads interleave does), builds real messages (header plus upper-layer
//! payload bytes) for each transmit, parks delivered buffers in a
//! reassembly queue that an upper layer drains at its own pace (streaming,
//! or a whole message at a time), and reports completions. The wire is a
//! FIFO per direction (an RC queue pair delivers in order), and a send
//! completes only after its message was delivered, as on RC.

#![allow(dead_code)]

pub mod peer;

pub use peer::{Granting, Peer};
use smbdirect::wire::{DataTransfer, DataTransferRepr, NegotiateResponse};
use smbdirect::{
    Config, Consumer, Delivery, DisconnectReason, Engine, Event, Instant, MessageId, NextFragment,
    RecvOutcome, Role, SendError, SendToken, TransmitKind,
};
use std::collections::{HashMap, VecDeque};
use std::ops::{Deref, DerefMut};

/// A small deterministic generator (xorshift64*).
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Returns a value in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

/// A transmit as seen on the wire, for assertions.
#[derive(Clone, Debug)]
pub struct Logged {
    pub kind: TransmitKind,
    pub repr: Option<DataTransferRepr>,
    pub message: Option<u64>,
    pub payload_len: u32,
    pub invalidate: Option<u32>,
}

/// A transmit of either kind of node.
#[derive(Clone, Debug)]
pub struct SimTransmit {
    pub kind: TransmitKind,
    pub header: Vec<u8>,
    pub message: Option<MessageId>,
    pub payload_offset: u32,
    pub payload_len: u32,
    pub token: u64,
    pub invalidate: Option<u32>,
}

/// One end: the engine under test, or the conservative peer model.
#[allow(clippy::large_enum_variant)]
pub enum Node {
    Engine(Engine),
    Peer(Peer),
}

impl Deref for Node {
    type Target = Engine;
    fn deref(&self) -> &Engine {
        match self {
            Node::Engine(e) => e,
            Node::Peer(_) => panic!("this side is the peer model"),
        }
    }
}

impl DerefMut for Node {
    fn deref_mut(&mut self) -> &mut Engine {
        match self {
            Node::Engine(e) => e,
            Node::Peer(_) => panic!("this side is the peer model"),
        }
    }
}

impl Node {
    pub fn is_engine(&self) -> bool {
        matches!(self, Node::Engine(_))
    }

    fn poll_receives(&mut self) -> Option<u16> {
        match self {
            Node::Engine(e) => e.poll_receives(),
            Node::Peer(p) => p.poll_receives(),
        }
    }

    /// The engine's `is_idle`; the peer model never claims it.
    fn is_idle(&self) -> bool {
        match self {
            Node::Engine(e) => e.is_idle(),
            Node::Peer(_) => false,
        }
    }

    fn poll_transmit(&mut self, max: u32) -> Option<SimTransmit> {
        match self {
            Node::Engine(e) => e.poll_transmit(max).map(|t| SimTransmit {
                kind: t.kind,
                header: t.header().to_vec(),
                message: t.message,
                payload_offset: t.payload_offset,
                payload_len: t.payload_len,
                token: t.token.to_raw(),
                invalidate: t.invalidate,
            }),
            Node::Peer(p) => p.poll_transmit(max).map(|t| SimTransmit {
                kind: t.kind,
                header: t.header,
                message: t.message,
                payload_offset: t.payload_offset,
                payload_len: t.payload_len,
                token: t.token,
                invalidate: None,
            }),
        }
    }

    fn poll_event(&mut self) -> Option<Event> {
        match self {
            Node::Engine(e) => e.poll_event(),
            Node::Peer(p) => p.poll_event(),
        }
    }

    fn next_fragment(&self) -> Option<NextFragment> {
        match self {
            Node::Engine(e) => e.next_fragment(),
            Node::Peer(_) => None,
        }
    }

    fn on_recv(&mut self, now: Instant, bytes: &[u8]) -> Result<RecvOutcome, smbdirect::Error> {
        match self {
            Node::Engine(e) => e.on_recv(now, bytes),
            Node::Peer(p) => p.on_recv(bytes),
        }
    }

    fn on_receives_posted(&mut self, now: Instant, n: u16) {
        match self {
            Node::Engine(e) => e.on_receives_posted(now, n).unwrap(),
            Node::Peer(p) => p.on_receives_posted(n),
        }
    }

    fn on_send_complete(&mut self, now: Instant, token: u64) {
        match self {
            Node::Engine(e) => e.on_send_complete(now, SendToken::from_raw(token)).unwrap(),
            Node::Peer(p) => p.on_send_complete(token),
        }
    }

    fn buffers_consumed(&mut self, now: Instant, n: u16) {
        match self {
            Node::Engine(e) => e.buffers_consumed(now, n).unwrap(),
            Node::Peer(p) => p.buffers_consumed(n),
        }
    }

    fn send_message(&mut self, now: Instant, len: u32) -> Result<MessageId, SendError> {
        match self {
            Node::Engine(e) => e.send_message(now, len),
            Node::Peer(p) => p.send_message(len),
        }
    }

    pub fn send_credits(&self) -> u16 {
        match self {
            Node::Engine(e) => e.stats().send_credits,
            Node::Peer(p) => p.send_credits,
        }
    }

    pub fn receive_credits(&self) -> u16 {
        match self {
            Node::Engine(e) => e.stats().receive_credits,
            Node::Peer(p) => p.receive_credits,
        }
    }

    fn max_send_size(&self) -> u32 {
        match self {
            Node::Engine(e) => e.params().unwrap().max_send_size,
            Node::Peer(p) => p.params.unwrap().max_send_size,
        }
    }

    pub fn max_fragmented_send_size(&self) -> u32 {
        match self {
            Node::Engine(e) => e.params().unwrap().max_fragmented_send_size,
            Node::Peer(p) => p.params.unwrap().max_fragmented_send_size,
        }
    }

    fn consumer(&self) -> Consumer {
        match self {
            Node::Engine(e) => e.config().consumer,
            Node::Peer(p) => p.config.consumer,
        }
    }

    fn advance(&mut self, now: Instant) {
        if let Node::Engine(e) = self {
            if e.poll_timeout().is_some_and(|t| t <= now) {
                e.on_timeout(now);
            }
        }
    }
}

/// A transport that maps upper-layer messages zero-copy: each message lies
/// in "pages" of `page` bytes, the first one partial, and a send may use at
/// most `max_send_sge` SGEs, one of them for the header (known bug 5).
#[derive(Clone, Copy, Debug)]
pub struct SgeModel {
    pub max_send_sge: u32,
    pub page: u32,
}

impl SgeModel {
    /// The offset in message `id` where its first page ends.
    fn first_boundary(&self, id: u64) -> u32 {
        1 + (id.wrapping_mul(2654435761) % u64::from(self.page)) as u32
    }

    /// The SGEs a payload range of message `id` needs.
    pub fn sges(&self, id: u64, offset: u32, len: u32) -> u32 {
        if len == 0 {
            return 0;
        }
        let b = self.first_boundary(id);
        let page_of = |x: u32| if x < b { 0 } else { 1 + (x - b) / self.page };
        page_of(offset + len - 1) - page_of(offset) + 1
    }

    /// The most payload bytes from `offset` that fit in the SGEs left after
    /// the header.
    pub fn max_payload(&self, id: u64, offset: u32) -> u32 {
        let b = self.first_boundary(id);
        let pages = self.max_send_sge - 1;
        let end = if offset < b {
            b + (pages - 1) * self.page
        } else {
            b + ((offset - b) / self.page + pages) * self.page
        };
        end - offset
    }
}

pub struct Side {
    pub name: &'static str,
    pub engine: Node,
    /// Receives actually posted (the transport's truth).
    pub posted: usize,
    /// Receives the engine asked for that the transport has not posted yet.
    pub to_post: usize,
    /// Receives posted and not yet reported to the engine.
    pub unreported: usize,
    /// Post and report receives at random later steps instead of at once.
    pub lazy_posts: bool,
    /// Map messages zero-copy within these SGE limits.
    pub sge: Option<SgeModel>,
    pub max_sges_used: u32,
    /// Delivered buffers waiting for the upper layer.
    pub parked: VecDeque<(Vec<u8>, Delivery)>,
    /// The message being reassembled by the upper layer.
    pub assembling: Vec<u8>,
    pub assembling_len: u32,
    /// Complete upper-layer messages received.
    pub received: Vec<Vec<u8>>,
    /// Upper-layer messages not yet accepted by the engine.
    pub to_send: VecDeque<Vec<u8>>,
    /// Queued upper-layer messages by id.
    pub outbox: HashMap<u64, Vec<u8>>,
    /// Posted sends, oldest first.
    pub inflight: VecDeque<u64>,
    /// How many of the oldest posted sends were delivered and may complete.
    pub completable: usize,
    pub connected: bool,
    pub disconnect: Option<DisconnectReason>,
    pub released: usize,
    pub log: Vec<Logged>,
    pub errors: Vec<smbdirect::Error>,
}

impl Side {
    pub fn new(name: &'static str, role: Role, config: Config, now: Instant) -> Self {
        Self::with_node(
            name,
            Node::Engine(Engine::new(role, config, now).expect("valid config")),
        )
    }

    pub fn with_node(name: &'static str, engine: Node) -> Self {
        Side {
            name,
            engine,
            posted: 0,
            to_post: 0,
            unreported: 0,
            lazy_posts: false,
            sge: None,
            max_sges_used: 0,
            parked: VecDeque::new(),
            assembling: Vec::new(),
            assembling_len: 0,
            received: Vec::new(),
            to_send: VecDeque::new(),
            outbox: HashMap::new(),
            inflight: VecDeque::new(),
            completable: 0,
            connected: false,
            disconnect: None,
            released: 0,
            log: Vec::new(),
            errors: Vec::new(),
        }
    }

    fn build(&self, t: &SimTransmit) -> Vec<u8> {
        let mut bytes = t.header.clone();
        if let Some(id) = t.message {
            let msg = self
                .outbox
                .get(&id.0)
                .expect("transmit of an unknown message");
            let start = t.payload_offset as usize;
            let end = start + t.payload_len as usize;
            bytes.extend_from_slice(&msg[start..end]);
        } else {
            assert_eq!(t.payload_len, 0);
        }
        bytes
    }

    /// Posts `k` of the receives asked for.
    pub fn post(&mut self, k: usize) {
        let k = k.min(self.to_post);
        self.to_post -= k;
        self.posted += k;
        self.unreported += k;
    }

    /// Reports `k` posted receives to the engine.
    pub fn report(&mut self, now: Instant, k: usize) {
        let k = k.min(self.unreported);
        if k > 0 && self.disconnect.is_none() {
            self.unreported -= k;
            self.engine.on_receives_posted(now, k as u16);
        }
    }

    /// Posts and reports every receive asked for; true if there was one.
    pub fn flush_posts(&mut self, now: Instant) -> bool {
        let any = self.to_post + self.unreported > 0;
        self.post(usize::MAX);
        self.report(now, usize::MAX);
        any
    }

    /// The payload the next transmit may carry.
    fn max_payload(&self) -> u32 {
        match (self.sge, self.engine.next_fragment()) {
            (Some(m), Some(f)) => m.max_payload(f.message.0, f.offset),
            _ => u32::MAX,
        }
    }

    /// Performs every pending action; returns true if anything happened.
    pub fn drain(&mut self, wire_out: &mut VecDeque<WireMsg>) -> bool {
        let mut any = false;
        loop {
            if self.disconnect.is_some() {
                break;
            }
            // Hand waiting upper-layer messages to the engine.
            while self.connected {
                let Some(msg) = self.to_send.front() else {
                    break;
                };
                match self.engine.send_message(Instant(0), msg.len() as u32) {
                    Ok(id) => {
                        let msg = self.to_send.pop_front().unwrap();
                        self.outbox.insert(id.0, msg);
                        any = true;
                    }
                    Err(SendError::QueueFull | SendError::NotConnected) => break,
                    Err(e) => panic!("{}: send_message failed: {e:?}", self.name),
                }
            }
            // An engine that says it is idle must have nothing to give.
            let idle = self.engine.is_idle();
            if let Some(n) = self.engine.poll_receives() {
                assert!(!idle, "{}: idle, yet {n} receives to post", self.name);
                any = true;
                self.to_post += usize::from(n);
                if !self.lazy_posts {
                    self.flush_posts(Instant(0));
                }
                continue;
            }
            let max = self.max_payload();
            if let Some(t) = self.engine.poll_transmit(max) {
                assert!(!idle, "{}: idle, yet a {:?} to transmit", self.name, t.kind);
                any = true;
                self.transmit(t, max, wire_out);
                continue;
            }
            let Some(event) = self.engine.poll_event() else {
                break;
            };
            assert!(!idle, "{}: idle, yet an event {event:?}", self.name);
            any = true;
            match event {
                Event::Connected(_) => self.connected = true,
                Event::MessageSent(id) => {
                    assert!(self.outbox.remove(&id.0).is_some(), "MessageSent twice");
                    self.released += 1;
                }
                Event::Disconnect(r) => self.disconnect = Some(r),
                e => panic!("unknown event {e:?}"),
            }
        }
        any
    }

    fn transmit(&mut self, t: SimTransmit, max: u32, wire_out: &mut VecDeque<WireMsg>) {
        let bytes = self.build(&t);
        let repr = (t.kind == TransmitKind::DataTransfer).then(|| {
            DataTransferRepr::parse(&DataTransfer::new_unchecked(&bytes[..]))
                .expect("an invalid data transfer was emitted")
        });
        if let (Some(r), true) = (repr, self.engine.is_engine()) {
            // Known bug 8: the last credit carries a fresh grant.
            assert!(
                self.engine.send_credits() > 0 || r.credits_granted > 0,
                "{}: last send credit spent without a grant",
                self.name
            );
            assert!(
                r.data_offset + r.data_length <= self.engine.max_send_size(),
                "message over MaxSendSize"
            );
            assert!(r.data_length <= max, "fragment longer than asked for");
            if r.data_length > 0 {
                assert_eq!(r.data_offset, 24);
            }
            if let (Some(m), Some(id)) = (self.sge, t.message) {
                let sges = 1 + m.sges(id.0, t.payload_offset, t.payload_len);
                assert!(
                    sges <= m.max_send_sge,
                    "{}: a send needs {sges} SGEs, the device has {}",
                    self.name,
                    m.max_send_sge
                );
                self.max_sges_used = self.max_sges_used.max(sges);
            }
            assert!(
                t.invalidate.is_none() || r.remaining_data_length == 0,
                "invalidate before the last fragment"
            );
        }
        self.log.push(Logged {
            kind: t.kind,
            repr,
            message: t.message.map(|m| m.0),
            payload_len: t.payload_len,
            invalidate: t.invalidate,
        });
        let granted = match t.kind {
            TransmitKind::DataTransfer => repr.map_or(0, |r| r.credits_granted),
            TransmitKind::NegotiateResponse => {
                NegotiateResponse::new_unchecked(&bytes[..]).credits_granted()
            }
            _ => 0,
        } as usize;
        self.inflight.push_back(t.token);
        wire_out.push_back(WireMsg {
            bytes,
            granted,
            kind: t.kind,
        });
    }

    /// The upper layer consumes up to `k` parked buffers, in order; a
    /// whole-message consumer takes nothing before a message is complete,
    /// then all of it.
    pub fn consume(&mut self, now: Instant, k: usize) -> usize {
        let k = match self.engine.consumer() {
            Consumer::WholeMessage => self
                .parked
                .iter()
                .position(|(_, d)| d.end_of_message)
                .map_or(0, |i| i + 1),
            _ => k.min(self.parked.len()),
        };
        for _ in 0..k {
            let (buf, d) = self.parked.pop_front().unwrap();
            if d.start_of_message {
                assert!(
                    self.assembling.is_empty(),
                    "{}: new message mid-reassembly",
                    self.name
                );
                self.assembling_len = d.message_length;
            }
            assert_eq!(d.message_offset as usize, self.assembling.len());
            let s = d.data_offset as usize;
            self.assembling
                .extend_from_slice(&buf[s..s + d.data_length as usize]);
            if d.end_of_message {
                assert_eq!(self.assembling.len(), self.assembling_len as usize);
                self.received.push(std::mem::take(&mut self.assembling));
            }
        }
        if k > 0 {
            self.engine.buffers_consumed(now, k as u16);
        }
        k
    }
}

/// A message on the wire and the credits it grants.
pub struct WireMsg {
    pub bytes: Vec<u8>,
    pub granted: usize,
    pub kind: TransmitKind,
}

/// Sums the credits granted by the messages on a wire.
fn grants_on_wire(wire: &VecDeque<WireMsg>) -> usize {
    wire.iter().map(|m| m.granted).sum()
}

pub struct Pair {
    pub client: Side,
    pub server: Side,
    /// Client to server.
    pub c2s: VecDeque<WireMsg>,
    /// Server to client.
    pub s2c: VecDeque<WireMsg>,
    pub now: Instant,
    pub steps: u64,
}

pub enum Dir {
    C2S,
    S2C,
}

impl Pair {
    pub fn new(client: Config, server: Config) -> Self {
        let now = Instant(1_000);
        Pair::with_sides(
            Side::new("client", Role::Client, client, now),
            Side::new("server", Role::Server, server, now),
        )
    }

    pub fn with_sides(client: Side, server: Side) -> Self {
        Pair {
            client,
            server,
            c2s: VecDeque::new(),
            s2c: VecDeque::new(),
            now: Instant(1_000),
            steps: 0,
        }
    }

    pub fn drain(&mut self) -> bool {
        let a = self.client.drain(&mut self.c2s);
        let b = self.server.drain(&mut self.s2c);
        a || b
    }

    /// Delivers the oldest message of one direction.
    pub fn deliver(&mut self, dir: Dir) -> Option<Result<RecvOutcome, smbdirect::Error>> {
        let (wire, from, to) = match dir {
            Dir::C2S => (&mut self.c2s, &mut self.client, &mut self.server),
            Dir::S2C => (&mut self.s2c, &mut self.server, &mut self.client),
        };
        let front = wire.front()?;
        if to.posted == 0 && front.kind != TransmitKind::DataTransfer {
            // RNR: a negotiate message waits for the receive (no credit
            // covers it, the sender cannot know).
            return None;
        }
        let WireMsg { bytes, .. } = wire.pop_front()?;
        from.completable += 1;
        if to.disconnect.is_some() {
            return None;
        }
        assert!(
            to.posted > 0,
            "{}: a message arrived with no receive posted (RNR): credits not backed",
            to.name
        );
        to.posted -= 1;
        let r = to.engine.on_recv(self.now, &bytes);
        match r {
            Ok(RecvOutcome::Repost) => {
                to.to_post += 1;
                if !to.lazy_posts {
                    to.flush_posts(self.now);
                }
            }
            Ok(RecvOutcome::Deliver(d)) => to.parked.push_back((bytes, d)),
            Ok(_) => {}
            Err(e) => to.errors.push(e),
        }
        Some(r)
    }

    /// Completes the oldest delivered send of a side.
    pub fn complete(side: &mut Side, now: Instant) -> bool {
        if side.completable == 0 || side.disconnect.is_some() {
            return false;
        }
        side.completable -= 1;
        let token = side.inflight.pop_front().unwrap();
        side.engine.on_send_complete(now, token);
        true
    }

    /// Checks that every credit either side holds, or is about to receive,
    /// is backed by a receive the other side actually posted (known bug 7).
    pub fn check_credit_backing(&self) {
        for (sender, receiver, wire_out, wire_back) in [
            (&self.client, &self.server, &self.c2s, &self.s2c),
            (&self.server, &self.client, &self.s2c, &self.c2s),
        ] {
            if sender.disconnect.is_some() || receiver.disconnect.is_some() {
                continue;
            }
            let held = sender.engine.send_credits() as usize;
            let data_out = wire_out
                .iter()
                .filter(|m| m.kind == TransmitKind::DataTransfer)
                .count();
            let claimed = held + data_out + grants_on_wire(wire_back);
            assert!(
                claimed <= receiver.posted,
                "{} may send {claimed} messages but {} posted only {}",
                sender.name,
                receiver.name,
                receiver.posted
            );
            if receiver.engine.is_engine() {
                let s = receiver.engine.stats();
                assert_eq!(
                    s.posted_receives as usize + s.requested_receives as usize,
                    receiver.posted + receiver.to_post,
                    "{}: engine and transport disagree on receives",
                    receiver.name
                );
                assert!(s.posted_receives as usize <= receiver.posted);
            }
        }
    }

    /// Runs the negotiation to completion, in order.
    pub fn connect(&mut self) {
        for _ in 0..100 {
            self.drain();
            let mut moved = self.client.flush_posts(self.now) | self.server.flush_posts(self.now);
            while self.deliver(Dir::C2S).is_some() {
                moved = true;
            }
            while self.deliver(Dir::S2C).is_some() {
                moved = true;
            }
            while Pair::complete(&mut self.client, self.now) {
                moved = true;
            }
            while Pair::complete(&mut self.server, self.now) {
                moved = true;
            }
            if !moved && !self.drain() && self.client.connected && self.server.connected {
                return;
            }
        }
        panic!("negotiation did not finish");
    }

    /// Delivers, completes and consumes everything until nothing moves.
    pub fn settle(&mut self) {
        for _ in 0..100_000 {
            let mut moved = self.drain();
            moved |= self.client.flush_posts(self.now);
            moved |= self.server.flush_posts(self.now);
            moved |= self.deliver(Dir::C2S).is_some();
            moved |= self.deliver(Dir::S2C).is_some();
            moved |= Pair::complete(&mut self.client, self.now);
            moved |= Pair::complete(&mut self.server, self.now);
            moved |= self.client.consume(self.now, usize::MAX) > 0;
            moved |= self.server.consume(self.now, usize::MAX) > 0;
            self.check_credit_backing();
            if !moved {
                // Settled: an engine with nothing left to do says so, so
                // that a transport may skip it.
                for side in [&self.client, &self.server] {
                    if side.engine.is_engine() && side.disconnect.is_none() {
                        assert!(side.engine.is_idle(), "{}: settled but not idle", side.name);
                    }
                }
                return;
            }
        }
        panic!(
            "pair did not settle: client {:?} server {:?} to_post {} {} unreported {} {}",
            self.client
                .engine
                .is_engine()
                .then(|| self.client.engine.stats()),
            self.server
                .engine
                .is_engine()
                .then(|| self.server.engine.stats()),
            self.client.to_post,
            self.server.to_post,
            self.client.unreported,
            self.server.unreported
        );
    }

    pub fn advance(&mut self, ms: u64) {
        self.now = self.now.saturating_add_ms(ms);
        for side in [&mut self.client, &mut self.server] {
            side.engine.advance(self.now);
        }
    }
}

/// A fully random scenario: sizes, schedules and consumer speeds.
pub struct Scenario {
    pub seed: u64,
    pub client: Config,
    pub server: Config,
    pub messages_each_way: usize,
    pub max_message: u32,
    /// Percent chance per step that an upper layer consumes something.
    pub consume_percent: u64,
    pub max_steps: u64,
}

pub struct Outcome {
    pub steps: u64,
    pub bytes: u64,
    pub client_stats: smbdirect::Stats,
    pub server_stats: smbdirect::Stats,
}

fn make_messages(rng: &mut Rng, n: usize, max: u32) -> Vec<Vec<u8>> {
    (0..n)
        .map(|_| {
            let len = match rng.below(10) {
                0 => max as u64,
                1..=2 => 1 + rng.below(max as u64),
                _ => 1 + rng.below(4096.min(max as u64)),
            } as usize;
            let mut m = vec![0u8; len];
            rng.fill(&mut m);
            m
        })
        .collect()
}

/// What runs on each side beyond the engine defaults.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Post and report receives at random later steps.
    pub lazy_posts: bool,
    /// The client is the Linux 6.12 model instead of the engine.
    pub client_peer: Option<Granting>,
    /// The server is the Linux 6.12 model instead of the engine.
    pub server_peer: Option<Granting>,
    /// Both sides map messages zero-copy within these SGE limits.
    pub sge: Option<SgeModel>,
}

/// The pair stopped moving: no progress within the step bound.
#[derive(Debug)]
pub struct Stall(pub String);

pub fn run(s: &Scenario) -> Outcome {
    run_with(s, &Options::default())
}

pub fn run_with(s: &Scenario, o: &Options) -> Outcome {
    try_run(s, o).unwrap_or_else(|e| panic!("{}", e.0))
}

fn make_side(
    name: &'static str,
    role: Role,
    cfg: Config,
    peer: Option<Granting>,
    o: &Options,
) -> Side {
    let mut side = match peer {
        Some(g) => Side::with_node(name, Node::Peer(Peer::new(role, cfg, g))),
        None => Side::new(name, role, cfg, Instant(1_000)),
    };
    side.lazy_posts = o.lazy_posts;
    side.sge = o.sge;
    side
}

pub fn try_run(s: &Scenario, o: &Options) -> Result<Outcome, Stall> {
    let mut rng = Rng::new(s.seed);
    let mut pair = Pair::with_sides(
        make_side("client", Role::Client, s.client, o.client_peer, o),
        make_side("server", Role::Server, s.server, o.server_peer, o),
    );
    pair.connect();
    let c_max = s
        .max_message
        .min(pair.client.engine.max_fragmented_send_size());
    let s_max = s
        .max_message
        .min(pair.server.engine.max_fragmented_send_size());
    let to_server = make_messages(&mut rng, s.messages_each_way, c_max);
    let to_client = make_messages(&mut rng, s.messages_each_way, s_max);
    let bytes: u64 = to_server
        .iter()
        .chain(&to_client)
        .map(|m| m.len() as u64)
        .sum();
    pair.client.to_send.extend(to_server.iter().cloned());
    pair.server.to_send.extend(to_client.iter().cloned());

    let done = |p: &Pair| {
        p.server.received.len() == to_server.len() && p.client.received.len() == to_client.len()
    };
    while !done(&pair) {
        pair.steps += 1;
        if pair.steps > s.max_steps {
            return Err(Stall(format!(
                "seed {}: no progress within {} steps (deadlock?): client {:?} server {:?} c2s {} s2c {}",
                s.seed,
                s.max_steps,
                pair.client.engine.is_engine().then(|| pair.client.engine.stats()),
                pair.server.engine.is_engine().then(|| pair.server.engine.stats()),
                pair.c2s.len(),
                pair.s2c.len()
            )));
        }
        pair.drain();
        match rng.below(10) {
            0 | 1 => {
                pair.deliver(Dir::C2S);
            }
            2 | 3 => {
                pair.deliver(Dir::S2C);
            }
            4 => {
                Pair::complete(&mut pair.client, pair.now);
            }
            5 => {
                Pair::complete(&mut pair.server, pair.now);
            }
            6 => {
                if rng.chance(s.consume_percent) {
                    let k = 1 + rng.below(8) as usize;
                    pair.client.consume(pair.now, k);
                }
            }
            7 => {
                if rng.chance(s.consume_percent) {
                    let k = 1 + rng.below(8) as usize;
                    pair.server.consume(pair.now, k);
                }
            }
            // Another thread posts receives, or reports earlier posts.
            8 => {
                let side = if rng.chance(50) {
                    &mut pair.client
                } else {
                    &mut pair.server
                };
                let k = 1 + rng.below(16) as usize;
                side.post(k);
            }
            _ => {
                let now = pair.now;
                let side = if rng.chance(50) {
                    &mut pair.client
                } else {
                    &mut pair.server
                };
                let k = 1 + rng.below(16) as usize;
                side.report(now, k);
            }
        }
        pair.advance(rng.below(2));
        pair.check_credit_backing();
        for side in [&pair.client, &pair.server] {
            assert!(
                side.disconnect.is_none() && side.errors.is_empty(),
                "seed {}: {} failed: {:?} {:?}",
                s.seed,
                side.name,
                side.disconnect,
                side.errors
            );
        }
    }
    // Every byte arrived, in order.
    assert_eq!(
        pair.server.received, to_server,
        "seed {}: client to server data",
        s.seed
    );
    assert_eq!(
        pair.client.received, to_client,
        "seed {}: server to client data",
        s.seed
    );
    // Quiesce and check that the credits of both directions converge.
    pair.settle();
    for (a, b) in [(&pair.client, &pair.server), (&pair.server, &pair.client)] {
        assert_eq!(
            a.engine.send_credits(),
            b.engine.receive_credits(),
            "seed {}: credits diverge",
            s.seed
        );
        assert!(a.released == s.messages_each_way && a.outbox.is_empty());
        if !a.engine.is_engine() {
            continue;
        }
        let sa = a.engine.stats();
        if b.engine.is_engine() {
            assert!(
                sa.send_credits >= 1,
                "seed {}: {} left without credits",
                s.seed,
                a.name
            );
        }
        assert_eq!(sa.sends_in_flight, 0);
        assert_eq!(sa.send_queue_len, 0);
        assert_eq!(sa.parked_receives, 0);
    }
    let stats = |side: &Side| {
        if side.engine.is_engine() {
            side.engine.stats()
        } else {
            smbdirect::Stats::default()
        }
    };
    Ok(Outcome {
        steps: pair.steps,
        bytes,
        client_stats: stats(&pair.client),
        server_stats: stats(&pair.server),
    })
}
