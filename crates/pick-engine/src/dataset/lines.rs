//! Reading a JSON-lines shard as chunks of whole lines, decompressing as it goes.
//!
//! A chunk is the unit of parallel decoding: one thread decompresses and cuts lines, any
//! number of threads decode chunks into Arrow batches. Chunks carry the line and row number
//! they start at, so errors name the line and `_row` is exact whatever thread decodes them.

use std::io::{BufReader, Read};
use std::ops::Range;
use std::sync::Arc;

use crate::dataset::discover::{Codec, Shard};
use crate::error::{PickError, Result};

/// Bytes of decompressed text per chunk: big enough to amortise per-batch costs, small
/// enough that a few chunks in flight per core stay well inside memory.
pub const CHUNK_BYTES: usize = 4 << 20;

pub struct LineChunk {
    pub shard: Arc<Shard>,
    pub data: Vec<u8>,
    /// 1-based line number of the first line in `data`.
    pub first_line: u64,
    /// 0-based row index (non-blank lines before this chunk) of the first row in `data`.
    pub first_row: u64,
    /// Byte offset in the shard that `first_line` and `first_row` count from: 0, or the
    /// first line of a byte range of the shard (whose position in the file is not counted
    /// unless an error needs it: `absolute_line`).
    pub origin: u64,
}

impl LineChunk {
    /// The line number in the whole shard of line `line` of this chunk's numbering.
    pub fn line_in_shard(&self, line: u64) -> u64 {
        absolute_line(&self.shard, self.origin, line).unwrap_or(line)
    }
}

pub fn open(shard: &Shard, codec: Codec) -> Result<Box<dyn Read + Send>> {
    let buffered = BufReader::with_capacity(1 << 20, open_raw(shard, 0)?);
    Ok(match codec {
        Codec::Plain => Box::new(buffered),
        Codec::Zstd => Box::new(
            zstd::stream::read::Decoder::with_buffer(buffered)
                .map_err(|e| PickError::io(&shard.path, e))?,
        ),
        Codec::Gzip => Box::new(flate2::read::MultiGzDecoder::new(buffered)),
    })
}

/// The shard's stored bytes from `start` on.
fn open_raw(shard: &Shard, start: u64) -> Result<Box<dyn Read + Send>> {
    Ok(match &shard.object {
        Some(object) => Box::new(crate::store::read::RangedReader::new(
            object,
            start,
            shard.size,
            Some(&shard.version),
        )),
        None => Box::new(crate::store::local::open(&shard.path, start)?),
    })
}

/// The lines of an uncompressed shard whose first byte lies in a byte range, so that the
/// ranges of a split shard read every line exactly once: reading starts a byte early and
/// skips to the end of the line it lands in, and the line crossing the range's end is read
/// to its end.
struct RangeLines<R> {
    inner: R,
    /// Offset in the shard of the next byte `inner` gives.
    pos: u64,
    end: u64,
    done: bool,
}

impl<R: std::io::BufRead> RangeLines<R> {
    /// `inner` reads from `range.start - 1` (0 for the first range). Also returns the offset
    /// of the range's first line.
    fn new(mut inner: R, range: &Range<u64>) -> std::io::Result<(Self, u64)> {
        let mut first = range.start;
        if range.start > 0 {
            let mut skipped = Vec::new();
            inner.read_until(b'\n', &mut skipped)?;
            first = range.start - 1 + skipped.len() as u64;
        }
        let lines = RangeLines {
            inner,
            pos: first,
            end: range.end,
            done: first >= range.end,
        };
        Ok((lines, first))
    }
}

impl<R: Read> Read for RangeLines<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        let n = self.inner.read(buf)?;
        let at = self.pos;
        self.pos += n as u64;
        // The range's last line ends at the first newline at or past `end - 1`.
        let last = (self.end - 1).saturating_sub(at) as usize;
        if last < n
            && let Some(j) = memchr::memchr(b'\n', &buf[last..n])
        {
            self.done = true;
            return Ok(last + j + 1);
        }
        self.done = n == 0;
        Ok(n)
    }
}

/// The 1-based line number in the whole shard of line `line` counted from byte `origin` (the
/// start of a line): the newlines before `origin` are counted, reading the shard again.
fn absolute_line(shard: &Shard, origin: u64, line: u64) -> Result<u64> {
    if origin == 0 {
        return Ok(line);
    }
    let mut reader = BufReader::with_capacity(1 << 20, open_raw(shard, 0)?).take(origin);
    let mut buf = vec![0u8; 1 << 20];
    let mut before = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => return Ok(before + line),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(PickError::io(&shard.path, e)),
        };
        before += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
    }
}

/// A blank line (only ASCII whitespace) is skipped, not an error (bonepick B16).
pub fn is_blank(line: &[u8]) -> bool {
    line.iter().all(|b| b.is_ascii_whitespace())
}

/// Iterates the lines of a chunk with their 1-based line numbers, without the `\n`/`\r\n`.
pub fn lines(data: &[u8], first_line: u64) -> impl Iterator<Item = (u64, &[u8])> {
    let mut rest = data;
    let mut line_no = first_line;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let (line, next) = match memchr::memchr(b'\n', rest) {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        rest = next;
        let no = line_no;
        line_no += 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        Some((no, line))
    })
}

/// Cuts a decompressed stream into chunks of whole lines.
pub struct Chunker {
    shard: Arc<Shard>,
    reader: Box<dyn Read + Send>,
    carry: Vec<u8>,
    next_line: u64,
    next_row: u64,
    eof: bool,
    /// Where the lines start in the shard (a byte range's first line; 0 for a whole shard).
    origin: u64,
    /// Decompressed bytes produced so far.
    pub bytes: u64,
}

