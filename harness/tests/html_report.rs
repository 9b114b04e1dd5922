#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The self-contained `index.html`: no external resource, every text escaped, the
//! requirement × implementation grid aggregates worst first, transcripts and diffs shown,
//! `RunReport::write` writes it.

use dm_server::model::Direction;
use dmconf::html::{index_html, scenario_anchor, worst};
use dmconf::profile::{Implementation, Role};
use dmconf::report::{RunReport, ScenarioReport, TranscriptLine};
use dmconf::verdict::{Level, Verdict};

fn scenario(id: &str, role: Role, reqs: &[&str], verdict: Verdict) -> ScenarioReport {
    ScenarioReport {
        id: id.into(),
        name: format!("scenario {id}"),
        feature: "features/auth/md5.feature".into(),
        reqs: reqs.iter().map(|r| (*r).to_owned()).collect(),
        role,
        level: Level::Must,
        verdict,
        reason: (verdict != Verdict::Pass).then(|| format!("why {id} is {}", verdict.as_str())),
        duration_ms: 1234,
        seed: 42,
        transcript: vec![TranscriptLine {
            direction: Direction::Sent,
            time: 1_700_000_000,
            encoding: "xml".into(),
            bytes_b64: "PFN5bmNNTC8+".into(),
            xml: Some("<SyncML/>".into()),
            violations: vec![],
        }],
        diffs: vec![],
    }
}

fn implementation(name: &str, role: Role) -> Implementation {
    Implementation {
        name: name.into(),
        version: "7.1".into(),
        vendor: "Acme".into(),
        role,
    }
}

/// A self-test-like run: a client and a server implementation.
fn report() -> RunReport {
    let mut hostile = scenario(
        "CLI-SESS-001",
        Role::Client,
        &["DM-SESS-001"],
        Verdict::Fail,
    );
    hostile.name = "<script>alert(1)</script>".into();
    hostile.reason = Some("expected <Status> & got \"nothing\"; see <a href=\"http://x\">".into());
    hostile.transcript = vec![
        TranscriptLine {
            direction: Direction::Sent,
            time: 1_700_000_000,
            encoding: "xml".into(),
            bytes_b64: "PFN5bmNNTC8+".into(),
            xml: Some("<SyncML xmlns=\"SYNCML:SYNCML1.2\">\n  <SyncHdr/>\n</SyncML>".into()),
            violations: vec![],
        },
        TranscriptLine {
            direction: Direction::Received,
            time: 1_700_000_001,
            encoding: "wbxml".into(),
            bytes_b64: "AgAAag==".into(),
            xml: None,
            violations: vec!["missing <SyncBody> in SyncML".into()],
        },
    ];
    hostile.diffs = vec![
        "--- expected\n+++ actual\n@@ -1,2 +1,2 @@\n <SyncML>\n-<Status>200</Status>\n+<Status>401</Status>\n"
            .into(),
    ];
    RunReport::new(
        "2026-12-03T09-00-00".into(),
        1_700_000_000,
        4242,
        vec![
            implementation("dm-client reference", Role::Client),
            implementation("dm-server reference", Role::Server),
        ],
        vec![
            hostile,
            // DM-MIX-001 for the server: a pass and a fail → fail.
            scenario("SRV-A-001", Role::Server, &["DM-MIX-001"], Verdict::Pass),
            scenario("SRV-A-002", Role::Server, &["DM-MIX-001"], Verdict::Fail),
            // DM-NA-001 for the server: not-applicable only.
            scenario(
                "SRV-LO-001",
                Role::Server,
                &["DM-NA-001"],
                Verdict::NotApplicable,
            ),
            // DM-ERR-001 for the client: inconclusive, error, pass → error.
            scenario(
                "CLI-E-001",
                Role::Client,
                &["DM-ERR-001"],
                Verdict::Inconclusive,
            ),
            scenario("CLI-E-002", Role::Client, &["DM-ERR-001"], Verdict::Error),
            scenario(
                "CLI-E-003",
                Role::Client,
                &["DM-ERR-001", "DM-MIX-001"],
                Verdict::Pass,
            ),
        ],
    )
}

/// The opening tag of the grid cell of `label` × `role`, up to its closing `</td>`.
fn cell<'a>(html: &'a str, label: &str, role: &str) -> &'a str {
    let key = format!("data-req=\"{label}\" data-role=\"{role}\"");
    let at = html
        .find(&key)
        .unwrap_or_else(|| panic!("no cell for {label} × {role}"));
    let start = html[..at].rfind("<td").unwrap();
    let end = at + html[at..].find("</td>").unwrap();
    &html[start..end]
}

