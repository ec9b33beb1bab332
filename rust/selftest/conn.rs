// SPDX-License-Identifier: GPL-2.0

//! The connection's self test: two connections of ours in one kernel, over
//! one RDMA device (an active one and the passive one it connects to).
//! [`SENDERS`] kernel threads per side send messages of random sizes, from
//! one byte to past the peer's maximum fragmented size, each built in pages
//! of the sender's that the connection maps without copying; one reader per
//! side checks every byte of every message and the order of each sender's
//! messages. Then the active side shuts down and the passive side must see
//! the disconnect.

use core::net::{IpAddr, Ipv4Addr, SocketAddr};

use kernel::alloc::{KVVec, VVec};
use kernel::prelude::*;
use kernel::sync::{new_condvar, new_spinlock, Arc, CondVar, CondVarTimeoutResult, SpinLock};
use kernel::time::{ktime_ms_delta, msecs_to_jiffies, Ktime};
use kernel::workqueue;

use super::rdma::{Failure, Step};
use crate::conn::{listen_smbd, ConnStats, Connection, OutMessage, COPY_MAX};
use crate::ib::{errno, Listener, PageRef, PageSpan, RemoteKey, SpansIter, PAGE_SIZE};
use crate::smbdirect::Config;

/// The first rdma_cm port of the short runs.
const PORT: u16 = 18517;
/// Sending threads per side.
pub(super) const SENDERS: u32 = 8;
/// Messages each sender sends (besides the refused oversized ones).
const MESSAGES: u32 = 24;
/// Every send or receive waits at most this long.
const TIMEOUT_MS: u32 = 20_000;
/// The header each message of at least this size starts with.
const HEADER: usize = 16;
/// The keepalive interval of the test's connections.
const KEEPALIVE_MS: u32 = 1000;
/// The sequence number of a sender's last message.
const END: u32 = u32::MAX;

/// Bytes each RDMA exchange moves: 1 MiB and three pages, so that a
/// registration needs more than one region when a region maps 1 MiB.
const RDMA_BYTES: usize = (1 << 20) + 3 * PAGE_SIZE;

/// The mover cuts the owner's descriptors into pieces of this many bytes
/// (an rkey covers its whole region, so any piece of it is valid), as
/// Windows clients send 17 to 31 descriptors where 9 read/write credits
/// exist: one RDMA operation then takes more descriptors than the
/// connection has credits, which must mean waiting, never a deadlock.
const MOVER_PIECE: u64 = 16 * 1024;

/// What the RDMA phase saw.
#[derive(Default, Clone, Copy)]
pub(super) struct RdmaReport {
    pub(super) exchanges: u32,
    pub(super) bytes: u64,
    pub(super) descriptors: u32,
    /// The most descriptors one RDMA operation was given.
    pub(super) most_in_one_op: u32,
}

/// What one side saw.
#[derive(Default, Clone, Copy)]
pub(super) struct SideReport {
    pub(super) sent: u32,
    pub(super) sent_bytes: u64,
    pub(super) refused_oversize: u32,
    pub(super) received: u32,
    pub(super) received_bytes: u64,
}

/// What a passing run saw.
pub(super) struct Report {
    pub(super) client: SideReport,
    pub(super) server: SideReport,
    pub(super) client_stats: ConnStats,
    pub(super) server_stats: ConnStats,
    pub(super) elapsed_ms: i64,
    pub(super) port: u16,
    pub(super) rdma: RdmaReport,
    pub(super) max_message: u32,
    pub(super) server_end: Option<Error>,
}

/// A xorshift generator: sizes and contents that differ run to run of a
/// sender but need no entropy source.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: u32) -> u32 {
        (self.next() % u64::from(n.max(1))) as u32
    }
}

/// Byte `i` of a message with `seed`.
fn pattern(seed: u32, i: usize) -> u8 {
    let x = (i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed);
    (x ^ (x >> 13)) as u8
}

/// The seed of message `seq` of `sender`.
fn seed_of(sender: u32, seq: u32) -> u32 {
    sender.wrapping_mul(0x9e37_79b9) ^ seq
}

fn word(bytes: &[u8], at: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(w)
}

