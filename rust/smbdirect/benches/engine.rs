// SPDX-License-Identifier: GPL-2.0

//! Micro-benchmarks of the hot paths: header encode/decode, planning the
//! registration of a 1 MiB I/O, and a full fragment-and-reassemble of a
//! 64 KiB message through two connected engines.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use smbdirect::mr::{plan_registration, DeviceLimits, MrSpan, Segment};
use smbdirect::wire::{DataTransfer, DataTransferRepr};
use smbdirect::{Action, Config, Engine, Instant, RecvOutcome, Role};

fn header(c: &mut Criterion) {
    let repr = DataTransferRepr {
        credits_requested: 255,
        credits_granted: 17,
        flags: 0,
        remaining_data_length: 4096,
        data_offset: 24,
        data_length: 1340,
    };
    let mut buf = [0u8; 1364];
    repr.emit(&mut DataTransfer::new_unchecked(&mut buf[..]));
    c.bench_function("data_transfer_encode", |b| {
        b.iter(|| {
            let mut h = [0u8; 24];
            black_box(repr).emit(&mut DataTransfer::new_unchecked(&mut h[..]));
            black_box(h)
        })
    });
    c.bench_function("data_transfer_decode", |b| {
        b.iter(|| DataTransferRepr::parse(&DataTransfer::new_unchecked(black_box(&buf[..]))))
    });
}

fn mr_plan(c: &mut Criterion) {
    let segs: Vec<Segment> = (0..256u64)
        .map(|i| Segment {
            addr: 0x1_0000_0000 + i * 0x3000,
            len: 4096,
        })
        .collect();
    let limits = DeviceLimits {
        page_size: 4096,
        max_fast_reg_page_list_len: 256,
        max_sge_per_wr: 6,
        max_rdma_wr_size: 1 << 20,
    };
    let mut group = c.benchmark_group("mr");
    group.throughput(Throughput::Bytes(1 << 20));
    group.bench_function("plan_1mib_256_pages", |b| {
        b.iter(|| {
            let mut out = [MrSpan::default(); 4];
            plan_registration(black_box(&segs), &limits, 8 << 20, &mut out)
        })
    });
    group.finish();
}

/// Polls the next action, posting (reporting) receives on the way as a
/// single-threaded transport does.
fn poll(e: &mut Engine, now: Instant) -> Option<Action> {
    loop {
        match e.poll_action()? {
            Action::PostReceives(n) => e.on_receives_posted(now, n).unwrap(),
            a => return Some(a),
        }
    }
}

/// Hands a received message to an engine, reposting a freed buffer.
fn recv(e: &mut Engine, now: Instant, bytes: &[u8]) -> RecvOutcome {
    let r = e.on_recv(now, bytes).unwrap();
    if r == RecvOutcome::Repost {
        e.on_receives_posted(now, 1).unwrap();
    }
    r
}

/// Connects a client and a server engine in memory.
fn connected() -> (Engine, Engine) {
    let now = Instant(0);
    let mut c = Engine::new(Role::Client, Config::default_client(), now).unwrap();
    let mut s = Engine::new(Role::Server, Config::default_server(), now).unwrap();
    let mut to_s = Vec::new();
    let mut to_c = Vec::new();
    for _ in 0..4 {
        while let Some(a) = poll(&mut c, now) {
            if let Action::Transmit(t) = a {
                to_s.push(t.header().to_vec());
                c.on_send_complete(now, t.token).unwrap();
            }
        }
        while let Some(a) = poll(&mut s, now) {
            if let Action::Transmit(t) = a {
                to_c.push(t.header().to_vec());
                s.on_send_complete(now, t.token).unwrap();
            }
        }
        for m in to_s.drain(..) {
            recv(&mut s, now, &m);
        }
        for m in to_c.drain(..) {
            recv(&mut c, now, &m);
        }
    }
    (c, s)
}

fn fragment_reassemble(c: &mut Criterion) {
    let msg: Vec<u8> = (0..65_536u32).map(|i| i as u8).collect();
    let (mut client, mut server) = connected();
    let now = Instant(0);
    let mut wire = vec![0u8; 1364];
    let mut out = Vec::with_capacity(65_536);
    let mut group = c.benchmark_group("engine");
    group.throughput(Throughput::Bytes(65_536));
    group.bench_function("fragment_reassemble_64kib", |b| {
        b.iter(|| {
            out.clear();
            client.send_message(now, 65_536).unwrap();
            let mut done = false;
            while !done {
                let mut consumed = 0u16;
                while let Some(a) = poll(&mut client, now) {
                    let Action::Transmit(t) = a else { continue };
                    let h = t.header();
                    let len = h.len() + t.payload_len as usize;
                    wire[..h.len()].copy_from_slice(h);
                    let off = t.payload_offset as usize;
                    wire[h.len()..len].copy_from_slice(&msg[off..off + t.payload_len as usize]);
                    client.on_send_complete(now, t.token).unwrap();
                    if let RecvOutcome::Deliver(d) = recv(&mut server, now, &wire[..len]) {
                        let s = d.data_offset as usize;
                        out.extend_from_slice(&wire[s..s + d.data_length as usize]);
                        consumed += 1;
                        done |= d.end_of_message;
                    }
                }
                server.buffers_consumed(now, consumed).unwrap();
                while let Some(a) = poll(&mut server, now) {
                    if let Action::Transmit(t) = a {
                        let h = t.header().to_vec();
                        server.on_send_complete(now, t.token).unwrap();
                        recv(&mut client, now, &h);
                    }
                }
            }
            assert_eq!(out.len(), 65_536);
        })
    });
    group.finish();
}

criterion_group!(benches, header, mr_plan, fragment_reassemble);
criterion_main!(benches);
