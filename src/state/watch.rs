//! The watcher's place in the directory (`watch.json` in the state
//! directory): the delta link to ask next, and what the last full round
//! was based on, so a restarted `reconcile --watch` resumes from where it
//! stopped instead of reading every directory change again. Written
//! atomically after every round that moved the link; refused when corrupt
//! or newer, as every state file. No decisions here.

use serde::{Deserialize, Serialize};

use super::{StateDir, StateError};

pub const WATCH_FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Watch {
    pub format_version: u32,
    /// The `@odata.deltaLink` to ask next (it carries no secret: the
    /// token in it is an opaque position, useless without credentials).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta_link: Option<String>,
    /// The digest of the manifests the last full round planned with (a
    /// change of manifests needs a full round).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_round_digest: Option<String>,
    /// When the last full round ended (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_round_at: Option<String>,
}

const WATCH_KEY: &str = "watch.json";

impl StateDir {
    /// The watcher's stored place, if any.
    pub fn watch(&self) -> Result<Option<Watch>, StateError> {
        let Some((value, _)) = self.read_json(WATCH_KEY, WATCH_FORMAT_VERSION)? else {
            return Ok(None);
        };
        serde_json::from_value(value)
            .map(Some)
            .map_err(|e| self.corrupt(WATCH_KEY, e.to_string()))
    }

    /// Store the watcher's place (compare-and-swap; one that is corrupt or
    /// newer is refused, not replaced).
    pub fn save_watch(&self, watch: &Watch) -> Result<(), StateError> {
        let mut w = watch.clone();
        w.format_version = WATCH_FORMAT_VERSION;
        let mut text = serde_json::to_string_pretty(&w).expect("a watch state serialises");
        text.push('\n');
        self.swap(WATCH_KEY, |old| {
            if let Some(old) = old {
                self.parse_json(WATCH_KEY, old, WATCH_FORMAT_VERSION)?;
            }
            Ok(text.clone().into_bytes())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_watch_state_survives_a_round_trip_and_newer_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path().join("s"));
        assert_eq!(state.watch().unwrap(), None);
        let w = Watch {
            format_version: 0,
            delta_link: Some("https://graph/v1.0/users/delta?$deltatoken=x".into()),
            full_round_digest: Some("sha256:ab".into()),
            full_round_at: None,
        };
        state.save_watch(&w).unwrap();
        let back = state.watch().unwrap().unwrap();
        assert_eq!(back.delta_link, w.delta_link);
        assert_eq!(back.format_version, WATCH_FORMAT_VERSION);
        std::fs::write(dir.path().join("s/watch.json"), r#"{"format_version": 99}"#).unwrap();
        assert!(matches!(state.watch(), Err(StateError::Newer { .. })));
        std::fs::write(dir.path().join("s/watch.json"), "{").unwrap();
        assert!(matches!(state.watch(), Err(StateError::Corrupt { .. })));
    }
}
