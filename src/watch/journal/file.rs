//! file: one systemd journal file, read with `pread` through a small page cache: the header,
//! the entry-array chain, ENTRY objects and DATA objects (decompressed when needed).
//!
//! Every offset and size read from the file is checked against the end of the arena (and the
//! file size) before use, object sizes are capped ([`MAX_OBJECT`]), the entry-array chain must
//! move forward, and the page cache is bounded, so a corrupt or hostile file costs at most a
//! few MiB and ends in a [`FileError`], never a panic. It does not interpret fields (`mod.rs`
//! does) and does not use the hash tables: entries are found through the entry arrays only.
//!
//! # Compatibility
//! Layout as systemd's JOURNAL_FILE_FORMAT (systemd 252): header fields up to
//! `tail_entry_array_n_entries`, object header, DATA (regular and compact), ENTRY (16-byte items,
//! or 4-byte items with `HEADER_INCOMPATIBLE_COMPACT`), ENTRY_ARRAY (8- or 4-byte items).
//! Keyed (siphash) and jenkins hash files read the same since hashes are never checked.

use std::fs::File;
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

use super::decompress::{DecompressError, decompress};

/// `HEADER_INCOMPATIBLE_COMPRESSED_XZ`.
pub const INCOMPAT_XZ: u32 = 1;
/// `HEADER_INCOMPATIBLE_COMPRESSED_LZ4`.
pub const INCOMPAT_LZ4: u32 = 2;
/// `HEADER_INCOMPATIBLE_KEYED_HASH`.
pub const INCOMPAT_KEYED_HASH: u32 = 4;
/// `HEADER_INCOMPATIBLE_COMPRESSED_ZSTD`.
pub const INCOMPAT_ZSTD: u32 = 8;
/// `HEADER_INCOMPATIBLE_COMPACT`.
pub const INCOMPAT_COMPACT: u32 = 16;
const INCOMPAT_KNOWN: u32 =
    INCOMPAT_XZ | INCOMPAT_LZ4 | INCOMPAT_KEYED_HASH | INCOMPAT_ZSTD | INCOMPAT_COMPACT;

/// `STATE_ONLINE`: a writer has the file open.
pub const STATE_ONLINE: u8 = 1;

const SIGNATURE: &[u8; 8] = b"LPKSHHRH";
/// The header fields we read end here (`tail_entry_monotonic` included).
const HEADER_MIN: u64 = 208;

const OBJECT_DATA: u8 = 1;
const OBJECT_ENTRY: u8 = 3;
const OBJECT_ENTRY_ARRAY: u8 = 6;
const OBJECT_HEADER: u64 = 16;
const ENTRY_HEADER: u64 = 64;
const ENTRY_ARRAY_HEADER: u64 = 24;

/// Cap on one object (and on a decompressed payload): larger objects are reported as corrupt.
pub const MAX_OBJECT: u64 = 16 * 1024 * 1024;
const PAGE: u64 = 64 * 1024;
const MAX_PAGES: usize = 128;

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("cannot read {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{} is not a journal file (bad signature or header)", path.display())]
    NotJournal { path: PathBuf },
    #[error("{}: unsupported incompatible flags {flags:#x}", path.display())]
    Unsupported { path: PathBuf, flags: u32 },
    #[error("{}: corrupt object at offset {offset}: {what}", path.display())]
    Corrupt {
        path: PathBuf,
        offset: u64,
        what: String,
    },
    #[error("{}: cannot decompress data object at offset {offset}", path.display())]
    Decompress {
        path: PathBuf,
        offset: u64,
        #[source]
        source: DecompressError,
    },
}

/// The header fields the reader uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub incompatible: u32,
    pub state: u8,
    pub seqnum_id: [u8; 16],
    pub header_size: u64,
    pub arena_end: u64,
    pub n_entries: u64,
    pub entry_array_offset: u64,
}

impl Header {
    fn compact(&self) -> bool {
        self.incompatible & INCOMPAT_COMPACT != 0
    }
}

/// An ENTRY object's fixed part; its items are in [`JournalFile::items`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub seqnum: u64,
    pub realtime: u64,
    pub monotonic: u64,
    pub boot_id: [u8; 16],
}

/// Where iteration stands in the entry-array chain.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ArrayPos {
    /// Offset of the current ENTRY_ARRAY object (0 = not started).
    pub array: u64,
    /// Index of the next item within it.
    pub index: u64,
    /// Entries consumed so far (all arrays).
    pub consumed: u64,
}

/// One open journal file.
#[derive(Debug)]
pub struct JournalFile {
    path: PathBuf,
    file: File,
    pub dev: u64,
    pub ino: u64,
    pub header: Header,
    size: u64,
    /// Direct-mapped page cache: slot `page % MAX_PAGES` holds (page number, bytes).
    pages: Vec<Option<(u64, Box<[u8]>)>>,
    scratch: Vec<u8>,
    /// Items of the last entry read.
    pub items: Vec<u64>,
    /// Decompression buffer.
    unpacked: Vec<u8>,
}

fn le64(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    if let Some(s) = b.get(at..at + 8) {
        a.copy_from_slice(s);
    }
    u64::from_le_bytes(a)
}

