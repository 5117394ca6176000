//! Deterministic synthetic tenants for roster.
//!
//! ```text
//! cargo run --release --example synth -- example --out examples/tenant-config/tenant.json
//! cargo run --release --example synth -- scale --users 100000 --out target/bench/100k [--seed 7]
//! ```
//!
//! `example` writes the tenant snapshot of the bundled example config
//! (`examples/tenant-config/`): about 330 users of Northwind Traders with the
//! messy directory data and partly drifted Teams state a real tenant has, so
//! that `roster plan -C examples/tenant-config` shows every kind of action.
//!
//! `scale` writes `DIR/config/` (40 personas, about 300 rules, 34 ranges in
//! KDL and TOML) and `DIR/tenant.json` with N users, for benchmarks.
//!
//! Everything is derived from the seed (a splitmix64 stream): the same
//! arguments always give byte-identical files. Nothing here reads the clock
//! or the environment.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use base64::Engine as _;
use clap::{Parser, Subcommand};
use serde::Serialize;

// ---------------------------------------------------------------------------
// Command line

#[derive(Debug, Parser)]
#[command(
    name = "synth",
    about = "Deterministic synthetic tenants (snapshot and manifests) for roster"
)]
struct Cli {
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Debug, Subcommand)]
enum Mode {
    /// The snapshot of the bundled example config (examples/tenant-config).
    Example {
        /// Where to write the snapshot.
        #[arg(long, default_value = "examples/tenant-config/tenant.json")]
        out: PathBuf,
        #[arg(long, default_value_t = 2024)]
        seed: u64,
    },
    /// A large tenant: DIR/config/ (manifests) and DIR/tenant.json.
    Scale {
        /// Number of users in the snapshot.
        #[arg(long, default_value_t = 100_000)]
        users: usize,
        /// Output directory (created; existing files are overwritten).
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Share of users (0 to 1) whose Teams state differs from their
        /// persona: 0 is a converged tenant, 1 a first roll-out.
        #[arg(long, default_value_t = 0.10)]
        drift: f64,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.mode {
        Mode::Example { out, seed } => example::run(&out, seed),
        Mode::Scale {
            users,
            out,
            seed,
            drift,
        } => scale::run(users, &out, seed, drift),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

// ---------------------------------------------------------------------------
// Randomness: splitmix64, small, fast and the same on every platform.

struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }

    /// Index drawn with the given weights.
    fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u32 = weights.iter().sum();
        let mut x = self.below(total as usize) as u32;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }

    /// A version 4 GUID, as Entra object ids look.
    fn uuid(&mut self) -> String {
        let a = self.next_u64();
        let b = self.next_u64();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            ((b >> 48) & 0x3fff) | 0x8000,
            b & 0xffff_ffff_ffff
        )
    }

    /// A Teams policy id: 43 characters of base64url, as `getPolicyId` returns.
    fn policy_id(&mut self) -> String {
        let bytes: Vec<u8> = (0..32).map(|_| self.next_u64() as u8).collect();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
}

// ---------------------------------------------------------------------------
// The snapshot, in the shapes of `tenant-snapshot.md` (Graph's own names).

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct Snapshot {
    #[serde(rename = "format_version")]
    format_version: u32,
    tenant_id: String,
    users: Vec<User>,
    groups: Vec<Group>,
    policies: Vec<Policy>,
    policy_assignments: Vec<Assignment>,
    group_policy_assignments: Vec<GroupAssignment>,
    number_assignments: Vec<Number>,
}

#[derive(Serialize, Default, Clone)]
#[serde(rename_all = "camelCase")]
struct User {
    id: String,
    user_principal_name: String,
    display_name: String,
    given_name: Option<String>,
    surname: Option<String>,
    mail: Option<String>,
    account_enabled: bool,
    job_title: Option<String>,
    department: Option<String>,
    company_name: Option<String>,
    employee_type: Option<String>,
    employee_id: Option<String>,
    office_location: Option<String>,
    city: Option<String>,
    state: Option<String>,
    country: Option<String>,
    postal_code: Option<String>,
    usage_location: Option<String>,
    preferred_language: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    on_premises_extension_attributes: BTreeMap<String, Option<String>>,
    assigned_licenses: Vec<License>,
}

#[derive(Serialize, Clone)]
#[serde(rename_all = "camelCase")]
struct License {
    sku_id: &'static str,
    disabled_plans: Vec<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Group {
    id: String,
    display_name: String,
    members: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Policy {
    policy_type: String,
    name: String,
    policy_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Assignment {
    user_id: String,
    policy_type: String,
    policy_name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GroupAssignment {
    group_id: String,
    policy_type: String,
    policy_name: String,
    rank: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Number {
    id: String,
    telephone_number: String,
    number_type: &'static str,
    assignment_target_id: Option<String>,
    assignment_category: Option<&'static str>,
    assignment_status: &'static str,
    activation_state: &'static str,
    capabilities: Vec<&'static str>,
    location_id: Option<String>,
    iso_country_code: &'static str,
}

// Licence SKUs (public ids): Microsoft 365 E5, Teams Phone Standard,
// Microsoft 365 F1 (frontline), Microsoft Teams Rooms Pro.
const SKU_E5: &str = "06ebc4ee-1bb5-47dd-8120-11324bc54e06";
const SKU_PHONE: &str = "e43b5b99-8dfb-405f-9987-dc307f34bcbd";
const SKU_F1: &str = "44575883-256e-4a79-9da4-ebe9acabe2b2";
const SKU_ROOMS: &str = "4fb214cb-a430-4a91-9c91-4976763aa78f";

fn licenses(kind: LicenceKind) -> Vec<License> {
    let l = |sku| License {
        sku_id: sku,
        disabled_plans: Vec::new(),
    };
    match kind {
        LicenceKind::Phone => vec![l(SKU_E5), l(SKU_PHONE)],
        LicenceKind::Office => vec![l(SKU_E5)],
        LicenceKind::Frontline => vec![l(SKU_F1)],
        LicenceKind::Room => vec![l(SKU_ROOMS)],
        LicenceKind::None => Vec::new(),
    }
}

#[derive(Clone, Copy)]
enum LicenceKind {
    Phone,
    Office,
    Frontline,
    Room,
    None,
}

impl Snapshot {
    fn write(&self, path: &Path) -> Result<()> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let file = std::fs::File::create(path)?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
        serde_json::to_writer_pretty(&mut w, self)?;
        w.write_all(b"\n")?;
        w.flush()?;
        Ok(())
    }

    fn add_policy(&mut self, rng: &mut Rng, policy_type: &str, name: &str) {
        self.policies.push(Policy {
            policy_type: policy_type.into(),
            name: name.into(),
            policy_id: rng.policy_id(),
        });
    }

    fn assign(&mut self, user_id: &str, policy_type: &str, name: &str) {
        self.policy_assignments.push(Assignment {
            user_id: user_id.into(),
            policy_type: policy_type.into(),
            policy_name: name.into(),
        });
    }
}

// ---------------------------------------------------------------------------
// Numbers: ranges as blocks of digits, and pools handing out numbers that
// users already hold.

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum NumKind {
    DirectRouting,
    CallingPlan,
    OperatorConnect,
}

impl NumKind {
    fn manifest(self) -> &'static str {
        match self {
            NumKind::DirectRouting => "direct-routing",
            NumKind::CallingPlan => "calling-plan",
            NumKind::OperatorConnect => "operator-connect",
        }
    }

    fn graph(self) -> &'static str {
        match self {
            NumKind::DirectRouting => "directRouting",
            NumKind::CallingPlan => "callingPlan",
            NumKind::OperatorConnect => "operatorConnect",
        }
    }

    fn needs_inventory(self) -> bool {
        self != NumKind::DirectRouting
    }
}

fn e164(digits: u64) -> String {
    format!("+{digits}")
}

/// Graph's `numberAssignment` ids decode as base64url("{guid}|+E164").
fn number_id(tenant: &str, number: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{tenant}|{number}"))
}

/// A range as roster sees it, plus what the generator needs to hand out
/// numbers users already hold.
struct Pool {
    name: String,
    kind: NumKind,
    location: String,
    iso: &'static str,
    /// Inclusive (from, to) digit blocks, sorted.
    blocks: Vec<(u64, u64)>,
    reserved: Vec<u64>,
    used: HashSet<u64>,
    block: usize,
    next: u64,
}

impl Pool {
    fn new(
        name: &str,
        kind: NumKind,
        location: &str,
        iso: &'static str,
        blocks: Vec<(u64, u64)>,
        reserved: Vec<u64>,
    ) -> Self {
        let next = blocks[0].0;
        Pool {
            name: name.into(),
            kind,
            location: location.into(),
            iso,
            blocks,
            reserved,
            used: HashSet::new(),
            block: 0,
            next,
        }
    }

    /// The next number nobody holds, low to high, leaving a gap now and
    /// then (numbers released over the years).
    fn take(&mut self, rng: &mut Rng) -> Option<u64> {
        loop {
            let (_, to) = *self.blocks.get(self.block)?;
            if self.next > to {
                self.block += 1;
                self.next = self.blocks.get(self.block)?.0;
                continue;
            }
            let n = self.next;
            self.next += 1;
            if self.reserved.contains(&n) || self.used.contains(&n) || rng.chance(0.03) {
                continue;
            }
            self.used.insert(n);
            return Some(n);
        }
    }

    /// A specific number (reserved ones included).
    fn take_exact(&mut self, n: u64) -> u64 {
        self.used.insert(n);
        n
    }

    /// A random free number from the upper half of the range (where the
    /// sequential cursor has not been yet).
    fn take_random(&mut self, rng: &mut Rng) -> Option<u64> {
        let (from, to) = *self.blocks.last()?;
        for _ in 0..64 {
            let n = from + (to - from) / 2 + rng.below(((to - from) / 2 + 1) as usize) as u64;
            if !self.reserved.contains(&n) && !self.used.contains(&n) {
                self.used.insert(n);
                return Some(n);
            }
        }
        None
    }

    fn number(&self, tenant: &str, digits: u64, holder: Holder<'_>) -> Number {
        let telephone_number = e164(digits);
        let (target, category, status, caps) = match holder {
            Holder::User(id) => (
                Some(id.to_string()),
                Some("primary"),
                "userAssigned",
                vec!["userAssignment"],
            ),
            Holder::VoiceApp(id) => (
                Some(id.to_string()),
                Some("primary"),
                "voiceApplicationAssigned",
                vec!["voiceApplicationAssignment"],
            ),
            Holder::Conference(id) => (
                Some(id.to_string()),
                Some("primary"),
                "conferenceAssigned",
                vec!["conferenceAssignment"],
            ),
            Holder::Free => (None, None, "unassigned", vec!["userAssignment"]),
            Holder::ServiceOnly => (
                None,
                None,
                "unassigned",
                vec!["conferenceAssignment", "voiceApplicationAssignment"],
            ),
        };
        Number {
            id: number_id(tenant, &telephone_number),
            telephone_number,
            number_type: self.kind.graph(),
            assignment_target_id: target,
            assignment_category: category,
            assignment_status: status,
            activation_state: "activated",
            capabilities: caps,
            location_id: (matches!(holder, Holder::User(_))).then(|| self.location.clone()),
            iso_country_code: self.iso,
        }
    }
}

#[derive(Clone, Copy)]
enum Holder<'a> {
    User(&'a str),
    VoiceApp(&'a str),
    Conference(&'a str),
    Free,
    ServiceOnly,
}

// ---------------------------------------------------------------------------
// Personas as the generator knows them (mirroring the manifests), and the
// Teams state a user of a persona has, settled or drifted.

#[derive(Clone, Debug)]
enum NumberRule {
    Unmanaged,
    Forbidden,
    Ranges(Vec<String>),
}

#[derive(Clone, Debug)]
struct PersonaDef {
    name: String,
    description: String,
    /// Policy type -> name; `None` for `Global`.
    policies: Vec<(String, Option<String>)>,
    number: NumberRule,
}

impl PersonaDef {
    fn new(name: &str, description: &str, policies: &[(&str, &str)], number: NumberRule) -> Self {
        PersonaDef {
            name: name.into(),
            description: description.into(),
            policies: policies
                .iter()
                .map(|(t, n)| {
                    (
                        t.to_string(),
                        (!n.eq_ignore_ascii_case("Global")).then(|| n.to_string()),
                    )
                })
                .collect(),
            number,
        }
    }

    fn first_range(&self) -> Option<&str> {
        match &self.number {
            NumberRule::Ranges(r) => r.first().map(String::as_str),
            _ => None,
        }
    }
}

/// How far a user's live Teams state is from its persona.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Drift {
    /// Exactly the persona: nothing to do.
    Settled,
    /// A joiner: no direct assignments, no number.
    Joiner,
    /// One policy assigned by hand to something else.
    WrongPolicy,
    /// A direct assignment of a type the persona leaves to `Global`.
    StaleDirect,
    /// Holds a number outside every range (old PBX number).
    OutsideNumber,
    /// Holds a number of another range (moved office).
    Moved,
    /// Policies right, number never given.
    NoNumber,
}

fn pick_drift(rng: &mut Rng, drift_share: f64) -> Drift {
    if !rng.chance(drift_share) {
        return Drift::Settled;
    }
    match rng.weighted(&[25, 25, 15, 10, 15, 10]) {
        0 => Drift::Joiner,
        1 => Drift::WrongPolicy,
        2 => Drift::StaleDirect,
        3 => Drift::OutsideNumber,
        4 => Drift::Moved,
        _ => Drift::NoNumber,
    }
}

/// Every policy that exists per type (so drift picks real, wrong names).
type Catalog = BTreeMap<String, Vec<String>>;

/// Every policy name the personas use, plus `extra` ones nobody should have.
fn catalog_of(personas: &[PersonaDef], extra: &[(&str, &[&str])]) -> Catalog {
    let mut c: Catalog = BTreeMap::new();
    for p in personas {
        for (t, n) in &p.policies {
            let names = c.entry(t.clone()).or_default();
            if let Some(n) = n
                && !names.contains(n)
            {
                names.push(n.clone());
            }
        }
    }
    for (t, names) in extra {
        c.entry(t.to_string())
            .or_default()
            .extend(names.iter().map(|s| s.to_string()));
    }
    c
}

struct StateGen<'a> {
    tenant_id: String,
    catalog: &'a Catalog,
    pools: Vec<Pool>,
    pool_index: HashMap<String, usize>,
    /// Digits of numbers outside every range, for `OutsideNumber`.
    outside_base: Vec<u64>,
    outside_next: u64,
    numbers: Vec<Number>,
}

impl StateGen<'_> {
    fn hold(&mut self, pool: usize, digits: u64, holder: Holder<'_>) {
        let n = self.pools[pool].number(&self.tenant_id, digits, holder);
        self.numbers.push(n);
    }

    /// Give `user_id` a number it holds from the named range.
    fn hold_from(&mut self, rng: &mut Rng, range: &str, user_id: &str) -> bool {
        let i = self.pool_index[range];
        match self.pools[i].take(rng) {
            Some(d) => {
                self.hold(i, d, Holder::User(user_id));
                true
            }
            None => false,
        }
    }

    fn hold_outside(&mut self, rng: &mut Rng, user_id: &str) {
        let base = *rng.pick(&self.outside_base);
        self.outside_next += 1 + rng.below(7) as u64;
        let digits = base + self.outside_next;
        let telephone_number = e164(digits);
        self.numbers.push(Number {
            id: number_id(&self.tenant_id, &telephone_number),
            telephone_number,
            number_type: "directRouting",
            assignment_target_id: Some(user_id.into()),
            assignment_category: Some("primary"),
            assignment_status: "userAssigned",
            activation_state: "activated",
            capabilities: vec!["userAssignment"],
            location_id: None,
            iso_country_code: "GB",
        });
    }

    /// Write the live state of one user of `persona` with `drift` into the
    /// snapshot.
    fn settle(
        &mut self,
        rng: &mut Rng,
        snap: &mut Snapshot,
        user_id: &str,
        persona: &PersonaDef,
        drift: Drift,
    ) {
        if drift == Drift::Joiner {
            return;
        }
        let managed: Vec<&(String, Option<String>)> = persona.policies.iter().collect();
        let globals: Vec<&str> = managed
            .iter()
            .filter(|(_, n)| n.is_none())
            .map(|(t, _)| t.as_str())
            .collect();
        let wrong_at = (drift == Drift::WrongPolicy
            || (drift == Drift::StaleDirect && globals.is_empty()))
        .then(|| rng.below(managed.len().max(1)));
        for (i, (ty, name)) in managed.iter().enumerate() {
            let Some(name) = name else { continue };
            if wrong_at == Some(i) {
                let others: Vec<&String> = self.catalog[ty.as_str()]
                    .iter()
                    .filter(|n| *n != name)
                    .collect();
                if others.is_empty() {
                    // Nothing else exists: the hand-made state misses it.
                    continue;
                }
                let other = rng.pick(&others).to_string();
                snap.assign(user_id, ty, &other);
            } else {
                // Teams identities compare without regard to case; old
                // PowerShell scripts often lower-cased them.
                let written = if rng.chance(0.03) {
                    name.to_lowercase()
                } else {
                    name.clone()
                };
                snap.assign(user_id, ty, &written);
            }
        }
        if drift == Drift::StaleDirect && !globals.is_empty() {
            let ty = *rng.pick(&globals);
            if let Some(names) = self.catalog.get(ty).filter(|n| !n.is_empty()) {
                let name = rng.pick(names).clone();
                snap.assign(user_id, ty, &name);
            }
        }
        match (&persona.number, drift) {
            (NumberRule::Ranges(_), Drift::NoNumber) => {}
            (NumberRule::Ranges(_), Drift::OutsideNumber) => self.hold_outside(rng, user_id),
            (NumberRule::Ranges(ranges), Drift::Moved) => {
                let candidates: Vec<String> = self
                    .pools
                    .iter()
                    .filter(|p| !ranges.contains(&p.name))
                    .map(|p| p.name.clone())
                    .collect();
                let other = rng.pick(&candidates).clone();
                let i = self.pool_index[&other];
                if let Some(d) = self.pools[i].take_random(rng) {
                    self.hold(i, d, Holder::User(user_id));
                }
            }
            (NumberRule::Ranges(ranges), _) => {
                let first = ranges[0].clone();
                self.hold_from(rng, &first, user_id);
            }
            (NumberRule::Forbidden, Drift::Settled) => {}
            (NumberRule::Forbidden, _) => {
                // Some still hold the number of the job they had before.
                if rng.chance(0.5) {
                    let names: Vec<String> = self
                        .pools
                        .iter()
                        .filter(|p| !p.kind.needs_inventory())
                        .map(|p| p.name.clone())
                        .collect();
                    let name = rng.pick(&names).clone();
                    self.hold_from(rng, &name, user_id);
                }
            }
            (NumberRule::Unmanaged, _) => {}
        }
    }

    /// Unassigned inventory entries for every Calling Plan and Operator
    /// Connect number that nobody holds (`acquired` limits how much of
    /// each range has been acquired), some without `userAssignment`.
    fn inventory(&mut self, rng: &mut Rng, acquired: &HashMap<String, u64>) {
        for i in 0..self.pools.len() {
            if !self.pools[i].kind.needs_inventory() {
                continue;
            }
            let limit = acquired
                .get(&self.pools[i].name)
                .copied()
                .unwrap_or(u64::MAX);
            let blocks = self.pools[i].blocks.clone();
            let mut count = 0u64;
            'blocks: for (from, to) in blocks {
                for d in from..=to {
                    if count >= limit {
                        break 'blocks;
                    }
                    count += 1;
                    if self.pools[i].used.contains(&d) {
                        continue;
                    }
                    // Reserved numbers are pinned to users: always assignable.
                    let reserved = self.pools[i].reserved.contains(&d);
                    let holder = if !reserved && rng.chance(0.04) {
                        Holder::ServiceOnly
                    } else {
                        Holder::Free
                    };
                    self.hold(i, d, holder);
                }
            }
        }
        self.numbers.sort_by(|a, b| {
            (a.telephone_number.len(), &a.telephone_number)
                .cmp(&(b.telephone_number.len(), &b.telephone_number))
        });
    }
}

