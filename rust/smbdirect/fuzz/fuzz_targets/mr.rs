// SPDX-License-Identifier: GPL-2.0

//! Buffer descriptor lists and MR/RDMA planning on arbitrary input: no
//! panic, and every plan covers exactly the requested bytes, in order,
//! within the device limits.

#![no_main]

use libfuzzer_sys::fuzz_target;
use smbdirect::mr::{plan_registration, DeviceLimits, MrSpan, RdmaPlanner, Segment};
use smbdirect::wire::{BufferDescriptorV1, BufferDescriptorV1Repr, DescriptorList};

fn u32_at(d: &[u8], i: usize) -> u32 {
    d.get(i..i + 4)
        .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// The byte ranges `[start, end)` of a list of segments, adjacent ranges
/// merged, so that two cuttings of the same bytes compare equal.
fn ranges(pieces: impl IntoIterator<Item = (u64, u64)>) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = Vec::new();
    for (start, len) in pieces {
        if len == 0 {
            continue;
        }
        match out.last_mut() {
            Some(last) if last.1 == start => last.1 += len,
            _ => out.push((start, start + len)),
        }
    }
    out
}

/// The segment pieces one MR span covers, as (address, length).
fn span_pieces(segments: &[Segment], s: &MrSpan) -> Vec<(u64, u64)> {
    (s.first_segment..=s.last_segment)
        .map(|i| {
            let seg = segments[i as usize];
            let from = if i == s.first_segment {
                s.first_offset
            } else {
                0
            };
            let to = if i == s.last_segment {
                s.end_offset
            } else {
                seg.len
            };
            assert!(from < to && to <= seg.len, "empty or inverted piece");
            (seg.addr + u64::from(from), u64::from(to - from))
        })
        .collect()
}

