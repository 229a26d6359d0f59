//! The one line splitter: every stream of text labsh follows (tcpdump's pipes, pod logs,
//! exec output in a pod or a node) becomes lines here.
//!
//! Hand-written as a `tokio_util::codec::Decoder` rather than `LinesCodec`, because
//! `LinesCodec` fails the whole stream on the first invalid UTF-8 byte and, past its maximum
//! length, discards the rest of the line silently. The streams labsh follows carry bytes it
//! does not control (a pod logs anything, tcpdump prints payloads): a line is decoded
//! lossily (invalid bytes become U+FFFD) and a line longer than the maximum is cut into
//! pieces of at most that length, so memory stays bounded and nothing is lost silently.
//! A `\r` before the `\n` is dropped (CRLF logs).

use bytes::BytesMut;
use tokio::io::AsyncRead;
use tokio_util::codec::{Decoder, FramedRead};

/// The longest line kept whole by default (1 MiB): a longer one arrives in pieces.
pub const MAX_LINE: usize = 1 << 20;

/// Splits bytes into lines (without their line ending), lossily decoded.
#[derive(Debug, Clone)]
pub struct LineDecoder {
    max: usize,
    /// Bytes of the buffer already searched for a newline.
    searched: usize,
}

impl Default for LineDecoder {
    fn default() -> Self {
        LineDecoder::new(MAX_LINE)
    }
}

impl LineDecoder {
    /// A decoder cutting lines longer than `max` bytes (at least 1) into pieces.
    pub fn new(max: usize) -> Self {
        LineDecoder {
            max: max.max(1),
            searched: 0,
        }
    }
}

fn text(line: &[u8]) -> String {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    String::from_utf8_lossy(line).into_owned()
}

impl Decoder for LineDecoder {
    type Item = String;
    type Error = std::io::Error;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<String>, std::io::Error> {
        let end = buf.len().min(self.max + 1);
        match memchr::memchr(b'\n', &buf[self.searched..end]) {
            Some(i) => {
                let line = buf.split_to(self.searched + i + 1);
                self.searched = 0;
                Ok(Some(text(&line[..line.len() - 1])))
            }
            None if buf.len() > self.max => {
                // Too long: its first `max` bytes are a line of their own.
                let piece = buf.split_to(self.max);
                self.searched = 0;
                Ok(Some(text(&piece)))
            }
            None => {
                self.searched = buf.len();
                Ok(None)
            }
        }
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<String>, std::io::Error> {
        if let Some(line) = self.decode(buf)? {
            return Ok(Some(line));
        }
        self.searched = 0;
        if buf.is_empty() {
            Ok(None)
        } else {
            // The last line, without a newline.
            let rest = buf.split_to(buf.len());
            Ok(Some(text(&rest)))
        }
    }
}

/// The lines of `reader`, as a stream (cancel-safe: a line half read stays buffered).
pub fn lines<R: AsyncRead>(reader: R) -> FramedRead<R, LineDecoder> {
    FramedRead::new(reader, LineDecoder::default())
}

/// The splitter for bytes that arrive in chunks outside a reader (Docker exec output).
#[derive(Debug, Default)]
pub struct LineSplitter {
    buf: BytesMut,
    decoder: LineDecoder,
}

impl LineSplitter {
    /// Feeds bytes; returns the lines they complete.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        self.buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        while let Ok(Some(line)) = self.decoder.decode(&mut self.buf) {
            out.push(line);
        }
        out
    }

    /// The last line, if the stream did not end with a newline.
    pub fn finish(&mut self) -> Option<String> {
        self.decoder.decode_eof(&mut self.buf).ok().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    #[test]
    fn line_splitter_joins_chunks_and_keeps_the_last_partial_line() {
        let mut s = LineSplitter::default();
        assert_eq!(s.push(b"ab"), Vec::<String>::new());
        assert_eq!(s.push(b"c\r\nd\ne"), vec!["abc", "d"]);
        assert_eq!(s.push(b"f\n"), vec!["ef"]);
        assert_eq!(s.push(b"tail"), Vec::<String>::new());
        assert_eq!(s.finish().as_deref(), Some("tail"));
        assert_eq!(s.finish(), None);
    }

    #[test]
    fn invalid_utf8_is_replaced_not_fatal() {
        let mut s = LineSplitter::default();
        assert_eq!(s.push(b"a\xffb\nok\n"), vec!["a\u{fffd}b", "ok"]);
    }

    #[test]
    fn a_line_longer_than_the_maximum_comes_in_pieces() {
        let mut d = LineDecoder::new(4);
        let mut buf = BytesMut::from(&b"abcdefghij\nxy\n"[..]);
        let mut out = Vec::new();
        while let Some(l) = d.decode(&mut buf).unwrap() {
            out.push(l);
        }
        assert_eq!(out, ["abcd", "efgh", "ij", "xy"]);
        assert!(buf.is_empty());
    }

    #[test]
    fn a_reader_gives_its_lines_and_the_unterminated_last_one() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let reader: &[u8] = b"one\r\ntwo\n\nthree";
        let got: Vec<String> = rt.block_on(lines(reader).map(|l| l.unwrap()).collect());
        assert_eq!(got, ["one", "two", "", "three"]);
    }
}
