//! Debug logging for the lab kit: one line per event, off by default.
//!
//! Raft, the key/value service and the tester log through the [`log`]
//! facade; [`init`] installs a logger that filters by the `RAFT_LOG`
//! environment variable and has `simplelog` write the lines to stderr, as
//!
//! ```text
//! <ms since init, 6 digits> <TOPIC> S<peer> T<term> <text>
//! 001234 VOTE S2 T3 granted vote to S1
//! 001240 TEST crash S2
//! 001250 DBUG mycrate::module: a plain log::debug! line
//! ```
//!
//! so that the `dslogs` viewer can put each peer in a column.
//!
//! # Topics and levels
//! A line is about a [`Topic`] (`VOTE`, `LEAD`, `TERM`, `LOG`, `CMIT`,
//! `APLY`, `PERS`, `SNAP`, `TIMR`, `DROP`, `SERV`, `CLNT`, `TEST`), which is
//! its `log` target. Levels mean something: leadership, terms and the
//! tester's events are `info`; the other events `debug`; every RPC sent and
//! received is `trace` (under the topic it belongs to: `VOTE` for
//! RequestVote, `LOG` for AppendEntries, `SNAP` for InstallSnapshot).
//! Plain `log::info!` & co. from any crate show up in the same stream,
//! tagged with their level (`ERRO`, `WARN`, `INFO`, `DBUG`, `TRCE`) and
//! their target.
//!
//! # `RAFT_LOG`
//! - unset, empty or `0`: nothing (the default);
//! - `1`: every topic at debug (every event but the RPC traces);
//! - `trace`, `debug`, `info`, ...: every line up to that level;
//! - `VOTE,LEAD`: only those topics;
//! - `RUST_LOG`-style directives: `info,LOG=trace,PERS=off,kvraft=debug`
//!   (a level sets the default; `TOPIC=level` one topic; a lower-case
//!   `module::path=level` the plain records of that module).
//!
//! An unknown topic or level is an error naming it and listing the known
//! ones ([`init`] returns it; [`init_or_panic`] panics with it), never a
//! silent empty log.
//!
//! # Macros
//! - [`dlog!`]`(Topic::Vote, peer, term, "granted vote to S{}", c)`: an
//!   event at its topic's level;
//! - [`dtrace!`]`(Topic::Log, peer, term, "-> S{} {}", to, args)`: an RPC,
//!   at trace;
//! - [`tlog!`]`("crash S{}", i)`: a tester event (topic `TEST`, no peer).
//!
//! Arguments are formatted only when the line is printed; with logging off
//! a call site costs one atomic load.

mod filter;
mod logger;
mod topic;

pub use filter::{Filter, FilterError};
pub use logger::{init, init_or_panic};
pub use topic::{all_tags, level_tag, Topic};

#[doc(hidden)]
pub use log as __log;

/// `dlog!(topic, peer, term, "format", args...)`: one event of `peer` in
/// `term`, at the topic's level ([`Topic::level`]).
#[macro_export]
macro_rules! dlog {
    ($topic:expr, $peer:expr, $term:expr, $($arg:tt)+) => {{
        let topic: $crate::Topic = $topic;
        $crate::__log::log!(target: topic.tag(), topic.level(), "S{} T{} {}", $peer, $term, format_args!($($arg)+))
    }};
}

/// `dtrace!(topic, peer, term, "format", args...)`: like [`dlog!`], at
/// trace level: every RPC sent and received.
#[macro_export]
macro_rules! dtrace {
    ($topic:expr, $peer:expr, $term:expr, $($arg:tt)+) => {{
        let topic: $crate::Topic = $topic;
        $crate::__log::log!(target: topic.tag(), $crate::__log::Level::Trace, "S{} T{} {}", $peer, $term, format_args!($($arg)+))
    }};
}

/// `tlog!("format", args...)`: one of the tester's events (topic `TEST`,
/// info level, no peer or term).
#[macro_export]
macro_rules! tlog {
    ($($arg:tt)+) => {
        $crate::__log::log!(target: $crate::Topic::Test.tag(), $crate::Topic::Test.level(), $($arg)+)
    };
}
