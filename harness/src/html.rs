//! The run report as one self-contained HTML page, `index.html` (issue 7 item 9): inline CSS
//! only, no script and no external resource (a Content-Security-Policy in the page forbids
//! them), so the file can be mailed or archived on its own.
//!
//! ```text
//! header        run id, implementations, seed, dmconf version, totals, exit code
//! grid          requirement label × implementation: the worst verdict of the label's
//!               scenarios of the implementation's role, linking to them
//! scenarios     one section per scenario (anchor `s-<id>`): tags, verdict, reason, the
//!               SyncML exchange message by message, diffs against golden vectors
//! ```
//!
//! A CSS-only filter (radio buttons) shows the scenarios of one verdict; it needs no script.
//! Every text taken from the report goes through one escape function.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use base64::Engine as _;
use dm_server::model::Direction;

use crate::profile::Role;
use crate::report::{RunReport, ScenarioReport, TranscriptLine};
use crate::verdict::{Level, Verdict};

/// Every verdict, worst first (the order of the grid's aggregation and of the totals).
const WORST_FIRST: [Verdict; 5] = [
    Verdict::Error,
    Verdict::Fail,
    Verdict::Inconclusive,
    Verdict::Pass,
    Verdict::NotApplicable,
];

const STYLE: &str = "\
body{font-family:system-ui,sans-serif;margin:1em 2em;color:#111;background:#fff}\
h1{font-size:1.5em}h2{font-size:1.25em;margin-top:1.5em}h3{font-size:1.1em;margin:0}\
table{border-collapse:collapse;margin:.5em 0 1em}\
td,th{border:1px solid #999;padding:2px 6px;vertical-align:top;text-align:left}\
th{background:#eee}\
pre{background:#f6f6f6;border:1px solid #ddd;padding:.5em;overflow-x:auto;white-space:pre-wrap;word-break:break-all}\
a{color:#03c}\
.v{font-weight:bold;padding:0 4px;border-radius:3px;white-space:nowrap}\
.v-pass{background:#c8f0c8}.v-fail{background:#f8b8b8}.v-error{background:#e0b0f0}\
.v-inconclusive{background:#f8e0a0}.v-not-applicable{background:#e4e4e4;color:#444}\
td.empty{background:#fff}\
td.cell a{margin-left:4px;font-size:.9em}\
.scenario{border:1px solid #bbb;border-left-width:8px;border-radius:4px;padding:.5em 1em;margin:1em 0}\
.scenario.v-pass{border-left-color:#3a3}.scenario.v-fail{border-left-color:#c22}\
.scenario.v-error{border-left-color:#83a}.scenario.v-inconclusive{border-left-color:#c90}\
.scenario.v-not-applicable{border-left-color:#999}\
.scenario{background:#fff}\
.scenario table{margin:.5em 0}\
summary{cursor:pointer;font-weight:bold;margin:.3em 0}\
.msg{margin:.5em 0 1em 1em}\
.msg-head{font-family:monospace}\
.violations{color:#a00}\
.diff .add{background:#dfd;color:#060}.diff .del{background:#fdd;color:#900}\
.diff .hunk{color:#05a}.diff .hdr{font-weight:bold}\
#scenarios>label{margin-right:1em}\
#show-pass:checked~.list>.scenario:not(.v-pass),\
#show-fail:checked~.list>.scenario:not(.v-fail),\
#show-error:checked~.list>.scenario:not(.v-error),\
#show-inconclusive:checked~.list>.scenario:not(.v-inconclusive),\
#show-not-applicable:checked~.list>.scenario:not(.v-not-applicable){display:none}\
.list>.scenario:target{display:block!important}\
";

/// `index.html`: the whole run as one self-contained HTML5 page.
pub fn index_html(report: &RunReport) -> String {
    let mut o = String::with_capacity(16 * 1024);
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <title>dmconf run {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        esc(&report.run_id)
    );
    header(&mut o, report);
    grid(&mut o, report);
    scenarios(&mut o, report);
    o.push_str("</body>\n</html>\n");
    o
}

