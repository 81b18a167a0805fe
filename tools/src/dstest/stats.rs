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
    /// Wall seconds of every finished run, passed or failed.
    pub secs: Vec<f64>,
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

fn time_cell(secs: &[f64]) -> String {
    if secs.is_empty() {
        return "-".to_string();
    }
    let (m, s) = mean_std(secs);
    format!("{m:.2} ± {s:.2}")
}

/// The final table: a row per test (failed, warning lines, total, mean ±
/// std of wall seconds) and a total row over all runs.
pub fn format_table(rows: &[TestStats]) -> String {
    let all: Vec<f64> = rows.iter().flat_map(|r| r.secs.iter().copied()).collect();
    let mut lines: Vec<[String; 5]> =
        vec![["test".into(), "failed".into(), "warnings".into(), "total".into(), "time (s)".into()]];
    for r in rows {
        lines.push([
            r.name.clone(),
            r.failed.to_string(),
            r.warning_count().to_string(),
            r.total().to_string(),
            time_cell(&r.secs),
        ]);
    }
    let total = [
        "total".to_string(),
        rows.iter().map(|r| r.failed).sum::<usize>().to_string(),
        rows.iter().map(TestStats::warning_count).sum::<usize>().to_string(),
        all.len().to_string(),
        time_cell(&all),
    ];
    lines.push(total);
    let w: Vec<usize> = (0..5).map(|c| lines.iter().map(|l| l[c].chars().count()).max().unwrap_or(0)).collect();
    let fmt = |l: &[String; 5]| {
        let pad = |s: &str, n: usize| " ".repeat(n.saturating_sub(s.chars().count()));
        let mut out = format!("{}{}", l[0], pad(&l[0], w[0]));
        for c in 1..5 {
            out.push_str(&format!("  {}{}", pad(&l[c], w[c]), l[c]));
        }
        out
    };
    let rule = "-".repeat(w.iter().sum::<usize>() + 8);
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
        let t = format_table(&[a, b]);
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
}
