//! `make viz-check`: writes the timeline of a known illegal history and has
//! headless Chromium load it, then checks in the DOM it dumps that the
//! page's script ran and drew every operation, the linearization points
//! (valid and invalid) and every description (values with quotes, `<`,
//! `</script>`, non-ASCII text and a newline); then loads it again with an
//! operation pinned (`#op=P.I`) and checks the tooltip's states and times,
//! and once more with `#first-error` and checks that the jump scrolled the
//! first red point into view.
//! A screenshot, if asked for, is of the pinned view.
//!
//! ```text
//! cargo run -p porcupine --example viz_check [-- --screenshot out.png]
//! ```
//! Chromium is `$CHROMIUM`, else `chromium` or `chromium-browser` on the
//! PATH (Debian: `apt-get install chromium`). Exits non-zero, saying what
//! was wrong, on any failure.

#[path = "../tests/common/kv_gen.rs"]
mod kv_gen;

use kv_gen::{generate, Workload, MS};
use porcupine::models::kv::{KvInput, KvModel, KvOperation, KvOutput};
use porcupine::{check_operations_verbose, visualize_to_temp_file, CheckResult, Model};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn op(client_id: usize, input: KvInput, output: &str, call: i64, return_: i64) -> KvOperation {
    KvOperation { client_id, input, output: KvOutput::new(output), call, return_ }
}

/// Key "x" is illegal (client 2 reads the old value after client 3 saw
/// the append); keys "y" and "0".."2" are linearizable.
fn history() -> Vec<KvOperation> {
    let mut h = vec![
        op(0, KvInput::put("x", "a\"b"), "", 0, 100 * MS),
        op(1, KvInput::append("x", "</script><b>"), "", 50 * MS, 200 * MS),
        op(2, KvInput::get("x"), "a\"b", 120 * MS, 150 * MS),
        op(3, KvInput::get("x"), "a\"b</script><b>", 210 * MS, 260 * MS),
        op(2, KvInput::get("x"), "a\"b", 270 * MS, 300 * MS),
        op(3, KvInput::append("y", "é ⟨1⟩"), "", 10 * MS, 40 * MS),
        op(0, KvInput::get("y"), "é ⟨1⟩", 110 * MS, 130 * MS),
        op(1, KvInput::put("y", "line\nbreak"), "", 220 * MS, 250 * MS),
        op(0, KvInput::get("y"), "line\nbreak", 280 * MS, 320 * MS),
    ];
    // Busier keys beside them, from the benchmark's generator (linearizable).
    let mut w = Workload::new(4, 3, 40, 7);
    w.latency = (5 * MS, 40 * MS);
    w.put_pct = 0;
    h.extend(generate(&w));
    h
}

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|name| dir.join(name)))
        .find(|p| p.is_file())
}

