//! The items of a TOML manifest (tenant settings, ranges, personas, rules with
//! their conditions, user overrides), lowered on the shared [`Ctx`].

use toml::de::{DeTable, DeValue};

use crate::manifest::diag::Diagnostic;
use crate::manifest::keys::{Item, PROVIDER_KINDS};
use crate::manifest::lower;
use crate::manifest::model::*;
use crate::manifest::source::{Span, Spanned};

use super::{Ctx, Value};

impl Ctx<'_> {
    // ----- tenant -------------------------------------------------------

    pub(super) fn tenant(&mut self, t: &DeTable<'_>, span: Span) -> Tenant {
        let mut out = Tenant {
            span,
            ..Tenant::default()
        };
        for (key, kspan, v) in self.fields(t, "`[tenant]`", &Item::Tenant.toml_keys()) {
            match key.as_str() {
                "name" => {
                    if let Some(s) = self.string(v, "`name`") {
                        out.name = s.value;
                    }
                }
                "provider" => out.provider = self.provider(v),
                "scope" => {
                    if let Some(t) = self.table(v, "`scope`") {
                        let conds = self.conditions(t);
                        out.scope = Some(Condition::All(conds, kspan));
                    }
                }
                "leavers" => {
                    if let Some(t) = self.table(v, "`leavers`") {
                        for (k, _, v) in self.fields(t, "`leavers`", &Item::Leavers.toml_keys()) {
                            let b = self.boolean(v, &format!("`{k}`"));
                            match k.as_str() {
                                "release-number" => out.leavers.release_number = b.unwrap_or(true),
                                _ => out.leavers.reset_policies = b.unwrap_or(false),
                            }
                        }
                    }
                }
                "safety" => {
                    if let Some(t) = self.table(v, "`safety`") {
                        for (k, _, v) in self.fields(t, "`safety`", &Item::Safety.toml_keys()) {
                            if k == "max-changed-users" {
                                out.safety.max_changed_users = self
                                    .integer(v, "`max-changed-users`", u32::MAX as i128)
                                    .map(|i| i as u64);
                            } else if let Some(i) = self.integer(v, &format!("`{k}`"), 100) {
                                let i = i as u32;
                                match k.as_str() {
                                    "max-emptied-percent" => out.safety.max_emptied_percent = i,
                                    "max-scope-drop-percent" => {
                                        out.safety.max_scope_drop_percent = i
                                    }
                                    _ => out.safety.max_changed_percent = Some(i),
                                }
                            }
                        }
                    }
                }
                "numbers" => {
                    if let Some(t) = self.table(v, "`numbers`") {
                        for (k, _, v) in self.fields(t, "`numbers`", &Item::Numbers.toml_keys()) {
                            if let Some(s) = self.string(v, &format!("`{k}`"))
                                && let Some(d) = lower::quarantine(self.diags, &s.value, s.span)
                            {
                                out.numbers.quarantine = d;
                            }
                        }
                    }
                }
                "state" => out.state = self.state(v),
                _ => out.paused = self.boolean(v, "`paused`").unwrap_or(false),
            }
        }
        out
    }

    fn provider(&mut self, v: &Value<'_>) -> Option<Spanned<ProviderConfig>> {
        let span = self.vspan(v);
        let t = self.table(v, "`provider`")?;
        let mut kind = None;
        let mut g = GraphConfig::default();
        let mut path = None;
        for (k, _, v) in self.fields(t, "`provider`", &Item::Provider.toml_keys()) {
            let Some(s) = self.string(v, &format!("`{k}`")) else {
                continue;
            };
            match k.as_str() {
                "kind" => kind = Some(s),
                "path" => path = Some(s.value),
                "tenant-id" => g.tenant_id = s.value,
                "client-id" => g.client_id = s.value,
                "client-secret-env" => g.client_secret_env = Some(s.value),
                "client-secret-file" => g.client_secret_file = Some(s.value),
                "certificate-file" => g.certificate_file = Some(s.value),
                "private-key-file" => g.private_key_file = Some(s.value),
                "federated" => g.federated = lower::federation(self.diags, &s.value, s.span),
                "federated-token-file" => g.federated_token_file = Some(s.value),
                "service-connection-id" => g.service_connection_id = Some(s.value),
                "endpoint" => g.endpoint = Some(s.value),
                _ => g.authority = Some(s.value),
            }
        }
        let Some(kind) = kind else {
            lower::missing(
                self.diags,
                span,
                "`kind`",
                "write `provider = { kind = \"file\", path = \"tenant.json\" }`",
            );
            return None;
        };
        match kind.value.as_str() {
            "file" => match path {
                Some(path) => Some(Spanned::new(ProviderConfig::File { path }, span)),
                None => {
                    lower::missing(
                        self.diags,
                        span,
                        "`path`",
                        "write `provider = { kind = \"file\", path = \"tenant.json\" }`",
                    );
                    None
                }
            },
            "graph" => Some(Spanned::new(ProviderConfig::Graph(Box::new(g)), span)),
            other => {
                lower::unknown(self.diags, "provider", other, kind.span, PROVIDER_KINDS);
                None
            }
        }
    }

    // ----- range --------------------------------------------------------

    pub(super) fn range(&mut self, name: Spanned<String>, v: &Value<'_>) -> Option<NumberRange> {
        let span = self.vspan(v);
        let t = self.table(v, &format!("range `{}`", name.value))?;
        let mut kind = None;
        let mut location = None;
        let mut blocks = Vec::new();
        let mut reserve = Vec::new();
        let mut has_type = false;
        let owner = format!("range `{}`", name.value);
        let mut blocks_written = false;
        for (k, _, v) in self.fields(t, &owner, &Item::Range.toml_keys()) {
            match k.as_str() {
                "type" => {
                    has_type = true;
                    kind = self
                        .string(v, "`type`")
                        .and_then(|s| lower::number_type(self.diags, &s.value, s.span));
                }
                "location" => location = self.string(v, "`location`").map(|s| s.value),
                "blocks" => {
                    let DeValue::Array(items) = v.get_ref() else {
                        let s = self.vspan(v);
                        lower::wrong_type(
                            self.diags,
                            s,
                            "`blocks`",
                            "an array of [from, to] pairs",
                            "write `blocks = [[\"+442071230000\", \"+442071230999\"]]`",
                        );
                        continue;
                    };
                    blocks_written |= !items.is_empty();
                    for item in items.iter() {
                        let ispan = self.vspan(item);
                        let pair = match item.get_ref() {
                            DeValue::Array(p) if p.len() == 2 => p,
                            other => {
                                let single = match other {
                                    DeValue::Array(p) if p.len() == 1 => self.source(&p[0]),
                                    DeValue::String(_) => self.source(item),
                                    _ => None,
                                };
                                let help = match (single, other) {
                                    (Some(n), _) => format!(
                                        "for a single number write it twice: `[{n}, {n}]`"
                                    ),
                                    (None, DeValue::Array(p)) if p.len() > 2 => {
                                        "a block has two ends: write one pair for each run of numbers"
                                            .to_string()
                                    }
                                    _ => "write `[\"+FROM\", \"+TO\"]`".to_string(),
                                };
                                self.diags.push(
                                    Diagnostic::error(
                                        "wrong-arguments",
                                        ispan,
                                        "a block is a pair of numbers, from and to",
                                    )
                                    .label("expected `[\"+FROM\", \"+TO\"]`")
                                    .help(help),
                                );
                                continue;
                            }
                        };
                        let from = self
                            .string(&pair[0], "a block end")
                            .and_then(|s| lower::e164(self.diags, &s.value, s.span));
                        let to = self
                            .string(&pair[1], "a block end")
                            .and_then(|s| lower::e164(self.diags, &s.value, s.span));
                        if let (Some(from), Some(to)) = (from, to) {
                            blocks.push(Block {
                                from,
                                to,
                                span: ispan,
                            });
                        }
                    }
                }
                _ => {
                    for s in self.strings(v, "a reserved number") {
                        if let Some(n) = lower::e164(self.diags, &s.value, s.span) {
                            reserve.push(Spanned::new(n, s.span));
                        }
                    }
                }
            }
        }
        if !has_type {
            lower::missing(
                self.diags,
                name.span,
                "`type`",
                "add `type = \"direct-routing\"`, `\"calling-plan\"` or `\"operator-connect\"`",
            );
        }
        if !blocks_written {
            lower::empty_range(self.diags, &name, "add `blocks = [[\"+FROM\", \"+TO\"]]`");
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

    pub(super) fn persona(&mut self, name: Spanned<String>, v: &Value<'_>) -> Option<Persona> {
        let span = self.vspan(v);
        let t = self.table(v, &format!("persona `{}`", name.value))?;
        let mut p = Persona {
            name,
            description: None,
            policies: Vec::new(),
            number: NumberPolicy::Unmanaged,
            span,
        };
        let owner = format!("persona `{}`", p.name.value);
        for (k, kspan, v) in self.fields(t, &owner, &Item::Persona.toml_keys()) {
            match k.as_str() {
                "description" => p.description = self.string(v, "`description`").map(|s| s.value),
                "policies" => {
                    let Some(t) = self.table(v, "`policies`") else {
                        continue;
                    };
                    for (ty, pv) in t.iter() {
                        let tspan = self.span(ty.span());
                        let pspan = Span::new(self.file, ty.span().start..pv.span().end);
                        if let Some(policy) = self.string(pv, "a policy name")
                            && let Some(setting) =
                                lower::policy(self.diags, ty.get_ref(), tspan, &policy.value, pspan)
                        {
                            p.policies.push(setting);
                        }
                    }
                }
                _ => {
                    p.number = match v.get_ref() {
                        DeValue::Boolean(false) => NumberPolicy::Forbidden,
                        DeValue::Boolean(true) => {
                            let s = self.vspan(v);
                            lower::wrong_type(
                                self.diags,
                                s,
                                "`number`",
                                "range names or false",
                                "`number = true` says nothing: name the ranges to draw from",
                            );
                            NumberPolicy::Unmanaged
                        }
                        _ => {
                            let names = self.strings(v, "a range name");
                            if names.is_empty() {
                                lower::missing(
                                    self.diags,
                                    kspan,
                                    "range names",
                                    "write `number = [\"range-a\"]`, or `number = false` for no number",
                                );
                                NumberPolicy::Unmanaged
                            } else {
                                NumberPolicy::Ranges(names)
                            }
                        }
                    }
                }
            }
        }
        Some(p)
    }

    // ----- rule ---------------------------------------------------------

    pub(super) fn rule(&mut self, t: &DeTable<'_>, span: Span) -> Option<Rule> {
        let mut name = None;
        let mut persona = None;
        let mut description = None;
        let mut when = Vec::new();
        let (mut has_name, mut has_persona) = (false, false);
        for (k, _, v) in self.fields(t, "`[[rule]]`", &Item::Rule.toml_keys()) {
            match k.as_str() {
                "name" => {
                    has_name = true;
                    name = self.string(v, "`name`");
                }
                "persona" => {
                    has_persona = true;
                    persona = self.string(v, "`persona`");
                }
                "description" => description = self.string(v, "`description`").map(|s| s.value),
                _ => {
                    if let Some(t) = self.table(v, "`when`") {
                        when = self.conditions(t);
                    }
                }
            }
        }
        if !has_name {
            lower::missing(
                self.diags,
                span,
                "`name`",
                "every `[[rule]]` has a unique `name = \"…\"`",
            );
        }
        if !has_persona {
            lower::missing(self.diags, span, "`persona`", "add `persona = \"PERSONA\"`");
        }
        Some(Rule {
            name: name?,
            persona: persona?,
            description,
            when,
            span,
        })
    }

    /// The conditions of a `when`/`scope` table, in written order.
    fn conditions(&mut self, t: &DeTable<'_>) -> Vec<Condition> {
        let mut out = Vec::new();
        for (k, v) in t.iter() {
            let key = k.get_ref().as_ref();
            let kspan = self.span(k.span());
            let span = Span::new(self.file, k.span().start..v.span().end);
            match key {
                "all" | "any" | "not" => {
                    let children = self.group(v, key, span);
                    out.push(match key {
                        "all" => Condition::All(children, span),
                        "any" => Condition::Any(children, span),
                        _ => Condition::Not(children, span),
                    });
                }
                attr_name => {
                    if let Some(c) = self.attr_condition(attr_name, kspan, v, span) {
                        out.push(Condition::Attr(c));
                    }
                }
            }
        }
        out
    }

    /// `any = [ {…}, {…} ]` (each table is the `all` of its conditions), or
    /// `not = { … }` (one table).
    fn group(&mut self, v: &Value<'_>, key: &str, span: Span) -> Vec<Condition> {
        // Whether anything was written: a group whose conditions were all
        // wrong already has its errors.
        let (children, written) = match v.get_ref() {
            DeValue::Table(t) => (self.conditions(t), !t.is_empty()),
            DeValue::Array(items) => {
                let mut out = Vec::new();
                for item in items.iter() {
                    let ispan = self.vspan(item);
                    if let Some(t) = self.table(item, &format!("an item of `{key}`")) {
                        if t.is_empty() {
                            self.diags.push(
                                Diagnostic::error(
                                    "empty-group",
                                    ispan,
                                    format!("empty table in `{key}`"),
                                )
                                .label("no conditions")
                                .help(format!(
                                    "write conditions inside, `{key} = [ {{ city = \"London\" }} ]`, or remove it"
                                )),
                            );
                            continue;
                        }
                        let mut conds = self.conditions(t);
                        match conds.len() {
                            0 => {}
                            1 => out.push(conds.remove(0)),
                            _ => out.push(Condition::All(conds, ispan)),
                        }
                    }
                }
                (out, !items.is_empty())
            }
            _ => {
                lower::wrong_type(
                    self.diags,
                    span,
                    &format!("`{key}`"),
                    "a table or an array of tables",
                    &format!("write `{key} = [ {{ city = \"London\" }}, {{ city = \"Leeds\" }} ]`"),
                );
                return Vec::new();
            }
        };
        if !written {
            self.diags.push(
                Diagnostic::error("empty-group", span, format!("empty `{key}` group"))
                    .label("no conditions")
                    .help(format!(
                        "write conditions inside: `{key} = {{ city = \"London\" }}`"
                    )),
            );
        }
        children
    }

    fn attr_condition(
        &mut self,
        name: &str,
        kspan: Span,
        v: &Value<'_>,
        span: Span,
    ) -> Option<AttrCondition> {
        // A condition left empty by its own errors is not reported again.
        let reported = self.diags.items.len();
        let attribute = lower::attribute(self.diags, name, kspan);
        let mut values = Vec::new();
        let mut ops = Vec::new();
        match v.get_ref() {
            DeValue::String(_) | DeValue::Array(_) => {
                values = self
                    .strings(v, "a condition value")
                    .into_iter()
                    .map(|s| s.value)
                    .collect();
            }
            DeValue::Table(t) => {
                let allowed = Item::Operators.toml_keys();
                let owner = format!("condition `{name}`");
                for (k, ks, ov) in self.fields_of(t, "operator", &owner, &allowed) {
                    let ospan = Span::new(self.file, ks.start..ov.span().end);
                    match k.as_str() {
                        "equals" => {
                            values = self
                                .strings(ov, "a condition value")
                                .into_iter()
                                .map(|s| s.value)
                                .collect()
                        }
                        "exists" => {
                            if let Some(b) = self.boolean(ov, "`exists`") {
                                ops.push(Spanned::new(Op::Exists(b), ospan));
                            }
                        }
                        op => {
                            if let Some(s) = self.string(ov, &format!("`{op}`"))
                                && let Some(o) = lower::string_op(self.diags, op, &s.value, ospan)
                            {
                                ops.push(Spanned::new(o, ospan));
                            }
                        }
                    }
                }
            }
            _ => {
                lower::wrong_type(
                    self.diags,
                    self.vspan(v),
                    &format!("condition `{name}`"),
                    "a string, an array of strings or a table of operators",
                    &format!(
                        "write `{name} = \"value\"`, `{name} = [\"a\", \"b\"]` or `{name} = {{ starts-with = \"a\" }}`"
                    ),
                );
                return None;
            }
        }
        ops.sort_by_key(|o: &Spanned<Op>| o.value.rank());
        if values.is_empty() && ops.is_empty() {
            if self.diags.items.len() > reported {
                return None;
            }
            self.diags.push(
                Diagnostic::error("empty-condition", span, format!("condition `{name}` tests nothing"))
                    .label("no value or operator")
                    .help(format!("give values (`{name} = [\"A\", \"B\"]`) or an operator (`{name} = {{ exists = true }}`)")),
            );
            return None;
        }
        Some(AttrCondition {
            attribute: attribute?,
            values,
            ops,
            span,
        })
    }

    // ----- user ---------------------------------------------------------

    pub(super) fn user(&mut self, upn: Spanned<String>, v: &Value<'_>) -> Option<UserOverride> {
        let span = self.vspan(v);
        let t = self.table(v, &format!("user override `{}`", upn.value))?;
        let mut u = UserOverride {
            upn,
            persona: None,
            number: None,
            take_quarantined: false,
            ignore: false,
            expires: None,
            owner: None,
            span,
        };
        let owner = format!("user override `{}`", u.upn.value);
        let fields = self.fields(t, &owner, &Item::User.toml_keys());
        if !fields
            .iter()
            .any(|(k, _, _)| ["persona", "number", "ignore"].contains(&k.as_str()))
        {
            self.diags.push(
                Diagnostic::error("empty-override", u.upn.span, "user override says nothing")
                    .label("no persona, number or ignore")
                    .help("add `persona = \"…\"`, `number = \"+…\"` or `ignore = true`"),
            );
        }
        for (k, _, v) in fields {
            match k.as_str() {
                "persona" => u.persona = self.string(v, "`persona`"),
                "number" => {
                    u.number = self.string(v, "`number`").and_then(|s| {
                        lower::e164(self.diags, &s.value, s.span).map(|n| Spanned::new(n, s.span))
                    })
                }
                "expires" => {
                    u.expires = self.string(v, "`expires`").and_then(|s| {
                        lower::date(self.diags, &s.value, s.span).map(|d| Spanned::new(d, s.span))
                    })
                }
                "owner" => u.owner = self.string(v, "`owner`").map(|s| s.value),
                "take-quarantined" => {
                    u.take_quarantined = self.boolean(v, "`take-quarantined`").unwrap_or(false)
                }
                _ => u.ignore = self.boolean(v, "`ignore`").unwrap_or(false),
            }
        }
        Some(u)
    }
}
