//! Live display: a bar over all runs with ETA and a line per test.

use std::collections::HashMap;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

#[derive(Default)]
struct Counts {
    passed: u64,
    failed: u64,
    running: u64,
}

impl Counts {
    fn message(&self) -> String {
        let mut s = format!("passed {}", self.passed);
        if self.failed > 0 {
            s.push_str(&format!("  \x1b[31mfailed {}\x1b[0m", self.failed));
        }
        if self.running > 0 {
            s.push_str(&format!("  running {}", self.running));
        }
        s
    }
}

/// The progress display on stderr (hidden when stderr is not a terminal;
/// messages are then printed as plain lines, and so is the progress, at
/// every percent of the runs).
pub struct Display {
    multi: MultiProgress,
    total: ProgressBar,
    failed: u64,
    tests: HashMap<String, (ProgressBar, Counts)>,
}

impl Display {
    pub fn new(tests: &[String], iterations: u32) -> Self {
        let multi = MultiProgress::new();
        let runs = tests.len() as u64 * u64::from(iterations);
        let total = multi.add(ProgressBar::new(runs));
        total.set_style(
            ProgressStyle::with_template(
                "{elapsed_precise} [{wide_bar:.cyan/blue}] {pos}/{len} runs  {msg}  ETA {eta}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        total.set_message("0 failed");
        total.enable_steady_tick(Duration::from_millis(500));
        let width = tests.iter().map(|t| t.len()).max().unwrap_or(0);
        let style = ProgressStyle::with_template(&format!(
            "  {{prefix:<{width}}} [{{bar:20.green/white}}] {{pos:>5}}/{{len}}  {{msg}}"
        ))
        .expect("valid template")
        .progress_chars("=> ");
        let tests = tests
            .iter()
            .map(|t| {
                let pb = multi.add(ProgressBar::new(u64::from(iterations)));
                pb.set_style(style.clone());
                pb.set_prefix(t.clone());
                pb.set_message(Counts::default().message());
                (t.clone(), (pb, Counts::default()))
            })
            .collect();
        Self { multi, total, failed: 0, tests }
    }

    /// Prints a line above the bars.
    pub fn println(&self, line: &str) {
        if self.multi.is_hidden() {
            eprintln!("{line}");
        } else {
            let _ = self.multi.println(line);
        }
    }

    pub fn started(&mut self, test: &str) {
        if let Some((pb, c)) = self.tests.get_mut(test) {
            c.running += 1;
            pb.set_message(c.message());
        }
    }

    /// A run ended; `counted` is false for runs stopped by Ctrl-C.
    pub fn finished(&mut self, test: &str, counted: bool, passed: bool) {
        if let Some((pb, c)) = self.tests.get_mut(test) {
            c.running = c.running.saturating_sub(1);
            if counted {
                if passed {
                    c.passed += 1;
                } else {
                    c.failed += 1;
                }
                pb.inc(1);
            }
            pb.set_message(c.message());
        }
        if counted {
            if !passed {
                self.failed += 1;
                self.total.set_message(format!("{} failed", self.failed));
            }
            self.total.inc(1);
            if self.multi.is_hidden() {
                if let Some(line) = plain_progress(&self.total, self.failed) {
                    eprintln!("{line}");
                }
            }
        }
    }

    /// Removes the bars (before printing the table).
    pub fn clear(&self) {
        self.total.disable_steady_tick();
        self.total.finish_and_clear();
        for (pb, _) in self.tests.values() {
            pb.finish_and_clear();
        }
        let _ = self.multi.clear();
    }
}

/// Without a terminal (CI, `nohup`): a progress line whenever the finished
/// runs reach another percent of the total.
fn plain_progress(total: &ProgressBar, failed: u64) -> Option<String> {
    let (done, len) = (total.position(), total.length().unwrap_or(0));
    let step = (len / 100).max(1);
    if done % step != 0 && done != len {
        return None;
    }
    let elapsed = total.elapsed().as_secs();
    let eta = (elapsed * (len - done)).checked_div(done).unwrap_or(0);
    Some(format!("dstest: {done}/{len} runs, {failed} failed, elapsed {}, ETA {}", hms(elapsed), hms(eta)))
}

fn hms(secs: u64) -> String {
    format!("{}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_progress_prints_at_each_percent_and_at_the_end() {
        let pb = ProgressBar::hidden();
        pb.set_length(250);
        let lines: Vec<u64> = (1..=250)
            .filter(|_| {
                pb.inc(1);
                plain_progress(&pb, 0).is_some()
            })
            .map(|_| pb.position())
            .collect();
        assert_eq!(lines.len(), 125, "every 2 runs: {lines:?}");
        assert_eq!(lines.last(), Some(&250));
        let line = plain_progress(&pb, 3).expect("at the end");
        assert!(line.starts_with("dstest: 250/250 runs, 3 failed, elapsed 0:00:0"), "{line}");
        assert!(line.ends_with("ETA 0:00:00"), "{line}");
    }

    #[test]
    fn hms_formats_hours_minutes_seconds() {
        assert_eq!(hms(0), "0:00:00");
        assert_eq!(hms(3725), "1:02:05");
    }
}