// ---------------------------------------------------------------------------
// People: names, user principal names, messy directory values.

#[rustfmt::skip]
const GIVEN_GB: &[&str] = &[
    "Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Jack", "Mia", "Charlie", "Sophie",
    "Thomas", "Emily", "James", "Grace", "William", "Chloe", "Daniel", "Lily", "Samuel", "Ella",
    "Joseph", "Freya", "Mohammed", "Aisha", "Arjun", "Priya", "Chen", "Zara", "Kwame", "Amara",
    "Liam", "Hannah", "Ryan", "Megan", "Callum", "Eilidh", "Rhys", "Bethan", "Tariq", "Yasmin",
];
#[rustfmt::skip]
const SURNAME_GB: &[&str] = &[
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel",
    "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall",
    "Wood", "Jackson", "Clarke", "Khan", "Ahmed", "Edwards", "Lewis", "Turner", "Hill", "Moore",
    "Cooper", "Ward", "Morris", "King", "Baker", "Harrison", "Okafor", "Nowak", "Singh", "Begum",
    "O'Neill", "Fraser", "MacDonald", "Campbell",
];
#[rustfmt::skip]
const GIVEN_IE: &[&str] = &[
    "Aoife", "Ciarán", "Saoirse", "Oisín", "Siobhán", "Seán", "Niamh", "Conor", "Róisín",
    "Darragh", "Sinéad", "Cian", "Orla", "Eoin", "Clodagh", "Pádraig", "Ailbhe", "Fionn",
];
#[rustfmt::skip]
const SURNAME_IE: &[&str] = &[
    "Murphy", "Kelly", "O'Sullivan", "Walsh", "O'Connor", "McCarthy", "Byrne", "Ryan", "O'Brien",
    "Doyle", "Kennedy", "Lynch", "Murray", "Quinn", "Nolan", "Fitzgerald", "Ó Súilleabháin",
];
#[rustfmt::skip]
const GIVEN_DE: &[&str] = &[
    "Lukas", "Anna", "Leon", "Lea", "Felix", "Hannah", "Jonas", "Marie", "Paul", "Sophie",
    "Maximilian", "Laura", "Jan", "Julia", "Tobias", "Katharina", "Jürgen", "Sabine", "Emre",
    "Ayşe",
];
#[rustfmt::skip]
const SURNAME_DE: &[&str] = &[
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Becker", "Schulz", "Hoffmann",
    "Koch", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Zimmermann", "Krüger", "Yılmaz",
];
#[rustfmt::skip]
const GIVEN_US: &[&str] = &[
    "Michael", "Jessica", "Christopher", "Ashley", "Matthew", "Jennifer", "Joshua", "Amanda",
    "David", "Sarah", "Daniel", "Emily", "José", "María", "Tyler", "Brittany", "DeShawn", "Keisha",
    "Wei", "Mei", "Andre", "Lauren", "Kevin", "Nicole",
];
#[rustfmt::skip]
const SURNAME_US: &[&str] = &[
    "Johnson", "Williams", "Garcia", "Rodriguez", "Martinez", "Miller", "Davis", "Lopez",
    "Anderson", "Thomas", "Jackson", "Lee", "Harris", "Clark", "Nguyen", "Kim", "Chen", "Rivera",
    "Cohen", "Goldberg", "Washington", "Patel",
];
#[rustfmt::skip]
const GIVEN_FR: &[&str] = &[
    "Camille", "Louis", "Léa", "Hugo", "Chloé", "Jules", "Manon", "Lucas", "Inès", "Théo",
];
#[rustfmt::skip]
const SURNAME_FR: &[&str] = &[
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Lefèvre",
];
#[rustfmt::skip]
const GIVEN_NL: &[&str] = &[
    "Daan", "Emma", "Sem", "Julia", "Lucas", "Tess", "Bram", "Sanne", "Jeroen", "Anouk",
];
#[rustfmt::skip]
const SURNAME_NL: &[&str] = &[
    "de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Visser", "Smit",
    "Meijer", "de Boer",
];
#[rustfmt::skip]
const GIVEN_ES: &[&str] = &[
    "Lucía", "Hugo", "Martina", "Mateo", "Sofía", "Pablo", "Carmen", "Javier", "Elena", "Álvaro",
];
#[rustfmt::skip]
const SURNAME_ES: &[&str] = &[
    "García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez", "Pérez",
    "Gómez", "Ruiz",
];
#[rustfmt::skip]
const GIVEN_JP: &[&str] = &[
    "Haruto", "Yui", "Sota", "Hina", "Ren", "Aoi", "Takumi", "Sakura", "Kenji", "Yuki",
];
#[rustfmt::skip]
const SURNAME_JP: &[&str] = &[
    "Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura",
];
#[rustfmt::skip]
const GIVEN_SG: &[&str] = &[
    "Wei Ling", "Jun Jie", "Siti", "Arun", "Mei Xin", "Darren", "Nurul", "Rajesh",
];
const SURNAME_SG: &[&str] = &["Tan", "Lim", "Lee", "Ng", "Wong", "Rahman", "Kumar", "Goh"];

fn names_for(country: &str) -> (&'static [&'static str], &'static [&'static str]) {
    match country {
        "IE" => (GIVEN_IE, SURNAME_IE),
        "DE" => (GIVEN_DE, SURNAME_DE),
        "US" | "CA" => (GIVEN_US, SURNAME_US),
        "FR" => (GIVEN_FR, SURNAME_FR),
        "NL" => (GIVEN_NL, SURNAME_NL),
        "ES" => (GIVEN_ES, SURNAME_ES),
        "JP" => (GIVEN_JP, SURNAME_JP),
        "SG" => (GIVEN_SG, SURNAME_SG),
        _ => (GIVEN_GB, SURNAME_GB),
    }
}

/// The ASCII mail-nickname form of a name, as the HR feed builds UPNs.
fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            'á' | 'à' | 'â' | 'Á' => out.push('a'),
            'é' | 'è' | 'ê' | 'É' => out.push('e'),
            'í' | 'ì' | 'Í' | 'ı' => out.push('i'),
            'ó' | 'ò' | 'ô' | 'Ó' => out.push('o'),
            'ú' | 'ù' | 'Ú' => out.push('u'),
            'ä' => out.push_str("ae"),
            'ö' => out.push_str("oe"),
            'ü' => out.push_str("ue"),
            'ß' => out.push_str("ss"),
            'ş' => out.push('s'),
            'ç' => out.push('c'),
            'ñ' => out.push('n'),
            c if c.is_ascii_alphanumeric() => out.push(c.to_ascii_lowercase()),
            _ => {}
        }
    }
    out
}

/// Unique user principal names.
struct Upns(HashSet<String>);

impl Upns {
    fn make(&mut self, given: &str, surname: &str, domain: &str) -> String {
        let base = format!("{}.{}", fold(given), fold(surname));
        let mut n = 1;
        loop {
            let candidate = if n == 1 {
                format!("{base}@{domain}")
            } else {
                format!("{base}{n}@{domain}")
            };
            if self.0.insert(candidate.clone()) {
                return candidate;
            }
            n += 1;
        }
    }

    fn exact(&mut self, upn: &str) -> String {
        self.0.insert(upn.to_string());
        upn.to_string()
    }
}

/// Directory data as people type it: stray spaces, odd case.
fn mess(rng: &mut Rng, v: &str, rate: f64) -> String {
    if !rng.chance(rate) {
        return v.to_string();
    }
    match rng.below(5) {
        0 => v.to_uppercase(),
        1 => v.to_lowercase(),
        2 => format!("{v} "),
        3 => format!(" {v}"),
        _ => format!("{v}  "),
    }
}

fn ext(pairs: &[(u8, String)]) -> BTreeMap<String, Option<String>> {
    pairs
        .iter()
        .map(|(i, v)| (format!("extensionAttribute{i}"), Some(v.clone())))
        .collect()
}

// ---------------------------------------------------------------------------
// `synth example`: Northwind Traders, for examples/tenant-config.

mod example {
    use super::*;

    pub const DOMAIN: &str = "northwind.example";
    const PARTNERS: &str = "partners.northwind.example";
    pub const TENANT_ID: &str = "3f1c6e0a-6d7b-4b8e-9a51-0c2f8e7d4b19";

    /// The personas of examples/tenant-config (personas.kdl and
    /// personas-international.toml), which this must mirror.
    pub fn personas() -> Vec<PersonaDef> {
        use NumberRule::*;
        let r = |names: &[&str]| Ranges(names.iter().map(|s| s.to_string()).collect());
        vec![
            PersonaDef::new(
                "exec",
                "",
                &[
                    ("TeamsCallingPolicy", "Exec-Delegation"),
                    ("OnlineVoiceRoutingPolicy", "UK-International"),
                    ("TenantDialPlan", "UK-London"),
                    ("TeamsMeetingPolicy", "Executive"),
                    ("CallingLineIdentity", "Global"),
                ],
                r(&["uk-london"]),
            ),
            PersonaDef::new(
                "uk-sales",
                "",
                &[
                    ("TeamsCallingPolicy", "AllowCalling"),
                    ("OnlineVoiceRoutingPolicy", "UK-International"),
                    ("TenantDialPlan", "UK-London"),
                    ("TeamsMeetingPolicy", "Sales Meetings"),
                    ("CallingLineIdentity", "Sales-Hunt-Group"),
                ],
                r(&["uk-london", "uk-manchester"]),
            ),
            PersonaDef::new(
                "uk-london-office",
                "",
                &[
                    ("TeamsCallingPolicy", "AllowCalling"),
                    ("OnlineVoiceRoutingPolicy", "UK-National"),
                    ("TenantDialPlan", "UK-London"),
                    ("TeamsMeetingPolicy", "Standard"),
                ],
                r(&["uk-london", "uk-manchester"]),
            ),
            PersonaDef::new(
                "uk-manchester-office",
                "",
                &[
                    ("TeamsCallingPolicy", "AllowCalling"),
                    ("OnlineVoiceRoutingPolicy", "UK-National"),
                    ("TenantDialPlan", "UK-Manchester"),
                    ("TeamsMeetingPolicy", "Standard"),
                ],
                r(&["uk-manchester", "uk-london"]),
            ),
            PersonaDef::new(
                "uk-contact-centre",
                "",
                &[
                    ("TeamsCallingPolicy", "ContactCentre"),
                    ("TeamsCallParkPolicy", "ContactCentre-Park"),
                    ("OnlineVoiceRoutingPolicy", "UK-National"),
                    ("TenantDialPlan", "UK-Manchester"),
                    ("TeamsMeetingPolicy", "Global"),
                ],
                r(&["uk-manchester"]),
            ),
            PersonaDef::new(
                "warehouse",
                "",
                &[
                    ("TeamsCallingPolicy", "DisallowCalling"),
                    ("OnlineVoiceRoutingPolicy", "Global"),
                    ("TeamsAppSetupPolicy", "Frontline"),
                    ("TeamsShiftsPolicy", "Frontline-Shifts"),
                    ("TeamsMeetingPolicy", "Frontline"),
                ],
                Forbidden,
            ),
            PersonaDef::new(
                "contractor",
                "",
                &[
                    ("TeamsMeetingPolicy", "External-Restricted"),
                    ("ExternalAccessPolicy", "NoFederation"),
                    ("TeamsCallingPolicy", "Global"),
                ],
                Unmanaged,
            ),
            PersonaDef::new(
                "ie-office",
                "",
                &[
                    ("TeamsCallingPolicy", "AllowCalling"),
                    ("OnlineVoiceRoutingPolicy", "Global"),
                    ("TenantDialPlan", "IE-Dublin"),
                    ("TeamsMeetingPolicy", "Standard"),
                    ("TeamsEmergencyCallingPolicy", "IE-Notify-Reception"),
                ],
                r(&["ie-dublin"]),
            ),
            PersonaDef::new(
                "us-office",
                "",
                &[
                    ("TeamsCallingPolicy", "AllowCalling"),
                    ("OnlineVoiceRoutingPolicy", "Global"),
                    ("TenantDialPlan", "US-NewYork"),
                    ("TeamsMeetingPolicy", "Standard"),
                    ("TeamsEmergencyCallingPolicy", "US-Security-Desk"),
                ],
                r(&["us-newyork"]),
            ),
            PersonaDef::new(
                "de-office",
                "",
                &[
                    ("TeamsCallingPolicy", "AllowCalling"),
                    ("OnlineVoiceRoutingPolicy", "DE-National"),
                    ("TenantDialPlan", "DE-Berlin"),
                    ("TeamsMeetingPolicy", "DE-NoRecording"),
                ],
                r(&["de-berlin"]),
            ),
        ]
    }