/// Counts running workers; the test thread waits for them.
#[pin_data]
struct Join {
    #[pin]
    state: SpinLock<(u32, Option<Failure>)>,
    #[pin]
    cond: CondVar,
}

impl Join {
    fn new() -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(Self {
                state <- new_spinlock!((0, None), "smbdrs_selftest_join"),
                cond <- new_condvar!("smbdrs_selftest_join_cond"),
            }),
            GFP_KERNEL,
        )
    }

    fn start(&self) {
        self.state.lock().0 += 1;
    }

    fn finish(&self, r: Result<(), Failure>) {
        let mut s = self.state.lock();
        s.0 -= 1;
        if let Err(f) = r {
            pr_err!("selftest conn: worker failed: {}: {:?}\n", f.0, f.1);
            s.1.get_or_insert(f);
        }
        drop(s);
        self.cond.notify_all();
    }

    /// Waits for every worker; the first failure, if any.
    fn wait(&self, timeout_ms: u32) -> Result<(), Failure> {
        let mut s = self.state.lock();
        let mut left = msecs_to_jiffies(timeout_ms);
        while s.0 > 0 {
            match self.cond.wait_interruptible_timeout(&mut s, left) {
                CondVarTimeoutResult::Woken { jiffies } => left = jiffies,
                _ => {
                    return Err(Failure(
                        "workers finish",
                        errno(kernel::bindings::ETIMEDOUT),
                    ))
                }
            }
        }
        match s.1.take() {
            Some(f) => Err(f),
            None => Ok(()),
        }
    }
}

/// Where a side's counters go, shared by its workers.
type Tally = Arc<SpinLock<SideReport>>;

fn spawn(
    join: &Arc<Join>,
    f: impl FnOnce() -> Result<(), Failure> + Send + 'static,
) -> Result<(), Failure> {
    join.start();
    let j = join.clone();
    workqueue::system_unbound()
        .try_spawn(GFP_KERNEL, move || j.finish(f()))
        .map_err(|_| {
            join.finish(Ok(()));
            Failure("spawn worker", ENOMEM)
        })
}

