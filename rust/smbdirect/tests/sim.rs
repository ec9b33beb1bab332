// SPDX-License-Identifier: GPL-2.0

//! A simulated client/server pair with random schedules.
//!
//! Each run draws configurations, message sizes (up to the peer's maximum
//! fragmented size), completion orders and upper-layer consumption speeds
//! from a seed, then checks that every byte arrives in order, that every
//! credit is backed by a posted receive at every step, that credits
//! converge once idle and that the pair never stalls.

mod common;

use common::{run, Dir, Pair, Rng, Scenario};
use smbdirect::{Config, Consumer, DisconnectReason, Instant, TransmitKind};

/// The number of random seeds `random_pairs` runs.
const SEEDS: u64 = 200;

fn random_config(rng: &mut Rng, base: Config) -> Config {
    let (credits, size) = match rng.below(4) {
        0 => (255, 1364),
        1 => (32, 8192),
        2 => (16, 16384),
        _ => (3 + rng.below(6) as u16, 65536 + 24),
    };
    let mut c = Config {
        receive_credit_max: credits,
        send_credit_target: 1 + rng.below(credits as u64) as u16,
        max_send_size: size,
        max_receive_size: size,
        send_queue_depth: 1 + rng.below(255) as u16,
        keepalive_interval_ms: 5_000,
        keepalive_timeout_ms: 5_000,
        ..base
    };
    c.max_fragmented_recv_size = c.safe_max_fragmented_recv_size().max(131_072);
    c
}

#[test]
fn random_pairs() {
    let mut total_steps = 0;
    let mut total_bytes = 0;
    let mut empties = 0;
    let mut fragments = 0;
    for seed in 0..SEEDS {
        let mut rng = Rng::new(seed ^ 0x5eed);
        let mut client = random_config(&mut rng, Config::default_client());
        let mut server = random_config(&mut rng, Config::default_server());
        // A whole-message consumer only where its buffers hold a largest
        // message in the peer's fragments; streaming elsewhere.
        let fits = |a: &Config, b: &Config| {
            let payload = a.max_receive_size.min(b.max_send_size) - 24;
            u32::from(a.receive_credit_max - 1) * payload >= a.max_fragmented_recv_size
        };
        let (c, s) = (client, server);
        if !fits(&c, &s) {
            client.consumer = Consumer::Streaming;
        }
        if !fits(&s, &c) {
            server.consumer = Consumer::Streaming;
        }
        let s = Scenario {
            seed,
            client,
            server,
            messages_each_way: 12 + rng.below(12) as usize,
            max_message: u32::MAX,
            consume_percent: 10 + rng.below(90),
            max_steps: 2_000_000,
        };
        let o = run(&s);
        total_steps += o.steps;
        total_bytes += o.bytes;
        assert!(o.client_stats.fragments_sent > 0 && o.server_stats.fragments_sent > 0);
        empties += o.client_stats.empty_sent + o.server_stats.empty_sent;
        fragments += o.client_stats.fragments_sent + o.server_stats.fragments_sent;
    }
    println!(
        "random_pairs: {SEEDS} seeds, {total_steps} steps, {total_bytes} bytes, \
         {fragments} fragments, {empties} credit-only or keepalive messages"
    );
    // Credit-only messages must stay a small fraction of the traffic: no
    // ping-pong of empty messages.
    assert!(empties * 4 < fragments);
}

/// The Linux defaults both ways, with the largest messages allowed.
#[test]
fn linux_defaults_large_messages() {
    let s = Scenario {
        seed: 7,
        client: Config::default_client(),
        server: Config::default_server(),
        messages_each_way: 20,
        max_message: u32::MAX,
        consume_percent: 30,
        max_steps: 2_000_000,
    };
    let o = run(&s);
    assert!(o.client_stats.fragments_sent > 100);
    assert!(o.server_stats.messages_received == 20);
}

/// A very slow upper layer on both sides: receive buffers run short, and
/// credits must still flow.
#[test]
fn receive_buffer_shortage() {
    for seed in 100..110 {
        let cfg = Config {
            receive_credit_max: 8,
            send_credit_target: 8,
            max_send_size: 32_792,
            max_receive_size: 32_792,
            max_fragmented_recv_size: 131_072,
            ..Config::default_client()
        };
        let s = Scenario {
            seed,
            client: cfg,
            server: Config {
                max_read_write_size: 1 << 20,
                ..cfg
            },
            messages_each_way: 20,
            max_message: 131_072,
            consume_percent: 3,
            max_steps: 5_000_000,
        };
        run(&s);
    }
}

