//! The items of a KDL manifest (tenant settings, ranges, personas, rules with
//! their conditions, user overrides), lowered on the shared [`Ctx`].

use kdl::{KdlNode, KdlValue};

use crate::manifest::diag::Diagnostic;
use crate::manifest::keys::{Item, PROVIDER_KINDS};
use crate::manifest::lower;
use crate::manifest::model::*;
use crate::manifest::source::Spanned;

use super::Ctx;

impl Ctx<'_> {
    // ----- tenant -------------------------------------------------------

    pub(super) fn tenant(&mut self, node: &KdlNode) -> Option<Tenant> {
        // The name is optional, as `name` is in TOML.
        let name = if self.args(node).is_empty() {
            None
        } else {
            self.item_name(node, "tenant name")
        };
        self.props(node, &Item::Tenant.kdl_properties());
        let mut t = Tenant {
            name: name.map(|n| n.value).unwrap_or_else(|| "tenant".into()),
            span: self.head_span(node),
            ..Tenant::default()
        };
        for (key, span, child) in self.unique_children(node) {
            match key {
                "provider" => t.provider = self.provider(child),
                "scope" => {
                    self.no_args(
                        child,
                        "conditions go in the block: `scope { usageLocation \"GB\" }`",
                    );
                    self.props(child, &[]);
                    let conds = self.conditions(self.children(child));
                    t.scope = Some(Condition::All(conds, self.node_span(child)));
                }
                "leavers" => {
                    self.no_args(
                        child,
                        "write `leavers release-number=#true reset-policies=#false`",
                    );
                    self.no_children(child);
                    let p = self.props(child, &Item::Leavers.kdl_properties());
                    if let Some(e) = p.get("release-number") {
                        t.leavers.release_number =
                            self.boolean(e, "`release-number`").unwrap_or(true);
                    }
                    if let Some(e) = p.get("reset-policies") {
                        t.leavers.reset_policies =
                            self.boolean(e, "`reset-policies`").unwrap_or(false);
                    }
                }
                "safety" => {
                    self.no_args(
                        child,
                        "write `safety max-changed-users=500 max-changed-percent=30`",
                    );
                    self.no_children(child);
                    let p = self.props(child, &Item::Safety.kdl_properties());
                    if let Some(e) = p.get("max-changed-users") {
                        t.safety.max_changed_users = self
                            .integer(e, "`max-changed-users`", u32::MAX as i128)
                            .map(|i| i as u64);
                    }
                    if let Some(e) = p.get("max-changed-percent")
                        && let Some(i) = self.integer(e, "`max-changed-percent`", 100)
                    {
                        t.safety.max_changed_percent = Some(i as u32);
                    }
                    if let Some(e) = p.get("max-emptied-percent")
                        && let Some(i) = self.integer(e, "`max-emptied-percent`", 100)
                    {
                        t.safety.max_emptied_percent = i as u32;
                    }
                    if let Some(e) = p.get("max-scope-drop-percent")
                        && let Some(i) = self.integer(e, "`max-scope-drop-percent`", 100)
                    {
                        t.safety.max_scope_drop_percent = i as u32;
                    }
                }
                "numbers" => {
                    self.no_args(child, "write `numbers quarantine=\"7d\"`");
                    self.no_children(child);
                    let p = self.props(child, &Item::Numbers.kdl_properties());
                    if let Some(e) = p.get("quarantine")
                        && let Some(s) = self.string(e, "`quarantine`")
                        && let Some(d) = lower::quarantine(self.diags, &s.value, s.span)
                    {
                        t.numbers.quarantine = d;
                    }
                }
                "state" => t.state = self.state(child),
                "paused" => {
                    self.props(child, &[]);
                    self.no_children(child);
                    let args = self.args(child);
                    t.paused = match args.first() {
                        Some(e) => self.boolean(e, "`paused`").unwrap_or(false),
                        None => true,
                    };
                }
                other => lower::unknown(
                    self.diags,
                    "tenant setting",
                    other,
                    span,
                    &Item::Tenant.kdl_children(),
                ),
            }
        }
        Some(t)
    }

    fn provider(&mut self, node: &KdlNode) -> Option<Spanned<ProviderConfig>> {
        self.no_children(node);
        let span = self.node_span(node);
        let kind = self.item_name(node, "provider kind")?;
        match kind.value.as_str() {
            "file" => {
                let p = self.props(node, &Item::Provider.kdl_properties_for("file"));
                let path = match p.get("path") {
                    Some(e) => self.string(e, "`path`")?.value,
                    None => {
                        lower::missing(
                            self.diags,
                            span,
                            "`path`",
                            "write `provider \"file\" path=\"tenant.json\"`",
                        );
                        return None;
                    }
                };
                Some(Spanned::new(ProviderConfig::File { path }, span))
            }
            "graph" => {
                let p = self.props(node, &Item::Provider.kdl_properties_for("graph"));
                let get = |cx: &mut Self, k: &str| -> Option<String> {
                    p.get(k)
                        .and_then(|e| cx.string(e, &format!("`{k}`")).map(|s| s.value))
                };
                let g = GraphConfig {
                    tenant_id: get(self, "tenant-id").unwrap_or_default(),
                    client_id: get(self, "client-id").unwrap_or_default(),
                    client_secret_env: get(self, "client-secret-env"),
                    client_secret_file: get(self, "client-secret-file"),
                    certificate_file: get(self, "certificate-file"),
                    private_key_file: get(self, "private-key-file"),
                    federated: p
                        .get("federated")
                        .and_then(|e| self.string(e, "`federated`"))
                        .and_then(|s| lower::federation(self.diags, &s.value, s.span)),
                    federated_token_file: get(self, "federated-token-file"),
                    service_connection_id: get(self, "service-connection-id"),
                    endpoint: get(self, "endpoint"),
                    authority: get(self, "authority"),
                };
                Some(Spanned::new(ProviderConfig::Graph(Box::new(g)), span))
            }
            other => {
                lower::unknown(self.diags, "provider", other, kind.span, PROVIDER_KINDS);
                None
            }
        }
    }

    // ----- range --------------------------------------------------------

    pub(super) fn range(&mut self, node: &KdlNode) -> Option<NumberRange> {
        let name = self.item_name(node, "range name");
        let p = self.props(node, &Item::Range.kdl_properties());
        let span = self.node_span(node);
        let kind = match p.get("type") {
            Some(e) => self
                .string(e, "`type`")
                .and_then(|s| lower::number_type(self.diags, &s.value, s.span)),
            None => {
                lower::missing(
                    self.diags,
                    self.name_span(node),
                    "`type`",
                    "add `type=\"direct-routing\"`, `\"calling-plan\"` or `\"operator-connect\"`",
                );
                None
            }
        };
        let location = p
            .get("location")
            .and_then(|e| self.string(e, "`location`"))
            .map(|s| s.value);
        let mut blocks = Vec::new();
        let mut reserve = Vec::new();
        let mut blocks_written = 0;
        for child in self.children(node) {
            match child.name().value() {
                "block" => {
                    blocks_written += 1;
                    self.props(child, &[]);
                    self.no_children(child);
                    let args = self.args(child);
                    let cspan = self.node_span(child);
                    if args.len() != 2 {
                        let single = match args.as_slice() {
                            [one] => self.value_text(one).unwrap_or("\"+442071230000\""),
                            _ => "\"+442071230000\"",
                        };
                        self.diags.push(
                            Diagnostic::error(
                                "wrong-arguments",
                                cspan,
                                format!(
                                    "`block` takes two numbers, from and to; {} given",
                                    args.len()
                                ),
                            )
                            .label("expected `block \"+FROM\" \"+TO\"`")
                            .help(format!(
                                "for a single number write it twice: `block {single} {single}`"
                            )),
                        );
                        continue;
                    }
                    let from = self
                        .string(args[0], "a block end")
                        .and_then(|s| lower::e164(self.diags, &s.value, s.span));
                    let to = self
                        .string(args[1], "a block end")
                        .and_then(|s| lower::e164(self.diags, &s.value, s.span));
                    if let (Some(from), Some(to)) = (from, to) {
                        blocks.push(Block {
                            from,
                            to,
                            span: cspan,
                        });
                    }
                }
                "reserve" => {
                    self.props(child, &[]);
                    self.no_children(child);
                    for a in self.args(child) {
                        if let Some(s) = self.string(a, "a reserved number")
                            && let Some(n) = lower::e164(self.diags, &s.value, s.span)
                        {
                            reserve.push(Spanned::new(n, s.span));
                        }
                    }
                }
                other => {
                    let span = self.name_span(child);
                    lower::unknown(
                        self.diags,
                        "range child",
                        other,
                        span,
                        &Item::Range.kdl_children(),
                    )
                }
            }
        }
        let name = name?;
        if blocks_written == 0 {
            lower::empty_range(self.diags, &name, "add `block \"+FROM\" \"+TO\"`");
        }
        Some(NumberRange {
            name,
            // A wrong or missing type is reported; the range is kept so its
            // blocks are still checked and personas naming it still resolve.
            kind: kind.unwrap_or(crate::numbers::NumberType::DirectRouting),
            location,
            blocks,
            reserve,
            span,
        })
    }

    // ----- persona ------------------------------------------------------

    pub(super) fn persona(&mut self, node: &KdlNode) -> Option<Persona> {
        let name = self.item_name(node, "persona name");
        self.props(node, &Item::Persona.kdl_properties());
        let mut persona = Persona {
            name: name?,
            description: None,
            policies: Vec::new(),
            number: NumberPolicy::Unmanaged,
            span: self.node_span(node),
        };
        for (key, span, child) in self.unique_children(node) {
            match key {
                "description" => persona.description = self.description(child),
                "policies" => {
                    self.no_args(child, "policies go in the block: `policies { TeamsCallingPolicy \"AllowCalling\" }`");
                    self.props(child, &[]);
                    for p in self.children(child) {
                        self.props(p, &[]);
                        self.no_children(p);
                        let tspan = self.name_span(p);
                        let pspan = self.node_span(p);
                        let args = self.args(p);
                        if args.len() != 1 {
                            self.diags.push(
                                Diagnostic::error(
                                    "wrong-arguments",
                                    pspan,
                                    format!("`{}` takes one policy name", p.name().value()),
                                )
                                .label("expected `PolicyType \"Policy name\"`")
                                .help("use `Global` for no direct assignment"),
                            );
                            continue;
                        }
                        if let Some(policy) = self.string(args[0], "a policy name")
                            && let Some(setting) = lower::policy(
                                self.diags,
                                p.name().value(),
                                tspan,
                                &policy.value,
                                pspan,
                            )
                        {
                            persona.policies.push(setting);
                        }
                    }
                }
                "number" => {
                    self.props(child, &[]);
                    self.no_children(child);
                    let args = self.args(child);
                    let cspan = self.node_span(child);
                    persona.number = match args.as_slice() {
                        [] => {
                            lower::missing(
                                self.diags,
                                cspan,
                                "range names",
                                "write `number \"range-a\" \"range-b\"`, or `number #false` for no number",
                            );
                            NumberPolicy::Unmanaged
                        }
                        [one] if matches!(one.value(), KdlValue::Bool(_)) => {
                            if one.value().as_bool() == Some(false) {
                                NumberPolicy::Forbidden
                            } else {
                                lower::wrong_type(
                                    self.diags,
                                    self.span(one.span()),
                                    "`number`",
                                    "range names or #false",
                                    "`number #true` says nothing: name the ranges to draw from",
                                );
                                NumberPolicy::Unmanaged
                            }
                        }
                        many => NumberPolicy::Ranges(
                            many.iter()
                                .filter_map(|a| self.string(a, "a range name"))
                                .collect(),
                        ),
                    };
                }
                other => lower::unknown(
                    self.diags,
                    "persona child",
                    other,
                    span,
                    &Item::Persona.kdl_children(),
                ),
            }
        }
        Some(persona)
    }

    fn description(&mut self, node: &KdlNode) -> Option<String> {
        self.props(node, &[]);
        self.no_children(node);
        let args = self.args(node);
        match args.as_slice() {
            [one] => self.string(one, "`description`").map(|s| s.value),
            _ => {
                let span = self.node_span(node);
                lower::wrong_type(
                    self.diags,
                    span,
                    "`description`",
                    "one string",
                    "write `description \"…\"`",
                );
                None
            }
        }
    }

    // ----- rule ---------------------------------------------------------

    pub(super) fn rule(&mut self, node: &KdlNode) -> Option<Rule> {
        let name = self.item_name(node, "rule name");
        let p = self.props(node, &Item::Rule.kdl_properties());
        let span = self.node_span(node);
        let persona = match p.get("persona") {
            Some(e) => self.string(e, "`persona`"),
            None => {
                lower::missing(
                    self.diags,
                    self.name_span(node),
                    "`persona`",
                    "write `rule \"NAME\" persona=\"PERSONA\" { … }`",
                );
                None
            }
        };
        let mut description = None;
        let mut when = Vec::new();
        for (key, cspan, child) in self.unique_children(node) {
            match key {
                "description" => description = self.description(child),
                "when" => {
                    self.no_args(
                        child,
                        "conditions go in the block: `when { jobTitle \"Sales\" }`",
                    );
                    self.props(child, &[]);
                    when = self.conditions(self.children(child));
                }
                other => {
                    let help = if crate::catalog::attribute(other).is_some()
                        || ["all", "any", "not"].contains(&other)
                    {
                        Some(format!(
                            "conditions go inside `when {{ … }}`: `when {{ {other} … }}`"
                        ))
                    } else {
                        None
                    };
                    let mut d = Diagnostic::error(
                        "unknown-item",
                        cspan,
                        format!("unknown rule child `{other}`"),
                    )
                    .label("unknown rule child");
                    d.help = help.or_else(|| {
                        crate::catalog::did_you_mean(other, Item::Rule.kdl_children())
                            .or_else(|| Some("expected `description` or `when`".into()))
                    });
                    self.diags.push(d);
                }
            }
        }
        Some(Rule {
            name: name?,
            persona: persona?,
            description,
            when,
            span,
        })
    }

    fn conditions(&mut self, nodes: &[KdlNode]) -> Vec<Condition> {
        nodes.iter().filter_map(|n| self.condition(n)).collect()
    }

    fn condition(&mut self, node: &KdlNode) -> Option<Condition> {
        let span = self.node_span(node);
        let key = node.name().value();
        match key {
            "all" | "any" | "not" => {
                self.no_args(node, "conditions go in the block");
                self.props(node, &[]);
                let children = self.conditions(self.children(node));
                if node.children().is_none_or(|c| c.nodes().is_empty()) {
                    self.diags.push(
                        Diagnostic::error("empty-group", span, format!("empty `{key}` group"))
                            .label("no conditions")
                            .help(format!(
                                "write conditions inside: `{key} {{ city \"London\" }}`"
                            )),
                    );
                }
                Some(match key {
                    "all" => Condition::All(children, span),
                    "any" => Condition::Any(children, span),
                    _ => Condition::Not(children, span),
                })
            }
            attr_name => {
                let attribute = lower::attribute(self.diags, attr_name, self.name_span(node));
                self.no_children(node);
                let mut values = Vec::new();
                for a in self.args(node) {
                    if let Some(s) = self.string(a, "a condition value") {
                        values.push(s.value);
                    }
                }
                let mut ops = Vec::new();
                let owner = format!("condition `{attr_name}`");
                let operators = Item::Operators.kdl_properties();
                let props = self.props_of(node, &operators, "operator", &owner);
                for (k, e) in props {
                    let espan = self.span(e.span());
                    let op = if k == "exists" {
                        self.boolean(e, "`exists`").map(Op::Exists)
                    } else {
                        self.string(e, &format!("`{k}`"))
                            .and_then(|s| lower::string_op(self.diags, &k, &s.value, espan))
                    };
                    if let Some(op) = op {
                        ops.push(Spanned::new(op, espan));
                    }
                }
                ops.sort_by_key(|o| o.value.rank());
                let has_any_entry = !node.entries().is_empty();
                if !has_any_entry {
                    self.diags.push(
                        Diagnostic::error(
                            "empty-condition",
                            span,
                            format!("condition `{attr_name}` tests nothing"),
                        )
                        .label("no value or operator")
                        .help(format!(
                            "give values (`{attr_name} \"A\" \"B\"`) or an operator (`{attr_name} exists=#true`)"
                        )),
                    );
                    return None;
                }
                Some(Condition::Attr(AttrCondition {
                    attribute: attribute?,
                    values,
                    ops,
                    span,
                }))
            }
        }
    }

    // ----- user ---------------------------------------------------------

    pub(super) fn user(&mut self, node: &KdlNode) -> Option<UserOverride> {
        let upn = self.item_name(node, "user principal name");
        let p = self.props(node, &Item::User.kdl_properties());
        self.no_children(node);
        let span = self.node_span(node);
        let persona = p.get("persona").and_then(|e| self.string(e, "`persona`"));
        let number = p.get("number").and_then(|e| {
            let s = self.string(e, "`number`")?;
            lower::e164(self.diags, &s.value, s.span).map(|n| Spanned::new(n, s.span))
        });
        let ignore = p
            .get("ignore")
            .and_then(|e| self.boolean(e, "`ignore`"))
            .unwrap_or(false);
        let take_quarantined = p
            .get("take-quarantined")
            .and_then(|e| self.boolean(e, "`take-quarantined`"))
            .unwrap_or(false);
        let expires = p.get("expires").and_then(|e| {
            let s = self.string(e, "`expires`")?;
            lower::date(self.diags, &s.value, s.span).map(|d| Spanned::new(d, s.span))
        });
        let owner = p
            .get("owner")
            .and_then(|e| self.string(e, "`owner`"))
            .map(|s| s.value);
        if !["persona", "number", "ignore"]
            .iter()
            .any(|k| p.contains_key(*k))
        {
            self.diags.push(
                Diagnostic::error("empty-override", span, "user override says nothing")
                    .label("no persona, number or ignore")
                    .help("add `persona=\"…\"`, `number=\"+…\"` or `ignore=#true`"),
            );
        }
        Some(UserOverride {
            upn: upn?,
            persona,
            number,
            take_quarantined,
            ignore,
            expires,
            owner,
            span,
        })
    }
}
