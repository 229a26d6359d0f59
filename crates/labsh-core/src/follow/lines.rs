//! The one line splitter: every stream of text labsh follows (tcpdump's pipes, pod logs,
//! exec output in a pod or a node) becomes lines here.
//!
//! Hand-written as a `tokio_util::codec::Decoder` rather than `LinesCodec`, because
//! `LinesCodec` fails the whole stream on the first invalid UTF-8 byte and, past its maximum
//! length, discards the rest of the line silently. The streams labsh follows carry bytes it
//! does not control (a pod logs anything, tcpdump prints payloads): a line is decoded
//! lossily (invalid bytes become U+FFFD) and a line longer than the maximum is cut into
//! pieces of at most that length, so memory stays bounded and nothing is lost silently.
//! A `\r` before the `\n` is dropped (CRLF logs). Saved captures read back
//! ([`crate::tcpdump::read`]) want an overlong line skipped whole instead, as a record that is
//! not a packet: [`WholeLines`] says so with `None`, over the same splitting.

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

impl LineDecoder {
    /// The next line's bytes (without the newline) and whether a newline ended it; `false`:
    /// the first `max` bytes of a longer line.
    fn split(&mut self, buf: &mut BytesMut) -> Option<(BytesMut, bool)> {
        let end = buf.len().min(self.max + 1);
        match memchr::memchr(b'\n', &buf[self.searched..end]) {
            Some(i) => {
                let mut line = buf.split_to(self.searched + i + 1);
                self.searched = 0;
                line.truncate(line.len() - 1);
                Some((line, true))
            }
            None if buf.len() > self.max => {
                // Too long: its first `max` bytes are a piece of their own.
                self.searched = 0;
                Some((buf.split_to(self.max), false))
            }
            None => {
                self.searched = buf.len();
                None
            }
        }
    }

    /// At the end of the input: the last bytes, without a newline.
    fn split_eof(&mut self, buf: &mut BytesMut) -> Option<(BytesMut, bool)> {
        if let Some(line) = self.split(buf) {
            return Some(line);
        }
        self.searched = 0;
        (!buf.is_empty()).then(|| (buf.split_to(buf.len()), true))
    }
}

impl Decoder for LineDecoder {
    type Item = String;
    type Error = std::io::Error;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<String>, std::io::Error> {
        Ok(self.split(buf).map(|(line, _)| text(&line)))
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<String>, std::io::Error> {
        Ok(self.split_eof(buf).map(|(line, _)| text(&line)))
    }
}

/// Lines kept whole: a line longer than the maximum is `None`, once, its bytes dropped as
/// they come (memory stays bounded by the maximum).
#[derive(Debug, Clone)]
pub struct WholeLines {
    decoder: LineDecoder,
    /// Inside a line too long to keep.
    in_long: bool,
}

impl WholeLines {
    /// Lines of at most `max` bytes.
    pub fn new(max: usize) -> Self {
        WholeLines {
            decoder: LineDecoder::new(max),
            in_long: false,
        }
    }

    fn item(&mut self, piece: Option<(BytesMut, bool)>) -> Option<Option<String>> {
        let (line, ended) = piece?;
        if !ended {
            self.in_long = true;
            return None;
        }
        if std::mem::take(&mut self.in_long) {
            return Some(None);
        }
        Some(Some(text(&line)))
    }
}

impl Decoder for WholeLines {
    type Item = Option<String>;
    type Error = std::io::Error;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Option<String>>, std::io::Error> {
        loop {
            let piece = self.decoder.split(buf);
            let more = matches!(piece, Some((_, false)));
            match self.item(piece) {
                Some(line) => return Ok(Some(line)),
                None if more => continue,
                None => return Ok(None),
            }
        }
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Option<String>>, std::io::Error> {
        if let Some(line) = self.decode(buf)? {
            return Ok(Some(line));
        }
        let piece = self.decoder.split_eof(buf);
        if let Some(line) = self.item(piece) {
            return Ok(Some(line));
        }
        // The input ended inside a line too long to keep.
        Ok(std::mem::take(&mut self.in_long).then_some(None))
    }
}

/// Reads `reader` to its end (or until `each` says stop) through `decoder`, synchronously:
/// what [`lines`] does for async readers, for files.
pub fn read_sync<D>(
    mut reader: impl std::io::Read,
    mut decoder: D,
    mut each: impl FnMut(D::Item) -> bool,
) -> std::io::Result<()>
where
    D: Decoder<Error = std::io::Error>,
{
    let mut buf = BytesMut::with_capacity(64 << 10);
    let mut chunk = vec![0u8; 64 << 10];
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        buf.extend_from_slice(&chunk[..n]);
        loop {
            let item = if n == 0 {
                decoder.decode_eof(&mut buf)?
            } else {
                decoder.decode(&mut buf)?
            };
            let Some(item) = item else { break };
            if !each(item) {
                return Ok(());
            }
        }
        if n == 0 {
            return Ok(());
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

    #[test]
    fn whole_lines_skip_an_overlong_line_once_and_keep_the_rest() {
        let mut got = Vec::new();
        let input = b"ok\nabcdefghij\nxy\nlong-to-the-end";
        read_sync(&input[..], WholeLines::new(4), |l| {
            got.push(l);
            true
        })
        .unwrap();
        assert_eq!(
            got,
            [Some("ok".to_string()), None, Some("xy".to_string()), None]
        );
    }

    #[test]
    fn read_sync_stops_when_told_and_gives_the_unterminated_last_line() {
        let mut got = Vec::new();
        read_sync(&b"a\r\nb\nc"[..], LineDecoder::default(), |l| {
            got.push(l);
            true
        })
        .unwrap();
        assert_eq!(got, ["a", "b", "c"]);
        let mut first = Vec::new();
        read_sync(&b"a\nb\nc\n"[..], LineDecoder::default(), |l| {
            first.push(l);
            false
        })
        .unwrap();
        assert_eq!(first, ["a"]);
    }
}
