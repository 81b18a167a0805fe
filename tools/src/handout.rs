//! The student handout: a standalone copy of the kit in which the student
//! skeletons (`skeleton/raft`, `skeleton/kvraft`) take the place of the
//! solutions, with the student README and Makefile (`skeleton/README.md`,
//! `skeleton/Makefile`) as its own. The kit's checks of its own solution
//! (the planted bugs, the kit's CI, the checks of the handout and the
//! grader) stay out.
//!
//! No line of the solutions may be in it: [`solution_lines_in`] looks for
//! every distinctive line of `raft/src` and `kvraft/src` in every file of
//! the handout, and [`write()`] refuses a handout that has one.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// The solution crates, replaced by the skeletons of the same names.
pub const SOLUTION_CRATES: [&str; 2] = ["raft", "kvraft"];

/// Paths (from the kit's root) the handout leaves out: build output and
/// version control anywhere, the tools' output folders, and the kit's own
/// checks of its solution.
const LEFT_OUT: [&str; 11] = [
    ".git",
    ".ci",
    "skeleton",
    "stress-failures",
    "grade-results",
    "bench-results",
    "tools/plants",
    "tools/tests/scratch_kits.rs",
    "tools/tests/kits.rs",
    // The tester's tests of its own failure modes drive a working Raft.
    "tester/tests/failures.rs",
    "README.md",
];

/// What [`write()`] made.
#[derive(Debug)]
pub struct Handout {
    pub root: PathBuf,
    /// Files written.
    pub files: usize,
}

fn left_out(rel: &Path) -> bool {
    if rel.components().any(|c| c.as_os_str() == "target" || c.as_os_str() == ".git") {
        return true;
    }
    let top = rel.components().next().map(|c| c.as_os_str().to_string_lossy().into_owned()).unwrap_or_default();
    if SOLUTION_CRATES.contains(&top.as_str()) {
        return true;
    }
    LEFT_OUT.iter().any(|p| rel == Path::new(p)) || rel == Path::new("Makefile")
}

/// Copies `from` to `to` (both folders), skipping what `skip` says for a
/// path relative to `base`. Returns the number of files.
fn copy_dir(from: &Path, to: &Path, base: &Path, skip: &dyn Fn(&Path) -> bool) -> Result<usize, String> {
    fs::create_dir_all(to).map_err(|e| format!("cannot create {}: {e}", to.display()))?;
    let mut n = 0;
    let mut entries: Vec<_> =
        fs::read_dir(from).map_err(|e| format!("cannot read {}: {e}", from.display()))?.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let src = entry.path();
        let rel = src.strip_prefix(base).unwrap_or(&src);
        if skip(rel) {
            continue;
        }
        let dst = to.join(entry.file_name());
        let kind = entry.file_type().map_err(|e| format!("{}: {e}", src.display()))?;
        if kind.is_dir() {
            n += copy_dir(&src, &dst, base, skip)?;
        } else if kind.is_file() {
            fs::copy(&src, &dst).map_err(|e| format!("cannot copy {}: {e}", src.display()))?;
            n += 1;
        }
    }
    Ok(n)
}

