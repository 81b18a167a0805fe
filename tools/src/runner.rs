//! Building the test executable once, listing its tests, and the OS
//! accounting the tools report (children's CPU and max RSS, thread counts).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Which test executables to use: built from the workspace (by default
/// the tests of the labs asked for), or one given executable.
#[derive(clap::Args, Debug, Clone)]
pub struct TargetArgs {
    /// Cargo.toml of the workspace or package to build (default: cargo's
    /// usual lookup from the current directory).
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
    /// Package holding the test targets.
    #[arg(long, default_value = "tester")]
    pub package: String,
    /// Integration test target to use for every test (default: each lab's
    /// own, `raft_test` for Lab 3 and `kvraft_test` for Lab 4).
    #[arg(long, value_name = "NAME")]
    pub test_target: Option<String>,
    /// Use this already built test executable for every test instead of
    /// building.
    #[arg(long, value_name = "PATH")]
    pub exe: Option<PathBuf>,
}

/// A built test executable.
#[derive(Debug, Clone)]
pub struct TestExe {
    pub path: PathBuf,
    /// Directory of the package, used as the working directory (as
    /// `cargo test` does).
    pub package_dir: Option<PathBuf>,
}

impl TestExe {
    /// A command running the executable in its package directory.
    pub fn command(&self) -> Command {
        let mut c = Command::new(&self.path);
        self.in_package_dir(&mut c);
        c
    }

    /// Runs `c` (the executable or a wrapper of it) in the package
    /// directory, as `cargo test` would.
    pub fn in_package_dir(&self, c: &mut Command) {
        if let Some(d) = &self.package_dir {
            c.current_dir(d).env("CARGO_MANIFEST_DIR", d);
        }
    }

    /// `<exe> --list --format terse`, parsed.
    pub fn list(&self) -> Result<Vec<String>, String> {
        let out = self
            .command()
            .args(["--list", "--format", "terse"])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("running {}: {e}", self.path.display()))?;
        if !out.status.success() {
            return Err(format!(
                "{} --list failed ({}): {}",
                self.path.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(crate::suite::parse_list(&String::from_utf8_lossy(&out.stdout)))
    }
}

/// Finds the executable of test target `target` in cargo's JSON messages;
/// returns (executable, package directory).
pub fn find_executable(json_lines: &str, target: &str) -> Option<(PathBuf, Option<PathBuf>)> {
    json_lines
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["reason"] == "compiler-artifact" && v["target"]["name"] == target)
        .filter(|v| v["target"]["kind"].as_array().is_some_and(|k| k.iter().any(|k| k == "test")))
        .find_map(|v| {
            let exe = PathBuf::from(v["executable"].as_str()?);
            let dir = v["manifest_path"].as_str().and_then(|m| Path::new(m).parent().map(Path::to_path_buf));
            Some((exe, dir))
        })
}

/// How to build the tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// The release profile, as the course's timings need.
    Release,
    /// Release with debug assertions and overflow checks on (the kit's
    /// invariant checks run under `debug_assertions`), in a target
    /// directory of its own (`<target>/race`), so the release build stays
    /// as it is. With `tsan`, also ThreadSanitizer: a nightly toolchain
    /// building std with it (`-Zbuild-std`), in `<target>/tsan`.
    Race { tsan: bool },
}

impl Profile {
    /// The program and its leading arguments: `cargo`, or `rustup run
    /// nightly cargo` for ThreadSanitizer.
    fn cargo(self) -> Command {
        match self {
            Profile::Race { tsan: true } => {
                let mut c = Command::new("rustup");
                c.args(["run", "nightly", "cargo"]);
                c
            }
            _ => Command::new(std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"))),
        }
    }

    /// Arguments and environment of `cargo test` for this profile;
    /// `target_dir` is the workspace's target directory.
    fn configure(self, c: &mut Command, target_dir: &Path) {
        c.arg("test").arg("--release");
        if let Profile::Race { tsan } = self {
            c.env("CARGO_PROFILE_RELEASE_DEBUG_ASSERTIONS", "true");
            c.env("CARGO_PROFILE_RELEASE_OVERFLOW_CHECKS", "true");
            if tsan {
                c.env("CARGO_TARGET_DIR", target_dir.join("tsan"));
                c.env("RUSTFLAGS", "-Zsanitizer=thread");
                c.args(["-Zbuild-std", "--target", HOST_TRIPLE]);
            } else {
                c.env("CARGO_TARGET_DIR", target_dir.join("race"));
            }
        }
    }

    /// For messages: `release`, `race (debug assertions)`, ...
    pub fn describe(self) -> &'static str {
        match self {
            Profile::Release => "release",
            Profile::Race { tsan: false } => "race build: release + debug assertions and the kit's invariant checks",
            Profile::Race { tsan: true } => {
                "race build: release + debug assertions and the kit's invariant checks + ThreadSanitizer (nightly)"
            }
        }
    }
}

