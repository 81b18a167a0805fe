//! The topics a line can be about, each a `log` target with a default level.

use log::Level;

/// What a line is about. Its [`Topic::tag`] is the line's `log` target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Topic {
    /// Elections: votes asked, granted, refused.
    Vote,
    /// Leadership won or lost.
    Lead,
    /// Term changes.
    Term,
    /// Log appends, truncations, conflicts, AppendEntries.
    Log,
    /// Commit index changes.
    Cmit,
    /// Deliveries to the service on the apply channel.
    Aply,
    /// Persistence.
    Pers,
    /// Snapshots taken, sent, installed.
    Snap,
    /// Timers: election timeouts.
    Timr,
    /// Stale or ignored messages, lost sends.
    Drop,
    /// A service's server: operations submitted, applied, duplicates,
    /// leadership lost.
    Serv,
    /// A service's client (Clerk): calls, retries, leader changes.
    Clnt,
    /// The tester's own events (crash, connect, one(), failures). Lines of
    /// this topic carry no peer and no term.
    Test,
}

impl Topic {
    /// Every topic, in the order the log viewer shows them.
    pub const ALL: [Topic; 13] = [
        Topic::Vote,
        Topic::Lead,
        Topic::Term,
        Topic::Log,
        Topic::Cmit,
        Topic::Aply,
        Topic::Pers,
        Topic::Snap,
        Topic::Timr,
        Topic::Drop,
        Topic::Serv,
        Topic::Clnt,
        Topic::Test,
    ];

    /// The tag printed in the line and used as the `log` target.
    pub const fn tag(self) -> &'static str {
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
            Topic::Serv => "SERV",
            Topic::Clnt => "CLNT",
            Topic::Test => "TEST",
        }
    }

    /// The level of the topic's ordinary events: leadership, terms and the
    /// tester's events at info, the rest at debug. (Every RPC sent and
    /// received is logged at trace, under the topic it belongs to.)
    pub const fn level(self) -> Level {
        match self {
            Topic::Lead | Topic::Term | Topic::Test => Level::Info,
            _ => Level::Debug,
        }
    }

    /// The topic whose tag is `tag` (any case).
    pub fn from_tag(tag: &str) -> Option<Topic> {
        Topic::ALL.into_iter().find(|t| t.tag().eq_ignore_ascii_case(tag))
    }

    /// The tags of all topics, comma-separated (for error messages).
    pub fn known() -> String {
        Topic::ALL.map(Topic::tag).join(", ")
    }
}

/// The tag a plain `log` record (one not about a [`Topic`]) is printed
/// under: its level, in four letters.
pub const fn level_tag(level: Level) -> &'static str {
    match level {
        Level::Error => "ERRO",
        Level::Warn => "WARN",
        Level::Info => "INFO",
        Level::Debug => "DBUG",
        Level::Trace => "TRCE",
    }
}

/// Every tag a line can carry: the topics', then the plain records' levels.
pub fn all_tags() -> Vec<&'static str> {
    let levels = [Level::Error, Level::Warn, Level::Info, Level::Debug, Level::Trace].map(level_tag);
    Topic::ALL.iter().map(|t| t.tag()).chain(levels).collect()
}
