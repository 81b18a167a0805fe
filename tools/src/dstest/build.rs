//! Building the test binary with cargo and listing its tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::cli::Args;
use super::select::parse_test_list;

/// Arguments of the cargo command building the test binary.
pub fn cargo_build_args(args: &Args) -> Vec<String> {
    let mut v: Vec<String> = vec!["test".into(), "--release".into()];
    if let Some(m) = &args.manifest_path {
        v.push("--manifest-path".into());
        v.push(m.display().to_string());
    }
    v.extend([
        "-p".into(),
        args.package.clone(),
        "--test".into(),
        args.test_target.clone(),
        "--no-run".into(),
        "--message-format=json-render-diagnostics".into(),
    ]);
    v
}

/// The `executable` of the last `compiler-artifact` message for the test
/// target `target` in cargo's JSON messages (one per line).
pub fn find_executable(messages: &str, target: &str) -> Option<PathBuf> {
    messages
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"].as_str() == Some(target))
        .filter_map(|m| m["executable"].as_str().map(PathBuf::from))
        .next_back()
}

/// Builds the test binary (cargo's diagnostics go to our stderr) and
/// returns its path.
pub fn build_test_binary(args: &Args) -> Result<PathBuf, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let cargo_args = cargo_build_args(args);
    eprintln!("dstest: {cargo} {}", cargo_args.join(" "));
    let out = Command::new(&cargo)
        .args(&cargo_args)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run {cargo}: {e}"))?;
    if !out.status.success() {
        return Err(format!("building the tests failed ({})", out.status));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    find_executable(&stdout, &args.test_target).ok_or_else(|| {
        format!("cargo built no test executable named `{}` in package `{}`", args.test_target, args.package)
    })
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

    #[test]
    fn finds_executable() {
        let msgs = r#"{"reason":"compiler-artifact","target":{"name":"labrpc","kind":["lib"]},"executable":null}
{"reason":"compiler-message","message":{}}
not json
{"reason":"compiler-artifact","target":{"name":"raft_test","kind":["test"]},"executable":"/t/release/deps/raft_test-1234"}
{"reason":"build-finished","success":true}"#;
        assert_eq!(find_executable(msgs, "raft_test"), Some(PathBuf::from("/t/release/deps/raft_test-1234")));
        assert_eq!(find_executable(msgs, "labrpc"), None);
        assert_eq!(find_executable(msgs, "kv_test"), None);
    }

    #[test]
    fn build_args() {
        let a = Args::try_parse_from(["dstest", "--manifest-path", "/x/Cargo.toml", "3A"]).unwrap();
        assert_eq!(
            cargo_build_args(&a).join(" "),
            "test --release --manifest-path /x/Cargo.toml -p tester --test raft_test \
             --no-run --message-format=json-render-diagnostics"
        );
    }
}
