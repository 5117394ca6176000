//! KDL 2.0 manifests (the `kdl` crate) lowered into the [`Manifest`] model.
//!
//! Unknown nodes and properties, wrong value types and missing arguments are
//! diagnostics pointing at the entry; lowering carries on so every problem of
//! a file is reported. No I/O.

use std::collections::BTreeMap;

use kdl::{KdlDocument, KdlEntry, KdlNode, KdlValue};

use super::diag::{Diagnostic, Diagnostics};
use super::lower;
use super::model::*;
use super::source::{FileId, Span, Spanned};

struct Ctx<'d> {
    file: FileId,
    text: &'d str,
    diags: &'d mut Diagnostics,
}

/// Parse one KDL file and add what it says to `manifest`.
pub fn lower_file(text: &str, file: FileId, manifest: &mut Manifest, diags: &mut Diagnostics) {
    let doc = match KdlDocument::parse(text) {
        Ok(doc) => doc,
        Err(err) => {
            syntax_errors(text, file, err, diags);
            return;
        }
    };
    let mut cx = Ctx { file, text, diags };
    for node in doc.nodes() {
        cx.top_level(node, manifest);
    }
}

/// Report what the KDL parser found, in our words where theirs are
/// obscure, without the echoes one problem leaves in the parser.
fn syntax_errors(text: &str, file: FileId, err: kdl::KdlError, diags: &mut Diagnostics) {
    let unclosed_block = err
        .diagnostics
        .iter()
        .any(|d| d.message.as_deref() == Some("No closing '}' for child block"));
    for d in err.diagnostics {
        let range = d.span.offset()..d.span.offset() + d.span.len();
        let span = Span::new(file, range.clone());
        let message = d.message.unwrap_or_else(|| "invalid KDL".into());
        // The same unclosed block, reported again over the whole document.
        if unclosed_block && message == "Closing '}' was not found after nodes" {
            continue;
        }
        let written = text.get(range).unwrap_or("");
        let diag = match written {
            // KDL 1.0 spellings: bare keywords are not values in KDL 2.0.
            "true" | "false" | "null" => Diagnostic::error(
                "kdl-syntax",
                span,
                format!("bare `{written}` is not a value in KDL 2.0"),
            )
            .label(format!("write `#{written}`"))
            .help("manifests are KDL 2.0: the keywords are `#true`, `#false` and `#null`"),
            _ if message == "Unexpected newline in single-line quoted string" => {
                Diagnostic::error("kdl-syntax", span, "string not closed on its line")
                    .label("no closing `\"`")
                    .help("close the string with `\"` before the end of the line")
            }
            _ => {
                let help = d.help.unwrap_or_else(|| {
                    if message.contains("closing '}'") || message.contains("Closing '}'") {
                        "add the `}` that closes this block".into()
                    } else {
                        "manifests are KDL 2.0: strings are quoted, booleans are `#true`/`#false`"
                            .into()
                    }
                });
                Diagnostic::error("kdl-syntax", span, message)
                    .label(d.label.unwrap_or_else(|| "here".into()))
                    .help(help)
            }
        };
        diags.push(diag);
    }
}

