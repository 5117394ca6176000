//! Snapshot entries deserialized straight into what the live state keeps:
//! a user's attribute values, keys and policy types borrowed from the text
//! (a user's values then copied into one [`Attrs`]), and the fields roster does not keep checked but not
//! stored. Each type here accepts exactly what its counterpart in
//! [`super`] (`SnapUser`, `SnapLicence`, `SnapNumber`, `SnapAssignment`)
//! accepts: the same fields in the same order, with the same defaults, and
//! values of the same JSON types. Pure.

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use crate::catalog::USER_ATTRIBUTE_COUNT;
use crate::live::{Attrs, User};

/// A string borrowed from the text when it has no escapes.
pub(super) struct Text<'a>(pub Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Cow<'de, str>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(Cow::Borrowed(s))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(Cow::Owned(s.to_string()))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
                Ok(Cow::Owned(s))
            }
        }
        d.deserialize_string(V).map(Text)
    }
}

/// A string that is checked and dropped.
#[derive(Default)]
pub(super) struct AnyText;

impl<'de> Deserialize<'de> for AnyText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = AnyText;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<AnyText, E> {
                Ok(AnyText)
            }
        }
        d.deserialize_string(V)
    }
}

/// `onPremisesExtensionAttributes`, in the order written (repeated keys
/// kept; [`UserIn::take_user`] lets the last one win, as a map does).
pub(super) struct Extensions<'a>(Vec<(Cow<'a, str>, Option<Text<'a>>)>);

impl<'de: 'a, 'a> Deserialize<'de> for Extensions<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Extensions<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut out = Vec::new();
                while let Some(Text(k)) = map.next_key()? {
                    out.push((k, map.next_value()?));
                }
                Ok(Extensions(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// A `SnapLicence` that is checked and dropped (a snapshot without
/// `subscribedSkus` does not read licences, but a malformed one is still
/// malformed).
#[derive(Deserialize)]
pub(super) struct LicenceCheck {
    #[serde(rename = "skuId")]
    _sku_id: AnyText,
    #[serde(
        rename = "disabledPlans",
        default,
        deserialize_with = "super::null_is_empty"
    )]
    _disabled_plans: Vec<AnyText>,
}

/// A `SnapUser`, with licences of type `L` (`SnapLicence`, or
/// [`LicenceCheck`] when licences are not read).
#[derive(Deserialize)]
pub(super) struct UserIn<'a, L> {
    id: String,
    #[serde(rename = "userPrincipalName")]
    user_principal_name: String,
    #[serde(rename = "displayName", default)]
    display_name: Option<String>,
    #[serde(
        rename = "accountEnabled",
        default = "super::yes",
        deserialize_with = "super::null_is_enabled"
    )]
    account_enabled: bool,
    #[serde(default, borrow)]
    mail: Option<Text<'a>>,
    #[serde(rename = "givenName", default, borrow)]
    given_name: Option<Text<'a>>,
    #[serde(default, borrow)]
    surname: Option<Text<'a>>,
    #[serde(rename = "jobTitle", default, borrow)]
    job_title: Option<Text<'a>>,
    #[serde(default, borrow)]
    department: Option<Text<'a>>,
    #[serde(rename = "companyName", default, borrow)]
    company_name: Option<Text<'a>>,
    #[serde(rename = "employeeType", default, borrow)]
    employee_type: Option<Text<'a>>,
    #[serde(rename = "employeeId", default, borrow)]
    employee_id: Option<Text<'a>>,
    #[serde(rename = "officeLocation", default, borrow)]
    office_location: Option<Text<'a>>,
    #[serde(default, borrow)]
    city: Option<Text<'a>>,
    #[serde(default, borrow)]
    state: Option<Text<'a>>,
    #[serde(default, borrow)]
    country: Option<Text<'a>>,
    #[serde(rename = "postalCode", default, borrow)]
    postal_code: Option<Text<'a>>,
    #[serde(rename = "usageLocation", default, borrow)]
    usage_location: Option<Text<'a>>,
    #[serde(rename = "preferredLanguage", default, borrow)]
    preferred_language: Option<Text<'a>>,
    #[serde(rename = "onPremisesExtensionAttributes", default, borrow)]
    extensions: Option<Extensions<'a>>,
    #[serde(rename = "assignedLicenses", default = "none")]
    pub assigned_licenses: Option<Vec<L>>,
}

