//! The `dmconf` command line as a user runs it: real process, exit codes, stdout/stderr.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn dmconf(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dmconf"))
        .args(args)
        .output()
        .unwrap()
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dmconf-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

const PKG1: &str = "vectors/codec/pkg1-devinfo-md5/message.xml";

#[test]
fn all_vectors_pass_and_summary_line_is_printed() {
    let out = dmconf(&["vectors", "check", repo().join("vectors").to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", stderr(&out));
    let last = stdout.lines().last().unwrap();
    let passed: usize = last.split(' ').next().unwrap().parse().unwrap();
    assert!(passed >= 80, "only {passed} vectors: {last}");
    assert!(last.ends_with(" passed, 0 failed"), "{last}");
}

#[test]
fn a_wrong_vector_fails_with_a_diff_and_exit_1() {
    let dir = tempdir("wrong");
    let case = dir.join("codec").join("broken");
    std::fs::create_dir_all(&case).unwrap();
    let src = repo().join("vectors/codec/pkg1-devinfo-md5");
    for f in ["message.xml", "message.wbxml", "canonical.xml", "case.json"] {
        std::fs::copy(src.join(f), case.join(f)).unwrap();
    }
    let manifest = std::fs::read_to_string(case.join("case.json")).unwrap();
    std::fs::write(
        case.join("case.json"),
        manifest.replace("\"1A2B\"", "\"1A2C\""),
    )
    .unwrap();
    let out = dmconf(&["vectors", "check", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("FAIL  codec/broken"), "{stdout}");
    assert!(stdout.contains("-    \"SessionID\": \"1A2C\","), "{stdout}");
    assert!(stdout.contains("+    \"SessionID\": \"1A2B\","), "{stdout}");
    assert!(
        stdout.trim_end().ends_with("0 passed, 1 failed"),
        "{stdout}"
    );
    assert!(stderr(&out).starts_with("dmconf: 1 vector(s) failed"));
}

#[test]
fn vectors_check_on_a_missing_folder_is_a_usage_error() {
    let out = dmconf(&["vectors", "check", "/nonexistent/vectors"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
}

#[test]
fn decode_xml_to_json_and_back_through_wbxml() {
    let dir = tempdir("roundtrip");
    let input = repo().join(PKG1);
    let wbxml = dir.join("m.wbxml");
    let out = dmconf(&[
        "codec",
        "encode",
        input.to_str().unwrap(),
        "--to",
        "wbxml",
        "-o",
        wbxml.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        std::fs::read(&wbxml).unwrap()[..3],
        [0x02, 0xA4, 0x01],
        "WBXML 1.2, public id 0x1201"
    );

    let from_xml = dmconf(&["codec", "decode", input.to_str().unwrap()]);
    let from_wbxml = dmconf(&["codec", "decode", wbxml.to_str().unwrap()]);
    assert!(from_xml.status.success() && from_wbxml.status.success());
    assert_eq!(
        from_xml.stdout, from_wbxml.stdout,
        "same model from both encodings"
    );
    let json: serde_json::Value = serde_json::from_slice(&from_xml.stdout).unwrap();
    assert_eq!(json["SyncHdr"]["SessionID"], "1A2B");

    // The JSON form is accepted as input too.
    let json_file = dir.join("m.json");
    std::fs::write(&json_file, &from_xml.stdout).unwrap();
    let xml = dmconf(&[
        "codec",
        "encode",
        json_file.to_str().unwrap(),
        "--to",
        "xml",
    ]);
    assert!(xml.status.success(), "{}", stderr(&xml));
    assert!(String::from_utf8_lossy(&xml.stdout)
        .starts_with("<SyncML xmlns=\"SYNCML:SYNCML1.2\"><SyncHdr>"));
}

#[test]
fn strict_mode_flags_a_misordered_synchdr_with_line_and_column() {
    let dir = tempdir("strict");
    let text = std::fs::read_to_string(repo().join(PKG1)).unwrap().replace(
        "<VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto>",
        "<VerProto>DM/1.2</VerProto><VerDTD>1.2</VerDTD>",
    );
    let file = dir.join("misordered.xml");
    std::fs::write(&file, text).unwrap();

    let lenient = dmconf(&["codec", "decode", file.to_str().unwrap()]);
    assert_eq!(lenient.status.code(), Some(0), "lenient still decodes");
    assert!(
        stderr(&lenient).contains("misordered.xml:4:32: <VerDTD> inside <SyncHdr> comes too early"),
        "{}",
        stderr(&lenient)
    );

    let strict = dmconf(&["codec", "decode", "--strict", file.to_str().unwrap()]);
    assert_eq!(strict.status.code(), Some(1));
    let err = stderr(&strict);
    assert!(
        err.contains(":4:32: ") && err.contains("[wrong_order]"),
        "{err}"
    );
    assert!(err.lines().last().unwrap().starts_with("dmconf: "), "{err}");
}

#[test]
fn garbage_input_is_a_check_failure_with_one_clear_line() {
    let dir = tempdir("garbage");
    let file = dir.join("garbage.xml");
    std::fs::write(&file, "<SyncML><SyncHdr></SyncML>").unwrap();
    let out = dmconf(&["codec", "decode", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("malformed XML"), "{err}");
}

#[test]
fn unreadable_file_and_bad_usage_exit_2() {
    let out = dmconf(&["codec", "decode", "/nonexistent/file.xml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).starts_with("dmconf: cannot read /nonexistent/file.xml"));
    let out = dmconf(&["codec", "encode", "x", "--to", "json"]);
    assert_eq!(out.status.code(), Some(2), "clap usage errors exit 2");
}

#[test]
fn pkg0_decodes_and_verifies() {
    // facts §7.3 trigger, with a digest computed independently (Python hashlib) for
    // ServerID dms.example.com, password "srvpass", nonce "nonce1" (facts §7.2).
    let bytes = "e113e982a69d49af010986d0d5cf0a1002E80000001A2B0F646D732E6578616D706C652E636F6D";
    let ok = dmconf(&[
        "codec",
        "pkg0",
        bytes,
        "--verify",
        "--password",
        "srvpass",
        "--nonce",
        "bm9uY2Ux",
    ]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    let json: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(json["SessionID"], "1A2B");
    assert_eq!(json["ui_mode"], "informative");
    assert_eq!(json["digest_check"], "valid");

    let bad = dmconf(&[
        "codec",
        "pkg0",
        bytes,
        "--verify",
        "--password",
        "other",
        "--nonce",
        "bm9uY2Ux",
    ]);
    assert_eq!(bad.status.code(), Some(1));
    let short = dmconf(&["codec", "pkg0", "02E8"]);
    assert_eq!(short.status.code(), Some(1));
    assert!(stderr(&short).contains("too short"));
}

#[test]
fn help_documents_every_command() {
    for args in [
        vec!["--help"],
        vec!["codec", "--help"],
        vec!["codec", "decode", "--help"],
        vec!["codec", "encode", "--help"],
        vec!["codec", "pkg0", "--help"],
        vec!["vectors", "check", "--help"],
    ] {
        let out = dmconf(&args);
        assert!(out.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage: dmconf"),
            "{args:?}"
        );
    }
}

/// Issue "done when": `dmconf codec decode` reads WBXML produced by an independent encoder
/// (Debian's libwbxml `xml2wbxml`) and gives the same model as from the XML.
#[test]
fn decodes_wbxml_from_an_independent_encoder() {
    let available = Command::new("xml2wbxml").arg("--help").output().is_ok();
    if !available {
        assert!(
            std::env::var_os("CI").is_none(),
            "xml2wbxml (libwbxml2-utils) is missing on CI; .ci/run installs it"
        );
        eprintln!("skipped: xml2wbxml not installed (apt-get install libwbxml2-utils)");
        return;
    }
    let dir = tempdir("libwbxml");
    let input = repo().join(PKG1);
    let theirs = dir.join("libwbxml.wbxml");
    let conv = Command::new("xml2wbxml")
        .args([
            "-v",
            "1.2",
            "-o",
            theirs.to_str().unwrap(),
            input.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        conv.status.success(),
        "{}",
        String::from_utf8_lossy(&conv.stderr)
    );
    let from_theirs = dmconf(&["codec", "decode", "--strict", theirs.to_str().unwrap()]);
    assert!(from_theirs.status.success(), "{}", stderr(&from_theirs));
    let from_xml = dmconf(&["codec", "decode", input.to_str().unwrap()]);
    assert_eq!(
        String::from_utf8_lossy(&from_theirs.stdout),
        String::from_utf8_lossy(&from_xml.stdout)
    );
}