impl Chunker {
    pub fn new(shard: Arc<Shard>, codec: Codec) -> Result<Chunker> {
        let reader = open(&shard, codec)?;
        Ok(Chunker::over(shard, reader, 0))
    }

    /// The lines of an uncompressed shard that begin in `range`; their line numbers count
    /// from the range's first line (`LineChunk::origin`), and `_row` is not known.
    pub fn range(shard: Arc<Shard>, range: Range<u64>) -> Result<Chunker> {
        let raw =
            BufReader::with_capacity(1 << 20, open_raw(&shard, range.start.saturating_sub(1))?);
        let (lines, origin) =
            RangeLines::new(raw, &range).map_err(|e| PickError::io(&shard.path, e))?;
        Ok(Chunker::over(shard, Box::new(lines), origin))
    }

    fn over(shard: Arc<Shard>, reader: Box<dyn Read + Send>, origin: u64) -> Chunker {
        Chunker {
            shard,
            reader,
            carry: Vec::new(),
            next_line: 1,
            next_row: 0,
            eof: false,
            origin,
            bytes: 0,
        }
    }

    /// `pending`: bytes read but not yet cut into a chunk, whose complete lines count too.
    fn read_error(&self, e: std::io::Error, pending: &[u8]) -> PickError {
        let message = match e.kind() {
            std::io::ErrorKind::UnexpectedEof => {
                "truncated file: the compressed stream ends early".to_string()
            }
            _ => format!("cannot read: {e}"),
        };
        let line = self.next_line - 1 + memchr::memchr_iter(b'\n', pending).count() as u64;
        PickError::BadShard {
            file: self.shard.rel.clone(),
            line: absolute_line(&self.shard, self.origin, line).unwrap_or(line),
            message,
        }
    }

    pub fn next_chunk(&mut self) -> Result<Option<LineChunk>> {
        if self.eof && self.carry.is_empty() {
            return Ok(None);
        }
        let mut buf = std::mem::take(&mut self.carry);
        buf.reserve(CHUNK_BYTES + (CHUNK_BYTES >> 4));
        let mut scanned = 0;
        let cut = loop {
            if !self.eof && buf.len() < CHUNK_BYTES {
                let start = buf.len();
                buf.resize(start + (CHUNK_BYTES - start).max(64 << 10), 0);
                let n = loop {
                    match self.reader.read(&mut buf[start..]) {
                        Ok(n) => break n,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(self.read_error(e, &buf[..start])),
                    }
                };
                buf.truncate(start + n);
                self.bytes += n as u64;
                if n == 0 {
                    self.eof = true;
                }
                continue;
            }
            if self.eof {
                break buf.len();
            }
            match memchr::memrchr(b'\n', &buf[scanned..]) {
                Some(i) => break scanned + i + 1,
                // A line longer than a chunk: keep reading until it ends.
                None => {
                    scanned = buf.len();
                    let start = buf.len();
                    buf.resize(start + CHUNK_BYTES, 0);
                    let n = match self.reader.read(&mut buf[start..]) {
                        Ok(n) => n,
                        Err(e) => return Err(self.read_error(e, &buf[..start])),
                    };
                    buf.truncate(start + n);
                    self.bytes += n as u64;
                    if n == 0 {
                        self.eof = true;
                    }
                }
            }
        };
        self.carry = buf.split_off(cut);
        if buf.is_empty() {
            return Ok(None);
        }
        let first_line = self.next_line;
        let first_row = self.next_row;
        for (_, line) in lines(&buf, first_line) {
            self.next_line += 1;
            if !is_blank(line) {
                self.next_row += 1;
            }
        }
        Ok(Some(LineChunk {
            shard: Arc::clone(&self.shard),
            data: buf,
            first_line,
            first_row,
            origin: self.origin,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Gives 1, 2 or 3 bytes per read, so lines end at every place in a read.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.1 += 1;
            let n = (self.1 % 3 + 1).min(buf.len()).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    /// Every way of cutting a text into byte ranges gives each line to exactly one range.
    #[test]
    fn byte_ranges_read_every_line_once() {
        let texts: [&[u8]; 5] = [
            b"a\nbb\n\nccc\ndddd\ne",
            b"a\nbb\nccc\n",
            b"\n\n\n",
            b"one long line without a newline",
            b"x\r\ny\r\n",
        ];
        for text in texts {
            for cuts in 1..=text.len() {
                let step = text.len().div_ceil(cuts) as u64;
                let mut got = Vec::new();
                let mut start = 0u64;
                while start < text.len() as u64 {
                    let range = start..(start + step).min(text.len() as u64);
                    let read_from = range.start.saturating_sub(1) as usize;
                    // A one-byte buffer: lines end at every place of a read.
                    let trickle = BufReader::with_capacity(1, Trickle(&text[read_from..], 0));
                    let (mut r, first) = RangeLines::new(trickle, &range).unwrap();
                    let mut piece = Vec::new();
                    r.read_to_end(&mut piece).unwrap();
                    if !piece.is_empty() {
                        let first = first as usize;
                        assert_eq!(&text[first..first + piece.len()], &piece[..]);
                        assert!(first == 0 || text[first - 1] == b'\n');
                    }
                    got.extend_from_slice(&piece);
                    start = range.end;
                }
                assert_eq!(
                    got,
                    text,
                    "{} ranges of {:?}",
                    cuts,
                    String::from_utf8_lossy(text)
                );
            }
        }
    }
}
