//! Running single tests in child processes, with a pool of workers.

use std::collections::VecDeque;
use std::fs::File;
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::report::failure_file_name;
use crate::runner::{wait_measured, CpuTimes};

/// One run of one test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub test: String,
    /// The test executable holding it.
    pub exe: PathBuf,
    /// 1-based.
    pub iteration: u32,
    pub seed: u64,
}

/// The jobs for `tests` (each with its executable) × iterations
/// `first..=last`. Iteration-major (every test once, then every test
/// again, ...) so partial results cover every test; test-major with
/// `sequential` (every run of the first test, then of the second, ...).
/// Seeds come from successive calls of `seed_for`.
pub fn make_jobs(
    tests: &[(String, PathBuf)],
    (first, last): (u32, u32),
    sequential: bool,
    mut seed_for: impl FnMut() -> u64,
) -> Vec<Job> {
    let mut jobs = Vec::new();
    let mut push = |(t, exe): &(String, PathBuf), iteration: u32| {
        jobs.push(Job { test: t.clone(), exe: exe.clone(), iteration, seed: seed_for() });
    };
    if sequential {
        for t in tests {
            (first..=last).for_each(|i| push(t, i));
        }
    } else {
        for i in first..=last {
            tests.iter().for_each(|t| push(t, i));
        }
    }
    jobs
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    /// Non-zero exit or killed by a signal; the text is the exit status.
    Failed(String),
    TimedOut,
    /// Stopped by Ctrl-C: not counted.
    Aborted,
}

/// Settings shared by every run.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// Extra environment of every run (besides `LABRPC_SEED`).
    pub env: Vec<(String, String)>,
    pub timeout: Duration,
    /// Where the output of running tests is kept until they end.
    pub scratch: PathBuf,
}

impl RunConfig {
    /// Arguments of the test binary running `test` alone.
    pub fn test_args(test: &str) -> Vec<String> {
        vec!["--exact".into(), test.into(), "--nocapture".into(), "--test-threads=1".into()]
    }

    /// The full environment a run of `job` is given.
    pub fn env_for(&self, job: &Job) -> Vec<(String, String)> {
        let mut env = vec![("LABRPC_SEED".to_string(), job.seed.to_string())];
        env.extend(self.env.iter().cloned());
        env
    }
}

/// What a worker reports.
#[derive(Debug)]
pub enum Event {
    Started(Job),
    Finished {
        job: Job,
        outcome: Outcome,
        secs: f64,
        /// The run's CPU time, when the kernel told.
        cpu: Option<CpuTimes>,
        /// stdout+stderr of the run (the caller deletes it).
        log: PathBuf,
    },
    /// The run could not be started.
    Error(Job, String),
}

fn classify(status: ExitStatus, stop: &AtomicBool) -> Outcome {
    if status.success() {
        Outcome::Passed
    } else if stop.load(Ordering::SeqCst) {
        // Ctrl-C in a terminal reaches the children too: not their fault.
        Outcome::Aborted
    } else {
        Outcome::Failed(status.to_string())
    }
}

/// Runs `job` to its end, its stdout and stderr going to one file.
pub fn run_one(cfg: &RunConfig, job: &Job, stop: &AtomicBool) -> Event {
    let log = cfg.scratch.join(failure_file_name(&job.test, job.iteration, job.seed));
    let start = Instant::now();
    let spawned = File::create(&log).and_then(|out| {
        let err = out.try_clone()?;
        Command::new(&job.exe)
            .args(RunConfig::test_args(&job.test))
            .envs(cfg.env_for(job))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
    });
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => return Event::Error(job.clone(), format!("cannot start {}: {e}", job.exe.display())),
    };
    match wait_measured(&mut child, start, Some(cfg.timeout), Some(stop)) {
        Ok(m) => {
            let outcome = if m.timed_out {
                Outcome::TimedOut
            } else if m.stopped {
                Outcome::Aborted
            } else {
                classify(m.status, stop)
            };
            Event::Finished { job: job.clone(), outcome, secs: m.wall.as_secs_f64(), cpu: m.cpu, log }
        }
        Err(e) => Event::Error(job.clone(), format!("waiting for the run: {e}")),
    }
}

/// Starts `workers` threads running `jobs` until done or `stop` is set.
/// The receiver ends when every worker has.
pub fn spawn_workers(cfg: Arc<RunConfig>, jobs: Vec<Job>, workers: usize, stop: Arc<AtomicBool>) -> Receiver<Event> {
    let queue = Arc::new(Mutex::new(VecDeque::from(jobs)));
    let (tx, rx) = mpsc::channel();
    for _ in 0..workers {
        let (cfg, queue, stop, tx) = (cfg.clone(), queue.clone(), stop.clone(), tx.clone());
        thread::spawn(move || loop {
            if stop.load(Ordering::SeqCst) {
                return;
            }
            let Some(job) = queue.lock().map(|mut q| q.pop_front()).ok().flatten() else {
                return;
            };
            if tx.send(Event::Started(job.clone())).is_err() {
                return;
            }
            if tx.send(run_one(&cfg, &job, &stop)).is_err() {
                return;
            }
        });
    }
    rx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_are_iteration_major_or_sequential() {
        let tests = vec![("a_3a".to_string(), PathBuf::from("r")), ("b_4b".to_string(), PathBuf::from("k"))];
        let mut n = 100;
        let mut seed = || {
            n += 1;
            n
        };
        let jobs = make_jobs(&tests, (1, 2), false, &mut seed);
        let got: Vec<(&str, &str, u32, u64)> =
            jobs.iter().map(|j| (j.test.as_str(), j.exe.to_str().unwrap(), j.iteration, j.seed)).collect();
        assert_eq!(
            got,
            vec![("a_3a", "r", 1, 101), ("b_4b", "k", 1, 102), ("a_3a", "r", 2, 103), ("b_4b", "k", 2, 104)]
        );
        let jobs = make_jobs(&tests, (3, 4), true, &mut seed);
        let got: Vec<(&str, u32)> = jobs.iter().map(|j| (j.test.as_str(), j.iteration)).collect();
        assert_eq!(got, vec![("a_3a", 3), ("a_3a", 4), ("b_4b", 3), ("b_4b", 4)]);
    }

    #[test]
    fn env_and_args() {
        let cfg = RunConfig {
            env: vec![("RAFT_LOG".into(), "1".into())],
            timeout: Duration::from_secs(1),
            scratch: std::env::temp_dir(),
        };
        let job = Job { test: "x_3a".into(), exe: PathBuf::from("/bin/true"), iteration: 1, seed: 9 };
        assert_eq!(
            cfg.env_for(&job),
            vec![("LABRPC_SEED".to_string(), "9".to_string()), ("RAFT_LOG".to_string(), "1".to_string())]
        );
        assert_eq!(RunConfig::test_args("x_3a").join(" "), "--exact x_3a --nocapture --test-threads=1");
    }
}