/// One sender: `MESSAGES` messages of random sizes, an oversized one now
/// and then (which must be refused), then its end marker.
fn sender(conn: Arc<Connection>, id: u32, max: u32, tally: Tally) -> Result<(), Failure> {
    let pages_needed = (max as usize + HEADER).div_ceil(PAGE_SIZE) + 1;
    let mut pages = KVec::with_capacity(pages_needed, GFP_KERNEL).step("sender pages")?;
    for _ in 0..pages_needed {
        pages
            .push(PageRef::alloc().step("sender page")?, GFP_KERNEL)
            .step("sender pages")?;
    }
    let mut bytes = KVec::from_elem(0u8, PAGE_SIZE, GFP_KERNEL).step("sender scratch")?;
    let mut rng = Rng(0x2545_f491_4f6c_dd1d ^ (u64::from(id) << 32) ^ u64::from(max));
    let mut msg = OutMessage::new();
    let mut seq = 0u32;
    // Sequence numbers count the messages that carry a header (at least
    // `HEADER` bytes): the reader can only order those.
    let mut numbered = 0u32;
    let mut oversize_tried = 0u32;
    while seq <= MESSAGES {
        let last = seq == MESSAGES;
        let len = if last {
            HEADER as u32
        } else {
            match rng.below(8) {
                0..=2 => 1 + rng.below(HEADER as u32 * 4),
                3..=5 => 1 + rng.below(16 * 1024),
                6 => max - rng.below(64),
                _ if oversize_tried < 2 => {
                    oversize_tried += 1;
                    max + 1 + rng.below(PAGE_SIZE as u32)
                }
                _ => 1 + rng.below(max),
            }
        };
        let number = if last { END } else { numbered };
        // Half of the messages that fit a page go copied (not waited for),
        // mixed with the zero-copy ones: the reader checks their order.
        if len as usize <= COPY_MAX && rng.below(2) == 0 {
            let total = len as usize;
            compose_range(id, number, total, 0, &mut bytes[..total]);
            conn.send_copy(total, None, TIMEOUT_MS, |p| p.write(0, &bytes[..total]))
                .step("send_copy")?;
            let mut t = tally.lock();
            t.sent += 1;
            t.sent_bytes += u64::from(len);
            seq += 1;
            if total >= HEADER {
                numbered += 1;
            }
            continue;
        }
        // The first span starts at an odd offset, to check unaligned SGEs.
        let first = (rng.below(64) as usize) | 1;
        let first = first.min(PAGE_SIZE - 1);
        msg.clear();
        let mut at = 0usize;
        let total = len as usize;
        let mut page = 0usize;
        while at < total {
            let off = if page == 0 { first } else { 0 };
            let n = (PAGE_SIZE - off).min(total - at);
            let Some(p) = pages.get_mut(page) else {
                // Oversized messages may need more pages than we have; the
                // connection must refuse them before looking at the pages.
                break;
            };
            compose_range(id, number, total, at, &mut bytes[..n]);
            p.write(off, &bytes[..n]).step("fill page")?;
            msg.push(PageSpan::new(p.share(), off as u32, n as u32).step("span")?)
                .step("push span")?;
            at += n;
            page += 1;
        }
        if at < total {
            // Not enough pages: only ever for an oversized message; pad the
            // length claim by pushing the last page again.
            let p = &pages[0];
            while msg.len() < len {
                let n = (len - msg.len()).min(PAGE_SIZE as u32);
                msg.push(PageSpan::new(p.share(), 0, n).step("span")?)
                    .step("push span")?;
            }
        }
        match conn.send(&mut msg, TIMEOUT_MS) {
            Ok(()) if len <= max => {
                let mut t = tally.lock();
                t.sent += 1;
                t.sent_bytes += u64::from(len);
                seq += 1;
                if len as usize >= HEADER {
                    numbered += 1;
                }
            }
            Ok(()) => return Err(Failure("oversized message was sent", EINVAL)),
            Err(e) if e == errno(kernel::bindings::EMSGSIZE) && len > max => {
                tally.lock().refused_oversize += 1
            }
            Err(e) => return Err(Failure("send", e)),
        }
    }
    msg.clear();
    Ok(())
}

/// Writes bytes `at..at + out.len()` of message `seq` of `sender`, `total`
/// bytes long, into `out`: a header (sender, sequence number, length,
/// seed), then the pattern of the seed; messages shorter than the header
/// hold the pattern of their length only.
fn compose_range(sender: u32, seq: u32, total: usize, at: usize, out: &mut [u8]) {
    if total < HEADER {
        for (k, b) in out.iter_mut().enumerate() {
            *b = pattern(total as u32, at + k);
        }
        return;
    }
    let seed = seed_of(sender, seq);
    let mut head = [0u8; HEADER];
    head[0..4].copy_from_slice(&sender.to_le_bytes());
    head[4..8].copy_from_slice(&seq.to_le_bytes());
    head[8..12].copy_from_slice(&(total as u32).to_le_bytes());
    head[12..16].copy_from_slice(&seed.to_le_bytes());
    for (k, b) in out.iter_mut().enumerate() {
        let i = at + k;
        *b = match head.get(i) {
            Some(&h) => h,
            None => pattern(seed, i),
        };
    }
}

