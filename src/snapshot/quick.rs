//! The snapshot's users, numbers and direct assignments read without
//! `serde` when they are written plainly ([`reader`]): the same values as
//! the types of [`super::direct`] give, in about half the time. An element
//! written otherwise (an escape in a string, a field twice, a field roster
//! does not know, a value of an unexpected type) is `None`: the caller
//! parses it with `serde_json` as before, which accepts or refuses it.
//! Pure.

mod reader;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::sync::LazyLock;

use reader::{Fields, Reader, Seen};

use super::direct::{AnyText, AssignmentIn, NumberIn, Text};
use crate::catalog::USER_ATTRIBUTE_COUNT;
use crate::live::{Attrs, User};

/// A user's fields, in `SnapUser`'s order (the plain rule attributes in
/// [`super::SnapUser::ATTRIBUTE_NAMES`] order from [`FIRST_ATTRIBUTE`]).
static USER_FIELDS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    let mut fields = vec!["id", "userPrincipalName", "displayName", "accountEnabled"];
    fields.extend(super::SnapUser::ATTRIBUTE_NAMES);
    fields.extend(["onPremisesExtensionAttributes", "assignedLicenses"]);
    assert_eq!(fields.len(), LICENCES + 1, "the user fields as counted");
    fields
});
const FIRST_ATTRIBUTE: usize = 4;
const EXTENSIONS: usize = 19;
const LICENCES: usize = 20;

static LICENCE_FIELDS: [&str; 2] = ["skuId", "disabledPlans"];

static NUMBER_FIELDS: [&str; 10] = [
    "id",
    "telephoneNumber",
    "numberType",
    "assignmentTargetId",
    "assignmentCategory",
    "assignmentStatus",
    "activationState",
    "capabilities",
    "locationId",
    "isoCountryCode",
];

static ASSIGNMENT_FIELDS: [&str; 3] = ["userId", "policyType", "policyName"];

/// Reads the users of one chunk.
pub(super) struct Users<'i> {
    fields: Fields,
    licence_fields: Fields,
    /// The catalog id of each plain rule attribute ([`super::direct::attribute_ids`]).
    ids: &'i [Option<usize>],
    /// Whether licences are kept (the snapshot has `subscribedSkus`).
    licences: bool,
}

impl<'i> Users<'i> {
    pub fn new(ids: &'i [Option<usize>], licences: bool) -> Self {
        Users {
            fields: Fields::new(&USER_FIELDS[..]),
            licence_fields: Fields::new(&LICENCE_FIELDS),
            ids,
            licences,
        }
    }

    /// The user `element` describes, as [`super::direct::UserIn`] and
    /// [`super::licences::user_licences`] build it; `None` when it is not
    /// written plainly, or has a licence with a blank SKU id.
    pub fn read(&mut self, element: &str) -> Option<User> {
        let mut slots: [Option<&str>; USER_ATTRIBUTE_COUNT] = [None; USER_ATTRIBUTE_COUNT];
        // Extension attributes apply after the plain ones, as `take_user`
        // applies them.
        let mut ext: [Option<&str>; USER_ATTRIBUTE_COUNT] = [None; USER_ATTRIBUTE_COUNT];
        let mut ext_seen = Seen::default();
        let (mut id, mut upn, mut display_name) = (None, None, None);
        let mut enabled = true;
        let mut licences = Vec::new();
        let mut r = Reader::new(element);
        let fields = &mut self.fields;
        let licence_fields = &mut self.licence_fields;
        let (ids, keep) = (self.ids, self.licences);
        r.fields(fields, |r, f| {
            match f {
                0 => id = Some(r.string()?),
                1 => upn = Some(r.string()?),
                2 => display_name = r.string_or_null()?,
                3 => enabled = r.bool_or_null()?.unwrap_or(true),
                EXTENSIONS => {
                    if !r.null() {
                        r.object(|r, key| {
                            let value = r.string_or_null()?;
                            if let Some(at) = crate::live::attr_id(key)
                                && at < USER_ATTRIBUTE_COUNT
                            {
                                // Two spellings of one attribute: the map
                                // order decides, and `serde` does that.
                                ext_seen.mark(at)?;
                                ext[at] = value;
                            }
                            Some(())
                        })?;
                    }
                }
                LICENCES => {
                    if !r.null() {
                        r.array(|r| {
                            let (sku_id, plans) = licence(r, licence_fields)?;
                            if keep {
                                if sku_id.trim().is_empty() {
                                    return None;
                                }
                                licences.push(crate::live::AssignedLicence {
                                    sku_id: sku_id.to_string(),
                                    disabled_plans: plans.into_iter().map(str::to_string).collect(),
                                });
                            }
                            Some(())
                        })?;
                    }
                }
                _ => {
                    if let Some(at) = ids[f - FIRST_ATTRIBUTE] {
                        slots[at] = r.string_or_null()?;
                    } else {
                        r.string_or_null()?;
                    }
                }
            }
            Some(())
        })?;
        r.end()?;
        for at in 0..USER_ATTRIBUTE_COUNT {
            if ext_seen.has(at) {
                slots[at] = ext[at];
            }
        }
        let (id, upn) = (id?, upn?);
        Some(User {
            id: id.to_string(),
            upn: upn.to_string(),
            display_name: display_name.map(str::to_string),
            account_enabled: enabled,
            attrs: Attrs::from_slots(&slots),
            policies: Default::default(),
            groups: Vec::new(),
            licences,
        })
    }
}