fn none<T>() -> Option<T> {
    None
}

/// The catalog ids of the plain rule attributes, in `SnapUser`'s order.
pub(super) fn attribute_ids() -> Vec<Option<usize>> {
    super::SnapUser::ATTRIBUTE_NAMES
        .iter()
        .map(|a| crate::catalog::attribute(a))
        .collect()
}

impl<L> UserIn<'_, L> {
    /// The live user (without policies, groups or licences), as
    /// `into_live` builds it; `ids` is [`attribute_ids`]. Its licences are
    /// left in `self`.
    pub fn take_user(&mut self, ids: &[Option<usize>]) -> User {
        let mut slots: [Option<Cow<str>>; USER_ATTRIBUTE_COUNT] = std::array::from_fn(|_| None);
        let values = [
            self.mail.take(),
            self.given_name.take(),
            self.surname.take(),
            self.job_title.take(),
            self.department.take(),
            self.company_name.take(),
            self.employee_type.take(),
            self.employee_id.take(),
            self.office_location.take(),
            self.city.take(),
            self.state.take(),
            self.country.take(),
            self.postal_code.take(),
            self.usage_location.take(),
            self.preferred_language.take(),
        ];
        for (id, value) in ids.iter().zip(values) {
            if let (Some(id), Some(Text(v))) = (id, value) {
                slots[*id] = Some(v);
            }
        }
        if let Some(Extensions(mut ext)) = self.extensions.take() {
            // As a map: keys in order, the last of a repeated key.
            if ext.len() > 1 {
                ext.sort_by(|a, b| a.0.cmp(&b.0));
            }
            let mut ext = ext.into_iter().peekable();
            while let Some((k, v)) = ext.next() {
                if ext.peek().is_some_and(|(next, _)| *next == k) {
                    continue;
                }
                if let Some(id) = crate::live::attr_id(&k)
                    && id < USER_ATTRIBUTE_COUNT
                {
                    slots[id] = v.map(|Text(v)| v);
                }
            }
        }
        let attrs = Attrs::from_slots(&slots);
        User {
            id: std::mem::take(&mut self.id),
            upn: std::mem::take(&mut self.user_principal_name),
            display_name: self.display_name.take(),
            account_enabled: self.account_enabled,
            attrs,
            policies: Default::default(),
            groups: Vec::new(),
            licences: Vec::new(),
        }
    }
}

/// A `SnapAssignment`.
#[derive(Deserialize)]
pub(super) struct AssignmentIn<'a> {
    #[serde(rename = "userId", borrow)]
    pub user_id: Text<'a>,
    #[serde(rename = "policyType", borrow)]
    pub policy_type: Text<'a>,
    #[serde(rename = "policyName")]
    pub policy_name: String,
}

/// A `SnapNumber`.
#[derive(Deserialize)]
pub(super) struct NumberIn<'a> {
    #[serde(rename = "id", default)]
    pub _id: AnyText,
    #[serde(rename = "telephoneNumber", borrow)]
    pub telephone_number: Text<'a>,
    #[serde(rename = "numberType", default, borrow)]
    pub number_type: Option<Text<'a>>,
    #[serde(rename = "assignmentTargetId", default)]
    pub assignment_target_id: Option<String>,
    #[serde(rename = "assignmentCategory", default)]
    pub assignment_category: Option<String>,
    #[serde(rename = "assignmentStatus", default = "super::unassigned")]
    pub assignment_status: String,
    #[serde(rename = "activationState", default)]
    pub _activation_state: Option<AnyText>,
    #[serde(default)]
    pub capabilities: Vec<String>,
    #[serde(rename = "locationId", default)]
    pub location_id: Option<String>,
    #[serde(rename = "isoCountryCode", default)]
    pub _iso_country_code: Option<AnyText>,
}
