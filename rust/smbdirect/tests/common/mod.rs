// SPDX-License-Identifier: GPL-2.0

//! A simulated transport: two engines joined in memory.
//!
//! Each side models what the kernel transport does: it posts receives when
//! told to, builds real messages (header plus upper-layer payload bytes) for
//! each `Transmit`, parks delivered buffers in a reassembly queue that an
//! upper layer drains at its own pace, and reports completions. The wire is
//! a FIFO per direction (an RC queue pair delivers in order), and a send
//! completes only after its message was delivered, as on RC.

#![allow(dead_code)]

use smbdirect::wire::{DataTransfer, DataTransferRepr, NegotiateResponse};
use smbdirect::{
    Action, Config, Delivery, DisconnectReason, Engine, Instant, RecvOutcome, Role, SendToken,
    Transmit, TransmitKind,
};
use std::collections::{HashMap, VecDeque};

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
}

pub struct Side {
    pub name: &'static str,
    pub engine: Engine,
    /// Receives actually posted (the transport's truth).
    pub posted: usize,
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
    pub inflight: VecDeque<SendToken>,
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
        Side {
            name,
            engine: Engine::new(role, config, now).expect("valid config"),
            posted: 0,
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

    fn build(&self, t: &Transmit) -> Vec<u8> {
        let mut bytes = t.header().to_vec();
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
        assert!(t.total_len() as usize == bytes.len());
        bytes
    }

    /// Performs every pending action; returns true if anything happened.
    pub fn drain(&mut self, wire_out: &mut VecDeque<WireMsg>) -> bool {
        let mut any = false;
        loop {
            // Hand waiting upper-layer messages to the engine.
            while self.connected && self.disconnect.is_none() {
                let Some(msg) = self.to_send.front() else {
                    break;
                };
                match self.engine.send_message(Instant(0), msg.len() as u32) {
                    Ok(id) => {
                        let msg = self.to_send.pop_front().unwrap();
                        self.outbox.insert(id.0, msg);
                        any = true;
                    }
                    Err(smbdirect::SendError::QueueFull | smbdirect::SendError::NotConnected) => {
                        break
                    }
                    Err(e) => panic!("{}: send_message failed: {e:?}", self.name),
                }
            }
            let Some(action) = self.engine.poll_action() else {
                break;
            };
            any = true;
            match action {
                Action::PostReceives(n) => self.posted += n as usize,
                Action::Transmit(t) => {
                    let bytes = self.build(&t);
                    let repr = (t.kind == TransmitKind::DataTransfer).then(|| {
                        DataTransferRepr::parse(&DataTransfer::new_unchecked(&bytes[..]), u32::MAX)
                            .expect("engine emitted an invalid data transfer")
                    });
                    if let Some(r) = repr {
                        // Known bug 8: the last credit carries a fresh grant.
                        assert!(
                            self.engine.stats().send_credits > 0 || r.credits_granted > 0,
                            "{}: last send credit spent without a grant",
                            self.name
                        );
                        let max = self.engine.params().unwrap().max_send_size;
                        assert!(
                            r.data_offset + r.data_length <= max,
                            "message over MaxSendSize"
                        );
                        if r.data_length > 0 {
                            assert_eq!(r.data_offset, 24);
                        }
                    }
                    self.log.push(Logged {
                        kind: t.kind,
                        repr,
                        message: t.message.map(|m| m.0),
                        payload_len: t.payload_len,
                    });
                    let granted = match t.kind {
                        TransmitKind::DataTransfer => repr.map_or(0, |r| r.credits_granted),
                        TransmitKind::NegotiateResponse => {
                            NegotiateResponse::new_unchecked(&bytes[..]).credits_granted()
                        }
                        TransmitKind::NegotiateRequest => 0,
                    } as usize;
                    self.inflight.push_back(t.token);
                    wire_out.push_back(WireMsg { bytes, granted });
                }
                Action::Connected(_) => self.connected = true,
                Action::MessageSent(id) => {
                    assert!(self.outbox.remove(&id.0).is_some(), "MessageSent twice");
                    self.released += 1;
                }
                Action::Disconnect(r) => {
                    self.disconnect = Some(r);
                    break;
                }
            }
        }
        any
    }

    /// The upper layer consumes up to `k` parked buffers, in order.
    pub fn consume(&mut self, now: Instant, k: usize) -> usize {
        let k = k.min(self.parked.len());
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
            self.engine.buffers_consumed(now, k as u16).unwrap();
        }
        k
    }
}

