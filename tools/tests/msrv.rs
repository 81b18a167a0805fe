//! The stated minimum Rust is the real one: every crate of the workspace
//! states the same `rust-version`, and it is the newest `rust-version` of
//! the packages `Cargo.lock` builds on this platform (the code's own API use
//! is held to it by clippy's `incompatible_msrv` lint, denied in the
//! workspace's lints).

use std::process::Command;

fn version(v: &str) -> Vec<u64> {
    v.split('.').map(|x| x.parse().unwrap_or_else(|_| panic!("bad version {v:?}"))).collect()
}

fn host() -> String {
    let out = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into())).arg("-vV").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines().find_map(|l| l.strip_prefix("host: ")).expect("rustc -vV names the host").to_string()
}

#[test]
fn rust_version_is_what_the_lockfile_needs() {
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.toml");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked", "--offline", "--filter-platform", &host()])
        .args(["--manifest-path", manifest])
        .output()
        .expect("cargo metadata runs");
    assert!(out.status.success(), "cargo metadata failed: {}", String::from_utf8_lossy(&out.stderr));
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let built: Vec<&str> =
        meta["resolve"]["nodes"].as_array().unwrap().iter().filter_map(|n| n["id"].as_str()).collect();
    let members: Vec<&str> = meta["workspace_members"].as_array().unwrap().iter().filter_map(|m| m.as_str()).collect();
    let mut needed: Option<(Vec<u64>, String)> = None;
    let mut stated = Vec::new();
    for p in meta["packages"].as_array().unwrap() {
        let id = p["id"].as_str().unwrap();
        let name = format!("{} {}", p["name"].as_str().unwrap(), p["version"].as_str().unwrap());
        let rv = p["rust_version"].as_str();
        if members.contains(&id) {
            stated.push((name, rv.map(str::to_string)));
        } else if let (true, Some(rv)) = (built.contains(&id), rv) {
            if needed.as_ref().is_none_or(|(v, _)| version(rv) > *v) {
                needed = Some((version(rv), format!("{name} needs {rv}")));
            }
        }
    }
    let (needed, why) = needed.expect("some locked package states a rust-version");
    assert!(stated.len() >= 7, "every crate of the workspace: {stated:?}");
    for (name, rv) in stated {
        let rv = rv.unwrap_or_else(|| panic!("{name} states no rust-version: inherit the workspace's"));
        assert_eq!(
            version(&rv)[..2],
            needed[..2],
            "{name} states rust-version {rv}, but the lockfile needs {} ({why}): update [workspace.package] \
             rust-version and the README",
            needed.iter().map(u64::to_string).collect::<Vec<_>>().join(".")
        );
    }
}
