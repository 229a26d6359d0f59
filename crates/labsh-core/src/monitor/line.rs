//! One `cilium monitor` line, text or `-j` JSON, into an [`Event`]: the line terminator goes,
//! a JSON object is read by [`super::json`], anything else by the text parser
//! ([`super::parse`]), each recording into the line's [`Fields`]; the event is built from
//! them. The two parsers meet only here, and the JSON one reads a debug capture's text halves
//! with the text parser's [`capture_parts`](super::parse::capture_parts): the files import
//! one way (this file → both, json → parse).

use super::event::{Event, Fields, Kind};

/// Parses one line (a trailing `\n` / `\r\n` is removed; the event owns a copy).
pub fn parse(line: &str) -> Event {
    parse_owned(line.to_string())
}

/// Parses one line, taking ownership of it (no copy).
pub fn parse_owned(mut line: String) -> Event {
    while line.ends_with('\n') || line.ends_with('\r') {
        line.pop();
    }
    let (kind, fields) = {
        let mut f = Fields::new(&line);
        let t = line.trim_start();
        let kind = if t.starts_with('{') {
            Some(super::json::parse_into(t, &mut f))
        } else {
            super::parse::text_into(t, &mut f)
        };
        let kind = kind.unwrap_or(Kind::Unknown);
        if kind == Kind::Unknown {
            f.clear();
        }
        (kind, f.into_parts())
    };
    Event::with_fields(kind, line, fields)
}