impl Ctx<'_> {
    fn span(&self, s: miette::SourceSpan) -> Span {
        Span::new(self.file, s.offset()..s.offset() + s.len())
    }

    fn node_span(&self, node: &KdlNode) -> Span {
        self.span(node.span())
    }

    fn name_span(&self, node: &KdlNode) -> Span {
        self.span(node.name().span())
    }

    /// A node without its children block: `tenant "contoso"`.
    fn head_span(&self, node: &KdlNode) -> Span {
        let start = node.span().offset();
        let end = node
            .entries()
            .iter()
            .map(|e| e.span().offset() + e.span().len())
            .chain([node.name().span().offset() + node.name().span().len()])
            .max()
            .unwrap_or(start);
        Span::new(self.file, start..end)
    }

    fn top_level(&mut self, node: &KdlNode, m: &mut Manifest) {
        match node.name().value() {
            "tenant" => {
                if let Some(t) = self.tenant(node) {
                    if let Some(first) = &m.tenant {
                        self.diags.push(lower::duplicate_tenant(t.span, first.span));
                    } else {
                        m.tenant = Some(t);
                    }
                }
            }
            "range" => {
                if let Some(r) = self.range(node) {
                    m.ranges.push(r);
                }
            }
            "persona" => {
                if let Some(p) = self.persona(node) {
                    m.personas.push(p);
                }
            }
            "rule" => {
                if let Some(r) = self.rule(node) {
                    m.rules.push(r);
                }
            }
            "user" => {
                if let Some(u) = self.user(node) {
                    m.users.push(u);
                }
            }
            other => {
                let span = self.name_span(node);
                lower::unknown(self.diags, "item", other, span, lower::TOP_LEVEL_ITEMS)
            }
        }
    }

    /// Positional arguments of a node.
    fn args<'n>(&self, node: &'n KdlNode) -> Vec<&'n KdlEntry> {
        node.entries()
            .iter()
            .filter(|e| e.name().is_none())
            .collect()
    }

    /// Properties of a node by name; unknown and repeated ones are reported.
    fn props<'n>(&mut self, node: &'n KdlNode, allowed: &[&str]) -> BTreeMap<String, &'n KdlEntry> {
        let owner = format!("`{}`", node.name().value());
        self.props_of(node, allowed, "property", &owner)
    }

    /// [`Self::props`], naming what the properties are (`operator`) and
    /// whose (`condition `city``) in messages.
    fn props_of<'n>(
        &mut self,
        node: &'n KdlNode,
        allowed: &[&str],
        what: &str,
        owner: &str,
    ) -> BTreeMap<String, &'n KdlEntry> {
        let mut out: BTreeMap<String, &KdlEntry> = BTreeMap::new();
        for e in node.entries() {
            let Some(name) = e.name() else { continue };
            let key = name.value().to_string();
            let span = self.span(e.span());
            if !allowed.contains(&key.as_str()) {
                if allowed.is_empty() {
                    self.diags.push(
                        Diagnostic::error(
                            "unknown-item",
                            span,
                            format!("`{}` takes no properties", node.name().value()),
                        )
                        .label("unexpected property")
                        .help(format!("remove `{key}=…`")),
                    );
                } else {
                    lower::unknown_in(self.diags, what, &key, owner, span, allowed);
                }
                continue;
            }
            if let Some(first) = out.get(&key) {
                let first = self.span(first.span());
                lower::duplicate_key(self.diags, span, &key, first);
                continue;
            }
            out.insert(key, e);
        }
        out
    }

    fn no_args(&mut self, node: &KdlNode, hint: &str) {
        for a in self.args(node) {
            let span = self.span(a.span());
            self.diags.push(
                Diagnostic::error(
                    "unexpected-argument",
                    span,
                    format!("`{}` takes no value here", node.name().value()),
                )
                .label("unexpected value")
                .help(hint.to_string()),
            );
        }
    }

    fn no_children(&mut self, node: &KdlNode) {
        if let Some(children) = node.children()
            && !children.nodes().is_empty()
        {
            let span = self.span(children.span());
            self.diags.push(
                Diagnostic::error(
                    "unexpected-children",
                    span,
                    format!("`{}` takes no children block", node.name().value()),
                )
                .label("unexpected block")
                .help("remove the `{ … }` block"),
            );
        }
    }

    /// The children of a node that takes each child once; a repeated one is
    /// reported and skipped. Yields (name, name span, child).
    fn unique_children<'n>(&mut self, node: &'n KdlNode) -> Vec<(&'n str, Span, &'n KdlNode)> {
        let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
        let mut out = Vec::new();
        for child in self.children(node) {
            let key = child.name().value();
            let span = self.name_span(child);
            if let Some(first) = seen.get(key) {
                lower::duplicate_key(self.diags, span, key, *first);
                continue;
            }
            seen.insert(key, span);
            out.push((key, span, child));
        }
        out
    }

    fn children<'n>(&self, node: &'n KdlNode) -> &'n [KdlNode] {
        node.children().map(|d| d.nodes()).unwrap_or(&[])
    }

    fn string(&mut self, e: &KdlEntry, what: &str) -> Option<Spanned<String>> {
        let span = self.span(e.span());
        match e.value() {
            KdlValue::String(s) => Some(Spanned::new(s.clone(), span)),
            other => {
                let hint = match other {
                    KdlValue::Integer(_) | KdlValue::Float(_) => {
                        lower::quote_hint(self.value_text(e))
                    }
                    _ => "strings are written in double quotes".into(),
                };
                lower::wrong_type(self.diags, span, what, "a string", &hint);
                None
            }
        }
    }

    fn boolean(&mut self, e: &KdlEntry, what: &str) -> Option<bool> {
        match e.value() {
            KdlValue::Bool(b) => Some(*b),
            _ => {
                let span = self.span(e.span());
                lower::wrong_type(
                    self.diags,
                    span,
                    what,
                    "a boolean",
                    "write `#true` or `#false`",
                );
                None
            }
        }
    }

    fn integer(&mut self, e: &KdlEntry, what: &str, max: i128) -> Option<i128> {
        match e.value() {
            KdlValue::Integer(i) if (0..=max).contains(i) => Some(*i),
            other => {
                let span = self.span(e.span());
                let parsed = match other {
                    KdlValue::Integer(i) => Some(*i),
                    _ => None,
                };
                lower::wrong_type(
                    self.diags,
                    span,
                    what,
                    &format!("a whole number from 0 to {max}"),
                    &lower::integer_hint(parsed, max),
                );
                None
            }
        }
    }

    /// The source text of an entry's value (`+4420…` as written, where the
    /// parsed integer would have lost the `+`).
    fn value_text(&self, e: &KdlEntry) -> Option<&str> {
        let whole = self
            .text
            .get(e.span().offset()..e.span().offset() + e.span().len())?;
        Some(match e.name() {
            Some(_) => whole.split_once('=').map_or(whole, |(_, v)| v),
            None => whole,
        })
    }

    /// The single string argument naming an item (`persona "NAME"`);
    /// `what` is what the name is ("persona name", "user principal name").
    fn item_name(&mut self, node: &KdlNode, what: &str) -> Option<Spanned<String>> {
        let args = self.args(node);
        let node_span = self.node_span(node);
        match args.as_slice() {
            [] => {
                let example = if node.name().value() == "user" {
                    "someone@contoso.com"
                } else {
                    "NAME"
                };
                lower::missing(
                    self.diags,
                    self.span(node.name().span()),
                    &format!("the {what}"),
                    &format!("write `{} \"{example}\"`", node.name().value()),
                );
                None
            }
            [one, rest @ ..] => {
                for extra in rest {
                    let span = self.span(extra.span());
                    self.diags.push(
                        Diagnostic::error(
                            "unexpected-argument",
                            span,
                            format!("`{}` takes one name", node.name().value()),
                        )
                        .label("extra value")
                        .help("remove it, or give it as a property: `key=\"value\"`"),
                    );
                }
                let name = self.string(one, &format!("the {what}"))?;
                if name.value.trim().is_empty() {
                    self.diags.push(
                        Diagnostic::error("empty-value", node_span, format!("empty {what}"))
                            .label("name expected")
                            .help(format!("give the {what} between the quotes")),
                    );
                    return None;
                }
                Some(name)
            }
        }
    }

    // ----- tenant -------------------------------------------------------

    fn tenant(&mut self, node: &KdlNode) -> Option<Tenant> {
        // The name is optional, as `name` is in TOML.
        let name = if self.args(node).is_empty() {
            None
        } else {
            self.item_name(node, "tenant name")
        };
        self.props(node, &[]);
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
                    let p = self.props(child, &["release-number", "reset-policies"]);
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
                    let p = self.props(child, &["max-changed-users", "max-changed-percent"]);
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
                }
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
                    &["provider", "scope", "leavers", "safety", "paused"],
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
                let p = self.props(node, &["path"]);
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
                let p = self.props(node, GRAPH_PROVIDER_PROPERTIES);
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
                    endpoint: get(self, "endpoint"),
                    authority: get(self, "authority"),
                };
                Some(Spanned::new(ProviderConfig::Graph(g), span))
            }
            other => {
                lower::unknown(self.diags, "provider", other, kind.span, &["file", "graph"]);
                None
            }
        }
    }

    // ----- range --------------------------------------------------------

    fn range(&mut self, node: &KdlNode) -> Option<NumberRange> {
        let name = self.item_name(node, "range name");
        let p = self.props(node, &["type", "location"]);
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
                        &["block", "reserve"],
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

    fn persona(&mut self, node: &KdlNode) -> Option<Persona> {
        let name = self.item_name(node, "persona name");
        self.props(node, &[]);
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
                    &["description", "policies", "number"],
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

    fn rule(&mut self, node: &KdlNode) -> Option<Rule> {
        let name = self.item_name(node, "rule name");
        let p = self.props(node, &["persona"]);
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
                        crate::catalog::did_you_mean(other, ["description", "when"])
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
                let props = self.props_of(node, OPERATORS, "operator", &owner);
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

    fn user(&mut self, node: &KdlNode) -> Option<UserOverride> {
        let upn = self.item_name(node, "user principal name");
        let p = self.props(node, &["persona", "number", "ignore"]);
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
        if p.is_empty() {
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
            ignore,
            span,
        })
    }
}
