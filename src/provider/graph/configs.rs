//! The Teams configuration of every user (`userConfigurations`), read
//! page by page into what the snapshot keeps of it: each user's direct
//! policy assignments, the group assignments shown, and the policies named
//! (with their ids). Rows are parsed with their strings borrowed from the
//! page, and a page keeps one entry per policy spelling. Only reads;
//! [`super::read`] chains the pages beside the other reads.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::GraphError;
use super::http::Api;
use super::pages::{Page, PageRead, chain, first_page_bytes, from_page};
use super::read::tick;
use crate::snapshot::{SnapAssignment, SnapGroupAssignment, SnapPolicy};

/// The largest page `userConfigurations` takes (undocumented; 999 as
/// `/users`). A tenant that rejects it with a 400 is asked at its default.
const CONFIGS_TOP: usize = 999;

/// A `userConfiguration`, as far as roster reads it (every field may be
/// missing or null); its strings borrowed from the page where they need
/// no unescaping (most of them repeat across users, and only direct
/// assignments and new policies are kept).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Configuration<'a> {
    #[serde(borrow)]
    id: Option<Str<'a>>,
    #[serde(borrow)]
    effective_policy_assignments: Option<Vec<Effective<'a>>>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Effective<'a> {
    #[serde(borrow)]
    policy_type: Option<Str<'a>>,
    #[serde(borrow)]
    policy_assignment: Option<Assigned<'a>>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Assigned<'a> {
    #[serde(borrow)]
    display_name: Option<Str<'a>>,
    #[serde(borrow)]
    policy_id: Option<Str<'a>>,
    #[serde(borrow)]
    assignment_type: Option<Str<'a>>,
    #[serde(borrow)]
    group_id: Option<Str<'a>>,
}

/// A JSON string, borrowed from the page when it has no escapes.
#[derive(Debug, Default)]
struct Str<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for Str<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Cow<'de, str>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(
                self,
                s: &'de str,
            ) -> Result<Self::Value, E> {
                Ok(Cow::Borrowed(s))
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(Cow::Owned(s.to_string()))
            }
            fn visit_string<E: serde::de::Error>(self, s: String) -> Result<Self::Value, E> {
                Ok(Cow::Owned(s))
            }
        }
        d.deserialize_str(V).map(Str)
    }
}

fn text<'s>(s: &'s Option<Str<'_>>) -> &'s str {
    s.as_ref().map_or("", |s| &s.0)
}

/// What one page of configurations says: direct assignments in order,
/// and the group assignments and policies it shows, keyed as the read
/// keeps them (a later page's overrides an earlier one's, as a later
/// entry of the same page does).
type ConfigPage = (
    Vec<SnapAssignment>,
    Vec<((String, String), SnapGroupAssignment)>,
    Vec<((String, String), SnapPolicy)>,
);

/// Policies by (type, name) as spelt: the place and id of the last showing.
type Shown<'a> = HashMap<(&'a str, &'a str), (usize, &'a str), foldhash::fast::RandomState>;

fn fold_configurations(rows: &[Configuration<'_>]) -> ConfigPage {
    let (mut direct, mut groups) = (Vec::new(), Vec::new());
    // The policies the page shows, by type and name as spelt, each with
    // the id and place of its last showing; lower-cased once per spelling.
    let mut shown: Shown<'_> = HashMap::default();
    let mut seq = 0usize;
    for c in rows {
        let user = text(&c.id);
        for e in c.effective_policy_assignments.iter().flatten() {
            let ty = text(&e.policy_type);
            let (name, id, kind, group_id) = match &e.policy_assignment {
                Some(a) => (
                    text(&a.display_name),
                    text(&a.policy_id),
                    a.assignment_type.as_ref().map(|t| &*t.0),
                    text(&a.group_id),
                ),
                None => ("", "", None, ""),
            };
            let name = name.strip_prefix("Tag:").unwrap_or(name);
            if !id.is_empty() {
                shown.insert((ty, name), (seq, id));
                seq += 1;
            }
            match kind {
                Some(t) if t.eq_ignore_ascii_case("direct") => direct.push(SnapAssignment {
                    user_id: user.to_string(),
                    policy_type: ty.to_string(),
                    policy_name: name.to_string(),
                }),
                Some(t) if t.eq_ignore_ascii_case("group") => groups.push((
                    (group_id.to_string(), ty.to_string()),
                    SnapGroupAssignment {
                        group_id: group_id.to_string(),
                        policy_type: ty.to_string(),
                        policy_name: name.to_string(),
                        rank: 0,
                    },
                )),
                _ => {}
            }
        }
    }
    // In the order they were last shown, so that where two spellings are
    // one policy the later one overrides, as it did entry by entry.
    let mut last: Vec<_> = shown.into_iter().collect();
    last.sort_unstable_by_key(|(_, (seq, _))| *seq);
    let policies = last
        .into_iter()
        .map(|((ty, name), (_, id))| {
            (
                (ty.to_lowercase(), name.to_lowercase()),
                SnapPolicy {
                    policy_type: ty.to_string(),
                    name: name.to_string(),
                    policy_id: id.to_string(),
                },
            )
        })
        .collect();
    (direct, groups, policies)
}

pub(super) async fn configurations(
    api: Arc<Api>,
    progress: Option<indicatif::ProgressBar>,
) -> Result<
    (
        Vec<SnapAssignment>,
        Vec<SnapGroupAssignment>,
        Vec<SnapPolicy>,
    ),
    GraphError,
> {
    let (url, body, _) =
        first_page_bytes(&api, "/admin/teams/userConfigurations", &[CONFIGS_TOP]).await?;
    let pages = chain(api, url, body, move |body: &[u8]| -> PageRead<ConfigPage> {
        let page: Page<Configuration<'_>> = from_page(body)?;
        tick(progress.as_ref(), page.value.len());
        Ok((fold_configurations(&page.value), page.next_link))
    })
    .await?;
    let mut direct = Vec::with_capacity(pages.iter().map(|p| p.0.len()).sum());
    let mut groups = BTreeMap::new();
    let mut policies = BTreeMap::new();
    for (d, g, p) in pages {
        direct.extend(d);
        groups.extend(g);
        policies.extend(p);
    }
    Ok((
        direct,
        groups.into_values().collect(),
        policies.into_values().collect(),
    ))
}

#[cfg(test)]
#[path = "configs_tests.rs"]
mod tests;
