// SPDX-License-Identifier: GPL-2.0

//! Every limit of `Config` at its boundary: the last value accepted and
//! the first refused, each check alone, and the device checks of known
//! bug 12 with their exact sums.

use smbdirect::fragment::MAX_SEND_QUEUE_DEPTH;
use smbdirect::{Config, ConfigError, Consumer, DeviceCaps};

/// The client defaults with a streaming consumer, so that the reassembly
/// check stays out of the way of the others.
fn base() -> Config {
    Config {
        consumer: Consumer::Streaming,
        ..Config::default_client()
    }
}

/// A device that fits `base()` with room to spare.
fn roomy() -> DeviceCaps {
    DeviceCaps {
        max_qp_wr: 4096,
        max_cqe: 8192,
        max_send_sge: 4,
        max_recv_sge: 1,
        max_fast_reg_page_list_len: 512,
        page_size: 4096,
    }
}

#[test]
fn receive_credit_max_at_least_3() {
    assert_eq!(
        Config {
            receive_credit_max: 3,
            ..base()
        }
        .validate(),
        Ok(())
    );
    assert_eq!(
        Config {
            receive_credit_max: 2,
            ..base()
        }
        .validate(),
        Err(ConfigError::ReceiveCreditMaxTooSmall)
    );
}

/// §3.1.5.6: 128 bytes is the smallest message size, for sending as for
/// receiving; 131072 the smallest fragmented size.
#[test]
fn size_minima() {
    let ok = |c: Config| assert_eq!(c.validate(), Ok(()), "{c:?}");
    ok(Config {
        max_send_size: 128,
        ..base()
    });
    ok(Config {
        max_receive_size: 128,
        ..base()
    });
    ok(Config {
        max_fragmented_recv_size: 131_072,
        ..base()
    });
    let refused = |c: Config, e: ConfigError| assert_eq!(c.validate(), Err(e));
    refused(
        Config {
            max_send_size: 127,
            ..base()
        },
        ConfigError::MaxSendSizeTooSmall,
    );
    refused(
        Config {
            max_receive_size: 127,
            ..base()
        },
        ConfigError::MaxReceiveSizeTooSmall,
    );
    refused(
        Config {
            max_fragmented_recv_size: 131_071,
            ..base()
        },
        ConfigError::MaxFragmentedSizeTooSmall,
    );
}

/// Each timer alone being zero is refused.
#[test]
fn each_zero_timer_refused() {
    for c in [
        Config {
            keepalive_interval_ms: 0,
            ..base()
        },
        Config {
            keepalive_timeout_ms: 0,
            ..base()
        },
        Config {
            negotiate_timeout_ms: 0,
            ..base()
        },
    ] {
        assert_eq!(c.validate(), Err(ConfigError::ZeroTimeout), "{c:?}");
    }
    assert_eq!(
        Config {
            keepalive_interval_ms: 1,
            keepalive_timeout_ms: 1,
            negotiate_timeout_ms: 1,
            ..base()
        }
        .validate(),
        Ok(())
    );
}

#[test]
fn send_queue_depth_range() {
    let at = |d: u16| {
        Config {
            send_queue_depth: d,
            ..base()
        }
        .validate()
    };
    assert_eq!(at(0), Err(ConfigError::ZeroSendQueueDepth));
    assert_eq!(at(1), Ok(()));
    assert_eq!(at(MAX_SEND_QUEUE_DEPTH), Ok(()));
    assert_eq!(
        at(MAX_SEND_QUEUE_DEPTH + 1),
        Err(ConfigError::SendQueueDepthTooLarge)
    );
}

/// Known bug 10: a whole-message consumer needs every fragment of the
/// largest message in buffers, plus one in reserve.
#[test]
fn whole_message_needs_one_buffer_more() {
    // 131072 bytes in 1340-byte fragments fill 98 buffers.
    let c = Config {
        receive_credit_max: 99,
        max_receive_size: 1364,
        max_fragmented_recv_size: 131_072,
        consumer: Consumer::WholeMessage,
        ..base()
    };
    assert_eq!(c.buffers_for_message(), 98);
    assert_eq!(c.validate(), Ok(()));
    assert_eq!(
        Config {
            receive_credit_max: 98,
            ..c
        }
        .validate(),
        Err(ConfigError::ReassemblyExhaustion {
            needed: 98,
            buffers: 98
        })
    );
    // A streaming consumer returns buffers as it copies: no such bound.
    assert_eq!(
        Config {
            receive_credit_max: 3,
            consumer: Consumer::Streaming,
            ..c
        }
        .validate(),
        Ok(())
    );
}

/// Linux's 173910 is half of 255 buffers of 1364 bytes; the result
/// saturates instead of wrapping.
#[test]
fn safe_max_fragmented_recv_size() {
    assert_eq!(
        Config::default_client().safe_max_fragmented_recv_size(),
        173_910
    );
    let huge = Config {
        receive_credit_max: u16::MAX,
        max_receive_size: u32::MAX,
        ..base()
    };
    assert_eq!(huge.safe_max_fragmented_recv_size(), u32::MAX);
    // Just above u32::MAX after halving: 2 * 2^32 + 2 bytes of buffers.
    let above = Config {
        receive_credit_max: 2,
        max_receive_size: u32::MAX,
        ..base()
    };
    assert_eq!(above.safe_max_fragmented_recv_size(), u32::MAX);
    let below = Config {
        receive_credit_max: 2,
        max_receive_size: u32::MAX - 1,
        ..base()
    };
    assert_eq!(below.safe_max_fragmented_recv_size(), u32::MAX - 1);
}

