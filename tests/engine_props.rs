//! Property tests over random small tenants and configs: no number is ever
//! given to two users, plans are deterministic, valid numbers are sticky,
//! and plan → apply → plan converges to no changes.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use proptest::prelude::*;
use roster::desired::{self, DesiredState};
use roster::live::{Group, LiveState, NumberAssignment, User};
use roster::manifest::{self, Manifest, NumberPolicy};
use roster::numbers::{E164, NumberType};
use roster::plan::{self, Action, Meta, Plan, TenantInfo};
use roster::provider::Provider;
use roster::provider::file::FileProvider;
use roster::snapshot;

const RANGES: usize = 3;
const BLOCKS: usize = 2;
const SLOTS_PER_BLOCK: usize = 4;
const OUTSIDE: usize = 4;
/// Every number a scenario can mention: the possible block numbers of every
/// range, then a few numbers outside every range.
const SLOTS: usize = RANGES * BLOCKS * SLOTS_PER_BLOCK + OUTSIDE;
const POLICY_TYPES: [&str; 2] = ["TeamsCallingPolicy", "TeamsMeetingPolicy"];
const POLICY_NAMES: [&str; 3] = ["A", "B", "Global"];

fn slot_number(slot: usize) -> E164 {
    let text = if slot < SLOTS - OUTSIDE {
        let r = slot / (BLOCKS * SLOTS_PER_BLOCK);
        let b = (slot / SLOTS_PER_BLOCK) % BLOCKS;
        let k = slot % SLOTS_PER_BLOCK;
        format!("+44207{r}{b}0000{k}")
    } else {
        format!("+35310000{:02}", slot - (SLOTS - OUTSIDE))
    };
    E164::parse(&text).unwrap()
}

#[derive(Debug, Clone)]
struct RangeSpec {
    calling_plan: bool,
    /// Length of each block (0: no such block).
    blocks: [usize; BLOCKS],
    /// Offsets into the range's slots to reserve.
    reserve: Vec<usize>,
}

#[derive(Debug, Clone)]
enum NumberSpec {
    Unmanaged,
    Forbidden,
    Ranges(Vec<usize>),
}

#[derive(Debug, Clone)]
struct PersonaSpec {
    number: NumberSpec,
    /// (policy type index, policy name index).
    policies: Vec<(usize, usize)>,
}

#[derive(Debug, Clone)]
struct RuleSpec {
    persona: usize,
    /// (attribute: 0 department / 1 city / 2 memberOf, value, negated).
    conds: Vec<(usize, usize, bool)>,
}

#[derive(Debug, Clone)]
struct OverrideSpec {
    persona: Option<usize>,
    pin: Option<usize>,
    ignore: bool,
}

#[derive(Debug, Clone)]
struct UserSpec {
    upper: bool,
    department: Option<usize>,
    city: Option<usize>,
    gb: bool,
    enabled: bool,
    in_group: bool,
    policies: [Option<usize>; 2],
    ov: Option<OverrideSpec>,
}

#[derive(Debug, Clone)]
enum SlotState {
    Absent,
    Inventory {
        user_assignment: bool,
    },
    /// Held by the user of this index (modulo the number of users).
    User {
        user: usize,
        primary: bool,
    },
    ResourceAccount,
}

#[derive(Debug, Clone)]
struct Scenario {
    ranges: Vec<RangeSpec>,
    personas: Vec<PersonaSpec>,
    rules: Vec<RuleSpec>,
    catch_all: Option<usize>,
    scope: bool,
    release_number: bool,
    reset_policies: bool,
    users: Vec<UserSpec>,
    slots: Vec<SlotState>,
    /// Order in which the snapshot lists its users (for determinism).
    shuffle: u64,
}

fn range_spec() -> impl Strategy<Value = RangeSpec> {
    (
        prop::bool::weighted(0.3),
        [0..=SLOTS_PER_BLOCK, 0..=SLOTS_PER_BLOCK],
        prop::collection::vec(0..BLOCKS * SLOTS_PER_BLOCK, 0..3),
    )
        .prop_map(|(calling_plan, blocks, reserve)| RangeSpec {
            calling_plan,
            blocks,
            reserve,
        })
}

