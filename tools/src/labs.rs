//! The labs the kit tests: which test executable holds a part's tests, the
//! pinned list of every lab's tests (in the course's order), the student
//! crates a lab grades, and the course's time limits.
//!
//! Lab 3 (Raft) is the `raft_test` target of the `tester` package, Lab 4
//! (kvraft) its `kvraft_test` target. Test names end in their part
//! (`initial_election_3a`, `basic_4a`), so a part or a test name says which
//! executable to build.

use std::path::Path;

use crate::report::Limits;

/// One lab of the course.
#[derive(Debug, PartialEq)]
pub struct Lab {
    /// `3` or `4`.
    pub number: u32,
    /// `lab3`, as selectors and limit specs name it.
    pub name: &'static str,
    /// For people: `Lab 3 (Raft)`.
    pub title: &'static str,
    /// Package and integration-test target holding the lab's tests.
    pub package: &'static str,
    pub target: &'static str,
    /// Its parts, upper case, in order.
    pub parts: &'static [&'static str],
    /// Every test of the lab, in the course's order (the order of its Go
    /// test file). The grader runs these, whatever a submission holds.
    pub tests: &'static [&'static str],
    /// The student's crates the lab's tests exercise.
    pub crates: &'static [&'static str],
    /// The course's limits for the whole lab.
    pub limits: Limits,
    /// Run only when named (`safety`), never by `all` or by default.
    pub opt_in: bool,
}

/// Lab 3: Raft. The course calls 6 minutes of real time and 1 minute of CPU
/// reasonable for the whole lab; 10 minutes is its figure with the race
/// detector on, and the kit's limit for the lab.
pub const LAB3: Lab = Lab {
    number: 3,
    name: "lab3",
    title: "Lab 3 (Raft)",
    package: "tester",
    target: "raft_test",
    parts: &["3A", "3B", "3C", "3D"],
    tests: &[
        "initial_election_3a",
        "re_election_3a",
        "many_elections_3a",
        "basic_agree_3b",
        "rpc_bytes_3b",
        "follower_failure_3b",
        "leader_failure_3b",
        "fail_agree_3b",
        "fail_no_agree_3b",
        "concurrent_starts_3b",
        "rejoin_3b",
        "backup_3b",
        "count_3b",
        "persist1_3c",
        "persist2_3c",
        "persist3_3c",
        "figure8_3c",
        "unreliable_agree_3c",
        "figure8_unreliable_3c",
        "reliable_churn_3c",
        "unreliable_churn_3c",
        "snapshot_basic_3d",
        "snapshot_install_3d",
        "snapshot_install_unreliable_3d",
        "snapshot_install_crash_3d",
        "snapshot_install_uncrash_3d",
        "snapshot_all_crash_3d",
        "snapshot_init_3d",
    ],
    crates: &["raft"],
    limits: Limits {
        per_test_s: 120.0,
        lab_wall_s: 600.0,
        reasonable_wall_s: 360.0,
        reasonable_cpu_s: 60.0,
        cpu_limit_s: None,
    },
    opt_in: false,
};

/// Lab 4: the key/value service on Raft. The course calls 400 s of real
/// time and 700 s of CPU reasonable for the whole lab; it sets no hard
/// total, and the kit's limit is Lab 3's 10 minutes (its own samples take
/// ~450 s).
pub const LAB4: Lab = Lab {
    number: 4,
    name: "lab4",
    title: "Lab 4 (kvraft)",
    package: "tester",
    target: "kvraft_test",
    parts: &["4A", "4B"],
    tests: &[
        "basic_4a",
        "speed_4a",
        "concurrent_4a",
        "unreliable_4a",
        "unreliable_one_key_4a",
        "one_partition_4a",
        "many_partitions_one_client_4a",
        "many_partitions_many_clients_4a",
        "persist_one_client_4a",
        "persist_concurrent_4a",
        "persist_concurrent_unreliable_4a",
        "persist_partition_4a",
        "persist_partition_unreliable_4a",
        "persist_partition_unreliable_linearizable_4a",
        "snapshot_rpc_4b",
        "snapshot_size_4b",
        "speed_4b",
        "snapshot_recover_4b",
        "snapshot_recover_many_clients_4b",
        "snapshot_unreliable_4b",
        "snapshot_unreliable_recover_4b",
        "snapshot_unreliable_recover_concurrent_partition_4b",
        "snapshot_unreliable_recover_concurrent_partition_linearizable_4b",
    ],
    crates: &["raft", "kvraft"],
    limits: Limits {
        per_test_s: 120.0,
        lab_wall_s: 600.0,
        reasonable_wall_s: 400.0,
        reasonable_cpu_s: 700.0,
        cpu_limit_s: None,
    },
    opt_in: false,
};

