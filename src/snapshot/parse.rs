//! Snapshot text to [`Snapshot`]: a fast parse, and on failure a second
//! one that finds the JSON path of the problem. Pure.

use super::{SNAPSHOT_FORMAT_VERSION, Snapshot, SnapshotError, invalid};

/// How deep arrays and objects may nest. Graph's own shapes need a handful
/// of levels; the limit keeps every snapshot `plan` accepts one that the
/// file provider can write back (its JSON tree reader stops at 128).
pub const MAX_DEPTH: usize = 100;

/// Parse snapshot JSON (`file` names it in messages). A UTF-8 byte-order
/// mark, as some Windows editors write, is passed over.
pub fn parse(file: &str, text: &str) -> Result<Snapshot, SnapshotError> {
    let text = strip_bom(text);
    if let Some((line, column)) = too_deep(text, MAX_DEPTH) {
        return Err(SnapshotError::Json {
            file: file.to_string(),
            json_path: "$".into(),
            line,
            column,
            message: format!(
                "arrays and objects nest deeper than {MAX_DEPTH} levels here; no tenant snapshot needs that (remove the deep value)"
            ),
        });
    }
    // The fast path; tracking the JSON path costs as much as parsing, so it
    // runs only to explain a file that failed.
    let snap: Snapshot = match serde_json::from_str(text) {
        Ok(s) => s,
        Err(_) => return Err(parse_error(file, text)),
    };
    if snap.format_version != SNAPSHOT_FORMAT_VERSION {
        return Err(invalid(
            file,
            "$.format_version",
            format!("format version {} is not supported", snap.format_version),
            format!("this roster reads format_version {SNAPSHOT_FORMAT_VERSION}"),
        ));
    }
    Ok(snap)
}

/// The error of a snapshot that failed to parse, with its JSON path.
fn parse_error(file: &str, text: &str) -> SnapshotError {
    let de = &mut serde_json::Deserializer::from_str(text);
    let result: Result<Snapshot, _> = serde_path_to_error::deserialize(de);
    let e = match result {
        Ok(_) => {
            return invalid(
                file,
                "$",
                "the file could not be read as a tenant snapshot".into(),
                "check it is a tenant snapshot (format_version 1)",
            );
        }
        Err(e) => e,
    };
    let path = e.path().to_string();
    let inner = e.into_inner();
    SnapshotError::Json {
        file: file.to_string(),
        json_path: if path.is_empty() || path == "." {
            "$".into()
        } else {
            format!("$.{path}")
        },
        line: inner.line(),
        column: inner.column(),
        message: strip_position(&inner.to_string()),
    }
}

fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

/// `text` without a leading UTF-8 byte-order mark.
pub fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// Where (line, column; 1-based) arrays and objects first nest deeper than
/// `max`, if they do. One pass, jumping through strings: linear in the
/// text, with no recursion, whatever the depth.
pub fn too_deep(text: &str, max: usize) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                // To the closing quote, over escapes.
                i += 1;
                loop {
                    match memchr::memchr2(b'"', b'\\', &bytes[i..]) {
                        Some(k) if bytes[i + k] == b'\\' => i += k + 2,
                        Some(k) => {
                            i += k;
                            break;
                        }
                        None => return None,
                    }
                }
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    let line = bytes[..i].iter().filter(|&&b| b == b'\n').count() + 1;
                    let start = bytes[..i]
                        .iter()
                        .rposition(|&b| b == b'\n')
                        .map_or(0, |p| p + 1);
                    return Some((line, i - start + 1));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(depth: usize) -> String {
        format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
    }

    #[test]
    fn depth_is_counted_outside_strings_only() {
        assert_eq!(too_deep(&nested(3), 3), None);
        assert_eq!(too_deep(&nested(4), 3), Some((1, 4)));
        assert_eq!(too_deep(r#"{"a": "[[[[[[\"[[[["}"#, 2), None);
        assert_eq!(too_deep("{\n  \"a\": [[[1]]]}", 3), Some((2, 10)));
        // A string that never closes ends the scan; the parser reports it.
        assert_eq!(too_deep(r#"["abc"#, 1), None);
    }

    #[test]
    fn any_depth_is_refused_without_recursion() {
        let text = format!(
            r#"{{"format_version": 1, "users": [], "x": {}}}"#,
            nested(1_000_000)
        );
        let err = parse("t.json", &text).unwrap_err().to_string();
        assert!(err.contains("deeper than 100 levels"), "{err}");
        assert!(err.contains("column 140"), "{err}");
    }

    #[test]
    fn a_byte_order_mark_is_passed_over() {
        let snap = parse("t.json", "\u{feff}{\"format_version\": 1, \"users\": []}").unwrap();
        assert!(snap.users.is_empty());
    }
}
