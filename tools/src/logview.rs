//! Column layout of the Raft debug log for `dslogs`: one column per peer,
//! word-wrapped cells, topic colours, tester events as full-width banners.

use crate::logfmt::{Event, Line};

/// Layout options.
#[derive(Debug, Clone)]
pub struct ViewOpts {
    /// Number of peer columns.
    pub columns: usize,
    /// Width of one column, in characters.
    pub width: usize,
    /// Emit ANSI colours.
    pub color: bool,
}

const SEP: &str = " │ ";
const RESET: &str = "\x1b[0m";

/// ANSI colour of a topic.
pub fn topic_color(topic: &str) -> &'static str {
    match topic {
        "VOTE" => "\x1b[35m",      // magenta
        "LEAD" => "\x1b[1;33m",    // bold yellow
        "TERM" => "\x1b[36m",      // cyan
        "LOG" => "\x1b[34m",       // blue
        "CMIT" => "\x1b[32m",      // green
        "APLY" => "\x1b[92m",      // bright green
        "PERS" => "\x1b[90m",      // grey
        "SNAP" => "\x1b[96m",      // bright cyan
        "TIMR" => "\x1b[2m",       // dim
        "DROP" => "\x1b[31m",      // red
        "SERV" => "\x1b[95m",      // bright magenta
        "CLNT" => "\x1b[94m",      // bright blue
        "WARN" => "\x1b[93m",      // bright yellow
        "ERRO" => "\x1b[1;97;41m", // bold white on red
        "TEST" => "\x1b[1;97;44m", // bold white on blue
        _ => "\x1b[37m",
    }
}

fn paint(text: &str, code: &str, color: bool) -> String {
    if color && !text.is_empty() {
        format!("{code}{text}{RESET}")
    } else {
        text.to_string()
    }
}

fn char_len(s: &str) -> usize {
    s.chars().count()
}

/// Greedy word wrap to `width` characters; words longer than the width are
/// split. Always returns at least one (possibly empty) line.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut cur = String::new();
    let mut cur_len = 0;
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        loop {
            let need = if cur_len == 0 { word.len() } else { cur_len + 1 + word.len() };
            if need <= width {
                if cur_len > 0 {
                    cur.push(' ');
                    cur_len += 1;
                }
                cur.extend(word.iter());
                cur_len += word.len();
                break;
            }
            if cur_len > 0 {
                lines.push(std::mem::take(&mut cur));
                cur_len = 0;
                continue;
            }
            // Word alone is too long: hard split.
            let rest = word.split_off(width);
            lines.push(word.iter().collect());
            word = rest;
        }
    }
    if cur_len > 0 || lines.is_empty() {
        lines.push(cur);
    }
    lines
}

/// Total width of a rendered row: time gutter plus columns and separators.
pub fn total_width(o: &ViewOpts) -> usize {
    gutter_width() + o.columns.max(1) * o.width + (o.columns.max(1) - 1) * char_len(SEP)
}

fn gutter_width() -> usize {
    7
}

fn gutter(ms: Option<u64>) -> String {
    match ms {
        Some(ms) => format!("{:<6} ", format!("{ms:06}")),
        None => " ".repeat(gutter_width()),
    }
}

/// One physical row with `text` in column `col` and the others blank.
fn row(ms: Option<u64>, col: usize, text: &str, code: &str, o: &ViewOpts) -> String {
    let mut s = gutter(ms);
    for i in 0..o.columns.max(1) {
        if i > 0 {
            s.push_str(SEP);
        }
        if i == col {
            let pad = o.width.saturating_sub(char_len(text));
            s.push_str(&paint(text, code, o.color));
            s.push_str(&" ".repeat(pad));
        } else {
            s.push_str(&" ".repeat(o.width));
        }
    }
    s.trim_end().to_string()
}

/// Centres `text` in `width`, filling with `fill`.
pub fn centre(text: &str, width: usize, fill: char) -> String {
    let inner = format!(" {text} ");
    let len = char_len(&inner);
    if len >= width {
        return inner.trim().to_string();
    }
    let left = (width - len) / 2;
    let right = width - len - left;
    format!("{}{inner}{}", fill.to_string().repeat(left), fill.to_string().repeat(right))
}

/// Renders an event that spans all columns (tester events, events of peers
/// beyond the column count): centred banner after the time gutter.
fn render_banner(ev: &Event, o: &ViewOpts) -> Vec<String> {
    let span = total_width(o) - gutter_width();
    let mut text = String::new();
    if ev.topic != "TEST" {
        text.push_str(&ev.topic);
        text.push(' ');
    }
    if let Some(p) = ev.peer {
        text.push_str(&format!("S{p} "));
    }
    if let Some(t) = ev.term {
        text.push_str(&format!("T{t} "));
    }
    text.push_str(&ev.text);
    let fill = if ev.text.starts_with("Test (") { '═' } else { '─' };
    let mut out = Vec::new();
    for (i, chunk) in wrap(&text, span.saturating_sub(8)).iter().enumerate() {
        let line = centre(chunk, span, fill);
        let ms = if i == 0 { Some(ev.ms) } else { None };
        let painted = if o.color {
            // Colour the text, leave the fill plain.
            line.replacen(chunk.as_str(), &paint(chunk, topic_color(&ev.topic), true), 1)
        } else {
            line
        };
        out.push(format!("{}{painted}", gutter(ms)));
    }
    out
}

