//! The `[[test]]` item of a TOML manifest: a fixture user and what it must
//! get, lowered on the shared [`Ctx`]. No I/O.

use toml::de::DeTable;

use crate::manifest::diag::Diagnostic;
use crate::manifest::keys::Item;
use crate::manifest::lower;
use crate::manifest::model::*;
use crate::manifest::source::{Span, Spanned};

use super::Ctx;

impl Ctx<'_> {
    /// `[[test]]` with `name`, `user = { … }` and `expect = { … }`.
    pub(super) fn rule_test(&mut self, t: &DeTable<'_>, span: Span) -> Option<RuleTest> {
        let fields = self.fields(t, "a `[[test]]`", &Item::Test.toml_keys());
        let mut name = None;
        let mut user = TestUser::default();
        let mut expect = None;
        let mut has_expect = false;
        for (k, _, v) in fields {
            match k.as_str() {
                "name" => name = self.string(v, "`name`"),
                "user" => {
                    if let Some(u) = self.table(v, "`user`") {
                        user = self.test_user(u);
                    }
                }
                _ => {
                    has_expect = true;
                    if let Some(e) = self.table(v, "`expect`") {
                        expect = self.expect(e, self.vspan(v));
                    }
                }
            }
        }
        if name.is_none() {
            lower::missing(
                self.diags,
                span,
                "`name`",
                "write `name = \"…\"` in the `[[test]]`",
            );
        }
        if !has_expect {
            lower::missing(
                self.diags,
                span,
                "`expect`",
                "write `expect = { persona = \"PERSONA\" }` (or `unmatched`, `out-of-scope`, `leaver` = true)",
            );
        }
        Some(RuleTest {
            name: name?,
            user,
            expect,
            span,
        })
    }

    /// `{ jobTitle = "…", accountEnabled = false, memberOf = ["G"] }`.
    fn test_user(&mut self, t: &DeTable<'_>) -> TestUser {
        let mut user = TestUser::default();
        for (k, v) in t.iter() {
            let key = k.get_ref().to_string();
            let kspan = self.span(k.span());
            if key == "accountEnabled" {
                user.account_enabled = self.boolean(v, "`accountEnabled`").unwrap_or(true);
            } else if key == "memberOf" {
                user.member_of = self
                    .strings(v, "a group name")
                    .into_iter()
                    .map(|s| s.value)
                    .collect();
            } else if key.eq_ignore_ascii_case("memberOf") {
                self.diags.push(
                    Diagnostic::error("bad-test-user", kspan, "write `memberOf`")
                        .label("groups")
                        .help("write `memberOf = [\"GROUP\"]`"),
                );
            } else if let Some(id) = lower::attribute(self.diags, &key, kspan)
                && let Some(s) = self.string(v, &format!("`{key}`"))
            {
                user.attributes.push((id, s.value));
            }
        }
        user
    }

    fn expect(&mut self, t: &DeTable<'_>, span: Span) -> Option<Expectation> {
        let fields = self.fields(t, "`expect`", &Item::Expect.toml_keys());
        let mut persona = None;
        let mut range: Option<Spanned<String>> = None;
        let mut flags = Vec::new();
        for (k, _, v) in fields {
            match k.as_str() {
                "persona" => persona = self.string(v, "`persona`"),
                "range" => range = self.string(v, "`range`"),
                flag => {
                    let set = self.boolean(v, &format!("`{flag}`")).unwrap_or(false);
                    let flag = ["unmatched", "out-of-scope", "leaver"]
                        .into_iter()
                        .find(|f| *f == flag)
                        .unwrap_or("leaver");
                    flags.push((flag, set));
                }
            }
        }
        lower::expectation(self.diags, span, persona, &flags, range)
    }
}
