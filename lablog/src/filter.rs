//! `RAFT_LOG`: which lines are printed.

use crate::topic::Topic;
use log::{Level, LevelFilter};
use std::collections::HashMap;
use std::fmt;

/// What `RAFT_LOG` asked for: a level per topic, a level per module-path
/// target of plain `log` records, and a default for everything else.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filter {
    default: LevelFilter,
    topics: HashMap<Topic, LevelFilter>,
    /// Module-path prefixes (`kvraft`, `mycrate::server`), longest match
    /// wins.
    modules: Vec<(String, LevelFilter)>,
}

/// A `RAFT_LOG` value that cannot be understood.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterError(String);

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RAFT_LOG: {}", self.0)
    }
}

impl std::error::Error for FilterError {}

fn parse_level(s: &str) -> Option<LevelFilter> {
    match s.to_ascii_lowercase().as_str() {
        "1" | "on" => Some(LevelFilter::Debug),
        "0" => Some(LevelFilter::Off),
        other => other.parse().ok(),
    }
}

/// A name that can only be meant as a topic: upper case letters, as the
/// tags are.
fn looks_like_topic(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_uppercase())
}

impl Filter {
    /// Nothing is printed.
    pub fn off() -> Filter {
        Filter { default: LevelFilter::Off, topics: HashMap::new(), modules: Vec::new() }
    }

    /// Parses a `RAFT_LOG` value: comma-separated directives, each
    /// - a level (`off`, `error`, `warn`, `info`, `debug`, `trace`; `1` is
    ///   `debug`, `0` is `off`): the default for every line;
    /// - a topic (`VOTE`, any case): that topic at debug;
    /// - `TOPIC=level`: that topic at that level;
    /// - `module::path=level` (lower case): plain `log` records whose target
    ///   starts with that path.
    ///
    /// Listing topics alone prints only them. An unknown topic, or an
    /// unknown level, is an error that names it and lists the known ones.
    pub fn parse(spec: &str) -> Result<Filter, FilterError> {
        let mut f = Filter::off();
        for d in spec.split([',', ' ']).map(str::trim).filter(|d| !d.is_empty()) {
            match d.split_once('=') {
                None => {
                    if let Some(level) = parse_level(d) {
                        f.default = level;
                    } else if let Some(t) = Topic::from_tag(d) {
                        f.topics.insert(t, LevelFilter::Debug);
                    } else {
                        return Err(FilterError(format!(
                            "unknown topic or level {d:?}; topics: {}; levels: off, error, warn, info, debug, trace",
                            Topic::known()
                        )));
                    }
                }
                Some((name, level)) => {
                    let level = parse_level(level.trim()).ok_or_else(|| {
                        FilterError(format!(
                            "unknown level {level:?} in {d:?}; levels: off, error, warn, info, debug, trace"
                        ))
                    })?;
                    let name = name.trim();
                    if let Some(t) = Topic::from_tag(name) {
                        f.topics.insert(t, level);
                    } else if looks_like_topic(name) || name.is_empty() {
                        return Err(FilterError(format!(
                            "unknown topic {name:?} in {d:?}; topics: {}",
                            Topic::known()
                        )));
                    } else {
                        f.modules.push((name.to_string(), level));
                    }
                }
            }
        }
        // Longest prefix first, so the most specific directive wins.
        f.modules.sort_by_key(|(m, _)| std::cmp::Reverse(m.len()));
        Ok(f)
    }

    /// The most verbose level any line can have (for `log::set_max_level`).
    pub fn max_level(&self) -> LevelFilter {
        let all = self.topics.values().chain(self.modules.iter().map(|(_, l)| l));
        all.copied().fold(self.default, Ord::max)
    }

    /// Is a record of `target` at `level` printed?
    pub fn enabled(&self, target: &str, level: Level) -> bool {
        let limit = match Topic::from_tag_exact(target) {
            Some(t) => self.topics.get(&t).copied().unwrap_or(self.default),
            None => self
                .modules
                .iter()
                .find(|(m, _)| {
                    target.strip_prefix(m.as_str()).is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
                })
                .map_or(self.default, |(_, l)| *l),
        };
        level <= limit
    }
}

impl Topic {
    /// The topic whose tag is exactly `target` (log targets are the tags).
    pub(crate) fn from_tag_exact(target: &str) -> Option<Topic> {
        Topic::ALL.into_iter().find(|t| t.tag() == target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_means_every_topic_at_debug_but_not_rpc_traces() {
        let f = Filter::parse("1").unwrap();
        assert!(f.enabled("VOTE", Level::Debug));
        assert!(f.enabled("LEAD", Level::Info));
        assert!(!f.enabled("LOG", Level::Trace));
        assert!(f.enabled("kvraft::server", Level::Debug));
        assert_eq!(f.max_level(), LevelFilter::Debug);
    }

    #[test]
    fn empty_zero_and_off_print_nothing() {
        for spec in ["", "0", "off", " , "] {
            let f = Filter::parse(spec).unwrap();
            assert_eq!(f.max_level(), LevelFilter::Off, "{spec:?}");
            assert!(!f.enabled("LEAD", Level::Error));
        }
    }

    #[test]
    fn a_topic_list_prints_only_those_topics() {
        let f = Filter::parse("VOTE,lead").unwrap();
        assert!(f.enabled("VOTE", Level::Debug));
        assert!(f.enabled("LEAD", Level::Info));
        assert!(!f.enabled("VOTE", Level::Trace));
        assert!(!f.enabled("LOG", Level::Error));
        assert!(!f.enabled("kvraft", Level::Error));
    }

    #[test]
    fn rust_log_style_directives() {
        let f = Filter::parse("info,LOG=trace,PERS=off,kvraft=debug,kvraft::client=warn").unwrap();
        assert!(f.enabled("LEAD", Level::Info));
        assert!(!f.enabled("VOTE", Level::Debug));
        assert!(f.enabled("LOG", Level::Trace));
        assert!(!f.enabled("PERS", Level::Error));
        assert!(f.enabled("kvraft::server", Level::Debug));
        assert!(!f.enabled("kvraft::client", Level::Info));
        assert!(f.enabled("kvraft::client", Level::Warn));
        assert!(!f.enabled("kvraftx", Level::Debug), "a prefix must end at a path separator");
        assert!(!f.enabled("other", Level::Debug));
        assert_eq!(f.max_level(), LevelFilter::Trace);
    }

    #[test]
    fn unknown_topics_and_levels_are_named() {
        let e = Filter::parse("VOTE,VOTEE").unwrap_err().to_string();
        assert!(e.contains("\"VOTEE\"") && e.contains("VOTE, LEAD"), "{e}");
        let e = Filter::parse("LAED=debug").unwrap_err().to_string();
        assert!(e.contains("unknown topic \"LAED\"") && e.contains("TEST"), "{e}");
        let e = Filter::parse("LOG=loud").unwrap_err().to_string();
        assert!(e.contains("unknown level \"loud\""), "{e}");
        assert!(Filter::parse("=debug").is_err());
    }
}