/// One reader: checks each message and each sender's order until every
/// sender's end marker has arrived.
fn reader(conn: Arc<Connection>, max: u32, tally: Tally) -> Result<(), Failure> {
    let mut buf = KVec::from_elem(0u8, max as usize, GFP_KERNEL).step("reader buffer")?;
    let mut next = [0u32; SENDERS as usize];
    let mut ended = 0u32;
    while ended < SENDERS {
        let len = conn.recv(&mut buf, TIMEOUT_MS).step("recv")?;
        let m = &buf[..len];
        if len == 0 {
            return Err(Failure("empty message", EIO));
        }
        if len < HEADER {
            if m.iter()
                .enumerate()
                .any(|(i, &b)| b != pattern(len as u32, i))
            {
                return Err(Failure("short message corrupted", EIO));
            }
        } else {
            let (sender, seq, claimed, seed) = (word(m, 0), word(m, 4), word(m, 8), word(m, 12));
            if claimed as usize != len || sender >= SENDERS {
                pr_err!(
                    "selftest conn: message of {} bytes claims {} from sender {} seq {}: {:02x?}\n",
                    len,
                    claimed,
                    sender,
                    seq,
                    &m[..len.min(48)]
                );
                return Err(Failure("message header", EIO));
            }
            if let Some(i) = (HEADER..len).find(|&i| m[i] != pattern(seed, i)) {
                pr_err!(
                    "selftest conn: sender {} message {} ({} bytes) differs at byte {}\n",
                    sender,
                    seq,
                    len,
                    i
                );
                return Err(Failure("message bytes", EIO));
            }
            let expected = &mut next[sender as usize];
            if seq == END {
                ended += 1;
            } else if seq != *expected {
                pr_err!(
                    "selftest conn: sender {} message {} arrived, {} expected\n",
                    sender,
                    seq,
                    *expected
                );
                return Err(Failure("message order", EIO));
            } else {
                *expected += 1;
            }
        }
        let mut t = tally.lock();
        t.received += 1;
        t.received_bytes += len as u64;
    }
    Ok(())
}

/// Both sides of the test register memory and move data by RDMA, so both
/// get read/write credits.
fn config(base: Config) -> Config {
    Config {
        rdma_credit_max: 16,
        // Short enough that the idle phase sends keepalives, long enough
        // that a busy TCG guest answers them in time.
        keepalive_interval_ms: u64::from(KEEPALIVE_MS),
        keepalive_timeout_ms: 10_000,
        ..base
    }
}

/// Where a worker leaves the connection it made, for the test thread.
#[pin_data]
struct Made {
    #[pin]
    conn: SpinLock<Option<Result<Connection>>>,
    #[pin]
    cond: CondVar,
}

/// One side of a connection made in a worker while the test thread makes
/// the other: the acceptor while the test connects, or the connector while
/// it accepts (so the fault walk reaches either side's allocations).
struct Worker(Arc<Made>);

impl Worker {
    fn start(
        what: &'static str,
        make: impl FnOnce() -> Result<Connection> + Send + 'static,
    ) -> Result<Self, Failure> {
        let made: Arc<Made> = Arc::pin_init(
            pin_init!(Made {
                conn <- new_spinlock!(None, "smbdrs_selftest_made"),
                cond <- new_condvar!("smbdrs_selftest_made_cond"),
            }),
            GFP_KERNEL,
        )
        .step(what)?;
        let slot = made.clone();
        workqueue::system_unbound()
            .try_spawn(GFP_KERNEL, move || {
                let r = make();
                *slot.conn.lock() = Some(r);
                slot.cond.notify_all();
            })
            .map_err(|_| Failure(what, ENOMEM))?;
        Ok(Self(made))
    }

    /// Accepts one connection on `listener`.
    fn accept(listener: Arc<Listener>, config: Config) -> Result<Self, Failure> {
        Self::start("spawn acceptor", move || {
            listener
                .accept_next(TIMEOUT_MS)
                .and_then(|inc| Connection::accept(inc, config, TIMEOUT_MS))
        })
    }

    /// Waits for the worker's result (it always finishes: connecting,
    /// accepting and negotiating time out).
    fn wait(self) -> Result<Result<Connection>, Failure> {
        let mut slot = self.0.conn.lock();
        loop {
            if let Some(r) = slot.take() {
                return Ok(r);
            }
            // Uninterruptible: the worker must be done before the test
            // (and the module) can go.
            self.0.cond.wait(&mut slot);
        }
    }
}

