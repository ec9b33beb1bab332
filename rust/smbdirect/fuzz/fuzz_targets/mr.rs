// SPDX-License-Identifier: GPL-2.0

//! Buffer descriptor lists and MR/RDMA planning on arbitrary input: no
//! panic, and every plan covers exactly the requested bytes within limits.

#![no_main]

use libfuzzer_sys::fuzz_target;
use smbdirect::mr::{plan_registration, DeviceLimits, MrSpan, RdmaPlanner, Segment};
use smbdirect::wire::DescriptorList;

fn u32_at(d: &[u8], i: usize) -> u32 {
    d.get(i..i + 4)
        .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 16 {
        return;
    }
    let (head, rest) = data.split_at(16);
    let limits = DeviceLimits {
        page_size: 1 << (9 + head[0] % 8),
        max_fast_reg_page_list_len: u32::from(head[1] % 64) + 1,
        max_sge_per_wr: u32::from(head[2] % 8) + 1,
        max_rdma_wr_size: u32_at(head, 4) % (1 << 20) + 1,
    };
    let expected = u64::from(u32_at(head, 8) % (1 << 24));
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
        let total: u64 = segments.iter().map(|s| u64::from(s.len)).sum();
        assert_eq!(
            out[..n].iter().map(|s| u64::from(s.length)).sum::<u64>(),
            total
        );
        for s in &out[..n] {
            assert!(s.page_count <= limits.max_fast_reg_page_list_len);
        }
    }
    if let Ok(list) = DescriptorList::parse(descs, expected, 4) {
        assert_eq!(list.total_len(), expected);
        if let Ok(mut p) = RdmaPlanner::new(list, &segments, expected, &limits) {
            let mut sges = [Segment::default(); 8];
            let mut moved = 0u64;
            for _ in 0..100_000 {
                let Some(wr) = p.next_wr(&mut sges) else {
                    break;
                };
                assert!(wr.sge_count <= limits.max_sge_per_wr);
                assert!(wr.length <= limits.max_rdma_wr_size);
                moved += u64::from(wr.length);
            }
            assert!(moved <= expected);
        }
    }
});
