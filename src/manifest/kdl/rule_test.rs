//! The `test` item of a KDL manifest: a fixture user and what it must get,
//! lowered on the shared [`Ctx`]. No I/O.

use kdl::KdlNode;

use crate::manifest::diag::Diagnostic;
use crate::manifest::keys::Item;
use crate::manifest::lower;
use crate::manifest::model::*;

use super::Ctx;

impl Ctx<'_> {
    /// `test "NAME" { user … { memberOf "G" }; expect persona="P" }`.
    pub(super) fn rule_test(&mut self, node: &KdlNode) -> Option<RuleTest> {
        let name = self.item_name(node, "test name");
        self.props(node, &Item::Test.kdl_properties());
        let span = self.node_span(node);
        let mut user = TestUser::default();
        let mut expect = None;
        let mut has_expect = false;
        for (key, cspan, child) in self.unique_children(node) {
            match key {
                "user" => user = self.test_user(child),
                "expect" => {
                    has_expect = true;
                    expect = self.expect(child);
                }
                other => lower::unknown(
                    self.diags,
                    "test child",
                    other,
                    cspan,
                    &Item::Test.kdl_children(),
                ),
            }
        }
        if !has_expect {
            lower::missing(
                self.diags,
                self.name_span(node),
                "`expect`",
                "write `expect persona=\"PERSONA\"` (or `unmatched=#true`, `out-of-scope=#true`, `leaver=#true`) in the block",
            );
        }
        Some(RuleTest {
            name: name?,
            user,
            expect,
            span,
        })
    }

    /// `user jobTitle="…" accountEnabled=#false { memberOf "G" }`: every
    /// property but `accountEnabled` is an attribute.
    fn test_user(&mut self, node: &KdlNode) -> TestUser {
        self.no_args(node, "attributes are properties: `user city=\"London\"`");
        let mut user = TestUser::default();
        let mut seen: Vec<(String, crate::manifest::Span)> = Vec::new();
        for e in node.entries() {
            let Some(key) = e.name().map(|n| n.value().to_string()) else {
                continue;
            };
            let espan = self.span(e.span());
            if let Some((_, first)) = seen.iter().find(|(s, _)| s.eq_ignore_ascii_case(&key)) {
                lower::duplicate_key(self.diags, espan, &key, *first);
                continue;
            }
            seen.push((key.clone(), espan));
            if key == "accountEnabled" {
                user.account_enabled = self.boolean(e, "`accountEnabled`").unwrap_or(true);
            } else if key.eq_ignore_ascii_case("memberOf") {
                self.diags.push(
                    Diagnostic::error("bad-test-user", espan, "groups are child nodes")
                        .label("not a property")
                        .help("write `user … { memberOf \"GROUP\" }`"),
                );
            } else if let Some(id) = lower::attribute(self.diags, &key, espan)
                && let Some(v) = self.string(e, &format!("`{key}`"))
            {
                user.attributes.push((id, v.value));
            }
        }
        for child in self.children(node) {
            let cname = child.name().value();
            if cname == "memberOf" {
                self.props(child, &[]);
                self.no_children(child);
                for a in self.args(child) {
                    if let Some(s) = self.string(a, "a group name") {
                        user.member_of.push(s.value);
                    }
                }
            } else {
                let span = self.name_span(child);
                lower::unknown(
                    self.diags,
                    "test user child",
                    cname,
                    span,
                    &Item::TestUser.kdl_children(),
                );
            }
        }
        user
    }

    /// `expect persona="P" range="R"`, `expect unmatched=#true`, ….
    fn expect(&mut self, node: &KdlNode) -> Option<Expectation> {
        self.no_args(node, "write `expect persona=\"PERSONA\"`");
        self.no_children(node);
        let span = self.node_span(node);
        let p = self.props(node, &Item::Expect.kdl_properties());
        let persona = p.get("persona").and_then(|e| self.string(e, "`persona`"));
        let range = p.get("range").and_then(|e| self.string(e, "`range`"));
        let mut flags = Vec::new();
        for flag in ["unmatched", "out-of-scope", "leaver"] {
            let set = p
                .get(flag)
                .and_then(|e| self.boolean(e, &format!("`{flag}`")))
                .unwrap_or(false);
            flags.push((flag, set));
        }
        lower::expectation(self.diags, span, persona, &flags, range)
    }
}
