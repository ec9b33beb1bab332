// SPDX-License-Identifier: GPL-2.0

//! Time and the connection timers (§3.1.2.2).
//!
//! The engine never reads a clock. Every input carries the current time as
//! an [`Instant`], a count of milliseconds from an origin of the caller's
//! choice (jiffies converted to milliseconds in the kernel), and the engine
//! reports its next deadline through `poll_timeout`.
//!
//! Three timers exist: the negotiate timer (the exchange must finish within
//! `negotiate_timeout_ms`), the idle timer (after `keepalive_interval_ms`
//! without any receive, a message with `SMB_DIRECT_RESPONSE_REQUESTED` is
//! sent) and the keepalive timer (if nothing arrives within
//! `keepalive_timeout_ms` after that, the connection is dropped).

use super::config::Config;

/// A point in time, in milliseconds since an arbitrary origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant(pub u64);

impl Instant {
    /// Creates an instant from milliseconds.
    pub const fn from_millis(ms: u64) -> Self {
        Instant(ms)
    }

    /// Returns the instant as milliseconds.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// Returns the instant `ms` milliseconds later, saturating.
    pub const fn saturating_add_ms(self, ms: u64) -> Self {
        Instant(self.0.saturating_add(ms))
    }
}

/// What an expired timer asks of the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerEvent {
    /// The negotiate exchange took too long.
    NegotiateTimeout,
    /// The connection was idle: send a keepalive.
    SendKeepalive,
    /// A keepalive went unanswered: drop the connection.
    IdleTimeout,
}

/// The deadlines of one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timers {
    negotiate_deadline: Option<Instant>,
    keepalive_at: Option<Instant>,
    idle_deadline: Option<Instant>,
}

impl Timers {
    /// Creates timers with the negotiate timer running from `now`.
    pub const fn new(now: Instant, config: &Config) -> Self {
        Timers {
            negotiate_deadline: Some(now.saturating_add_ms(config.negotiate_timeout_ms)),
            keepalive_at: None,
            idle_deadline: None,
        }
    }

    /// Stops the negotiate timer and starts the idle timer.
    pub fn connected(&mut self, now: Instant, config: &Config) {
        self.negotiate_deadline = None;
        self.keepalive_at = Some(now.saturating_add_ms(config.keepalive_interval_ms));
        self.idle_deadline = None;
    }

    /// Restarts the idle timer: any message from the peer shows it is alive.
    pub fn on_receive(&mut self, now: Instant, config: &Config) {
        if self.negotiate_deadline.is_none() {
            self.keepalive_at = Some(now.saturating_add_ms(config.keepalive_interval_ms));
            self.idle_deadline = None;
        }
    }

    /// Stops every timer.
    pub fn stop(&mut self) {
        *self = Timers::default();
    }

    /// Returns true if a keepalive is waiting for an answer.
    pub const fn keepalive_outstanding(&self) -> bool {
        self.idle_deadline.is_some()
    }

    /// Returns the event of the earliest expired timer, if any, and updates
    /// the timers as that event requires.
    pub fn poll(&mut self, now: Instant, config: &Config) -> Option<TimerEvent> {
        if self.negotiate_deadline.is_some_and(|d| now >= d) {
            self.stop();
            return Some(TimerEvent::NegotiateTimeout);
        }
        if self.idle_deadline.is_some_and(|d| now >= d) {
            self.stop();
            return Some(TimerEvent::IdleTimeout);
        }
        if self.keepalive_at.is_some_and(|d| now >= d) {
            self.keepalive_at = None;
            self.idle_deadline = Some(now.saturating_add_ms(config.keepalive_timeout_ms));
            return Some(TimerEvent::SendKeepalive);
        }
        None
    }

    /// Returns the earliest deadline.
    pub fn next_deadline(&self) -> Option<Instant> {
        [
            self.negotiate_deadline,
            self.keepalive_at,
            self.idle_deadline,
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> Config {
        Config {
            keepalive_interval_ms: 100,
            keepalive_timeout_ms: 50,
            negotiate_timeout_ms: 30,
            ..Config::default_client()
        }
    }

    #[test]
    fn negotiate_timeout() {
        let c = cfg();
        let mut t = Timers::new(Instant(0), &c);
        assert_eq!(t.next_deadline(), Some(Instant(30)));
        assert_eq!(t.poll(Instant(29), &c), None);
        assert_eq!(t.poll(Instant(30), &c), Some(TimerEvent::NegotiateTimeout));
        assert_eq!(t.next_deadline(), None);
    }

    /// §3.1.2.2: idle for an interval sends a keepalive; no answer within the
    /// timeout drops the connection; an answer restarts the interval.
    #[test]
    fn keepalive_cycle() {
        let c = cfg();
        let mut t = Timers::new(Instant(0), &c);
        t.connected(Instant(10), &c);
        assert_eq!(t.next_deadline(), Some(Instant(110)));
        assert_eq!(t.poll(Instant(110), &c), Some(TimerEvent::SendKeepalive));
        assert!(t.keepalive_outstanding());
        assert_eq!(t.next_deadline(), Some(Instant(160)));
        t.on_receive(Instant(120), &c);
        assert!(!t.keepalive_outstanding());
        assert_eq!(t.next_deadline(), Some(Instant(220)));
        assert_eq!(t.poll(Instant(220), &c), Some(TimerEvent::SendKeepalive));
        assert_eq!(t.poll(Instant(269), &c), None);
        assert_eq!(t.poll(Instant(270), &c), Some(TimerEvent::IdleTimeout));
    }

    #[test]
    fn instant_saturates() {
        assert_eq!(Instant(u64::MAX).saturating_add_ms(5), Instant(u64::MAX));
        assert_eq!(Instant::from_millis(7).as_millis(), 7);
    }
}
