//! Debug logging: one line per event, off by default.
//!
//! `RAFT_LOG=1` switches it on (`RAFT_LOG=VOTE,LEAD` keeps only those
//! topics). Lines go to stderr as
//! `<ms since start, 6 digits> <TOPIC> S<peer> T<term> <text>`, e.g.
//! `001234 VOTE S2 T3 granted vote to S1`, so that the `dslogs` viewer can
//! put each peer in a column. The tester's own events use the topic `TEST`
//! and no peer.

use std::sync::OnceLock;
use std::time::Instant;

/// What a line is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Topic {
    /// Elections: votes asked, granted, refused.
    Vote,
    /// Leadership won or lost.
    Lead,
    /// Term changes.
    Term,
    /// Log appends, truncations, conflicts.
    Log,
    /// Commit index changes.
    Cmit,
    /// Deliveries to the service.
    Aply,
    /// Persistence.
    Pers,
    /// Snapshots taken, sent, installed.
    Snap,
    /// Timers: election timeouts.
    Timr,
    /// Stale or ignored messages.
    Drop,
    /// The tester's own events.
    Test,
}

impl Topic {
    /// The four-letter tag printed in the log.
    pub fn tag(self) -> &'static str {
        match self {
            Topic::Vote => "VOTE",
            Topic::Lead => "LEAD",
            Topic::Term => "TERM",
            Topic::Log => "LOG",
            Topic::Cmit => "CMIT",
            Topic::Aply => "APLY",
            Topic::Pers => "PERS",
            Topic::Snap => "SNAP",
            Topic::Timr => "TIMR",
            Topic::Drop => "DROP",
            Topic::Test => "TEST",
        }
    }
}

struct Config {
    start: Instant,
    /// `None`: everything; `Some(tags)`: only those.
    topics: Option<Vec<String>>,
}

fn config() -> Option<&'static Config> {
    static CONFIG: OnceLock<Option<Config>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let v = std::env::var("RAFT_LOG").ok()?;
            let v = v.trim();
            if v.is_empty() || v == "0" {
                return None;
            }
            let topics = (v != "1").then(|| v.split(',').map(|t| t.trim().to_uppercase()).collect());
            Some(Config { start: Instant::now(), topics })
        })
        .as_ref()
}

/// True if lines of `topic` are printed.
pub fn enabled(topic: Topic) -> bool {
    config().is_some_and(|c| c.topics.as_ref().is_none_or(|t| t.iter().any(|x| x == topic.tag())))
}

/// Prints one line for peer `peer` in term `term` (no peer: tester events).
pub fn print(topic: Topic, peer: Option<usize>, term: u64, args: std::fmt::Arguments<'_>) {
    let Some(c) = config() else { return };
    let ms = c.start.elapsed().as_millis();
    match peer {
        Some(p) => eprintln!("{ms:06} {} S{p} T{term} {args}", topic.tag()),
        None => eprintln!("{ms:06} {} {args}", topic.tag()),
    }
}

/// `dlog!(topic, peer, term, "format", args...)`: a debug line, formatted
/// only when its topic is on.
#[macro_export]
macro_rules! dlog {
    ($topic:expr, $peer:expr, $term:expr, $($arg:tt)*) => {
        if $crate::debug::enabled($topic) {
            $crate::debug::print($topic, Some($peer), $term, format_args!($($arg)*));
        }
    };
}
