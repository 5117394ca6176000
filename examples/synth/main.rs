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

mod example;

// ---------------------------------------------------------------------------
// `synth scale`: a large tenant and the manifests for it.

pub(crate) mod scale;
