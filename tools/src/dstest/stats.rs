//! Statistics of the runs and the final table.

/// Mean and sample standard deviation (0 for fewer than two values).
pub fn mean_std(xs: &[f64]) -> (f64, f64) {
    if xs.is_empty() {
        return (0.0, 0.0);
    }
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    if xs.len() < 2 {
        return (mean, 0.0);
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

/// Finished runs of one test.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TestStats {
    pub name: String,
    pub failed: usize,
    /// Runs that passed only weakly: a linearizability check timed out
    /// (Lab 4), so nothing was checked. Not failures, not passes either.
    pub weak: usize,
    /// Wall seconds of every finished run, passed or failed.
    pub secs: Vec<f64>,
    /// User and system CPU seconds of every run the kernel reported.
    pub cpu: Vec<(f64, f64)>,
    /// Every `warning:` line of every run, and how many times it came.
    pub warnings: std::collections::BTreeMap<String, usize>,
}

impl TestStats {
    pub fn new(name: &str) -> Self {
        Self { name: name.to_string(), ..Self::default() }
    }

    pub fn record(&mut self, passed: bool, secs: f64) {
        if !passed {
            self.failed += 1;
        }
        self.secs.push(secs);
    }

    pub fn total(&self) -> usize {
        self.secs.len()
    }

    /// Counts a run's warnings.
    pub fn record_warnings(&mut self, warnings: &[String]) {
        for w in warnings {
            *self.warnings.entry(w.clone()).or_default() += 1;
        }
    }

    /// Warning lines over every run.
    pub fn warning_count(&self) -> usize {
        self.warnings.values().sum()
    }
}

/// Which optional columns the table has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Columns {
    /// `weak`: runs that passed only because a linearizability check timed
    /// out (shown when a Lab 4 test is in the table, or any run was weak).
    pub weak: bool,
    /// `user (s)` and `sys (s)`: mean CPU per run (`--timing`).
    pub timing: bool,
}

fn time_cell(secs: &[f64]) -> String {
    if secs.is_empty() {
        return "-".to_string();
    }
    let (m, s) = mean_std(secs);
    format!("{m:.2} ± {s:.2}")
}

fn mean_cell(xs: impl Iterator<Item = f64>) -> String {
    let xs: Vec<f64> = xs.collect();
    if xs.is_empty() {
        return "-".to_string();
    }
    format!("{:.3}", mean_std(&xs).0)
}

/// The final table: a row per test (failed, weak, warning lines, total,
/// mean ± std of wall seconds, mean user and system CPU) and a total row
/// over all runs.
pub fn format_table(rows: &[TestStats], cols: Columns) -> String {
    let row = |name: String, group: &[&TestStats]| -> Vec<String> {
        let secs: Vec<f64> = group.iter().flat_map(|r| r.secs.iter().copied()).collect();
        let mut l = vec![name, group.iter().map(|r| r.failed).sum::<usize>().to_string()];
        if cols.weak {
            l.push(group.iter().map(|r| r.weak).sum::<usize>().to_string());
        }
        l.push(group.iter().map(|r| r.warning_count()).sum::<usize>().to_string());
        l.push(secs.len().to_string());
        l.push(time_cell(&secs));
        if cols.timing {
            l.push(mean_cell(group.iter().flat_map(|r| r.cpu.iter().map(|c| c.0))));
            l.push(mean_cell(group.iter().flat_map(|r| r.cpu.iter().map(|c| c.1))));
        }
        l
    };
    let mut header = vec!["test", "failed"];
    if cols.weak {
        header.push("weak");
    }
    header.extend(["warnings", "total", "time (s)"]);
    if cols.timing {
        header.extend(["user (s)", "sys (s)"]);
    }
    let mut lines: Vec<Vec<String>> = vec![header.iter().map(|h| h.to_string()).collect()];
    for r in rows {
        lines.push(row(r.name.clone(), &[r]));
    }
    lines.push(row("total".to_string(), &rows.iter().collect::<Vec<_>>()));
    let n = header.len();
    let w: Vec<usize> = (0..n).map(|c| lines.iter().map(|l| l[c].chars().count()).max().unwrap_or(0)).collect();
    let fmt = |l: &[String]| {
        let pad = |s: &str, n: usize| " ".repeat(n.saturating_sub(s.chars().count()));
        let mut out = format!("{}{}", l[0], pad(&l[0], w[0]));
        for c in 1..n {
            out.push_str(&format!("  {}{}", pad(&l[c], w[c]), l[c]));
        }
        out
    };
    let rule = "-".repeat(w.iter().sum::<usize>() + 2 * (n - 1));
    let mut out = String::new();
    for (i, l) in lines.iter().enumerate() {
        if i == 1 || i == lines.len() - 1 {
            out.push_str(&rule);
            out.push('\n');
        }
        out.push_str(&fmt(l));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_std_values() {
        assert_eq!(mean_std(&[]), (0.0, 0.0));
        assert_eq!(mean_std(&[3.0]), (3.0, 0.0));
        let (m, s) = mean_std(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert!((m - 5.0).abs() < 1e-12);
        assert!((s - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn stats_record() {
        let mut t = TestStats::new("x_3a");
        t.record(true, 1.0);
        t.record(false, 3.0);
        assert_eq!((t.failed, t.total()), (1, 2));
    }

    #[test]
    fn table_layout() {
        let mut a = TestStats::new("initial_election_3a");
        a.record(true, 3.0);
        a.record(false, 5.0);
        a.record_warnings(&["term changed even though there were no failures".to_string()]);
        let b = TestStats::new("b_3b");
        let t = format_table(&[a.clone(), b.clone()], Columns::default());
        let expected = "\
test                 failed  warnings  total     time (s)
---------------------------------------------------------
initial_election_3a       1         1      2  4.00 ± 1.41
b_3b                      0         0      0            -
---------------------------------------------------------
total                     1         1      2  4.00 ± 1.41
";
        assert_eq!(t, expected);
    }

    #[test]
    fn table_with_weak_and_timing_columns() {
        let mut a = TestStats::new("basic_4a");
        a.record(true, 15.0);
        a.record(true, 17.0);
        a.weak = 1;
        a.cpu = vec![(1.0, 0.5), (2.0, 0.25)];
        let t = format_table(&[a], Columns { weak: true, timing: true });
        let expected = "\
test      failed  weak  warnings  total      time (s)  user (s)  sys (s)
------------------------------------------------------------------------
basic_4a       0     1         0      2  16.00 ± 1.41     1.500    0.375
------------------------------------------------------------------------
total          0     1         0      2  16.00 ± 1.41     1.500    0.375
";
        assert_eq!(t, expected);
    }
}
