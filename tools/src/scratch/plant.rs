//! Planted bugs: small, exact edits of a scratch copy of the kit, kept as
//! text files (`tools/plants/<name>.plant`) so that a test can show the
//! tester catching a known-wrong Raft.
//!
//! # Format
//! ```text
//! # Lines starting with '#' before the first edit describe the bug.
//! @@ file raft/src/node.rs
//! @@ find
//!             drop(st);
//! @@ replace
//!             // PLANTED: keeps the lock.
//! @@ end
//! ```
//! Each edit's `find` text (whole lines, indentation included) must occur
//! exactly once in its file, or applying the plant fails with an error
//! naming the plant, the file and the text: a plant that no longer applies
//! to the kit must be noticed, never skipped.

use std::path::Path;

/// One exact replacement in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    /// Path relative to the kit's root.
    pub file: String,
    pub find: String,
    pub replace: String,
}

/// A planted bug: its name, what it is, and its edits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plant {
    pub name: String,
    pub description: String,
    pub edits: Vec<Edit>,
    /// The file it was loaded from (`None` if parsed from text): what to
    /// update when it no longer applies.
    pub source: Option<std::path::PathBuf>,
}

enum Section {
    Header,
    File,
    Find,
    Replace,
}

impl Plant {
    /// Parses a plant's text (see the module docs).
    ///
    /// # Errors
    /// A malformed file: the error names the plant and the line.
    pub fn parse(name: &str, text: &str) -> Result<Plant, String> {
        let err = |n: usize, what: &str| format!("plant {name}, line {}: {what}", n + 1);
        let mut description = Vec::new();
        let mut edits = Vec::new();
        let (mut file, mut find, mut replace) = (None::<String>, Vec::<&str>::new(), Vec::<&str>::new());
        let mut section = Section::Header;
        for (n, line) in text.lines().enumerate() {
            match (line.strip_prefix("@@ "), &section) {
                (Some(d), Section::Header | Section::File) if d.starts_with("file ") => {
                    if matches!(section, Section::File) {
                        return Err(err(n, "a file with no edit"));
                    }
                    file = Some(d["file ".len()..].trim().to_string());
                    section = Section::File;
                }
                (Some("find"), Section::File) => section = Section::Find,
                (Some("replace"), Section::Find) => section = Section::Replace,
                (Some("end"), Section::Replace) => {
                    let f = file.take().expect("a file precedes its find");
                    if find.is_empty() {
                        return Err(err(n, "an empty find"));
                    }
                    edits.push(Edit { file: f, find: find.join("\n"), replace: replace.join("\n") });
                    (find, replace) = (Vec::new(), Vec::new());
                    section = Section::Header;
                }
                (Some(d), _) => return Err(err(n, &format!("unexpected directive {d:?}"))),
                (None, Section::Header) if line.starts_with('#') => {
                    description.push(line.trim_start_matches('#').trim());
                }
                (None, Section::Header) if line.trim().is_empty() => {}
                (None, Section::Header | Section::File) => {
                    return Err(err(n, "text outside a find or replace block"));
                }
                (None, Section::Find) => find.push(line),
                (None, Section::Replace) => replace.push(line),
            }
        }
        if !matches!(section, Section::Header) {
            return Err(format!("plant {name}: the last edit has no '@@ end'"));
        }
        if edits.is_empty() {
            return Err(format!("plant {name}: no edits"));
        }
        Ok(Plant { name: name.to_string(), description: description.join(" "), edits, source: None })
    }