/// Known bug 12: the sends, the RDMA credits and a drain request fit the
/// send queue; the receives and a drain request the receive queue; both
/// the CQ. Each bound is exact.
#[test]
fn device_queue_bounds() {
    let c = Config {
        receive_credit_max: 100,
        send_credit_target: 100,
        send_queue_depth: 50,
        rdma_credit_max: 10,
        ..base()
    };
    // Send queue: 50 + 10 + 1 = 61; receive queue: 100 + 1 = 101.
    let at = |max_qp_wr: u32, max_cqe: u32| {
        c.check_device(&DeviceCaps {
            max_qp_wr,
            max_cqe,
            ..roomy()
        })
    };
    assert_eq!(at(101, 162), Ok(()));
    assert_eq!(
        at(100, 162),
        Err(ConfigError::QueueTooDeep {
            needed: 101,
            max_qp_wr: 100
        })
    );
    assert_eq!(
        at(101, 161),
        Err(ConfigError::CqTooSmall {
            needed: 162,
            max_cqe: 161
        })
    );
    // The send queue alone too deep.
    let sends = Config {
        send_queue_depth: 95,
        ..c
    };
    assert_eq!(
        sends.check_device(&DeviceCaps {
            max_qp_wr: 101,
            ..roomy()
        }),
        Err(ConfigError::QueueTooDeep {
            needed: 106,
            max_qp_wr: 101
        })
    );
    // No SGE either way.
    for (send, recv) in [(0, 1), (1, 0)] {
        assert_eq!(
            c.check_device(&DeviceCaps {
                max_send_sge: send,
                max_recv_sge: recv,
                ..roomy()
            }),
            Err(ConfigError::TooFewSge)
        );
    }
    // An invalid configuration is refused before the device is looked at.
    assert_eq!(
        Config {
            receive_credit_max: 2,
            ..c
        }
        .check_device(&roomy()),
        Err(ConfigError::ReceiveCreditMaxTooSmall)
    );
}

/// `max_read_write_size` must fit the MRs: one per I/O without RDMA
/// credits (a client), one per credit with them (a server).
#[test]
fn device_read_write_bound() {
    let dev = DeviceCaps {
        max_fast_reg_page_list_len: 256,
        page_size: 4096,
        ..roomy()
    };
    let client = Config {
        max_read_write_size: 1 << 20,
        rdma_credit_max: 0,
        ..base()
    };
    assert_eq!(client.check_device(&dev), Ok(()));
    assert_eq!(
        Config {
            max_read_write_size: (1 << 20) + 1,
            ..client
        }
        .check_device(&dev),
        Err(ConfigError::ReadWriteTooLarge { max: 1 << 20 })
    );
    let server = Config {
        max_read_write_size: 8 << 20,
        rdma_credit_max: 8,
        ..client
    };
    assert_eq!(server.check_device(&dev), Ok(()));
    assert_eq!(
        Config {
            rdma_credit_max: 7,
            ..server
        }
        .check_device(&dev),
        Err(ConfigError::ReadWriteTooLarge { max: 7 << 20 })
    );
}

/// `fit_device` lowers what exceeds a small device, and the result passes
/// `check_device`; a configuration that fits comes back unchanged.
#[test]
fn fit_device_lowers_to_the_device() {
    let c = Config::default_server();
    assert_eq!(c.fit_device(&roomy()), Ok(c));

    let small = DeviceCaps {
        max_qp_wr: 128,
        max_cqe: 300,
        max_fast_reg_page_list_len: 64,
        page_size: 4096,
        ..roomy()
    };
    assert!(c.check_device(&small).is_err());
    let f = c.fit_device(&small).unwrap();
    assert_eq!(f.check_device(&small), Ok(()));
    // 127 WRs per queue (max_qp_wr less the drain WR, within half the CQ):
    // 127 receives; 31 RDMA credits (a quarter) and 96 sends; 64 pages of 4 KiB per
    // credit; whole messages in 126 buffers of 1340 payload bytes.
    assert_eq!((f.receive_credit_max, f.send_credit_target), (127, 127));
    assert_eq!((f.rdma_credit_max, f.send_queue_depth), (31, 96));
    assert_eq!(f.max_read_write_size, 31 * 64 * 4096);
    assert_eq!(f.max_fragmented_recv_size, 126 * 1340);

    // A CQ smaller than twice the queues: half of it each way.
    let cq_bound = DeviceCaps {
        max_qp_wr: 4096,
        max_cqe: 256,
        ..small
    };
    let f = c.fit_device(&cq_bound).unwrap();
    assert_eq!(f.check_device(&cq_bound), Ok(()));
    assert_eq!(f.receive_credit_max, 127);

    // Too few receives for a whole 131072-byte message: no fit.
    let tiny = DeviceCaps {
        max_qp_wr: 64,
        max_cqe: 100,
        ..small
    };
    assert!(matches!(
        c.fit_device(&tiny),
        Err(ConfigError::ReassemblyExhaustion { .. })
    ));
    // A streaming consumer fits in it.
    let streaming = Config {
        consumer: Consumer::Streaming,
        ..c
    };
    let f = streaming.fit_device(&tiny).unwrap();
    assert_eq!(f.check_device(&tiny), Ok(()));
    // 49 WRs per queue: a quarter of them, 12, for RDMA credits, the rest
    // of the send queue for sends; 12 MRs of 64 pages.
    assert_eq!(f.receive_credit_max, 49);
    assert_eq!((f.rdma_credit_max, f.send_queue_depth), (12, 37));
    assert_eq!(f.max_read_write_size, 12 * 64 * 4096);
}
