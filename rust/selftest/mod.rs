// SPDX-License-Identifier: GPL-2.0

//! Self tests run inside the kernel at module load, chosen by the
//! `selftest=` module parameter (CONFIG_SMBDIRECT_RS_SELFTEST). Each prints
//! one line `smbdirect_rs: selftest NAME: PASS ...` or `... FAIL ...` that
//! the VM scenarios assert on.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use core::str::FromStr;

use kernel::prelude::*;
use kernel::str::CStr;

mod completions;
mod conn;
mod firstlight;
mod misuse;
mod pump;
mod rdma;
mod smb2;

extern "C" {
    fn smbdrs_selftest_name() -> *const kernel::ffi::c_char;
    fn smbdrs_selftest_addr() -> *const kernel::ffi::c_char;
}

/// The IPv6 address the VM scenarios put on the RDMA device's netdev
/// (qemu/guest/lib.sh, `SERVER_IP6`), for `conn-small6`.
const SERVER_IP6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0x5eed, 0, 0, 0, 0, 0, 1);

/// Whether the module finished loading: a self test started through the
/// `run` parameter before that (a `run=` given to insmod) is refused.
static READY: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// Marks the module loaded (or unloading, with `false`).
pub(crate) fn set_ready(ready: bool) {
    READY.store(ready, core::sync::atomic::Ordering::Release);
}

/// Runs the self test `name` in the writer's task, from the `run` module
/// parameter: that is how the VM scenarios inject allocation faults into a
/// self test with `/proc/thread-self/fail-nth`.
///
/// # Safety
///
/// `name` is a NUL-terminated string valid for the call.
#[no_mangle]
pub(crate) unsafe extern "C" fn smbdrs_selftest_run(
    name: *const kernel::ffi::c_char,
) -> kernel::ffi::c_int {
    if !READY.load(core::sync::atomic::Ordering::Acquire) {
        return EBUSY.to_errno();
    }
    // SAFETY: The caller passes a valid NUL-terminated string.
    let name = unsafe { CStr::from_char_ptr(name) };
    match name.to_str() {
        Ok(name) => {
            run(name.trim());
            0
        }
        Err(_) => EINVAL.to_errno(),
    }
}

fn param(f: unsafe extern "C" fn() -> *const kernel::ffi::c_char) -> &'static str {
    // SAFETY: The parameters are NUL-terminated strings owned by the module,
    // set before init and read-only (0444) afterwards.
    let s = unsafe { CStr::from_char_ptr(f()) };
    s.to_str().unwrap_or("")
}

/// Runs the self test named by the module parameter, if any.
pub(crate) fn run_from_params() {
    let name = param(smbdrs_selftest_name);
    if !name.is_empty() {
        run(name);
    }
}