    /// The policies that exist in the tenant: every name a persona uses
    /// plus the leftovers a real tenant has.
    pub fn catalog() -> Catalog {
        let extra: &[(&str, &[&str])] = &[
            (
                "TeamsCallingPolicy",
                &["AllowCallingPreventTollBypass", "CommonAreaPhone"],
            ),
            (
                "OnlineVoiceRoutingPolicy",
                &["UK-Legacy-SBC", "US-Boston-Avaya"],
            ),
            ("TenantDialPlan", &["US-Boston", "UK-Edinburgh"]),
            (
                "TeamsMeetingPolicy",
                &["AllOn", "RestrictedAnonymousAccess"],
            ),
            ("CallingLineIdentity", &["Anonymous", "Main-Switchboard"]),
            ("TeamsAppSetupPolicy", &["FirstLineWorker"]),
            ("ExternalAccessPolicy", &["FederationOnly"]),
            ("TeamsEmergencyCallingPolicy", &["UK-Notify-Security"]),
            ("TeamsIPPhonePolicy", &["CommonAreaPhone"]),
            ("TeamsMessagingPolicy", &["NoGiphy"]),
        ];
        catalog_of(&personas(), extra)
    }

    struct Office {
        code: &'static str,
        office: &'static str,
        city: &'static str,
        state: Option<&'static str>,
        country: &'static [&'static str],
        usage: &'static str,
        postcodes: &'static [&'static str],
        language: &'static str,
        company: &'static str,
    }

    const LON: Office = Office {
        code: "LON",
        office: "UK-LON-Shoreditch HQ",
        city: "London",
        state: None,
        country: &["United Kingdom", "United Kingdom", "UK", "GB"],
        usage: "GB",
        postcodes: &["EC2A 4NE", "EC2A 3AY", "EC1V 9BP", "WC2H 9JQ"],
        language: "en-GB",
        company: "Northwind Traders Ltd",
    };
    const MAN: Office = Office {
        code: "MAN",
        office: "UK-MAN-Trafford Park DC",
        city: "Trafford Park",
        state: Some("Greater Manchester"),
        country: &["United Kingdom", "United Kingdom", "UK"],
        usage: "GB",
        postcodes: &["M17 1AB", "M17 1PG", "M4 4BF"],
        language: "en-GB",
        company: "Northwind Traders Ltd",
    };
    const DUB: Office = Office {
        code: "DUB",
        office: "IE-DUB-Docklands",
        city: "Dublin",
        state: Some("Co. Dublin"),
        country: &["Ireland", "Ireland", "Éire"],
        usage: "IE",
        postcodes: &["D02 X285", "D02 YX88"],
        language: "en-IE",
        company: "Northwind Traders Ireland DAC",
    };
    const BER: Office = Office {
        code: "BER",
        office: "DE-BER-Mitte",
        city: "Berlin",
        state: Some("Berlin"),
        country: &["Germany", "Deutschland"],
        usage: "DE",
        postcodes: &["10117", "10178"],
        language: "de-DE",
        company: "Northwind Traders GmbH",
    };
    const NYC: Office = Office {
        code: "NYC",
        office: "US-NYC-Hudson Yards",
        city: "New York",
        state: Some("NY"),
        country: &["United States"],
        usage: "US",
        postcodes: &["10001", "10118"],
        language: "en-US",
        company: "Northwind Traders Inc.",
    };
    const BOS: Office = Office {
        code: "BOS",
        office: "US-BOS-Seaport",
        city: "Boston",
        state: Some("MA"),
        country: &["United States"],
        usage: "US",
        postcodes: &["02210"],
        language: "en-US",
        company: "Northwind Traders Inc.",
    };
    const EDI: Office = Office {
        code: "EDI",
        office: "UK-EDI-Leith",
        city: "Edinburgh",
        state: Some("Scotland"),
        country: &["United Kingdom"],
        usage: "GB",
        postcodes: &["EH6 6QU"],
        language: "en-GB",
        company: "Northwind Traders Ltd",
    };
    const PAR: Office = Office {
        code: "PAR",
        office: "FR-PAR-La Défense",
        city: "Paris",
        state: Some("Île-de-France"),
        country: &["France"],
        usage: "FR",
        postcodes: &["92400"],
        language: "fr-FR",
        company: "Northwind Traders SAS",
    };

    /// A group of similar people and the persona the rules give them.
    struct Cohort {
        office: &'static Office,
        department: &'static str,
        titles: &'static [&'static str],
        count: usize,
        persona: Option<&'static str>,
    }

    const fn c(
        office: &'static Office,
        department: &'static str,
        titles: &'static [&'static str],
        count: usize,
        persona: Option<&'static str>,
    ) -> Cohort {
        Cohort {
            office,
            department,
            titles,
            count,
            persona,
        }
    }

    const SALES: &[&str] = &[
        "Account Manager",
        "Senior Account Manager",
        "Sales Executive",
        "Business Development Manager",
        "Sales Director",
        "Inside Sales Representative",
    ];
    const COHORTS: &[Cohort] = &[
        c(&LON, "Sales", SALES, 28, Some("uk-sales")),
        c(
            &LON,
            "Finance",
            &[
                "Accountant",
                "Financial Analyst",
                "Finance Manager",
                "Credit Controller",
                "Payroll Specialist",
            ],
            14,
            Some("uk-london-office"),
        ),
        c(
            &LON,
            "Marketing",
            &[
                "Marketing Executive",
                "Brand Manager",
                "Content Writer",
                "Events Coordinator",
            ],
            11,
            Some("uk-london-office"),
        ),
        c(
            &LON,
            "IT",
            &[
                "Service Desk Analyst",
                "Systems Administrator",
                "Network Engineer",
                "IT Manager",
            ],
            10,
            Some("uk-london-office"),
        ),
        c(
            &LON,
            "Human Resources",
            &["HR Advisor", "HR Business Partner", "Recruiter"],
            7,
            Some("uk-london-office"),
        ),
        c(
            &LON,
            "Legal",
            &["Legal Counsel", "Paralegal", "Company Secretary"],
            4,
            Some("uk-london-office"),
        ),
        c(
            &LON,
            "Engineering",
            &[
                "Software Engineer",
                "Senior Software Engineer",
                "Engineering Manager",
                "Data Engineer",
                "QA Engineer",
            ],
            22,
            Some("uk-london-office"),
        ),
        c(
            &MAN,
            "Warehouse",
            &[
                "Warehouse Operative",
                "Forklift Driver",
                "Picker / Packer",
                "Goods In Operative",
            ],
            30,
            Some("warehouse"),
        ),
        c(
            &MAN,
            "Logistics",
            &["Transport Planner", "Logistics Operative"],
            6,
            Some("warehouse"),
        ),
        c(
            &MAN,
            "Warehouse",
            &["Shift Supervisor", "Warehouse Manager"],
            4,
            Some("uk-manchester-office"),
        ),
        c(
            &MAN,
            "Customer Service",
            &[
                "Customer Service Advisor",
                "Senior Customer Service Advisor",
                "Team Leader",
            ],
            22,
            Some("uk-contact-centre"),
        ),
        c(
            &MAN,
            "Customer Service",
            &["Customer Service Manager"],
            2,
            Some("uk-manchester-office"),
        ),
        c(
            &MAN,
            "Operations",
            &[
                "Operations Analyst",
                "Operations Manager",
                "Supply Chain Planner",
                "Buyer",
            ],
            11,
            Some("uk-manchester-office"),
        ),
        c(
            &MAN,
            "Finance",
            &["Accounts Payable Clerk", "Accountant"],
            4,
            Some("uk-manchester-office"),
        ),
        c(&MAN, "Sales", SALES, 6, Some("uk-sales")),
        c(
            &DUB,
            "Finance",
            &[
                "Accountant",
                "Financial Analyst",
                "Accounts Receivable Specialist",
            ],
            12,
            Some("ie-office"),
        ),
        c(&DUB, "Sales", SALES, 9, Some("ie-office")),
        c(
            &DUB,
            "IT",
            &["Service Desk Analyst", "Cloud Engineer"],
            8,
            Some("ie-office"),
        ),
        c(&NYC, "Sales", SALES, 14, Some("us-office")),
        c(
            &NYC,
            "Marketing",
            &["Marketing Manager", "Marketing Executive"],
            6,
            Some("us-office"),
        ),
        c(
            &NYC,
            "Finance",
            &["Financial Analyst", "Controller"],
            6,
            Some("us-office"),
        ),
        c(&BOS, "Sales", SALES, 6, None),
        c(
            &BER,
            "Sales",
            &["Account Manager", "Vertriebsleiter", "Key Account Manager"],
            8,
            Some("de-office"),
        ),
        c(
            &BER,
            "Engineering",
            &["Software Engineer", "Softwareentwickler", "DevOps Engineer"],
            10,
            Some("de-office"),
        ),
        c(
            &BER,
            "Operations",
            &["Office Manager", "Operations Analyst"],
            3,
            Some("de-office"),
        ),
        c(
            &EDI,
            "Finance",
            &["Financial Analyst", "Accountant"],
            4,
            None,
        ),
        c(
            &PAR,
            "Sales",
            &["Ingénieur commercial", "Account Manager"],
            5,
            None,
        ),
    ];

    pub fn run(out: &Path, seed: u64) -> Result<()> {
        let mut rng = Rng::new(seed);
        let catalog = catalog();
        let personas: HashMap<String, PersonaDef> = personas()
            .into_iter()
            .map(|p| (p.name.clone(), p))
            .collect();
        let mut snap = Snapshot {
            format_version: 1,
            tenant_id: TENANT_ID.into(),
            ..Snapshot::default()
        };
        for (t, names) in &catalog {
            for n in names {
                snap.add_policy(&mut rng, t, n);
            }
        }
        let mut ngen = StateGen {
            tenant_id: TENANT_ID.into(),
            catalog: &catalog,
            pools: pools(),
            pool_index: HashMap::new(),
            outside_base: vec![442_079_471_000, 441_614_970_000],
            outside_next: 0,
            numbers: Vec::new(),
        };
        ngen.pool_index = ngen
            .pools
            .iter()
            .enumerate()
            .map(|(i, p)| (p.name.clone(), i))
            .collect();
        let mut upns = Upns(HashSet::new());
        let mut people = People::default();

        // Resource accounts and the conference bridge hold numbers first:
        // they are not users, and the allocator must step around them.
        let reception = rng.uuid();
        let helpdesk = rng.uuid();
        let cc_queue = rng.uuid();
        let dub_reception = rng.uuid();
        let bridge = rng.uuid();
        let p = ngen.pool_index["uk-london"];
        let d = ngen.pools[p].take_exact(442_079_460_000);
        ngen.hold(p, d, Holder::VoiceApp(&reception));
        let d = ngen.pools[p].take_exact(442_079_460_200);
        ngen.hold(p, d, Holder::VoiceApp(&helpdesk));
        let p = ngen.pool_index["uk-manchester"];
        let d = ngen.pools[p].take_exact(441_614_960_500);
        ngen.hold(p, d, Holder::VoiceApp(&cc_queue));
        let p = ngen.pool_index["ie-dublin"];
        let d = ngen.pools[p].take_exact(35_315_550_100);
        ngen.hold(p, d, Holder::VoiceApp(&dub_reception));
        let d = ngen.pools[p].take_exact(35_315_550_150);
        ngen.hold(p, d, Holder::Conference(&bridge));

        // The named people of users.toml and the leadership team.
        named_people(
            &mut rng,
            &mut snap,
            &mut ngen,
            &mut upns,
            &mut people,
            &personas,
        );

        for cohort in COHORTS {
            for _ in 0..cohort.count {
                let mut u = person(&mut rng, &mut upns, cohort.office, cohort.department);
                let title = *rng.pick(cohort.titles);
                u.job_title = Some(mess(&mut rng, title, 0.05));
                let persona = cohort.persona.map(|p| &personas[p]);
                make_messy(&mut rng, &mut u, cohort.office, persona.is_some());
                people.add(&u, cohort.office.code, cohort.department);
                match persona {
                    Some(p) => {
                        let drift = pick_drift(&mut rng, 0.18);
                        ngen.settle(&mut rng, &mut snap, &u.id, p, drift);
                    }
                    None => unmanaged_state(&mut rng, &mut snap, &mut ngen, &u, cohort.office),
                }
                snap.users.push(u);
            }
        }
        unusual_people(
            &mut rng,
            &mut snap,
            &mut ngen,
            &mut upns,
            &mut people,
            &personas,
        );
        groups(&mut rng, &mut snap, &people);

        let acquired: HashMap<String, u64> = [("ie-dublin".to_string(), 80)].into();
        ngen.inventory(&mut rng, &acquired);
        snap.number_assignments = ngen.numbers;
        // Users in the order a directory export gives them: by object id.
        snap.users.sort_by(|a, b| a.id.cmp(&b.id));
        snap.write(out)?;
        eprintln!(
            "wrote {} ({} users, {} groups, {} policies, {} direct assignments, {} numbers)",
            out.display(),
            snap.users.len(),
            snap.groups.len(),
            snap.policies.len(),
            snap.policy_assignments.len(),
            snap.number_assignments.len()
        );
        Ok(())
    }

    /// The ranges of examples/tenant-config/ranges/*. Calling Plan and
    /// Operator Connect pools only hold what was acquired into inventory.
    fn pools() -> Vec<Pool> {
        vec![
            Pool::new(
                "uk-london",
                NumKind::DirectRouting,
                "0c9f3b8e-5a61-4f0d-9a2e-7d4c1b6e8f20",
                "GB",
                vec![
                    (442_079_460_000, 442_079_460_799),
                    (442_079_460_800, 442_079_460_999),
                ],
                vec![442_079_460_000, 442_079_460_001, 442_079_460_999],
            ),
            Pool::new(
                "uk-manchester",
                NumKind::DirectRouting,
                "5e2d8a41-93b7-4c6e-b1f0-2a7c9d3e4f58",
                "GB",
                vec![(441_614_960_000, 441_614_960_999)],
                vec![441_614_960_000, 441_614_960_500],
            ),
            Pool::new(
                "ie-dublin",
                NumKind::CallingPlan,
                "a6c4e1d2-7b38-4f95-8e0a-3d5b9c1f2e67",
                "IE",
                vec![(35_315_550_100, 35_315_550_299)],
                vec![35_315_550_100],
            ),
            Pool::new(
                "us-newyork",
                NumKind::OperatorConnect,
                "e3b7a9c5-1d24-4e8f-b6a0-9c2d7f4e1b83",
                "US",
                // Only these were acquired so far (the 646 block in part).
                vec![
                    (12_125_550_100, 12_125_550_159),
                    (16_465_550_100, 16_465_550_119),
                ],
                vec![],
            ),
            Pool::new(
                "de-berlin",
                NumKind::DirectRouting,
                "7a1e5c93-2f48-4d6b-a0c7-e8b2d4f61a95",
                "DE",
                vec![(493_023_125_000, 493_023_125_999)],
                vec![493_023_125_000],
            ),
        ]
    }

    /// Who is in which group (by office and department), for `groups`.
    #[derive(Default)]
    struct People {
        by_office: BTreeMap<&'static str, Vec<String>>,
        by_department: BTreeMap<String, Vec<String>>,
        sales_london: Vec<String>,
        sales_manchester: Vec<String>,
        elt: Vec<String>,
        board: Vec<String>,
        contractors: Vec<String>,
        phone_users: Vec<String>,
    }

    impl People {
        fn add(&mut self, u: &User, office: &'static str, department: &str) {
            self.by_office.entry(office).or_default().push(u.id.clone());
            self.by_department
                .entry(department.to_string())
                .or_default()
                .push(u.id.clone());
            if department == "Sales" {
                match office {
                    "LON" => self.sales_london.push(u.id.clone()),
                    "MAN" => self.sales_manchester.push(u.id.clone()),
                    _ => {}
                }
            }
            if u.assigned_licenses.iter().any(|l| l.sku_id == SKU_PHONE) {
                self.phone_users.push(u.id.clone());
            }
        }
    }

    fn person(rng: &mut Rng, upns: &mut Upns, office: &Office, department: &str) -> User {
        let (givens, surnames) = names_for(office.usage);
        let given = *rng.pick(givens);
        let surname = *rng.pick(surnames);
        let upn = upns.make(given, surname, DOMAIN);
        named(rng, &upn, given, surname, office, department)
    }

    fn named(
        rng: &mut Rng,
        upn: &str,
        given: &str,
        surname: &str,
        office: &Office,
        department: &str,
    ) -> User {
        let frontline = matches!(department, "Warehouse" | "Logistics");
        User {
            id: rng.uuid(),
            user_principal_name: upn.into(),
            display_name: format!("{given} {surname}"),
            given_name: Some(given.into()),
            surname: Some(surname.into()),
            mail: Some(upn.into()),
            account_enabled: true,
            job_title: None,
            department: Some(department.into()),
            company_name: Some(office.company.into()),
            employee_type: Some("Employee".into()),
            employee_id: Some(format!("NW{}", rng.digits(6))),
            office_location: Some(office.office.into()),
            city: Some(office.city.into()),
            state: office.state.map(str::to_string),
            country: Some(rng.pick(office.country).to_string()),
            postal_code: Some(rng.pick(office.postcodes).to_string()),
            usage_location: Some(office.usage.into()),
            preferred_language: Some(office.language.into()),
            on_premises_extension_attributes: ext(&[(
                1,
                format!("CC-{}-{}", office.code, rng.digits(3)),
            )]),
            assigned_licenses: licenses(if frontline {
                LicenceKind::Frontline
            } else if matches!(office.code, "EDI" | "BOS" | "PAR") {
                LicenceKind::Office
            } else {
                LicenceKind::Phone
            }),
        }
    }

    /// Stray spaces, odd case, missing values: but only in ways that keep
    /// a matched user matched (the rules compare trimmed, without case, and
    /// have fallbacks for a missing city or office).
    fn make_messy(rng: &mut Rng, u: &mut User, office: &Office, matched: bool) {
        if let Some(c) = &u.city {
            u.city = Some(mess(rng, c, 0.12));
        }
        if let Some(d) = &u.department {
            u.department = Some(mess(rng, d, 0.08));
        }
        if let Some(o) = &u.office_location {
            u.office_location = Some(mess(rng, o, 0.06));
        }
        if rng.chance(0.10) {
            u.postal_code = None;
        }
        if rng.chance(0.05) {
            u.preferred_language = None;
        }
        // Either the city or the office may be missing, never both (for
        // matched users in London, the postcode alone would still do).
        match rng.below(12) {
            // The warehouse rule needs the city: HR always sets it there.
            0 if office.code != "MAN" => u.city = None,
            1 if office.code != "BER" => u.office_location = None,
            2 if office.code == "LON" && matched => {
                u.city = None;
                u.office_location = None;
                u.postal_code = Some(rng.pick(&["EC2A 4NE", "WC2H 9JQ"]).to_string());
            }
            _ => {}
        }
        if office.code == "MAN" && rng.chance(0.3) {
            // Half the distribution centre says "Manchester".
            u.city = Some("Manchester".into());
        }
        if office.code == "BER" && u.office_location.is_none() {
            u.city = Some("Berlin".into());
        }
    }

    /// State of users roster does not manage: unmatched and out of scope.
    fn unmanaged_state(
        rng: &mut Rng,
        snap: &mut Snapshot,
        ngen: &mut StateGen<'_>,
        u: &User,
        office: &Office,
    ) {
        match office.code {
            "BOS" => {
                snap.assign(&u.id, "TenantDialPlan", "US-Boston");
                snap.assign(&u.id, "OnlineVoiceRoutingPolicy", "US-Boston-Avaya");
            }
            "EDI" => {
                snap.assign(&u.id, "TenantDialPlan", "UK-Edinburgh");
                if rng.chance(0.5) {
                    // Borrowed a Manchester number while the Edinburgh
                    // range is on order: still taken for everyone else.
                    ngen.hold_from(rng, "uk-manchester", &u.id);
                }
            }
            _ => {
                snap.assign(&u.id, "TeamsMeetingPolicy", "Standard");
            }
        }
    }

    fn named_people(
        rng: &mut Rng,
        snap: &mut Snapshot,
        ngen: &mut StateGen<'_>,
        upns: &mut Upns,
        people: &mut People,
        personas: &HashMap<String, PersonaDef>,
    ) {
        let exec = &personas["exec"];
        // CEO: override in users.toml, already on her pinned number.
        let mut ceo = named(
            rng,
            &upns.exact("olivia.bennett@northwind.example"),
            "Olivia",
            "Bennett",
            &LON,
            "Executive",
        );
        ceo.job_title = Some("Chief Executive Officer".into());
        people.board.push(ceo.id.clone());
        people.add(&ceo, "LON", "Executive");
        for (t, n) in &exec.policies {
            if let Some(n) = n {
                snap.assign(&ceo.id, t, n);
            }
        }
        let p = ngen.pool_index["uk-london"];
        let d = ngen.pools[p].take_exact(442_079_460_001);
        ngen.hold(p, d, Holder::User(&ceo.id));
        snap.users.push(ceo);

        // The rest of the leadership team: C-level titles, or membership.
        let team: &[(&str, &str, &str, Drift, bool)] = &[
            (
                "Marcus",
                "Reid",
                "Chief Financial Officer",
                Drift::Settled,
                false,
            ),
            (
                "Helen",
                "Achterberg",
                "Chief Operating Officer",
                Drift::WrongPolicy,
                false,
            ),
            (
                "Deepa",
                "Raman",
                "Chief People Officer",
                Drift::Settled,
                false,
            ),
            (
                "Gareth",
                "Lloyd",
                "Managing Director, UK",
                Drift::Joiner,
                true,
            ),
            (
                "Sunita",
                "Kapoor",
                "Chief Technology Officer",
                Drift::StaleDirect,
                false,
            ),
        ];
        for (given, surname, title, drift, board) in team {
            let mut u = person_named(rng, upns, given, surname, &LON, "Executive");
            u.job_title = Some(title.to_string());
            if *board {
                people.board.push(u.id.clone());
            } else {
                people.elt.push(u.id.clone());
            }
            people.add(&u, "LON", "Executive");
            ngen.settle(rng, snap, &u.id, exec, *drift);
            snap.users.push(u);
        }

        // Finance business partner on the sales persona (override).
        let mut priya = person_named(rng, upns, "Priya", "Shah", &LON, "Finance");
        priya.job_title = Some("Finance Business Partner".into());
        people.add(&priya, "LON", "Finance");
        ngen.settle(
            rng,
            snap,
            &priya.id,
            &personas["uk-london-office"],
            Drift::Settled,
        );
        snap.users.push(priya);

        // Berlin site lead: holds an ordinary Berlin number today; the pin
        // moves him to the Zentrale number.
        let mut lukas = person_named(rng, upns, "Lukas", "Wagner", &BER, "Operations");
        lukas.job_title = Some("Standortleiter Berlin".into());
        lukas.country = Some("Deutschland".into());
        people.add(&lukas, "BER", "Operations");
        ngen.settle(rng, snap, &lukas.id, &personas["de-office"], Drift::Settled);
        snap.users.push(lukas);

        // Hands-off accounts (ignore = true).
        let mut kiosk = named(
            rng,
            &upns.exact("reception-kiosk-lon@northwind.example"),
            "Reception",
            "Kiosk (London)",
            &LON,
            "Facilities",
        );
        kiosk.display_name = "Reception Kiosk - London".into();
        kiosk.given_name = None;
        kiosk.surname = None;
        kiosk.employee_type = None;
        kiosk.employee_id = None;
        kiosk.job_title = None;
        kiosk.assigned_licenses = licenses(LicenceKind::Room);
        snap.assign(&kiosk.id, "TeamsIPPhonePolicy", "CommonAreaPhone");
        snap.assign(&kiosk.id, "TeamsCallingPolicy", "CommonAreaPhone");
        ngen.hold_from(rng, "uk-london", &kiosk.id);
        snap.users.push(kiosk);
        let mut admin = named(
            rng,
            &upns.exact("breakglass-admin@northwind.example"),
            "Break Glass",
            "Admin",
            &LON,
            "IT",
        );
        admin.display_name = "Break Glass Admin (do not use)".into();
        admin.given_name = None;
        admin.surname = None;
        admin.mail = None;
        admin.employee_type = None;
        admin.employee_id = None;
        admin.job_title = None;
        admin.office_location = None;
        admin.city = None;
        admin.postal_code = None;
        admin.on_premises_extension_attributes.clear();
        admin.assigned_licenses = licenses(LicenceKind::None);
        snap.users.push(admin);
    }

    fn person_named(
        rng: &mut Rng,
        upns: &mut Upns,
        given: &str,
        surname: &str,
        office: &Office,
        department: &str,
    ) -> User {
        let upn = upns.make(given, surname, DOMAIN);
        named(rng, &upn, given, surname, office, department)
    }

    /// Leavers, contractors, home workers, service accounts and the users
    /// whose data is wrong enough that no rule matches them.
    fn unusual_people(
        rng: &mut Rng,
        snap: &mut Snapshot,
        ngen: &mut StateGen<'_>,
        upns: &mut Upns,
        people: &mut People,
        personas: &HashMap<String, PersonaDef>,
    ) {
        // Leavers: disabled, still holding what they had.
        let leavers: &[(&Office, &str, &str, &str)] = &[
            (&LON, "Sales", "Account Manager", "uk-sales"),
            (&LON, "Sales", "Sales Executive", "uk-sales"),
            (&LON, "Engineering", "Software Engineer", "uk-london-office"),
            (&LON, "Marketing", "Marketing Executive", "uk-london-office"),
            (
                &MAN,
                "Customer Service",
                "Customer Service Advisor",
                "uk-contact-centre",
            ),
            (
                &MAN,
                "Customer Service",
                "Customer Service Advisor",
                "uk-contact-centre",
            ),
            (&MAN, "Warehouse", "Warehouse Operative", "warehouse"),
            (&MAN, "Operations", "Buyer", "uk-manchester-office"),
            (&DUB, "Finance", "Accountant", "ie-office"),
            (&NYC, "Sales", "Account Manager", "us-office"),
            (&BER, "Engineering", "Softwareentwickler", "de-office"),
            (&LON, "Finance", "Financial Analyst", "uk-london-office"),
        ];
        for (office, department, title, persona) in leavers {
            let mut u = person(rng, upns, office, department);
            u.job_title = Some(title.to_string());
            u.account_enabled = false;
            if rng.chance(0.5) {
                // HR clears some fields on the leaving date.
                u.department = None;
                u.office_location = None;
            }
            let drift = if rng.chance(0.8) {
                Drift::Settled
            } else {
                Drift::NoNumber
            };
            ngen.settle(rng, snap, &u.id, &personas[*persona], drift);
            snap.users.push(u);
        }

        // Contractors: by employeeType, by the partners domain, or only by
        // a C-prefixed employee id.
        let contractor = &personas["contractor"];
        for i in 0..12 {
            let office = if i < 8 { &LON } else { &MAN };
            let dept = *rng.pick(&["Engineering", "IT", "Marketing", "Customer Service"]);
            let mut u = person(rng, upns, office, dept);
            u.job_title = Some(
                rng.pick(&[
                    "Contractor",
                    "Consultant",
                    "Interim Project Manager",
                    "Agency Worker",
                ])
                .to_string(),
            );
            match i % 4 {
                0 | 1 => {
                    u.employee_type = Some(
                        rng.pick(&["Contractor", "contractor", "Agency"])
                            .to_string(),
                    )
                }
                2 => {
                    let given = u.given_name.clone().unwrap_or_default();
                    let surname = u.surname.clone().unwrap_or_default();
                    u.user_principal_name = upns.make(&given, &surname, PARTNERS);
                    u.mail = Some(u.user_principal_name.clone());
                    u.employee_type = None;
                }
                _ => {
                    u.employee_type = None;
                    u.employee_id = Some(format!("C-{}", rng.digits(5)));
                }
            }
            u.assigned_licenses = licenses(LicenceKind::Office);
            people.contractors.push(u.id.clone());
            let drift = pick_drift(rng, 0.3);
            ngen.settle(rng, snap, &u.id, contractor, drift);
            if i == 5 {
                // Roster leaves contractors' numbers alone: this one keeps it.
                ngen.hold_from(rng, "uk-london", &u.id);
            }
            snap.users.push(u);
        }

        // Home workers: no office, no city; HR tags them.
        for _ in 0..6 {
            let dept = *rng.pick(&["Engineering", "Marketing", "Finance"]);
            let mut u = person(rng, upns, &LON, dept);
            u.job_title = Some(
                rng.pick(&["Software Engineer", "Content Writer", "Payroll Specialist"])
                    .to_string(),
            );
            u.office_location = None;
            u.city = None;
            u.postal_code = Some(
                rng.pick(&["LS6 2AB", "BS1 5TR", "CF10 1EP", "NE1 4ST"])
                    .to_string(),
            );
            u.on_premises_extension_attributes
                .insert("extensionAttribute2".into(), Some("HomeWorker".into()));
            people.add(&u, "LON", dept);
            let drift = pick_drift(rng, 0.4);
            ngen.settle(rng, snap, &u.id, &personas["uk-london-office"], drift);
            snap.users.push(u);
        }

        // Sales-group members outside the Sales department (memberOf with
        // nesting: SG-Sales-Manchester is inside SG-Sales-UK).
        for (office, dept, title) in [
            (&MAN, "Finance", "Commercial Finance Analyst"),
            (&LON, "Marketing", "Head of Partnerships"),
        ] {
            let mut u = person(rng, upns, office, dept);
            u.job_title = Some(title.into());
            people.add(&u, office.code, dept);
            if office.code == "MAN" {
                people.sales_manchester.push(u.id.clone());
            } else {
                people.sales_london.push(u.id.clone());
            }
            ngen.settle(rng, snap, &u.id, &personas["uk-sales"], Drift::WrongPolicy);
            snap.users.push(u);
        }

        // Someone grabbed the fax gateway's reserved number: it is in the
        // range but reserved, so it is not sticky.
        let mut u = person(rng, upns, &LON, "Legal");
        u.job_title = Some("Paralegal".into());
        people.add(&u, "LON", "Legal");
        ngen.settle(
            rng,
            snap,
            &u.id,
            &personas["uk-london-office"],
            Drift::NoNumber,
        );
        let p = ngen.pool_index["uk-london"];
        let d = ngen.pools[p].take_exact(442_079_460_999);
        ngen.hold(p, d, Holder::User(&u.id));
        snap.users.push(u);

        // A Dublin user who moved from London: London number, UK routing.
        let mut u = person(rng, upns, &DUB, "Sales");
        u.job_title = Some("Account Manager".into());
        people.add(&u, "DUB", "Sales");
        for (t, n) in &personas["uk-sales"].policies {
            if let Some(n) = n {
                snap.assign(&u.id, t, n);
            }
        }
        ngen.hold_from(rng, "uk-london", &u.id);
        snap.users.push(u);

        // Unmatched: a typo in the city and no office; a UK user with no
        // location at all.
        for city in ["Lodnon", "Machester"] {
            let mut u = person(rng, upns, &LON, "Operations");
            u.job_title = Some("Operations Analyst".into());
            u.city = Some(city.into());
            u.office_location = None;
            u.postal_code = None;
            snap.assign(&u.id, "TeamsMeetingPolicy", "Standard");
            snap.users.push(u);
        }
        let mut u = person(rng, upns, &LON, "Facilities");
        u.job_title = Some("Facilities Coordinator".into());
        u.city = None;
        u.office_location = None;
        u.postal_code = None;
        snap.users.push(u);

        // Out of scope: no usage location yet (new joiner, licence pending),
        // and the service accounts.
        let mut u = person(rng, upns, &LON, "Engineering");
        u.job_title = Some("Graduate Engineer".into());
        u.usage_location = None;
        u.assigned_licenses = Vec::new();
        snap.users.push(u);
        for (name, display) in [
            ("svc-teams-recording", "Teams Compliance Recording"),
            ("svc-hr-feed", "HR Feed (Workday)"),
            ("svc-backup", "Backup Service"),
        ] {
            let mut u = named(
                rng,
                &upns.exact(&format!("{name}@{DOMAIN}")),
                display,
                "",
                &LON,
                "IT",
            );
            u.display_name = display.into();
            u.given_name = None;
            u.surname = None;
            u.job_title = None;
            u.employee_type = Some("Service".into());
            u.employee_id = None;
            u.office_location = None;
            u.city = None;
            u.postal_code = None;
            u.assigned_licenses = licenses(LicenceKind::None);
            if name == "svc-teams-recording" {
                snap.assign(&u.id, "TeamsCallingPolicy", "AllowCalling");
            }
            snap.users.push(u);
        }
    }

    fn groups(rng: &mut Rng, snap: &mut Snapshot, people: &People) {
        let mut group = |snap: &mut Snapshot, name: &str, members: Vec<String>| -> String {
            let id = rng.uuid();
            snap.groups.push(Group {
                id: id.clone(),
                display_name: name.into(),
                members,
            });
            id
        };
        let board = group(snap, "SG-Board", people.board.clone());
        let mut elt = people.elt.clone();
        elt.push(board);
        group(snap, "SG-Executive-Leadership", elt);
        let london = group(snap, "SG-Sales-London", people.sales_london.clone());
        let manchester = group(snap, "SG-Sales-Manchester", people.sales_manchester.clone());
        let sales_uk = group(snap, "SG-Sales-UK", vec![london, manchester]);
        let mut site_groups = Vec::new();
        for (code, name) in [
            ("LON", "All Staff - London"),
            ("MAN", "All Staff - Manchester"),
            ("DUB", "All Staff - Dublin"),
            ("NYC", "All Staff - New York"),
            ("BER", "All Staff - Berlin"),
        ] {
            let members = people.by_office.get(code).cloned().unwrap_or_default();
            site_groups.push((code, group(snap, name, members)));
        }
        let all: Vec<String> = site_groups.iter().map(|(_, id)| id.clone()).collect();
        group(snap, "All Staff", all);
        for (dept, members) in &people.by_department {
            group(snap, &format!("Dept - {dept}"), members.clone());
        }
        group(snap, "SG-Contractors", people.contractors.clone());
        group(snap, "Licence - Teams Phone", people.phone_users.clone());
        // Group policy assignments: what applies when no direct one does.
        let berlin = &site_groups
            .iter()
            .find(|(c, _)| *c == "BER")
            .map(|(_, id)| id.clone());
        if let Some(berlin) = berlin {
            snap.group_policy_assignments.push(GroupAssignment {
                group_id: berlin.clone(),
                policy_type: "TeamsMeetingPolicy".into(),
                policy_name: "DE-NoRecording".into(),
                rank: 1,
            });
        }
        snap.group_policy_assignments.push(GroupAssignment {
            group_id: sales_uk,
            policy_type: "TeamsMeetingPolicy".into(),
            policy_name: "Sales Meetings".into(),
            rank: 2,
        });
    }
}

