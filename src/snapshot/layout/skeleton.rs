//! The second level of a JSON text, found on every core: the offsets of
//! each `[`, `{`, `,`, `]` and `}` outside strings whose container is a
//! value of the top object (its brackets and its separating commas), and
//! the deepest nesting anywhere. [`super::scan`] reads the members' extents
//! and array elements from it instead of walking every byte.
//!
//! The text is cut into pieces just after a newline: a JSON string cannot
//! hold a raw newline, so in valid JSON every piece starts outside any
//! string. Each piece is scanned on its own, 64 bytes at a time (SSE2
//! masks of quotes, backslashes and brackets, strings found with a prefix
//! XOR of the unescaped quotes), with depths relative to its start: it
//! keeps only the brackets and commas at its lowest level. Once the depths
//! at the starts are known from the pieces before, that level is the
//! second (kept), a deeper one (nothing to keep), or the top object's: the
//! few pieces holding one of its commas or braces are scanned again for
//! the level above. A text without newlines is one piece. Nothing here has to reject invalid JSON: a text whose pieces
//! then all parse is valid, and its pieces are its true members and
//! elements (see [`super`]); an unterminated string or unbalanced brackets
//! still give `None`. Pure.

use super::super::parse::MAX_DEPTH;

/// Offsets (in `b`) of the brackets and commas at the second level, in
/// order, or `None` when the text nests deeper than [`MAX_DEPTH`] (the top
/// object being level 1), has unbalanced brackets or ends inside a string.
/// `pieces` is how many pieces to cut (at most), `threads` how many
/// threads scan them.
pub(super) fn level_two(b: &[u8], pieces: usize, threads: usize) -> Option<Vec<u32>> {
    let cuts = cuts(b, pieces);
    let piece = |k: usize| &b[cuts[k]..cuts[k + 1]];
    let scanned = super::super::fast::run(cuts.len() - 1, threads, |k| {
        scan_piece(piece(k), cuts[k], None)
    })?;
    // The depth at each piece's start; the pieces whose lowest level is the
    // top object's are scanned again for the level above it.
    let mut depth = 0i64;
    let mut again = Vec::new();
    for (k, p) in scanned.iter().enumerate() {
        if p.low != NONE {
            if depth + p.low < 1 || depth.saturating_add(p.max) > MAX_DEPTH as i64 {
                return None;
            }
            if depth + p.low == 1 {
                again.push((k, 2 - depth));
            }
        }
        depth += p.end;
    }
    if depth != 0 {
        return None;
    }
    let rescanned = super::super::fast::run(again.len(), threads, |j| {
        let (k, level) = again[j];
        scan_piece(piece(k), cuts[k], Some(level))
    })?;
    let mut rescanned = again.iter().map(|a| a.0).zip(rescanned).peekable();
    let mut out = Vec::new();
    let mut depth = 0i64;
    for (k, p) in scanned.into_iter().enumerate() {
        if let Some((_, r)) = rescanned.next_if(|(j, _)| *j == k) {
            out.extend_from_slice(&r.at_low);
        } else if p.low != NONE && depth + p.low == 2 {
            out.extend_from_slice(&p.at_low);
        }
        depth += p.end;
    }
    Some(out)
}

/// Where the pieces start (each just after a newline), and the text's
/// length last. Each cut is looked for between its target and the next
/// one's, so a text with few newlines (or none: minified JSON) is cut
/// fewer times, never searched end to end once per piece.
fn cuts(b: &[u8], pieces: usize) -> Vec<usize> {
    let mut cuts = vec![0];
    for k in 1..pieces {
        let target = (b.len() / pieces * k).max(*cuts.last().expect("one cut"));
        let next = (b.len() / pieces * (k + 1)).clamp(target, b.len());
        if let Some(n) = memchr::memchr(b'\n', &b[target..next]) {
            let cut = target + n + 1;
            if cut < b.len() && cut > *cuts.last().expect("one cut") {
                cuts.push(cut);
            }
        }
    }
    cuts.push(b.len());
    cuts
}

/// No level seen yet.
const NONE: i64 = i64::MAX;

