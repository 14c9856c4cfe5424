//! decompress: the three compressions a journal DATA object may use (XZ, LZ4, ZSTD), each
//! through a pure-Rust decoder and each capped at a maximum output size, so a hostile object
//! cannot make us allocate more than the cap. Called by `file` only.

use std::io::{Read, Write};

/// DATA object flag: XZ (`OBJECT_COMPRESSED_XZ`).
pub(super) const OBJECT_COMPRESSED_XZ: u8 = 1;
/// DATA object flag: LZ4 (`OBJECT_COMPRESSED_LZ4`).
pub(super) const OBJECT_COMPRESSED_LZ4: u8 = 2;
/// DATA object flag: ZSTD (`OBJECT_COMPRESSED_ZSTD`).
pub(super) const OBJECT_COMPRESSED_ZSTD: u8 = 4;

/// Why a payload could not be decompressed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecompressError {
    #[error("more than one compression flag set ({0:#x})")]
    Flags(u8),
    #[error("decompressed size exceeds the cap of {0} bytes")]
    TooBig(usize),
    #[error("{algo} stream is invalid: {reason}")]
    Invalid { algo: &'static str, reason: String },
}

/// Decompresses `input` (compressed with the algorithm named by the object flags) into `out`,
/// producing at most `cap` bytes.
pub(super) fn decompress(
    flags: u8,
    input: &[u8],
    cap: usize,
    out: &mut Vec<u8>,
) -> Result<(), DecompressError> {
    out.clear();
    match flags {
        OBJECT_COMPRESSED_XZ => xz(input, cap, out),
        OBJECT_COMPRESSED_LZ4 => lz4(input, cap, out),
        OBJECT_COMPRESSED_ZSTD => zstd(input, cap, out),
        f => Err(DecompressError::Flags(f)),
    }
}

/// A writer that refuses to grow past its cap.
struct Capped<'a> {
    out: &'a mut Vec<u8>,
    cap: usize,
    overflow: bool,
}

impl Write for Capped<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.out.len().saturating_add(buf.len()) > self.cap {
            self.overflow = true;
            return Err(std::io::Error::other("output cap"));
        }
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn xz(input: &[u8], cap: usize, out: &mut Vec<u8>) -> Result<(), DecompressError> {
    let mut reader = input;
    let mut w = Capped {
        out,
        cap,
        overflow: false,
    };
    match lzma_rs::xz_decompress(&mut reader, &mut w) {
        Ok(()) => Ok(()),
        Err(_) if w.overflow => Err(DecompressError::TooBig(cap)),
        Err(e) => Err(DecompressError::Invalid {
            algo: "xz",
            reason: e.to_string(),
        }),
    }
}

/// systemd's LZ4 payload: the uncompressed size as a little-endian u64, then one LZ4 block.
fn lz4(input: &[u8], cap: usize, out: &mut Vec<u8>) -> Result<(), DecompressError> {
    let invalid = |reason: String| DecompressError::Invalid {
        algo: "lz4",
        reason,
    };
    let (size, block) = match input.split_first_chunk::<8>() {
        Some((s, b)) => (u64::from_le_bytes(*s), b),
        None => return Err(invalid("shorter than its size prefix".into())),
    };
    let size = usize::try_from(size).map_err(|_| DecompressError::TooBig(cap))?;
    if size > cap {
        return Err(DecompressError::TooBig(cap));
    }
    out.resize(size, 0);
    match lz4_flex::block::decompress_into(block, out) {
        Ok(n) if n == size => Ok(()),
        Ok(n) => Err(invalid(format!("{n} bytes decoded, {size} announced"))),
        Err(e) => Err(invalid(e.to_string())),
    }
}

fn zstd(input: &[u8], cap: usize, out: &mut Vec<u8>) -> Result<(), DecompressError> {
    let invalid = |reason: String| DecompressError::Invalid {
        algo: "zstd",
        reason,
    };
    let mut reader = input;
    let dec =
        ruzstd::decoding::StreamingDecoder::new(&mut reader).map_err(|e| invalid(e.to_string()))?;
    let limit = u64::try_from(cap).unwrap_or(u64::MAX).saturating_add(1);
    dec.take(limit)
        .read_to_end(out)
        .map_err(|e| invalid(e.to_string()))?;
    if out.len() > cap {
        return Err(DecompressError::TooBig(cap));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An LZ4 block holding only literals (token = literal count, no match part).
    fn lz4_literals(data: &[u8]) -> Vec<u8> {
        assert!(data.len() < 15);
        let mut v = (data.len() as u64).to_le_bytes().to_vec();
        v.push((data.len() as u8) << 4);
        v.extend_from_slice(data);
        v
    }

    #[test]
    fn lz4_literal_block() {
        let mut out = Vec::new();
        decompress(
            OBJECT_COMPRESSED_LZ4,
            &lz4_literals(b"MESSAGE=hi"),
            100,
            &mut out,
        )
        .unwrap();
        assert_eq!(out, b"MESSAGE=hi");
    }

    #[test]
    fn lz4_cap_and_garbage() {
        let mut out = Vec::new();
        let big = [0xff; 16];
        assert_eq!(
            decompress(OBJECT_COMPRESSED_LZ4, &big, 100, &mut out),
            Err(DecompressError::TooBig(100))
        );
        let mut bad = 5u64.to_le_bytes().to_vec();
        bad.extend_from_slice(&[0xf0, 1, 2]);
        assert!(decompress(OBJECT_COMPRESSED_LZ4, &bad, 100, &mut out).is_err());
        assert!(decompress(OBJECT_COMPRESSED_LZ4, &[1, 2], 100, &mut out).is_err());
    }

    #[test]
    fn bad_flags_and_garbage_streams() {
        let mut out = Vec::new();
        assert_eq!(
            decompress(3, b"x", 10, &mut out),
            Err(DecompressError::Flags(3))
        );
        for flag in [OBJECT_COMPRESSED_XZ, OBJECT_COMPRESSED_ZSTD] {
            for junk in [
                &b""[..],
                b"\x28\xb5\x2f\xfd\xff\xff",
                b"\xfd7zXZ\0\0\0garbage",
            ] {
                assert!(decompress(flag, junk, 10, &mut out).is_err());
            }
        }
    }

    /// An XZ stream made by the `xz` tool (`testdata/journal/message-5008.xz`, as systemd's
    /// liblzma writes them) decodes, within the cap.
    #[test]
    fn xz_from_xz_tool() {
        let packed = include_bytes!("../../../testdata/journal/message-5008.xz");
        let data = "MESSAGE=".to_string() + &"x".repeat(5000);
        let mut out = Vec::new();
        decompress(OBJECT_COMPRESSED_XZ, packed, 10_000, &mut out).unwrap();
        assert_eq!(out, data.as_bytes());
        assert_eq!(
            decompress(OBJECT_COMPRESSED_XZ, packed, 100, &mut out),
            Err(DecompressError::TooBig(100))
        );
    }
}