/// The section of the scenario `id`.
fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let key = format!("id=\"{}\"", scenario_anchor(id));
    let at = html.find(&key).unwrap_or_else(|| panic!("no section {id}"));
    let start = html[..at].rfind("<section").unwrap();
    let end = at + html[at..].find("</section>").unwrap();
    &html[start..end]
}

#[test]
fn the_page_is_self_contained() {
    let html = index_html(&report());
    assert!(
        html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"),
        "HTML5"
    );
    assert!(html.trim_end().ends_with("</html>"));
    let lower = html.to_ascii_lowercase();
    for external in [
        "src=\"http",
        "href=\"http",
        "src='http",
        "href='http",
        "@import",
        "url(",
        "<link",
        "<script",
        "<img",
        "<iframe",
    ] {
        assert!(
            !lower.contains(external),
            "{external} found: the page must not load anything"
        );
    }
    assert!(lower.contains("<style>"), "inline CSS");
    assert!(
        html.contains("content=\"default-src 'none'; style-src 'unsafe-inline'\""),
        "a CSP forbids external loads"
    );
}

#[test]
fn every_text_is_escaped() {
    let html = index_html(&report());
    assert!(!html.contains("<script>alert(1)</script>"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains(
        "expected &lt;Status&gt; &amp; got &quot;nothing&quot;; see &lt;a href=&quot;http://x&quot;&gt;"
    ));
    // The transcript's pretty XML, escaped inside <pre>.
    assert!(html.contains(
        "<pre class=\"xml\">&lt;SyncML xmlns=&quot;SYNCML:SYNCML1.2&quot;&gt;\n  &lt;SyncHdr/&gt;\n&lt;/SyncML&gt;</pre>"
    ));
    assert!(!html.contains("<SyncHdr/>"));
    assert!(html.contains("<li>missing &lt;SyncBody&gt; in SyncML</li>"));
    // The title of a grid link is escaped too.
    assert!(html.contains("title=\"fail: &lt;script&gt;alert(1)&lt;/script&gt;\""));
}

#[test]
fn the_header_names_the_run() {
    let html = index_html(&report());
    assert!(html.contains("<title>dmconf run 2026-12-03T09-00-00</title>"));
    for imp in ["dm-client reference", "dm-server reference"] {
        assert!(html.contains(&format!("<tr><td>{imp}</td><td>7.1</td><td>Acme</td>")));
    }
    assert!(html.contains("<tr><th>seed</th><td>4242</td></tr>"));
    assert!(html.contains(&format!(
        "<tr><th>dmconf version</th><td>{}</td></tr>",
        env!("CARGO_PKG_VERSION")
    )));
    assert!(html.contains("2023-11-14 22:13:20 UTC (1700000000)"));
    // Exit code 2: an error verdict.
    assert!(html.contains("<strong>2</strong>: a harness or usage error"));
    for (verdict, n) in [
        ("error", 1),
        ("fail", 2),
        ("inconclusive", 1),
        ("pass", 2),
        ("not-applicable", 1),
    ] {
        assert!(
            html.contains(&format!("data-verdict=\"{verdict}\">{n}</td>")),
            "total of {verdict}"
        );
    }
}

#[test]
fn grid_cells_take_the_worst_verdict_of_the_role() {
    let html = index_html(&report());
    // One row per label, sorted.
    let rows: Vec<usize> = ["DM-ERR-001", "DM-MIX-001", "DM-NA-001", "DM-SESS-001"]
        .iter()
        .map(|l| {
            html.find(&format!("<tr id=\"r-{l}\"><th>{l}</th>"))
                .unwrap()
        })
        .collect();
    assert!(rows.windows(2).all(|w| w[0] < w[1]), "labels sorted");

    // A pass and a fail of the same role → fail, linking both.
    let mix = cell(&html, "DM-MIX-001", "server");
    assert!(mix.contains("class=\"cell v-fail\""), "{mix}");
    assert!(
        mix.contains("<span class=\"v v-fail\">fail</span>"),
        "readable without colour"
    );
    assert!(mix.contains("href=\"#s-SRV-A-001\""));
    assert!(mix.contains("href=\"#s-SRV-A-002\""));
    assert!(
        !mix.contains("CLI-E-003"),
        "the client's scenario is not the server's"
    );
    // The same label for the client: its only scenario passed.
    let mix_client = cell(&html, "DM-MIX-001", "client");
    assert!(
        mix_client.contains("<span class=\"v v-pass\">pass</span>"),
        "{mix_client}"
    );
    assert!(mix_client.contains("href=\"#s-CLI-E-003\""));

    // Not-applicable only → not-applicable.
    let na = cell(&html, "DM-NA-001", "server");
    assert!(
        na.contains("<span class=\"v v-not-applicable\">not-applicable</span>"),
        "{na}"
    );
    assert!(na.contains("href=\"#s-SRV-LO-001\""));

    // Error beats inconclusive and pass.
    let err = cell(&html, "DM-ERR-001", "client");
    assert!(
        err.contains("<span class=\"v v-error\">error</span>"),
        "{err}"
    );
    assert_eq!(err.matches("<a href=").count(), 3, "{err}");

    // No scenario → an empty cell.
    let empty = cell(&html, "DM-NA-001", "client");
    assert!(empty.contains("class=\"cell empty\""), "{empty}");
    assert!(!empty.contains("<span"));
}

#[test]
fn worst_orders_the_verdicts() {
    use Verdict::*;
    assert_eq!(worst([Pass, NotApplicable]), Some(Pass));
    assert_eq!(worst([NotApplicable, NotApplicable]), Some(NotApplicable));
    assert_eq!(
        worst([Pass, Inconclusive, NotApplicable]),
        Some(Inconclusive)
    );
    assert_eq!(worst([Inconclusive, Fail, Pass]), Some(Fail));
    assert_eq!(worst([Fail, Error, Pass]), Some(Error));
    assert_eq!(worst([]), None);
}

#[test]
fn scenario_sections_show_exchange_and_diffs() {
    let html = index_html(&report());
    let s = section(&html, "CLI-SESS-001");
    assert!(
        s.contains("class=\"scenario v-fail\" id=\"s-CLI-SESS-001\""),
        "{s}"
    );
    assert!(s.contains("<tr><th>feature</th><td>features/auth/md5.feature</td></tr>"));
    assert!(s.contains("<a href=\"#r-DM-SESS-001\">DM-SESS-001</a>"));
    assert!(s.contains("<tr><th>role</th><td>client</td></tr>"));
    assert!(s.contains("<tr><th>level</th><td>must</td></tr>"));
    assert!(s.contains("<tr><th>duration</th><td>1.234 s</td></tr>"));
    assert!(s.contains("<tr><th>seed</th><td>42</td></tr>"));
    // Failing: the exchange is open; two messages, the second only in base64.
    assert!(s.contains("<details class=\"transcript\" open>"), "{s}");
    assert!(s.contains("SyncML exchange (2 messages)"));
    assert!(s.contains("#1 sent (tester → IUT) · 2023-11-14 22:13:20 UTC · xml, 9 bytes"));
    assert!(s.contains("#2 received (IUT → tester) · 2023-11-14 22:13:21 UTC · wbxml, 4 bytes"));
    assert!(s.contains("<pre class=\"b64\">AgAAag==</pre>"));
    // The diff, lines styled by their first character.
    assert!(s.contains("<details class=\"diffs\" open>"));
    assert!(s.contains("<span class=\"del\">-&lt;Status&gt;200&lt;/Status&gt;</span>"));
    assert!(s.contains("<span class=\"add\">+&lt;Status&gt;401&lt;/Status&gt;</span>"));
    assert!(s.contains("<span class=\"hdr\">+++ actual</span>"));
    assert!(s.contains("<span class=\"hunk\">@@ -1,2 +1,2 @@</span>"));
    assert!(s.contains("<span class=\"ctx\"> &lt;SyncML&gt;</span>"));

    // A passing scenario: collapsed, no diffs section.
    let p = section(&html, "SRV-A-001");
    assert!(p.contains("<details class=\"transcript\">"), "{p}");
    assert!(!p.contains("class=\"diffs\""));
    // Every scenario has its anchor.
    for id in [
        "SRV-A-002",
        "SRV-LO-001",
        "CLI-E-001",
        "CLI-E-002",
        "CLI-E-003",
    ] {
        assert!(html.contains(&format!("id=\"s-{id}\"")), "{id}");
    }
}

#[test]
fn anchors_are_safe() {
    assert_eq!(scenario_anchor("CLI-SESS-001"), "s-CLI-SESS-001");
    assert_eq!(scenario_anchor("a b\"<c>"), "s-a_b__c_");
}

#[test]
fn write_creates_index_html() {
    let dir = tempfile::tempdir().unwrap();
    let r = report();
    r.write(dir.path()).unwrap();
    let written = std::fs::read_to_string(dir.path().join("index.html")).unwrap();
    assert_eq!(written, index_html(&r));
    for other in ["results.json", "junit.xml", "summary.md"] {
        assert!(dir.path().join(other).is_file(), "{other} still written");
    }
}
