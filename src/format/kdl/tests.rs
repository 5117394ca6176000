use super::print::reindent;
use super::*;

/// Format, check the expected text, and check that formatting it again
/// changes nothing.
#[track_caller]
fn check(input: &str, expected: &str) {
    let out = format(input).unwrap_or_else(|e| panic!("{e}\n--- input\n{input}"));
    assert_eq!(out, expected, "\n--- got\n{out}\n--- expected\n{expected}");
    let again = format(&out).unwrap();
    assert_eq!(again, out, "not idempotent");
}

#[test]
fn indentation_spacing_and_quoting() {
    check(
        "range   london  location=\"x\"   type=direct-routing {\n  block \"+1\"    \"+2\"\n\t\treserve \"+1\"\n}\n",
        "range \"london\" type=\"direct-routing\" location=\"x\" {\n    block \"+1\" \"+2\"\n    reserve \"+1\"\n}\n",
    );
}

#[test]
fn semicolons_become_lines() {
    check(
        "persona \"p\" { policies { A \"x\"; B \"y\" }; number #false }",
        "persona \"p\" {\n    policies {\n        A \"x\"\n        B \"y\"\n    }\n    number #false\n}\n",
    );
}

#[test]
fn a_single_plain_child_may_stay_on_its_line() {
    let text = "persona \"p\" {\n    policies { TeamsCallingPolicy \"DisallowCalling\" }\n    number #false\n}\n";
    check(text, text);
    check(
        "rule \"r\" persona=\"p\" {\n    when {\n        not {   department \"C\"   }\n    }\n}\n",
        "rule \"r\" persona=\"p\" {\n    when {\n        not { department \"C\" }\n    }\n}\n",
    );
}

#[test]
fn property_order() {
    check(
        "user \"a@b\" ignore=#true number=\"+1\" persona=\"p\"\n",
        "user \"a@b\" persona=\"p\" number=\"+1\" ignore=#true\n",
    );
    check(
        "tenant {\n    safety max-changed-percent=30 max-changed-users=5\n    leavers reset-policies=#false release-number=#true\n    provider \"graph\" endpoint=\"e\" client-id=\"c\" tenant-id=\"t\"\n}\n",
        "tenant {\n    safety max-changed-users=5 max-changed-percent=30\n    leavers release-number=#true reset-policies=#false\n    provider \"graph\" tenant-id=\"t\" client-id=\"c\" endpoint=\"e\"\n}\n",
    );
    check(
        "rule \"r\" persona=\"p\" {\n    when {\n        any {\n            jobTitle exists=#true contains=\"x\" starts-with=\"y\"\n        }\n    }\n}\n",
        "rule \"r\" persona=\"p\" {\n    when {\n        any {\n            jobTitle starts-with=\"y\" contains=\"x\" exists=#true\n        }\n    }\n}\n",
    );
    // Arguments first; other nodes' properties alphabetically.
    check("other z=1 \"a\" b=2 \"c\"\n", "other \"a\" \"c\" b=2 z=1\n");
}

#[test]
fn strings() {
    check(
        "a bare \"tab\\there\" #\"\\d+\"# \"say \\\"hi\\\"\" \"\"\n",
        "a \"bare\" \"tab\\there\" #\"\\d+\"# #\"say \"hi\"\"# \"\"\n",
    );
    check("a \"x\\\"#\"\n", "a ##\"x\"#\"##\n");
    // Identifiers KDL would allow bare are quoted; names are bare when they can be.
    check("\"persona\" p\n", "persona \"p\"\n");
    check(
        "\"my node\" 1 0x1F 1_000 #null #inf\n",
        "\"my node\" 1 0x1F 1_000 #null #inf\n",
    );
}

#[test]
fn multi_line_strings_keep_their_form() {
    let text = "a {\n    description \"\"\"\n        two\n        lines\n        \"\"\"\n}\n";
    check(text, text);
}