/// HTML text and attribute escaping: `& < > " '`; control characters other than newline,
/// carriage return and tab are dropped (they are not allowed in HTML text).
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\r' | '\t' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// The anchor of a scenario's section: `s-` and its id (characters other than ASCII letters,
/// digits, `-`, `_` and `.` become `_`).
pub fn scenario_anchor(id: &str) -> String {
    format!("s-{}", anchor_part(id))
}

/// The anchor of a requirement label's grid row: `r-` and the label, as for scenarios.
pub fn requirement_anchor(label: &str) -> String {
    format!("r-{}", anchor_part(label))
}

fn anchor_part(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The worst of `verdicts` (error > fail > inconclusive > pass > not-applicable), `None`
/// when there is none: the verdict of a grid cell.
pub fn worst(verdicts: impl IntoIterator<Item = Verdict>) -> Option<Verdict> {
    verdicts.into_iter().min_by_key(|v| rank(*v))
}

fn rank(v: Verdict) -> usize {
    WORST_FIRST
        .iter()
        .position(|w| *w == v)
        .unwrap_or(WORST_FIRST.len())
}

fn verdict_badge(v: Verdict) -> String {
    format!("<span class=\"v v-{0}\">{0}</span>", v.as_str())
}

fn level_name(l: Level) -> &'static str {
    match l {
        Level::Must => "must",
        Level::Should => "should",
        Level::May => "may",
    }
}

fn exit_meaning(code: u8) -> &'static str {
    match code {
        0 => "every applicable mandatory (@must) scenario passed",
        1 => "a failure: an applicable mandatory scenario failed or was inconclusive",
        2 => "a harness or usage error",
        _ => "unknown exit code",
    }
}

fn header(o: &mut String, r: &RunReport) {
    let _ = writeln!(o, "<header>\n<h1>dmconf run {}</h1>", esc(&r.run_id));
    let _ = writeln!(
        o,
        "<table class=\"run\">\n<tr><th>run id</th><td>{}</td></tr>\n\
         <tr><th>started</th><td>{} ({})</td></tr>\n\
         <tr><th>seed</th><td>{}</td></tr>\n\
         <tr><th>dmconf version</th><td>{}</td></tr>\n\
         <tr><th>exit code</th><td><strong>{}</strong>: {}</td></tr>\n</table>",
        esc(&r.run_id),
        utc(r.started_at),
        r.started_at,
        r.seed,
        esc(&r.dmconf_version),
        r.exit_code,
        exit_meaning(r.exit_code)
    );
    o.push_str("<h2>Implementations under test</h2>\n");
    if r.implementations.is_empty() {
        o.push_str("<p>None recorded.</p>\n");
    } else {
        o.push_str(
            "<table class=\"implementations\">\n<tr><th>name</th><th>version</th><th>vendor</th><th>role</th></tr>\n",
        );
        for i in &r.implementations {
            let _ = writeln!(
                o,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&i.name),
                esc(&i.version),
                esc(&i.vendor),
                i.role.tag()
            );
        }
        o.push_str("</table>\n");
    }
    o.push_str(
        "<h2>Totals</h2>\n<table class=\"totals\">\n<tr><th>verdict</th><th>scenarios</th></tr>\n",
    );
    for v in WORST_FIRST {
        let n = r.totals.get(v.as_str()).copied().unwrap_or(0);
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td class=\"count\" data-verdict=\"{}\">{n}</td></tr>",
            verdict_badge(v),
            v.as_str()
        );
    }
    let _ = writeln!(
        o,
        "<tr><th>all</th><td class=\"count\">{}</td></tr>\n</table>\n</header>",
        r.scenarios.len()
    );
}

