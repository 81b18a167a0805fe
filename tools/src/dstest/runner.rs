//! Running single tests in child processes, with a pool of workers.

use std::collections::VecDeque;
use std::fs::File;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::report::failure_file_name;

/// One run of one test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub test: String,
    /// 1-based.
    pub iteration: u32,
    pub seed: u64,
}

/// The jobs for `tests` × `iterations`, iteration-major (every test once,
/// then every test again, ...) so partial results cover every test. Seeds
/// come from successive calls of `seed_for`.
pub fn make_jobs(tests: &[String], iterations: u32, mut seed_for: impl FnMut() -> u64) -> Vec<Job> {
    let mut jobs = Vec::with_capacity(tests.len() * iterations as usize);
    for iteration in 1..=iterations {
        for t in tests {
            jobs.push(Job { test: t.clone(), iteration, seed: seed_for() });
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
    pub exe: PathBuf,
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
        /// stdout+stderr of the run (the caller deletes it).
        log: PathBuf,
    },
    /// The run could not be started.
    Error(Job, String),
}

const POLL: Duration = Duration::from_millis(25);

fn wait_child(child: &mut Child, timeout: Duration, stop: &AtomicBool) -> std::io::Result<Outcome> {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(classify(status, stop));
        }
        let over = start.elapsed() >= timeout;
        if over || stop.load(Ordering::SeqCst) {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(if over { Outcome::TimedOut } else { Outcome::Aborted });
        }
        thread::sleep(POLL);
    }
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
        Command::new(&cfg.exe)
            .args(RunConfig::test_args(&job.test))
            .envs(cfg.env_for(job))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
    });
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => return Event::Error(job.clone(), format!("cannot start {}: {e}", cfg.exe.display())),
    };
    match wait_child(&mut child, cfg.timeout, stop) {
        Ok(outcome) => Event::Finished { job: job.clone(), outcome, secs: start.elapsed().as_secs_f64(), log },
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
    fn jobs_are_iteration_major() {
        let tests = vec!["a_3a".to_string(), "b_3b".to_string()];
        let mut n = 100;
        let jobs = make_jobs(&tests, 2, || {
            n += 1;
            n
        });
        let got: Vec<(&str, u32, u64)> = jobs.iter().map(|j| (j.test.as_str(), j.iteration, j.seed)).collect();
        assert_eq!(got, vec![("a_3a", 1, 101), ("b_3b", 1, 102), ("a_3a", 2, 103), ("b_3b", 2, 104)]);
    }

    #[test]
    fn env_and_args() {
        let cfg = RunConfig {
            exe: PathBuf::from("/bin/true"),
            env: vec![("RAFT_LOG".into(), "1".into())],
            timeout: Duration::from_secs(1),
            scratch: std::env::temp_dir(),
        };
        let job = Job { test: "x_3a".into(), iteration: 1, seed: 9 };
        assert_eq!(
            cfg.env_for(&job),
            vec![("LABRPC_SEED".to_string(), "9".to_string()), ("RAFT_LOG".to_string(), "1".to_string())]
        );
        assert_eq!(RunConfig::test_args("x_3a").join(" "), "--exact x_3a --nocapture --test-threads=1");
    }
}
