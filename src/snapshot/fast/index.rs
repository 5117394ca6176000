//! User ids to their places in the file, for one parse: ids written as
//! GUIDs in lower case (as Graph writes them) are kept as 128-bit numbers,
//! so finding one compares numbers in the table instead of following a
//! pointer to the text; any other id is kept as text. Pure.

use std::collections::HashMap;

/// A fast hash: the ids come from the file being read, and the map lives
/// for one parse.
type Hasher = foldhash::fast::RandomState;

pub(super) struct Index<'a> {
    guids: HashMap<u128, u32, Hasher>,
    others: HashMap<&'a str, u32, Hasher>,
}

impl<'a> Index<'a> {
    pub fn with_capacity(n: usize) -> Self {
        Index {
            guids: HashMap::with_capacity_and_hasher(n, Hasher::default()),
            others: HashMap::default(),
        }
    }

    /// Record `id` at `at`; `false` when the id is already there.
    pub fn insert(&mut self, id: &'a str, at: u32) -> bool {
        match guid(id) {
            Some(g) => self.guids.insert(g, at).is_none(),
            None => self.others.insert(id, at).is_none(),
        }
    }

    #[inline]
    pub fn get(&self, id: &str) -> Option<u32> {
        match guid(id) {
            Some(g) => self.guids.get(&g),
            None => self.others.get(id),
        }
        .copied()
    }
}

/// `id` as a number when it is a GUID written in lower case
/// (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`): one number per such text and
/// one such text per number, so equal numbers are equal ids.
#[inline]
fn guid(id: &str) -> Option<u128> {
    let b = id.as_bytes();
    if b.len() != 36 || b[8] != b'-' || b[13] != b'-' || b[18] != b'-' || b[23] != b'-' {
        return None;
    }
    // Each digit's value, with the high bits of any byte that is not a
    // digit gathered in `bad`.
    let mut bad = 0u8;
    let mut half = |parts: [&[u8]; 3]| {
        let mut v = 0u64;
        for part in parts {
            for &c in part {
                let d = HEX[c as usize];
                bad |= d;
                v = v << 4 | u64::from(d & 0xf);
            }
        }
        v
    };
    let high = half([&b[0..8], &b[9..13], &b[14..18]]);
    let low = half([&b[19..23], &b[24..36], &[]]);
    (bad & 0xf0 == 0).then_some(u128::from(high) << 64 | u128::from(low))
}

/// The value of each byte as a lower-case hex digit; 0xff when it is not
/// one.
static HEX: [u8; 256] = {
    let mut t = [0xff; 256];
    let mut c = 0;
    while c < 10 {
        t[b'0' as usize + c] = c as u8;
        c += 1;
    }
    let mut c = 0;
    while c < 6 {
        t[b'a' as usize + c] = 10 + c as u8;
        c += 1;
    }
    t
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_in_lower_case_are_numbers_and_the_rest_text() {
        let id = "0000368b-83a0-49c3-8612-06c1d72c5d99";
        assert_eq!(guid(id), Some(0x0000368b_83a0_49c3_8612_06c1d72c5d99));
        for other in [
            "0000368B-83A0-49C3-8612-06C1D72C5D99", // upper case: another id
            "0000368b83a049c3861206c1d72c5d99",     // no hyphens
            "0000368b-83a0-49c3-8612-06c1d72c5d9",  // short
            "0000368b-83a0-49c3-8612-06c1d72c5d9g",
            "0000368b-83a0-49c3-8612006c1d72c5d99", // a hyphen missing
            "0000368b-83a0-49c3-8612-06c1d72c-d99", // a hyphen out of place
            "user-1",
        ] {
            assert_eq!(guid(other), None, "{other}");
        }
    }

    #[test]
    fn finds_each_id_as_written() {
        let ids = [
            "0000368b-83a0-49c3-8612-06c1d72c5d99",
            "0000368B-83A0-49C3-8612-06C1D72C5D99",
            "user-1",
        ];
        let mut index = Index::with_capacity(3);
        for (at, id) in ids.iter().enumerate() {
            assert!(index.insert(id, at as u32));
        }
        for (at, id) in ids.iter().enumerate() {
            assert_eq!(index.get(id), Some(at as u32), "{id}");
        }
        assert_eq!(index.get("0000368b-83a0-49c3-8612-06c1d72c5d98"), None);
        assert_eq!(index.get("user-2"), None);
        assert!(!index.insert("user-1", 9), "an id twice");
        assert!(!index.insert(ids[0], 9), "a GUID twice");
    }
}