/// Checks a registration plan: the spans tile the segments in order, byte
/// for byte, and each is one FRMR the device can map.
fn check_plan(segments: &[Segment], limits: &DeviceLimits, spans: &[MrSpan]) {
    let page = u64::from(limits.page_size);
    let mut all = Vec::new();
    let mut next = (0u32, 0u32);
    for s in spans {
        // Each span starts where the previous ended (at the start of the
        // next segment if that one was finished).
        let at = (s.first_segment, s.first_offset);
        let seg_len = segments[next.0 as usize].len;
        assert!(
            at == next || (next.1 == seg_len && at == (next.0 + 1, 0)),
            "span starts at {at:?}, previous ended at {next:?}"
        );
        next = (s.last_segment, s.end_offset);
        let pieces = span_pieces(segments, s);
        assert_eq!(pieces.iter().map(|p| p.1).sum::<u64>(), u64::from(s.length));
        // Inside one MR, pieces are contiguous or meet on page boundaries:
        // its page list cannot express anything else.
        for w in pieces.windows(2) {
            let end = w[0].0 + w[0].1;
            assert!(
                end == w[1].0 || (end % page == 0 && w[1].0 % page == 0),
                "gap inside one MR"
            );
        }
        assert!(s.page_count >= 1 && s.page_count <= limits.max_fast_reg_page_list_len);
        // The pages it maps hold at least its bytes.
        let first_in_page = pieces[0].0 % page;
        assert!(u64::from(s.page_count) * page >= first_in_page + u64::from(s.length));
        all.extend(pieces);
    }
    let last = segments.len() - 1;
    assert_eq!(next, (last as u32, segments[last].len), "plan ends early");
    assert_eq!(
        ranges(all),
        ranges(segments.iter().map(|s| (s.addr, u64::from(s.len))))
    );
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 16 {
        return;
    }
    let (head, rest) = data.split_at(16);
    // Up to 1 MiB, the default MaxReadWriteSize.
    let expected = u64::from(u32_at(head, 8) % (1 << 20));
    let limits = DeviceLimits {
        page_size: 1 << (9 + head[0] % 8),
        max_fast_reg_page_list_len: u32::from(head[1] % 64) + 1,
        max_sge_per_wr: u32::from(head[2] % 8) + 1,
        // At most 4096 work requests per I/O, to keep each run short.
        max_rdma_wr_size: (u32_at(head, 4) % (1 << 20) + 1).max((expected >> 12) as u32 + 1),
    };
    let ndesc = usize::from(head[3] % 8) * 16;
    let (descs, segs) = rest.split_at(ndesc.min(rest.len()));
    // Local segments from the remaining bytes, 12 bytes each.
    let segments: Vec<Segment> = segs
        .chunks_exact(12)
        .map(|c| Segment {
            addr: u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]),
            len: u32::from_le_bytes([c[8], c[9], c[10], c[11]]) % (1 << 20),
        })
        .collect();
    let mut out = [MrSpan::default(); 32];
    if let Ok(n) = plan_registration(&segments, &limits, 16 << 20, &mut out) {
        check_plan(&segments, &limits, &out[..n]);
    }

    let Ok(list) = DescriptorList::parse(descs, expected, 4) else {
        return;
    };
    // The list keeps the descriptors up to the one that reaches the I/O
    // length, that one clamped to end there (as ksmbd does).
    assert_eq!(list.total_len(), expected);
    assert_eq!(
        list.iter().map(|d| u64::from(d.length)).sum::<u64>(),
        expected
    );
    for (i, d) in list.iter().enumerate() {
        let raw = BufferDescriptorV1Repr::parse(&BufferDescriptorV1::new_unchecked(
            &descs[i * 16..i * 16 + 16],
        ))
        .unwrap();
        assert_eq!((d.offset, d.token), (raw.offset, raw.token));
        assert!(d.length >= 1 && d.length <= raw.length);
        assert!(d.length == raw.length || i + 1 == list.len());
    }

    // RdmaPlanner::new refuses what plan_registration refuses: a
    // zero-length segment (an empty SGE reads as 2 GiB to some providers)
    // or one whose end overflows 64 bits.
    let bad = segments
        .iter()
        .any(|s| s.len == 0 || s.addr.checked_add(u64::from(s.len)).is_none());
    let planned = RdmaPlanner::new(list, &segments, expected, &limits);
    if bad {
        assert!(
            planned.is_err(),
            "planned over an empty or wrapping segment"
        );
        return;
    }
    let Ok(mut p) = planned else {
        return;
    };
    let mut sges = [Segment::default(); 8];
    let mut local = Vec::new();
    let mut remote = Vec::new();
    let mut moved = 0u64;
    // Each work request moves at least one byte (asserted below), so there
    // are at most `expected` of them.
    for _ in 0..=expected {
        let Some(wr) = p.next_wr(&mut sges) else {
            break;
        };
        assert!(wr.sge_count >= 1 && wr.sge_count <= limits.max_sge_per_wr);
        assert!(wr.length >= 1 && wr.length <= limits.max_rdma_wr_size);
        let used = &sges[..wr.sge_count as usize];
        assert!(used.iter().all(|s| s.len >= 1), "empty SGE");
        assert_eq!(
            used.iter().map(|s| u64::from(s.len)).sum::<u64>(),
            u64::from(wr.length)
        );
        local.extend(used.iter().map(|s| (s.addr, u64::from(s.len))));
        remote.push((wr.rkey, wr.remote_addr, u64::from(wr.length)));
        moved += u64::from(wr.length);
    }
    // The plan moves exactly the I/O: no byte lost, none twice.
    assert_eq!(moved, expected, "the RDMA plan does not cover the I/O");
    assert_eq!(p.remaining(), 0);
    // Locally, the first `expected` bytes of the segments, in order.
    let mut want = Vec::new();
    let mut left = expected;
    for s in &segments {
        let n = left.min(u64::from(s.len));
        want.push((s.addr, n));
        left -= n;
    }
    assert_eq!(ranges(local), ranges(want));
    // Remotely, the descriptors in order, each work request inside one.
    let mut at = 0usize;
    let mut off = 0u64;
    for (rkey, addr, len) in remote {
        while off == u64::from(list.get(at).unwrap().length) {
            at += 1;
            off = 0;
        }
        let d = list.get(at).unwrap();
        assert_eq!((rkey, addr), (d.token, d.offset + off));
        assert!(off + len <= u64::from(d.length));
        off += len;
    }
});