/// The safety suite (`tests/safety_test.rs`, names ending `_safety`): the
/// kit's own scenarios and monitors for the classic Raft bugs the course's
/// 28 let through. Not the course's: run only when named (`safety`), and
/// graded apart. About 25 s for its six tests.
pub const SAFETY: Lab = Lab {
    number: 3,
    name: "safety",
    title: "the safety suite",
    package: "tester",
    target: "safety_test",
    parts: &["safety"],
    tests: &[
        "figure8_commit_rule_safety",
        "election_restriction_safety",
        "persisted_vote_safety",
        "election_timer_safety",
        "stale_install_snapshot_safety",
        "snapshot_after_restart_safety",
    ],
    crates: &["raft"],
    limits: Limits {
        per_test_s: 120.0,
        lab_wall_s: 300.0,
        reasonable_wall_s: 60.0,
        reasonable_cpu_s: 10.0,
        cpu_limit_s: None,
    },
    opt_in: true,
};

/// The course's labs, in order: what `all` and the defaults run.
pub const LABS: [&Lab; 2] = [&LAB3, &LAB4];

/// Every suite the tools know, the opt-in ones included.
pub const ALL_LABS: [&Lab; 3] = [&LAB3, &LAB4, &SAFETY];

/// Every part of every lab, in order (for messages).
pub fn all_parts() -> Vec<&'static str> {
    LABS.iter().flat_map(|l| l.parts.iter().copied()).collect()
}

/// The lab a part (`3A`, `4b`, `safety`) belongs to.
pub fn lab_of_part(part: &str) -> Option<&'static Lab> {
    ALL_LABS.into_iter().find(|l| l.parts.iter().any(|p| p.eq_ignore_ascii_case(part)))
}

/// The lab named `lab3` / `lab4` / `safety` (any case).
pub fn lab_named(name: &str) -> Option<&'static Lab> {
    ALL_LABS.into_iter().find(|l| l.name.eq_ignore_ascii_case(name))
}

/// The part a test's name ends in: `3A` for `_3a`, `safety` for
/// `_safety`.
pub fn part_of_test(name: &str) -> Option<String> {
    match name.strip_suffix("_safety") {
        Some(_) => Some(SAFETY.parts[0].to_string()),
        None => crate::suite::part_of(name),
    }
}

/// The lab of a test, from the part its name ends in (`_3a`, `_safety`).
pub fn lab_of_test(name: &str) -> Option<&'static Lab> {
    part_of_test(name).and_then(|p| lab_of_part(&p))
}

/// The lab whose test executable is `target`.
pub fn lab_of_target(target: &str) -> Option<&'static Lab> {
    ALL_LABS.into_iter().find(|l| l.target == target)
}

/// What one selector names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// `all`: every lab the kit has tests for.
    All,
    /// `lab3`.
    Lab(&'static str),
    /// `3A` (upper case).
    Part(String),
    /// A test name; `exact` if it is in a pinned list (or ends in a known
    /// part), else a substring of test names.
    Test { name: String, lab: Option<&'static str> },
}

/// Classifies a selector. Parts and labs that do not exist (`3E`, `lab5`)
/// are errors naming the known ones.
pub fn classify(sel: &str) -> Result<Selector, String> {
    if sel.eq_ignore_ascii_case("all") {
        return Ok(Selector::All);
    }
    if let Some(l) = ALL_LABS.into_iter().find(|l| l.opt_in && l.name.eq_ignore_ascii_case(sel)) {
        return Ok(Selector::Lab(l.name));
    }
    let lower = sel.to_ascii_lowercase();
    if let Some(n) = lower.strip_prefix("lab") {
        if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) {
            return match lab_named(&lower) {
                Some(l) => Ok(Selector::Lab(l.name)),
                None => Err(format!(
                    "unknown lab `{sel}`; labs: {}",
                    LABS.iter().map(|l| l.name).collect::<Vec<_>>().join(", ")
                )),
            };
        }
    }
    if let Some(part) = crate::dstest::select::as_part(sel) {
        return match lab_of_part(&part) {
            Some(_) => Ok(Selector::Part(part.to_ascii_uppercase())),
            None => Err(format!("unknown part `{sel}`; parts: {}", all_parts().join(", "))),
        };
    }
    Ok(Selector::Test { name: sel.to_string(), lab: lab_of_test(sel).map(|l| l.name) })
}