fn persona_spec() -> impl Strategy<Value = PersonaSpec> {
    (
        prop_oneof![
            1 => Just(NumberSpec::Unmanaged),
            1 => Just(NumberSpec::Forbidden),
            4 => prop::collection::vec(0..RANGES, 1..=3).prop_map(NumberSpec::Ranges),
        ],
        prop::collection::vec((0..2usize, 0..3usize), 0..=2),
    )
        .prop_map(|(number, policies)| PersonaSpec { number, policies })
}

fn rule_spec() -> impl Strategy<Value = RuleSpec> {
    (
        0..4usize,
        prop::collection::vec((0..3usize, 0..2usize, prop::bool::weighted(0.2)), 0..=2),
    )
        .prop_map(|(persona, conds)| RuleSpec { persona, conds })
}

fn user_spec() -> impl Strategy<Value = UserSpec> {
    let ov = prop::option::weighted(
        0.25,
        (
            prop::option::of(0..4usize),
            prop::option::of(0..SLOTS),
            prop::bool::weighted(0.2),
        )
            .prop_map(|(persona, pin, ignore)| OverrideSpec {
                persona,
                pin,
                ignore,
            }),
    );
    (
        any::<bool>(),
        prop::option::of(0..3usize),
        prop::option::of(0..3usize),
        prop::bool::weighted(0.8),
        prop::bool::weighted(0.85),
        any::<bool>(),
        [prop::option::of(0..2usize), prop::option::of(0..2usize)],
        ov,
    )
        .prop_map(
            |(upper, department, city, gb, enabled, in_group, policies, ov)| UserSpec {
                upper,
                department,
                city,
                gb,
                enabled,
                in_group,
                policies,
                ov,
            },
        )
}

fn slot_state() -> impl Strategy<Value = SlotState> {
    prop_oneof![
        5 => Just(SlotState::Absent),
        2 => any::<bool>().prop_map(|user_assignment| SlotState::Inventory { user_assignment }),
        3 => (0..16usize, prop::bool::weighted(0.85))
            .prop_map(|(user, primary)| SlotState::User { user, primary }),
        1 => Just(SlotState::ResourceAccount),
    ]
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        prop::collection::vec(range_spec(), 1..=RANGES),
        prop::collection::vec(persona_spec(), 1..=4),
        prop::collection::vec(rule_spec(), 0..=4),
        prop::option::of(0..4usize),
        prop::bool::weighted(0.3),
        any::<bool>(),
        any::<bool>(),
        prop::collection::vec(user_spec(), 0..=10),
        prop::collection::vec(slot_state(), SLOTS),
        any::<u64>(),
    )
        .prop_map(
            |(
                ranges,
                personas,
                rules,
                catch_all,
                scope,
                release_number,
                reset_policies,
                users,
                slots,
                shuffle,
            )| Scenario {
                ranges,
                personas,
                rules,
                catch_all,
                scope,
                release_number,
                reset_policies,
                users,
                slots,
                shuffle,
            },
        )
}

fn upn(s: &Scenario, i: usize) -> String {
    if s.users[i].upper {
        format!("User{i:02}@Contoso.com")
    } else {
        format!("user{i:02}@contoso.com")
    }
}

fn user_id(i: usize) -> String {
    format!("00000000-0000-0000-0000-{i:012}")
}

