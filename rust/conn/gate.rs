// SPDX-License-Identifier: GPL-2.0

//! A gate for the calls inside a transport object that C holds by pointer
//! (a cifs or ksmbd connection): destroying it closes the gate, wakes the
//! calls waiting inside (by ending the connection) and waits for them to
//! leave, so that nothing runs in the object, or in this module's code,
//! once destroy returns.

use kernel::prelude::*;
use kernel::sync::{new_condvar, new_mutex, CondVar, Mutex};

use crate::ib::errno;

struct GateState {
    inside: usize,
    closed: bool,
}

/// Counts the calls inside; see the module documentation.
#[pin_data]
pub struct CallGate {
    #[pin]
    state: Mutex<GateState>,
    #[pin]
    emptied: CondVar,
}

/// A call inside the gate; leaves on drop.
pub struct Inside<'a> {
    gate: &'a CallGate,
}

impl Drop for Inside<'_> {
    fn drop(&mut self) {
        let mut st = self.gate.state.lock();
        st.inside -= 1;
        if st.inside == 0 {
            self.gate.emptied.notify_all();
        }
    }
}

impl CallGate {
    /// An open gate with no call inside.
    pub fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            state <- new_mutex!(GateState { inside: 0, closed: false }, "smbdrs_call_gate"),
            emptied <- new_condvar!("smbdrs_call_gate_emptied"),
        })
    }

    /// Enters a call; `ENOTCONN` once the gate is closed.
    pub fn enter(&self) -> Result<Inside<'_>> {
        let mut st = self.state.lock();
        if st.closed {
            return Err(errno(kernel::bindings::ENOTCONN));
        }
        st.inside += 1;
        Ok(Inside { gate: self })
    }

    /// Lets no new call in.
    pub fn close(&self) {
        self.state.lock().closed = true;
    }

    /// Waits until no call is inside (after [`CallGate::close`] and after
    /// waking the calls that wait for the connection).
    pub fn wait_empty(&self) {
        let mut st = self.state.lock();
        while st.inside > 0 {
            self.emptied.wait(&mut st);
        }
    }
}
