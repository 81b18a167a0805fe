//! Building the test executables the selected tests need (Lab 3's
//! `raft_test`, Lab 4's `kvraft_test`) and listing their tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::cli::Args;
use super::select::parse_test_list;
use crate::labs;
use crate::runner::{self, Profile};

/// A test executable and the tests it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suite {
    pub exe: PathBuf,
    pub tests: Vec<String>,
}

/// The build profile `args` ask for, with a note for the user when a race
/// build goes without ThreadSanitizer.
pub fn profile(args: &Args) -> (Profile, Option<String>) {
    if !args.race {
        return (Profile::Release, None);
    }
    match runner::tsan_available() {
        Ok(()) => (Profile::Race { tsan: true }, None),
        Err(why) => (Profile::Race { tsan: false }, Some(format!("dstest: ThreadSanitizer is off: {why}"))),
    }
}

/// The test targets to build for `args`: `--test-target`, or the labs the
/// selectors need. A selector naming a lab the kit has no tests for is an
/// error; `all` and substrings take the labs the kit has.
pub fn targets_for(args: &Args, available: &[&'static labs::Lab]) -> Result<Vec<String>, String> {
    if let Some(t) = &args.test_target {
        return Ok(vec![t.clone()]);
    }
    let selectors = args.tests.iter().map(|t| labs::classify(t)).collect::<Result<Vec<_>, _>>()?;
    let needed =
        if selectors.is_empty() { labs::default_labs(available) } else { labs::labs_for(&selectors, available) };
    if let Some(missing) = needed.iter().find(|l| !available.contains(l)) {
        return Err(labs::missing_lab(missing));
    }
    if needed.is_empty() {
        return Err("this kit has no lab tests (no raft_test or kvraft_test target in package tester)".into());
    }
    Ok(needed.iter().map(|l| l.target.to_string()).collect())
}

/// Builds what `args` need (one cargo run) and lists every executable's
/// tests; `--exe` is used as it is.
pub fn prepare(args: &Args) -> Result<Vec<Suite>, String> {
    if let Some(exe) = &args.exe {
        return Ok(vec![Suite { exe: exe.clone(), tests: list_tests(exe)? }]);
    }
    let available = match &args.test_target {
        Some(_) => Vec::new(),
        None => labs::available_labs(args.manifest_path.as_deref())?,
    };
    let targets = targets_for(args, &available)?;
    let (profile, note) = profile(args);
    if let Some(note) = note {
        eprintln!("{note}");
    }
    let names: Vec<&str> = targets.iter().map(String::as_str).collect();
    let exes = runner::build_targets(args.manifest_path.as_deref(), &args.package, &names, profile)?;
    exes.into_iter().map(|e| Ok(Suite { tests: list_tests(&e.path)?, exe: e.path })).collect()
}

/// Test names of the binary `exe` (`<exe> --list --format terse`).
pub fn list_tests(exe: &Path) -> Result<Vec<String>, String> {
    let out = Command::new(exe)
        .args(["--list", "--format", "terse"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} --list failed ({}): {}",
            exe.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(parse_test_list(&String::from_utf8_lossy(&out.stdout)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn args(a: &[&str]) -> Args {
        Args::try_parse_from(std::iter::once("dstest").chain(a.iter().copied())).unwrap()
    }

    #[test]
    fn targets_follow_the_selectors() {
        let both = [&labs::LAB3, &labs::LAB4];
        assert_eq!(targets_for(&args(&["3A", "3C"]), &both).unwrap(), ["raft_test"]);
        assert_eq!(targets_for(&args(&["4A"]), &both).unwrap(), ["kvraft_test"]);
        assert_eq!(targets_for(&args(&["lab3", "snapshot_size_4b"]), &both).unwrap(), ["raft_test", "kvraft_test"]);
        assert_eq!(targets_for(&args(&["all"]), &both).unwrap(), ["raft_test", "kvraft_test"]);
        assert_eq!(targets_for(&args(&["all"]), &[&labs::LAB3]).unwrap(), ["raft_test"]);
        assert_eq!(targets_for(&args(&["--test-target", "x", "4A"]), &[]).unwrap(), ["x"]);
        let e = targets_for(&args(&["4B"]), &[&labs::LAB3]).unwrap_err();
        assert!(e.contains("no Lab 4 (kvraft) tests") && e.contains("kvraft_test"), "{e}");
        let e = targets_for(&args(&["3E"]), &both).unwrap_err();
        assert!(e.contains("unknown part `3E`"), "{e}");
    }

    #[test]
    fn race_profile() {
        assert_eq!(profile(&args(&["3A"])).0, Profile::Release);
        assert!(matches!(profile(&args(&["-r", "3A"])).0, Profile::Race { .. }));
    }
}
