//! Tables (terminal and Markdown) and the course's time limits.

/// Column alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// A simple table of strings.
#[derive(Debug, Clone, Default)]
pub struct Table {
    headers: Vec<String>,
    align: Vec<Align>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these columns.
    pub fn new(columns: &[(&str, Align)]) -> Table {
        Table {
            headers: columns.iter().map(|(h, _)| h.to_string()).collect(),
            align: columns.iter().map(|(_, a)| *a).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row (missing cells are empty, extra ones dropped).
    pub fn push<S: Into<String>>(&mut self, row: impl IntoIterator<Item = S>) {
        let mut r: Vec<String> = row.into_iter().map(Into::into).collect();
        r.resize(self.headers.len(), String::new());
        self.rows.push(r);
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn widths(&self, cells: impl Fn(&str) -> usize) -> Vec<usize> {
        (0..self.headers.len())
            .map(|i| self.rows.iter().map(|r| cells(&r[i])).chain([cells(&self.headers[i])]).max().unwrap_or(0))
            .collect()
    }

    fn pad(s: &str, w: usize, a: Align) -> String {
        match a {
            Align::Left => format!("{s:<w$}"),
            Align::Right => format!("{s:>w$}"),
        }
    }

    /// Plain-text table for the terminal.
    pub fn render_text(&self) -> String {
        let w = self.widths(|s| s.chars().count());
        let line = |cells: &[String]| {
            let parts: Vec<String> =
                cells.iter().enumerate().map(|(i, c)| Table::pad(c, w[i], self.align[i])).collect();
            parts.join("  ").trim_end().to_string() + "\n"
        };
        let mut out = line(&self.headers);
        let rule: Vec<String> = w.iter().map(|n| "-".repeat(*n)).collect();
        out += &(rule.join("  ") + "\n");
        for r in &self.rows {
            out += &line(r);
        }
        out
    }

    /// GitHub-flavoured Markdown table.
    pub fn render_markdown(&self) -> String {
        let esc = |s: &str| s.replace('|', "\\|");
        let w = self.widths(|s| esc(s).chars().count().max(3));
        let line = |cells: &[String]| {
            let parts: Vec<String> =
                cells.iter().enumerate().map(|(i, c)| Table::pad(&esc(c), w[i], self.align[i])).collect();
            format!("| {} |\n", parts.join(" | "))
        };
        let mut out = line(&self.headers);
        let rule: Vec<String> = w
            .iter()
            .zip(&self.align)
            .map(|(n, a)| match a {
                Align::Left => "-".repeat(*n),
                Align::Right => format!("{}:", "-".repeat(n - 1)),
            })
            .collect();
        out += &format!("| {} |\n", rule.join(" | "));
        for r in &self.rows {
            out += &line(r);
        }
        out
    }
}

/// The limits of one lab (see `labs::LAB3` and `labs::LAB4` for the
/// course's).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Any single test over this fails.
    pub per_test_s: f64,
    /// The whole lab over this (wall) fails.
    pub lab_wall_s: f64,
    /// "Reasonable" wall budget (information only).
    pub reasonable_wall_s: f64,
    /// "Reasonable" CPU budget (information only).
    pub reasonable_cpu_s: f64,
    /// An enforced CPU budget: over it fails (`grade --cpu-limit`).
    pub cpu_limit_s: Option<f64>,
}

impl Default for Limits {
    /// Lab 3's.
    fn default() -> Limits {
        Limits {
            per_test_s: 120.0,
            lab_wall_s: 600.0,
            reasonable_wall_s: 360.0,
            reasonable_cpu_s: 60.0,
            cpu_limit_s: None,
        }
    }
}

/// One checked limit.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub label: String,
    pub value: f64,
    pub limit: f64,
    pub ok: bool,
    /// A breach fails the grade (otherwise it is information only).
    pub fatal: bool,
}

impl Check {
    fn new(label: String, value: f64, limit: f64, fatal: bool) -> Check {
        Check { label, value, limit, ok: value <= limit, fatal }
    }

    /// `OK`, `FAIL` (fatal breach) or `OVER` (information breach).
    pub fn status(&self) -> &'static str {
        match (self.ok, self.fatal) {
            (true, _) => "OK",
            (false, true) => "FAIL",
            (false, false) => "OVER",
        }
    }

    /// A breach that fails the grade.
    pub fn failed(&self) -> bool {
        self.fatal && !self.ok
    }
}

