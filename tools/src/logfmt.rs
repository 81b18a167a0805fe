//! Parsing of the Raft debug log (`RAFT_LOG=1`).
//!
//! One event per line: `<elapsed ms, 6+ digits> <TOPIC> S<peer> T<term> <text>`,
//! e.g. `001234 VOTE S2 T3 granted vote to S1`. Tester events have no peer:
//! `001234 TEST crash S2`. Anything else (panics, libtest output, headers)
//! is a raw line, to be shown verbatim.

/// Tags a log line can carry, in display order: the topics of Raft, the
/// services and the tester, then the levels of plain `log` records
/// (`lablog` is where they are defined).
pub fn topics() -> Vec<&'static str> {
    lablog::all_tags()
}

/// One parsed debug-log event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Milliseconds since the start of the test.
    pub ms: u64,
    /// Upper-case topic, e.g. `VOTE`.
    pub topic: String,
    /// Peer index (`S<n>`), `None` for tester events.
    pub peer: Option<usize>,
    /// Term (`T<n>`), when given.
    pub term: Option<u64>,
    /// The rest of the line.
    pub text: String,
}

/// A line of a log file: an event, or anything else (shown as-is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Event(Event),
    Raw(String),
}

/// Parses `S<digits>`/`T<digits>` style tokens.
fn tagged_number(tok: &str, tag: char) -> Option<u64> {
    let digits = tok.strip_prefix(tag)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Splits off the first space-separated token.
fn split_token(s: &str) -> (&str, &str) {
    match s.split_once(' ') {
        Some((a, b)) => (a, b),
        None => (s, ""),
    }
}

/// Parses one log line (without its newline) into an event, or `None` if it
/// is not in the debug-log format.
pub fn parse_event(line: &str) -> Option<Event> {
    let line = line.strip_suffix('\r').unwrap_or(line);
    let (ms_tok, rest) = split_token(line);
    if ms_tok.len() < 6 || !ms_tok.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let ms: u64 = ms_tok.parse().ok()?;
    let (topic, rest) = split_token(rest);
    if !(2..=5).contains(&topic.len()) || !topic.bytes().all(|b| b.is_ascii_uppercase()) {
        return None;
    }
    let mut ev = Event { ms, topic: topic.to_string(), peer: None, term: None, text: String::new() };
    let mut rest = rest;
    if topic != "TEST" {
        let (tok, after) = split_token(rest);
        if let Some(p) = tagged_number(tok, 'S') {
            ev.peer = usize::try_from(p).ok();
            rest = after;
            let (tok, after) = split_token(rest);
            if let Some(t) = tagged_number(tok, 'T') {
                ev.term = Some(t);
                rest = after;
            }
        }
    }
    ev.text = rest.to_string();
    Some(ev)
}

/// Parses one line of a log file.
pub fn parse_line(line: &str) -> Line {
    match parse_event(line) {
        Some(ev) => Line::Event(ev),
        None => Line::Raw(line.strip_suffix('\r').unwrap_or(line).to_string()),
    }
}

/// Number of peers seen: one more than the largest `S<n>` of an event.
pub fn detect_peers(lines: &[Line]) -> usize {
    lines
        .iter()
        .filter_map(|l| match l {
            Line::Event(e) => e.peer,
            Line::Raw(_) => None,
        })
        .max()
        .map_or(0, |m| m + 1)
}

/// Parses a comma-separated topic list (`VOTE,lead`) to upper case.
pub fn parse_topics(list: &str) -> Vec<String> {
    list.split([',', ' ']).map(|t| t.trim().to_ascii_uppercase()).filter(|t| !t.is_empty()).collect()
}

/// Which lines to keep.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only these topics (empty: all). `TEST` banners are kept unless excluded.
    pub include: Vec<String>,
    /// Never these topics.
    pub exclude: Vec<String>,
    /// Keep events at or after this time.
    pub from_ms: Option<u64>,
    /// Keep events at or before this time.
    pub to_ms: Option<u64>,
}

impl Filter {
    /// Whether the time is inside the range.
    pub fn in_range(&self, ms: u64) -> bool {
        self.from_ms.filter(|&from| from > ms).is_none() && self.to_ms.filter(|&to| ms > to).is_none()
    }