/// The handout's Cargo.toml: the kit's, without its mention of the
/// skeleton folder (which the handout does not have).
pub fn handout_manifest(kit_manifest: &str) -> String {
    let mut out = String::new();
    for line in kit_manifest.lines() {
        if line.contains("skeleton") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Writes the handout of the kit at `kit` to `dest`, which must not exist
/// or be empty.
///
/// # Errors
/// `dest` is not empty, the kit lacks a skeleton, a file cannot be copied,
/// or the result holds a line of the solutions (then `dest` is removed).
pub fn write(kit: &Path, dest: &Path) -> Result<Handout, String> {
    let skeleton = kit.join("skeleton");
    for need in ["raft/Cargo.toml", "kvraft/Cargo.toml", "README.md", "Makefile"] {
        if !skeleton.join(need).is_file() {
            return Err(format!("{} is not the kit: it has no skeleton/{need}", kit.display()));
        }
    }
    if dest.exists() && fs::read_dir(dest).map(|mut d| d.next().is_some()).unwrap_or(true) {
        return Err(format!("{} exists and is not empty: give a new folder", dest.display()));
    }
    let mut files = copy_dir(kit, dest, kit, &left_out)?;
    for c in SOLUTION_CRATES {
        files += copy_dir(&skeleton.join(c), &dest.join(c), &skeleton.join(c), &|rel| left_out(rel))?;
    }
    for (from, to) in [("README.md", "README.md"), ("Makefile", "Makefile")] {
        fs::copy(skeleton.join(from), dest.join(to)).map_err(|e| format!("cannot copy skeleton/{from}: {e}"))?;
        files += 1;
    }
    let manifest = fs::read_to_string(kit.join("Cargo.toml")).map_err(|e| format!("Cargo.toml: {e}"))?;
    fs::write(dest.join("Cargo.toml"), handout_manifest(&manifest)).map_err(|e| format!("Cargo.toml: {e}"))?;
    let found = solution_lines_in(dest, kit)?;
    if !found.is_empty() {
        let _ = fs::remove_dir_all(dest);
        let list: Vec<String> = found.iter().take(10).map(|(f, n, l)| format!("  {}:{n}: {l}", f.display())).collect();
        return Err(format!(
            "the handout would hold {} line(s) of the solutions; not written:\n{}",
            found.len(),
            list.join("\n")
        ));
    }
    Ok(Handout { root: dest.to_path_buf(), files })
}

/// Whether a trimmed line of a solution is distinctive: code of at least 30
/// characters that is not a declaration (signatures, `use`, attributes:
/// the API a skeleton must share), or a comment of at least 50.
pub fn is_distinctive(line: &str) -> bool {
    if line.starts_with("//") || line.starts_with("/*") || line.starts_with('*') {
        return line.len() >= 50;
    }
    if line.len() < 30 || line.starts_with("#[") || line.starts_with(") ->") {
        return false;
    }
    let decl = line.strip_prefix("pub(crate) ").or_else(|| line.strip_prefix("pub ")).unwrap_or(line);
    let first = decl.split(|c: char| !c.is_ascii_alphanumeric() && c != '_').next().unwrap_or("");
    !["fn", "struct", "enum", "use", "impl", "mod", "type", "const", "static", "trait"].contains(&first)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.file_name().is_some_and(|n| n == "target" || n == ".git") {
            continue;
        }
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn all_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.file_name().is_some_and(|n| n == "target" || n == ".git") {
            continue;
        }
        if p.is_dir() {
            all_files(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// The distinctive lines ([`is_distinctive`]) of the kit's solutions
/// (`raft/src`, `kvraft/src`), each with where it is, minus the lines the
/// rest of the kit shares (a handout copies those anyway: the tester's and
/// labrpc's code, the tools).
pub fn distinctive_solution_lines(kit: &Path) -> BTreeMap<String, String> {
    let mut shared = std::collections::HashSet::new();
    let mut kit_files = Vec::new();
    for entry in fs::read_dir(kit).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let skip = SOLUTION_CRATES.contains(&name.as_str()) || ["skeleton", "target"].contains(&name.as_str());
        if entry.path().is_dir() && !skip && !name.starts_with('.') {
            rust_files(&entry.path(), &mut kit_files);
        }
    }
    for f in kit_files {
        if let Ok(text) = fs::read_to_string(&f) {
            shared.extend(text.lines().map(|l| l.trim().to_string()));
        }
    }
    let mut lines = BTreeMap::new();
    for c in SOLUTION_CRATES {
        let mut files = Vec::new();
        rust_files(&kit.join(c).join("src"), &mut files);
        for f in files {
            let Ok(text) = fs::read_to_string(&f) else { continue };
            for (i, l) in text.lines().enumerate() {
                let t = l.trim();
                if is_distinctive(t) && !shared.contains(t) {
                    let rel = f.strip_prefix(kit).unwrap_or(&f).display().to_string();
                    lines.entry(t.to_string()).or_insert(format!("{rel}:{}", i + 1));
                }
            }
        }
    }
    lines
}

/// Every line of a file under `dir` that is a distinctive line of the
/// solutions of the kit at `kit`: (file, line number, the line).
///
/// # Errors
/// The kit has no solution lines to look for (not the kit).
pub fn solution_lines_in(dir: &Path, kit: &Path) -> Result<Vec<(PathBuf, usize, String)>, String> {
    let solution = distinctive_solution_lines(kit);
    if solution.is_empty() {
        return Err(format!("{} has no solutions to look for ({} lines)", kit.display(), solution.len()));
    }
    let mut files = Vec::new();
    all_files(dir, &mut files);
    let mut found = Vec::new();
    for f in files {
        let Ok(text) = fs::read_to_string(&f) else { continue }; // not text
        for (i, l) in text.lines().enumerate() {
            if solution.contains_key(l.trim()) {
                found.push((f.clone(), i + 1, l.trim().to_string()));
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinctive_lines_are_code_not_the_api() {
        assert!(is_distinctive("let (index, term, is_leader) = self.rf.start(&op);"));
        assert!(!is_distinctive("pub fn start<C: Serialize + ?Sized>(&self, command: &C) -> (u64, u64, bool) {"));
        assert!(!is_distinctive("pub(crate) struct SomethingLongEnoughToCount {"));
        assert!(!is_distinctive("use crossbeam::channel::{self, Receiver, Sender};"));
        assert!(!is_distinctive("#[derive(Clone, Debug, PartialEq, Eq, Serialize)]"));
        assert!(!is_distinctive("x += 1;"));
        assert!(!is_distinctive("/// The term of that entry."));
        assert!(is_distinctive("/// A leader that has had no reply from a majority for 300 ms steps down."));
    }

    #[test]
    fn the_manifest_loses_its_skeleton_lines() {
        let kit = "[workspace]\nmembers = [\"raft\"]\n# The start of the student skeleton\nexclude = [\"skeleton\"]\n\n[profile.release]\n";
        assert_eq!(handout_manifest(kit), "[workspace]\nmembers = [\"raft\"]\n\n[profile.release]\n");
    }

    fn write(path: &Path, text: &str) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    #[test]
    fn the_solution_lines_are_found_wherever_they_are() {
        // A kit whose solution has two distinctive lines, one of which the
        // rest of the kit shares.
        let base = std::env::temp_dir().join(format!("handout-grep-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        let (kit, dir) = (base.join("kit"), base.join("handout"));
        let secret = "let quorum = self.match_index.iter().filter(|&&m| m >= n).count();";
        let shared = "let (tx, rx) = crossbeam::channel::bounded(0); // a rendezvous";
        write(&kit.join("raft/src/node.rs"), &format!("fn f() {{\n    {secret}\n    {shared}\n}}\n"));
        write(&kit.join("kvraft/src/lib.rs"), "pub fn a_signature_that_is_long_enough(x: u64) -> u64 {\n    x\n}\n");
        write(&kit.join("labrpc/src/lib.rs"), &format!("fn g() {{\n    {shared}\n}}\n"));
        write(&kit.join("target/debug/copy/raft/src/node.rs"), &format!("    {secret}\n"));
        let lines = distinctive_solution_lines(&kit);
        assert_eq!(lines.keys().collect::<Vec<_>>(), [secret], "the shared line and the signature are not distinctive");
        assert_eq!(lines[secret], "raft/src/node.rs:2");
        // A handout with the line, indented otherwise, among others.
        write(&dir.join("raft/src/lib.rs"), &format!("fn f() {{\n    // mine\n        {secret}\n    {shared}\n}}\n"));
        write(&dir.join("README.md"), "nothing here\n");
        let found = solution_lines_in(&dir, &kit).unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!((found[0].0.ends_with("raft/src/lib.rs"), found[0].1), (true, 3));
        fs::remove_file(dir.join("raft/src/lib.rs")).unwrap();
        assert_eq!(solution_lines_in(&dir, &kit).unwrap(), []);
        assert!(solution_lines_in(&dir, &dir).unwrap_err().contains("no solutions to look for"));
        let _ = fs::remove_dir_all(&base);
    }

    #[test]
    fn what_stays_out() {
        for p in
            [".git", "target", "raft/src/lib.rs", "kvraft", "skeleton", ".ci", "tools/plants", "Makefile", "README.md"]
        {
            assert!(left_out(Path::new(p)), "{p}");
        }
        for p in ["tester/src/lib.rs", "labrpc", "tools/src/bin/grade.rs", "racecheck", "Cargo.lock", "raft_notes.md"] {
            assert!(!left_out(Path::new(p)), "{p}");
        }
    }
}