/// The labs a list of selectors may need the tests of: a part's or lab's
/// own, a test name's by its suffix, and every one of `available` that is
/// not opt-in for `all` and for substrings without a part.
pub fn labs_for(selectors: &[Selector], available: &[&'static Lab]) -> Vec<&'static Lab> {
    let mut want: Vec<&'static Lab> = Vec::new();
    let mut add = |l: &'static Lab| {
        if !want.contains(&l) {
            want.push(l);
        }
    };
    for s in selectors {
        match s {
            Selector::All | Selector::Test { lab: None, .. } => {
                available.iter().filter(|l| !l.opt_in).for_each(|l| add(l))
            }
            Selector::Lab(name) => add(lab_named(name).expect("classified")),
            Selector::Part(p) => add(lab_of_part(p).expect("classified")),
            Selector::Test { lab: Some(name), .. } => add(lab_named(name).expect("classified")),
        }
    }
    want.sort_by_key(|l| l.number);
    want
}

/// The integration-test targets of `package` in the workspace of
/// `manifest` (cargo's usual lookup when `None`), from `cargo metadata`.
///
/// # Errors
/// cargo fails, or the package is not in the workspace.
pub fn test_targets(manifest: Option<&Path>, package: &str) -> Result<Vec<String>, String> {
    let meta = crate::runner::cargo_metadata(manifest)?;
    let pkg = meta["packages"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == package))
        .ok_or_else(|| format!("the workspace has no package `{package}`"))?;
    Ok(pkg["targets"]
        .as_array()
        .map(|ts| {
            ts.iter()
                .filter(|t| t["kind"].as_array().is_some_and(|k| k.iter().any(|k| k == "test")))
                .filter_map(|t| t["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default())
}

/// The labs whose test target the workspace has (opt-in ones included).
pub fn available_labs(manifest: Option<&Path>) -> Result<Vec<&'static Lab>, String> {
    let targets = test_targets(manifest, LAB3.package)?;
    Ok(ALL_LABS.into_iter().filter(|l| targets.iter().any(|t| t == l.target)).collect())
}

/// The labs that run when no selector names any: the available ones that
/// are not opt-in.
pub fn default_labs(available: &[&'static Lab]) -> Vec<&'static Lab> {
    available.iter().copied().filter(|l| !l.opt_in).collect()
}

/// The error for a lab the kit has no tests for.
pub fn missing_lab(lab: &Lab) -> String {
    format!(
        "this kit has no {} tests: package `{}` has no test target `{}` (tests/{}.rs)",
        lab.title, lab.package, lab.target, lab.target
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_lists_match_their_parts() {
        assert_eq!(LAB3.tests.len(), 28);
        assert_eq!(LAB4.tests.len(), 23);
        assert_eq!(SAFETY.tests.len(), 6);
        for lab in ALL_LABS {
            for t in lab.tests {
                assert_eq!(lab_of_test(t), Some(lab), "{t}");
            }
            let mut sorted = lab.tests.to_vec();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), lab.tests.len(), "no test twice in {}", lab.name);
        }
        assert_eq!(LAB4.tests.iter().filter(|t| t.ends_with("_4a")).count(), 14);
    }

    #[test]
    fn selectors_name_labs_parts_and_tests() {
        assert_eq!(classify("ALL"), Ok(Selector::All));
        assert_eq!(classify("Lab4"), Ok(Selector::Lab("lab4")));
        assert_eq!(classify("4b"), Ok(Selector::Part("4B".into())));
        assert_eq!(classify("basic_4a"), Ok(Selector::Test { name: "basic_4a".into(), lab: Some("lab4") }));
        assert_eq!(classify("figure8"), Ok(Selector::Test { name: "figure8".into(), lab: None }));
        assert!(classify("3E").unwrap_err().contains("unknown part `3E`; parts: 3A, 3B, 3C, 3D, 4A, 4B"));
        assert!(classify("lab5").unwrap_err().contains("unknown lab `lab5`; labs: lab3, lab4"));
        assert_eq!(classify("Safety"), Ok(Selector::Lab("safety")));
        assert_eq!(lab_of_test("persisted_vote_safety"), Some(&SAFETY));
        let available = [&LAB3, &LAB4, &SAFETY];
        assert_eq!(labs_for(&[Selector::All], &available), [&LAB3, &LAB4], "the safety suite is opt-in");
        assert_eq!(labs_for(&[Selector::Lab("safety")], &available), [&SAFETY]);
        assert_eq!(default_labs(&available), [&LAB3, &LAB4]);
    }

    #[test]
    fn selectors_pick_the_labs_to_build() {
        let sel = |s: &[&str]| -> Vec<u32> {
            let c: Vec<Selector> = s.iter().map(|s| classify(s).unwrap()).collect();
            labs_for(&c, &[&LAB3, &LAB4]).iter().map(|l| l.number).collect()
        };
        assert_eq!(sel(&["3A"]), [3]);
        assert_eq!(sel(&["4A", "3b"]), [3, 4]);
        assert_eq!(sel(&["lab4"]), [4]);
        assert_eq!(sel(&["all"]), [3, 4]);
        assert_eq!(sel(&["snapshot_size_4b"]), [4]);
        assert_eq!(sel(&["snapshot"]), [3, 4], "a substring may be in either lab");
        let c = [classify("all").unwrap()];
        assert_eq!(labs_for(&c, &[&LAB3]), [&LAB3], "all: the labs the kit has");
    }

    #[test]
    fn the_workspace_has_the_lab3_target() {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
        let targets = test_targets(Some(&manifest), "tester").unwrap();
        assert!(targets.iter().any(|t| t == "raft_test"), "{targets:?}");
        assert!(available_labs(Some(&manifest)).unwrap().contains(&&LAB3));
        assert!(test_targets(Some(&manifest), "nothing").unwrap_err().contains("no package `nothing`"));
    }
}
