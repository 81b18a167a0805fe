//! Building the test executable once, listing its tests, and the OS
//! accounting the tools report (children's CPU and max RSS, thread counts).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Which test executable to use (defaults: the Lab 3 suite).
#[derive(clap::Args, Debug, Clone)]
pub struct TargetArgs {
    /// Cargo.toml of the workspace or package to build (default: cargo's
    /// usual lookup from the current directory).
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
    /// Package holding the test target.
    #[arg(long, default_value = "tester")]
    pub package: String,
    /// Integration test target.
    #[arg(long, default_value = "raft_test")]
    pub test_target: String,
    /// Use this already built test executable instead of building.
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
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| format!("running {}: {e}", self.path.display()))?;
        if !out.status.success() {
            return Err(format!("{} --list failed: {}", self.path.display(), out.status));
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

/// Builds the test target once (release, as the course's timing needs) and
/// returns its executable. Compiler output goes to stderr as usual.
pub fn build(t: &TargetArgs) -> Result<TestExe, String> {
    if let Some(exe) = &t.exe {
        return Ok(TestExe { path: exe.clone(), package_dir: None });
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut c = Command::new(cargo);
    c.args(["test", "--release"]);
    if let Some(m) = &t.manifest_path {
        c.arg("--manifest-path").arg(m);
    }
    c.args(["-p", &t.package, "--test", &t.test_target, "--no-run"]);
    c.arg("--message-format=json-render-diagnostics");
    c.stderr(Stdio::inherit()).stdout(Stdio::piped());
    eprintln!("building {}/{} (release)...", t.package, t.test_target);
    let out = c.output().map_err(|e| format!("running cargo: {e}"))?;
    if !out.status.success() {
        return Err(format!("cargo build failed: {}", out.status));
    }
    let (path, package_dir) = find_executable(&String::from_utf8_lossy(&out.stdout), &t.test_target)
        .ok_or_else(|| format!("no executable for test target {} in cargo's output", t.test_target))?;
    Ok(TestExe { path, package_dir })
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

/// `Threads:` of a `/proc/<pid>/status` text.
pub fn parse_threads(status: &str) -> Option<u32> {
    status.lines().find_map(|l| l.strip_prefix("Threads:")).and_then(|v| v.trim().parse().ok())
}

/// Current thread count of a process (Linux), `None` once it is gone.
pub fn thread_count(pid: u32) -> Option<u32> {
    parse_threads(&std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?)
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
    fn parses_thread_count() {
        let s = "Name:\traft_test\nState:\tS (sleeping)\nThreads:\t17\nSigQ:\t0/1\n";
        assert_eq!(parse_threads(s), Some(17));
        assert_eq!(parse_threads("Name: x\n"), None);
        assert!(thread_count(std::process::id()).unwrap() >= 1);
    }

    #[test]
    fn formats_timestamps() {
        assert_eq!(format_timestamp(0), "19700101-000000");
        assert_eq!(format_timestamp(951_782_400 + 3_661), "20000229-010101");
        assert_eq!(format_timestamp(1_767_225_599), "20251231-235959");
    }

    #[test]
    fn children_usage_grows_after_a_child() {
        let before = children_usage();
        Command::new("true").status().unwrap();
        let after = children_usage();
        assert!(after.cpu_s() >= before.cpu_s());
        assert!(after.maxrss_kb > 0);
    }
}
