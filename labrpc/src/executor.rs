//! The network's threads: one delay-queue (timer) thread and a small pool of
//! workers that grows on demand and shrinks when idle.
//!
//! Every delayed action of the network (a failure reported after 0..7000 ms,
//! a request held back 0..26 ms, a reply reordered by up to 2.2 s, the
//! 100 ms "is the server still alive?" check) is an entry in one binary heap,
//! so 10^5 delayed messages cost 10^5 heap entries, not 10^5 sleeping threads.
//! Due entries are handed to the pool, which also runs RPC handlers.
//!
//! The pool starts up to [`CORE_WORKERS`] threads at once. Beyond that it
//! grows only when jobs wait, no worker is idle, and no worker has taken a
//! job from the queue for [`STARVED`]: one thread per such period. Busy
//! workers that make progress, even slowly on a machine whose cores are taken
//! by other processes, are not starved and get no company; handlers that
//! block (a key/value server waiting for a commit) stop taking jobs, so they
//! still get threads and cannot starve the handlers they wait for. A worker
//! idle for [`IDLE_EXIT`] exits.

use crate::errors::{panic_message, ErrorSink};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

pub(crate) type Job = Box<dyn FnOnce() + Send>;

/// How long a worker waits for work before it exits.
const IDLE_EXIT: Duration = Duration::from_secs(2);
/// Workers started without waiting.
const CORE_WORKERS: usize = 4;
/// How long jobs may wait, with every worker busy and none taking a job from
/// the queue, before the pool adds a worker.
const STARVED: Duration = Duration::from_millis(10);

struct Timed {
    at: Instant,
    seq: u64,
    job: Job,
}

impl PartialEq for Timed {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Timed {}
impl PartialOrd for Timed {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Timed {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

#[derive(Default)]
struct State {
    /// Jobs ready to run.
    ready: VecDeque<Job>,
    /// Jobs taken from `ready` by workers, ever: the pool's progress.
    taken: u64,
    /// While jobs wait and no worker is idle: since when, and `taken` then.
    /// Unchanged progress over [`STARVED`] adds a worker.
    starving: Option<(Instant, u64)>,
    timers: BinaryHeap<Reverse<Timed>>,
    seq: u64,
    /// Workers blocked waiting for work.
    idle: usize,
    /// Workers alive.
    workers: usize,
    /// The most workers ever alive at once.
    peak_workers: usize,
    shutdown: bool,
    handles: Vec<JoinHandle<()>>,
}

struct Inner {
    state: Mutex<State>,
    work: Condvar,
    timer: Condvar,
    /// Where a job's panic (a reply callback's) is reported.
    errors: Arc<ErrorSink>,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A job's panic is caught before it can poison this lock; poisoning
        // here would be a bug in this module, so fail loudly.
        self.state.lock().expect("labrpc executor lock poisoned")
    }
}

/// Thread and queue figures, for tests and benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExecutorStats {
    /// Worker threads alive now (the timer thread not included).
    pub workers: usize,
    /// The most worker threads that were alive at once.
    pub peak_workers: usize,
    /// Delayed actions waiting in the timer heap.
    pub pending_timers: usize,
}

pub(crate) struct Executor {
    inner: Arc<Inner>,
    timer_thread: Mutex<Option<JoinHandle<()>>>,
}

impl Executor {
    /// An executor whose jobs' panics are reported to `errors`.
    pub(crate) fn new(errors: Arc<ErrorSink>) -> Executor {
        let inner = Arc::new(Inner {
            state: Mutex::new(State::default()),
            work: Condvar::new(),
            timer: Condvar::new(),
            errors,
        });
        let t = Arc::clone(&inner);
        let handle = thread::Builder::new()
            .name("labrpc-timer".into())
            .spawn(move || timer_loop(&t))
            .expect("labrpc: cannot spawn the timer thread");
        Executor { inner, timer_thread: Mutex::new(Some(handle)) }
    }

    /// Runs `job` on a worker as soon as one is free.
    pub(crate) fn spawn(&self, job: Job) {
        let mut s = self.inner.lock();
        if s.shutdown {
            drop(s);
            drop(job); // dropping a call's job fails the call
            return;
        }
        s.ready.push_back(job);
        wake_or_add_workers(&self.inner, &mut s, 1);
    }

    /// Runs `job` on a worker once `delay` has passed.
    pub(crate) fn after(&self, delay: Duration, job: Job) {
        if delay.is_zero() {
            return self.spawn(job);
        }
        let mut s = self.inner.lock();
        if s.shutdown {
            drop(s);
            drop(job);
            return;
        }
        s.seq += 1;
        let seq = s.seq;
        let at = Instant::now() + delay;
        let earliest = s.timers.peek().is_none_or(|Reverse(t)| at < t.at);
        s.timers.push(Reverse(Timed { at, seq, job }));
        if earliest {
            self.inner.timer.notify_one();
        }
    }

    pub(crate) fn stats(&self) -> ExecutorStats {
        let s = self.inner.lock();
        ExecutorStats { workers: s.workers, peak_workers: s.peak_workers, pending_timers: s.timers.len() }
    }

