//! Number ranges from the number inventory: every number the tenant knows
//! (held or not) falls in exactly one range, one range per number type and
//! emergency location (split where the numbers jump to another exchange),
//! made of the maximal runs of consecutive numbers the
//! inventory holds (a number it does not hold is a hole, never inside a
//! block). Names come from the city most holders share, else the digits
//! the range's numbers share. Pure: no I/O.

use std::collections::{BTreeMap, HashMap};

use super::slug;
use crate::catalog;
use crate::live::LiveState;
use crate::numbers::{E164, NumberType};

/// A range as `import` writes it.
#[derive(Debug, Clone, PartialEq)]
pub struct RangeDraft {
    pub name: String,
    pub kind: NumberType,
    pub location: Option<String>,
    /// Inclusive, sorted, disjoint and never adjacent.
    pub blocks: Vec<(E164, E164)>,
}

/// Which range each inventory number belongs to.
pub struct RangeIndex {
    of: HashMap<E164, usize>,
}

impl RangeIndex {
    pub fn range_of(&self, n: E164) -> Option<usize> {
        self.of.get(&n).copied()
    }
}

/// The ranges of the tenant's number inventory, sorted by name, and the
/// index of every number's range.
pub fn infer(live: &LiveState) -> (Vec<RangeDraft>, RangeIndex) {
    // (type, location) -> numbers, in number order (the map's order).
    let mut groups: BTreeMap<(NumberType, Option<String>), Vec<E164>> = BTreeMap::new();
    for a in live.numbers.values() {
        let kind = a.number_type.unwrap_or(NumberType::DirectRouting);
        groups
            .entry((kind, a.location_id.clone()))
            .or_default()
            .push(a.number);
    }
    let city = holder_cities(live);
    let mut drafts: Vec<(RangeDraft, Vec<E164>)> = Vec::new();
    for ((kind, location), numbers) in groups {
        for numbers in clusters(numbers) {
            drafts.push((
                RangeDraft {
                    name: base_name(kind, &numbers, &city),
                    kind,
                    location: location.clone(),
                    blocks: runs(&numbers),
                },
                numbers,
            ));
        }
    }
    // Unique names: the first in (type, location) order keeps the plain one.
    let mut used: HashMap<String, usize> = HashMap::new();
    for (d, _) in &mut drafts {
        let n = used.entry(d.name.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            d.name = format!("{}-{}", d.name, n);
        }
    }
    drafts.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    let mut of = HashMap::new();
    for (i, (_, numbers)) in drafts.iter().enumerate() {
        for n in numbers {
            of.insert(*n, i);
        }
    }
    (
        drafts.into_iter().map(|(d, _)| d).collect(),
        RangeIndex { of },
    )
}

/// Numbers of one type and location split where they jump to another
/// exchange (the digits before the last four change by more than one), so
/// numbers of two countries or cities without an emergency location are
/// not one range that allocation would draw from for both.
fn clusters(numbers: Vec<E164>) -> Vec<Vec<E164>> {
    let mut out: Vec<Vec<E164>> = Vec::new();
    let exchange = |n: &E164| (n.len(), n.digits() / 10_000);
    for n in numbers {
        match out.last_mut() {
            Some(c)
                if c.last().is_some_and(|l| {
                    let (a, b) = (exchange(l), exchange(&n));
                    a.0 == b.0 && b.1 <= a.1 + 1
                }) =>
            {
                c.push(n)
            }
            _ => out.push(vec![n]),
        }
    }
    out
}

/// Maximal runs of consecutive numbers (same length) of a sorted list.
pub fn runs(numbers: &[E164]) -> Vec<(E164, E164)> {
    let mut out: Vec<(E164, E164)> = Vec::new();
    for &n in numbers {
        match out.last_mut() {
            Some((_, to)) if to.next() == Some(n) => *to = n,
            _ => out.push((n, n)),
        }
    }
    out
}

