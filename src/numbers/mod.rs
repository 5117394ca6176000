//! E.164 telephone numbers, the number types of Teams, and lowest-free
//! allocation over ranges ([`allocate`]).
//!
//! A number is kept as its digits in a `u64` plus its length, so ranges of
//! millions of numbers cost nothing to hold and comparing two numbers of the
//! same length is comparing integers. Pure: no I/O.

pub mod allocate;

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An E.164 number: `+` and 8 to 15 digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct E164 {
    // Length first, so numbers order by length, then value.
    len: u8,
    digits: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum E164Error {
    #[error("a number in E.164 form starts with `+`")]
    NoPlus,
    #[error("only digits may follow `+` (no spaces, dashes or brackets)")]
    NotDigits,
    #[error("E.164 numbers have 8 to 15 digits, this one has {0}")]
    Length(usize),
}

impl E164 {
    pub const MIN_DIGITS: usize = 8;
    pub const MAX_DIGITS: usize = 15;

    pub fn parse(s: &str) -> Result<Self, E164Error> {
        let rest = s.strip_prefix('+').ok_or(E164Error::NoPlus)?;
        if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) {
            return Err(E164Error::NotDigits);
        }
        if !(Self::MIN_DIGITS..=Self::MAX_DIGITS).contains(&rest.len()) {
            return Err(E164Error::Length(rest.len()));
        }
        let digits = rest.parse::<u64>().map_err(|_| E164Error::NotDigits)?;
        Ok(E164 {
            len: rest.len() as u8,
            digits,
        })
    }

    /// Parse leniently what the API or a snapshot may hold: a missing `+`
    /// is added, a `tel:` prefix is dropped.
    pub fn parse_lenient(s: &str) -> Result<Self, E164Error> {
        let s = s.trim();
        let s = s.strip_prefix("tel:").unwrap_or(s);
        if s.starts_with('+') {
            Self::parse(s)
        } else {
            Self::parse(&format!("+{s}"))
        }
    }

    pub fn len(&self) -> usize {
        self.len as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn digits(&self) -> u64 {
        self.digits
    }

    /// The next number of the same length, if there is one.
    pub fn next(&self) -> Option<E164> {
        let max = 10u64.pow(self.len as u32) - 1;
        (self.digits < max).then(|| E164 {
            len: self.len,
            digits: self.digits + 1,
        })
    }

    pub fn with_digits(&self, digits: u64) -> E164 {
        E164 {
            len: self.len,
            digits,
        }
    }
}

impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "+{:0width$}", self.digits, width = self.len as usize)
    }
}

impl std::str::FromStr for E164 {
    type Err = E164Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        E164::parse(s)
    }
}

impl Serialize for E164 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for E164 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        E164::parse_lenient(&s)
            .map_err(|e| serde::de::Error::custom(format!("invalid telephone number `{s}`: {e}")))
    }
}

/// The phone number types of Teams, with Graph's spelling in JSON.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum NumberType {
    DirectRouting,
    CallingPlan,
    OperatorConnect,
}

