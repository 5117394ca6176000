//! Number quarantine: a number roster releases is not given to anyone else
//! until its quarantine ends, so a released number does not ring for a new
//! person the next hour, and an apply that was interrupted after releasing
//! numbers but before assigning them converges, when run again, to the
//! same numbers an uninterrupted apply gives (the released numbers stay
//! out of allocation either way).
//!
//! Releases are recorded before they are made (write-ahead): a release
//! that then fails leaves a harmless entry for a number still held. Pure
//! data; reading and writing it is [`super::StateDir`].

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::numbers::E164;

/// The quarantine file's format.
pub const QUARANTINE_FORMAT_VERSION: u32 = 1;

/// Numbers roster released, and when each comes free.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quarantine {
    pub format_version: u32,
    /// By number, in number order (the file is deterministic).
    pub numbers: BTreeMap<E164, Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// When roster released it (RFC 3339, UTC).
    pub released_at: String,
    /// When it may be allocated again (RFC 3339, UTC).
    pub until: String,
    /// Who held it (UPN or object id), for people reading the file.
    pub holder: String,
}

impl Quarantine {
    pub fn new() -> Self {
        Quarantine {
            format_version: QUARANTINE_FORMAT_VERSION,
            numbers: BTreeMap::new(),
        }
    }

    /// Record that `number`, held by `holder`, is released at `now` and
    /// quarantined until `until` (a later release of the same number
    /// replaces the entry).
    pub fn record(&mut self, number: E164, holder: &str, now: &str, until: &str) {
        self.numbers.insert(
            number,
            Entry {
                released_at: now.to_string(),
                until: until.to_string(),
                holder: holder.to_string(),
            },
        );
    }

    /// Drop the entries whose quarantine ended by `now`.
    pub fn expire(&mut self, now: &str) {
        self.numbers.retain(|_, e| e.until.as_str() > now);
    }

    /// The numbers still quarantined at `now`.
    pub fn held_back(&self, now: &str) -> HashSet<E164> {
        self.numbers
            .iter()
            .filter(|(_, e)| e.until.as_str() > now)
            .map(|(n, _)| *n)
            .collect()
    }
}

/// Whether `t` is written `YYYY-MM-DDTHH:MM:SSZ` (RFC 3339 in UTC to the
/// second, as roster writes times): the one form in which comparing times
/// as text is comparing them in time.
pub fn is_utc_time(t: &str) -> bool {
    let b = t.as_bytes();
    b.len() == 20
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> E164 {
        E164::parse(s).unwrap()
    }

    #[test]
    fn numbers_come_free_when_their_quarantine_ends() {
        let mut q = Quarantine::new();
        q.record(
            n("+15550001"),
            "a@x",
            "2026-01-01T00:00:00Z",
            "2026-01-08T00:00:00Z",
        );
        q.record(
            n("+15550002"),
            "b@x",
            "2026-01-05T00:00:00Z",
            "2026-01-12T00:00:00Z",
        );
        assert_eq!(q.held_back("2026-01-07T23:59:59Z").len(), 2);
        assert_eq!(
            q.held_back("2026-01-08T00:00:00Z"),
            [n("+15550002")].into_iter().collect()
        );
        q.expire("2026-01-08T00:00:00Z");
        assert_eq!(q.numbers.len(), 1);
    }

    #[test]
    fn only_utc_times_to_the_second_compare_as_text() {
        assert!(is_utc_time("2026-11-30T15:00:00Z"));
        for bad in [
            "2026-11-30T15:00:00+01:00",
            "never",
            "2026-11-30",
            "2026-11-30t15:00:00z",
        ] {
            assert!(!is_utc_time(bad), "{bad}");
        }
    }

    #[test]
    fn the_file_is_deterministic_json() {
        let mut q = Quarantine::new();
        q.record(n("+15550009"), "z@x", "t0", "t9");
        q.record(n("+15550001"), "a@x", "t0", "t9");
        let json = serde_json::to_string(&q).unwrap();
        assert!(json.find("+15550001").unwrap() < json.find("+15550009").unwrap());
        assert_eq!(serde_json::from_str::<Quarantine>(&json).unwrap(), q);
    }
}
