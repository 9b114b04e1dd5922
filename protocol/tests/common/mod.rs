//! Helpers shared by the libwbxml cross-check tests.

/// True when `tool` is an executable file somewhere on PATH.
fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
        .unwrap_or(false)
}

/// True when `xml2wbxml` and `wbxml2xml` (Debian's libwbxml2-utils) both exist; otherwise
/// says why on stderr and returns false — except under CI (`CI` set), where a missing tool
/// fails the test, since `.ci/run` installs them.
pub fn libwbxml_tools_available(what: &str) -> bool {
    let missing: Vec<&str> = ["xml2wbxml", "wbxml2xml"]
        .into_iter()
        .filter(|t| !on_path(t))
        .collect();
    if missing.is_empty() {
        return true;
    }
    let msg = format!(
        "libwbxml tools {} not found on PATH (install the Debian/Ubuntu package \
         libwbxml2-utils)",
        missing.join(", ")
    );
    assert!(
        std::env::var_os("CI").is_none(),
        "{msg}; CI is set, so the {what} fails"
    );
    eprintln!("{msg}; skipping the {what}");
    false
}