/// Checks the limits: per-test wall (one check per test over the limit, or
/// one for the slowest), the whole lab's wall, and the reasonable budgets.
pub fn check_limits(tests: &[(String, f64)], total_wall: f64, total_cpu: f64, l: &Limits) -> Vec<Check> {
    let mut checks = Vec::new();
    let over: Vec<&(String, f64)> = tests.iter().filter(|(_, s)| *s > l.per_test_s).collect();
    if over.is_empty() {
        if let Some((name, s)) = tests.iter().max_by(|a, b| a.1.total_cmp(&b.1)) {
            checks.push(Check::new(format!("slowest test ({name})"), *s, l.per_test_s, true));
        }
    } else {
        for (name, s) in over {
            checks.push(Check::new(format!("test {name}"), *s, l.per_test_s, true));
        }
    }
    checks.push(Check::new("total wall".into(), total_wall, l.lab_wall_s, true));
    checks.push(Check::new("reasonable wall".into(), total_wall, l.reasonable_wall_s, false));
    checks.push(Check::new("reasonable CPU".into(), total_cpu, l.reasonable_cpu_s, false));
    if let Some(cpu) = l.cpu_limit_s {
        checks.push(Check::new("CPU limit".into(), total_cpu, cpu, true));
    }
    checks
}

/// Table of checks.
pub fn checks_table(checks: &[Check]) -> Table {
    let mut t = Table::new(&[
        ("Limit", Align::Left),
        ("Value (s)", Align::Right),
        ("Max (s)", Align::Right),
        ("Kind", Align::Left),
        ("Status", Align::Left),
    ]);
    for c in checks {
        t.push([
            c.label.clone(),
            format!("{:.1}", c.value),
            if c.limit.fract() == 0.0 { format!("{:.0}", c.limit) } else { format!("{}", c.limit) },
            if c.fatal { "limit" } else { "info" }.to_string(),
            c.status().to_string(),
        ]);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        let mut t = Table::new(&[("Name", Align::Left), ("Secs", Align::Right)]);
        t.push(["initial_election_3a", "3.1"]);
        t.push(["a|b", "120.5"]);
        t
    }

    #[test]
    fn renders_text() {
        let s = table().render_text();
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(lines[0], "Name                  Secs");
        assert_eq!(lines[1], "-------------------  -----");
        assert_eq!(lines[2], "initial_election_3a    3.1");
        assert_eq!(lines[3], "a|b                  120.5");
    }

    #[test]
    fn renders_markdown() {
        let s = table().render_markdown();
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(lines[0], "| Name                |  Secs |");
        assert_eq!(lines[1], "| ------------------- | ----: |");
        assert_eq!(lines[3], "| a\\|b                | 120.5 |");
    }

    #[test]
    fn checks_pass_within_limits() {
        let tests = vec![("a_3a".to_string(), 3.0), ("b_3a".to_string(), 119.0)];
        let c = check_limits(&tests, 300.0, 50.0, &Limits::default());
        assert_eq!(c.len(), 4);
        assert_eq!(c[0].label, "slowest test (b_3a)");
        assert!(c.iter().all(|c| c.ok));
        assert!(c.iter().all(|c| c.status() == "OK"));
    }

    #[test]
    fn checks_flag_breaches() {
        let tests = vec![("a_3a".to_string(), 121.0), ("b_3a".to_string(), 130.0), ("c".to_string(), 1.0)];
        let c = check_limits(&tests, 601.0, 61.0, &Limits::default());
        let st: Vec<(&str, &str)> = c.iter().map(|c| (c.label.as_str(), c.status())).collect();
        assert_eq!(
            st,
            [
                ("test a_3a", "FAIL"),
                ("test b_3a", "FAIL"),
                ("total wall", "FAIL"),
                ("reasonable wall", "OVER"),
                ("reasonable CPU", "OVER")
            ]
        );
        assert_eq!(c.iter().filter(|c| c.failed()).count(), 3);
        // Budget overrun alone is information, not failure.
        let c = check_limits(&[], 400.0, 70.0, &Limits::default());
        assert!(!c.iter().any(Check::failed));
        assert_eq!(checks_table(&c).render_text().lines().count(), 2 + 3);
        // An enforced CPU budget is a limit.
        let l = Limits { cpu_limit_s: Some(60.0), ..Limits::default() };
        let c = check_limits(&[], 100.0, 61.0, &l);
        let cpu = c.iter().find(|c| c.label == "CPU limit").unwrap();
        assert_eq!((cpu.status(), cpu.failed()), ("FAIL", true));
        assert!(check_limits(&[], 100.0, 59.0, &l).iter().all(|c| !c.failed()));
    }
}
