//! The state directory as the commands use it: which numbers are in
//! quarantine now, and recording releases before an apply makes them.

use std::collections::HashSet;
use std::time::Duration;

use super::plan::now;
use super::{Global, Result};
use crate::numbers::E164;
use crate::state::StateDir;

/// The state directory of this config: `.roster-state/` beside the
/// manifests.
pub fn state_dir(g: &Global) -> StateDir {
    StateDir::new(g.config.join(crate::state::DEFAULT_DIR))
}

/// The numbers in quarantine now.
pub fn held_back(g: &Global) -> Result<HashSet<E164>> {
    Ok(state_dir(g).quarantine()?.held_back(&now()))
}

/// Records each release in the quarantine before it is made.
pub struct QuarantineRecorder {
    pub state: StateDir,
    pub period: Duration,
}

impl crate::apply::Recorder for QuarantineRecorder {
    fn releasing(&mut self, numbers: &[(String, E164)]) -> std::result::Result<(), String> {
        if self.period.is_zero() {
            return Ok(());
        }
        let (now, until) = now_and_later(self.period);
        self.state
            .update_quarantine(|q| {
                q.expire(&now);
                for (holder, n) in numbers {
                    q.record(*n, holder, &now, &until);
                }
            })
            .map(drop)
            .map_err(|e| e.to_string())
    }
}

/// Now, and now plus `period` (RFC 3339, UTC, to the second).
fn now_and_later(period: Duration) -> (String, String) {
    let format = time::format_description::well_known::Rfc3339;
    let t = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let later = time::Duration::try_from(period)
        .ok()
        .and_then(|p| t.checked_add(p))
        .and_then(|l| l.format(&format).ok())
        .unwrap_or_else(|| "9999-12-31T23:59:59Z".to_string());
    (t.format(&format).unwrap_or_default(), later)
}

#[cfg(test)]
mod tests {
    #[test]
    fn later_is_now_plus_the_period() {
        let (now, later) = super::now_and_later(std::time::Duration::from_secs(0));
        assert_eq!(now, later);
        let (now, later) =
            super::now_and_later(crate::manifest::NumberSettings::DEFAULT_QUARANTINE);
        assert!(later > now, "{now} < {later}");
        assert_eq!(now.len(), later.len());
    }
}