/// Runs the test on the device that owns `addr`.
pub(super) fn run(addr: Ipv4Addr) -> Result<Report, Failure> {
    // The SMB Direct ports, chosen by the device's transport on both
    // sides, as ksmbd listens and cifs connects.
    let (listener, port) = listen_smbd(IpAddr::V4(addr), 4).step("bind and listen")?;
    let listener = Arc::new(listener, GFP_KERNEL).step("listener")?;
    let acceptor = Worker::accept(listener.clone(), config(Config::default_server()))?;
    let client = Connection::connect_smbd(
        IpAddr::V4(addr),
        config(Config::default_client()),
        TIMEOUT_MS,
    );
    if client.is_err() {
        listener.cancel();
    }
    let server = acceptor.wait()?;
    let client = Arc::new(client.step("connect")?, GFP_KERNEL).step("client")?;
    let server = Arc::new(server.step("accept")?, GFP_KERNEL).step("server")?;
    if client.peer().map(|a| a.port()) != Some(port) {
        return Err(Failure("client connected to the listener's port", EINVAL));
    }
    let c_max = client
        .params()
        .map(|p| p.max_fragmented_send_size)
        .unwrap_or(0);
    let s_max = server
        .params()
        .map(|p| p.max_fragmented_send_size)
        .unwrap_or(0);
    if c_max == 0 || s_max == 0 {
        return Err(Failure("negotiated sizes", EINVAL));
    }

    let c_tally: Tally =
        Arc::pin_init(new_spinlock!(SideReport::default()), GFP_KERNEL).step("tally")?;
    let s_tally: Tally =
        Arc::pin_init(new_spinlock!(SideReport::default()), GFP_KERNEL).step("tally")?;
    let join = Join::new().step("join")?;
    let start = Ktime::ktime_get();
    // Each side reads what the other sends: the client's messages are at
    // most the server's maximum, and the other way round.
    {
        let (conn, tally) = (server.clone(), s_tally.clone());
        spawn(&join, move || reader(conn, c_max, tally))?;
        let (conn, tally) = (client.clone(), c_tally.clone());
        spawn(&join, move || reader(conn, s_max, tally))?;
    }
    for id in 0..SENDERS {
        let (conn, tally) = (client.clone(), c_tally.clone());
        spawn(&join, move || sender(conn, id, c_max, tally))?;
        let (conn, tally) = (server.clone(), s_tally.clone());
        spawn(&join, move || sender(conn, id, s_max, tally))?;
    }
    let waited = join.wait(TIMEOUT_MS.saturating_mul(6));
    let elapsed_ms = ktime_ms_delta(Ktime::ktime_get(), start);
    if let Err(f) = waited {
        client.shutdown();
        server.shutdown();
        // Workers may still hold the connections; they end with errors.
        let _ = join.wait(TIMEOUT_MS);
        return Err(f);
    }

    // The RDMA channel, both ways round: each side registers its pages for
    // the other to RDMA-write into and to RDMA-read from.
    let mut rdma = RdmaReport::default();
    let mut r = rdma_exchange(&client, &server, RDMA_BYTES, &mut rdma)
        .and_then(|()| rdma_exchange(&server, &client, RDMA_BYTES, &mut rdma));
    // Idle: the timers must send keepalives, the peers answer them, and
    // the connections stay up.
    if r.is_ok() {
        if let Some(e) = client.wait_ended(3 * KEEPALIVE_MS) {
            r = Err(Failure("idle connection stays up", e));
        } else if client.stats().engine.keepalives_sent + server.stats().engine.keepalives_sent == 0
        {
            r = Err(Failure("keepalives on an idle connection", EINVAL));
        }
    }
    let client_stats = client.stats();
    let server_stats = server.stats();
    if let Err(f) = r {
        client.shutdown();
        server.shutdown();
        return Err(f);
    }

    // The active side ends; the passive side must notice by itself.
    client.shutdown();
    let server_end = server.wait_ended(TIMEOUT_MS);
    server.shutdown();
    if server_end.is_none() {
        return Err(Failure(
            "server sees the disconnect",
            errno(kernel::bindings::ETIMEDOUT),
        ));
    }
    let client_report = *c_tally.lock();
    let server_report = *s_tally.lock();
    if client_report.refused_oversize == 0 && server_report.refused_oversize == 0 {
        return Err(Failure("an oversized message was tried", EINVAL));
    }
    Ok(Report {
        client: client_report,
        server: server_report,
        client_stats,
        server_stats,
        elapsed_ms,
        port,
        rdma,
        max_message: c_max.max(s_max),
        server_end,
    })
}

