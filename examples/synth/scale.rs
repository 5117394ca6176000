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
        let policies: Vec<(&str, &str)> = policies.iter().map(|(t, n)| (*t, n.as_str())).collect();
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
    } else if dept == "customer service" && !title.contains("manager") && EMEA.contains(&usage) {
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
    let mut elt_members: Vec<String> = rest.iter().map(|i| people[*i].user.id.clone()).collect();
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
        r#"// Synthetic tenant of {n} users (examples/synth, scale).
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
