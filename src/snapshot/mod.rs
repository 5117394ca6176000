//! The tenant snapshot file (`docs/snapshot-format.md`): Graph's own shapes
//! in one JSON document, as the file provider reads and writes it.
//!
//! The types are here; [`parse()`] reads text with errors that name the JSON
//! path, [`to_live()`] checks a snapshot and turns it into a [`LiveState`],
//! [`parse_live()`] does both at once from text (faster: the file provider's
//! path),
//! [`from_live()`] writes one, and [`patch()`] rewrites a file in place
//! (keeping unknown fields) for the file provider. Pure: reading the file
//! is [`crate::files::read_snapshot`].

mod direct;
mod fast;
mod from_live;
mod layout;
pub mod licences;
mod parse;
mod patch;
mod quick;
mod to_live;

use serde::{Deserialize, Serialize};

use crate::numbers::E164;

pub use fast::parse_live;
pub use from_live::{from_live, number_id};
pub use parse::parse;
pub use patch::patch;
pub use to_live::{PagedUser, into_live, into_live_pages, live_users, to_live};

/// The snapshot format this roster reads and writes.
pub const SNAPSHOT_FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    #[serde(rename = "format_version")]
    pub format_version: u32,
    #[serde(default)]
    pub tenant_id: String,
    pub users: Vec<SnapUser>,
    #[serde(default)]
    pub groups: Vec<SnapGroup>,
    #[serde(default)]
    pub policies: Vec<SnapPolicy>,
    #[serde(default)]
    pub policy_assignments: Vec<SnapAssignment>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub group_policy_assignments: Vec<SnapGroupAssignment>,
    #[serde(default)]
    pub number_assignments: Vec<SnapNumber>,
    /// The tenant's licence SKUs. Absent: licences are not recorded (and
    /// users' `assignedLicenses` are not read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscribed_skus: Option<Vec<SnapSku>>,
}

macro_rules! snap_user {
    ($($field:ident : $name:literal),* $(,)?) => {
        /// A Graph `user` with the properties roster selects.
        #[derive(Debug, Clone, Default, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub struct SnapUser {
            pub id: String,
            pub user_principal_name: String,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub display_name: Option<String>,
            #[serde(default = "yes", deserialize_with = "null_is_enabled")]
            pub account_enabled: bool,
            $(
                #[serde(default, rename = $name, skip_serializing_if = "Option::is_none")]
                pub $field: Option<String>,
            )*
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub on_premises_extension_attributes: Option<std::collections::BTreeMap<String, Option<String>>>,
            /// Read only when the snapshot has `subscribedSkus`.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub assigned_licenses: Option<Vec<SnapLicence>>,
        }

        impl SnapUser {
            /// Graph names of the plain rule attributes, in the order
            /// [`SnapUser::take_attributes`] gives their values.
            const ATTRIBUTE_NAMES: &'static [&'static str] = &[$($name),*];

            /// Move the plain rule attributes out, in [`Self::ATTRIBUTE_NAMES`] order.
            fn take_attributes(&mut self) -> Vec<Option<String>> {
                vec![$(self.$field.take()),*]
            }

            fn set_attribute(&mut self, name: &str, value: Option<String>) {
                match name {
                    $($name => self.$field = value,)*
                    _ => {}
                }
            }
        }
    };
}

snap_user! {
    mail: "mail",
    given_name: "givenName",
    surname: "surname",
    job_title: "jobTitle",
    department: "department",
    company_name: "companyName",
    employee_type: "employeeType",
    employee_id: "employeeId",
    office_location: "officeLocation",
    city: "city",
    state: "state",
    country: "country",
    postal_code: "postalCode",
    usage_location: "usageLocation",
    preferred_language: "preferredLanguage",
}

fn yes() -> bool {
    true
}

/// Graph returns `null` for a selected property that is not set; an
/// account is enabled unless it says otherwise.
fn null_is_enabled<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(d)?.unwrap_or(true))
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapGroup {
    pub id: String,
    pub display_name: String,
    #[serde(default)]
    pub members: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapPolicy {
    pub policy_type: String,
    pub name: String,
    #[serde(default)]
    pub policy_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapAssignment {
    pub user_id: String,
    pub policy_type: String,
    pub policy_name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapGroupAssignment {
    pub group_id: String,
    pub policy_type: String,
    pub policy_name: String,
    #[serde(default)]
    pub rank: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapNumber {
    #[serde(default)]
    pub id: String,
    pub telephone_number: E164,
    #[serde(default)]
    pub number_type: Option<String>,
    #[serde(default)]
    pub assignment_target_id: Option<String>,
    #[serde(default)]
    pub assignment_category: Option<String>,
    #[serde(default = "unassigned")]
    pub assignment_status: String,
    #[serde(default)]
    pub activation_state: Option<String>,
    #[serde(default)]
    pub capabilities: Vec<String>,
    #[serde(default)]
    pub location_id: Option<String>,
    #[serde(default)]
    pub iso_country_code: Option<String>,
}

/// A Graph `assignedLicense`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapLicence {
    pub sku_id: String,
    #[serde(default, deserialize_with = "null_is_empty")]
    pub disabled_plans: Vec<String>,
}

/// A Graph `subscribedSku`, with the fields roster reads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapSku {
    pub sku_id: String,
    #[serde(default, deserialize_with = "null_is_empty")]
    pub sku_part_number: String,
    #[serde(default, deserialize_with = "null_is_empty")]
    pub service_plans: Vec<SnapServicePlan>,
}

/// A Graph `servicePlanInfo`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapServicePlan {
    pub service_plan_id: String,
    #[serde(default, deserialize_with = "null_is_empty")]
    pub service_plan_name: String,
}

/// Graph may send `null` for an empty list or string.
fn null_is_empty<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

fn unassigned() -> String {
    "unassigned".into()
}

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error(
        "tenant snapshot `{file}` cannot be read: {source}\nhint: check the path given with `--tenant` or the `provider \"file\" path=…` of the tenant settings"
    )]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "tenant snapshot `{file}` is malformed at `{json_path}` (line {line}, column {column}): {message}"
    )]
    Json {
        file: String,
        json_path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("tenant snapshot `{file}` is inconsistent at `{json_path}`: {message}\nhint: {hint}")]
    Invalid {
        file: String,
        json_path: String,
        message: String,
        hint: String,
    },
}

/// An [`SnapshotError::Invalid`] at `path`.
pub(crate) fn invalid(
    file: &str,
    path: &str,
    message: String,
    hint: impl Into<String>,
) -> SnapshotError {
    SnapshotError::Invalid {
        file: file.to_string(),
        json_path: path.to_string(),
        message,
        hint: hint.into(),
    }
}