#[test]
fn blank_lines() {
    check(
        "\n\n// header\n\n\nrange \"a\" type=\"x\"\nrule \"b\" persona=\"x\"\n\n\n\nuser \"a\" ignore=#true\nuser \"b\" ignore=#true\n\nuser \"c\" ignore=#true\n\n\n",
        "// header\n\nrange \"a\" type=\"x\"\n\nrule \"b\" persona=\"x\"\n\nuser \"a\" ignore=#true\nuser \"b\" ignore=#true\n\nuser \"c\" ignore=#true\n",
    );
    check("a {\n\n    b\n\n\n    c\n\n}\n", "a {\n    b\n\n    c\n}\n");
}

#[test]
fn comments_stay() {
    check(
        "// top\nrange \"l\" /* why */ type=\"d\" { // open\n    block \"+1\" \"+2\"   // inclusive\n    /-block \"a\" \"b\"\n    reserve \"+1\" /* r */\n    // last\n} // after close\n/-persona \"x\" {\n    number #false\n}\n// end\n",
        "// top\nrange \"l\" /* why */ type=\"d\" { // open\n    block \"+1\" \"+2\"   // inclusive\n    /-block \"a\" \"b\"\n    reserve \"+1\" /* r */\n    // last\n} // after close\n/-persona \"x\" {\n    number #false\n}\n\n// end\n",
    );
}

#[test]
fn comments_move_with_their_entry() {
    check(
        "user \"u\" /* the pin */ number=\"+1\" /-persona=\"old\" persona=\"p\"\n",
        "user \"u\" /-persona=\"old\" persona=\"p\" /* the pin */ number=\"+1\"\n",
    );
}

#[test]
fn escaped_newlines() {
    // Without a comment, the node is joined onto one line.
    check("a \"b\" \\\n    c=\"d\"\n", "a \"b\" c=\"d\"\n");
    // With one, the break stays.
    check(
        "a \"b\" \\ // why\n  c=\"d\"\n",
        "a \"b\" \\ // why\n    c=\"d\"\n",
    );
    // A comment after the last entry ends the node's line.
    check("a \"b\" \\ // why\n\nb\n", "a \"b\" // why\n\nb\n");
}

#[test]
fn comments_after_semicolons() {
    check("a; /* x */ b; // c\nd\n", "a\n\n/* x */\nb // c\n\nd\n");
    check(
        "p {\n    a; // after a\n    b\n}\n",
        "p {\n    a // after a\n    b\n}\n",
    );
}

#[test]
fn slashdashed_blocks_are_reindented() {
    check(
        "a {\n/-b {\n    c\n}\n}\n",
        "a {\n    /-b {\n        c\n    }\n}\n",
    );
    check(
        "a {\n    /* one\n       two */\n    b\n}\n",
        "a {\n    /* one\n       two */\n    b\n}\n",
    );
}

#[test]
fn empty_and_comment_only_files() {
    check("", "");
    check("\n\n  \n", "");
    check("// only\n", "// only\n");
    check("a {}\n", "a {}\n");
    check("a {\n}\n", "a {}\n");
}

#[test]
fn syntax_errors_are_reported_with_a_place() {
    let e = format("a {\n  b \"x\n}\n").unwrap_err();
    assert!(
        matches!(
            e,
            FmtError::Syntax {
                format: "KDL",
                line: 2,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(matches!(format("a true\n"), Err(FmtError::Syntax { .. })));
}

#[test]
fn reindent_moves_later_lines() {
    assert_eq!(reindent("/* a\n     b */", 4, 0), "/* a\n b */");
    assert_eq!(reindent("/* a\n b */", 0, 4), "/* a\n     b */");
    // Lines that would lose text are left alone.
    assert_eq!(reindent("/* a\nb */", 4, 0), "/* a\nb */");
}

#[test]
fn a_test_item_is_laid_out_by_the_key_table() {
    // `accountEnabled` (a known key) first, then the attributes by name;
    // `expect`'s outcome before `range`.
    check(
        "test   \"t\" {\n  user city=\"London\"  accountEnabled=#false jobTitle=\"Sales\" { memberOf \"G\" }\n  expect range=\"london\"   persona=\"uk-sales\"\n}\n",
        "test \"t\" {\n    user accountEnabled=#false city=\"London\" jobTitle=\"Sales\" { memberOf \"G\" }\n    expect persona=\"uk-sales\" range=\"london\"\n}\n",
    );
}
