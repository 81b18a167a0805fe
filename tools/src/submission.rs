//! A student's submission, and building the grader's own kit with it.
//!
//! A submission is a folder holding the student's crates: `raft/` (and
//! `kvraft/` for Lab 4), as in the handout; a whole copy of the student's
//! kit is fine, and so is a folder that is itself the `raft` crate. Only
//! those crates are taken: each is copied into a fresh scratch copy of the
//! grader's kit ([`crate::scratch`]), so whatever else the submission holds
//! (edited or deleted tests, another tester, another labrpc) plays no part.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::labs::Lab;
use crate::runner::TestExe;
use crate::scratch::Kit;

/// A submission's crates.
#[derive(Debug, Clone)]
pub struct Submission {
    /// The folder's name, as the summary shows it.
    pub name: String,
    pub path: PathBuf,
    /// Its `raft` crate.
    pub raft: PathBuf,
    /// Its `kvraft` crate, if it has one.
    pub kvraft: Option<PathBuf>,
}

/// The package name a `Cargo.toml` declares (`name = "..."` in
/// `[package]`).
pub fn package_name(manifest: &str) -> Option<String> {
    let mut in_package = false;
    for line in manifest.lines() {
        let l = line.trim();
        if l.starts_with('[') {
            in_package = l == "[package]";
            continue;
        }
        if in_package {
            if let Some(v) = l.strip_prefix("name").map(str::trim_start).and_then(|r| r.strip_prefix('=')) {
                return Some(v.trim().trim_matches('"').to_string());
            }
        }
    }
    None
}

/// The crate named `name` at `dir` (a folder with a `Cargo.toml` declaring
/// that package and a `src/`), if it is one.
fn crate_at(dir: &Path, name: &str) -> Result<Option<PathBuf>, String> {
    let manifest = dir.join("Cargo.toml");
    let Ok(text) = std::fs::read_to_string(&manifest) else { return Ok(None) };
    match package_name(&text) {
        Some(n) if n == name => {}
        Some(n) => return Err(format!("{} declares package `{n}`, not `{name}`", manifest.display())),
        None if name == "raft" && dir.join("raft").is_dir() => return Ok(None),
        None => return Ok(None),
    }
    if !dir.join("src").is_dir() {
        return Err(format!("{} has no src/ folder", dir.display()));
    }
    Ok(Some(dir.to_path_buf()))
}

impl Submission {
    /// Reads the submission at `path`.
    ///
    /// # Errors
    /// `path` is not a folder, or holds no `raft` crate (neither
    /// `path/raft/` nor `path` itself), or a crate of the wrong name.
    pub fn load(path: &Path) -> Result<Submission, String> {
        if !path.is_dir() {
            return Err(format!("submission {} does not exist or is not a folder", path.display()));
        }
        let name = std::fs::canonicalize(path)
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| path.display().to_string());
        let raft = match crate_at(&path.join("raft"), "raft")? {
            Some(r) => r,
            None => crate_at(path, "raft")?.ok_or_else(|| {
                format!(
                    "submission {} has no raft crate (raft/Cargo.toml of package `raft`, with src/; or the folder \
                     itself being that crate)",
                    path.display()
                )
            })?,
        };
        let kvraft = crate_at(&path.join("kvraft"), "kvraft")?;
        Ok(Submission { name, path: path.to_path_buf(), raft, kvraft })
    }

    /// Whether it has every crate `lab` grades.
    pub fn has_crates_for(&self, lab: &Lab) -> bool {
        lab.crates.iter().all(|c| *c != "kvraft" || self.kvraft.is_some())
    }
}

/// Builds submissions into the grader's kit, one at a time: every build
/// starts from a fresh copy of the pristine kit (one scratch copy, reused,
/// so unchanged files are not rebuilt) in the shared target directory,
/// and the executables are copied out of it before the next build.
pub struct Builder {
    kit_root: PathBuf,
    target_dir: PathBuf,
    /// The kvraft crate Lab 3's tests are built with (the skeleton, which
    /// follows the tester's contract and nothing more), so that a
    /// submission's Lab 3 grade never depends on its kvraft.
    lab3_kvraft: Option<PathBuf>,
    lock: Mutex<()>,
}

