#![allow(clippy::unwrap_used)]

use super::*;
use rstest::rstest;

fn segs(u: &NodeUri) -> Vec<&str> {
    u.segments().iter().map(String::as_str).collect()
}

// facts §4.1: valid URIs, their segments and canonical form.
#[rstest]
#[case(".", &[], ".")]
#[case("./DMAcc/x", &["DMAcc", "x"], "./DMAcc/x")]
#[case("DMAcc/x", &["DMAcc", "x"], "./DMAcc/x")]
#[case("./a.b/c..d", &["a.b", "c..d"], "./a.b/c..d")]
#[case("./A%20B", &["A B"], "./A%20B")]
#[case("./%41b", &["Ab"], "./Ab")]
#[case("./caf%c3%a9", &["café"], "./caf%C3%A9")]
#[case("./x:@&=+$,-_!~*'()", &["x:@&=+$,-_!~*'()"], "./x:@&=+$,-_!~*'()")]
#[case("./100%25", &["100%"], "./100%25")]
fn parse_valid(#[case] input: &str, #[case] expected: &[&str], #[case] canonical: &str) {
    let u = NodeUri::parse(input).unwrap();
    assert_eq!(segs(&u), expected);
    assert_eq!(u.to_string(), canonical);
    assert_eq!(NodeUri::parse(canonical).unwrap(), u);
}

// facts §4.1: syntax errors, with their kinds; syntax errors carry no fixed status.
#[rstest]
#[case("", "empty")]
#[case("/a", "leading_slash")]
#[case("./", "trailing_slash")]
#[case("a/", "trailing_slash")]
#[case("a//b", "empty_segment")]
#[case("./../a", "dot_dot_segment")]
#[case("a/../b", "dot_dot_segment")]
#[case("a/./b", "dot_segment")]
#[case("./.", "dot_segment")]
#[case("..", "dot_dot_segment")]
#[case("a/%2E", "dot_segment")]
#[case("a/%zz", "bad_escape")]
#[case("a/%4", "bad_escape")]
#[case("a/%C3", "invalid_utf8")]
#[case("a%2Fb", "slash_in_segment")]
#[case("a b", "invalid_char")]
#[case("a?prop=ACL", "invalid_char")]
#[case("café", "invalid_char")]
fn parse_invalid(#[case] input: &str, #[case] kind: &str) {
    let e = NodeUri::parse(input).unwrap_err();
    assert_eq!(e.kind(), kind, "{e}");
    assert_eq!(e.status_code(), None);
}

#[test]
fn error_positions() {
    let e = NodeUri::parse("./a/b//c").unwrap_err();
    assert_eq!(
        e,
        UriError::EmptySegment {
            index: 2,
            offset: 6
        }
    );
    let e = NodeUri::parse("a/b%zz").unwrap_err();
    assert_eq!(e, UriError::BadEscape { offset: 3 });
}

#[test]
fn lenient_accepts_raw_characters() {
    let opts = ParseOptions {
        allow_unescaped: true,
    };
    let u = NodeUri::parse_with("./a b/café", opts).unwrap();
    assert_eq!(segs(&u), ["a b", "café"]);
    assert_eq!(u.to_string(), "./a%20b/caf%C3%A9");
    assert!(NodeUri::parse_with("a\u{1}", opts).is_err());
    assert!(NodeUri::parse_with("a/%zz", opts).is_err());
}

