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