/// Pages holding `len` bytes starting `offset` bytes into the first page,
/// each filled with `pattern(seed, i)` for message byte `i` (or zeroes).
fn rdma_pages(len: usize, offset: usize, seed: Option<u32>) -> Result<KVec<PageSpan>, Failure> {
    let mut spans = KVec::new();
    let mut at = 0usize;
    let mut scratch = KVec::from_elem(0u8, PAGE_SIZE, GFP_KERNEL).step("rdma scratch")?;
    while at < len {
        let off = if at == 0 { offset } else { 0 };
        let n = (PAGE_SIZE - off).min(len - at);
        let mut page = PageRef::alloc().step("rdma page")?;
        for (k, b) in scratch[..n].iter_mut().enumerate() {
            *b = seed.map_or(0, |s| pattern(s, at + k));
        }
        page.write(off, &scratch[..n]).step("fill rdma page")?;
        spans
            .push(
                PageSpan::new(page, off as u32, n as u32).step("rdma span")?,
                GFP_KERNEL,
            )
            .step("rdma spans")?;
        at += n;
    }
    Ok(spans)
}

/// Checks that `spans` hold `pattern(seed, i)`.
fn check_pages(spans: &[PageSpan], seed: u32, what: &'static str) -> Result<(), Failure> {
    let mut scratch = KVec::from_elem(0u8, PAGE_SIZE, GFP_KERNEL).step("rdma scratch")?;
    let mut at = 0usize;
    for span in spans {
        let n = span.len() as usize;
        span.page()
            .read(span.offset() as usize, &mut scratch[..n])
            .step("read rdma page")?;
        if let Some(k) = (0..n).find(|&k| scratch[k] != pattern(seed, at + k)) {
            pr_err!("selftest conn: {} differs at byte {}\n", what, at + k);
            return Err(Failure(what, EIO));
        }
        at += n;
    }
    Ok(())
}

/// Shares of `spans` (the registration keeps its own references).
fn shares(spans: &[PageSpan]) -> Result<KVec<PageSpan>, Failure> {
    let mut out = KVec::with_capacity(spans.len(), GFP_KERNEL).step("shares")?;
    for s in spans {
        out.push(s.slice(0, s.len()).step("share")?, GFP_KERNEL)
            .step("shares")?;
    }
    Ok(out)
}

/// Sends `bytes` (at most a page) as one message.
fn send_small(conn: &Connection, bytes: &[u8], invalidate: Option<u32>) -> Result<(), Failure> {
    let mut page = PageRef::alloc().step("message page")?;
    page.write(0, bytes).step("fill message page")?;
    let mut msg = OutMessage::new();
    msg.push(PageSpan::new(page, 0, bytes.len() as u32).step("message span")?)
        .step("message")?;
    match invalidate {
        Some(rkey) => conn.send_with_invalidate(&mut msg, rkey, TIMEOUT_MS),
        None => conn.send(&mut msg, TIMEOUT_MS),
    }
    .step("send control message")
}

/// The mover's side over page spans: RDMA-writes `local` (holding
/// `pattern(seed, ..)`) to `keys`, or RDMA-reads `keys` into it and checks.
fn mover_spans(
    mover: &Connection,
    keys: &[RemoteKey],
    mut local: KVec<PageSpan>,
    write: bool,
    seed: u32,
) -> Result<(), Failure> {
    if write {
        return mover
            .rdma_write(&local[..], keys, TIMEOUT_MS)
            .step("rdma write");
    }
    mover
        .rdma_read(&mut local[..], keys, TIMEOUT_MS)
        .step("rdma read")?;
    check_pages(&local, seed, "rdma read bytes")
}

/// The same over `bytes` of kernel memory (kvmalloc'd, starting mid-page,
/// as ksmbd's buffers may), described page by page in place.
fn mover_bytes(
    mover: &Connection,
    keys: &[RemoteKey],
    bytes: usize,
    write: bool,
    seed: u32,
) -> Result<(), Failure> {
    const SKEW: usize = 100;
    let mut mem = KVVec::from_elem(0u8, bytes + SKEW, GFP_KERNEL).step("rdma bytes")?;
    let local = &mut mem[SKEW..];
    if write {
        for (k, b) in local.iter_mut().enumerate() {
            *b = pattern(seed, k);
        }
        return mover
            .rdma_write(&*local, keys, TIMEOUT_MS)
            .step("rdma write from kernel memory");
    }
    mover
        .rdma_read(&mut *local, keys, TIMEOUT_MS)
        .step("rdma read into kernel memory")?;
    if let Some(k) = (0..bytes).find(|&k| local[k] != pattern(seed, k)) {
        pr_err!("selftest conn: rdma read bytes differ at byte {}\n", k);
        return Err(Failure("rdma read bytes", EIO));
    }
    Ok(())
}

