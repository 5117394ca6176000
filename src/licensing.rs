//! Teams Phone licensing: whether a user is licensed for the number roster
//! would give it. A user needs the Teams Phone service plan (`MCOEV`)
//! enabled for any number, and a Calling Plan service plan enabled for a
//! Calling Plan number; Direct Routing and Operator Connect numbers need
//! Teams Phone only. A service plan is enabled when one of the user's
//! licences (Graph `assignedLicenses`) is a SKU of the tenant
//! (`subscribedSkus`) that includes it and does not list it in
//! `disabledPlans`.
//!
//! The service plans that count, by name (without regard to case) or by id:
//!
//! | need | service plans |
//! |---|---|
//! | Teams Phone | any name starting with `MCOEV` (`MCOEV`, `MCOEV_GOV`, `MCOEV_VIRTUALUSER`, …); id `4828c8ec-dc2e-4779-b502-87ac9ce28ab7` (`MCOEV`) |
//! | Calling Plan | `MCOPSTN1` (`4ed3ff63-69d7-4fb7-b984-5aec7f605ca8`), `MCOPSTN1_GOV` (`3c8a8792-7866-409b-bb61-1b20ace0368b`), `MCOPSTN2` (`5a10155d-f5c1-411a-a8ec-e99aae125390`), `MCOPSTN5` (`54a152dc-90de-4996-93d2-bc47e670fc06`), `MCOPSTN6` |
//!
//! Communications Credits (`MCOPSTNC`) is not a Calling Plan. When the live
//! state has no licence data ([`LiveState::licensing`] is `None`) nothing is
//! checked. Pure: no I/O.

use std::collections::HashMap;

use crate::live::{LiveState, Sku, User};
use crate::numbers::NumberType;

/// The Teams Phone Standard SKU (`MCOEV`).
pub const TEAMS_PHONE_SKU: &str = "e43b5b99-8dfb-405f-9987-dc307f34bcbd";
/// The Teams Phone service plan (`MCOEV`).
pub const TEAMS_PHONE_PLAN: &str = "4828c8ec-dc2e-4779-b502-87ac9ce28ab7";
/// The Domestic Calling Plan SKU (`MCOPSTN1`).
pub const CALLING_PLAN_SKU: &str = "0dab259f-bf13-4952-b7f8-7db8f131b28d";
/// The Domestic Calling Plan service plan (`MCOPSTN1`).
pub const CALLING_PLAN_PLAN: &str = "4ed3ff63-69d7-4fb7-b984-5aec7f605ca8";

/// Calling Plan service plans: (name, id when known).
const CALLING_PLANS: &[(&str, Option<&str>)] = &[
    ("MCOPSTN1", Some(CALLING_PLAN_PLAN)),
    ("MCOPSTN1_GOV", Some("3c8a8792-7866-409b-bb61-1b20ace0368b")),
    ("MCOPSTN2", Some("5a10155d-f5c1-411a-a8ec-e99aae125390")),
    ("MCOPSTN5", Some("54a152dc-90de-4996-93d2-bc47e670fc06")),
    ("MCOPSTN6", None),
];

/// What a number needs besides the number itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Teams Phone (`MCOEV`): every number.
    TeamsPhone,
    /// A Calling Plan: Calling Plan numbers.
    CallingPlan,
}

impl Need {
    fn holds(self, plan: &crate::live::ServicePlan) -> bool {
        match self {
            Need::TeamsPhone => {
                plan.name.to_ascii_uppercase().starts_with("MCOEV")
                    || plan.id.eq_ignore_ascii_case(TEAMS_PHONE_PLAN)
            }
            Need::CallingPlan => CALLING_PLANS.iter().any(|(name, id)| {
                plan.name.eq_ignore_ascii_case(name)
                    || id.is_some_and(|id| plan.id.eq_ignore_ascii_case(id))
            }),
        }
    }

    /// How plans, messages and `explain` name it.
    pub fn name(self) -> &'static str {
        match self {
            Need::TeamsPhone => "Teams Phone (`MCOEV`)",
            Need::CallingPlan => "a Calling Plan",
        }
    }
}

/// Whether a user has one [`Need`], and if not why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    /// Enabled by this SKU (its part number, or its id) through this plan.
    Enabled { sku: String, plan: String },
    /// Not enabled: SKUs that include it but disable it for the user, and
    /// licences whose SKU the tenant does not list.
    Missing {
        disabled_in: Vec<String>,
        unknown_skus: Vec<String>,
    },
}

impl Grant {
    pub fn is_enabled(&self) -> bool {
        matches!(self, Grant::Enabled { .. })
    }
}

/// The tenant's SKUs by lower-cased id, to judge users against.
pub struct Licences<'a> {
    skus: HashMap<String, &'a Sku>,
}

