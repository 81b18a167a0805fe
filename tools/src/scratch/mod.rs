//! Scratch copies of the kit: copy the workspace (without `target` and
//! `.git`), change what a check needs (plant a bug in `raft` with a
//! [`Plant`], or put another `raft` crate in its place, such as the student
//! skeleton or a student's submission), build the tester's tests against it,
//! and run chosen tests with their output and exit status.
//!
//! Builds share one target directory ([`shared_target_dir`]), and a copy is
//! kept at a stable path outside it ([`kits_dir`]) where files whose bytes did not change keep their
//! modification time, so a second build of the same copy recompiles only
//! what changed (and always what did, whatever the new file's own time).
//!
//! ```no_run
//! use tools::scratch::{Kit, Plant, shared_target_dir};
//! let kit = Kit::copy_of(&tools::scratch::kit_root(), "apply-under-lock")?;
//! kit.plant(&Plant::load("tools/plants/apply-under-lock.plant".as_ref())?)?;
//! let build = kit.build_tests("tester", "raft_test", &shared_target_dir())?;
//! let run = tools::scratch::run_test(&build.exe, "snapshot_basic_3d", &[], std::time::Duration::from_secs(120))?;
//! println!("exit {:?}\n{}", run.code, run.output);
//! # Ok::<(), String>(())
//! ```

mod plant;

pub use plant::{Edit, Plant};

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Names never copied, at any depth: build output and version control.
/// The tools' output folders are skipped at the top.
const SKIP_ANYWHERE: [&str; 2] = ["target", ".git"];
const SKIP_AT_TOP: [&str; 3] = ["stress-failures", "grade-results", "bench-results"];

/// The kit this `tools` crate belongs to.
pub fn kit_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tools lives inside the kit").to_path_buf()
}

/// The target directory every scratch build shares (`target/scratch` of the
/// kit, or `SCRATCH_TARGET_DIR`).
pub fn shared_target_dir() -> PathBuf {
    std::env::var_os("SCRATCH_TARGET_DIR").map_or_else(|| kit_root().join("target").join("scratch"), PathBuf::from)
}

/// Where the scratch copies live: `target/scratch-kits` of the kit, or
/// `SCRATCH_KITS_DIR`. Not inside the target directory the copies build in:
/// cargo records a source file under its target directory relative to that
/// directory, so two copies inside it would name the same crate's sources
/// `kits/<label>/raft/src/...` and a copy's build could pass for fresh by
/// looking at another copy's files. Outside it, the sources are recorded
/// relative to each crate, and a build checks the copy it builds.
pub fn kits_dir() -> PathBuf {
    std::env::var_os("SCRATCH_KITS_DIR").map_or_else(|| kit_root().join("target").join("scratch-kits"), PathBuf::from)
}

/// A scratch copy of the kit.
#[derive(Debug)]
pub struct Kit {
    root: PathBuf,
}

/// A built test executable and what the compiler warned about.
#[derive(Debug)]
pub struct Build {
    pub exe: PathBuf,
    /// Rendered compiler warnings, with the package they are about.
    pub warnings: Vec<(String, String)>,
}

/// One test run.
#[derive(Debug)]
pub struct TestRun {
    /// Exit code; `None` if a signal ended it (or it was killed at the limit).
    pub code: Option<i32>,
    /// stdout and stderr, interleaved as written.
    pub output: String,
    pub elapsed: Duration,
    /// Killed at the time limit of [`run_test`].
    pub timed_out: bool,
}