// facts §4.1, §4.3, §4.6: queries.
#[rstest]
#[case("./a?prop=ACL", UriQuery::Prop(Property::Acl))]
#[case("a?prop=TStamp", UriQuery::Prop(Property::TStamp))]
#[case(".?list=Struct", UriQuery::List(ListQuery::Struct))]
#[case("a?list=StructData", UriQuery::List(ListQuery::StructData))]
#[case("a?list=TNDS", UriQuery::List(ListQuery::Tnds(TndsFilter::All)))]
#[case(
    "a?list=TNDS+Value+ACL",
    UriQuery::List(ListQuery::Tnds(TndsFilter::Include(vec![
        TndsField::Value,
        TndsField::Prop(Property::Acl)
    ])))
)]
#[case(
    "a?list=TNDS-Format",
    UriQuery::List(ListQuery::Tnds(TndsFilter::Exclude(vec![TndsField::Prop(Property::Format)])))
)]
fn queries(#[case] input: &str, #[case] q: UriQuery) {
    let r = UriRef::parse(input).unwrap();
    assert_eq!(r.query, Some(q));
    assert_eq!(UriRef::parse(&r.to_string()).unwrap(), r);
}

#[rstest]
#[case("a?prop=Value", "unknown_property")]
#[case("a?prop=acl", "unknown_property")]
#[case("a?foo=bar", "unknown_query")]
#[case("a?list=Tree", "unknown_list_attribute")]
#[case("a?list=TNDSX", "unknown_list_attribute")]
#[case("a?list=TNDS+Value-ACL", "mixed_tnds_filter")]
#[case("a?list=TNDS+", "unknown_tnds_field")]
#[case("a?list=TNDS+Foo", "unknown_tnds_field")]
#[case("a?list=TNDS-Size-Size", "duplicate_tnds_field")]
#[case("a/?prop=ACL", "trailing_slash")]
fn query_errors(#[case] input: &str, #[case] kind: &str) {
    assert_eq!(UriRef::parse(input).unwrap_err().kind(), kind);
}

// facts §4.1, §5.3: limits → 414; 0 = unlimited.
#[rstest]
#[case("./a/b/c", 2, 0, 0, Some("too_deep"))]
#[case("./a/b/c", 3, 0, 0, None)]
#[case("./a/b/c", 0, 6, 0, Some("too_long"))]
#[case("./a/b/c", 0, 7, 0, None)]
#[case("./abc/d", 0, 0, 2, Some("segment_too_long"))]
#[case("./a%20/d", 0, 0, 3, Some("segment_too_long"))]
#[case("./a%20/d", 0, 0, 4, None)]
#[case("./abc/d", 0, 0, 0, None)]
fn limits(
    #[case] input: &str,
    #[case] max_depth: usize,
    #[case] max_tot_len: usize,
    #[case] max_seg_len: usize,
    #[case] kind: Option<&str>,
) {
    let lim = UriLimits {
        max_depth,
        max_tot_len,
        max_seg_len,
    };
    let r = lim.check(&NodeUri::parse(input).unwrap());
    assert_eq!(r.as_ref().err().map(UriError::kind), kind);
    if let Err(e) = r {
        assert_eq!(e.status_code(), Some(414));
    }
}

#[test]
fn helpers() {
    let root = NodeUri::root();
    let a = NodeUri::parse("./DMAcc").unwrap();
    let ax = NodeUri::parse("DMAcc/x").unwrap();
    assert!(root.is_root() && !a.is_root());
    assert_eq!(root.to_string(), ".");
    assert_eq!(root.parent(), None);
    assert_eq!(ax.parent(), Some(a.clone()));
    assert_eq!(a.parent(), Some(root.clone()));
    assert_eq!(a.child("x").unwrap(), ax);
    assert_eq!(a.child("a b").unwrap().to_string(), "./DMAcc/a%20b");
    for bad in ["", ".", "..", "a/b"] {
        assert!(a.child(bad).is_err(), "{bad:?}");
    }
    assert_eq!(ax.depth(), 2);
    assert_eq!(ax.name(), Some("x"));
    assert!(root.is_ancestor_of(&ax) && a.is_ancestor_of(&ax));
    assert!(!ax.is_ancestor_of(&ax) && ax.starts_with(&ax));
    assert!(!NodeUri::parse("DMAc").unwrap().is_ancestor_of(&a));
    let chain: Vec<String> = ax.self_and_ancestors().map(|u| u.to_string()).collect();
    assert_eq!(chain, ["./DMAcc/x", "./DMAcc", "."]);
}