impl<'a> Licences<'a> {
    /// `None` when the live state has no licence data (nothing is checked).
    pub fn of(live: &'a LiveState) -> Option<Self> {
        let licensing = live.licensing.as_ref()?;
        Some(Licences {
            skus: licensing
                .skus
                .iter()
                .map(|s| (s.sku_id.to_ascii_lowercase(), s))
                .collect(),
        })
    }

    /// A SKU's part number (its id when it has none); `None` when the
    /// tenant does not list the SKU.
    pub fn part_number(&self, sku_id: &str) -> Option<&'a str> {
        self.skus.get(&sku_id.to_ascii_lowercase()).map(|s| {
            if s.part_number.is_empty() {
                s.sku_id.as_str()
            } else {
                s.part_number.as_str()
            }
        })
    }

    /// Whether `user` has `need` enabled.
    pub fn grant(&self, user: &User, need: Need) -> Grant {
        let mut disabled_in = Vec::new();
        let mut unknown_skus = Vec::new();
        for l in &user.licences {
            let Some(sku) = self.skus.get(&l.sku_id.to_ascii_lowercase()) else {
                unknown_skus.push(l.sku_id.clone());
                continue;
            };
            let name = if sku.part_number.is_empty() {
                sku.sku_id.clone()
            } else {
                sku.part_number.clone()
            };
            for plan in sku.service_plans.iter().filter(|p| need.holds(p)) {
                let off = l
                    .disabled_plans
                    .iter()
                    .any(|d| d.eq_ignore_ascii_case(&plan.id));
                if !off {
                    let plan = if plan.name.is_empty() {
                        plan.id.clone()
                    } else {
                        plan.name.clone()
                    };
                    return Grant::Enabled { sku: name, plan };
                }
                if !disabled_in.contains(&name) {
                    disabled_in.push(name.clone());
                }
            }
        }
        Grant::Missing {
            disabled_in,
            unknown_skus,
        }
    }

    /// The first need `user` lacks for a number of `kind`, and why.
    pub fn missing(&self, user: &User, kind: NumberType) -> Option<(Need, Grant)> {
        let mut needs = vec![Need::TeamsPhone];
        if kind == NumberType::CallingPlan {
            needs.push(Need::CallingPlan);
        }
        needs.into_iter().find_map(|need| {
            let g = self.grant(user, need);
            (!g.is_enabled()).then_some((need, g))
        })
    }

    /// The plan error's message: `user` would get `what` (a number, or
    /// numbers from ranges) but lacks `need`; with the fix.
    pub fn message(user: &User, what: &str, need: Need, grant: &Grant) -> String {
        let mut why = Vec::new();
        if let Grant::Missing {
            disabled_in,
            unknown_skus,
        } = grant
        {
            if !disabled_in.is_empty() {
                why.push(format!(
                    "disabled in `disabledPlans` of {}",
                    backticked(disabled_in)
                ));
            }
            if !unknown_skus.is_empty() {
                why.push(format!(
                    "licence SKU {} is not among the tenant's `subscribedSkus`",
                    backticked(unknown_skus)
                ));
            }
        }
        let why = if why.is_empty() {
            String::new()
        } else {
            format!(" ({})", why.join("; "))
        };
        let fix = match need {
            Need::TeamsPhone => {
                "assign a licence that includes Teams Phone (Teams Phone Standard, or a suite such as Microsoft 365 E5) with its `MCOEV` plan enabled"
            }
            Need::CallingPlan => {
                "assign a Calling Plan licence (for example `MCOPSTN1`), or give the persona a Direct Routing or Operator Connect range"
            }
        };
        format!(
            "`{}` would get {what} but is not licensed for {}{why}; {fix}, then plan again",
            user.upn,
            need.name()
        )
    }
}

/// Why Teams refuses to give `user` a number of `kind`, in its words (the
/// emulator and the file provider answer `assignNumber` with it), if it
/// does. Nothing is refused without licence data.
pub fn assign_refusal(live: &LiveState, user: &User, kind: NumberType) -> Option<String> {
    let licences = Licences::of(live)?;
    licences.missing(user, kind)?;
    let ty = match kind {
        NumberType::DirectRouting => "DirectRouting",
        NumberType::CallingPlan => "CallingPlan",
        NumberType::OperatorConnect => "OperatorConnect",
    };
    Some(format!(
        "User '{}' lacks appropriate licenses to assign a '{ty}' number",
        user.id
    ))
}