/// What one piece holds, with levels relative to its start (a bracket or
/// comma's level is its container's depth: 1 for the top object's own).
struct Piece {
    /// Offsets at level `low`: the lowest seen, or the one asked for.
    at_low: Vec<u32>,
    low: i64,
    /// Whether `low` was asked for (not the lowest seen).
    fixed: bool,
    /// The deepest level an opening bracket reaches.
    max: i64,
    /// The depth at the piece's end.
    end: i64,
}

impl Piece {
    fn event(&mut self, level: i64, at: u32) {
        if level < self.low && !self.fixed {
            self.at_low.clear();
            self.low = level;
        }
        if level == self.low {
            self.at_low.push(at);
        }
    }
}

/// Scan the piece `b`, which starts at `base` in the text and (in valid
/// JSON) outside any string, keeping the offsets at its lowest level, or
/// at level `level` when given.
fn scan_piece(b: &[u8], base: usize, level: Option<i64>) -> Option<Piece> {
    let mut p = Piece {
        at_low: Vec::new(),
        low: level.unwrap_or(NONE),
        fixed: level.is_some(),
        max: i64::MIN,
        end: 0,
    };
    let mut depth = 0i64;
    // All ones when the block before ended inside a string.
    let mut in_string = 0u64;
    // The block before ended with a backslash that escapes this one's first byte.
    let mut carry = false;
    let blocks = b.chunks_exact(64);
    let rest = blocks.remainder();
    let mut last = [b' '; 64];
    last[..rest.len()].copy_from_slice(rest);
    let tail = (!rest.is_empty()).then_some(&last);
    let blocks = blocks.map(|c| <&[u8; 64]>::try_from(c).expect("64 bytes"));
    for (n, block) in blocks.chain(tail).enumerate() {
        let masks = classify(block);
        let quotes = masks.quotes & !escaped(masks.backslashes, &mut carry);
        let strings = prefix_xor(quotes) ^ in_string;
        in_string = 0u64.wrapping_sub(strings >> 63);
        let mut s = masks.structure & !strings;
        while s != 0 {
            let k = s.trailing_zeros() as usize;
            s &= s - 1;
            let at = (base + n * 64 + k) as u32;
            match block[k] {
                b'[' | b'{' => {
                    depth += 1;
                    p.max = p.max.max(depth);
                    p.event(depth, at);
                }
                b']' | b'}' => {
                    p.event(depth, at);
                    depth -= 1;
                }
                _ => p.event(depth, at),
            }
        }
    }
    p.end = depth;
    (in_string == 0 && !carry).then_some(p)
}

/// Bit `k` set for each byte `k` of a block that is a quote, a backslash,
/// or one of `[{,]}`.
struct Masks {
    quotes: u64,
    backslashes: u64,
    structure: u64,
}