impl Scenario {
    fn kdl(&self) -> String {
        let mut out = String::new();
        out.push_str("tenant \"props\" {\n");
        if self.scope {
            out.push_str("    scope { usageLocation \"GB\" }\n");
        }
        out.push_str(&format!(
            "    leavers release-number=#{} reset-policies=#{}\n}}\n",
            self.release_number, self.reset_policies
        ));
        for (r, spec) in self.ranges.iter().enumerate() {
            let kind = if spec.calling_plan {
                "calling-plan"
            } else {
                "direct-routing"
            };
            out.push_str(&format!("range \"r{r}\" type=\"{kind}\" {{\n"));
            for (b, &len) in spec.blocks.iter().enumerate() {
                if len > 0 {
                    let first = (r * BLOCKS + b) * SLOTS_PER_BLOCK;
                    out.push_str(&format!(
                        "    block \"{}\" \"{}\"\n",
                        slot_number(first),
                        slot_number(first + len - 1)
                    ));
                }
            }
            let mut reserve: Vec<_> = spec.reserve.clone();
            reserve.sort();
            reserve.dedup();
            for off in reserve {
                let slot = r * BLOCKS * SLOTS_PER_BLOCK + off;
                out.push_str(&format!("    reserve \"{}\"\n", slot_number(slot)));
            }
            out.push_str("}\n");
        }
        for (p, spec) in self.personas.iter().enumerate() {
            out.push_str(&format!("persona \"p{p}\" {{\n"));
            let mut types = BTreeMap::new();
            for &(t, n) in &spec.policies {
                types.insert(POLICY_TYPES[t], POLICY_NAMES[n]);
            }
            if !types.is_empty() {
                out.push_str("    policies {\n");
                for (t, n) in types {
                    out.push_str(&format!("        {t} \"{n}\"\n"));
                }
                out.push_str("    }\n");
            }
            match &spec.number {
                NumberSpec::Unmanaged => {}
                NumberSpec::Forbidden => out.push_str("    number #false\n"),
                NumberSpec::Ranges(rs) => {
                    let mut seen = Vec::new();
                    for r in rs {
                        let r = r % self.ranges.len();
                        if !seen.contains(&r) {
                            seen.push(r);
                        }
                    }
                    out.push_str("    number");
                    for r in seen {
                        out.push_str(&format!(" \"r{r}\""));
                    }
                    out.push('\n');
                }
            }
            out.push_str("}\n");
        }
        let persona = |p: usize| p % self.personas.len();
        for (i, rule) in self.rules.iter().enumerate() {
            out.push_str(&format!(
                "rule \"rule{i}\" persona=\"p{}\"",
                persona(rule.persona)
            ));
            if rule.conds.is_empty() {
                out.push('\n');
                continue;
            }
            out.push_str(" {\n    when {\n");
            for &(attr, value, negated) in &rule.conds {
                let cond = match attr {
                    0 => format!("department \"D{value}\""),
                    1 => format!("city starts-with=\"c{value}\""),
                    _ => "memberOf \"Voice Users\"".to_string(),
                };
                if negated {
                    out.push_str(&format!("        not {{ {cond} }}\n"));
                } else {
                    out.push_str(&format!("        {cond}\n"));
                }
            }
            out.push_str("    }\n}\n");
        }
        if let Some(p) = self.catch_all {
            out.push_str(&format!(
                "rule \"everyone else\" persona=\"p{}\"\n",
                persona(p)
            ));
        }
        let mut pins = BTreeSet::new();
        for (i, u) in self.users.iter().enumerate() {
            let Some(ov) = &u.ov else { continue };
            let mut line = format!("user \"{}\"", upn(self, i));
            let mut says = false;
            if let Some(p) = ov.persona {
                line.push_str(&format!(" persona=\"p{}\"", persona(p)));
                says = true;
            }
            if let Some(pin) = ov.pin
                && pins.insert(pin)
            {
                line.push_str(&format!(" number=\"{}\"", slot_number(pin)));
                says = true;
            }
            if ov.ignore {
                line.push_str(" ignore=#true");
                says = true;
            }
            if says {
                out.push_str(&line);
                out.push('\n');
            }
        }
        out
    }