impl NumberType {
    /// The manifest spelling (`direct-routing`, …).
    pub fn manifest_name(self) -> &'static str {
        match self {
            NumberType::DirectRouting => "direct-routing",
            NumberType::CallingPlan => "calling-plan",
            NumberType::OperatorConnect => "operator-connect",
        }
    }

    pub fn graph_name(self) -> &'static str {
        match self {
            NumberType::DirectRouting => "directRouting",
            NumberType::CallingPlan => "callingPlan",
            NumberType::OperatorConnect => "operatorConnect",
        }
    }

    pub fn from_manifest(s: &str) -> Option<Self> {
        [
            NumberType::DirectRouting,
            NumberType::CallingPlan,
            NumberType::OperatorConnect,
        ]
        .into_iter()
        .find(|t| t.manifest_name().eq_ignore_ascii_case(s.trim()))
    }

    pub fn from_graph(s: &str) -> Option<Self> {
        [
            NumberType::DirectRouting,
            NumberType::CallingPlan,
            NumberType::OperatorConnect,
        ]
        .into_iter()
        .find(|t| t.graph_name().eq_ignore_ascii_case(s.trim()))
    }

    /// Calling Plan and Operator Connect numbers must be in the tenant's
    /// inventory (acquired) before they can be assigned.
    pub fn needs_inventory(self) -> bool {
        !matches!(self, NumberType::DirectRouting)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_e164() {
        let n = E164::parse("+442071230005").unwrap();
        assert_eq!(n.to_string(), "+442071230005");
        assert_eq!(n.len(), 12);
        assert_eq!(n.next().unwrap().to_string(), "+442071230006");
        assert_eq!(
            E164::parse("+0012345678").unwrap().to_string(),
            "+0012345678"
        );
        assert_eq!(E164::parse("442071230005"), Err(E164Error::NoPlus));
        assert_eq!(E164::parse("+44 207"), Err(E164Error::NotDigits));
        assert_eq!(E164::parse("+"), Err(E164Error::NotDigits));
        assert_eq!(E164::parse("+1234567"), Err(E164Error::Length(7)));
        assert_eq!(E164::parse("+1234567890123456"), Err(E164Error::Length(16)));
        assert_eq!(E164::parse("+999999999999999").unwrap().next(), None);
        assert_eq!(
            E164::parse_lenient("tel:12065551234").unwrap().to_string(),
            "+12065551234"
        );
    }

    #[test]
    fn orders_by_length_then_value() {
        let a = E164::parse("+99999999").unwrap();
        let b = E164::parse("+100000000").unwrap();
        assert!(a < b);
    }

    #[test]
    fn number_type_names() {
        assert_eq!(
            NumberType::from_manifest("Calling-Plan"),
            Some(NumberType::CallingPlan)
        );
        assert_eq!(
            NumberType::from_graph("DirectRouting"),
            Some(NumberType::DirectRouting)
        );
        assert_eq!(
            serde_json::to_string(&NumberType::OperatorConnect).unwrap(),
            "\"operatorConnect\""
        );
    }
}

/// Plan data: an E.164 number in JSON and its schema is its text (a plain
/// string schema), and numbers sort in plans as their text does.
impl E164 {
    /// Compare as the texts `+digits` compare (not by length first, as
    /// [`Ord`] does): `+12…` sorts before `+9…`.
    pub fn cmp_text(&self, other: &E164) -> std::cmp::Ordering {
        // The first min(len) digits decide; on a tie the shorter text is first.
        let common = self.len.min(other.len);
        let head = |n: &E164| n.digits / 10u64.pow(u32::from(n.len - common));
        head(self).cmp(&head(other)).then(self.len.cmp(&other.len))
    }
}

impl schemars::JsonSchema for E164 {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        "E164".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        String::json_schema(generator)
    }
}

#[cfg(test)]
mod plan_data_tests {
    use super::*;

    #[test]
    fn compares_as_text() {
        let texts = [
            "+12065551234",
            "+4420712300",
            "+442071230005",
            "+44207123000",
            "+99999999",
            "+100000000",
            "+0012345678",
            "+00123456",
        ];
        for a in texts {
            for b in texts {
                let (na, nb) = (E164::parse(a).unwrap(), E164::parse(b).unwrap());
                assert_eq!(na.cmp_text(&nb), a.cmp(b), "{a} vs {b}");
            }
        }
    }

    #[test]
    fn json_is_the_text_and_the_schema_a_string() {
        let n = E164::parse("+442071230005").unwrap();
        assert_eq!(serde_json::to_string(&n).unwrap(), "\"+442071230005\"");
        let schema = serde_json::to_value(schemars::schema_for!(E164)).unwrap();
        assert_eq!(schema["type"], "string");
    }
}