    /// Whether an event is shown.
    pub fn keeps(&self, ev: &Event) -> bool {
        if self.exclude.contains(&ev.topic) {
            return false;
        }
        let topic_ok = self.include.is_empty() || ev.topic == "TEST" || self.include.contains(&ev.topic);
        topic_ok && self.in_range(ev.ms)
    }
}

/// Applies the filter to a whole file. Raw lines are kept, except that with a
/// time range they follow the time of the last event before them (raw lines
/// before the first event, such as a header, are always kept).
pub fn filter_lines(lines: &[Line], f: &Filter) -> Vec<Line> {
    let mut last_ms: Option<u64> = None;
    let mut out = Vec::new();
    for l in lines {
        match l {
            Line::Event(ev) => {
                last_ms = Some(ev.ms);
                if f.keeps(ev) {
                    out.push(l.clone());
                }
            }
            Line::Raw(_) => {
                if last_ms.filter(|&ms| !f.in_range(ms)).is_none() {
                    out.push(l.clone());
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_peer_event() {
        let ev = parse_event("001234 VOTE S2 T3 granted vote to S1").unwrap();
        assert_eq!(ev.ms, 1234);
        assert_eq!(ev.topic, "VOTE");
        assert_eq!(ev.peer, Some(2));
        assert_eq!(ev.term, Some(3));
        assert_eq!(ev.text, "granted vote to S1");
    }

    #[test]
    fn parses_tester_events_without_peer() {
        let ev = parse_event("001234 TEST crash S2").unwrap();
        assert_eq!((ev.peer, ev.term), (None, None));
        assert_eq!(ev.text, "crash S2");
        let ev = parse_event("001500 TEST Test (3A): initial election").unwrap();
        assert_eq!(ev.text, "Test (3A): initial election");
    }

    #[test]
    fn parses_short_topic_long_time_and_missing_term() {
        let ev = parse_event("12345678 LOG S10 appended").unwrap();
        assert_eq!(ev.ms, 12_345_678);
        assert_eq!(ev.topic, "LOG");
        assert_eq!((ev.peer, ev.term), (Some(10), None));
        assert_eq!(ev.text, "appended");
        let ev = parse_event("000001 WARN S0 T7").unwrap();
        assert_eq!(ev.text, "");
        assert_eq!(ev.term, Some(7));
    }

    #[test]
    fn other_lines_are_raw() {
        for l in [
            "test basic_agree_3b ... ok",
            "thread 'x' panicked at src/lib.rs:1:1:",
            "12345 VOTE S1 T1 too few digits",
            "001234 vote S1 T1 lower-case topic",
            "001234",
            "",
            "# dstest run 3 of 100, seed 42",
            "  ... Passed --   3.1  3  112   30236    0",
        ] {
            assert_eq!(parse_line(l), Line::Raw(l.to_string()), "{l}");
        }
    }

    #[test]
    fn detects_peers_and_topics() {
        let lines: Vec<Line> =
            ["000001 VOTE S0 T1 a", "000002 LEAD S4 T1 b", "junk"].iter().map(|l| parse_line(l)).collect();
        assert_eq!(detect_peers(&lines), 5);
        assert_eq!(parse_topics("vote, LEAD,,timr"), ["VOTE", "LEAD", "TIMR"]);
    }

    #[test]
    fn filters_topics_and_time() {
        let lines: Vec<Line> = [
            "header",
            "000010 VOTE S0 T1 a",
            "000020 TIMR S1 T1 b",
            "panic here",
            "000030 TEST crash S1",
            "000040 LEAD S0 T1 c",
            "late raw",
        ]
        .iter()
        .map(|l| parse_line(l))
        .collect();
        let f = Filter { include: parse_topics("VOTE,LEAD"), ..Filter::default() };
        let kept = filter_lines(&lines, &f);
        assert_eq!(kept.len(), 6); // everything except TIMR
        let f = Filter { exclude: parse_topics("TEST"), from_ms: Some(15), to_ms: Some(35), ..Filter::default() };
        let kept = filter_lines(&lines, &f);
        let raw: Vec<&Line> = kept.iter().collect();
        assert_eq!(raw.len(), 3); // header, TIMR, "panic here"
        assert_eq!(kept[0], Line::Raw("header".into()));
        assert_eq!(kept[2], Line::Raw("panic here".into()));
    }
}