#[cfg(target_arch = "x86_64")]
fn classify(block: &[u8; 64]) -> Masks {
    use std::arch::x86_64::*;
    let (mut quotes, mut backslashes, mut structure) = (0u64, 0u64, 0u64);
    // SAFETY: SSE2 is part of every x86_64 target; each load reads 16
    // bytes inside `block`.
    unsafe {
        let quote = _mm_set1_epi8(b'"' as i8);
        let backslash = _mm_set1_epi8(b'\\' as i8);
        let comma = _mm_set1_epi8(b',' as i8);
        // `[` and `]` are `{` and `}` less 0x20.
        let case = _mm_set1_epi8(0x20);
        let open = _mm_set1_epi8(b'{' as i8);
        let close = _mm_set1_epi8(b'}' as i8);
        for j in 0..4 {
            let v = _mm_loadu_si128(block.as_ptr().add(16 * j).cast());
            let bits = |m| (_mm_movemask_epi8(m) as u16 as u64) << (16 * j);
            quotes |= bits(_mm_cmpeq_epi8(v, quote));
            backslashes |= bits(_mm_cmpeq_epi8(v, backslash));
            let folded = _mm_or_si128(v, case);
            let brackets =
                _mm_or_si128(_mm_cmpeq_epi8(folded, open), _mm_cmpeq_epi8(folded, close));
            structure |= bits(_mm_or_si128(brackets, _mm_cmpeq_epi8(v, comma)));
        }
    }
    Masks {
        quotes,
        backslashes,
        structure,
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn classify(block: &[u8; 64]) -> Masks {
    classify_bytes(block)
}

/// [`classify`] a byte at a time (other targets, and the tests' reference).
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn classify_bytes(block: &[u8; 64]) -> Masks {
    let mut m = Masks {
        quotes: 0,
        backslashes: 0,
        structure: 0,
    };
    for (k, &c) in block.iter().enumerate() {
        m.quotes |= u64::from(c == b'"') << k;
        m.backslashes |= u64::from(c == b'\\') << k;
        m.structure |= u64::from(matches!(c, b'[' | b'{' | b',' | b']' | b'}')) << k;
    }
    m
}

/// The bytes escaped by a backslash (one not itself escaped); `carry` says
/// the block's first byte is, and is set when its last byte escapes the
/// next block's first.
fn escaped(backslashes: u64, carry: &mut bool) -> u64 {
    if backslashes == 0 && !*carry {
        return 0;
    }
    let mut escaped = u64::from(*carry);
    let mut left = backslashes & !escaped;
    *carry = false;
    while left != 0 {
        let k = left.trailing_zeros();
        if k == 63 {
            *carry = true;
            break;
        }
        escaped |= 2 << k;
        left &= !(3 << k);
    }
    escaped
}

/// Bit `k` of the result is the XOR of bits `0..=k` of `x`: set from an
/// opening quote up to (not including) its closing one.
fn prefix_xor(mut x: u64) -> u64 {
    for shift in [1, 2, 4, 8, 16, 32] {
        x ^= x << shift;
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_fall_after_newlines_and_minified_text_is_one_piece() {
        let line = format!("{}\n", "x".repeat(99));
        let text = line.repeat(100);
        let cuts = cuts(text.as_bytes(), 10);
        assert_eq!(cuts.len(), 11, "{cuts:?}");
        assert!(
            cuts[1..cuts.len() - 1]
                .iter()
                .all(|&c| text.as_bytes()[c - 1] == b'\n')
        );
        assert!(cuts.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(super::cuts(&[b'x'; 1000], 10), [0, 1000]);
        // A newline only in the last tenth: one cut there.
        let mut late = vec![b'x'; 1000];
        late[950] = b'\n';
        assert_eq!(super::cuts(&late, 10), [0, 951, 1000]);
    }

    /// The second level a byte at a time, as the old scan walked it.
    fn reference(b: &[u8]) -> Option<Vec<u32>> {
        let (mut depth, mut max, mut out, mut i) = (0i64, 0i64, Vec::new(), 0);
        while i < b.len() {
            match b[i] {
                b'"' => {
                    i += 1;
                    loop {
                        match b.get(i)? {
                            b'\\' => i += 2,
                            b'"' => break,
                            _ => i += 1,
                        }
                    }
                }
                b'[' | b'{' => {
                    depth += 1;
                    max = max.max(depth);
                    if depth == 2 {
                        out.push(i as u32);
                    }
                }
                b']' | b'}' => {
                    if depth == 2 {
                        out.push(i as u32);
                    }
                    depth -= 1;
                }
                b',' if depth == 2 => out.push(i as u32),
                _ => {}
            }
            i += 1;
        }
        (depth == 0 && max <= MAX_DEPTH as i64).then_some(out)
    }

    /// A random JSON value: strings full of quotes, backslashes, brackets,
    /// commas and escaped newlines, some longer than a block.
    fn value(rng: &mut fastrand::Rng, depth: usize) -> serde_json::Value {
        use serde_json::Value;
        let pick = if depth == 0 {
            rng.usize(0..4)
        } else {
            rng.usize(0..6)
        };
        match pick {
            0 => Value::Null,
            1 => Value::from(rng.i64(-1000..1000)),
            2 | 3 => {
                const BITS: [&str; 10] = ["a", "\"", "\\", "[", "]", "{},", "\n", "é", "\\\"", " "];
                let n = if rng.bool() {
                    rng.usize(0..8)
                } else {
                    rng.usize(50..140)
                };
                Value::from(
                    (0..n)
                        .map(|_| BITS[rng.usize(0..BITS.len())])
                        .collect::<String>(),
                )
            }
            4 => Value::Array(
                (0..rng.usize(0..5))
                    .map(|_| value(rng, depth - 1))
                    .collect(),
            ),
            _ => Value::Object(
                (0..rng.usize(0..5))
                    .map(|k| (format!("k{k}\"[,"), value(rng, depth - 1)))
                    .collect(),
            ),
        }
    }

    #[test]
    fn every_cut_finds_what_a_walk_over_every_byte_finds() {
        let mut rng = fastrand::Rng::with_seed(7);
        for round in 0..300 {
            let top: serde_json::Map<_, _> = (0..rng.usize(1..6))
                .map(|k| (format!("m{k}"), value(&mut rng, 4)))
                .collect();
            let top = serde_json::Value::Object(top);
            for text in [serde_json::to_string_pretty(&top).unwrap(), top.to_string()] {
                let want = reference(text.as_bytes());
                assert!(want.is_some(), "{text}");
                for pieces in [1, 2, 3, 7, 40] {
                    let got = level_two(text.as_bytes(), pieces, 1 + round % 3);
                    assert_eq!(got, want, "{pieces} pieces of {text}");
                }
            }
        }
    }

    #[test]
    fn escapes_and_strings_carry_across_blocks() {
        for pad in 0..70 {
            for body in ["\\\\", "\\\"", "x\\\\\\\"", "[,]"] {
                let text = format!(
                    "{{\"a\": [\"{}{body}\", {{\"b\": \"{}\"}}],\n \"c\": [1,\n2]}}\n",
                    "x".repeat(pad),
                    "{".repeat(pad)
                );
                let want = reference(text.as_bytes());
                assert!(want.as_ref().is_some_and(|w| w.len() == 6), "{text}");
                for pieces in [1, 2, 3] {
                    assert_eq!(level_two(text.as_bytes(), pieces, 2), want, "{text}");
                }
            }
        }
    }

    #[test]
    fn the_block_masks_agree_with_a_byte_at_a_time() {
        let mut rng = fastrand::Rng::with_seed(3);
        for _ in 0..2000 {
            let mut block = [0u8; 64];
            let alphabet = b"\"\\[]{},:x \n\x00\xff";
            block.fill_with(|| alphabet[rng.usize(0..alphabet.len())]);
            let (a, b) = (classify(&block), classify_bytes(&block));
            assert_eq!(
                (a.quotes, a.backslashes, a.structure),
                (b.quotes, b.backslashes, b.structure)
            );
        }
    }

    #[test]
    fn too_deep_unbalanced_and_unterminated_texts_are_refused() {
        let nested = |n: usize| format!("{{\"a\":\n{}\n{}}}", "[".repeat(n), "]".repeat(n));
        for pieces in [1, 2, 3] {
            assert!(level_two(nested(99).as_bytes(), pieces, 2).is_some());
            assert!(level_two(nested(100).as_bytes(), pieces, 2).is_none());
            for text in ["{\"a\": [1,\n2]", "{\"a\": 1}\n}", "{\"a\": \"b\\"] {
                assert!(level_two(text.as_bytes(), pieces, 2).is_none(), "{text}");
            }
        }
        // A raw newline in a string (invalid JSON) where the text is cut.
        assert!(level_two(b"{\"a\": \"b\n\"}", 2, 2).is_none());
        // Garbage never panics, cut anywhere.
        let mut rng = fastrand::Rng::with_seed(11);
        for _ in 0..500 {
            let alphabet = b"\"\\[]{},\n x";
            let text: Vec<u8> = (0..rng.usize(0..300))
                .map(|_| alphabet[rng.usize(0..alphabet.len())])
                .collect();
            for pieces in [1, 2, 5] {
                let _ = level_two(&text, pieces, 2);
            }
        }
    }
}