fn backticked(items: &[String]) -> String {
    items
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::{AssignedLicence, Licensing, ServicePlan};

    fn sku(id: &str, part: &str, plans: &[(&str, &str)]) -> Sku {
        Sku {
            sku_id: id.into(),
            part_number: part.into(),
            service_plans: plans
                .iter()
                .map(|(id, name)| ServicePlan {
                    id: id.to_string(),
                    name: name.to_string(),
                })
                .collect(),
        }
    }

    fn tenant() -> LiveState {
        LiveState {
            licensing: Some(Licensing {
                skus: vec![
                    sku("e5", "SPE_E5", &[("p-ev", "MCOEV"), ("p-teams", "TEAMS1")]),
                    sku(TEAMS_PHONE_SKU, "MCOEV", &[(TEAMS_PHONE_PLAN, "")]),
                    sku("cp", "MCOPSTN1", &[(CALLING_PLAN_PLAN, "")]),
                    sku("cp2", "MCOPSTN2", &[("p-cp2", "mcopstn2")]),
                    sku("credits", "MCOPSTNC", &[("p-c", "MCOPSTNC")]),
                ],
            }),
            ..LiveState::default()
        }
    }

    fn user(licences: &[(&str, &[&str])]) -> User {
        let mut u = User::new("u1", "amy@x.com");
        u.licences = licences
            .iter()
            .map(|(sku, off)| AssignedLicence {
                sku_id: sku.to_string(),
                disabled_plans: off.iter().map(|s| s.to_string()).collect(),
            })
            .collect();
        u
    }

    #[test]
    fn teams_phone_comes_from_any_sku_with_an_enabled_mcoev_plan() {
        let live = tenant();
        let l = Licences::of(&live).unwrap();
        let g = l.grant(&user(&[("E5", &[])]), Need::TeamsPhone);
        assert_eq!(
            g,
            Grant::Enabled {
                sku: "SPE_E5".into(),
                plan: "MCOEV".into()
            },
            "SKU ids compare without regard to case"
        );
        // Known by its id when the plan has no name.
        assert!(
            l.grant(&user(&[(TEAMS_PHONE_SKU, &[])]), Need::TeamsPhone)
                .is_enabled()
        );
        // Disabled in one SKU, enabled in another: enabled.
        assert!(
            l.grant(
                &user(&[("e5", &["P-EV"]), (TEAMS_PHONE_SKU, &[])]),
                Need::TeamsPhone
            )
            .is_enabled()
        );
    }

    #[test]
    fn disabled_plans_and_unknown_skus_leave_it_missing_and_say_so() {
        let live = tenant();
        let l = Licences::of(&live).unwrap();
        let u = user(&[("e5", &["p-ev"]), ("nope", &[])]);
        let g = l.grant(&u, Need::TeamsPhone);
        assert_eq!(
            g,
            Grant::Missing {
                disabled_in: vec!["SPE_E5".into()],
                unknown_skus: vec!["nope".into()],
            }
        );
        let m = Licences::message(&u, "a Direct Routing number", Need::TeamsPhone, &g);
        assert!(m.starts_with("`amy@x.com` would get a Direct Routing number but is not licensed for Teams Phone (`MCOEV`)"), "{m}");
        assert!(m.contains("disabled in `disabledPlans` of `SPE_E5`"), "{m}");
        assert!(m.contains("`nope` is not among"), "{m}");
        assert!(m.contains("then plan again"), "{m}");
    }

    #[test]
    fn calling_plan_numbers_also_need_a_calling_plan() {
        let live = tenant();
        let l = Licences::of(&live).unwrap();
        let phone_only = user(&[("e5", &[])]);
        assert_eq!(l.missing(&phone_only, NumberType::DirectRouting), None);
        assert_eq!(l.missing(&phone_only, NumberType::OperatorConnect), None);
        let (need, _) = l.missing(&phone_only, NumberType::CallingPlan).unwrap();
        assert_eq!(need, Need::CallingPlan);
        // Communications Credits is not a Calling Plan.
        let credits = user(&[("e5", &[]), ("credits", &[])]);
        assert!(l.missing(&credits, NumberType::CallingPlan).is_some());
        for cp in ["cp", "cp2"] {
            let u = user(&[("e5", &[]), (cp, &[])]);
            assert_eq!(l.missing(&u, NumberType::CallingPlan), None, "{cp}");
        }
        // A Calling Plan without Teams Phone: Teams Phone is what is missing.
        let (need, _) = l
            .missing(&user(&[("cp", &[])]), NumberType::CallingPlan)
            .unwrap();
        assert_eq!(need, Need::TeamsPhone);
    }

    #[test]
    fn nothing_is_checked_without_licence_data() {
        let live = LiveState::default();
        assert!(Licences::of(&live).is_none());
        let u = user(&[]);
        assert_eq!(assign_refusal(&live, &u, NumberType::CallingPlan), None);
        let live = tenant();
        assert_eq!(
            assign_refusal(&live, &u, NumberType::CallingPlan).as_deref(),
            Some("User 'u1' lacks appropriate licenses to assign a 'CallingPlan' number")
        );
        let licensed = user(&[("e5", &[])]);
        assert_eq!(
            assign_refusal(&live, &licensed, NumberType::DirectRouting),
            None
        );
    }
}