    /// Reads and parses `path`; the plant's name is the file's stem.
    ///
    /// # Errors
    /// An unreadable or malformed file.
    pub fn load(path: &Path) -> Result<Plant, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let name = path.file_stem().map_or_else(|| path.display().to_string(), |s| s.to_string_lossy().into());
        Ok(Plant { source: Some(path.to_path_buf()), ..Plant::parse(&name, &text)? })
    }

    /// Applies every edit under `root`.
    ///
    /// # Errors
    /// A file that cannot be read or written, or a `find` text that does
    /// not occur exactly once (the plant no longer fits the kit).
    pub fn apply(&self, root: &Path) -> Result<(), String> {
        for e in &self.edits {
            let text = self.fitting_text(root, e)?;
            std::fs::write(root.join(&e.file), text.replacen(&e.find, &e.replace, 1))
                .map_err(|err| format!("plant {}: cannot write {}: {err}", self.name, e.file))?;
        }
        Ok(())
    }

    /// Checks that every edit would apply under `root` (each `find` text
    /// occurs exactly once), writing nothing. Edits of one file are checked
    /// against that file as it is, so a plant whose second edit of a file
    /// depends on its first is not supported (none does).
    ///
    /// # Errors
    /// As [`Plant::apply`].
    pub fn check(&self, root: &Path) -> Result<(), String> {
        self.edits.iter().try_for_each(|e| self.fitting_text(root, e).map(drop))
    }

    /// The text of `e`'s file, if `e.find` occurs in it exactly once.
    fn fitting_text(&self, root: &Path, e: &Edit) -> Result<String, String> {
        let text = std::fs::read_to_string(root.join(&e.file))
            .map_err(|err| format!("plant {}: cannot read {}: {err}", self.name, e.file))?;
        let n = text.matches(&e.find).count();
        if n != 1 {
            let first = e.find.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
            let source =
                self.source.as_ref().map_or_else(|| format!("plant {}", self.name), |p| p.display().to_string());
            return Err(format!(
                "plant {} no longer applies: its text starting {first:?} occurs {n} times in {} \
                 (must be exactly once); update {source} to the kit's code",
                self.name, e.file
            ));
        }
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# Keeps the lock\n# while sending.\n@@ file src/a.rs\n@@ find\n    drop(st);\n    send();\n@@ replace\n    send();\n@@ end\n";

    /// Every plant of the kit still fits the kit's code: a change that
    /// breaks one fails here, in `make test`, not only in `make
    /// check-plants`' scratch builds. (A student's handout has no plants.)
    #[test]
    fn every_plant_of_the_kit_still_applies() {
        let root = crate::scratch::kit_root();
        if !root.join("tools/plants").exists() {
            eprintln!("no tools/plants here (a handout): nothing to check");
            return;
        }
        let mut checked = 0;
        for dir in ["tools/plants", "tools/plants/safety"] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_some_and(|x| x == "plant") {
                    Plant::load(&path).unwrap().check(&root).unwrap_or_else(|e| panic!("{e}"));
                    checked += 1;
                }
            }
        }
        assert!(checked >= 8, "only {checked} plants found under {}", root.display());
    }

    #[test]
    fn parses_edits_and_description() {
        let p = Plant::parse("p", TEXT).unwrap();
        assert_eq!(p.description, "Keeps the lock while sending.");
        assert_eq!(
            p.edits,
            [Edit {
                file: "src/a.rs".into(),
                find: "    drop(st);\n    send();".into(),
                replace: "    send();".into()
            }]
        );
    }

    #[test]
    fn malformed_plants_are_errors_naming_the_line() {
        let e = Plant::parse("p", "@@ file x\n@@ replace\n").unwrap_err();
        assert!(e.contains("plant p, line 2: unexpected directive \"replace\""), "{e}");
        assert!(Plant::parse("p", "@@ file x\n@@ find\na\n@@ replace\nb\n").unwrap_err().contains("no '@@ end'"));
        assert!(Plant::parse("p", "# nothing\n").unwrap_err().contains("no edits"));
        assert!(Plant::parse("p", "stray\n").unwrap_err().contains("line 1: text outside"));
    }

    #[test]
    fn applies_exactly_once_or_fails_loudly() {
        let dir = std::env::temp_dir().join(format!("plant-test-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("src")).unwrap();
        let p = Plant::parse("p", TEXT).unwrap();
        std::fs::write(dir.join("src/a.rs"), "fn f() {\n    drop(st);\n    send();\n}\n").unwrap();
        p.apply(&dir).unwrap();
        assert_eq!(std::fs::read_to_string(dir.join("src/a.rs")).unwrap(), "fn f() {\n    send();\n}\n");
        // Applied again, the text is gone: the plant no longer fits.
        let e = p.apply(&dir).unwrap_err();
        assert!(e.contains("plant p no longer applies") && e.contains("occurs 0 times in src/a.rs"), "{e}");
        std::fs::write(dir.join("src/a.rs"), "    drop(st);\n    send();\n    drop(st);\n    send();\n").unwrap();
        assert!(p.apply(&dir).unwrap_err().contains("occurs 2 times"));
        // A plant loaded from a file names that file, wherever it is.
        std::fs::create_dir_all(dir.join("plants/safety")).unwrap();
        let path = dir.join("plants/safety/p.plant");
        std::fs::write(&path, TEXT).unwrap();
        let e = Plant::load(&path).unwrap().apply(&dir).unwrap_err();
        assert!(e.contains(&format!("update {} to the kit's code", path.display())), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