/// One registration used for an RDMA write and then, registered again, for
/// an RDMA read, the way SMB2 READ and WRITE use the channel: `owner`
/// registers its pages and sends the descriptors, `mover` moves the data
/// and answers; the answer to the write invalidates the owner's first
/// region remotely (Send with Invalidate). Every other exchange (the first
/// among them) takes the transports' own paths: the owner registers from a
/// page iterator, as cifs hands its buffers, and the mover moves bytes of
/// kernel memory, as ksmbd does; the others use page spans.
fn rdma_exchange(
    owner: &Connection,
    mover: &Connection,
    bytes: usize,
    report: &mut RdmaReport,
) -> Result<(), Failure> {
    let seed_write = 0x5eed_0001 ^ report.exchanges;
    let seed_read = 0x5eed_1000 ^ report.exchanges;
    let in_place = report.exchanges % 2 == 0;
    let mut msg = KVec::from_elem(0u8, PAGE_SIZE, GFP_KERNEL).step("descriptor message")?;
    for (write, seed) in [(true, seed_write), (false, seed_read)] {
        // The owner's pages: page-aligned (a registration's rule); the
        // mover's start mid-page, so its SGEs are unaligned.
        let owned = rdma_pages(bytes, 0, if write { None } else { Some(seed) })?;
        let reg = if in_place {
            // The iterator goes before the registration does: the regions
            // hold their own page references.
            let mut pages = SpansIter::new(&owned, write).step("page iterator")?;
            owner
                .register_iter(&mut pages.iter(), bytes, write, TIMEOUT_MS)
                .step("register from an iterator")?
        } else {
            owner
                .register(shares(&owned)?, write, TIMEOUT_MS)
                .step("register")?
        };
        let mut n = 0usize;
        for key in reg.descriptors() {
            let e = &mut msg[n * 16..n * 16 + 16];
            e[0..8].copy_from_slice(&key.addr.to_le_bytes());
            e[8..12].copy_from_slice(&key.rkey.to_le_bytes());
            e[12..16].copy_from_slice(&(key.length as u32).to_le_bytes());
            n += 1;
        }
        report.descriptors += n as u32;
        send_small(owner, &msg[..n * 16], None)?;
        let mut got = KVec::from_elem(0u8, PAGE_SIZE, GFP_KERNEL).step("descriptor buffer")?;
        let len = mover
            .recv(&mut got, TIMEOUT_MS)
            .step("receive descriptors")?;
        let mut keys = KVec::new();
        for e in got[..len].chunks_exact(16) {
            let (addr, rkey) = (
                u64::from_le_bytes(e[0..8].try_into().unwrap_or_default()),
                word(e, 8),
            );
            let length = u64::from(word(e, 12));
            let mut at = 0;
            while at < length {
                let piece = MOVER_PIECE.min(length - at);
                keys.push(
                    RemoteKey {
                        addr: addr + at,
                        rkey,
                        length: piece,
                    },
                    GFP_KERNEL,
                )
                .step("descriptors")?;
                at += piece;
            }
        }
        report.most_in_one_op = report.most_in_one_op.max(keys.len() as u32);
        if in_place {
            mover_bytes(mover, &keys, bytes, write, seed)?;
        } else {
            let local = rdma_pages(bytes, 100, if write { Some(seed) } else { None })?;
            mover_spans(mover, &keys, local, write, seed)?;
        }
        // The answer; after a write it invalidates the first region.
        let invalidate = if write {
            keys.first().map(|k| k.rkey)
        } else {
            None
        };
        send_small(mover, b"done", invalidate)?;
        let len = owner.recv(&mut got, TIMEOUT_MS).step("receive answer")?;
        if &got[..len] != b"done" {
            return Err(Failure("rdma answer", EIO));
        }
        owner.deregister(reg, TIMEOUT_MS).step("deregister")?;
        if write {
            check_pages(&owned, seed, "rdma write bytes")?;
        }
        report.bytes += bytes as u64;
    }
    report.exchanges += 1;
    Ok(())
}

