//! `dslogs`: pretty-prints a Raft debug log (`RAFT_LOG=1` output) with one
//! column per peer, coloured topics and tester events as banners.
//!
//! Works on saved runs of the stress runner too: lines that are not log
//! events (headers, libtest output, panics) are printed as they are.

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use tools::logfmt::{self, Filter};
use tools::logview::{self, ViewOpts};

#[derive(Parser, Debug)]
#[command(
    about = "View a Raft debug log with one column per peer",
    after_help = format!(
        "Log lines: `<ms> <TOPIC> S<peer> T<term> <text>`; topics: {}.\n\
         TEST events span all columns and stay visible with -i unless excluded with -x TEST.\n\
         Example: RAFT_LOG=1 cargo test ... 2> run.log; dslogs --color run.log -x TIMR,PERS | less -R",
        logfmt::topics().join(" ")
    )
)]
struct Args {
    /// Log file (default or `-`: standard input).
    file: Option<PathBuf>,
    /// Number of peer columns (default: detected from the largest `S<n>`).
    #[arg(short = 'c', long)]
    columns: Option<usize>,
    /// Width of one column (default: fit the terminal, else 36).
    #[arg(short = 'w', long)]
    width: Option<usize>,
    /// Only these topics, comma-separated (e.g. VOTE,LEAD).
    #[arg(short = 'i', long = "include", value_name = "TOPICS")]
    include: Vec<String>,
    /// Hide these topics, comma-separated (e.g. TIMR,PERS).
    #[arg(short = 'x', long = "exclude", value_name = "TOPICS")]
    exclude: Vec<String>,
    /// Only events at or after this time (ms).
    #[arg(long, value_name = "MS")]
    from: Option<u64>,
    /// Only events at or before this time (ms).
    #[arg(long, value_name = "MS")]
    to: Option<u64>,
    /// Colour even when stdout is not a terminal (e.g. for `less -R`).
    #[arg(long, conflicts_with = "no_color")]
    color: bool,
    /// Never colour.
    #[arg(long)]
    no_color: bool,
    /// Leave out the column header.
    #[arg(long)]
    no_header: bool,
}

/// Column width fitting the terminal (`$COLUMNS`, else the size of the
/// terminal on stdout, else 36 per column).
fn auto_width(columns: usize) -> usize {
    let total = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<usize>().ok())
        .or_else(|| console::Term::stdout().size_checked().map(|(_, cols)| usize::from(cols)));
    match total {
        Some(t) => {
            let n = columns.max(1);
            (t.saturating_sub(7 + 3 * (n - 1)) / n).max(16)
        }
        None => 36,
    }
}

fn read_input(file: &Option<PathBuf>) -> std::io::Result<String> {
    let mut buf = Vec::new();
    match file {
        Some(p) if p.as_os_str() != "-" => {
            std::fs::File::open(p)?.read_to_end(&mut buf)?;
        }
        _ => {
            std::io::stdin().lock().read_to_end(&mut buf)?;
        }
    }
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

fn main() -> ExitCode {
    let args = Args::parse();
    let text = match read_input(&args.file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("dslogs: {e}");
            return ExitCode::FAILURE;
        }
    };
    let lines: Vec<logfmt::Line> = text.lines().map(logfmt::parse_line).collect();
    let filter = Filter {
        include: args.include.iter().flat_map(|l| logfmt::parse_topics(l)).collect(),
        exclude: args.exclude.iter().flat_map(|l| logfmt::parse_topics(l)).collect(),
        from_ms: args.from,
        to_ms: args.to,
    };
    let columns = args.columns.unwrap_or_else(|| logfmt::detect_peers(&lines)).max(1);
    let opts = ViewOpts {
        columns,
        width: args.width.unwrap_or_else(|| auto_width(columns)).max(4),
        color: !args.no_color && (args.color || std::io::stdout().is_terminal()),
    };
    let kept = logfmt::filter_lines(&lines, &filter);
    let mut rendered = logview::render(&kept, &opts);
    if args.no_header {
        rendered.drain(..2);
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for l in rendered {
        if writeln!(out, "{l}").is_err() {
            return ExitCode::SUCCESS; // e.g. `| head`: a closed pipe is fine
        }
    }
    let _ = out.flush();
    ExitCode::SUCCESS
}
