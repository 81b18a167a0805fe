//! [`run`]: one test at a time, on its own thread, under the 120-second
//! limit; a test over it ends the process with every thread's stack. The
//! watchdog never waits on a peer (a deadlocked peer's `kill()` would never
//! return): it reports and exits.

use crate::fatal;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

/// The environment variable that shortens (or lengthens) the per-test time
/// limit, in whole seconds. For the kit's own tests of hung tests; the
/// course's limit, and the default, is 120 s.
pub const TIME_LIMIT_VAR: &str = "TESTER_TIME_LIMIT_SECS";

/// The course's real-time limit of one test.
pub const TEST_TIME_LIMIT: Duration = Duration::from_secs(120);

/// How long a test's teardown (killing its peers, cleaning up the network)
/// may take once the test has failed or finished its body, before the
/// watchdog reports it as hung.
pub const TEARDOWN_LIMIT: Duration = Duration::from_secs(10);

/// The per-test time limit: [`TEST_TIME_LIMIT`], or `TESTER_TIME_LIMIT_SECS`.
///
/// # Panics
/// If the variable is set to anything but a positive whole number.
pub fn time_limit() -> Duration {
    match std::env::var(TIME_LIMIT_VAR) {
        Err(_) => TEST_TIME_LIMIT,
        Ok(v) => match v.trim().parse::<u64>() {
            Ok(secs) if secs > 0 => Duration::from_secs(secs),
            _ => panic!("tester: {TIME_LIMIT_VAR} must be a positive whole number of seconds, got {v:?}"),
        },
    }
}

enum Event {
    /// The body returned (`Ok`) or panicked (`Err`), teardown included.
    Done(std::thread::Result<()>),
    /// The body failed or finished and its teardown started: it must end
    /// within [`TEARDOWN_LIMIT`].
    Teardown(&'static str),
}

/// Where the running test's events go.
static EVENTS: Mutex<Option<Sender<Event>>> = Mutex::new(None);

/// Tests run one at a time: libtest starts them in parallel by default.
static SERIAL: Mutex<()> = Mutex::new(());

/// The running test's body failed or finished, and its teardown began.
pub(crate) fn teardown_started(why: &'static str) {
    if let Some(tx) = EVENTS.lock().unwrap_or_else(PoisonError::into_inner).as_ref() {
        let _ = tx.send(Event::Teardown(why));
    }
}

/// Runs one test: waits for the tests before it (libtest runs tests in
/// parallel unless told otherwise, and these must run alone), then runs
/// `body` on its own thread under the time limit, counted from here.
///
/// A panic in `body` is the test's failure, as usual. A test over the limit,
/// or whose teardown does not end within [`TEARDOWN_LIMIT`] of its failure,
/// ends the process: "test took longer than 120 seconds", the test's name,
/// the step in progress, the seed, and every thread's stack. So does a panic
/// on any other thread, an apply error or a bad RPC (see the crate docs).
pub fn run(body: fn()) {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let limit = time_limit();
    fatal::install();
    fatal::mark_test_thread();
    fatal::begin_test(thread::current().name().map(str::to_string));
    let (tx, rx) = mpsc::channel();
    *EVENTS.lock().unwrap_or_else(PoisonError::into_inner) = Some(tx.clone());
    let t0 = Instant::now();
    let body_thread = thread::Builder::new()
        .name("test-body".into())
        .spawn(move || {
            fatal::mark_test_thread();
            let r = std::panic::catch_unwind(body);
            let _ = tx.send(Event::Done(r));
        })
        .expect("tester: cannot spawn the test's thread");
    let mut deadline = t0 + limit;
    let mut why = format!("test took longer than {} seconds", limit.as_secs());
    loop {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(Event::Done(r)) => {
                *EVENTS.lock().unwrap_or_else(PoisonError::into_inner) = None;
                let _ = body_thread.join();
                if let Err(panic) = r {
                    std::panic::resume_unwind(panic);
                }
                return;
            }
            Ok(Event::Teardown(what)) => {
                let d = Instant::now() + TEARDOWN_LIMIT;
                if d < deadline {
                    deadline = d;
                    why = format!(
                        "{what}, and its teardown has not ended {} s later: a peer's kill() or the \
                         network's cleanup is stuck",
                        TEARDOWN_LIMIT.as_secs()
                    );
                }
            }
            Err(RecvTimeoutError::Timeout) => fatal::die(&why, true),
            Err(RecvTimeoutError::Disconnected) => fatal::die("the test's thread vanished", true),
        }
    }
}
