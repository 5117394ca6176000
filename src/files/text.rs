//! A large text file (a tenant snapshot) read for parsing: mapped into
//! memory where the platform allows, read into a `String` otherwise.
//!
//! Reading 200 MB copies it into fresh pages that the kernel must first
//! zero, which costs as much as parsing it; a read-only private mapping of
//! the page cache costs neither. The text is checked to be UTF-8 either
//! way. The mapping shows the file as it is on disk: roster's own writers
//! replace a file by renaming a new one over it (the mapping keeps the old
//! one), but a program that truncates the file in place while roster reads
//! it would end roster with `SIGBUS`, as it would `grep` or `rg`.

use std::ops::Deref;
use std::path::Path;

/// Files smaller than this are read: mapping pays only for large ones.
const MAP_FROM: u64 = 1 << 20;

/// The text of a file (see the module documentation).
pub struct Text(Inner);

enum Inner {
    Owned(String),
    #[cfg(unix)]
    Mapped(Mapping),
}

impl Text {
    /// Map or read the file at `path` (an error when it is not UTF-8, in the
    /// words of [`std::fs::read_to_string`]).
    pub fn read(path: &Path) -> std::io::Result<Text> {
        #[cfg(unix)]
        if let Some(m) = Mapping::of(path)? {
            let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
            return if is_utf8(m.bytes(), threads) {
                Ok(Text(Inner::Mapped(m)))
            } else {
                Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "stream did not contain valid UTF-8",
                ))
            };
        }
        std::fs::read_to_string(path).map(Text::from)
    }
}

/// Whether `bytes` are UTF-8, checked in a piece per thread. Each piece
/// but the first starts where a character may (at a byte that does not
/// continue one): in valid UTF-8 each piece is then valid, and valid pieces
/// join into valid text.
fn is_utf8(bytes: &[u8], threads: usize) -> bool {
    let mut cuts = vec![0];
    for k in 1..threads {
        let mut cut = bytes.len() / threads * k;
        while bytes.get(cut).is_some_and(|&b| (b as i8) < -0x40) {
            cut += 1;
        }
        if cut > *cuts.last().expect("one cut") && cut < bytes.len() {
            cuts.push(cut);
        }
    }
    cuts.push(bytes.len());
    let check = |w: &[usize]| std::str::from_utf8(&bytes[w[0]..w[1]]).is_ok();
    std::thread::scope(|s| {
        let others: Vec<_> = cuts
            .windows(2)
            .skip(1)
            .map(|w| s.spawn(move || check(w)))
            .collect();
        let first = check(&cuts[..2]);
        others
            .into_iter()
            .all(|h| h.join().expect("checking UTF-8 does not panic"))
            && first
    })
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Text(Inner::Owned(s))
    }
}

impl Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        match &self.0 {
            Inner::Owned(s) => s,
            // SAFETY: checked to be UTF-8 when mapped, and read-only since.
            #[cfg(unix)]
            Inner::Mapped(m) => unsafe { std::str::from_utf8_unchecked(m.bytes()) },
        }
    }
}

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Text({} bytes)", self.len())
    }
}

/// A read-only mapping of a whole file (memmap2; on Linux populated up
/// front, so parsing does not stop at each page's first touch).
#[cfg(unix)]
struct Mapping(memmap2::Mmap);

#[cfg(unix)]
impl Mapping {
    /// The mapping of the regular file at `path`; `None` when the file is
    /// small or not a regular file, or the system declines to map it.
    fn of(path: &Path) -> std::io::Result<Option<Mapping>> {
        let file = std::fs::File::open(path)?;
        let meta = file.metadata()?;
        if !meta.is_file() || meta.len() < MAP_FROM {
            return Ok(None);
        }
        // SAFETY: the mapping is read-only and private. roster's own writers
        // replace a snapshot by renaming a new file over it (the mapping
        // keeps the old one); a program truncating the file in place while
        // it is read would end roster with SIGBUS (module documentation).
        let map = unsafe { memmap2::MmapOptions::new().populate().map(&file) };
        Ok(map.ok().map(Mapping))
    }

    fn bytes(&self) -> &[u8] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_and_large_files_read_the_same_and_bad_utf8_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let small = dir.path().join("small.json");
        std::fs::write(&small, "{\"a\": \"é\"}").unwrap();
        assert_eq!(&*Text::read(&small).unwrap(), "{\"a\": \"é\"}");

        let large = dir.path().join("large.json");
        let body = format!("[{}1]", "1, ".repeat(MAP_FROM as usize / 3 + 1));
        std::fs::write(&large, &body).unwrap();
        let text = Text::read(&large).unwrap();
        #[cfg(unix)]
        assert!(matches!(text.0, Inner::Mapped(_)));
        assert_eq!(&*text, body);

        let mut bad = body.into_bytes();
        bad[10] = 0xff;
        std::fs::write(&large, &bad).unwrap();
        let err = Text::read(&large).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
        assert_eq!(
            err.to_string(),
            std::fs::read_to_string(&large).unwrap_err().to_string()
        );
        assert!(Text::read(&dir.path().join("missing.json")).is_err());
    }

    #[test]
    fn utf8_is_checked_in_pieces_cut_anywhere() {
        let text = "aé€😀\"x".repeat(8);
        let mut bad = text.clone().into_bytes();
        for threads in 1..12 {
            assert!(is_utf8(text.as_bytes(), threads), "{threads}");
            assert!(is_utf8(b"", threads));
        }
        for at in 0..bad.len() {
            let keep = bad[at];
            for b in [0xff, 0x80, 0xc3, 0xf0] {
                bad[at] = b;
                let want = std::str::from_utf8(&bad).is_ok();
                for threads in [1, 2, 3, 7] {
                    assert_eq!(is_utf8(&bad, threads), want, "{at} {b} {threads}");
                }
            }
            bad[at] = keep;
        }
    }
}
