//! Snapshot text to [`Snapshot`]: a fast parse, and on failure a second
//! one that finds the JSON path of the problem. Pure.

use super::{SNAPSHOT_FORMAT_VERSION, Snapshot, SnapshotError, invalid};

/// Parse snapshot JSON (`file` names it in messages).
pub fn parse(file: &str, text: &str) -> Result<Snapshot, SnapshotError> {
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