/// Makes `to` a copy of `from` (minus the skipped names). A file whose
/// bytes are already there is left alone, keeping its modification time, so
/// cargo sees it unchanged since the last build at this path; any other is
/// written anew (its time is now, so cargo rebuilds it, even when the new
/// content's own time is older, as a student's file may be). Entries of
/// `to` that `from` lacks are removed.
fn copy_tree(from: &Path, to: &Path, top: bool) -> Result<(), String> {
    fs::create_dir_all(to).map_err(|e| format!("cannot create {}: {e}", to.display()))?;
    let entries = fs::read_dir(from).map_err(|e| format!("cannot read {}: {e}", from.display()))?;
    let mut kept = std::collections::HashSet::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", from.display()))?;
        let name = entry.file_name();
        let name_s = name.to_string_lossy();
        if SKIP_ANYWHERE.contains(&name_s.as_ref()) || (top && SKIP_AT_TOP.contains(&name_s.as_ref())) {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        let kind = entry.file_type().map_err(|e| format!("{}: {e}", src.display()))?;
        if kind.is_dir() {
            if dst.is_file() {
                fs::remove_file(&dst).map_err(|e| format!("cannot remove {}: {e}", dst.display()))?;
            }
            copy_tree(&src, &dst, false)?;
        } else if kind.is_file() {
            let bytes = fs::read(&src).map_err(|e| format!("cannot read {}: {e}", src.display()))?;
            if dst.is_dir() {
                fs::remove_dir_all(&dst).map_err(|e| format!("cannot remove {}: {e}", dst.display()))?;
            }
            if fs::read(&dst).ok().as_ref() != Some(&bytes) {
                fs::write(&dst, &bytes).map_err(|e| format!("cannot write {}: {e}", dst.display()))?;
            }
        } else {
            continue;
        }
        kept.insert(name);
    }
    for entry in fs::read_dir(to).map_err(|e| format!("cannot read {}: {e}", to.display()))?.flatten() {
        if !kept.contains(&entry.file_name()) {
            let p = entry.path();
            let r = if p.is_dir() { fs::remove_dir_all(&p) } else { fs::remove_file(&p) };
            r.map_err(|e| format!("cannot remove {}: {e}", p.display()))?;
        }
    }
    Ok(())
}

impl Kit {
    /// Copies the kit at `src` to `<kits_dir()>/<label>` (replacing an
    /// earlier copy of that label).
    ///
    /// # Errors
    /// `src` is not a kit (no `Cargo.toml` with a `tester` member), or a
    /// file cannot be copied.
    pub fn copy_of(src: &Path, label: &str) -> Result<Kit, String> {
        let manifest = fs::read_to_string(src.join("Cargo.toml"))
            .map_err(|e| format!("{} is not the kit's root: {e}", src.display()))?;
        if !manifest.contains("[workspace]") || !src.join("tester").is_dir() {
            return Err(format!("{} is not the kit's root (no workspace with a tester crate)", src.display()));
        }
        if label.is_empty() || label.contains(['/', '\\']) || label.starts_with('.') {
            return Err(format!("bad scratch label {label:?}: a plain folder name is needed"));
        }
        let root = kits_dir().join(label);
        Kit::copy_to(src, &root)
    }

    /// Makes `root` a copy of the kit at `src` (see the module docs: files
    /// already there with the same bytes keep their time).
    ///
    /// # Errors
    /// A file that cannot be copied.
    pub fn copy_to(src: &Path, root: &Path) -> Result<Kit, String> {
        copy_tree(src, root, true)?;
        Ok(Kit { root: root.to_path_buf() })
    }

    /// A kit already on disk at `root` (a handout written elsewhere), to
    /// build in the shared target directory like a copy.
    pub fn open(root: &Path) -> Kit {
        Kit { root: root.to_path_buf() }
    }

    /// The copy's root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Plants a bug.
    ///
    /// # Errors
    /// See [`Plant::apply`].
    pub fn plant(&self, plant: &Plant) -> Result<(), String> {
        plant.apply(&self.root)
    }

    /// Puts the crate at `from` (a folder with `Cargo.toml` and `src/`) in
    /// place of the kit's crate `name`, e.g. a student's `raft`.
    ///
    /// # Errors
    /// `from` is not a crate, or the kit has no crate `name`.
    pub fn replace_crate(&self, name: &str, from: &Path) -> Result<(), String> {
        if !from.join("Cargo.toml").is_file() || !from.join("src").is_dir() {
            return Err(format!("{} is not a crate (no Cargo.toml and src/)", from.display()));
        }
        let dest = self.root.join(name);
        if !dest.join("Cargo.toml").is_file() {
            return Err(format!("the kit has no crate {name} to replace"));
        }
        copy_tree(from, &dest, false)
    }