/// Runs the self test `name`, printing one PASS or FAIL line.
fn run(name: &str) {
    let addr_text = param(smbdrs_selftest_addr);
    let Ok(addr) = Ipv4Addr::from_str(addr_text) else {
        pr_err!(
            "selftest {}: FAIL bad selftest_addr {:?}\n",
            name,
            addr_text
        );
        return;
    };
    match name {
        "conn" => match conn::run(addr) {
            Ok(r) => {
                let bytes = r.client.received_bytes + r.server.received_bytes;
                // Bytes per millisecond are kB/s.
                let kbps = bytes / (r.elapsed_ms.max(1) as u64);
                pr_info!(
                    "selftest conn: PASS senders={} max_message={} client_sent={} client_bytes={} server_sent={} server_bytes={} client_received={} server_received={} refused_oversize={} elapsed_ms={} loopback_kBps={} port={} server_end={:?}\n",
                    conn::SENDERS,
                    r.max_message,
                    r.client.sent,
                    r.client.sent_bytes,
                    r.server.sent,
                    r.server.sent_bytes,
                    r.client.received,
                    r.server.received,
                    r.client.refused_oversize + r.server.refused_oversize,
                    r.elapsed_ms,
                    kbps,
                    r.port,
                    r.server_end
                );
                pr_info!(
                    "selftest conn: rdma exchanges={} bytes={} descriptors={} most_in_one_op={}\n",
                    r.rdma.exchanges,
                    r.rdma.bytes,
                    r.rdma.descriptors,
                    r.rdma.most_in_one_op
                );
                for (side, st) in [("client", &r.client_stats), ("server", &r.server_stats)] {
                    pr_info!(
                        "selftest conn: {} fragments_sent={} fragments_received={} spans_mapped={} receives_recycled={} send_waits={} credit_waits={} post_errors={} free_receives={} free_headers={} registrations={} remote_invalidations={} local_invalidations={} rdma_reads={} rdma_writes={} mr_waits={} keepalives_sent={} context_misses={} softirq_completions={} deferred_pumps={}\n",
                        side,
                        st.engine.fragments_sent,
                        st.engine.fragments_received,
                        st.conn.payload_spans_mapped,
                        st.conn.receives_recycled,
                        st.conn.send_waits,
                        st.engine.send_blocked_no_credit,
                        st.conn.post_errors,
                        st.free_receives,
                        st.free_headers,
                        st.conn.registrations,
                        st.conn.remote_invalidations,
                        st.conn.local_invalidations,
                        st.conn.rdma_reads,
                        st.conn.rdma_writes,
                        st.conn.mr_waits,
                        st.engine.keepalives_sent,
                        st.context_misses,
                        st.conn.softirq_completions,
                        st.conn.deferred_pumps
                    );
                }
            }
            Err(e) => pr_err!("selftest conn: FAIL {}: {:?}\n", e.0, e.1),
        },
        "conn-small" | "conn-small6" | "conn-small-passive" => {
            static ROUND: core::sync::atomic::AtomicU16 = core::sync::atomic::AtomicU16::new(0);
            let round = ROUND.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
            let ip = if name == "conn-small6" {
                IpAddr::V6(SERVER_IP6)
            } else {
                IpAddr::V4(addr)
            };
            match conn::run_small(ip, round, name == "conn-small-passive") {
                Ok(n) => pr_info!("selftest {}: PASS messages={} addr={}\n", name, n, ip),
                Err(e) => pr_err!("selftest {}: FAIL {}: {:?}\n", name, e.0, e.1),
            }
        }
        "rdma" => match rdma::run(addr) {
            Ok(r) => pr_info!(
                "selftest rdma: PASS device={} messages={} message_bytes={} rdma_write={} rdma_read={} rw_write={} rw_read={} rkey={:#x}\n",
                core::str::from_utf8(&r.device).unwrap_or("?"),
                r.messages,
                r.message_bytes,
                r.rdma_bytes,
                r.rdma_bytes,
                r.rdma_bytes,
                r.rdma_bytes,
                r.rkey
            ),
            Err(e) => pr_err!("selftest rdma: FAIL {}: {:?}\n", e.0, e.1),
        },
        "client" => client(addr),
        "misuse" => match misuse::run(addr) {
            Ok(r) => pr_info!(
                "selftest misuse: PASS refusals={} send_capacity={} deferred_teardown={} iwarp={}\n",
                r.refusals,
                r.send_capacity,
                r.deferred_teardown,
                r.iwarp
            ),
            Err(e) => pr_err!("selftest misuse: FAIL {}: {:?}\n", e.0, e.1),
        },
        "server" => match firstlight::server(addr, SERVER_WAIT_MS) {
            Ok(r) => pr_info!(
                "selftest server: PASS cifs negotiated {}; SMB2 NEGOTIATE request len={} \
                 fragments={} dialects={} first={:#06x},{:#06x},{:#06x},{:#06x}; \
                 session refused\n",
                Negotiated(&r.params),
                r.request_len,
                r.fragments_received,
                r.dialect_count,
                r.dialects[0],
                r.dialects[1],
                r.dialects[2],
                r.dialects[3]
            ),
            Err(e) => pr_err!("selftest server: FAIL {}: {:?}\n", e.0, e.1),
        },
        other => pr_err!("selftest {}: FAIL unknown self test\n", other),
    }
}

/// The negotiated MS-SMBD parameters as the `key=value` words the VM
/// scenarios read back from dmesg.
struct Negotiated<'a>(&'a crate::smbdirect::NegotiatedParams);

impl core::fmt::Display for Negotiated<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let p = self.0;
        write!(
            f,
            "max_send_size={} max_receive_size={} max_fragmented_send_size={} \
             max_read_write_size={} send_credits={} receive_credit_target={}",
            p.max_send_size,
            p.max_receive_size,
            p.max_fragmented_send_size,
            p.max_read_write_size,
            p.initial_send_credits,
            p.receive_credit_target
        )
    }
}

/// How long the server self test waits for cifs to connect.
const SERVER_WAIT_MS: u32 = 60_000;

/// First light as the client, with the default sizes and with small ones
/// that force fragmentation both ways.
fn client(addr: Ipv4Addr) {
    for (label, small) in [("default", false), ("small", true)] {
        match firstlight::client(addr, small) {
            Ok(r) => pr_info!(
                "selftest client: PASS sizes={} ksmbd negotiated {}; SMB2 dialect={:#06x} \
                 request_len={} fragments_sent={} response_len={} fragments_received={}\n",
                label,
                Negotiated(&r.params),
                r.dialect,
                r.request_len,
                r.fragments_sent,
                r.response_len,
                r.fragments_received
            ),
            Err(e) => {
                pr_err!("selftest client: FAIL sizes={} {}: {:?}\n", label, e.0, e.1);
                return;
            }
        }
    }
}
