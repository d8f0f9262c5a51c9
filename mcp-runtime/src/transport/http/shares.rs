//! Each caller's share of what the HTTP transports hold open for a long time: standalone SSE streams
//! (a session's GET stream, the legacy `GET /sse`). Sessions count their share in [`Sessions`](super::session::Sessions).
//!
//! Without a share, one caller — even a read-only key, or an anonymous address — could hold every
//! connection with streams and leave nobody else able to work.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// Open streams per caller, bounded by `http.max_streams_per_caller`.
#[derive(Debug)]
pub(crate) struct StreamShares {
    per_caller: usize,
    held: Mutex<HashMap<String, usize>>,
}

/// One open stream's place in its caller's share, given back when the stream's body is dropped (the
/// stream ended, or the client went away).
#[derive(Debug)]
pub(crate) struct StreamTicket {
    shares: Arc<StreamShares>,
    caller: String,
}

impl StreamShares {
    pub(crate) fn new(per_caller: usize) -> Arc<Self> {
        Arc::new(Self { per_caller, held: Mutex::default() })
    }

    fn held(&self) -> std::sync::MutexGuard<'_, HashMap<String, usize>> {
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A place for one more stream of `caller`; `None` when it holds its whole share.
    pub(crate) fn take(self: &Arc<Self>, caller: String) -> Option<StreamTicket> {
        let mut held = self.held();
        let count = held.entry(caller.clone()).or_default();
        if *count >= self.per_caller {
            return None;
        }
        *count += 1;
        Some(StreamTicket { shares: Arc::clone(self), caller })
    }
}

impl Drop for StreamTicket {
    fn drop(&mut self) {
        let mut held = self.shares.held();
        if let Some(count) = held.get_mut(&self.caller) {
            *count -= 1;
            if *count == 0 {
                held.remove(&self.caller);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caller_holds_its_share_and_no_more() {
        let shares = StreamShares::new(2);
        let a = shares.take("k:a".into()).unwrap();
        let _b = shares.take("k:a".into()).unwrap();
        assert!(shares.take("k:a".into()).is_none(), "the share is full");
        assert!(shares.take("k:other".into()).is_some(), "another caller is unaffected");
        drop(a);
        assert!(shares.take("k:a".into()).is_some(), "a dropped stream gives its place back");
        drop(shares.take("k:gone".into()));
        assert!(!shares.held().contains_key("k:gone"), "nothing is kept for a caller with no stream");
    }
}
