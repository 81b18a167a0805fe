//! Every thread's stack, for the report of a hung test (Go's test timeout
//! dumps every goroutine): from `eu-stack` (Debian's `elfutils`), else from
//! `gdb`, run on this very process.

use std::fmt::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long a stack dumper may take before it is given up on.
const DUMPER_LIMIT: Duration = Duration::from_secs(60);

/// The tools tried, in order: the program and its arguments before the pid.
const DUMPERS: [(&str, &[&str]); 2] =
    [("eu-stack", &["-i", "-p"]), ("gdb", &["-batch", "-ex", "thread apply all bt", "-p"])];

/// Every thread's stack, with a heading naming the tool, or a note saying
/// why there are none (no tool installed, or the tool failed).
pub(crate) fn all_threads() -> String {
    let pid = std::process::id();
    let mut notes = String::new();
    for (tool, args) in DUMPERS {
        match run(tool, args, pid) {
            Ok(text) => {
                let mut out = format!("tester: stacks of all threads ({tool} -p {pid}):\n");
                out.push_str(&with_thread_names(&text, pid));
                out.push_str(&notes);
                return out;
            }
            Err(e) => {
                let _ = writeln!(notes, "tester: {tool}: {e}");
            }
        }
    }
    format!(
        "{notes}tester: no thread stacks: neither eu-stack nor gdb could be run \
         (install Debian's elfutils: apt-get install elfutils)\n"
    )
}

/// Runs `tool args pid` with a time limit; its stdout on success. The
/// output goes to a file: a dump of many threads overflows a pipe that
/// nobody reads while the tool runs.
fn run(tool: &str, args: &[&str], pid: u32) -> Result<String, String> {
    let path = std::env::temp_dir().join(format!("tester-stacks-{pid}-{tool}.txt"));
    let file = std::fs::File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let result = run_into(tool, args, pid, file).map(|(_, why)| (std::fs::read(&path), why));
    let _ = std::fs::remove_file(&path);
    let (bytes, why) = result?;
    let stdout = String::from_utf8_lossy(&bytes.map_err(|e| e.to_string())?).into_owned();
    // eu-stack exits non-zero when one thread cannot be unwound to its end,
    // after printing the others: keep what it printed.
    if stdout.contains("#0") {
        Ok(stdout)
    } else {
        Err(why)
    }
}

/// Runs the tool with stdout to `out`; (exit status, stderr) when it ends.
fn run_into(
    tool: &str,
    args: &[&str],
    pid: u32,
    out: std::fs::File,
) -> Result<(std::process::ExitStatus, String), String> {
    let mut child = Command::new(tool)
        .args(args)
        .arg(pid.to_string())
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| if e.kind() == std::io::ErrorKind::NotFound { "not installed".into() } else { e.to_string() })?;
    let t0 = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok((status, format!("{status}, no stacks printed"))),
            Ok(None) if t0.elapsed() > DUMPER_LIMIT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("gave up after {} s", DUMPER_LIMIT.as_secs()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// Adds each thread's name to eu-stack's `TID <tid>:` headings (gdb names
/// them itself).
fn with_thread_names(text: &str, pid: u32) -> String {
    let mut out = String::with_capacity(text.len() + 1024);
    for line in text.lines() {
        let named = line
            .strip_prefix("TID ")
            .and_then(|r| r.strip_suffix(':'))
            .and_then(|tid| tid.parse::<u32>().ok())
            .and_then(|tid| std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/comm")).ok());
        match named {
            Some(name) => {
                let _ = writeln!(out, "{line} ({})", name.trim_end());
            }
            None => {
                let _ = writeln!(out, "{line}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_names_are_added_to_eu_stack_headings() {
        let pid = std::process::id();
        let tid = pid; // the main thread's tid is the pid
        let comm = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/comm")).unwrap();
        let text = format!("PID {pid} - process\nTID {tid}:\n#0  0x0 f\nTID 999999999:\n#0 0x0 g\n");
        let out = with_thread_names(&text, pid);
        assert!(out.contains(&format!("TID {tid}: ({})", comm.trim_end())), "{out}");
        assert!(out.contains("TID 999999999:\n"), "a thread that is gone keeps its plain heading: {out}");
    }

    #[test]
    fn a_missing_tool_is_named_as_not_installed() {
        assert_eq!(run("no-such-stack-dumper-xyz", &["-p"], 1), Err("not installed".to_string()));
    }
}
