use super::check::scan;
use super::*;

#[track_caller]
fn check(input: &str, expected: &str) {
    let out = format(input).unwrap_or_else(|e| panic!("{e}\n--- input\n{input}"));
    assert_eq!(out, expected, "\n--- got\n{out}\n--- expected\n{expected}");
    let again = format(&out).unwrap();
    assert_eq!(again, out, "not idempotent");
}

#[test]
fn whitespace_and_quoting() {
    check(
        "[range.london]\n  location='x'   \ntype   =    \"direct-routing\"\n",
        "[range.london]\ntype = \"direct-routing\"\nlocation = \"x\"\n",
    );
    check(
        "[rule.when]\nemployeeId = { matches = \"C-?\\\\d{5}\" }\nx = 'plain'\ny = \"it's \\\\\"\nz = \"tab\\tq\\\"\"\n",
        "[rule.when]\nemployeeId = { matches = 'C-?\\d{5}' }\nx = \"plain\"\ny = \"it's \\\\\"\nz = \"tab\\tq\\\"\"\n",
    );
}

#[test]
fn keys() {
    check(
        "[user.'ceo@contoso.com']\nignore=true\n[\"range\" . \"a\"]\ntype=\"x\"\n",
        "[user.\"ceo@contoso.com\"]\nignore = true\n\n[range.a]\ntype = \"x\"\n",
    );
}

#[test]
fn canonical_key_order() {
    check(
        "[[rule]]\nwhen = { city = \"L\", jobTitle = \"S\" }\ndescription = \"d\"\npersona = \"p\"\nname = \"n\"\n",
        "[[rule]]\nname = \"n\"\npersona = \"p\"\ndescription = \"d\"\nwhen = { city = \"L\", jobTitle = \"S\" }\n",
    );
    check(
        "[persona.x]\npolicies = { B = \"b\", A = \"a\" }\nnumber = false\ndescription = \"d\"\n",
        "[persona.x]\ndescription = \"d\"\nnumber = false\npolicies = { B = \"b\", A = \"a\" }\n",
    );
    check(
        "[tenant]\nsafety = { max-changed-percent = 30, max-changed-users = 5 }\nprovider = { path = \"t.json\", kind = \"file\" }\nname = \"c\"\n",
        "[tenant]\nname = \"c\"\nprovider = { kind = \"file\", path = \"t.json\" }\nsafety = { max-changed-users = 5, max-changed-percent = 30 }\n",
    );
    check(
        "[rule.when]\nz = { exists = true, starts-with = \"a\" }\nany = [{ b = { contains = \"c\", equals = \"d\" } }]\n",
        "[rule.when]\nz = { starts-with = \"a\", exists = true }\nany = [{ b = { equals = \"d\", contains = \"c\" } }]\n",
    );
    // Unknown keys after the known ones, as written.
    check(
        "[range.a]\nzz = 1\ntype = \"x\"\naa = 2\n",
        "[range.a]\ntype = \"x\"\nzz = 1\naa = 2\n",
    );
}

#[test]
fn tables_and_blank_lines() {
    check(
        "\n\n# top\n\n[persona.a]\ndescription = \"d\"\n\n\n[persona.a.policies]\nX = \"y\"\n[persona.b]\nnumber = false\n\n\n\n# end\n\n",
        "# top\n\n[persona.a]\ndescription = \"d\"\n[persona.a.policies]\nX = \"y\"\n\n[persona.b]\nnumber = false\n\n# end\n",
    );
    check(
        "[[rule]]\nname = \"a\"\n\n[rule.when]\nx = \"1\"\n[[rule]]\nname = \"b\"\n",
        "[[rule]]\nname = \"a\"\n[rule.when]\nx = \"1\"\n\n[[rule]]\nname = \"b\"\n",
    );
    check(
        "[a]\nx = 1\n\n\n# about y\n\ny = 2\n",
        "[a]\nx = 1\n\n# about y\n\ny = 2\n",
    );
}