    /// Stops every thread and drops every pending job (which fails the calls
    /// they belong to). Idempotent. Must not be called from a worker.
    pub(crate) fn shutdown(&self) {
        let (jobs, timers, handles) = {
            let mut s = self.inner.lock();
            s.shutdown = true;
            (std::mem::take(&mut s.ready), std::mem::take(&mut s.timers), std::mem::take(&mut s.handles))
        };
        self.inner.work.notify_all();
        self.inner.timer.notify_all();
        // Dropped outside the lock: dropping a call's job runs its callback.
        drop(jobs);
        drop(timers);
        let current = thread::current().id();
        for h in handles {
            if h.thread().id() != current {
                let _ = h.join();
            }
        }
        if let Some(h) = self.timer_thread.lock().expect("labrpc timer handle").take() {
            let _ = h.join();
        }
    }
}

/// After `added` jobs joined the ready queue: wake that many idle workers,
/// start core workers for the rest, and if that is not enough let the timer
/// thread watch for starvation.
fn wake_or_add_workers(inner: &Arc<Inner>, s: &mut State, added: usize) {
    for _ in 0..added.min(s.idle) {
        inner.work.notify_one();
    }
    let mut available = s.idle;
    while available < s.ready.len() && s.workers < CORE_WORKERS {
        add_worker(inner, s);
        available += 1;
    }
    if available < s.ready.len() {
        inner.timer.notify_one(); // start the starvation clock
    }
}

fn add_worker(inner: &Arc<Inner>, s: &mut State) {
    s.handles.retain(|h| !h.is_finished());
    let worker = Arc::clone(inner);
    let handle = thread::Builder::new()
        .name("labrpc-worker".into())
        .spawn(move || worker_loop(&worker))
        .expect("labrpc: cannot spawn a worker thread");
    s.workers += 1;
    s.peak_workers = s.peak_workers.max(s.workers);
    s.handles.push(handle);
}

fn timer_loop(inner: &Arc<Inner>) {
    let mut s = inner.lock();
    loop {
        if s.shutdown {
            return;
        }
        let now = Instant::now();
        let mut moved = 0;
        while s.timers.peek().is_some_and(|Reverse(t)| t.at <= now) {
            let Reverse(t) = s.timers.pop().expect("peeked");
            s.ready.push_back(t.job);
            moved += 1;
        }
        if moved > 0 {
            wake_or_add_workers(inner, &mut s, moved);
        }
        // Starvation: jobs wait, every worker is busy, and none has taken a
        // job for STARVED (they are blocked, not merely slow).
        let mut next = s.timers.peek().map(|Reverse(t)| t.at);
        if s.idle == 0 && !s.ready.is_empty() {
            let since = match s.starving {
                Some((since, taken)) if taken == s.taken => {
                    if now.duration_since(since) >= STARVED {
                        add_worker(inner, &mut s);
                        now // one worker per period
                    } else {
                        since
                    }
                }
                _ => now, // first look, or progress since the last: restart the clock
            };
            s.starving = Some((since, s.taken));
            let check = since + STARVED;
            next = Some(next.map_or(check, |n| n.min(check)));
        } else {
            s.starving = None;
        }
        s = match next {
            Some(at) => inner.timer.wait_timeout(s, at.saturating_duration_since(now)).expect("labrpc timer wait").0,
            None => inner.timer.wait(s).expect("labrpc timer wait"),
        };
    }
}

fn worker_loop(inner: &Arc<Inner>) {
    let mut s = inner.lock();
    loop {
        if let Some(job) = s.ready.pop_front() {
            s.taken += 1;
            drop(s);
            // A handler's panic is caught and reported where it runs; what
            // is left is a reply callback's, the caller's bug. It is
            // reported, and must not take the worker down with it.
            if let Err(p) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)) {
                let msg = format!("labrpc: a reply callback panicked: {}", panic_message(&*p));
                inner.errors.report(msg);
            }
            s = inner.lock();
            continue;
        }
        if s.shutdown {
            break;
        }
        s.idle += 1;
        let (guard, timeout) = inner.work.wait_timeout(s, IDLE_EXIT).expect("labrpc worker wait");
        s = guard;
        s.idle -= 1;
        if timeout.timed_out() && s.ready.is_empty() {
            break;
        }
    }
    s.workers -= 1;
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::mpsc;

    /// Handlers that block until all of them run (as a key/value server's
    /// handlers wait for a commit that a later RPC brings) get a thread each.
    #[test]
    fn blocked_workers_get_company() {
        let exec = Executor::new(Arc::default());
        let n = 3 * CORE_WORKERS;
        let arrived = Arc::new((Mutex::new(0), Condvar::new()));
        let (tx, rx) = mpsc::channel();
        for _ in 0..n {
            let (arrived, tx) = (Arc::clone(&arrived), tx.clone());
            exec.spawn(Box::new(move || {
                let (count, cv) = &*arrived;
                let mut c = count.lock().unwrap();
                *c += 1;
                cv.notify_all();
                while *c < n {
                    c = cv.wait(c).unwrap();
                }
                tx.send(()).unwrap();
            }));
        }
        for i in 0..n {
            rx.recv_timeout(Duration::from_secs(10))
                .unwrap_or_else(|_| panic!("{i} of {n} blocked jobs finished: the pool did not grow"));
        }
        assert!(exec.stats().peak_workers >= n);
        exec.shutdown();
    }

    /// A backlog of short jobs keeps the workers busy but taking jobs: the
    /// pool stays at its core size however long the queue waits.
    #[test]
    fn busy_workers_that_make_progress_get_no_company() {
        let exec = Executor::new(Arc::default());
        let n = 2000;
        let (tx, rx) = mpsc::channel();
        for _ in 0..n {
            let tx = tx.clone();
            exec.spawn(Box::new(move || {
                let t = Instant::now();
                while t.elapsed() < Duration::from_micros(200) {
                    std::hint::spin_loop();
                }
                tx.send(()).unwrap();
            }));
        }
        for _ in 0..n {
            rx.recv_timeout(Duration::from_secs(20)).expect("short jobs finish");
        }
        let peak = exec.stats().peak_workers;
        // Two more than the core allow for this process being descheduled
        // for a whole STARVED period by others.
        assert!(peak <= CORE_WORKERS + 2, "peak workers {peak} for a backlog of short jobs");
        exec.shutdown();
    }
}