/// Runs Chromium headless on `page` (plus `fragment`, e.g. `#op=3.4`) with
/// `args`, at most 120 s; its stdout.
fn run_chromium(chromium: &Path, page: &Path, fragment: &str, args: &[String]) -> Result<String, String> {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let profile = std::env::temp_dir().join(format!("porcupine-chromium-{}-{nanos}", std::process::id()));
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}{fragment}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", chromium.display()))?;
    let start = Instant::now();
    let status = loop {
        match child.try_wait().map_err(|e| e.to_string())? {
            Some(status) => break status,
            None if start.elapsed() > Duration::from_secs(120) => {
                let _ = child.kill();
                let _ = child.wait();
                let _ = std::fs::remove_dir_all(&profile);
                return Err("chromium did not finish within 120 s".into());
            }
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let _ = std::fs::remove_dir_all(&profile);
    if !status.success() {
        return Err(format!("chromium failed ({status}): {}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Text as Chromium's DOM serializer writes it in a text node.
fn html_text(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn attribute(dom: &str, name: &str) -> Option<usize> {
    let key = format!("{name}=\"");
    let start = dom.find(&key)? + key.len();
    dom[start..start + dom[start..].find('"')?].parse().ok()
}

/// `valid_lps`: how many valid points the default view must draw.
fn check_dom(dom: &str, h: &[KvOperation], valid_lps: usize) -> Vec<String> {
    let mut problems = Vec::new();
    let drawn = attribute(dom, "data-drawn-ops");
    if drawn != Some(h.len()) {
        problems.push(format!("data-drawn-ops is {drawn:?}, expected {} (did the script run?)", h.len()));
    }
    let groups = dom.matches("<g class=\"op").count();
    if groups != h.len() {
        problems.push(format!("{groups} operation boxes in the DOM, expected {}", h.len()));
    }
    match attribute(dom, "data-invalid-lps") {
        Some(n) if n >= 1 => {}
        other => problems.push(format!("data-invalid-lps is {other:?}, expected at least 1 (the illegal step)")),
    }
    let valid = attribute(dom, "data-valid-lps");
    if valid != Some(valid_lps) {
        problems.push(format!("data-valid-lps is {valid:?}, expected {valid_lps} (the illegal partitions' longest)"));
    }
    for o in h {
        let text = html_text(&KvModel.describe_operation(&o.input, &o.output));
        if !dom.contains(&format!(">{text}</text>")) {
            problems.push(format!("no <text> element holds {text:?}"));
        }
    }
    for needle in ["<title>Porcupine</title>", "Valid LP", "Invalid LP", "[ jump to first error ]"] {
        if !dom.contains(needle) {
            problems.push(format!("{needle:?} is missing"));
        }
    }
    problems
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let screenshot = args.iter().position(|a| a == "--screenshot").map(|i| PathBuf::from(&args[i + 1]));
    let h = history();
    let (result, info) = check_operations_verbose(&KvModel, &h, Some(Duration::from_secs(10)));
    if result != CheckResult::Illegal {
        eprintln!("viz-check: FAILED: the history should be Illegal, the checker says {result:?}");
        return ExitCode::FAILURE;
    }
    let page = match visualize_to_temp_file(&KvModel, &info) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("viz-check: FAILED: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("viz-check: wrote {} ({} operations, {} partitions)", page.display(), h.len(), info.partitions().len());
    let Some(chromium) = chromium() else {
        eprintln!("viz-check: FAILED: chromium not found: install it (apt-get install -y chromium) or set CHROMIUM");
        return ExitCode::FAILURE;
    };
    let dump = ["--dump-dom".to_string()];
    let dom = match run_chromium(&chromium, &page, "", &dump) {
        Ok(dom) => dom,
        Err(e) => {
            eprintln!("viz-check: FAILED: {e}");
            return ExitCode::FAILURE;
        }
    };
    let valid_lps = info
        .partitions()
        .iter()
        .filter(|p| p.result() == CheckResult::Illegal)
        .map(|p| p.partial_linearizations()[0].len())
        .sum();
    let mut problems = check_dom(&dom, &h, valid_lps);
    // Pin the illegal read of "x" (partition 3, its fifth operation): the
    // tooltip shows the state it could not follow and no new state.
    match run_chromium(&chromium, &page, "#op=3.4", &dump) {
        Ok(dom) => {
            for needle in [
                "<b>get('x') -&gt; 'a\"b'</b>",
                "client 2, partition 3 (illegal)",
                "previous state: a\"b&lt;/script&gt;&lt;b&gt;\nnew state: \u{27e8}invalid op\u{27e9}",
                "call: 270000000 ns, return: 300000000 ns",
            ] {
                if !dom.contains(needle) {
                    problems.push(format!("the pinned tooltip lacks {needle:?}"));
                }
            }
        }
        Err(e) => problems.push(e),
    }
    // The jump to the first error leaves its red point in view (the page is
    // far wider than the window).
    match run_chromium(&chromium, &page, "#first-error", &dump) {
        Ok(dom) => {
            match (
                attribute(&dom, "data-first-error-x"),
                attribute(&dom, "data-scroll-left"),
                attribute(&dom, "data-view-width"),
            ) {
                (Some(x), Some(left), Some(width)) if left > 0 && left <= x && x <= left + width => {}
                found => problems.push(format!(
                    "after the jump, the first error (x, scroll, view width = {found:?}) is not scrolled into view"
                )),
            }
        }
        Err(e) => problems.push(e),
    }
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("viz-check: FAILED: {p}");
        }
        eprintln!("viz-check: the page is left at {}", page.display());
        return ExitCode::FAILURE;
    }
    println!(
        "viz-check: OK: {} ran the page's script: {} operations drawn, {} valid and {} invalid linearization points, \
         every description present",
        chromium.display(),
        h.len(),
        attribute(&dom, "data-valid-lps").unwrap_or(0),
        attribute(&dom, "data-invalid-lps").unwrap_or(0),
    );
    if let Some(png) = screenshot {
        let args = [format!("--screenshot={}", png.display()), "--window-size=1600,900".to_string()];
        match run_chromium(&chromium, &page, "#op=3.4", &args) {
            Ok(_) if png.is_file() => println!("viz-check: screenshot in {}", png.display()),
            Ok(_) => eprintln!("viz-check: chromium wrote no screenshot to {}", png.display()),
            Err(e) => eprintln!("viz-check: screenshot failed: {e}"),
        }
    } else {
        let _ = std::fs::remove_file(&page);
    }
    ExitCode::SUCCESS
}