impl Builder {
    /// A builder of submissions into the kit at `kit_root`, building in
    /// `target_dir`.
    pub fn new(kit_root: &Path, target_dir: &Path) -> Builder {
        let skeleton = kit_root.join("skeleton").join("kvraft");
        Builder {
            kit_root: kit_root.to_path_buf(),
            target_dir: target_dir.to_path_buf(),
            lab3_kvraft: skeleton.join("Cargo.toml").is_file().then_some(skeleton),
            lock: Mutex::new(()),
        }
    }

    /// Builds `lab`'s tests with the submission's crates and copies the
    /// executable to `bin_dir`. Builds wait for each other.
    ///
    /// # Errors
    /// The kit cannot be copied, the submission lacks a crate the lab
    /// needs, or the build fails (the message holds the compiler's errors).
    pub fn build(&self, sub: &Submission, lab: &Lab, bin_dir: &Path) -> Result<TestExe, String> {
        let kvraft = match (lab.crates.contains(&"kvraft"), &sub.kvraft) {
            (true, Some(k)) => Some(k.clone()),
            (true, None) => {
                return Err(format!("{} has no kvraft crate ({}/kvraft/Cargo.toml)", sub.name, sub.path.display()))
            }
            (false, _) => self.lab3_kvraft.clone(),
        };
        let _turn = self.lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let kit = Kit::copy_to(&self.kit_root, &crate::scratch::kits_dir().join("grade"))?;
        kit.replace_crate("raft", &sub.raft)?;
        if let Some(k) = kvraft {
            kit.replace_crate("kvraft", &k)?;
        }
        let built = kit.build(lab.package, &[lab.target], &self.target_dir, true)?;
        std::fs::create_dir_all(bin_dir).map_err(|e| format!("{}: {e}", bin_dir.display()))?;
        let exe = bin_dir.join(lab.target);
        std::fs::copy(&built.exes[0], &exe).map_err(|e| format!("copying the test executable: {e}"))?;
        Ok(TestExe { path: exe, package_dir: Some(kit.root().join(lab.package)) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("submission-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn krate(at: &Path, name: &str) {
        std::fs::create_dir_all(at.join("src")).unwrap();
        std::fs::write(at.join("Cargo.toml"), format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\n")).unwrap();
    }

    #[test]
    fn reads_package_names() {
        assert_eq!(package_name("[package]\nname = \"raft\"\n").as_deref(), Some("raft"));
        assert_eq!(
            package_name("[workspace]\nname = \"x\"\n[package]\nversion = \"1\"\nname=\"kvraft\"\n").as_deref(),
            Some("kvraft")
        );
        assert_eq!(package_name("[workspace]\nmembers = []\n"), None);
    }

    #[test]
    fn finds_the_crates_or_says_what_is_missing() {
        let d = dir("layout");
        krate(&d.join("raft"), "raft");
        let s = Submission::load(&d).unwrap();
        assert_eq!(s.raft, d.join("raft"));
        assert!(s.kvraft.is_none());
        assert!(!s.has_crates_for(&crate::labs::LAB4) && s.has_crates_for(&crate::labs::LAB3));
        krate(&d.join("kvraft"), "kvraft");
        assert_eq!(Submission::load(&d).unwrap().kvraft, Some(d.join("kvraft")));

        let alone = dir("alone");
        krate(&alone, "raft");
        assert_eq!(Submission::load(&alone).unwrap().raft, alone);

        let empty = dir("empty");
        let e = Submission::load(&empty).unwrap_err();
        assert!(e.contains("has no raft crate") && e.contains("raft/Cargo.toml"), "{e}");
        let e = Submission::load(&empty.join("nope")).unwrap_err();
        assert!(e.contains("does not exist"), "{e}");
        let wrong = dir("wrong");
        krate(&wrong.join("raft"), "myraft");
        assert!(Submission::load(&wrong).unwrap_err().contains("declares package `myraft`, not `raft`"));
        for d in [d, alone, empty, wrong] {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}