fn le32(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    if let Some(s) = b.get(at..at + 4) {
        a.copy_from_slice(s);
    }
    u32::from_le_bytes(a)
}

impl JournalFile {
    /// Opens a journal file and reads its header.
    pub fn open(path: &Path) -> Result<JournalFile, FileError> {
        let io_err = |source| FileError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(io_err)?;
        let meta = file.metadata().map_err(io_err)?;
        let mut f = JournalFile {
            path: path.to_path_buf(),
            file,
            dev: meta.dev(),
            ino: meta.ino(),
            header: Header {
                incompatible: 0,
                state: 0,
                seqnum_id: [0; 16],
                header_size: 0,
                arena_end: 0,
                n_entries: 0,
                entry_array_offset: 0,
            },
            size: meta.len(),
            pages: Vec::new(),
            scratch: Vec::new(),
            items: Vec::new(),
            unpacked: Vec::new(),
        };
        f.refresh()?;
        Ok(f)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Re-reads the file size and header (a writer may have appended) and drops cached pages.
    pub fn refresh(&mut self) -> Result<(), FileError> {
        let meta = self.file.metadata().map_err(|source| FileError::Io {
            path: self.path.clone(),
            source,
        })?;
        self.size = meta.len();
        self.pages.clear();
        self.pages.resize_with(MAX_PAGES, || None);
        let not = || FileError::NotJournal {
            path: self.path.clone(),
        };
        if self.size < HEADER_MIN {
            return Err(not());
        }
        let mut h = [0u8; HEADER_MIN as usize];
        self.read_exact_at(&mut h, 0)?;
        if &h[..8] != SIGNATURE {
            return Err(not());
        }
        let incompatible = le32(&h, 12);
        if incompatible & !INCOMPAT_KNOWN != 0 {
            return Err(FileError::Unsupported {
                path: self.path.clone(),
                flags: incompatible,
            });
        }
        let header_size = le64(&h, 88);
        let arena_size = le64(&h, 96);
        if header_size < HEADER_MIN || header_size > self.size || header_size % 8 != 0 {
            return Err(not());
        }
        let mut seqnum_id = [0u8; 16];
        seqnum_id.copy_from_slice(&h[72..88]);
        self.header = Header {
            incompatible,
            state: h[16],
            seqnum_id,
            header_size,
            arena_end: header_size.saturating_add(arena_size).min(self.size),
            n_entries: le64(&h, 152),
            entry_array_offset: le64(&h, 176),
        };
        Ok(())
    }

    /// Drops the cached pages and buffers (between polls: nothing is held for idle files).
    pub fn release(&mut self) {
        self.pages = Vec::new();
        self.scratch = Vec::new();
        self.unpacked = Vec::new();
    }

    fn read_exact_at(&self, buf: &mut [u8], off: u64) -> Result<(), FileError> {
        self.file
            .read_exact_at(buf, off)
            .map_err(|source| FileError::Io {
                path: self.path.clone(),
                source,
            })
    }

    fn corrupt(&self, offset: u64, what: impl Into<String>) -> FileError {
        FileError::Corrupt {
            path: self.path.clone(),
            offset,
            what: what.into(),
        }
    }

    /// `len` bytes at `off`, which the caller has checked to lie inside the arena.
    fn bytes(&mut self, off: u64, len: u64) -> Result<&[u8], FileError> {
        let first = off / PAGE;
        let last = (off + len.max(1) - 1) / PAGE;
        if first == last {
            let page = self.page(first)?;
            let start = (off - first * PAGE) as usize;
            return Ok(&page[start..start + len as usize]);
        }
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        let mut at = off;
        let end = off + len;
        while at < end {
            let p = at / PAGE;
            let page = match self.page(p) {
                Ok(page) => page,
                Err(e) => {
                    self.scratch = scratch;
                    return Err(e);
                }
            };
            let start = (at - p * PAGE) as usize;
            let take = ((end - at) as usize).min(page.len() - start);
            scratch.extend_from_slice(&page[start..start + take]);
            at += take as u64;
        }
        self.scratch = scratch;
        Ok(&self.scratch)
    }

    /// Page `p`, read from the file unless cached.
    fn page(&mut self, p: u64) -> Result<&[u8], FileError> {
        let slot = (p % MAX_PAGES as u64) as usize;
        if self.pages.len() != MAX_PAGES {
            self.pages.resize_with(MAX_PAGES, || None);
        }
        let cached = matches!(&self.pages[slot], Some((n, _)) if *n == p);
        if !cached {
            let start = p * PAGE;
            let len = PAGE.min(self.size.saturating_sub(start));
            let mut buf = vec![0u8; len as usize].into_boxed_slice();
            self.read_exact_at(&mut buf, start)?;
            self.pages[slot] = Some((p, buf));
        }
        match &self.pages[slot] {
            Some((_, b)) => Ok(b),
            None => Ok(&[]),
        }
    }

    /// Checks an object header at `off`: type, alignment, bounds; returns (flags, size).
    fn object(&mut self, off: u64, kind: u8, min: u64) -> Result<(u8, u64), FileError> {
        if off % 8 != 0 || off < self.header.header_size {
            return Err(self.corrupt(off, "misaligned or inside the header"));
        }
        let end = self.header.arena_end;
        if off.checked_add(OBJECT_HEADER).is_none_or(|e| e > end) {
            return Err(self.corrupt(off, "object header past the end of the file"));
        }
        let h = self.bytes(off, OBJECT_HEADER)?;
        let (t, flags, size) = (h[0], h[1], le64(h, 8));
        if t != kind {
            return Err(self.corrupt(off, format!("object type {t}, expected {kind}")));
        }
        if size < min || size > MAX_OBJECT {
            return Err(self.corrupt(off, format!("object size {size} out of range")));
        }
        if off.checked_add(size).is_none_or(|e| e > end) {
            return Err(self.corrupt(off, "object extends past the end of the file"));
        }
        Ok((flags, size))
    }

    /// The offset of the next entry, advancing `pos`; None at the (current) end.
    pub fn next_entry_offset(&mut self, pos: &mut ArrayPos) -> Result<Option<u64>, FileError> {
        if pos.consumed >= self.header.n_entries {
            return Ok(None);
        }
        let compact = self.header.compact();
        let item = if compact { 4 } else { 8 };
        if pos.array == 0 {
            if self.header.entry_array_offset == 0 {
                return Ok(None);
            }
            pos.array = self.header.entry_array_offset;
            pos.index = 0;
        }
        // bounded: each step either returns or moves to a later array
        loop {
            let (_, size) = self.object(pos.array, OBJECT_ENTRY_ARRAY, ENTRY_ARRAY_HEADER)?;
            let capacity = (size - ENTRY_ARRAY_HEADER) / item;
            if pos.index < capacity {
                let at = pos.array + ENTRY_ARRAY_HEADER + pos.index * item;
                let b = self.bytes(at, item)?;
                let off = if compact {
                    u64::from(le32(b, 0))
                } else {
                    le64(b, 0)
                };
                if off == 0 {
                    // not written yet (online file) or a torn tail
                    return Ok(None);
                }
                pos.index += 1;
                pos.consumed += 1;
                return Ok(Some(off));
            }
            let next = le64(self.bytes(pos.array + 16, 8)?, 0);
            if next == 0 {
                return Ok(None);
            }
            if next <= pos.array {
                return Err(self.corrupt(pos.array, "entry array chain goes backwards"));
            }
            pos.array = next;
            pos.index = 0;
        }
    }

    /// Reads the ENTRY object at `off`; its data offsets go to [`JournalFile::items`].
    pub fn entry(&mut self, off: u64) -> Result<Entry, FileError> {
        let (_, size) = self.object(off, OBJECT_ENTRY, ENTRY_HEADER)?;
        let compact = self.header.compact();
        let item = if compact { 4 } else { 16 };
        let mut items = std::mem::take(&mut self.items);
        let b = match self.bytes(off, size) {
            Ok(b) => b,
            Err(e) => {
                self.items = items;
                return Err(e);
            }
        };
        let mut boot_id = [0u8; 16];
        boot_id.copy_from_slice(&b[40..56]);
        let e = Entry {
            seqnum: le64(b, 16),
            realtime: le64(b, 24),
            monotonic: le64(b, 32),
            boot_id,
        };
        items.clear();
        let n = (size - ENTRY_HEADER) / item;
        for i in 0..n as usize {
            let at = ENTRY_HEADER as usize + i * item as usize;
            items.push(if compact {
                u64::from(le32(b, at))
            } else {
                le64(b, at)
            });
        }
        self.items = items;
        Ok(e)
    }

    /// The start of a DATA object's payload and its stored length.
    fn data_span(&mut self, off: u64) -> Result<(u8, u64, u64), FileError> {
        let head = if self.header.compact() { 72 } else { 64 };
        let (flags, size) = self.object(off, OBJECT_DATA, head)?;
        Ok((flags & 7, off + head, size - head))
    }

    /// The first `max` bytes of a DATA payload, decompressed if needed (enough to read the
    /// field name without copying big values).
    pub fn data_prefix(&mut self, off: u64, max: u64) -> Result<&[u8], FileError> {
        let (flags, start, len) = self.data_span(off)?;
        if flags != 0 {
            self.data(off)?;
            let n = (max as usize).min(self.unpacked.len());
            return Ok(&self.unpacked[..n]);
        }
        self.bytes(start, len.min(max))
    }

    /// The whole DATA payload (`FIELD=value`), decompressed if needed.
    pub fn data(&mut self, off: u64) -> Result<&[u8], FileError> {
        let (flags, start, len) = self.data_span(off)?;
        if flags == 0 {
            return self.bytes(start, len);
        }
        let mut out = std::mem::take(&mut self.unpacked);
        let res = {
            let packed = self.bytes(start, len)?;
            decompress(flags, packed, MAX_OBJECT as usize, &mut out)
        };
        self.unpacked = out;
        res.map_err(|source| FileError::Decompress {
            path: self.path.clone(),
            offset: off,
            source,
        })?;
        Ok(&self.unpacked)
    }
}