fn grid(o: &mut String, r: &RunReport) {
    // label → every scenario carrying it, in run order.
    let mut by_label: BTreeMap<&str, Vec<&ScenarioReport>> = BTreeMap::new();
    for s in &r.scenarios {
        let labels: BTreeSet<&str> = s.reqs.iter().map(String::as_str).collect();
        for l in labels {
            by_label.entry(l).or_default().push(s);
        }
    }
    o.push_str(
        "<section id=\"grid\">\n<h2>Requirements × implementations</h2>\n\
         <p>Each cell is the worst verdict (error, fail, inconclusive, pass, not-applicable) of the \
         label's scenarios in the implementation's role, with links to them; empty when none.</p>\n",
    );
    if by_label.is_empty() {
        o.push_str("<p>No requirement labels.</p>\n</section>\n");
        return;
    }
    o.push_str("<table class=\"grid\">\n<tr><th>requirement</th>");
    for i in &r.implementations {
        let _ = write!(
            o,
            "<th>{} {}<br><small>{}, role {}</small></th>",
            esc(&i.name),
            esc(&i.version),
            esc(&i.vendor),
            i.role.tag()
        );
    }
    o.push_str("</tr>\n");
    for (label, scenarios) in &by_label {
        let _ = write!(
            o,
            "<tr id=\"{}\"><th>{}</th>",
            esc(&requirement_anchor(label)),
            esc(label)
        );
        for i in &r.implementations {
            cell(o, label, i.role, scenarios);
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</table>\n</section>\n");
}

fn cell(o: &mut String, label: &str, role: Role, scenarios: &[&ScenarioReport]) {
    let mine: Vec<&ScenarioReport> = scenarios
        .iter()
        .copied()
        .filter(|s| s.role == role)
        .collect();
    let Some(v) = worst(mine.iter().map(|s| s.verdict)) else {
        let _ = write!(
            o,
            "<td class=\"cell empty\" data-req=\"{}\" data-role=\"{}\"></td>",
            esc(label),
            role.tag()
        );
        return;
    };
    let _ = write!(
        o,
        "<td class=\"cell v-{0}\" data-req=\"{1}\" data-role=\"{2}\" data-verdict=\"{0}\">{3}",
        v.as_str(),
        esc(label),
        role.tag(),
        verdict_badge(v)
    );
    for s in mine {
        let _ = write!(
            o,
            " <a href=\"#{}\" title=\"{}\">{}</a>",
            esc(&scenario_anchor(&s.id)),
            esc(&format!("{}: {}", s.verdict.as_str(), s.name)),
            esc(&s.id)
        );
    }
    o.push_str("</td>");
}

fn scenarios(o: &mut String, r: &RunReport) {
    o.push_str("<section id=\"scenarios\">\n<h2>Scenarios</h2>\n");
    if r.scenarios.is_empty() {
        o.push_str("<p>No scenarios ran.</p>\n</section>\n");
        return;
    }
    // The CSS-only filter: the radio buttons precede the list they filter.
    let _ = write!(
        o,
        "<span class=\"filter\">show:</span> <input type=\"radio\" name=\"show\" id=\"show-all\" checked><label for=\"show-all\">all ({})</label> ",
        r.scenarios.len()
    );
    for v in WORST_FIRST {
        let n = r.scenarios.iter().filter(|s| s.verdict == v).count();
        let _ = write!(
            o,
            "<input type=\"radio\" name=\"show\" id=\"show-{0}\"><label for=\"show-{0}\">{0} ({n})</label> ",
            v.as_str()
        );
    }
    o.push_str("\n<div class=\"list\">\n");
    for s in &r.scenarios {
        scenario(o, s);
    }
    o.push_str("</div>\n</section>\n");
}

fn scenario(o: &mut String, s: &ScenarioReport) {
    let failing = matches!(
        s.verdict,
        Verdict::Fail | Verdict::Error | Verdict::Inconclusive
    );
    let open = if failing { " open" } else { "" };
    let _ = writeln!(
        o,
        "<section class=\"scenario v-{}\" id=\"{}\">\n<h3>{} {} {}</h3>",
        s.verdict.as_str(),
        esc(&scenario_anchor(&s.id)),
        verdict_badge(s.verdict),
        esc(&s.id),
        esc(&s.name)
    );
    let reqs: Vec<String> = s
        .reqs
        .iter()
        .map(|l| {
            format!(
                "<a href=\"#{}\">{}</a>",
                esc(&requirement_anchor(l)),
                esc(l)
            )
        })
        .collect();
    let _ = writeln!(
        o,
        "<table>\n<tr><th>id</th><td>{}</td></tr>\n<tr><th>name</th><td>{}</td></tr>\n\
         <tr><th>feature</th><td>{}</td></tr>\n<tr><th>requirements</th><td>{}</td></tr>\n\
         <tr><th>role</th><td>{}</td></tr>\n<tr><th>level</th><td>{}</td></tr>\n\
         <tr><th>verdict</th><td>{}</td></tr>\n<tr><th>reason</th><td class=\"reason\">{}</td></tr>\n\
         <tr><th>duration</th><td>{}.{:03} s</td></tr>\n<tr><th>seed</th><td>{}</td></tr>\n</table>",
        esc(&s.id),
        esc(&s.name),
        esc(&s.feature),
        reqs.join(", "),
        s.role.tag(),
        level_name(s.level),
        verdict_badge(s.verdict),
        esc(s.reason.as_deref().unwrap_or("")),
        s.duration_ms / 1000,
        s.duration_ms % 1000,
        s.seed
    );
    let _ = writeln!(
        o,
        "<details class=\"transcript\"{open}>\n<summary>SyncML exchange ({} message{})</summary>",
        s.transcript.len(),
        if s.transcript.len() == 1 { "" } else { "s" }
    );
    if s.transcript.is_empty() {
        o.push_str("<p>No message was exchanged.</p>\n");
    }
    for (n, m) in s.transcript.iter().enumerate() {
        message(o, n + 1, m);
    }
    o.push_str("</details>\n");
    if !s.diffs.is_empty() {
        let _ = writeln!(
            o,
            "<details class=\"diffs\"{open}>\n<summary>Diffs against golden vectors ({})</summary>",
            s.diffs.len()
        );
        for d in &s.diffs {
            diff(o, d);
        }
        o.push_str("</details>\n");
    }
    o.push_str("</section>\n");
}

fn message(o: &mut String, n: usize, m: &TranscriptLine) {
    let direction = match m.direction {
        Direction::Sent => "sent (tester → IUT)",
        Direction::Received => "received (IUT → tester)",
    };
    let size = base64::engine::general_purpose::STANDARD
        .decode(m.bytes_b64.as_bytes())
        .map(|b| format!(", {} bytes", b.len()))
        .unwrap_or_default();
    let _ = writeln!(
        o,
        "<div class=\"msg\">\n<div class=\"msg-head\">#{n} {direction} · {} · {}{size}</div>",
        utc(m.time),
        esc(&m.encoding)
    );
    match &m.xml {
        Some(xml) => {
            let _ = writeln!(o, "<pre class=\"xml\">{}</pre>", esc(xml));
        }
        None => {
            let _ = writeln!(
                o,
                "<p>Not decoded; the bytes in base64:</p>\n<pre class=\"b64\">{}</pre>",
                esc(&m.bytes_b64)
            );
        }
    }
    if !m.violations.is_empty() {
        o.push_str("<ul class=\"violations\">\n");
        for v in &m.violations {
            let _ = writeln!(o, "<li>{}</li>", esc(v));
        }
        o.push_str("</ul>\n");
    }
    o.push_str("</div>\n");
}

fn diff(o: &mut String, d: &str) {
    o.push_str("<pre class=\"diff\">");
    for line in d.lines() {
        let class = if line.starts_with("+++") || line.starts_with("---") {
            "hdr"
        } else if line.starts_with('+') {
            "add"
        } else if line.starts_with('-') {
            "del"
        } else if line.starts_with("@@") {
            "hunk"
        } else {
            "ctx"
        };
        let _ = writeln!(o, "<span class=\"{class}\">{}</span>", esc(line));
    }
    o.push_str("</pre>\n");
}

/// Unix seconds as `YYYY-MM-DD hh:mm:ss UTC` (from dm-tree's TStamp form,
/// `YYYYMMDDThhmmssZ`, so one calendar conversion serves the whole workspace).
pub fn utc(secs: u64) -> String {
    let t = dm_tree::format_tstamp(secs);
    let part = |a: usize, b: usize| t.get(a..b).unwrap_or("");
    format!(
        "{}-{}-{} {}:{}:{} UTC",
        part(0, 4),
        part(4, 6),
        part(6, 8),
        part(9, 11),
        part(11, 13),
        part(13, 15)
    )
}