/// The city of the user holding each number, lower-cased.
fn holder_cities(live: &LiveState) -> HashMap<E164, String> {
    let city = catalog::attribute("city").unwrap_or(0);
    let by_id = live.user_by_id();
    live.numbers
        .values()
        .filter_map(|a| {
            let u = &live.users[*by_id.get(a.target.as_deref()?)?];
            let c = u.attr(city)?.trim();
            (!c.is_empty()).then(|| (a.number, c.to_lowercase()))
        })
        .collect()
}

fn base_name(kind: NumberType, numbers: &[E164], city: &HashMap<E164, String>) -> String {
    let prefix = match kind {
        NumberType::DirectRouting => "dr",
        NumberType::CallingPlan => "cp",
        NumberType::OperatorConnect => "oc",
    };
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for n in numbers {
        if let Some(c) = city.get(n) {
            *counts.entry(c.as_str()).or_default() += 1;
        }
    }
    let held: usize = counts.values().sum();
    // The most common city, first in name order on a tie.
    let top = counts
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .filter(|(_, c)| **c * 2 > held);
    match top.map(|(c, _)| slug(c)).filter(|s| !s.is_empty()) {
        Some(s) => format!("{prefix}-{s}"),
        None => format!("{prefix}-{}", common_prefix(numbers)),
    }
}

/// The digits every number shares (at least the first four digits of the
/// first number, so the name says something).
fn common_prefix(numbers: &[E164]) -> String {
    let texts: Vec<String> = numbers
        .iter()
        .map(|n| n.to_string().trim_start_matches('+').to_string())
        .collect();
    let Some(first) = texts.first() else {
        return "numbers".into();
    };
    let mut len = first.len();
    for t in &texts[1..] {
        len = len.min(
            first
                .bytes()
                .zip(t.bytes())
                .take_while(|(a, b)| a == b)
                .count(),
        );
    }
    first[..len.max(4.min(first.len()))].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::{NumberAssignment, User};

    fn n(s: &str) -> E164 {
        E164::parse(s).unwrap()
    }

    fn number(live: &mut LiveState, s: &str, kind: NumberType, loc: &str, holder: Option<&str>) {
        live.numbers.insert(
            n(s),
            NumberAssignment {
                number: n(s),
                number_type: Some(kind),
                target: holder.map(str::to_string),
                category: holder.map(|_| "primary".to_string()),
                status: if holder.is_some() {
                    "userAssigned".into()
                } else {
                    "unassigned".into()
                },
                capabilities: vec!["userAssignment".into()],
                location_id: Some(loc.into()),
            },
        );
    }

    #[test]
    fn runs_break_at_holes_and_lengths() {
        let v = [
            n("+441000000"),
            n("+441000001"),
            n("+441000003"),
            n("+4410000040"),
        ];
        assert_eq!(runs(&v), vec![(v[0], v[1]), (v[2], v[2]), (v[3], v[3]),]);
    }

    #[test]
    fn one_range_per_type_and_location_named_after_holders() {
        let mut live = LiveState::default();
        let mut u = User::new("u1", "a@x");
        u.set_attr("city", Some(" London ".into()));
        live.users.push(u);
        live.finish();
        let dr = NumberType::DirectRouting;
        number(&mut live, "+442071230000", dr, "L1", Some("u1"));
        number(&mut live, "+442071230001", dr, "L1", None);
        number(&mut live, "+442071230005", dr, "L1", None);
        number(&mut live, "+442071230002", dr, "L2", None);
        let cp = NumberType::CallingPlan;
        for s in [
            "+12125550000",
            "+12125559999",
            "+12125560000",
            "+14165000000",
        ] {
            number(&mut live, s, cp, "L1", None);
        }
        let (ranges, index) = infer(&live);
        let names: Vec<&str> = ranges.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "cp-121255",
                "cp-14165000000",
                "dr-442071230002",
                "dr-london"
            ]
        );
        assert_eq!(ranges[0].blocks.len(), 2, "one exchange to the next");
        let london = &ranges[3];
        assert_eq!(london.blocks.len(), 2, "the hole at ...0002 to ...0004");
        assert_eq!(index.range_of(n("+442071230005")), Some(3));
        assert_eq!(index.range_of(n("+442071230002")), Some(2));
        assert_eq!(index.range_of(n("+442071239999")), None);
    }
}
