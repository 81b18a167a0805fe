//! Which tests the positional arguments select.

/// Test names from the output of `<test exe> --list --format terse`
/// (lines `name: test`; benchmarks and other lines are skipped).
pub fn parse_test_list(output: &str) -> Vec<String> {
    output.lines().filter_map(|l| l.trim().strip_suffix(": test")).map(str::to_string).collect()
}

/// The part a selector names, lowercased: `3A` → `3a`. A part is digits
/// followed by one letter.
pub fn as_part(arg: &str) -> Option<String> {
    let lower = arg.to_ascii_lowercase();
    let (digits, letter) = lower.split_at(lower.len().checked_sub(1)?);
    let ok = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && letter.bytes().all(|b| b.is_ascii_lowercase());
    ok.then_some(lower)
}

/// The lab number a selector names: `lab3` → `3`.
fn as_lab(arg: &str) -> Option<String> {
    let lower = arg.to_ascii_lowercase();
    let n = lower.strip_prefix("lab")?;
    (!n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())).then(|| n.to_string())
}

/// The part of a test from its name: `basic_agree_3b` → `3b`.
pub fn part_of(test: &str) -> Option<String> {
    let suffix = test.rsplit('_').next()?;
    if suffix.len() == test.len() {
        return None;
    }
    as_part(suffix)
}

/// Whether `test` is selected by the single selector `arg`.
fn matches(arg: &str, test: &str) -> bool {
    if arg.eq_ignore_ascii_case("all") {
        return true;
    }
    if let Some(lab) = as_lab(arg) {
        return part_of(test).is_some_and(|p| p[..p.len() - 1] == lab);
    }
    if let Some(part) = as_part(arg) {
        return part_of(test).is_some_and(|p| p == part);
    }
    test == arg || test.to_ascii_lowercase().contains(&arg.to_ascii_lowercase())
}

/// An error message listing the available tests.
pub fn available_message(available: &[String]) -> String {
    let mut s = String::from("available tests:");
    for t in available {
        s.push_str("\n  ");
        s.push_str(t);
    }
    s
}

/// The tests selected by `args`, in the order of `available`, each once.
///
/// A selector is a part (`3A`, case-insensitive: every test ending in
/// `_3a`), a lab (`lab3`: every test of a part 3x), `all`, an exact test
/// name, or a case-insensitive substring. A selector that matches nothing,
/// or an empty selection, is an error listing the available tests.
pub fn select_tests(available: &[String], args: &[String]) -> Result<Vec<String>, String> {
    if args.is_empty() {
        return Err(format!(
            "no test selected (give a part like 3A, `all`, or test names)\n{}",
            available_message(available)
        ));
    }
    let mut selected = vec![false; available.len()];
    for arg in args {
        let mut any = false;
        for (i, t) in available.iter().enumerate() {
            if matches(arg, t) {
                selected[i] = true;
                any = true;
            }
        }
        if !any {
            return Err(format!("no test matches `{arg}`\n{}", available_message(available)));
        }
    }
    Ok(available.iter().zip(selected).filter(|(_, s)| *s).map(|(t, _)| t.clone()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        [
            "initial_election_3a",
            "reelection_3a",
            "basic_agree_3b",
            "fail_agree_3b",
            "figure8_3c",
            "figure8_unreliable_3c",
            "snapshot_install_3d",
            "kv::basic_4a",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    fn sel(args: &[&str]) -> Result<Vec<String>, String> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        select_tests(&names(), &args)
    }

    #[test]
    fn parses_terse_list() {
        let out = "initial_election_3a: test\nkv::basic_4a: test\nbench_x: benchmark\n\n2 tests, 1 benchmarks\n";
        assert_eq!(parse_test_list(out), vec!["initial_election_3a", "kv::basic_4a"]);
    }

    #[test]
    fn parts() {
        assert_eq!(as_part("3A").as_deref(), Some("3a"));
        assert_eq!(as_part("12b").as_deref(), Some("12b"));
        assert_eq!(as_part("a"), None);
        assert_eq!(as_part("3"), None);
        assert_eq!(as_part("3ab"), None);
        assert_eq!(as_part(""), None);
        assert_eq!(part_of("figure8_unreliable_3c").as_deref(), Some("3c"));
        assert_eq!(part_of("kv::basic_4a").as_deref(), Some("4a"));
        assert_eq!(part_of("nopart"), None);
        assert_eq!(part_of("x_3"), None);
    }

    #[test]
    fn select_part_case_insensitive() {
        assert_eq!(sel(&["3A"]).unwrap(), vec!["initial_election_3a", "reelection_3a"]);
        assert_eq!(sel(&["3b"]).unwrap(), vec!["basic_agree_3b", "fail_agree_3b"]);
    }

    #[test]
    fn select_keeps_list_order_and_dedups() {
        assert_eq!(
            sel(&["3C", "3A", "figure8"]).unwrap(),
            vec!["initial_election_3a", "reelection_3a", "figure8_3c", "figure8_unreliable_3c"]
        );
    }

    #[test]
    fn select_all_and_lab() {
        assert_eq!(sel(&["all"]).unwrap(), names());
        assert_eq!(sel(&["ALL"]).unwrap(), names());
        assert_eq!(sel(&["lab3"]).unwrap().len(), 7);
        assert_eq!(sel(&["lab4"]).unwrap(), vec!["kv::basic_4a"]);
    }

    #[test]
    fn select_exact_and_substring() {
        assert_eq!(sel(&["figure8_3c"]).unwrap(), vec!["figure8_3c"]);
        assert_eq!(sel(&["AGREE"]).unwrap(), vec!["basic_agree_3b", "fail_agree_3b"]);
    }

    #[test]
    fn select_errors_list_available() {
        let e = sel(&[]).unwrap_err();
        assert!(e.contains("no test selected") && e.contains("\n  reelection_3a"));
        let e = sel(&["3A", "3E"]).unwrap_err();
        assert!(e.contains("no test matches `3E`") && e.contains("snapshot_install_3d"));
    }
}
