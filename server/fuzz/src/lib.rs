//! Helpers shared by the fuzz targets in `fuzz_targets/` (each a libFuzzer binary; run them
//! with `bash .ci/fuzz`).

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// The input as text, when it is UTF-8 (every parser here takes text).
pub fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// Runs a future that must finish without waiting on anything (no I/O, no timer): its first
/// poll's answer. Panics if it would wait.
pub fn at_once<F: Future>(future: F) -> F::Output {
    let mut context = Context::from_waker(Waker::noop());
    match pin!(future).poll(&mut context) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("this future was to finish at once"),
    }
}
