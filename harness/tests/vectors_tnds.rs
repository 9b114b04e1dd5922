//! Every TNDS/DDF golden vector passes, there are enough of them, and a wrong vector fails
//! with a diff. Facts §9.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use dmconf::vectors::tnds::check;

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors/tnds")
}

#[test]
fn every_tnds_vector_passes() {
    let outcomes = check(&vectors_dir());
    let failures: Vec<String> = outcomes
        .iter()
        .filter_map(|o| {
            o.result
                .as_ref()
                .err()
                .map(|why| format!("{} ({}):\n{why}", o.id, o.source.display()))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(outcomes.len() >= 15, "only {} TNDS vectors", outcomes.len());
    assert!(outcomes
        .iter()
        .all(|o| o.source.join("expected.json").is_file()));
}

fn copy_case(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for f in ["input.xml", "expected.json", "canonical.xml"] {
        std::fs::copy(from.join(f), to.join(f)).unwrap();
    }
}

#[test]
fn a_wrong_expected_tree_fails_with_a_unified_diff() {
    let tmp = tempfile::tempdir().unwrap();
    let case = tmp.path().join("01-wrong");
    copy_case(&vectors_dir().join("01-illustrative-tnds"), &case);
    let path = case.join("expected.json");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace("mail.acme.example", "mail.wrong.example"),
    )
    .unwrap();
    let outcomes = check(tmp.path());
    assert_eq!(outcomes.len(), 1);
    let why = outcomes[0].result.as_ref().unwrap_err();
    assert!(why.contains("--- expected"), "{why}");
    assert!(why.contains("+++ actual"), "{why}");
    assert!(
        why.contains("-") && why.contains("mail.wrong.example"),
        "{why}"
    );
}

#[test]
fn a_wrong_canonical_xml_fails_with_a_unified_diff() {
    let tmp = tempfile::tempdir().unwrap();
    let case = tmp.path().join("02-wrong");
    copy_case(&vectors_dir().join("10-faulty-rt-order"), &case);
    // A canonical form that keeps the input's (wrong) order.
    let bad =
        "<MgmtTree xmlns=\"syncml:dmddf1.2\"><VerDTD>1.2</VerDTD><Node><NodeName>Host</NodeName>\
<RTProperties><Type><MIME>text/plain</MIME></Type><Format><chr/></Format><ACL>Get=*</ACL>\
</RTProperties><Value>mail.acme.example</Value></Node></MgmtTree>\n";
    std::fs::write(case.join("canonical.xml"), bad).unwrap();
    let why = check(tmp.path())[0].result.clone().unwrap_err();
    assert!(why.starts_with("canonical XML differs"), "{why}");
    assert!(
        why.contains("--- expected") && why.contains("+++ actual"),
        "{why}"
    );
}

#[test]
fn a_wrong_violation_position_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let case = tmp.path().join("03-wrong");
    copy_case(&vectors_dir().join("10-faulty-rt-order"), &case);
    let path = case.join("expected.json");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("\"line\": 8", "\"line\": 9")).unwrap();
    let why = check(tmp.path())[0].result.clone().unwrap_err();
    assert!(why.starts_with("violations differs"), "{why}");
    assert!(why.contains("\"line\": 9"), "{why}");
}
