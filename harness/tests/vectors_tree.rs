//! Every tree golden vector passes against `dm-tree`, there are enough of them, blessing
//! reproduces the committed files, and a wrong vector fails with a unified diff. Facts §2.6,
//! §3.2, §4, §5, §8, §9.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use dmconf::vectors::{self, tree::check};

fn vectors_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors")
}

fn tree_dir() -> PathBuf {
    vectors_root().join("tree")
}

/// Copy one case folder (all its files) to `to`.
fn copy_case(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
    }
}

#[test]
fn every_tree_vector_passes() {
    let outcomes = check(&tree_dir());
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
    assert!(outcomes.len() >= 40, "only {} tree vectors", outcomes.len());
    for o in &outcomes {
        for f in ["case.json", "start.xml", "expected.json", "end.xml"] {
            assert!(o.source.join(f).is_file(), "{} has no {f}", o.id);
        }
    }
}

#[test]
fn the_tree_category_is_part_of_vectors_check() {
    let all = vectors::check_dir(&vectors_root()).unwrap();
    let (_, tree) = all.iter().find(|(name, _)| *name == "tree").unwrap();
    assert_eq!(tree.len(), check(&tree_dir()).len());
}

#[test]
fn a_wrong_status_fails_with_a_unified_diff() {
    let tmp = tempfile::tempdir().unwrap();
    let case = tmp.path().join("05-add-existing-418");
    copy_case(&tree_dir().join("05-add-existing-418"), &case);
    let path = case.join("expected.json");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("\"code\": 418"));
    std::fs::write(&path, text.replacen("\"code\": 418", "\"code\": 200", 1)).unwrap();

    let outcomes = check(tmp.path());
    assert_eq!(outcomes.len(), 1);
    let why = outcomes[0].result.as_ref().unwrap_err();
    assert!(why.starts_with("outcomes differ"), "{why}");
    assert!(
        why.contains("--- expected") && why.contains("+++ actual"),
        "{why}"
    );
    assert!(why.contains("-          \"code\": 200,"), "{why}");
    assert!(why.contains("+          \"code\": 418,"), "{why}");
}

#[test]
fn a_wrong_end_tree_fails_with_a_unified_diff() {
    let tmp = tempfile::tempdir().unwrap();
    let case = tmp.path().join("10-replace-leaf");
    copy_case(&tree_dir().join("10-replace-leaf"), &case);
    let path = case.join("end.xml");
    let text = std::fs::read_to_string(&path).unwrap();
    // The value before the Replace: as if the Replace had not been applied.
    std::fs::write(
        &path,
        text.replace("imap.acme.example", "mail.acme.example"),
    )
    .unwrap();

    let why = check(tmp.path())[0].result.clone().unwrap_err();
    assert!(why.starts_with("end tree differs"), "{why}");
    assert!(
        why.contains("-        <Value>mail.acme.example</Value>"),
        "{why}"
    );
    assert!(
        why.contains("+        <Value>imap.acme.example</Value>"),
        "{why}"
    );
}

#[test]
fn a_case_whose_id_is_not_its_folder_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let case = tmp.path().join("99-renamed");
    copy_case(&tree_dir().join("01-add-leaf"), &case);
    let why = check(tmp.path())[0].result.clone().unwrap_err();
    assert!(why.contains("id differs from the folder name"), "{why}");
}

#[test]
fn blessing_reproduces_the_committed_files() {
    let tmp = tempfile::tempdir().unwrap();
    let cases = ["35-acl-scrub-on-account-delete", "52-chunked-replace"];
    for id in cases {
        let case = tmp.path().join("tree").join(id);
        copy_case(&tree_dir().join(id), &case);
        std::fs::remove_file(case.join("expected.json")).unwrap();
        std::fs::remove_file(case.join("end.xml")).unwrap();
    }
    let out = Command::new(env!("CARGO_BIN_EXE_dmconf"))
        .args(["vectors", "check", tmp.path().to_str().unwrap()])
        .env("DMCONF_BLESS", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    for id in cases {
        for f in ["expected.json", "end.xml"] {
            let blessed =
                std::fs::read_to_string(tmp.path().join("tree").join(id).join(f)).unwrap();
            let committed = std::fs::read_to_string(tree_dir().join(id).join(f)).unwrap();
            assert_eq!(blessed, committed, "{id}/{f}");
        }
    }
}