/// The target triple ThreadSanitizer builds for.
const HOST_TRIPLE: &str = "x86_64-unknown-linux-gnu";

/// Whether this machine can build with ThreadSanitizer: an x86-64 Linux
/// host, `rustup`, a nightly toolchain with its `rust-src` component
/// (`-Zbuild-std` rebuilds std with the sanitizer). `Err` says what is
/// missing.
pub fn tsan_available() -> Result<(), String> {
    if !(cfg!(target_os = "linux") && cfg!(target_arch = "x86_64")) {
        return Err("ThreadSanitizer builds are set up for x86-64 Linux only".into());
    }
    let out = Command::new("rustup")
        .args(["run", "nightly", "rustc", "--print", "sysroot"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map_err(|e| format!("no rustup ({e})"))?;
    if !out.status.success() {
        return Err("no nightly toolchain (rustup toolchain install nightly)".into());
    }
    let sysroot = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    if !sysroot.join("lib/rustlib/src/rust/library/Cargo.lock").is_file() {
        return Err("the nightly toolchain has no rust-src (rustup component add --toolchain nightly rust-src)".into());
    }
    Ok(())
}

/// `cargo metadata --no-deps` of the workspace of `manifest` (cargo's usual
/// lookup when `None`), parsed.
///
/// # Errors
/// cargo fails or prints something that is not JSON.
pub fn cargo_metadata(manifest: Option<&Path>) -> Result<serde_json::Value, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut c = Command::new(cargo);
    c.args(["metadata", "--no-deps", "--format-version", "1", "--offline"]);
    if let Some(m) = manifest {
        c.arg("--manifest-path").arg(m);
    }
    let out = c.stdin(Stdio::null()).output().map_err(|e| format!("cannot run cargo metadata: {e}"))?;
    if !out.status.success() {
        return Err(format!("cargo metadata failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("cargo metadata's output: {e}"))
}

/// The workspace's target directory (`cargo metadata`).
///
/// # Errors
/// cargo fails.
pub fn target_directory(manifest: Option<&Path>) -> Result<PathBuf, String> {
    let meta = cargo_metadata(manifest)?;
    meta["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .ok_or_else(|| "cargo metadata names no target directory".to_string())
}

/// Builds the test targets `targets` of `package` in one cargo run and
/// returns their executables, in the order asked. Compiler output goes to
/// stderr as usual.
///
/// # Errors
/// The build fails, or makes no executable for one of the targets.
pub fn build_targets(
    manifest: Option<&Path>,
    package: &str,
    targets: &[&str],
    profile: Profile,
) -> Result<Vec<TestExe>, String> {
    let mut c = profile.cargo();
    let target_dir = match profile {
        Profile::Release => PathBuf::new(),
        Profile::Race { .. } => target_directory(manifest)?,
    };
    profile.configure(&mut c, &target_dir);
    if let Some(m) = manifest {
        c.arg("--manifest-path").arg(m);
    }
    c.args(["-p", package]);
    for t in targets {
        c.args(["--test", t]);
    }
    c.args(["--no-run", "--message-format=json-render-diagnostics"]);
    c.stdin(Stdio::null()).stderr(Stdio::inherit()).stdout(Stdio::piped());
    eprintln!("building {package}/{} ({})...", targets.join(", "), profile.describe());
    let out = c.output().map_err(|e| format!("running cargo: {e}"))?;
    if !out.status.success() {
        return Err(format!("building the tests failed ({})", out.status));
    }
    let json = String::from_utf8_lossy(&out.stdout);
    targets
        .iter()
        .map(|t| {
            let (path, package_dir) = find_executable(&json, t)
                .ok_or_else(|| format!("no executable for test target {t} in cargo's output"))?;
            Ok(TestExe { path, package_dir })
        })
        .collect()
}

/// Builds one test target (release) and returns its executable, or the
/// given `--exe`.
///
/// # Errors
/// See [`build_targets`].
pub fn build(t: &TargetArgs, default_target: &str) -> Result<TestExe, String> {
    if let Some(exe) = &t.exe {
        return Ok(TestExe { path: exe.clone(), package_dir: None });
    }
    let target = t.test_target.as_deref().unwrap_or(default_target);
    let mut exes = build_targets(t.manifest_path.as_deref(), &t.package, &[target], Profile::Release)?;
    Ok(exes.remove(0))
}

/// CPU time of one process, from the kernel's accounting.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CpuTimes {
    pub user_s: f64,
    pub sys_s: f64,
}

impl CpuTimes {
    pub fn total(&self) -> f64 {
        self.user_s + self.sys_s
    }
}

/// Clock ticks per second of `/proc/<pid>/stat` (`USER_HZ`, 100 on every
/// Linux architecture this kit runs on).
const USER_HZ: f64 = 100.0;

/// User and system time of a process and of its waited-for children,
/// from the text of `/proc/<pid>/stat` (fields 14-17, after the command
/// name, which may hold spaces and parentheses).
pub fn parse_proc_stat_times(stat: &str) -> Option<CpuTimes> {
    let (_, rest) = stat.rsplit_once(')')?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| -> Option<f64> { Some(f.get(i)?.parse::<u64>().ok()? as f64 / USER_HZ) };
    // rest starts at field 3 (state): utime is field 14, index 11.
    Some(CpuTimes { user_s: tick(11)? + tick(13)?, sys_s: tick(12)? + tick(14)? })
}

/// How a measured child ended.
#[derive(Debug)]
pub struct Measured {
    pub status: ExitStatus,
    pub wall: Duration,
    /// Its CPU time (all its threads, and its waited-for children), read
    /// once it had exited and before it was reaped; `None` where the
    /// kernel did not tell.
    pub cpu: Option<CpuTimes>,
    /// Killed because it ran past the time limit.
    pub timed_out: bool,
    /// Killed because `stop` was set.
    pub stopped: bool,
}

/// Waits for `child` (started at `started`), killing it once `limit` has
/// passed or `stop` is set, and measures its CPU time: the child is waited
/// for without being reaped (`waitid` with `WNOWAIT`), its times are read
/// from `/proc/<pid>/stat` (a zombie still has them), then it is reaped.
/// Unlike `getrusage(RUSAGE_CHILDREN)`, this is right with several children
/// running at once.
///
/// # Errors
/// Waiting fails.
pub fn wait_measured(
    child: &mut Child,
    started: Instant,
    limit: Option<Duration>,
    stop: Option<&AtomicBool>,
) -> std::io::Result<Measured> {
    use nix::sys::wait::{waitid, Id, WaitPidFlag, WaitStatus};
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX));
    let (mut timed_out, mut stopped) = (false, false);
    let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
    loop {
        match waitid(Id::Pid(pid), flags) {
            Ok(WaitStatus::StillAlive) | Err(nix::errno::Errno::EINTR) => {}
            Ok(_) => {
                let cpu =
                    std::fs::read_to_string(format!("/proc/{pid}/stat")).ok().and_then(|s| parse_proc_stat_times(&s));
                let status = child.wait()?;
                return Ok(Measured { status, wall: started.elapsed(), cpu, timed_out, stopped });
            }
            Err(_) => {
                // Not waitable that way (already reaped?): no times.
                let status = child.wait()?;
                return Ok(Measured { status, wall: started.elapsed(), cpu: None, timed_out, stopped });
            }
        }
        if !timed_out && !stopped {
            if limit.is_some_and(|l| started.elapsed() >= l) {
                timed_out = true;
                let _ = child.kill();
            } else if stop.is_some_and(|s| s.load(Ordering::SeqCst)) {
                stopped = true;
                let _ = child.kill();
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The machine a run happened on, for the record: host name, CPU model
/// and count, kernel, memory, and the Rust toolchain.
pub fn machine() -> serde_json::Value {
    let read = |p: &str| std::fs::read_to_string(p).map(|s| s.trim().to_string()).ok();
    let cpuinfo = read("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|m| m.trim_start_matches([' ', '\t', ':']).to_string());
    let mem_kb = read("/proc/meminfo")
        .and_then(|m| {
            m.lines().find_map(|l| l.strip_prefix("MemTotal:")).map(|v| v.trim().trim_end_matches(" kB").to_string())
        })
        .and_then(|v| v.parse::<u64>().ok());
    let rustc = Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()))
        .arg("-V")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    serde_json::json!({
        "hostname": read("/proc/sys/kernel/hostname"),
        "cpu_model": model,
        "cpus": std::thread::available_parallelism().map(|n| n.get()).ok(),
        "memory_mib": mem_kb.map(|k| k / 1024),
        "os": format!("{} {}", std::env::consts::OS, read("/proc/sys/kernel/osrelease").unwrap_or_default()),
        "rustc": rustc,
    })
}

/// The git commit of the kit at `root` (`-dirty` when it has changes),
/// `None` outside a git checkout.
pub fn kit_commit(root: &Path) -> Option<String> {
    let git = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(root)
            .args(args)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let head = git(&["rev-parse", "HEAD"])?;
    let dirty = git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    Some(if dirty { format!("{head}-dirty") } else { head })
}

/// Resource usage of the waited-for children of this process (cumulative).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ChildUsage {
    pub user_s: f64,
    pub sys_s: f64,
    /// Largest max RSS of any waited-for descendant, in KiB (Linux units).
    pub maxrss_kb: i64,
}

impl ChildUsage {
    /// User + system seconds.
    pub fn cpu_s(&self) -> f64 {
        self.user_s + self.sys_s
    }

    /// CPU used between `earlier` and `self`.
    pub fn cpu_since(&self, earlier: &ChildUsage) -> f64 {
        (self.cpu_s() - earlier.cpu_s()).max(0.0)
    }
}

/// `getrusage(RUSAGE_CHILDREN)`.
pub fn children_usage() -> ChildUsage {
    use nix::sys::resource::{getrusage, UsageWho};
    match getrusage(UsageWho::RUSAGE_CHILDREN) {
        Ok(u) => {
            let secs = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6;
            ChildUsage { user_s: secs(u.user_time()), sys_s: secs(u.system_time()), maxrss_kb: u.max_rss() }
        }
        Err(_) => ChildUsage::default(),
    }
}

/// CPU seconds (user and system, its waited-for children included) that
/// the running process `pid` has used so far.
pub fn process_cpu_s(pid: u32) -> Option<f64> {
    parse_proc_stat_times(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?).map(|t| t.total())
}

/// `Threads:` of a `/proc/<pid>/status` text.
pub fn parse_threads(status: &str) -> Option<u32> {
    status.lines().find_map(|l| l.strip_prefix("Threads:")).and_then(|v| v.trim().parse().ok())
}

/// A `/proc/<pid>/status` field given in kB (`VmRSS`, `VmHWM`), in KiB.
pub fn parse_status_kb(status: &str, field: &str) -> Option<u64> {
    let value = status.lines().find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))?;
    value.trim().strip_suffix("kB")?.trim().parse().ok()
}

/// What the bench samples of a running process (Linux).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProcSample {
    pub threads: u32,
    /// Resident size now (`VmRSS`), KiB.
    pub rss_kb: u64,
    /// Highest resident size so far (`VmHWM`), KiB.
    pub hwm_kb: u64,
}

/// Thread count and resident sizes of a process, `None` once it is gone.
pub fn proc_sample(pid: u32) -> Option<ProcSample> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    Some(ProcSample {
        threads: parse_threads(&status)?,
        rss_kb: parse_status_kb(&status, "VmRSS").unwrap_or(0),
        hwm_kb: parse_status_kb(&status, "VmHWM").unwrap_or(0),
    })
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// UTC `YYYYmmdd-HHMMSS` for seconds since the epoch.
pub fn format_timestamp(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}{m:02}{d:02}-{:02}{:02}{:02}", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Now as UTC `YYYYmmdd-HHMMSS`.
pub fn timestamp() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    format_timestamp(secs)
}