    /// Builds test target `test_target` of `package` (debug profile, no
    /// network: every dependency is in Cargo.lock and the local registry)
    /// into `target_dir`.
    ///
    /// # Errors
    /// The build fails (the error carries the compiler's messages) or makes
    /// no such test executable.
    pub fn build_tests(&self, package: &str, test_target: &str, target_dir: &Path) -> Result<Build, String> {
        self.build_tests_in(package, test_target, target_dir, false)
    }

    /// [`Kit::build_tests`], in the release profile when `release` (the
    /// profile the course's timing, `dstest` and the grader use; the Raft's
    /// debug-only invariant checks are off, as in a student's build).
    ///
    /// # Errors
    /// See [`Kit::build_tests`].
    pub fn build_tests_in(
        &self,
        package: &str,
        test_target: &str,
        target_dir: &Path,
        release: bool,
    ) -> Result<Build, String> {
        let mut b = self.build(package, &[test_target], target_dir, release)?;
        Ok(Build { exe: b.exes.remove(0), warnings: b.warnings })
    }

    /// Builds test targets `targets` of `package` in one cargo run (release
    /// profile with `release`, else debug; no network) into `target_dir`.
    ///
    /// # Errors
    /// The build fails (the error carries the compiler's messages) or makes
    /// no executable for one of the targets.
    pub fn build(&self, package: &str, targets: &[&str], target_dir: &Path, release: bool) -> Result<Builds, String> {
        self.claim(target_dir)?;
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut c = Command::new(cargo);
        c.args(["test", "--offline", "--no-run", "--message-format=json"]);
        if release {
            c.arg("--release");
        }
        c.args(["-p", package]);
        for t in targets {
            c.args(["--test", t]);
        }
        let out = c
            .arg("--manifest-path")
            .arg(self.root.join("Cargo.toml"))
            .env("CARGO_TARGET_DIR", target_dir)
            .env_remove("RUSTFLAGS")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let messages: Vec<serde_json::Value> = stdout.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
        let rendered = |level: &str| -> Vec<(String, String)> {
            messages
                .iter()
                .filter(|m| m["reason"] == "compiler-message" && m["message"]["level"] == level)
                .map(|m| {
                    let pkg = m["package_id"].as_str().unwrap_or("?").to_string();
                    (pkg, m["message"]["rendered"].as_str().unwrap_or("").to_string())
                })
                .collect()
        };
        if !out.status.success() {
            // Some crates may have been built from this copy and others not:
            // the next claim must not take any file as built.
            let _ = fs::remove_file(target_dir.join(LAST_BUILD));
            let errors: Vec<String> = rendered("error").into_iter().map(|(_, r)| r).collect();
            return Err(format!(
                "building {package}/{} in {} failed ({}):\n{}{}",
                targets.join(","),
                self.root.display(),
                out.status,
                errors.join("\n"),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let exes = targets
            .iter()
            .map(|t| {
                crate::runner::find_executable(&stdout, t)
                    .map(|(exe, _)| exe)
                    .ok_or_else(|| format!("cargo built no test executable {t} in {package}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Builds { exes, warnings: rendered("warning") })
    }
}

/// Built test executables (in the order asked) and what the compiler
/// warned about.
#[derive(Debug)]
pub struct Builds {
    pub exes: Vec<PathBuf>,
    /// Rendered compiler warnings, with the package they are about.
    pub warnings: Vec<(String, String)>,
}

impl Kit {
    /// Cargo names a workspace crate's build by its path inside the
    /// workspace, so two copies of the kit share `raft`'s (and the others')
    /// build in one target directory, and a file that kept an old time in
    /// one copy may look unchanged since the other copy's build. So the
    /// target directory records what the last build there was made from (a
    /// hash of each file), and every file of this copy whose bytes differ
    /// from that, or that was not there, gets the time now, and every other
    /// file an old time ([`UNCHANGED_TIME`]: a fresh copy's files are new,
    /// and would look changed): cargo rebuilds the crates that differ (a
    /// planted `raft`, and what depends on it) and keeps the others' builds
    /// (`labrpc`, `porcupine`, ...).
    ///
    /// # Errors
    /// A file that cannot be read or touched, or the record cannot be
    /// written.
    pub fn claim(&self, target_dir: &Path) -> Result<(), String> {
        let record = target_dir.join(LAST_BUILD);
        let last: std::collections::HashMap<String, String> = fs::read_to_string(&record)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_once(' ').map(|(h, p)| (p.to_string(), h.to_string())))
            .collect();
        let mut files = Vec::new();
        list_files(&self.root, &self.root, &mut files)?;
        let now = std::time::SystemTime::now();
        let mut lines = String::new();
        for rel in files {
            let p = self.root.join(&rel);
            let bytes = fs::read(&p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
            let hash = format!("{:016x}", fnv1a(&bytes));
            let time = if last.get(&rel) == Some(&hash) { UNCHANGED_TIME } else { now };
            fs::File::options()
                .write(true)
                .open(&p)
                .and_then(|f| f.set_modified(time))
                .map_err(|e| format!("cannot touch {}: {e}", p.display()))?;
            lines += &format!("{hash} {rel}\n");
        }
        fs::create_dir_all(target_dir).map_err(|e| format!("{}: {e}", target_dir.display()))?;
        fs::write(&record, lines).map_err(|e| format!("{}: {e}", record.display()))
    }
}

/// The record, in a target directory, of what its last build was made from
/// (`<hash> <path>` lines); removed when a build fails.
const LAST_BUILD: &str = "scratch-last-build";

/// The time [`Kit::claim`] gives a file the last build in the target
/// directory was made from, byte for byte: older than any build.
pub const UNCHANGED_TIME: std::time::SystemTime = std::time::SystemTime::UNIX_EPOCH;

/// The 64-bit FNV-1a hash of `bytes` (stable from build to build, unlike
/// std's hasher).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// The files under `dir` (build output and version control skipped), as
/// paths relative to `root`.
fn list_files(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<(), String> {
    for entry in fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?.flatten() {
        let p = entry.path();
        if SKIP_ANYWHERE.contains(&entry.file_name().to_string_lossy().as_ref()) {
            continue;
        }
        if p.is_dir() {
            list_files(root, &p, out)?;
        } else if p.is_file() {
            out.push(p.strip_prefix(root).expect("under the root").to_string_lossy().into_owned());
        }
    }
    Ok(())
}

/// Runs test `test` of `exe` alone (`--exact`, one thread, output not
/// captured) with `env` added, killing it after `limit`.
///
/// # Errors
/// The executable cannot be started, or its output cannot be read.
pub fn run_test(exe: &Path, test: &str, env: &[(&str, &str)], limit: Duration) -> Result<TestRun, String> {
    run_exe(exe, &["--exact", test, "--nocapture", "--test-threads=1"], env, limit)
}

/// Runs `exe` with `args` (e.g. a whole suite: `--nocapture
/// --test-threads=1`) and `env` added, killing it after `limit`.
///
/// # Errors
/// The executable cannot be started, or its output cannot be read.
pub fn run_exe(exe: &Path, args: &[&str], env: &[(&str, &str)], limit: Duration) -> Result<TestRun, String> {
    static RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let log = std::env::temp_dir().join(format!("scratch-run-{}-{n}.log", std::process::id()));
    let file = fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
    let file2 = file.try_clone().map_err(|e| e.to_string())?;
    let t0 = Instant::now();
    let mut child = Command::new(exe)
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(file2)
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
    let mut timed_out = false;
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break s;
        }
        if t0.elapsed() > limit {
            timed_out = true;
            let _ = child.kill();
            break child.wait().map_err(|e| e.to_string())?;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = String::from_utf8_lossy(&fs::read(&log).map_err(|e| e.to_string())?).into_owned();
    let _ = fs::remove_file(&log);
    Ok(TestRun { code: status.code(), output, elapsed: t0.elapsed(), timed_out })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_skips_build_output_and_git_and_rewrites_only_what_changed() {
        let base = std::env::temp_dir().join(format!("scratch-copy-test-{}", std::process::id()));
        let src = base.join("src");
        for d in ["tester/src", "target/debug", ".git", "raft/target", "grade-results"] {
            fs::create_dir_all(src.join(d)).unwrap();
        }
        fs::write(src.join("Cargo.toml"), "[workspace]\n").unwrap();
        fs::write(src.join("tester/src/lib.rs"), "// lib\n").unwrap();
        fs::write(src.join("target/debug/big"), "x").unwrap();
        let kit = Kit::copy_to(&src, &base.join("copy")).unwrap();
        let r = kit.root();
        let lib = r.join("tester/src/lib.rs");
        assert_eq!(fs::read_to_string(&lib).unwrap(), "// lib\n");
        // Unchanged bytes keep the copy's time; changed ones get a new time
        // even if the source's is older; files gone from the source go.
        let old = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_600_000_000);
        fs::File::options().write(true).open(&lib).unwrap().set_modified(old).unwrap();
        fs::write(r.join("stray.rs"), "x").unwrap();
        Kit::copy_to(&src, r).unwrap();
        assert_eq!(fs::metadata(&lib).unwrap().modified().unwrap(), old);
        assert!(!r.join("stray.rs").exists());
        fs::write(src.join("tester/src/lib.rs"), "// changed\n").unwrap();
        fs::File::options().write(true).open(src.join("tester/src/lib.rs")).unwrap().set_modified(old).unwrap();
        Kit::copy_to(&src, r).unwrap();
        assert_eq!(fs::read_to_string(&lib).unwrap(), "// changed\n");
        assert!(fs::metadata(&lib).unwrap().modified().unwrap() > old);
        for gone in ["target", ".git", "raft/target", "grade-results"] {
            assert!(!r.join(gone).exists(), "{gone} was copied");
        }
        assert!(kit.replace_crate("raft", &src.join("nothing")).unwrap_err().contains("is not a crate"));
        fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn a_build_touches_what_differs_from_the_last_build() {
        let base = std::env::temp_dir().join(format!("scratch-claim-test-{}", std::process::id()));
        let old = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_600_000_000);
        let set_old = |f: &Path| fs::File::options().write(true).open(f).unwrap().set_modified(old).unwrap();
        let kits: Vec<Kit> = ["a", "b"]
            .iter()
            .map(|k| {
                fs::create_dir_all(base.join(k).join("src")).unwrap();
                fs::create_dir_all(base.join(k).join("dep")).unwrap();
                for (f, text) in [("src/lib.rs", format!("// {k}\n")), ("dep/lib.rs", "// same\n".to_string())] {
                    fs::write(base.join(k).join(f), text).unwrap();
                    set_old(&base.join(k).join(f));
                }
                Kit { root: base.join(k) }
            })
            .collect();
        let target = base.join("target");
        let time = |k: &Kit, f: &str| fs::metadata(k.root.join(f)).unwrap().modified().unwrap();
        kits[0].claim(&target).unwrap();
        assert!(time(&kits[0], "src/lib.rs") > old, "the first build in a target dir touches its copy");
        assert!(time(&kits[0], "dep/lib.rs") > old, "the first build in a target dir touches its copy");
        set_old(&kits[0].root.join("src/lib.rs"));
        kits[0].claim(&target).unwrap();
        assert_eq!(
            time(&kits[0], "src/lib.rs"),
            UNCHANGED_TIME,
            "the same copy again, unchanged: older than the build"
        );
        kits[1].claim(&target).unwrap();
        assert!(time(&kits[1], "src/lib.rs") > old, "another copy: what differs is new");
        assert_eq!(time(&kits[1], "dep/lib.rs"), UNCHANGED_TIME, "another copy: what is the same is old");
        fs::write(kits[1].root.join("new.rs"), "x").unwrap();
        set_old(&kits[1].root.join("new.rs"));
        set_old(&kits[1].root.join("src/lib.rs"));
        kits[1].claim(&target).unwrap();
        assert!(time(&kits[1], "new.rs") > old, "a file the last build did not have is new");
        assert_eq!(time(&kits[1], "src/lib.rs"), UNCHANGED_TIME);
        kits[0].claim(&target).unwrap();
        assert!(time(&kits[0], "src/lib.rs") > old, "back to the first copy: its own file is new");
        fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn only_a_kit_is_copied() {
        let e = Kit::copy_of(Path::new("/nonexistent-kit"), "x").unwrap_err();
        assert!(e.contains("is not the kit's root"), "{e}");
        assert!(Kit::copy_of(&kit_root(), "../escape").unwrap_err().contains("bad scratch label"));
    }
}