/// A short run for the allocation fault walk: one connection pair with
/// small queues, a few messages each way, one small RDMA exchange, then
/// shutdown. Failures must come back as errors, with nothing leaked. The
/// test's task is the active side, or with `passive_here` the passive one
/// (the other side runs in a worker, whose allocations are not walked).
pub(super) fn run_small(addr: IpAddr, round: u16, passive_here: bool) -> Result<u32, Failure> {
    // A port per run: a listener of a failed run may linger in TIME_WAIT.
    let at = SocketAddr::new(addr, PORT + 1 + (round % 512));
    let small = |base: Config| Config {
        receive_credit_max: 16,
        send_credit_target: 16,
        send_queue_depth: 16,
        rdma_credit_max: 4,
        ..base
    };
    let (client, server) = if passive_here {
        // This task accepts; a worker connects.
        let listener = Listener::bind(at, 1).step("bind and listen")?;
        let client_config = small(Config::default_client());
        let connector = Worker::start("spawn connector", move || {
            Connection::connect(at, client_config, TIMEOUT_MS)
        })?;
        let server = listener
            .accept_next(TIMEOUT_MS)
            .and_then(|inc| Connection::accept(inc, small(Config::default_server()), TIMEOUT_MS));
        // A request not taken is refused, so the connector ends at once.
        drop(listener);
        (connector.wait()?, server)
    } else {
        // This task connects; a worker accepts.
        let listener = Arc::new(Listener::bind(at, 1).step("bind and listen")?, GFP_KERNEL)
            .step("listener")?;
        let acceptor = Worker::accept(listener.clone(), small(Config::default_server()))?;
        let client = Connection::connect(at, small(Config::default_client()), TIMEOUT_MS);
        if client.is_err() {
            listener.cancel();
        }
        (client, acceptor.wait()?)
    };
    let client = client.step("connect")?;
    let server = server.step("accept")?;
    let mut buf = KVec::from_elem(0u8, 16 * 1024, GFP_KERNEL).step("buffer")?;
    let mut moved = 0u32;
    // Messages from the senders' pages, from kmalloc'd bytes and from
    // vmalloc'd bytes (kvec-style, referenced in place).
    let mut kbytes = KVec::from_elem(0u8, 3000, GFP_KERNEL).step("kmalloc message")?;
    for (i, b) in kbytes.iter_mut().enumerate() {
        *b = pattern(3000, i);
    }
    let mut vbytes = VVec::from_elem(0u8, 9000, GFP_KERNEL).step("vmalloc message")?;
    for (i, b) in vbytes.iter_mut().enumerate() {
        *b = pattern(9000, i);
    }
    for (from, to, len) in [
        (&client, &server, 100usize),
        (&server, &client, 3000),
        (&client, &server, 9000),
    ] {
        let mut msg = OutMessage::new();
        match len {
            3000 => msg.push_bytes(&kbytes).step("kmalloc spans")?,
            9000 => msg.push_bytes(&vbytes).step("vmalloc spans")?,
            _ => {
                for p in rdma_pages(len, 7, Some(len as u32))? {
                    msg.push(p).step("message")?;
                }
            }
        }
        from.send(&mut msg, TIMEOUT_MS).step("send")?;
        let n = to.recv(&mut buf, TIMEOUT_MS).step("recv")?;
        if n != len || (0..n).any(|i| buf[i] != pattern(len as u32, i)) {
            return Err(Failure("message bytes", EIO));
        }
        moved += 1;
    }
    let mut rdma = RdmaReport::default();
    rdma_exchange(&client, &server, 4 * PAGE_SIZE, &mut rdma)?;
    client.shutdown();
    server.wait_ended(TIMEOUT_MS);
    server.shutdown();
    Ok(moved)
}