    fn live(&self) -> LiveState {
        let mut users = Vec::new();
        for (i, spec) in self.users.iter().enumerate() {
            let mut u = User::new(user_id(i), upn(self, i));
            u.display_name = Some(format!("User {i}"));
            u.account_enabled = spec.enabled;
            u.set_attr("department", spec.department.map(|d| format!("d{d}")));
            u.set_attr("city", spec.city.map(|c| format!(" C{c}-town ")));
            u.set_attr(
                "usageLocation",
                Some(if spec.gb { "GB" } else { "US" }.to_string()),
            );
            for (t, name) in spec.policies.iter().enumerate() {
                if let Some(n) = name {
                    u.policies
                        .insert(POLICY_TYPES[t].to_string(), POLICY_NAMES[*n].to_string());
                }
            }
            users.push(u);
        }
        let members: Vec<String> = self
            .users
            .iter()
            .enumerate()
            .filter(|(_, u)| u.in_group)
            .map(|(i, _)| user_id(i))
            .collect();
        let mut live = LiveState {
            tenant_id: "props".into(),
            users,
            groups: vec![
                Group {
                    id: "g-outer".into(),
                    display_name: "Voice Users".into(),
                    members: vec!["g-inner".into()],
                },
                Group {
                    id: "g-inner".into(),
                    display_name: "Inner".into(),
                    members,
                },
            ],
            ..LiveState::default()
        };
        for t in POLICY_TYPES {
            live.add_policy(t, "A", &format!("{t}-a"));
            live.add_policy(t, "B", &format!("{t}-b"));
        }
        let range_kind = |slot: usize| {
            if slot < SLOTS - OUTSIDE && self.ranges.len() > slot / (BLOCKS * SLOTS_PER_BLOCK) {
                let r = &self.ranges[slot / (BLOCKS * SLOTS_PER_BLOCK)];
                if r.calling_plan {
                    return NumberType::CallingPlan;
                }
            }
            NumberType::DirectRouting
        };
        for (slot, state) in self.slots.iter().enumerate() {
            let number = slot_number(slot);
            let entry = |target: Option<String>, category: Option<&str>, status: &str, caps| {
                NumberAssignment {
                    number,
                    number_type: Some(range_kind(slot)),
                    target,
                    category: category.map(str::to_string),
                    status: status.to_string(),
                    capabilities: caps,
                    location_id: None,
                }
            };
            let user_caps = vec!["userAssignment".to_string()];
            let a = match state {
                SlotState::Absent => continue,
                SlotState::Inventory { user_assignment } => entry(
                    None,
                    None,
                    "unassigned",
                    if *user_assignment {
                        user_caps
                    } else {
                        vec!["voiceApplicationAssignment".into()]
                    },
                ),
                SlotState::User { user, primary } => {
                    if self.users.is_empty() {
                        continue;
                    }
                    entry(
                        Some(user_id(user % self.users.len())),
                        Some(if *primary { "primary" } else { "private" }),
                        "userAssigned",
                        user_caps,
                    )
                }
                SlotState::ResourceAccount => entry(
                    Some("resource-account".into()),
                    Some("primary"),
                    "voiceApplicationAssigned",
                    vec!["voiceApplicationAssignment".into()],
                ),
            };
            live.numbers.insert(number, a);
        }
        live.finish();
        live
    }

    /// The snapshot JSON, users (and other lists) in a shuffled order.
    fn snapshot_json(&self, live: &LiveState, shuffled: bool) -> String {
        let mut snap = snapshot::from_live(live);
        if shuffled {
            let mut rng = fastrand::Rng::with_seed(self.shuffle);
            rng.shuffle(&mut snap.users);
            rng.shuffle(&mut snap.policy_assignments);
            rng.shuffle(&mut snap.number_assignments);
            rng.shuffle(&mut snap.groups);
        }
        serde_json::to_string_pretty(&snap).unwrap()
    }
}

fn meta() -> Meta {
    Meta {
        created_at: "2026-01-01T00:00:00Z".into(),
        digest: "sha256:props".into(),
        git: None,
        tenant: TenantInfo {
            name: "props".into(),
            provider: "file".into(),
        },
        limit: Vec::new(),
    }
}

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Case {
    manifest: Manifest,
    live: LiveState,
    desired: DesiredState,
    plan: Plan,
}

fn build(s: &Scenario) -> Case {
    let kdl = s.kdl();
    let loaded = manifest::parse_str("props.kdl", &kdl);
    assert!(
        !loaded.has_errors(),
        "{}\n{kdl}",
        loaded.diagnostics.render(&loaded.sources, false)
    );
    // Through the snapshot format, as the file provider reads it.
    let json = s.snapshot_json(&s.live(), false);
    let live =
        snapshot::to_live("props.json", &snapshot::parse("props.json", &json).unwrap()).unwrap();
    let desired = desired::compute(&loaded.manifest, &live);
    let plan = plan::diff(&desired, &live, meta());
    Case {
        manifest: loaded.manifest,
        live,
        desired,
        plan,
    }
}