#[test]
fn arrays() {
    check(
        "[range.a]\nreserve = [ \"+1\" ,\n \"+2\" , ]\n",
        "[range.a]\nreserve = [\"+1\", \"+2\"]\n",
    );
    let long = "[range.a]\nblocks = [[\"+442071230000\", \"+442071230999\"], [\"+442071231000\", \"+442071231099\"], [\"+442071232000\", \"+442071232099\"]]\n";
    check(
        long,
        "[range.a]\nblocks = [\n    [\"+442071230000\", \"+442071230999\"],\n    [\"+442071231000\", \"+442071231099\"],\n    [\"+442071232000\", \"+442071232099\"],\n]\n",
    );
    check(
        "[range.a]\nblocks = [ # the blocks\n  [\"+1\", \"+2\"], # first\n  # own line\n  [\"+3\", \"+4\"] # last\n]\n",
        "[range.a]\nblocks = [ # the blocks\n    [\"+1\", \"+2\"], # first\n    # own line\n    [\"+3\", \"+4\"], # last\n]\n",
    );
    check("a = []\nb = [ ]\n", "a = []\nb = []\n");
}

#[test]
fn comments_stay() {
    check(
        "# head\n\n[range.a] # header\n# before type\ntype = \"x\"    # trailing\n",
        "# head\n\n[range.a] # header\n# before type\ntype = \"x\"    # trailing\n",
    );
    check("x = 1\n# eof", "x = 1\n# eof\n");
}

#[test]
fn inline_tables_over_several_lines_are_kept() {
    let text = "x = { a = 1, # one\n  b = 2 }\n";
    let out = format(text).unwrap();
    assert!(out.contains("# one"), "{out}");
    assert_eq!(format(&out).unwrap(), out);
}

#[test]
fn multi_line_strings_keep_their_form() {
    let text = "[persona.a]\ndescription = \"\"\"\nline one\nline two\"\"\"\n";
    check(text, text);
}

#[test]
fn scanner() {
    let (c, nl) = scan("a = \"# no\" # yes\nb = '''#\n''' # two");
    assert_eq!(c, ["# yes", "# two"]);
    assert!(nl);
    assert_eq!(scan("x = \"\"\"a\"\"\"\"\" # c").0, ["# c"]);
}

#[test]
fn syntax_errors_are_reported_with_a_place() {
    let e = format("[a]\nx = = 1\n").unwrap_err();
    assert!(
        matches!(
            e,
            FmtError::Syntax {
                format: "TOML",
                line: 2,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn dotted_keys() {
    let text = "a.b.c = 1\nz = 2\n\n[t]\nx.y = 1\nx.z = \"q\"\nw = 3\n";
    check(text, text);
    check(
        "[[rule]]\nwhen.city = \"L\"\nwhen.any = []\nname = \"n\"\n",
        "[[rule]]\nname = \"n\"\nwhen.city = \"L\"\nwhen.any = []\n",
    );
    check(
        "[tenant]\nleavers.reset-policies = false\nleavers.release-number = true\n",
        "[tenant]\nleavers.release-number = true\nleavers.reset-policies = false\n",
    );
    check("p = { a.b = 1, c = 2 }\n", "p = { a.b = 1, c = 2 }\n");
}

#[test]
fn special_floats() {
    check("f = nan\ng = -inf\n", "f = nan\ng = -inf\n");
}

#[test]
fn a_byte_order_mark_stays() {
    check("\u{FEFF}a   =  1\n", "\u{FEFF}a = 1\n");
    check("\u{FEFF}", "\u{FEFF}");
}

#[test]
fn a_test_item_is_laid_out_by_the_key_table() {
    check(
        "[[test]]\nexpect = { range = \"london\", persona = \"uk-sales\" }\nuser = { memberOf = [\"G\"], city = \"London\", accountEnabled = false }\nname = \"t\"\n",
        "[[test]]\nname = \"t\"\nuser = { accountEnabled = false, memberOf = [\"G\"], city = \"London\" }\nexpect = { persona = \"uk-sales\", range = \"london\" }\n",
    );
}
