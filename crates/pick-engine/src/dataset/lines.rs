//! Reading a JSON-lines shard as chunks of whole lines, decompressing as it goes.
//!
//! A chunk is the unit of parallel decoding: one thread decompresses and cuts lines, any
//! number of threads decode chunks into Arrow batches. Chunks carry the line and row number
//! they start at, so errors name the line and `_row` is exact whatever thread decodes them.

use std::fs::File;
use std::io::{BufReader, Read};
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
}

pub fn open(shard: &Shard, codec: Codec) -> Result<Box<dyn Read + Send>> {
    let raw: Box<dyn Read + Send> = match &shard.object {
        Some(object) => Box::new(crate::store::read::RangedReader::new(object, 0, shard.size)),
        None => Box::new(File::open(&shard.path).map_err(|e| PickError::io(&shard.path, e))?),
    };
    let buffered = BufReader::with_capacity(1 << 20, raw);
    Ok(match codec {
        Codec::Plain => Box::new(buffered),
        Codec::Zstd => Box::new(
            zstd::stream::read::Decoder::with_buffer(buffered)
                .map_err(|e| PickError::io(&shard.path, e))?,
        ),
        Codec::Gzip => Box::new(flate2::read::MultiGzDecoder::new(buffered)),
    })
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
    /// Decompressed bytes produced so far.
    pub bytes: u64,
}

impl Chunker {
    pub fn new(shard: Arc<Shard>, codec: Codec) -> Result<Chunker> {
        let reader = open(&shard, codec)?;
        Ok(Chunker {
            shard,
            reader,
            carry: Vec::new(),
            next_line: 1,
            next_row: 0,
            eof: false,
            bytes: 0,
        })
    }

    /// `pending`: bytes read but not yet cut into a chunk, whose complete lines count too.
    fn read_error(&self, e: std::io::Error, pending: &[u8]) -> PickError {
        let message = match e.kind() {
            std::io::ErrorKind::UnexpectedEof => {
                "truncated file: the compressed stream ends early".to_string()
            }
            _ => format!("cannot read: {e}"),
        };
        PickError::BadShard {
            file: self.shard.rel.clone(),
            line: self.next_line - 1 + memchr::memchr_iter(b'\n', pending).count() as u64,
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
        }))
    }
}