/// A `SnapLicence`: its SKU id and disabled plans, borrowed (copied
/// only when kept).
fn licence<'a>(r: &mut Reader<'a>, fields: &mut Fields) -> Option<(&'a str, Vec<&'a str>)> {
    let mut sku_id = None;
    let mut disabled_plans = Vec::new();
    r.fields(fields, |r, f| {
        if f == 0 {
            sku_id = Some(r.string()?);
        } else if !r.null() {
            disabled_plans = strings(r)?;
        }
        Some(())
    })?;
    Some((sku_id?, disabled_plans))
}

/// An array of strings.
fn strings<'a>(r: &mut Reader<'a>) -> Option<Vec<&'a str>> {
    let mut out = Vec::new();
    r.array(|r| {
        out.push(r.string()?);
        Some(())
    })?;
    Some(out)
}

/// Reads number inventory entries.
pub(super) struct Numbers(Fields);

impl Numbers {
    pub fn new() -> Self {
        Numbers(Fields::new(&NUMBER_FIELDS))
    }

    /// The entry `element` describes, as `serde` reads a [`NumberIn`];
    /// `None` when it is not written plainly.
    pub fn read<'a>(&mut self, element: &'a str) -> Option<NumberIn<'a>> {
        let mut telephone = None;
        let mut number_type = None;
        let mut target = None;
        let mut category = None;
        let mut status = None;
        let mut capabilities = Vec::new();
        let mut location_id = None;
        let mut r = Reader::new(element);
        r.fields(&mut self.0, |r, f| {
            match f {
                0 => {
                    r.string()?;
                }
                1 => telephone = Some(r.string()?),
                2 => number_type = r.string_or_null()?,
                3 => target = r.string_or_null()?,
                4 => category = r.string_or_null()?,
                5 => status = Some(r.string()?),
                7 => capabilities = strings(r)?.into_iter().map(str::to_string).collect(),
                8 => location_id = r.string_or_null()?,
                _ => {
                    r.string_or_null()?;
                }
            }
            Some(())
        })?;
        r.end()?;
        let owned = |s: Option<&str>| s.map(str::to_string);
        Some(NumberIn {
            _id: AnyText,
            telephone_number: Text(Cow::Borrowed(telephone?)),
            number_type: number_type.map(|t| Text(Cow::Borrowed(t))),
            assignment_target_id: owned(target),
            assignment_category: owned(category),
            assignment_status: status.map_or_else(super::unassigned, str::to_string),
            _activation_state: None,
            capabilities,
            location_id: owned(location_id),
            _iso_country_code: None,
        })
    }
}

/// Reads direct policy assignments.
pub(super) struct Assignments(Fields);

impl Assignments {
    pub fn new() -> Self {
        Assignments(Fields::new(&ASSIGNMENT_FIELDS))
    }

    /// The assignment `element` describes, as `serde` reads an
    /// [`AssignmentIn`]; `None` when it is not written plainly.
    pub fn read<'a>(&mut self, element: &'a str) -> Option<AssignmentIn<'a>> {
        let mut values: [Option<&str>; 3] = [None; 3];
        let mut r = Reader::new(element);
        r.fields(&mut self.0, |r, f| {
            values[f] = Some(r.string()?);
            Some(())
        })?;
        r.end()?;
        let [user_id, policy_type, policy_name] = values;
        Some(AssignmentIn {
            user_id: Text(Cow::Borrowed(user_id?)),
            policy_type: Text(Cow::Borrowed(policy_type?)),
            policy_name: policy_name?.to_string(),
        })
    }
}
