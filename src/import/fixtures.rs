//! One rule test per persona, from a real user the rules explain: the
//! attributes the rules and the scope read, the groups they name, and the
//! persona (and first range) it must get. Names, addresses and ids are
//! replaced, so the test carries no person. Pure: no I/O.

use std::collections::BTreeSet;

use super::Draft;
use super::personas::{NumberDraft, Person};
use crate::catalog::{self, AttrId, MEMBER_OF};
use crate::live::LiveState;
use crate::manifest::Condition;
use crate::rules::normalize;

#[derive(Debug, Clone, PartialEq)]
pub struct TestDraft {
    pub name: String,
    /// Attribute name and value, in catalog order.
    pub attrs: Vec<(String, String)>,
    pub member_of: Vec<String>,
    pub persona: String,
    pub range: Option<String>,
}

/// The tests, in persona order.
pub fn tests(
    live: &LiveState,
    draft: &Draft,
    people: &[Person],
    rule_of: &[Option<u32>],
    exact: &[Vec<u16>],
) -> Vec<TestDraft> {
    let mut attrs: BTreeSet<AttrId> = BTreeSet::new();
    let mut groups: BTreeSet<String> = BTreeSet::new();
    for r in &draft.rules {
        for c in &r.conds {
            if c.attr == MEMBER_OF {
                groups.extend(c.values.iter().map(|v| normalize(v)));
            } else {
                attrs.insert(c.attr);
            }
        }
    }
    if let Some(scope) = draft.tenant.as_ref().and_then(|t| t.scope.as_ref()) {
        read_by(std::slice::from_ref(scope), &mut attrs, &mut groups);
    }
    let mut out = Vec::new();
    for (p, persona) in draft.personas.iter().enumerate() {
        let p = p as u16;
        let Some(i) = (0..people.len()).find(|&i| {
            rule_of[i].is_some_and(|r| draft.rules[r as usize].persona == p)
                && exact[i].contains(&p)
        }) else {
            continue;
        };
        let user = &live.users[people[i].user];
        let domain = user.upn.rsplit_once('@').map_or("example.com", |(_, d)| d);
        let values = attrs
            .iter()
            .filter_map(|&a| {
                let name = catalog::ATTRIBUTES[a];
                let value = user.attr(a).map(str::trim).filter(|v| !v.is_empty())?;
                let value = match name {
                    "userPrincipalName" | "mail" => format!("test-{}@{domain}", persona.name),
                    "displayName" => format!("Test user ({})", persona.name),
                    "givenName" => "Test".into(),
                    "surname" => "User".into(),
                    "employeeId" => "000000".into(),
                    _ => value.to_string(),
                };
                Some((name.to_string(), value))
            })
            .collect();
        let mut member_of: Vec<String> = user
            .groups
            .iter()
            .map(|&g| &live.groups[g as usize])
            .filter(|g| {
                groups.contains(&normalize(&g.display_name)) || groups.contains(&normalize(&g.id))
            })
            .map(|g| g.display_name.trim().to_string())
            .collect();
        member_of.sort();
        member_of.dedup();
        out.push(TestDraft {
            name: format!("{}: a real user of the persona, anonymised", persona.name),
            attrs: values,
            member_of,
            persona: persona.name.clone(),
            range: match &persona.number {
                NumberDraft::Ranges(rs) => rs.first().map(|&r| draft.ranges[r].name.clone()),
                _ => None,
            },
        });
    }
    out
}

/// The attributes and `memberOf` values conditions read.
fn read_by(conds: &[Condition], attrs: &mut BTreeSet<AttrId>, groups: &mut BTreeSet<String>) {
    for c in conds {
        match c {
            Condition::All(cs, _) | Condition::Any(cs, _) | Condition::Not(cs, _) => {
                read_by(cs, attrs, groups)
            }
            Condition::Attr(a) if a.attribute == MEMBER_OF => {
                groups.extend(a.values.iter().map(|v| normalize(v)));
            }
            Condition::Attr(a) => {
                attrs.insert(a.attribute);
            }
        }
    }
}