/// `PROPTEST_CASES` raises the count for a longer local run.
fn config() -> ProptestConfig {
    ProptestConfig {
        cases: cases(96),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// Every plan roster makes passes its own check of a saved plan: the
    /// forged-plan check never refuses an honest plan.
    #[test]
    fn an_honest_plan_passes_the_saved_plan_check(s in scenario()) {
        let c = build(&s);
        let verdict = roster::apply::verify::check_faithful(
            &c.plan,
            &c.manifest,
            &c.live,
            &Default::default(),
        );
        if c.plan.errors.is_empty() {
            prop_assert!(verdict.is_ok(), "{verdict:?}");
        } else {
            prop_assert!(verdict.is_err());
        }
    }

    /// `explain` shows, for every user, the verdict and persona the plan
    /// acts on.
    #[test]
    fn explain_agrees_with_the_plan(s in scenario()) {
        let c = build(&s);
        crate::common::assert_explain_agrees_with_plan(&c.manifest, &c.live);
    }

    /// (a) Within a plan no number goes to two users, and no number given
    /// is held by anyone who is not releasing it in the same plan.
    #[test]
    fn no_number_is_given_twice(s in scenario()) {
        let c = build(&s);
        let mut given: HashMap<String, String> = HashMap::new();
        let mut released: BTreeSet<String> = BTreeSet::new();
        for ch in &c.plan.changes {
            for a in &ch.actions {
                match a {
                    Action::AssignNumber { number, .. } => {
                        if let Some(other) = given.insert(number.to_string(), ch.user.upn.clone()) {
                            prop_assert!(false, "{number} given to {other} and {}", ch.user.upn);
                        }
                    }
                    Action::ReleaseNumber { number } => {
                        released.insert(number.to_string());
                    }
                    _ => {}
                }
            }
        }
        let by_id: HashMap<&str, &str> =
            c.live.users.iter().map(|u| (u.id.as_str(), u.upn.as_str())).collect();
        for (number, upn) in &given {
            let n = E164::parse(number).unwrap();
            if let Some(held) = c.live.numbers.get(&n).filter(|a| a.is_held()) {
                let holder = held.target.as_deref().unwrap_or("?");
                let holder_upn = by_id.get(holder).copied().unwrap_or(holder);
                prop_assert!(
                    holder_upn == upn || released.contains(number),
                    "{number} given to {upn} but held by {holder_upn}, who keeps it"
                );
            }
        }
        // Numbers a rule gave (not pins) are never reserved, and never
        // numbers released in this plan.
        let pins: BTreeSet<E164> =
            c.manifest.users.iter().filter_map(|u| u.number.as_ref().map(|n| n.value)).collect();
        for number in given.keys() {
            let n = E164::parse(number).unwrap();
            if pins.contains(&n) {
                continue;
            }
            prop_assert!(!c.manifest.ranges.iter().any(|r| r.is_reserved(n)), "{number} is reserved");
            prop_assert!(!released.contains(number), "{number} is released in the same plan");
        }
        // After applying, every number has at most one holder and every
        // user whose persona has ranges holds exactly one primary from them.
        if !c.plan.has_errors() {
            let (live, report) = apply_in_memory(&s, &c.plan);
            prop_assert_eq!(report.failed, 0, "{:?}", report.users);
            let held = live.numbers_by_holder();
            for d in &c.desired.users {
                let u = &live.users[d.user];
                let Some(persona) = d.persona.as_deref().and_then(|p| c.manifest.persona(p)) else {
                    continue;
                };
                if let NumberPolicy::Ranges(names) = &persona.number {
                    let pinned = c.manifest.users.iter().any(|o| {
                        o.upn.value.eq_ignore_ascii_case(&u.upn) && o.number.is_some()
                    });
                    let primaries: Vec<E164> = held
                        .get(u.id.as_str())
                        .map(|v| v.iter().filter(|a| a.is_primary()).map(|a| a.number).collect())
                        .unwrap_or_default();
                    prop_assert_eq!(primaries.len(), 1, "{} holds {:?}", u.upn, primaries);
                    if !pinned {
                        let in_ranges = names.iter().any(|r| {
                            c.manifest.range(&r.value).is_some_and(|r| r.contains(primaries[0]))
                        });
                        prop_assert!(in_ranges, "{} holds {} outside its ranges", u.upn, primaries[0]);
                    }
                }
            }
        }
    }

    /// (b) The same inputs give byte-identical plans, whatever order the
    /// snapshot lists its users, numbers and assignments in.
    #[test]
    fn plans_are_deterministic(s in scenario()) {
        let c = build(&s);
        let again = plan::diff(&desired::compute(&c.manifest, &c.live), &c.live, meta());
        prop_assert_eq!(c.plan.to_json(), again.to_json());
        let json = s.snapshot_json(&s.live(), true);
        let shuffled =
            snapshot::to_live("s.json", &snapshot::parse("s.json", &json).unwrap()).unwrap();
        let third = plan::diff(&desired::compute(&c.manifest, &shuffled), &shuffled, meta());
        prop_assert_eq!(c.plan.to_json(), third.to_json());
    }

    /// (c) A user holding a valid primary number (in its persona's ranges,
    /// not reserved) keeps it, unless a pin says otherwise.
    #[test]
    fn valid_numbers_are_sticky(s in scenario()) {
        let c = build(&s);
        let held = c.live.numbers_by_holder();
        for d in &c.desired.users {
            let u = &c.live.users[d.user];
            let Some(persona) = d.persona.as_deref().and_then(|p| c.manifest.persona(p)) else {
                continue;
            };
            let NumberPolicy::Ranges(names) = &persona.number else { continue };
            let pinned = c.manifest.users.iter().any(|o| {
                o.upn.value.eq_ignore_ascii_case(&u.upn) && o.number.is_some()
            });
            if pinned {
                continue;
            }
            let valid: Vec<E164> = held
                .get(u.id.as_str())
                .into_iter()
                .flatten()
                .filter(|a| a.is_primary())
                .map(|a| a.number)
                .filter(|&n| {
                    names.iter().any(|r| c.manifest.range(&r.value).is_some_and(|r| r.contains(n)))
                        && !c.manifest.ranges.iter().any(|r| r.is_reserved(n))
                })
                .collect();
            if valid.is_empty() {
                continue;
            }
            prop_assert!(d.assign.is_none(), "{} holds {:?} but is given {:?}", u.upn, valid, d.assign);
            let kept = valid.iter().filter(|n| !d.release.contains(n)).count();
            prop_assert_eq!(kept, 1, "{} holds {:?}, releases {:?}", u.upn, valid, d.release);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(48), ..config() })]

    /// (d) Plan, apply through the file provider, plan again: no changes.
    #[test]
    fn apply_then_plan_again_is_empty(s in scenario()) {
        let c = build(&s);
        if c.plan.has_errors() {
            return Ok(());
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tenant.json");
        std::fs::write(&path, s.snapshot_json(&c.live, false)).unwrap();
        let mut provider = FileProvider::new(&path);
        let live = provider.fetch().unwrap();
        prop_assert_eq!(&*live, &c.live);
        let report = roster::apply::execute(&c.plan, &mut provider, 2, &mut |_, _| {}).unwrap();
        prop_assert_eq!(report.failed, 0, "{:?}", report.users);
        prop_assert_eq!(report.skipped, 0);
        prop_assert_eq!(report.applied, c.plan.changes.len());

        let after = FileProvider::new(&path).fetch().unwrap();
        let second = plan::diff(&desired::compute(&c.manifest, &after), &after, meta());
        prop_assert!(second.errors.is_empty(), "{:?}", second.errors);
        prop_assert!(
            second.changes.is_empty(),
            "first plan:\n{}\nsecond plan:\n{}",
            plan::render::text(&c.plan, false),
            plan::render::text(&second, false)
        );
        // Nothing is stale right after an apply of a fresh plan.
        prop_assert!(roster::apply::stale_users(&second, &after).is_empty());
    }
}

/// Apply a plan's writes to a copy of the live state in memory, as the file
/// provider does.
fn apply_in_memory(s: &Scenario, plan: &Plan) -> (LiveState, roster::apply::Report) {
    struct Memory(LiveState);
    impl Provider for Memory {
        fn kind(&self) -> &'static str {
            "memory"
        }
        fn fetch(&mut self) -> Result<std::sync::Arc<LiveState>, roster::provider::ProviderError> {
            Ok(std::sync::Arc::new(self.0.clone()))
        }
        fn execute(
            &mut self,
            writes: &[roster::plan::schedule::Step],
        ) -> Vec<roster::provider::Outcome> {
            let index = roster::provider::file::user_index(&self.0);
            let mut out = Vec::new();
            for w in writes {
                roster::provider::file::apply_write(&mut self.0, &index, w, &mut out);
            }
            out
        }
        fn commit(&mut self) -> Result<(), roster::provider::ProviderError> {
            Ok(())
        }
    }
    let json = s.snapshot_json(&s.live(), false);
    let live = snapshot::to_live("m.json", &snapshot::parse("m.json", &json).unwrap()).unwrap();
    let mut m = Memory(live);
    let report = roster::apply::execute(plan, &mut m, 3, &mut |_, _| {}).unwrap();
    (m.0, report)
}