fn short_keepalive() -> Config {
    Config {
        keepalive_interval_ms: 100,
        keepalive_timeout_ms: 50,
        ..Config::default_client()
    }
}

/// §3.1.2.2: an idle connection sends a keepalive with RESPONSE_REQUESTED,
/// the peer answers and the connection stays up.
#[test]
fn keepalive_fires_when_idle() {
    let mut p = Pair::new(short_keepalive(), Config::default_server());
    p.connect();
    p.settle();
    let before = p.client.engine.stats().keepalives_sent;
    for _ in 0..5 {
        p.advance(60);
        p.settle();
    }
    let s = p.client.engine.stats();
    assert!(s.keepalives_sent > before, "no keepalive after 300 ms idle");
    assert!(p.client.disconnect.is_none() && p.server.disconnect.is_none());
    let ka = p
        .client
        .log
        .iter()
        .filter_map(|l| l.repr)
        .filter(|r| r.response_requested())
        .count();
    assert!(ka >= 1);
    // The server answered each keepalive.
    assert!(p.server.engine.stats().response_requests_received >= 1);
    assert!(p.server.engine.stats().empty_sent >= 1);
}

/// §3.1.2.2: when the peer stays silent, the unanswered keepalive leads to
/// an idle-timeout disconnect.
#[test]
fn idle_timeout_disconnects_silent_peer() {
    let mut p = Pair::new(short_keepalive(), Config::default_server());
    p.connect();
    p.settle();
    // From now on nothing reaches the server, so nothing comes back.
    for _ in 0..10 {
        p.advance(30);
        p.drain();
        p.c2s.clear();
        if p.client.disconnect.is_some() {
            break;
        }
    }
    assert_eq!(p.client.disconnect, Some(DisconnectReason::IdleTimeout));
    assert_eq!(p.client.engine.stats().idle_timeouts, 1);
    assert_eq!(p.client.engine.poll_timeout(), None);
}

/// The negotiate timer drops a connection whose peer never answers.
#[test]
fn negotiate_timeout() {
    let cfg = Config {
        negotiate_timeout_ms: 500,
        ..Config::default_client()
    };
    let mut p = Pair::new(cfg, Config::default_server());
    p.drain();
    p.c2s.clear();
    assert_eq!(p.client.engine.poll_timeout(), Some(Instant(1_500)));
    p.advance(499);
    p.drain();
    assert!(p.client.disconnect.is_none());
    p.advance(1);
    p.drain();
    assert_eq!(
        p.client.disconnect,
        Some(DisconnectReason::NegotiateTimeout)
    );
}

/// Keepalives during traffic never break a fragmented message apart.
#[test]
fn keepalive_during_fragmentation() {
    let cfg = Config {
        receive_credit_max: 4,
        send_credit_target: 4,
        max_send_size: 65_560,
        max_receive_size: 65_560,
        keepalive_interval_ms: 1,
        keepalive_timeout_ms: 1_000_000,
        consumer: Consumer::Streaming,
        ..Config::default_client()
    };
    let mut p = Pair::new(cfg, cfg);
    p.connect();
    let msg: Vec<u8> = (0..131_072u32).map(|i| (i * 7) as u8).collect();
    p.client.to_send.push_back(msg.clone());
    for _ in 0..10_000 {
        p.advance(2);
        p.drain();
        p.deliver(Dir::C2S);
        p.deliver(Dir::S2C);
        Pair::complete(&mut p.client, p.now);
        Pair::complete(&mut p.server, p.now);
        p.server.consume(p.now, 1);
        p.client.consume(p.now, 1);
        if p.server.received.len() == 1 {
            break;
        }
    }
    assert_eq!(p.server.received, vec![msg]);
    let mut in_message = false;
    for l in &p.client.log {
        if l.kind != TransmitKind::DataTransfer {
            continue;
        }
        let r = l.repr.unwrap();
        if in_message {
            assert!(r.data_length > 0, "empty message between fragments");
        }
        in_message = r.remaining_data_length > 0;
    }
}