/// Renders one event as one or more physical lines.
pub fn render_event(ev: &Event, o: &ViewOpts) -> Vec<String> {
    let col = match ev.peer {
        Some(p) if p < o.columns && ev.topic != "TEST" => p,
        _ => return render_banner(ev, o),
    };
    let mut text = format!("{} ", ev.topic);
    if let Some(t) = ev.term {
        text.push_str(&format!("T{t} "));
    }
    text.push_str(&ev.text);
    let code = topic_color(&ev.topic);
    wrap(&text, o.width)
        .iter()
        .enumerate()
        .map(|(i, l)| row(if i == 0 { Some(ev.ms) } else { None }, col, l, code, o))
        .collect()
}

/// Header: peer names centred over their columns, then a rule.
pub fn header(o: &ViewOpts) -> Vec<String> {
    let mut names = gutter(None);
    let mut rule = "─".repeat(gutter_width());
    for i in 0..o.columns.max(1) {
        if i > 0 {
            names.push_str(SEP);
            rule.push_str("─┼─");
        }
        names.push_str(&centre(&format!("S{i}"), o.width, ' '));
        rule.push_str(&"─".repeat(o.width));
    }
    vec![names.trim_end().to_string(), rule]
}

/// Renders a whole (already filtered) log.
pub fn render(lines: &[Line], o: &ViewOpts) -> Vec<String> {
    let mut out = header(o);
    for l in lines {
        match l {
            Line::Event(ev) => out.extend(render_event(ev, o)),
            Line::Raw(s) => out.push(s.clone()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logfmt::{parse_event, parse_line};

    fn opts(columns: usize, width: usize) -> ViewOpts {
        ViewOpts { columns, width, color: false }
    }

    #[test]
    fn wraps_words_and_splits_long_ones() {
        assert_eq!(wrap("a bb ccc dddd", 6), ["a bb", "ccc", "dddd"]);
        assert_eq!(wrap("abcdefghij x", 4), ["abcd", "efgh", "ij x"]);
        assert_eq!(wrap("", 5), [""]);
        assert_eq!(wrap("  spaced   out  ", 20), ["spaced out"]);
    }

    #[test]
    fn puts_event_in_its_peer_column() {
        let o = opts(3, 10);
        let ev = parse_event("001234 VOTE S1 T3 granted vote to S0").unwrap();
        let lines = render_event(&ev, &o);
        let blank = " ".repeat(10);
        assert_eq!(lines[0], format!("001234 {blank} │ VOTE T3    │"));
        assert_eq!(lines[1], format!("       {blank} │ granted    │"));
        assert_eq!(lines[2], format!("       {blank} │ vote to S0 │"));
        // Column 1 starts at the same offset on every line.
        let off = 7 + 10 + 3;
        for l in &lines {
            assert_eq!(l.chars().nth(off - 2), Some('│'));
        }
    }

    #[test]
    fn last_column_and_first_column_layout() {
        let o = opts(2, 8);
        let ev = parse_event("000005 LEAD S0 T1 leader").unwrap();
        assert_eq!(render_event(&ev, &o), ["000005 LEAD T1  │", "       leader   │"]);
        let ev = parse_event("000005 CMIT S1 T2 ci=4").unwrap();
        assert_eq!(render_event(&ev, &o), ["000005          │ CMIT T2", "                │ ci=4"]);
    }

    #[test]
    fn test_events_are_centred_banners() {
        let o = opts(2, 10); // total width 7 + 20 + 3 = 30, span 23
        let ev = parse_event("001500 TEST crash S2").unwrap();
        let l = &render_event(&ev, &o)[0];
        assert_eq!(l, "001500 ────── crash S2 ───────");
        assert_eq!(l.chars().count(), total_width(&o));
        let ev = parse_event("000000 TEST Test (3A): x").unwrap();
        assert!(render_event(&ev, &o)[0].contains("═ Test (3A): x ═"));
    }

    #[test]
    fn peers_beyond_columns_span_and_raw_lines_pass_through() {
        let o = opts(2, 10);
        let lines =
            vec![parse_line("header line"), parse_line("000001 VOTE S5 T1 hi"), parse_line("thread 'x' panicked")];
        let out = render(&lines, &o);
        assert_eq!(out[0], "           S0     │     S1");
        assert_eq!(out[2], "header line");
        assert!(out[3].contains(" VOTE S5 T1 hi "));
        assert_eq!(out[4], "thread 'x' panicked");
    }

    #[test]
    fn colours_only_when_asked() {
        let mut o = opts(2, 12);
        let ev = parse_event("000001 ERRO S1 T1 bad").unwrap();
        assert!(!render_event(&ev, &o)[0].contains('\x1b'));
        o.color = true;
        let l = &render_event(&ev, &o)[0];
        assert!(l.contains("\x1b[1;97;41mERRO T1 bad\x1b[0m"));
    }
}