/// Runs `f(i)` for every `i` in `0..n`, `workers` at a time (at least one):
/// each worker takes the next index when it is done with one. The results
/// come back in index order; a panic in `f` reaches the caller once the
/// workers have stopped.
pub fn in_parallel<R: Send>(n: usize, workers: usize, f: impl Fn(usize) -> R + Sync) -> Vec<R> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new((0..n).map(|_| None).collect::<Vec<Option<R>>>());
    std::thread::scope(|s| {
        for _ in 0..workers.clamp(1, n.max(1)) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return;
                }
                let r = f(i);
                results.lock().unwrap_or_else(std::sync::PoisonError::into_inner)[i] = Some(r);
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .into_iter()
        .map(|r| r.expect("every index was run"))
        .collect()
}

/// Creates the parent directory of `path` if needed.
pub fn ensure_parent(path: &Path) -> std::io::Result<()> {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => std::fs::create_dir_all(p),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_test_executable_in_cargo_json() {
        let json = r#"{"reason":"compiler-artifact","target":{"name":"tester","kind":["lib"]},"executable":null,"manifest_path":"/w/tester/Cargo.toml"}
{"reason":"compiler-artifact","target":{"name":"raft_test","kind":["test"]},"executable":"/w/target/release/deps/raft_test-abc","manifest_path":"/w/tester/Cargo.toml"}
{"reason":"build-finished","success":true}
not json"#;
        let (exe, dir) = find_executable(json, "raft_test").unwrap();
        assert_eq!(exe, PathBuf::from("/w/target/release/deps/raft_test-abc"));
        assert_eq!(dir, Some(PathBuf::from("/w/tester")));
        assert_eq!(find_executable(json, "tester"), None);
    }

    #[test]
    fn reads_a_process_cpu_time() {
        let me = std::process::id();
        let t0 = std::time::Instant::now();
        let mut x = 0u64;
        while t0.elapsed() < std::time::Duration::from_millis(300) {
            x = x.wrapping_mul(31).wrapping_add(7);
        }
        assert!(x != 1);
        let cpu = process_cpu_s(me).unwrap();
        assert!(cpu >= 0.2, "{cpu}");
        assert_eq!(process_cpu_s(u32::MAX), None);
    }

    #[test]
    fn parses_thread_count() {
        let s = "Name:\traft_test\nState:\tS (sleeping)\nThreads:\t17\nSigQ:\t0/1\n";
        assert_eq!(parse_threads(s), Some(17));
        assert_eq!(parse_threads("Name: x\n"), None);
        assert!(proc_sample(std::process::id()).unwrap().threads >= 1);
        let s = "Threads:\t3\nVmHWM:\t   61640 kB\nVmRSS:\t   12288 kB\n";
        assert_eq!(parse_status_kb(s, "VmRSS"), Some(12288));
        assert_eq!(parse_status_kb(s, "VmHWM"), Some(61640));
        assert_eq!(parse_status_kb(s, "VmSwap"), None);
        let me = proc_sample(std::process::id()).unwrap();
        assert!(me.threads >= 1 && me.rss_kb > 0 && me.hwm_kb >= me.rss_kb, "{me:?}");
    }

    #[test]
    fn formats_timestamps() {
        assert_eq!(format_timestamp(0), "19700101-000000");
        assert_eq!(format_timestamp(951_782_400 + 3_661), "20000229-010101");
        assert_eq!(format_timestamp(1_767_225_599), "20251231-235959");
    }

    #[test]
    fn proc_stat_times() {
        let stat = "1234 (raft test) (x)) S 1 1234 1234 0 -1 4194304 100 0 0 0 250 30 7 3 20 0 17 0 1 2 3";
        let t = parse_proc_stat_times(stat).unwrap();
        assert!((t.user_s - 2.57).abs() < 1e-9 && (t.sys_s - 0.33).abs() < 1e-9, "{t:?}");
        assert_eq!(parse_proc_stat_times("1234 (x) S 1 2"), None);
    }

    #[test]
    fn measures_a_childs_cpu_and_kills_it_at_the_limit() {
        let mut c =
            Command::new("sh").args(["-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done"]).spawn().unwrap();
        let m = wait_measured(&mut c, Instant::now(), None, None).unwrap();
        assert!(m.status.success() && !m.timed_out);
        let cpu = m.cpu.expect("times read before reaping");
        assert!(cpu.total() > 0.0 && cpu.total() <= m.wall.as_secs_f64() + 0.05, "{cpu:?} in {:?}", m.wall);
        let mut c = Command::new("sleep").arg("30").spawn().unwrap();
        let m = wait_measured(&mut c, Instant::now(), Some(Duration::from_millis(100)), None).unwrap();
        assert!(m.timed_out && !m.status.success() && m.wall < Duration::from_secs(5), "{m:?}");
    }

    #[test]
    fn machine_and_commit() {
        let m = machine();
        assert!(m["cpus"].as_u64().unwrap() >= 1);
        assert!(m["os"].as_str().unwrap().starts_with("linux"));
        let kit = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        if kit.join(".git").exists() {
            assert!(kit_commit(kit).unwrap().len() >= 40);
        }
        assert_eq!(kit_commit(Path::new("/")), None);
    }

    #[test]
    fn children_usage_grows_after_a_child() {
        let before = children_usage();
        Command::new("true").status().unwrap();
        let after = children_usage();
        assert!(after.cpu_s() >= before.cpu_s());
        assert!(after.maxrss_kb > 0);
    }

    #[test]
    fn in_parallel_runs_each_index_once_and_keeps_their_order() {
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let out = in_parallel(50, 4, |i| {
            calls.fetch_add(1, Ordering::Relaxed);
            i * 2
        });
        assert_eq!(out, (0..50).map(|i| i * 2).collect::<Vec<_>>());
        assert_eq!(calls.into_inner(), 50);
        assert!(in_parallel(0, 4, |i| i).is_empty());
        assert_eq!(in_parallel(3, 0, |i| i), vec![0, 1, 2], "at least one worker");
    }
}