/// A message on the wire and the credits it grants.
pub struct WireMsg {
    pub bytes: Vec<u8>,
    pub granted: usize,
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
        Pair {
            client: Side::new("client", Role::Client, client, now),
            server: Side::new("server", Role::Server, server, now),
            c2s: VecDeque::new(),
            s2c: VecDeque::new(),
            now,
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
            Ok(RecvOutcome::Repost) => to.posted += 1,
            Ok(RecvOutcome::Deliver(d)) => to.parked.push_back((bytes, d)),
            Ok(RecvOutcome::Release) => {}
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
        side.engine.on_send_complete(now, token).unwrap();
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
            let held = sender.engine.stats().send_credits as usize;
            let claimed = held + wire_out.len() + grants_on_wire(wire_back);
            assert!(
                claimed <= receiver.posted,
                "{} may send {claimed} messages but {} posted only {}",
                sender.name,
                receiver.name,
                receiver.posted
            );
            assert_eq!(
                receiver.engine.stats().posted_receives as usize,
                receiver.posted,
                "{}: engine and transport disagree on posted receives",
                receiver.name
            );
        }
    }

    /// Runs the negotiation to completion, in order.
    pub fn connect(&mut self) {
        for _ in 0..100 {
            self.drain();
            let mut moved = false;
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
            moved |= self.deliver(Dir::C2S).is_some();
            moved |= self.deliver(Dir::S2C).is_some();
            moved |= Pair::complete(&mut self.client, self.now);
            moved |= Pair::complete(&mut self.server, self.now);
            moved |= self.client.consume(self.now, usize::MAX) > 0;
            moved |= self.server.consume(self.now, usize::MAX) > 0;
            self.check_credit_backing();
            if !moved {
                return;
            }
        }
        panic!("pair did not settle");
    }

    pub fn advance(&mut self, ms: u64) {
        self.now = self.now.saturating_add_ms(ms);
        for side in [&mut self.client, &mut self.server] {
            if side.engine.poll_timeout().is_some_and(|t| t <= self.now) {
                side.engine.on_timeout(self.now);
            }
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

pub fn run(s: &Scenario) -> Outcome {
    let mut rng = Rng::new(s.seed);
    let mut pair = Pair::new(s.client, s.server);
    pair.connect();
    let c_max = s.max_message.min(
        pair.client
            .engine
            .params()
            .unwrap()
            .max_fragmented_send_size,
    );
    let s_max = s.max_message.min(
        pair.server
            .engine
            .params()
            .unwrap()
            .max_fragmented_send_size,
    );
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
        assert!(
            pair.steps <= s.max_steps,
            "seed {}: no progress within {} steps (deadlock?): client {:?} server {:?} c2s {} s2c {}",
            s.seed,
            s.max_steps,
            pair.client.engine.stats(),
            pair.server.engine.stats(),
            pair.c2s.len(),
            pair.s2c.len()
        );
        let mut moved = pair.drain();
        match rng.below(8) {
            0 | 1 => moved |= pair.deliver(Dir::C2S).is_some(),
            2 | 3 => moved |= pair.deliver(Dir::S2C).is_some(),
            4 => moved |= Pair::complete(&mut pair.client, pair.now),
            5 => moved |= Pair::complete(&mut pair.server, pair.now),
            6 => {
                if rng.chance(s.consume_percent) {
                    let k = 1 + rng.below(8) as usize;
                    moved |= pair.client.consume(pair.now, k) > 0;
                }
            }
            _ => {
                if rng.chance(s.consume_percent) {
                    let k = 1 + rng.below(8) as usize;
                    moved |= pair.server.consume(pair.now, k) > 0;
                }
            }
        }
        let _ = moved;
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
        let sa = a.engine.stats();
        let sb = b.engine.stats();
        assert_eq!(
            sa.send_credits, sb.receive_credits,
            "seed {}: credits diverge",
            s.seed
        );
        assert!(
            sa.send_credits >= 1,
            "seed {}: {} left without credits",
            s.seed,
            a.name
        );
        assert_eq!(sa.sends_in_flight, 0);
        assert_eq!(sa.send_queue_len, 0);
        assert_eq!(sa.parked_receives, 0);
        assert_eq!(a.released, s.messages_each_way);
        assert!(a.outbox.is_empty());
    }
    Outcome {
        steps: pair.steps,
        bytes,
        client_stats: pair.client.engine.stats(),
        server_stats: pair.server.engine.stats(),
    }
}