// ---------------------------------------------------------------------------
// `synth scale`: a large tenant and the manifests for it.

mod scale {
    use super::*;

    const DOMAIN: &str = "northwind.example";
    const PARTNERS: &str = "partners.northwind.example";
    const EMEA: &[&str] = &["GB", "IE", "DE", "FR", "NL", "ES"];

    /// One office. Its range holds `prefix` followed by six digits.
    struct Site {
        code: &'static str,
        city: &'static str,
        variants: &'static [&'static str],
        country: &'static str,
        state: &'static str,
        /// Postcode template (`#` digit, `@` letter) and a pattern that
        /// matches exactly what it makes.
        postcode: (&'static str, &'static str),
        kind: NumKind,
        prefix: u64,
        weight: u32,
    }

    #[allow(clippy::too_many_arguments)]
    const fn site(
        code: &'static str,
        city: &'static str,
        variants: &'static [&'static str],
        country: &'static str,
        state: &'static str,
        postcode: (&'static str, &'static str),
        kind: NumKind,
        prefix: u64,
        weight: u32,
    ) -> Site {
        Site {
            code,
            city,
            variants,
            country,
            state,
            postcode,
            kind,
            prefix,
            weight,
        }
    }

    use NumKind::{CallingPlan as CP, DirectRouting as DR, OperatorConnect as OC};

    #[rustfmt::skip]
    const SITES: &[Site] = &[
        site("LON", "London", &["London", "City of London"], "GB", "Greater London", ("EC#A #@@", r"(EC|WC)\d[A-Z]? ?\d[A-Z]{2}"), DR, 442_079, 12),
        site("MAN", "Manchester", &["Manchester", "Salford"], "GB", "Greater Manchester", ("M## #@@", r"M\d{1,2} ?\d[A-Z]{2}"), DR, 441_614, 6),
        site("BHM", "Birmingham", &["Birmingham"], "GB", "West Midlands", ("B## #@@", r"B\d{1,2} ?\d[A-Z]{2}"), DR, 441_214, 4),
        site("LDS", "Leeds", &["Leeds"], "GB", "West Yorkshire", ("LS## #@@", r"LS\d{1,2} ?\d[A-Z]{2}"), DR, 441_134, 3),
        site("GLA", "Glasgow", &["Glasgow"], "GB", "Glasgow City", ("G## #@@", r"G\d{1,2} ?\d[A-Z]{2}"), DR, 441_414, 3),
        site("BRS", "Bristol", &["Bristol"], "GB", "City of Bristol", ("BS# #@@", r"BS\d{1,2} ?\d[A-Z]{2}"), DR, 441_174, 2),
        site("DUB", "Dublin", &["Dublin", "Baile Átha Cliath"], "IE", "Co. Dublin", ("D0# @#@#", r"D\d{2} ?[A-Z0-9]{4}"), CP, 35_315, 4),
        site("ORK", "Cork", &["Cork"], "IE", "Co. Cork", ("T12 @#@#", r"T\d{2} ?[A-Z0-9]{4}"), CP, 35_321, 1),
        site("BER", "Berlin", &["Berlin"], "DE", "Berlin", ("10###", r"1[0-4]\d{3}"), DR, 49_302, 4),
        site("MUC", "Munich", &["Munich", "München"], "DE", "Bayern", ("80###", r"8[01]\d{3}"), DR, 49_892, 3),
        site("HAM", "Hamburg", &["Hamburg"], "DE", "Hamburg", ("20###", r"2[0-2]\d{3}"), DR, 49_402, 2),
        site("FRA", "Frankfurt", &["Frankfurt", "Frankfurt am Main"], "DE", "Hessen", ("60###", r"60\d{3}"), DR, 49_692, 3),
        site("PAR", "Paris", &["Paris", "Puteaux"], "FR", "Île-de-France", ("750##", r"75\d{3}"), OC, 33_142, 5),
        site("LYS", "Lyon", &["Lyon"], "FR", "Auvergne-Rhône-Alpes", ("6900#", r"69\d{3}"), OC, 33_472, 2),
        site("AMS", "Amsterdam", &["Amsterdam"], "NL", "Noord-Holland", ("10## @@", r"10\d{2} ?[A-Z]{2}"), DR, 31_205, 3),
        site("RTM", "Rotterdam", &["Rotterdam"], "NL", "Zuid-Holland", ("30## @@", r"30\d{2} ?[A-Z]{2}"), DR, 31_105, 1),
        site("MAD", "Madrid", &["Madrid"], "ES", "Comunidad de Madrid", ("280##", r"28\d{3}"), CP, 34_915, 3),
        site("BCN", "Barcelona", &["Barcelona"], "ES", "Cataluña", ("080##", r"08\d{3}"), CP, 34_932, 2),
        site("NYC", "New York", &["New York", "NYC", "New York City"], "US", "NY", ("100##", r"10[0-2]\d{2}"), OC, 12_125, 8),
        site("CHI", "Chicago", &["Chicago"], "US", "IL", ("606##", r"606\d{2}"), OC, 13_125, 4),
        site("DFW", "Dallas", &["Dallas", "Irving"], "US", "TX", ("752##", r"752\d{2}"), DR, 12_145, 3),
        site("SEA", "Seattle", &["Seattle", "Bellevue"], "US", "WA", ("981##", r"981\d{2}"), DR, 12_065, 3),
        site("BOS", "Boston", &["Boston"], "US", "MA", ("021##", r"02[12]\d{2}"), OC, 16_175, 2),
        site("ATL", "Atlanta", &["Atlanta"], "US", "GA", ("303##", r"303\d{2}"), DR, 14_045, 2),
        site("YYZ", "Toronto", &["Toronto"], "CA", "ON", ("M5V #@#", r"M\d[A-Z] ?\d[A-Z]\d"), CP, 14_165, 3),
        site("YVR", "Vancouver", &["Vancouver"], "CA", "BC", ("V6B #@#", r"V\d[A-Z] ?\d[A-Z]\d"), CP, 16_045, 1),
        site("SYD", "Sydney", &["Sydney"], "AU", "NSW", ("20##", r"2\d{3}"), OC, 61_292, 2),
        site("MEL", "Melbourne", &["Melbourne"], "AU", "VIC", ("30##", r"3\d{3}"), OC, 61_396, 1),
        site("SIN", "Singapore", &["Singapore"], "SG", "Singapore", ("01####", r"\d{6}"), DR, 6_563, 2),
        site("TYO", "Tokyo", &["Tokyo", "Minato-ku"], "JP", "Tokyo", ("1##-####", r"1\d{2}-\d{4}"), DR, 81_335, 2),
    ];

    /// Shared ranges: (name, kind, prefix).
    const SHARED: &[(&str, NumKind, u64)] = &[
        ("gb-sales", DR, 442_038),
        ("emea-contact-centre", DR, 443_300),
        ("us-sales", OC, 16_465),
        ("amer-contact-centre", OC, 18_885),
    ];

    fn country_name(cc: &str) -> &'static [&'static str] {
        match cc {
            "GB" => &["United Kingdom", "United Kingdom", "UK", "GB"],
            "IE" => &["Ireland", "Éire"],
            "DE" => &["Germany", "Deutschland"],
            "FR" => &["France"],
            "NL" => &["Netherlands", "Nederland"],
            "ES" => &["Spain", "España"],
            "US" => &["United States", "United States", "USA"],
            "CA" => &["Canada"],
            "AU" => &["Australia"],
            "SG" => &["Singapore"],
            _ => &["Japan"],
        }
    }

    fn company(cc: &str) -> &'static str {
        match cc {
            "GB" => "Northwind Traders Ltd",
            "IE" => "Northwind Traders Ireland DAC",
            "DE" => "Northwind Traders GmbH",
            "FR" => "Northwind Traders SAS",
            "NL" => "Northwind Traders B.V.",
            "ES" => "Northwind Traders S.L.",
            "US" => "Northwind Traders Inc.",
            "CA" => "Northwind Traders Canada Inc.",
            "AU" => "Northwind Traders Pty Ltd",
            "SG" => "Northwind Traders Pte. Ltd.",
            _ => "Northwind Traders K.K.",
        }
    }

    fn language(cc: &str) -> &'static str {
        match cc {
            "GB" => "en-GB",
            "IE" => "en-IE",
            "DE" => "de-DE",
            "FR" => "fr-FR",
            "NL" => "nl-NL",
            "ES" => "es-ES",
            "US" => "en-US",
            "CA" => "en-CA",
            "AU" => "en-AU",
            "SG" => "en-SG",
            _ => "ja-JP",
        }
    }

    fn slug(s: &str) -> String {
        fold(&s.replace(' ', "-").to_lowercase().replace("-", "_")).replace('_', "-")
    }

    fn site_persona(s: &Site) -> String {
        format!("{}-office", slug(s.city))
    }

    fn site_range(s: &Site) -> String {
        format!("{}-{}", s.country.to_lowercase(), slug(s.city))
    }

    /// Departments: (name, weight, titles). Titles with "Manager",
    /// "Supervisor" or "Director" are the ones the frontline and contact
    /// centre rules leave to the office personas.
    const DEPARTMENTS: &[(&str, u32, &[&str])] = &[
        (
            "Sales",
            12,
            &[
                "Account Executive",
                "Account Manager",
                "Senior Account Manager",
                "Sales Manager",
                "Business Development Representative",
                "Sales Director",
                "Inside Sales Representative",
            ],
        ),
        (
            "Engineering",
            14,
            &[
                "Software Engineer",
                "Senior Software Engineer",
                "Staff Engineer",
                "Engineering Manager",
                "QA Engineer",
                "DevOps Engineer",
                "Data Engineer",
            ],
        ),
        (
            "Finance",
            6,
            &[
                "Accountant",
                "Financial Analyst",
                "Accounts Payable Clerk",
                "Finance Manager",
                "Payroll Specialist",
                "Credit Controller",
            ],
        ),
        (
            "Human Resources",
            3,
            &[
                "HR Advisor",
                "HR Business Partner",
                "Recruiter",
                "HR Manager",
                "Learning & Development Specialist",
            ],
        ),
        (
            "Marketing",
            5,
            &[
                "Marketing Executive",
                "Content Writer",
                "Marketing Manager",
                "Brand Manager",
                "SEO Specialist",
                "Events Coordinator",
            ],
        ),
        (
            "IT",
            5,
            &[
                "Service Desk Analyst",
                "Systems Administrator",
                "Network Engineer",
                "IT Manager",
                "Security Analyst",
            ],
        ),
        (
            "Legal",
            2,
            &[
                "Legal Counsel",
                "Paralegal",
                "Company Secretary",
                "Compliance Officer",
            ],
        ),
        (
            "Operations",
            9,
            &[
                "Operations Analyst",
                "Operations Manager",
                "Supply Chain Planner",
                "Project Manager",
                "Buyer",
            ],
        ),
        (
            "Customer Service",
            10,
            &[
                "Customer Service Advisor",
                "Customer Service Advisor",
                "Senior Customer Service Advisor",
                "Team Leader",
                "Customer Service Manager",
            ],
        ),
        (
            "Warehouse",
            12,
            &[
                "Warehouse Operative",
                "Warehouse Operative",
                "Forklift Driver",
                "Picker / Packer",
                "Goods In Operative",
                "Shift Supervisor",
                "Warehouse Manager",
            ],
        ),
        (
            "Retail",
            8,
            &[
                "Store Assistant",
                "Store Assistant",
                "Cashier",
                "Stock Associate",
                "Store Manager",
                "Assistant Store Manager",
            ],
        ),
        (
            "Logistics",
            4,
            &[
                "Transport Planner",
                "Logistics Operative",
                "Driver",
                "Logistics Supervisor",
            ],
        ),
        (
            "Facilities",
            2,
            &[
                "Facilities Coordinator",
                "Receptionist",
                "Maintenance Technician",
                "Facilities Manager",
            ],
        ),
        (
            "Procurement",
            2,
            &["Procurement Specialist", "Category Manager", "Buyer"],
        ),
    ];

    const C_LEVEL: &[&str] = &[
        "Chief Executive Officer",
        "Chief Financial Officer",
        "Chief Operating Officer",
        "Chief Technology Officer",
        "Chief People Officer",
        "Chief Marketing Officer",
        "Chief Information Security Officer",
    ];

    // ----- personas ---------------------------------------------------------

    fn personas() -> Vec<PersonaDef> {
        use NumberRule::*;
        let r = |names: &[&str]| Ranges(names.iter().map(|s| s.to_string()).collect());
        let mut out = vec![
            PersonaDef::new(
                "exec",
                "Executive leadership, every office: numbers kept as they are",
                &[
                    ("TeamsCallingPolicy", "Exec-Delegation"),
                    ("TeamsMeetingPolicy", "Executive"),
                    ("CallingLineIdentity", "Global"),
                ],
                Unmanaged,
            ),
            PersonaDef::new(
                "contractor",
                "Contractors and agency staff",
                &[
                    ("TeamsMeetingPolicy", "External-Restricted"),
                    ("ExternalAccessPolicy", "NoFederation"),
                    ("TeamsCallingPolicy", "Global"),
                ],
                Unmanaged,
            ),
            PersonaDef::new(
                "intern",
                "Interns and apprentices: Teams calling only, no number",
                &[
                    ("TeamsCallingPolicy", "DisallowCalling"),
                    ("TeamsMeetingPolicy", "Standard"),
                    ("TeamsMessagingPolicy", "Interns"),
                ],
                Forbidden,
            ),
            PersonaDef::new(
                "shared-devices",
                "Meeting rooms and common area phones",
                &[
                    ("TeamsIPPhonePolicy", "CommonAreaPhone"),
                    ("TeamsCallingPolicy", "CommonAreaPhone"),
                    ("TeamsMeetingPolicy", "MeetingRoom"),
                ],
                Unmanaged,
            ),
            PersonaDef::new(
                "it-admins",
                "Teams administrators: preview builds, every app",
                &[
                    ("TeamsAppPermissionPolicy", "IT-AllApps"),
                    ("TeamsUpdateManagementPolicy", "Preview"),
                    ("TeamsAppSetupPolicy", "IT-Admins"),
                ],
                Unmanaged,
            ),
            PersonaDef::new(
                "frontline",
                "Warehouse, retail and logistics floor staff: Shifts, no number",
                &[
                    ("TeamsCallingPolicy", "DisallowCalling"),
                    ("OnlineVoiceRoutingPolicy", "Global"),
                    ("TeamsAppSetupPolicy", "Frontline"),
                    ("TeamsShiftsPolicy", "Frontline-Shifts"),
                    ("TeamsMeetingPolicy", "Frontline"),
                ],
                Forbidden,
            ),
            PersonaDef::new(
                "cc-emea",
                "Contact centre agents in Europe",
                &[
                    ("TeamsCallingPolicy", "ContactCentre"),
                    ("TeamsCallParkPolicy", "ContactCentre-Park"),
                    ("OnlineVoiceRoutingPolicy", "GB-National"),
                    ("TeamsMeetingPolicy", "Global"),
                ],
                r(&["emea-contact-centre"]),
            ),
            PersonaDef::new(
                "cc-amer",
                "Contact centre agents in the Americas",
                &[
                    ("TeamsCallingPolicy", "ContactCentre"),
                    ("TeamsCallParkPolicy", "ContactCentre-Park"),
                    ("TeamsMeetingPolicy", "Global"),
                    ("TeamsEmergencyCallingPolicy", "US-Emergency-Notify"),
                ],
                r(&["amer-contact-centre"]),
            ),
            PersonaDef::new(
                "sales-gb",
                "UK sales: international dialling, sales hunt group caller id",
                &[
                    ("TeamsCallingPolicy", "AllowCalling"),
                    ("OnlineVoiceRoutingPolicy", "GB-International"),
                    ("TenantDialPlan", "GB-London"),
                    ("TeamsMeetingPolicy", "Sales Meetings"),
                    ("CallingLineIdentity", "Sales-Hunt-Group-GB"),
                ],
                r(&["gb-sales", "gb-london"]),
            ),
            PersonaDef::new(
                "sales-us",
                "US sales",
                &[
                    ("TeamsCallingPolicy", "AllowCalling"),
                    ("TenantDialPlan", "US-New-York"),
                    ("TeamsMeetingPolicy", "Sales Meetings"),
                    ("CallingLineIdentity", "Sales-Hunt-Group-US"),
                ],
                r(&["us-sales"]),
            ),
        ];
        for s in SITES {
            let mut policies: Vec<(&str, String)> = vec![
                ("TeamsCallingPolicy", "AllowCalling".into()),
                (
                    "OnlineVoiceRoutingPolicy",
                    if s.kind == DR {
                        format!("{}-National", s.country)
                    } else {
                        "Global".into()
                    },
                ),
                (
                    "TenantDialPlan",
                    format!("{}-{}", s.country, s.city.replace(' ', "-")),
                ),
                (
                    "TeamsMeetingPolicy",
                    if s.country == "DE" {
                        "DE-NoRecording".into()
                    } else {
                        "Standard".into()
                    },
                ),
            ];
            if matches!(s.country, "US" | "CA") {
                policies.push((
                    "TeamsEmergencyCallingPolicy",
                    format!("{}-Emergency-Notify", s.country),
                ));
            }
            let policies: Vec<(&str, &str)> =
                policies.iter().map(|(t, n)| (*t, n.as_str())).collect();
            out.push(PersonaDef::new(
                &site_persona(s),
                &format!("{} office ({})", s.city, s.kind.manifest()),
                &policies,
                r(&[&site_range(s)]),
            ));
        }
        out
    }

    fn catalog(personas: &[PersonaDef]) -> Catalog {
        let extra: &[(&str, &[&str])] = &[
            (
                "TeamsCallingPolicy",
                &["AllowCallingPreventTollBypass", "Legacy-SfB-Interop"],
            ),
            ("OnlineVoiceRoutingPolicy", &["Legacy-SBC", "Unrestricted"]),
            (
                "TeamsMeetingPolicy",
                &["AllOn", "RestrictedAnonymousAccess", "Webinar-Hosts"],
            ),
            ("CallingLineIdentity", &["Anonymous"]),
            ("TeamsAppSetupPolicy", &["FirstLineWorker"]),
            ("ExternalAccessPolicy", &["FederationOnly"]),
            ("TeamsMessagingPolicy", &["NoGiphy", "RestrictedChat"]),
        ];
        catalog_of(personas, extra)
    }

    // ----- people -----------------------------------------------------------

    struct Person {
        user: User,
        site: usize,
        persona: Option<String>,
        in_scope: bool,
        in_site_group: bool,
    }

    fn expand(rng: &mut Rng, template: &str) -> String {
        template
            .chars()
            .map(|c| match c {
                '#' => char::from(b'0' + rng.below(10) as u8),
                '@' => char::from(b'A' + rng.below(26) as u8),
                c => c,
            })
            .collect()
    }

    fn make_person(rng: &mut Rng, upns: &mut Upns, si: usize) -> Person {
        let s = &SITES[si];
        let (givens, surnames) = names_for(s.country);
        let given = *rng.pick(givens);
        let surname = *rng.pick(surnames);
        let weights: Vec<u32> = DEPARTMENTS.iter().map(|d| d.1).collect();
        let (dept, _, titles) = DEPARTMENTS[rng.weighted(&weights)];
        let mut title = rng.pick(titles).to_string();
        let mut employee_type = "Employee";
        let mut domain = DOMAIN;
        let mut employee_id = Some(format!("{}{}", s.code, rng.digits(6)));
        let kind = rng.below(1000);
        let mut upn_prefix = None;
        match kind {
            0..=1 => title = rng.pick(C_LEVEL).to_string(),
            2..=41 => employee_type = *rng.pick(&["Contractor", "Contractor", "Agency", "Vendor"]),
            42..=51 => {
                domain = PARTNERS;
                employee_type = "External";
            }
            52..=61 => {
                employee_type = "External";
                employee_id = Some(format!("C-{}", rng.digits(5)));
            }
            62..=76 => {
                employee_type = *rng.pick(&["Intern", "Apprentice"]);
                title = format!("{dept} Intern");
            }
            77..=86 => upn_prefix = Some(*rng.pick(&["room", "cap"])),
            _ => {}
        }
        let upn = match upn_prefix {
            Some(p) => {
                let name = format!("{p}-{}-{}", s.code.to_lowercase(), rng.digits(4));
                upns.make(&name, "", domain).replace(".@", "@")
            }
            None => upns.make(given, surname, domain),
        };
        let room = upn_prefix.is_some();
        let display = if room {
            format!(
                "{} {} {}",
                s.city,
                if upn.starts_with("room") {
                    "Meeting Room"
                } else {
                    "Common Area Phone"
                },
                rng.digits(3)
            )
        } else {
            format!("{given} {surname}")
        };
        let mut ext_attrs = Vec::new();
        // Site signals: each present with its own probability; a few
        // people have none at all (no rule can place them).
        let orphan = rng.chance(0.008);
        let p = |rng: &mut Rng, x: f64| !orphan && rng.chance(x);
        let office = p(rng, 0.80).then(|| {
            format!(
                "{}-{}-{}",
                s.country,
                s.code,
                rng.pick(&["HQ", "Campus", "Tower", "Floor 3", "Building A"])
            )
        });
        let mut city = p(rng, 0.85).then(|| rng.pick(s.variants).to_string());
        if city.is_some() && rng.chance(0.01) {
            // A typo: the city no longer matches; other signals may.
            city = Some(format!("{}x", s.city));
        }
        let postal = p(rng, 0.75).then(|| expand(rng, s.postcode.0));
        let state = p(rng, 0.5).then(|| s.state.to_string());
        if p(rng, 0.7) {
            ext_attrs.push((1, format!("CC-{}-{}", s.code, rng.digits(3))));
        }
        if p(rng, 0.3) {
            ext_attrs.push((3, format!("PBX:{}:{}", s.code, rng.digits(4))));
        }
        if office.is_none() && p(rng, 0.3) {
            ext_attrs.push((5, s.code.to_string()));
            ext_attrs.push((2, "HomeWorker".to_string()));
        }
        if orphan || rng.chance(0.05) {
            employee_id = employee_id.filter(|id| id.starts_with("C-"));
        }
        if rng.chance(0.2) {
            ext_attrs.push((10, rng.pick(&["Workday", "SAP SuccessFactors"]).to_string()));
        }
        let in_site_group = p(rng, 0.85);
        let usage = (!rng.chance(0.015)).then(|| s.country.to_string());
        let frontline = matches!(dept, "Warehouse" | "Retail" | "Logistics");
        let user = User {
            id: rng.uuid(),
            user_principal_name: upn.clone(),
            display_name: display,
            given_name: (!room).then(|| given.to_string()),
            surname: (!room).then(|| surname.to_string()),
            mail: Some(upn.clone()),
            account_enabled: !rng.chance(0.03),
            job_title: (!room).then(|| mess(rng, &title, 0.03)),
            department: (!room).then(|| mess(rng, dept, 0.05)),
            company_name: Some(mess(rng, company(s.country), 0.02)),
            employee_type: (!room).then(|| employee_type.to_string()),
            employee_id: employee_id.filter(|_| !room),
            office_location: office.map(|o| mess(rng, &o, 0.04)),
            city: city.map(|c| mess(rng, &c, 0.1)),
            state,
            country: Some(rng.pick(country_name(s.country)).to_string()),
            postal_code: postal,
            usage_location: usage.clone(),
            preferred_language: rng.chance(0.9).then(|| language(s.country).to_string()),
            on_premises_extension_attributes: ext(&ext_attrs),
            assigned_licenses: licenses(if room {
                LicenceKind::Room
            } else if frontline {
                LicenceKind::Frontline
            } else {
                LicenceKind::Phone
            }),
        };
        Person {
            user,
            site: si,
            persona: None,
            in_scope: usage.is_some(),
            in_site_group,
        }
    }

    fn norm(v: &Option<String>) -> String {
        v.as_deref().unwrap_or("").trim().to_lowercase()
    }

    /// The persona the rules give (mirrors rules/000-global.kdl and the
    /// per-site rules; checked by planning the result).
    fn persona_of(p: &Person, in_elt: bool, in_admins: bool) -> Option<String> {
        let u = &p.user;
        let s = &SITES[p.site];
        let title = norm(&u.job_title);
        let dept = norm(&u.department);
        let et = norm(&u.employee_type);
        let upn = u.user_principal_name.to_lowercase();
        let eid = norm(&u.employee_id);
        let contractor_id = eid.strip_prefix('c').is_some_and(|r| {
            let r = r.strip_prefix('-').unwrap_or(r);
            r.len() == 5 && r.bytes().all(|b| b.is_ascii_digit())
        });
        let usage = u.usage_location.as_deref().unwrap_or("");
        let role = if in_elt || (title.starts_with("chief ") && title.ends_with(" officer")) {
            Some("exec")
        } else if matches!(et.as_str(), "contractor" | "agency" | "vendor")
            || upn.ends_with(&format!("@{PARTNERS}"))
            || contractor_id
        {
            Some("contractor")
        } else if matches!(et.as_str(), "intern" | "apprentice") {
            Some("intern")
        } else if upn.starts_with("room-") || upn.starts_with("cap-") {
            Some("shared-devices")
        } else if in_admins {
            Some("it-admins")
        } else if matches!(dept.as_str(), "warehouse" | "retail" | "logistics")
            && !title.contains("manager")
            && !title.contains("supervisor")
        {
            Some("frontline")
        } else if dept == "customer service" && !title.contains("manager") && EMEA.contains(&usage)
        {
            Some("cc-emea")
        } else if dept == "customer service"
            && !title.contains("manager")
            && matches!(usage, "US" | "CA")
        {
            Some("cc-amer")
        } else if usage == "GB" && dept == "sales" {
            Some("sales-gb")
        } else if usage == "US" && dept == "sales" {
            Some("sales-us")
        } else {
            None
        };
        if let Some(r) = role {
            return Some(r.to_string());
        }
        let ext = |i: u8| {
            u.on_premises_extension_attributes
                .get(&format!("extensionAttribute{i}"))
                .cloned()
                .flatten()
                .map(|v| v.trim().to_lowercase())
                .unwrap_or_default()
        };
        let code = s.code.to_lowercase();
        let city_ok = s.variants.iter().any(|v| v.to_lowercase() == norm(&u.city));
        let signal = norm(&u.office_location)
            .starts_with(&format!("{}-{code}", s.country.to_lowercase()))
            || city_ok
            || u.postal_code.is_some()
            || p.in_site_group
            || (ext(5) == code && u.office_location.is_none())
            || ext(1).starts_with(&format!("cc-{code}-"))
            || ext(3).contains(&format!(":{code}:"))
            || (u.state.is_some() && u.company_name.is_some())
            || eid.starts_with(&code);
        signal.then(|| site_persona(s))
    }

    // ----- manifests --------------------------------------------------------

    enum OpVal {
        Str(String),
        Bool(bool),
    }

    enum Cond {
        Attr(&'static str, Vec<String>, Vec<(&'static str, OpVal)>),
        All(Vec<Cond>),
        Any(Vec<Cond>),
        Not(Vec<Cond>),
    }

    fn eq(attr: &'static str, values: &[&str]) -> Cond {
        Cond::Attr(
            attr,
            values.iter().map(|s| s.to_string()).collect(),
            Vec::new(),
        )
    }

    fn op(attr: &'static str, op: &'static str, v: &str) -> Cond {
        Cond::Attr(attr, Vec::new(), vec![(op, OpVal::Str(v.to_string()))])
    }

    fn exists(attr: &'static str, b: bool) -> Cond {
        Cond::Attr(attr, Vec::new(), vec![("exists", OpVal::Bool(b))])
    }

    struct RuleDef {
        name: String,
        persona: String,
        description: Option<String>,
        when: Vec<Cond>,
    }

    fn rule(name: &str, persona: &str, description: Option<&str>, when: Vec<Cond>) -> RuleDef {
        RuleDef {
            name: name.into(),
            persona: persona.into(),
            description: description.map(str::to_string),
            when,
        }
    }

    fn kdl_str(s: &str) -> String {
        if s.contains('\\') && !s.contains("\"#") {
            format!("#\"{s}\"#")
        } else {
            format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
        }
    }

    fn toml_str(s: &str) -> String {
        if s.contains('\\') && !s.contains('\'') {
            format!("'{s}'")
        } else {
            format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
        }
    }

    fn kdl_cond(out: &mut String, c: &Cond, indent: usize) {
        let pad = " ".repeat(indent);
        match c {
            Cond::Attr(name, values, ops) => {
                let _ = write!(out, "{pad}{name}");
                for v in values {
                    let _ = write!(out, " {}", kdl_str(v));
                }
                for (k, v) in ops {
                    match v {
                        OpVal::Str(s) => {
                            let _ = write!(out, " {k}={}", kdl_str(s));
                        }
                        OpVal::Bool(b) => {
                            let _ = write!(out, " {k}=#{b}");
                        }
                    }
                }
                out.push('\n');
            }
            Cond::All(cs) | Cond::Any(cs) | Cond::Not(cs) => {
                let kw = match c {
                    Cond::All(_) => "all",
                    Cond::Any(_) => "any",
                    _ => "not",
                };
                let _ = writeln!(out, "{pad}{kw} {{");
                for c in cs {
                    kdl_cond(out, c, indent + 4);
                }
                let _ = writeln!(out, "{pad}}}");
            }
        }
    }

    /// One condition as a TOML `key = value` (inline).
    fn toml_cond(c: &Cond) -> String {
        match c {
            Cond::Attr(name, values, ops) => {
                let vals = || {
                    if values.len() == 1 {
                        toml_str(&values[0])
                    } else {
                        format!(
                            "[{}]",
                            values
                                .iter()
                                .map(|v| toml_str(v))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    }
                };
                if ops.is_empty() {
                    format!("{name} = {}", vals())
                } else {
                    let mut parts = Vec::new();
                    if !values.is_empty() {
                        parts.push(format!("equals = {}", vals()));
                    }
                    for (k, v) in ops {
                        parts.push(match v {
                            OpVal::Str(s) => format!("{k} = {}", toml_str(s)),
                            OpVal::Bool(b) => format!("{k} = {b}"),
                        });
                    }
                    format!("{name} = {{ {} }}", parts.join(", "))
                }
            }
            Cond::Any(cs) => format!(
                "any = [{}]",
                cs.iter()
                    .map(|c| format!("{{ {} }}", toml_cond(c)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Cond::All(cs) => format!(
                "all = {{ {} }}",
                cs.iter().map(toml_cond).collect::<Vec<_>>().join(", ")
            ),
            Cond::Not(cs) => format!(
                "not = {{ {} }}",
                cs.iter().map(toml_cond).collect::<Vec<_>>().join(", ")
            ),
        }
    }

    fn write_rules(rules: &[RuleDef], kdl: bool, header: &str) -> String {
        let mut out = String::new();
        let comment = if kdl { "//" } else { "#" };
        for line in header.lines() {
            let _ = writeln!(out, "{comment} {line}");
        }
        for r in rules {
            out.push('\n');
            if kdl {
                let _ = writeln!(
                    out,
                    "rule {} persona={} {{",
                    kdl_str(&r.name),
                    kdl_str(&r.persona)
                );
                if let Some(d) = &r.description {
                    let _ = writeln!(out, "    description {}", kdl_str(d));
                }
                if !r.when.is_empty() {
                    out.push_str("    when {\n");
                    for c in &r.when {
                        kdl_cond(&mut out, c, 8);
                    }
                    out.push_str("    }\n");
                }
                out.push_str("}\n");
            } else {
                out.push_str("[[rule]]\n");
                let _ = writeln!(out, "name = {}", toml_str(&r.name));
                let _ = writeln!(out, "persona = {}", toml_str(&r.persona));
                if let Some(d) = &r.description {
                    let _ = writeln!(out, "description = {}", toml_str(d));
                }
                if !r.when.is_empty() {
                    out.push_str("[rule.when]\n");
                    for c in &r.when {
                        let _ = writeln!(out, "{}", toml_cond(c));
                    }
                }
            }
        }
        out
    }

    fn write_personas(personas: &[PersonaDef], kdl: bool, header: &str) -> String {
        let mut out = String::new();
        let comment = if kdl { "//" } else { "#" };
        for line in header.lines() {
            let _ = writeln!(out, "{comment} {line}");
        }
        for p in personas {
            out.push('\n');
            let name = |n: &Option<String>| n.clone().unwrap_or_else(|| "Global".into());
            if kdl {
                let _ = writeln!(out, "persona {} {{", kdl_str(&p.name));
                let _ = writeln!(out, "    description {}", kdl_str(&p.description));
                out.push_str("    policies {\n");
                for (t, n) in &p.policies {
                    let _ = writeln!(out, "        {t} {}", kdl_str(&name(n)));
                }
                out.push_str("    }\n");
                match &p.number {
                    NumberRule::Unmanaged => {}
                    NumberRule::Forbidden => out.push_str("    number #false\n"),
                    NumberRule::Ranges(r) => {
                        let names: Vec<String> = r.iter().map(|n| kdl_str(n)).collect();
                        let _ = writeln!(out, "    number {}", names.join(" "));
                    }
                }
                out.push_str("}\n");
            } else {
                let _ = writeln!(out, "[persona.{}]", p.name);
                let _ = writeln!(out, "description = {}", toml_str(&p.description));
                match &p.number {
                    NumberRule::Unmanaged => {}
                    NumberRule::Forbidden => out.push_str("number = false\n"),
                    NumberRule::Ranges(r) => {
                        let names: Vec<String> = r.iter().map(|n| toml_str(n)).collect();
                        let _ = writeln!(out, "number = [{}]", names.join(", "));
                    }
                }
                let _ = writeln!(out, "[persona.{}.policies]", p.name);
                for (t, n) in &p.policies {
                    let _ = writeln!(out, "{t} = {}", toml_str(&name(n)));
                }
            }
        }
        out
    }

    fn write_ranges(pools: &[&Pool], kdl: bool, header: &str) -> String {
        let mut out = String::new();
        let comment = if kdl { "//" } else { "#" };
        for line in header.lines() {
            let _ = writeln!(out, "{comment} {line}");
        }
        for p in pools {
            out.push('\n');
            if kdl {
                let _ = writeln!(
                    out,
                    "range {} type={} location={} {{",
                    kdl_str(&p.name),
                    kdl_str(p.kind.manifest()),
                    kdl_str(&p.location)
                );
                for (a, b) in &p.blocks {
                    let _ = writeln!(out, "    block \"{}\" \"{}\"", e164(*a), e164(*b));
                }
                let reserve: Vec<String> = p
                    .reserved
                    .iter()
                    .map(|r| format!("\"{}\"", e164(*r)))
                    .collect();
                for chunk in reserve.chunks(5) {
                    let _ = writeln!(out, "    reserve {}", chunk.join(" "));
                }
                out.push_str("}\n");
            } else {
                let _ = writeln!(out, "[range.{}]", p.name);
                let _ = writeln!(out, "type = \"{}\"", p.kind.manifest());
                let _ = writeln!(out, "location = \"{}\"", p.location);
                let blocks: Vec<String> = p
                    .blocks
                    .iter()
                    .map(|(a, b)| format!("[\"{}\", \"{}\"]", e164(*a), e164(*b)))
                    .collect();
                let _ = writeln!(out, "blocks = [\n  {},\n]", blocks.join(",\n  "));
                let reserve: Vec<String> = p
                    .reserved
                    .iter()
                    .map(|r| format!("\"{}\"", e164(*r)))
                    .collect();
                let lines: Vec<String> = reserve.chunks(5).map(|c| c.join(", ")).collect();
                let _ = writeln!(out, "reserve = [\n  {},\n]", lines.join(",\n  "));
            }
        }
        out
    }

    fn global_rules() -> Vec<RuleDef> {
        vec![
            rule(
                "Executive leadership",
                "exec",
                Some("ELT members; the Board group is nested inside"),
                vec![eq("memberOf", &["SG-Executive-Leadership"])],
            ),
            rule(
                "C-level titles",
                "exec",
                None,
                vec![Cond::Attr(
                    "jobTitle",
                    Vec::new(),
                    vec![
                        ("starts-with", OpVal::Str("Chief ".into())),
                        ("ends-with", OpVal::Str(" Officer".into())),
                    ],
                )],
            ),
            rule(
                "Contractors by employee type",
                "contractor",
                None,
                vec![eq("employeeType", &["Contractor", "Agency", "Vendor"])],
            ),
            rule(
                "Partner accounts",
                "contractor",
                None,
                vec![op(
                    "userPrincipalName",
                    "ends-with",
                    &format!("@{PARTNERS}"),
                )],
            ),
            rule(
                "Contractor employee ids",
                "contractor",
                Some("HR gives contractors C-prefixed ids"),
                vec![op("employeeId", "matches", r"C-?\d{5}")],
            ),
            rule(
                "Interns and apprentices",
                "intern",
                None,
                vec![eq("employeeType", &["Intern", "Apprentice"])],
            ),
            rule(
                "Meeting rooms and common area phones",
                "shared-devices",
                None,
                vec![Cond::Any(vec![
                    op("userPrincipalName", "starts-with", "room-"),
                    op("userPrincipalName", "starts-with", "cap-"),
                ])],
            ),
            rule(
                "Teams administrators",
                "it-admins",
                None,
                vec![eq("memberOf", &["SG-Teams-Admins"])],
            ),
            rule(
                "Frontline floor staff",
                "frontline",
                Some("Managers and supervisors keep a desk phone"),
                vec![
                    eq("department", &["Warehouse", "Retail", "Logistics"]),
                    Cond::Not(vec![Cond::Any(vec![
                        op("jobTitle", "contains", "manager"),
                        op("jobTitle", "contains", "supervisor"),
                    ])]),
                ],
            ),
            rule(
                "Contact centre Europe",
                "cc-emea",
                None,
                vec![
                    eq("department", &["Customer Service"]),
                    eq("usageLocation", EMEA),
                    Cond::Not(vec![op("jobTitle", "contains", "manager")]),
                ],
            ),
            rule(
                "Contact centre Americas",
                "cc-amer",
                None,
                vec![
                    eq("department", &["Customer Service"]),
                    eq("usageLocation", &["US", "CA"]),
                    Cond::Not(vec![op("jobTitle", "contains", "manager")]),
                ],
            ),
            rule(
                "Sales UK",
                "sales-gb",
                None,
                vec![eq("usageLocation", &["GB"]), eq("department", &["Sales"])],
            ),
            rule(
                "Sales US",
                "sales-us",
                None,
                vec![eq("usageLocation", &["US"]), eq("department", &["Sales"])],
            ),
        ]
    }

    /// Nine rules per office, each on another attribute, most confident
    /// first: every operator, nesting, and memberOf.
    fn site_rules(s: &Site) -> Vec<RuleDef> {
        let persona = site_persona(s);
        let c = s.city;
        let code = s.code;
        let cc = s.country;
        let mut variants: Vec<&str> = s.variants.to_vec();
        variants.sort_unstable();
        vec![
            rule(
                &format!("{c}: office location"),
                &persona,
                None,
                vec![op("officeLocation", "starts-with", &format!("{cc}-{code}"))],
            ),
            rule(
                &format!("{c}: city"),
                &persona,
                None,
                vec![eq("usageLocation", &[cc]), eq("city", &variants)],
            ),
            rule(
                &format!("{c}: postcode"),
                &persona,
                Some("For records with neither office nor city"),
                vec![
                    eq("usageLocation", &[cc]),
                    op("postalCode", "matches", s.postcode.1),
                ],
            ),
            rule(
                &format!("{c}: all-staff group"),
                &persona,
                None,
                vec![eq("memberOf", &[&format!("All Staff - {c}")])],
            ),
            rule(
                &format!("{c}: home workers"),
                &persona,
                Some("Home workers carry their office code in extensionAttribute5"),
                vec![
                    eq("extensionAttribute5", &[code]),
                    exists("officeLocation", false),
                ],
            ),
            rule(
                &format!("{c}: cost centre"),
                &persona,
                None,
                vec![op(
                    "extensionAttribute1",
                    "starts-with",
                    &format!("CC-{code}-"),
                )],
            ),
            rule(
                &format!("{c}: legacy PBX"),
                &persona,
                None,
                vec![op("extensionAttribute3", "contains", &format!(":{code}:"))],
            ),
            rule(
                &format!("{c}: company and region"),
                &persona,
                None,
                vec![Cond::All(vec![
                    eq("companyName", &[company(cc)]),
                    Cond::Any(vec![eq("city", &variants), eq("state", &[s.state])]),
                ])],
            ),
            rule(
                &format!("{c}: employee id"),
                &persona,
                None,
                vec![op("employeeId", "matches", &format!(r"{code}\d{{6}}"))],
            ),
        ]
    }

    // ----- the run ----------------------------------------------------------

    pub fn run(n: usize, out: &Path, seed: u64, drift: f64) -> Result<()> {
        let mut rng = Rng::new(seed);
        let tenant_id = rng.uuid();
        let personas = personas();
        let catalog = catalog(&personas);
        let by_name: HashMap<String, &PersonaDef> =
            personas.iter().map(|p| (p.name.clone(), p)).collect();

        // Pass 1: people, groups, and the persona each will get.
        let mut upns = Upns(HashSet::with_capacity(n));
        let weights: Vec<u32> = SITES.iter().map(|s| s.weight).collect();
        let mut people: Vec<Person> = (0..n)
            .map(|_| {
                let si = rng.weighted(&weights);
                make_person(&mut rng, &mut upns, si)
            })
            .collect();
        let mut elt = HashSet::new();
        let mut admins = HashSet::new();
        for (i, p) in people.iter().enumerate() {
            let title = norm(&p.user.job_title);
            if title.starts_with("chief ") || (title.contains("director") && rng.chance(0.05)) {
                elt.insert(i);
            }
            if norm(&p.user.department) == "it"
                && norm(&p.user.employee_type) == "employee"
                && rng.chance(0.04)
            {
                admins.insert(i);
            }
        }
        for (i, p) in people.iter_mut().enumerate() {
            p.persona = persona_of(p, elt.contains(&i), admins.contains(&i));
        }

        // Overrides: a lead per office pinned to its reserved number, a few
        // persona overrides, ignored rooms, and one stale entry.
        let mut leads: Vec<Option<usize>> = vec![None; SITES.len()];
        for (i, p) in people.iter().enumerate() {
            if p.in_scope
                && p.user.account_enabled
                && leads[p.site].is_none()
                && p.persona.as_deref() == Some(site_persona(&SITES[p.site]).as_str())
            {
                leads[p.site] = Some(i);
            }
        }
        let promoted: Vec<usize> = (0..n)
            .filter(|i| people[*i].in_scope && i % 9973 == 17 && !leads.contains(&Some(*i)))
            .collect();
        let ignored: Vec<usize> = (0..n)
            .filter(|i| people[*i].user.user_principal_name.starts_with("cap-"))
            .take(5)
            .collect();

        // Ranges sized for the demand (half as much again, in blocks).
        let mut demand: HashMap<String, u64> = HashMap::new();
        for (i, p) in people.iter().enumerate() {
            let persona = if promoted.contains(&i) {
                Some("exec")
            } else {
                p.persona.as_deref()
            };
            let first = persona.and_then(|name| by_name[name].first_range());
            let range = match first {
                Some(r) => r.to_string(),
                None => site_range(&SITES[p.site]),
            };
            *demand.entry(range).or_default() += 1;
        }
        let mut pools: Vec<Pool> = Vec::new();
        let ranges: Vec<(String, NumKind, u64, &'static str)> = SITES
            .iter()
            .map(|s| (site_range(s), s.kind, s.prefix, s.country_iso()))
            .chain(SHARED.iter().map(|(name, kind, prefix)| {
                (
                    name.to_string(),
                    *kind,
                    *prefix,
                    if name.starts_with("us") || name.starts_with("amer") {
                        "US"
                    } else {
                        "GB"
                    },
                )
            }))
            .collect();
        for (name, kind, prefix, iso) in ranges {
            let want = demand.get(&name).copied().unwrap_or(0) * 3 / 2 + 200;
            let block = if want <= 5_000 { 1_000 } else { 10_000 };
            let count = want.div_ceil(block);
            let base = prefix * 1_000_000;
            let blocks: Vec<(u64, u64)> = (0..count)
                .map(|b| (base + b * block, base + (b + 1) * block - 1))
                .collect();
            let reserved: Vec<u64> = (0..10).map(|r| base + r).collect();
            pools.push(Pool::new(&name, kind, &rng.uuid(), iso, blocks, reserved));
        }
        let pool_index: HashMap<String, usize> = pools
            .iter()
            .enumerate()
            .map(|(i, p)| (p.name.clone(), i))
            .collect();
        let mut ngen = StateGen {
            tenant_id: tenant_id.clone(),
            catalog: &catalog,
            pools,
            pool_index,
            outside_base: vec![442_079_470_000, 12_125_559_000, 49_302_312_000],
            outside_next: 0,
            numbers: Vec::new(),
        };
        let mut snap = Snapshot {
            format_version: 1,
            tenant_id: tenant_id.clone(),
            ..Snapshot::default()
        };
        for (t, names) in &catalog {
            for name in names {
                snap.add_policy(&mut rng, t, name);
            }
        }

        // Resource accounts (auto attendants) on the first non-pin reserved
        // number of every range.
        for i in 0..ngen.pools.len() {
            let aa = rng.uuid();
            let d = ngen.pools[i].blocks[0].0 + 1;
            ngen.pools[i].take_exact(d);
            ngen.hold(i, d, Holder::VoiceApp(&aa));
        }

        // Pass 2: the live Teams state of each person.
        let lead_of: HashMap<usize, usize> = leads
            .iter()
            .enumerate()
            .filter_map(|(s, l)| l.map(|l| (l, s)))
            .collect();
        for (i, p) in people.iter().enumerate() {
            let id = p.user.id.clone();
            if let Some(&si) = lead_of.get(&i) {
                let range = site_range(&SITES[si]);
                let pi = ngen.pool_index[&range];
                if rng.chance(0.5) {
                    let d = ngen.pools[pi].blocks[0].0;
                    ngen.pools[pi].take_exact(d);
                    ngen.hold(pi, d, Holder::User(&id));
                    let persona = by_name[p.persona.as_deref().unwrap_or_default()];
                    ngen.settle(&mut rng, &mut snap, &id, persona, Drift::NoNumber);
                    continue;
                }
            }
            match (&p.persona, p.in_scope) {
                (Some(name), true) if !ignored.contains(&i) => {
                    let drift = if p.user.account_enabled {
                        pick_drift(&mut rng, drift)
                    } else {
                        Drift::Settled
                    };
                    ngen.settle(&mut rng, &mut snap, &id, by_name[name.as_str()], drift);
                }
                _ => {
                    if rng.chance(0.5) {
                        snap.assign(&id, "TeamsMeetingPolicy", "Standard");
                    }
                    if rng.chance(0.3) {
                        ngen.hold_from(&mut rng, &site_range(&SITES[p.site]), &id);
                    }
                }
            }
        }
        ngen.inventory(&mut rng, &HashMap::new());
        snap.number_assignments = std::mem::take(&mut ngen.numbers);

        // Groups: All Staff > country > office; departments; leadership
        // (Board nested in ELT); Teams admins; project teams (nested).
        let mut group_members: Vec<(String, Vec<String>)> = Vec::new();
        let mut site_groups = Vec::new();
        let mut countries: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for s in SITES {
            let id = rng.uuid();
            let members: Vec<String> = people
                .iter()
                .filter(|p| SITES[p.site].code == s.code && p.in_site_group)
                .map(|p| p.user.id.clone())
                .collect();
            snap.groups.push(Group {
                id: id.clone(),
                display_name: format!("All Staff - {}", s.city),
                members,
            });
            countries.entry(s.country).or_default().push(id.clone());
            site_groups.push(id);
        }
        let mut country_ids = Vec::new();
        for (cc, ids) in countries {
            let id = rng.uuid();
            snap.groups.push(Group {
                id: id.clone(),
                display_name: format!("All Staff - {}", country_name(cc)[0]),
                members: ids,
            });
            country_ids.push(id);
        }
        snap.groups.push(Group {
            id: rng.uuid(),
            display_name: "All Staff".into(),
            members: country_ids,
        });
        let mut depts: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for p in &people {
            if let Some(d) = &p.user.department {
                depts
                    .entry(d.trim().to_string())
                    .or_default()
                    .push(p.user.id.clone());
            }
        }
        for (d, members) in depts {
            group_members.push((format!("Dept - {d}"), members));
        }
        let mut elt: Vec<usize> = elt.into_iter().collect();
        elt.sort_unstable();
        let (board, rest) = elt.split_at(elt.len().min(3));
        let board_id = rng.uuid();
        snap.groups.push(Group {
            id: board_id.clone(),
            display_name: "SG-Board".into(),
            members: board.iter().map(|i| people[*i].user.id.clone()).collect(),
        });
        let mut elt_members: Vec<String> =
            rest.iter().map(|i| people[*i].user.id.clone()).collect();
        elt_members.push(board_id);
        group_members.push(("SG-Executive-Leadership".into(), elt_members));
        let mut admins: Vec<usize> = admins.into_iter().collect();
        admins.sort_unstable();
        group_members.push((
            "SG-Teams-Admins".into(),
            admins.iter().map(|i| people[*i].user.id.clone()).collect(),
        ));
        for (name, members) in group_members {
            snap.groups.push(Group {
                id: rng.uuid(),
                display_name: name,
                members,
            });
        }
        let projects = (n / 500).max(4);
        let mut project_ids: Vec<String> = Vec::new();
        for k in 0..projects {
            let size = 10 + rng.below(150);
            let mut members: Vec<String> = (0..size)
                .map(|_| people[rng.below(n)].user.id.clone())
                .collect();
            members.sort();
            members.dedup();
            if !project_ids.is_empty() && rng.chance(0.3) {
                members.push(rng.pick(&project_ids).clone());
            }
            let id = rng.uuid();
            snap.groups.push(Group {
                id: id.clone(),
                display_name: format!("Project {k:04}"),
                members,
            });
            project_ids.push(id);
        }
        snap.group_policy_assignments.push(GroupAssignment {
            group_id: site_groups[8].clone(),
            policy_type: "TeamsMeetingPolicy".into(),
            policy_name: "DE-NoRecording".into(),
            rank: 1,
        });

        snap.users = people.iter().map(|p| p.user.clone()).collect();
        snap.users.sort_by(|a, b| a.id.cmp(&b.id));
        let users_in_scope = people.iter().filter(|p| p.in_scope).count();

        // Manifests.
        let config = out.join("config");
        std::fs::create_dir_all(config.join("ranges"))?;
        std::fs::create_dir_all(config.join("personas"))?;
        std::fs::create_dir_all(config.join("rules"))?;
        write(&config.join("tenant.kdl"), &tenant_kdl(n))?;
        let mut by_country: BTreeMap<&str, Vec<&Site>> = BTreeMap::new();
        let mut order: Vec<&str> = Vec::new();
        for s in SITES {
            if !order.contains(&s.country) {
                order.push(s.country);
            }
            by_country.entry(s.country).or_default().push(s);
        }
        let shared: Vec<&Pool> = ngen
            .pools
            .iter()
            .filter(|p| SHARED.iter().any(|s| s.0 == p.name))
            .collect();
        write(
            &config.join("ranges/shared.kdl"),
            &write_ranges(
                &shared,
                true,
                "Ranges shared by the role personas (sales, contact centres).",
            ),
        )?;
        let roles: Vec<PersonaDef> = personas.iter().take(10).cloned().collect();
        write(
            &config.join("personas/roles.kdl"),
            &write_personas(&roles, true, "Role personas: they cut across offices."),
        )?;
        let mut rules_count = 0;
        let global = global_rules();
        rules_count += global.len();
        write(
            &config.join("rules/000-global.kdl"),
            &write_rules(
                &global,
                true,
                "Roles first: they win over the office rules below.",
            ),
        )?;
        for (k, cc) in order.iter().enumerate() {
            let sites = &by_country[cc];
            let kdl = k % 2 == 0;
            let ext = if kdl { "kdl" } else { "toml" };
            let lc = cc.to_lowercase();
            let names: Vec<String> = sites.iter().map(|s| site_range(s)).collect();
            let pools: Vec<&Pool> = ngen
                .pools
                .iter()
                .filter(|p| names.contains(&p.name))
                .collect();
            write(
                &config.join(format!("ranges/{lc}.{}", if kdl { "toml" } else { "kdl" })),
                &write_ranges(&pools, !kdl, &format!("{} ranges.", country_name(cc)[0])),
            )?;
            let ps: Vec<PersonaDef> = personas
                .iter()
                .filter(|p| sites.iter().any(|s| site_persona(s) == p.name))
                .cloned()
                .collect();
            write(
                &config.join(format!("personas/{lc}.{ext}")),
                &write_personas(
                    &ps,
                    kdl,
                    &format!("Office personas, {}.", country_name(cc)[0]),
                ),
            )?;
            let rules: Vec<RuleDef> = sites.iter().flat_map(|s| site_rules(s)).collect();
            rules_count += rules.len();
            write(
                &config.join(format!("rules/{:03}-{lc}.{ext}", 100 + 10 * k)),
                &write_rules(
                    &rules,
                    kdl,
                    &format!(
                        "{}: nine rules per office, most confident first.",
                        country_name(cc)[0]
                    ),
                ),
            )?;
        }
        let mut users = String::from("# Per-user exceptions.\n");
        for (si, lead) in leads.iter().enumerate() {
            let Some(l) = lead else { continue };
            let pin = ngen.pools[ngen.pool_index[&site_range(&SITES[si])]].blocks[0].0;
            let _ = writeln!(
                users,
                "\n# {} site lead keeps the office number.\n[user.\"{}\"]\nnumber = \"{}\"",
                SITES[si].city,
                people[*l].user.user_principal_name,
                e164(pin)
            );
        }
        for i in &promoted {
            let _ = writeln!(
                users,
                "\n[user.\"{}\"]\npersona = \"exec\"",
                people[*i].user.user_principal_name
            );
        }
        for i in &ignored {
            let _ = writeln!(
                users,
                "\n# Configured by hand.\n[user.\"{}\"]\nignore = true",
                people[*i].user.user_principal_name
            );
        }
        let _ = writeln!(
            users,
            "\n# Left the company; the account is gone (the plan warns).\n[user.\"former.employee@{DOMAIN}\"]\npersona = \"exec\""
        );
        write(&config.join("users.toml"), &users)?;

        let tenant_path = out.join("tenant.json");
        snap.write(&tenant_path)?;
        eprintln!(
            "wrote {} ({} users, {} in scope, {} groups, {} direct assignments, {} numbers) and {} ({} personas, {} rules, {} ranges)",
            tenant_path.display(),
            snap.users.len(),
            users_in_scope,
            snap.groups.len(),
            snap.policy_assignments.len(),
            snap.number_assignments.len(),
            config.display(),
            personas.len(),
            rules_count,
            ngen.pools.len()
        );
        Ok(())
    }

    impl Site {
        fn country_iso(&self) -> &'static str {
            self.country
        }
    }

    fn tenant_kdl(n: usize) -> String {
        format!(
            r#"// Synthetic tenant of {n} users (examples/synth.rs scale).
tenant "northwind-scale" {{
    provider "file" path="../tenant.json"
    scope {{
        usageLocation exists=#true
        not {{ userPrincipalName starts-with="svc-" }}
    }}
    leavers release-number=#true reset-policies=#false
    safety max-changed-percent=30
}}
"#
        )
    }

    fn write(path: &Path, text: &str) -> Result<()> {
        std::fs::write(path, text)?;
        Ok(())
    }
}
