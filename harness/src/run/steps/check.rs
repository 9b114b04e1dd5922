//! Then steps: checks on what the tester observed. Each names the rule it checks (fact sheet
//! section) in its failure message, with the expectation and what was received.

use cucumber::step::Context;
use dm_protocol::model::{Command, Data, Status};

use super::{arg, def, Def};
use crate::run::server_side::ServerSide;
use crate::run::world::{DmWorld, Msg, Observed, Party, StepResult, Why};
use crate::vectors::sessions::{self, MaskContext};

pub(super) fn defs() -> Vec<Def> {
    vec![
        def!(Then, r"the session completes", completes),
        def!(Then, r"the session does not complete", not_completes),
        def!(
            Then,
            r"every message from the (client|server) has a MsgID one higher than the one before, starting at 1",
            msg_ids
        ),
        def!(
            Then,
            r"every message from the (client|server) has unique non-empty CmdIDs",
            cmd_ids
        ),
        def!(
            Then,
            r"every Status from the (client|server) references a command it received",
            status_refs
        ),
        def!(
            Then,
            r"every message from the (client|server) that answers one starts with a Status for the SyncHdr",
            hdr_status_first
        ),
        def!(
            Then,
            r"the last message from the (client|server) carries Final",
            last_final
        ),
        def!(
            Then,
            r"every message of the session has the same SessionID",
            same_session_id
        ),
        def!(
            Then,
            r#"every message from the (client|server) has VerDTD "1\.2" and VerProto "DM/1\.2""#,
            versions
        ),
        def!(
            Then,
            r"the (client|server)'s (first|last) Status for the SyncHdr is (\d+)",
            hdr_status
        ),
        def!(
            Then,
            r"the (client|server) challenges with (basic|md5|hmac)",
            challenges
        ),
        def!(
            Then,
            r"the server's challenge nonces all differ",
            fresh_nonces
        ),
        def!(
            Then,
            r"every message from the (client|server) is encoded in (XML|WBXML)",
            encoded_in
        ),
        def!(
            Then,
            r"the (client|server) answers the (\w+) with (\d+(?: or \d+)*)",
            answers_cmd
        ),
        def!(
            Then,
            r#"the (client|server) answers the (\w+) of "([^"]*)" with (\d+(?: or \d+)*)"#,
            answers_target
        ),
        def!(
            Then,
            r#"the client returns Results for "([^"]*)" with value "([^"]*)""#,
            results_value
        ),
        def!(
            Then,
            r#"the client returns Results for "([^"]*)""#,
            results_any
        ),
        def!(
            Then,
            r#"the client returns Results for "([^"]*)" with (\d+) bytes"#,
            results_large
        ),
        def!(
            Then,
            r#"the client returns Results for "([^"]*)" containing "([^"]*)""#,
            results_containing
        ),
        def!(
            Then,
            r"the server records a result of (\d+) bytes",
            job_result_large
        ),
        def!(
            Then,
            r"the client returns Results listing the children (.+)",
            results_children
        ),
        def!(Then, r"the client returns no Results", no_results),
        def!(
            Then,
            r#"the client returns no Results for "([^"]*)""#,
            no_results_for
        ),
        def!(
            Then,
            r"the client sends only Status, Results and Alert commands",
            client_commands
        ),
        def!(
            Then,
            r"the server records status (\d+) for the (\w+)",
            job_status
        ),
        def!(
            Then,
            r#"the server records the result "([^"]*)""#,
            job_result
        ),
        def!(
            Then,
            r"package 1 from the client contains an Alert (\d+)",
            pkg1_alert
        ),
        def!(
            Then,
            r"package 1 from the client carries DevInfo",
            pkg1_devinfo
        ),
        def!(
            Then,
            r"every message from the client names the device by its DevId",
            names_device
        ),
        def!(
            Then,
            r"the two sessions have different SessionIDs",
            different_session_ids
        ),
        def!(
            Then,
            r"the (client|server) sends no further management command",
            no_commands
        ),
        def!(
            Then,
            r"the server sends no management command after the client's abort",
            none_after_abort
        ),
        def!(
            Then,
            r"every message from the (client|server) fits in (\d+) bytes",
            fits
        ),
        def!(
            Then,
            r"the (client|server) sends a package in more than one message",
            multi_message
        ),
        def!(
            Then,
            r"the (client|server) sends the object in chunks",
            chunks
        ),
        def!(Then, r"a valid package #0 arrived", pkg0_valid),
        def!(
            Then,
            r"every message of the session carries the SessionID of the package #0",
            pkg0_session_id
        ),
        def!(Then, r"the exchange matches its session vector", vector),
        def!(
            Then,
            r#"the client's Results for "([^"]*)" differ between the sessions"#,
            results_differ
        ),
        def!(
            Then,
            r#"the server receives a generic alert of type "([^"]*)" with data "([^"]*)""#,
            got_alert
        ),
        def!(
            Then,
            r#"the client answers the Alert with (\d+) carrying "([^"]*)""#,
            alert_answer_data
        ),
        def!(
            Then,
            r"every answer of the (client|server) to a non-final message holds only Status and Alert 1222",
            next_message_only
        ),
    ]
}

fn fail(rule: &str, expected: &str, got: impl std::fmt::Display) -> Why {
    Why::Fail(format!("{rule}: expected {expected}; received {got}"))
}

fn from(c: &Context, n: usize) -> Party {
    Party::parse(super::arg(c, n))
}

/// Status commands (top level) of `m`.
fn statuses(m: &Msg) -> impl Iterator<Item = &Status> {
    m.commands().iter().filter_map(|c| match c {
        Command::Status(s) => Some(s),
        _ => None,
    })
}

/// The command `st` (sent by `by`) answers, searched in the other party's messages of `s`,
/// also inside Atomic and Sequence.
fn referenced<'a>(s: &'a Observed, by: Party, st: &Status) -> Option<&'a Command> {
    fn find<'a>(cmds: &'a [Command], id: &str) -> Option<&'a Command> {
        for c in cmds {
            if c.cmd_id() == Some(id) {
                return Some(c);
            }
            if let Command::Atomic(k) | Command::Sequence(k) = c {
                if let Some(f) = find(&k.commands, id) {
                    return Some(f);
                }
            }
        }
        None
    }
    s.from(by.other())
        .filter(|m| m.msg_id() == st.msg_ref)
        .find_map(|m| find(m.commands(), &st.cmd_ref))
}

fn first_target(c: &Command) -> Option<&str> {
    let items = match c {
        Command::Add(i)
        | Command::Copy(i)
        | Command::Delete(i)
        | Command::Get(i)
        | Command::Replace(i) => &i.items,
        Command::Exec(e) => &e.items,
        _ => return None,
    };
    items
        .first()
        .and_then(|i| i.target.as_ref())
        .map(|t| t.loc_uri.as_str())
}

fn undecodable(s: &Observed, p: Party) -> Option<String> {
    s.from(p).find(|m| m.msg.is_none()).map(|m| {
        format!(
            "a message of {} bytes that is not a DM message",
            m.bytes.len()
        )
    })
}

async fn completes(w: &mut DmWorld, _c: &Context) -> StepResult {
    let s = w.last()?;
    if s.completed {
        Ok(())
    } else {
        Err(fail(
            "facts §2.2 (session end)",
            "the session to run to its normal end",
            &s.end,
        ))
    }
}

async fn not_completes(w: &mut DmWorld, _c: &Context) -> StepResult {
    let s = w.last()?;
    if s.completed {
        Err(fail(
            "the scenario's rule",
            "the session not to complete",
            "a completed session",
        ))
    } else {
        Ok(())
    }
}

async fn msg_ids(w: &mut DmWorld, c: &Context) -> StepResult {
    let p = from(c, 1);
    for s in &w.sessions {
        let ids: Vec<&str> = s.from(p).map(Msg::msg_id).collect();
        for (i, id) in ids.iter().enumerate() {
            if *id != (i + 1).to_string() {
                return Err(fail(
                    "facts §1.3 (MsgID starts at 1 and increases by one per message)",
                    &format!("MsgID {} for the {}'s message {}", i + 1, p.name(), i + 1),
                    format!("MsgIDs {ids:?}"),
                ));
            }
        }
    }
    Ok(())
}

async fn cmd_ids(w: &mut DmWorld, c: &Context) -> StepResult {
    let p = from(c, 1);
    for s in &w.sessions {
        for m in s.from(p) {
            let mut seen = std::collections::BTreeSet::new();
            fn walk<'a>(cmds: &'a [Command], out: &mut Vec<&'a str>) {
                for c in cmds {
                    out.push(c.cmd_id().unwrap_or(""));
                    if let Command::Atomic(k) | Command::Sequence(k) = c {
                        walk(&k.commands, out);
                    }
                }
            }
            let mut ids = Vec::new();
            walk(m.commands(), &mut ids);
            for id in ids {
                if id.is_empty() || id == "0" || !seen.insert(id) {
                    return Err(fail(
                        "facts §1.4 (CmdID unique within a message; every command carries one)",
                        "unique, non-empty, non-zero CmdIDs",
                        format!("CmdID {id:?} in message {} (CmdIDs {seen:?})", m.msg_id()),
                    ));
                }
            }
        }
    }
    Ok(())
}

async fn status_refs(w: &mut DmWorld, c: &Context) -> StepResult {
    let p = from(c, 1);
    for s in &w.sessions {
        if let Some(bad) = undecodable(s, p) {
            return Err(fail("facts §1", "DM messages", bad));
        }
        for m in s.from(p) {
            for st in statuses(m) {
                let ok = if st.cmd == "SyncHdr" {
                    st.cmd_ref == "0" && s.from(p.other()).any(|o| o.msg_id() == st.msg_ref)
                } else {
                    referenced(s, p, st).is_some_and(|r| r.name() == st.cmd)
                };
                if !ok {
                    return Err(fail(
                        "facts §1.4 (MsgRef = MsgID of the message holding the command, CmdRef = its CmdID)",
                        &format!("the Status of the {}'s message {} to reference a {} the {} sent", p.name(), m.msg_id(), st.cmd, p.other().name()),
                        format!("MsgRef {} CmdRef {} Cmd {}", st.msg_ref, st.cmd_ref, st.cmd),
                    ));
                }
            }
        }
    }
    Ok(())
}

async fn hdr_status_first(w: &mut DmWorld, c: &Context) -> StepResult {
    let p = from(c, 1);
    for s in &w.sessions {
        // A client's package 1 (Alert 1200/1201, also when resent after a challenge,
        // facts §6.2) answers nothing; every other message answers one.
        let package1 = |m: &Msg| {
            p == Party::Client
                && m.commands().iter().any(|c| {
                    matches!(c, Command::Alert(a)
                        if a.code.is_some_and(|c| c.as_u16() == 1200 || c.as_u16() == 1201))
                })
        };
        for m in s.from(p).filter(|m| !package1(m)) {
            let first = m.commands().first();
            let ok = matches!(first, Some(Command::Status(st)) if st.cmd == "SyncHdr");
            if !ok {
                return Err(fail(
                    "facts §1.4/§2.1 (a reply carries the Status for the SyncHdr)",
                    "a Status for the SyncHdr as the first command",
                    format!(
                        "{:?} first in message {}",
                        first.map(Command::name),
                        m.msg_id()
                    ),
                ));
            }
        }
    }
    Ok(())
}

async fn last_final(w: &mut DmWorld, c: &Context) -> StepResult {
    let p = from(c, 1);
    let s = w.last()?;
    let last = s.from(p).last().ok_or_else(|| {
        fail(
            "facts §2.1",
            &format!("a message from the {}", p.name()),
            "none",
        )
    })?;
    if last.msg.as_ref().is_some_and(|m| m.body.final_) {
        Ok(())
    } else {
        Err(fail(
            "facts §2.4 (the last message of a package carries Final)",
            "Final in the last message",
            format!("message {} without Final", last.msg_id()),
        ))
    }
}

async fn same_session_id(w: &mut DmWorld, _c: &Context) -> StepResult {
    for s in &w.sessions {
        let ids: std::collections::BTreeSet<&str> = s
            .messages
            .iter()
            .filter_map(|m| m.msg.as_ref().map(|x| x.hdr.session_id.as_str()))
            .collect();
        if ids.len() > 1 {
            return Err(fail(
                "facts §1.3 (one SessionID per session)",
                "one SessionID",
                format!("{ids:?}"),
            ));
        }
    }
    Ok(())
}

async fn versions(w: &mut DmWorld, c: &Context) -> StepResult {
    let p = from(c, 1);
    for s in &w.sessions {
        for m in s.from(p) {
            if let Some(x) = &m.msg {
                if x.hdr.ver_dtd != "1.2" || x.hdr.ver_proto != "DM/1.2" {
                    return Err(fail(
                        "facts §1.1 (VerDTD 1.2, VerProto DM/1.2)",
                        "VerDTD 1.2 and VerProto DM/1.2",
                        format!("{} and {}", x.hdr.ver_dtd, x.hdr.ver_proto),
                    ));
                }
            }
        }
    }
    Ok(())
}

fn code(c: &Context, n: usize) -> Result<u16, Why> {
    arg(c, n)
        .parse()
        .map_err(|e| Why::Error(format!("bad status code: {e}")))
}

async fn hdr_status(w: &mut DmWorld, c: &Context) -> StepResult {
    let p = from(c, 1);
    let want = code(c, 3)?;
    let s = w.last()?;
    let all: Vec<u16> = s
        .from(p)
        .flat_map(statuses)
        .filter(|st| st.cmd == "SyncHdr")
        .map(|st| st.code.as_u16())
        .collect();
    let got = if arg(c, 2) == "first" {
        all.first()
    } else {
        all.last()
    };
    match got {
        Some(g) if *g == want => Ok(()),
        _ => Err(fail(
            "facts §6.2 (authentication statuses on the SyncHdr)",
            &format!("{} Status {want} for the SyncHdr", arg(c, 2)),
            format!("SyncHdr statuses {all:?} ({})", s.end),
        )),
    }
}

async fn challenges(w: &mut DmWorld, c: &Context) -> StepResult {
    let p = from(c, 1);
    let want = match arg(c, 2) {
        "basic" => "syncml:auth-basic",
        "md5" => "syncml:auth-md5",
        _ => "syncml:auth-MAC",
    };
    let s = w.last()?;
    let chals: Vec<(u16, Option<String>, bool)> = s
        .from(p)
        .flat_map(statuses)
        .filter(|st| st.cmd == "SyncHdr")
        .filter_map(|st| {
            st.chal.as_ref().map(|ch| {
                (
                    st.code.as_u16(),
                    ch.meta.type_.clone(),
                    ch.meta.next_nonce.is_some(),
                )
            })
        })
        .collect();
    let ok = chals.iter().any(|(code, t, nonce)| {
        (*code == 401 || *code == 407)
            && t.as_deref() == Some(want)
            && (*nonce || want == "syncml:auth-basic")
    });
    if ok {
        Ok(())
    } else {
        Err(fail(
            "facts §6.2 (401/407 carry a Chal with the type and, for md5/MAC, a NextNonce)",
            &format!("a 401 or 407 on the SyncHdr with a {want} Chal"),
            format!("(code, Chal type, has NextNonce) {chals:?}"),
        ))
    }
}

/// Statuses `p` sent for commands named `cmd` (optionally with this target).
pub(super) fn answers<'a>(
    s: &'a Observed,
    p: Party,
    cmd: &str,
    target: Option<&str>,
) -> Vec<(&'a Status, Option<&'a Command>)> {
    s.from(p)
        .flat_map(statuses)
        .filter(|st| st.cmd == cmd)
        .map(|st| (st, referenced(s, p, st)))
        .filter(|(st, r)| match target {
            None => true,
            Some(t) => r.and_then(first_target) == Some(t) || st.target_refs.iter().any(|x| x == t),
        })
        .collect()
}

/// `200` or `405 or 425`: the codes the fact sheet allows.
fn codes(c: &Context, n: usize) -> Result<Vec<u16>, Why> {
    arg(c, n)
        .split(" or ")
        .map(|x| {
            x.parse()
                .map_err(|e| Why::Error(format!("bad status code {x:?}: {e}")))
        })
        .collect()
}

async fn answers_cmd(w: &mut DmWorld, c: &Context) -> StepResult {
    let p = from(c, 1);
    let (cmd, want) = (arg(c, 2), codes(c, 3)?);
    check_answer(w, p, cmd, None, &want)
}

async fn answers_target(w: &mut DmWorld, c: &Context) -> StepResult {
    let p = from(c, 1);
    let (cmd, target, want) = (arg(c, 2), arg(c, 3), codes(c, 4)?);
    check_answer(w, p, cmd, Some(target), &want)
}

pub(super) fn check_answer(
    w: &DmWorld,
    p: Party,
    cmd: &str,
    target: Option<&str>,
    want: &[u16],
) -> StepResult {
    let mut got = Vec::new();
    for s in &w.sessions {
        for (st, _) in answers(s, p, cmd, target) {
            if want.contains(&st.code.as_u16()) {
                return Ok(());
            }
            got.push(st.code.as_u16());
        }
    }
    let want = want
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(" or ");
    let what = match target {
        Some(t) => format!("{cmd} of {t}"),
        None => cmd.to_owned(),
    };
    Err(fail(
        "facts §3.2/§4.5 (the status of each command)",
        &format!("Status {want} from the {} for the {what}", p.name()),
        if got.is_empty() {
            format!(
                "no Status for it ({})",
                w.last().map(|s| s.end.clone()).unwrap_or_default()
            )
        } else {
            format!("Status {got:?}")
        },
    ))
}

/// Items of every Results the client sent whose Source (or the Get's target) is `uri`.
pub(super) fn results_for<'a>(w: &'a DmWorld, uri: &str) -> Vec<&'a dm_protocol::model::Item> {
    let mut out = Vec::new();
    for s in &w.sessions {
        for m in s.from(Party::Client) {
            for c in m.commands() {
                if let Command::Results(r) = c {
                    for i in &r.items {
                        let src = i.source.as_ref().map(|l| l.loc_uri.as_str());
                        if src == Some(uri) {
                            out.push(i);
                        }
                    }
                }
            }
        }
    }
    out
}

pub(super) fn text(d: &Option<Data>) -> String {
    match d {
        Some(Data::Text(t)) => t.clone(),
        Some(Data::Binary(b)) => String::from_utf8_lossy(b).into_owned(),
        Some(Data::Markup(x)) => x.to_xml(),
        None => String::new(),
    }
}

async fn results_value(w: &mut DmWorld, c: &Context) -> StepResult {
    let (uri, want) = (arg(c, 1), arg(c, 2));
    let items = results_for(w, uri);
    let values: Vec<String> = items.iter().map(|i| text(&i.data)).collect();
    if values.iter().any(|v| v == want) {
        Ok(())
    } else {
        Err(fail(
            "facts §4.5 (Get of a leaf returns its value in Results, Source = the node)",
            &format!("Results for {uri} with value {want:?}"),
            format!("values {values:?}"),
        ))
    }
}

async fn results_any(w: &mut DmWorld, c: &Context) -> StepResult {
    let uri = arg(c, 1);
    if results_for(w, uri).is_empty() {
        Err(fail(
            "facts §1.4/§4.5 (a successful Get is answered by Results after its Status)",
            &format!("Results with an Item whose Source is {uri}"),
            "none",
        ))
    } else {
        Ok(())
    }
}

async fn results_children(w: &mut DmWorld, c: &Context) -> StepResult {
    let want: Vec<String> = arg(c, 1)
        .split(',')
        .map(|s| s.trim().trim_matches('"').to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    let mut lists = Vec::new();
    for s in &w.sessions {
        for m in s.from(Party::Client) {
            for cmd in m.commands() {
                if let Command::Results(r) = cmd {
                    for i in &r.items {
                        let names: Vec<String> =
                            text(&i.data).split('/').map(str::to_owned).collect();
                        if want.iter().all(|x| names.contains(x)) {
                            return Ok(());
                        }
                        lists.push(names);
                    }
                }
            }
        }
    }
    Err(fail(
        "facts §4.5 (Get of an interior node returns its child list)",
        &format!("a child list containing {want:?}"),
        format!("{lists:?}"),
    ))
}

async fn no_results(w: &mut DmWorld, _c: &Context) -> StepResult {
    for s in &w.sessions {
        for m in s.from(Party::Client) {
            if m.commands()
                .iter()
                .any(|c| matches!(c, Command::Results(_)))
            {
                return Err(fail(
                    "facts §6.2/§4.4 (nothing is executed for an unauthorised server)",
                    "no Results",
                    format!("Results in message {}", m.msg_id()),
                ));
            }
        }
    }
    Ok(())
}

async fn client_commands(w: &mut DmWorld, _c: &Context) -> StepResult {
    for s in &w.sessions {
        for m in s.from(Party::Client) {
            for c in m.commands() {
                let ok = matches!(
                    c,
                    Command::Status(_) | Command::Results(_) | Command::Alert(_)
                ) || (matches!(c, Command::Replace(_))
                    && first_target(c).is_some_or_devinfo());
                if !ok {
                    return Err(fail(
                        "facts §2.1 (a client only sends Replace (DevInfo), Results, Alert, Status)",
                        "only those commands",
                        format!("a {} in message {}", c.name(), m.msg_id()),
                    ));
                }
            }
        }
    }
    Ok(())
}

trait DevInfoTarget {
    fn is_some_or_devinfo(&self) -> bool;
}

impl DevInfoTarget for Option<&str> {
    /// A Replace of package 1 carries its DevInfo nodes in Item/Source (facts §2.1).
    fn is_some_or_devinfo(&self) -> bool {
        self.is_none_or(|t| t.starts_with("./DevInfo"))
    }
}

async fn job(w: &DmWorld) -> Result<dm_server::model::Job, Why> {
    let id = w.last_job()?;
    let server = w
        .server
        .as_ref()
        .ok_or_else(|| Why::Error("no server".into()))?;
    server.job(id).await
}

async fn job_status(w: &mut DmWorld, c: &Context) -> StepResult {
    let (want, cmd) = (code(c, 1)?, arg(c, 2));
    let j = job(w).await?;
    let got: Vec<(String, u16)> = j.statuses.iter().map(|s| (s.cmd.clone(), s.code)).collect();
    if got.iter().any(|(n, code)| n == cmd && *code == want) {
        Ok(())
    } else {
        Err(fail(
            "DMRD-6.3.4-9 / admin API (the server records each command's status)",
            &format!("status {want} recorded for the {cmd}"),
            format!("job {:?} with statuses {got:?}", j.state),
        ))
    }
}

async fn job_result(w: &mut DmWorld, c: &Context) -> StepResult {
    let want = arg(c, 1);
    let j = job(w).await?;
    if j.results.iter().any(|r| r.data == want) {
        Ok(())
    } else {
        let got: Vec<&str> = j.results.iter().map(|r| r.data.as_str()).collect();
        Err(fail(
            "DMRD-6.3.4-3 (the server takes the device's answer to a query)",
            &format!("the result {want:?} recorded"),
            format!("job {:?} with results {got:?}", j.state),
        ))
    }
}

fn package1(w: &DmWorld) -> Result<&Msg, Why> {
    let s = w.last()?;
    let m = s
        .from(Party::Client)
        .next()
        .ok_or_else(|| fail("facts §2.1", "a package 1 from the client", "no message"))?;
    if m.msg.is_none() {
        return Err(fail(
            "facts §1",
            "a DM message",
            format!("{} bytes that do not decode", m.bytes.len()),
        ));
    }
    Ok(m)
}

async fn pkg1_alert(w: &mut DmWorld, c: &Context) -> StepResult {
    let want = code(c, 1)?;
    let m = package1(w)?;
    let codes: Vec<u16> = m
        .commands()
        .iter()
        .filter_map(|c| match c {
            Command::Alert(a) => a.code.map(|c| c.as_u16()),
            _ => None,
        })
        .collect();
    if codes.contains(&want) {
        Ok(())
    } else {
        Err(fail(
            "facts §2.1/§2.5 (package 1 carries Alert 1200 or 1201)",
            &format!("Alert {want} in package 1"),
            format!("alerts {codes:?}"),
        ))
    }
}

async fn pkg1_devinfo(w: &mut DmWorld, _c: &Context) -> StepResult {
    let m = package1(w)?;
    let mut nodes = std::collections::BTreeMap::new();
    for c in m.commands() {
        if let Command::Replace(r) = c {
            for i in &r.items {
                let uri = i
                    .source
                    .as_ref()
                    .or(i.target.as_ref())
                    .map(|l| l.loc_uri.clone())
                    .unwrap_or_default();
                nodes.insert(uri, text(&i.data));
            }
        }
    }
    let missing: Vec<&str> = [
        "./DevInfo/DevId",
        "./DevInfo/Man",
        "./DevInfo/Mod",
        "./DevInfo/DmV",
        "./DevInfo/Lang",
    ]
    .into_iter()
    .filter(|n| !nodes.contains_key(*n))
    .collect();
    if !missing.is_empty() {
        return Err(fail(
            "facts §2.1/§5.2 (DevInfo in the first message of every session)",
            "a Replace with DevId, Man, Mod, DmV and Lang",
            format!(
                "missing {missing:?}; sent {:?}",
                nodes.keys().collect::<Vec<_>>()
            ),
        ));
    }
    match nodes.get("./DevInfo/DevId") {
        Some(v) if *v == w.dev_id => Ok(()),
        v => Err(fail(
            "facts §5.2 (DevId)",
            &format!("DevId {}", w.dev_id),
            format!("{v:?}"),
        )),
    }
}

async fn names_device(w: &mut DmWorld, _c: &Context) -> StepResult {
    for s in &w.sessions {
        for m in s.from(Party::Client) {
            if let Some(x) = &m.msg {
                if x.hdr.source.loc_uri != w.dev_id {
                    return Err(fail(
                        "facts §1.3 (SyncHdr Source/LocURI = the DevId)",
                        &w.dev_id,
                        &x.hdr.source.loc_uri,
                    ));
                }
            }
        }
    }
    Ok(())
}

async fn different_session_ids(w: &mut DmWorld, _c: &Context) -> StepResult {
    let ids: Vec<String> = w
        .sessions
        .iter()
        .filter_map(|s| {
            s.messages
                .iter()
                .find_map(|m| m.msg.as_ref().map(|x| x.hdr.session_id.clone()))
        })
        .collect();
    let unique: std::collections::BTreeSet<&String> = ids.iter().collect();
    if ids.len() >= 2 && unique.len() == ids.len() {
        Ok(())
    } else {
        Err(fail(
            "DMRD-6.1.2-4 (no two sessions share an identifier)",
            "different SessionIDs",
            format!("{ids:?}"),
        ))
    }
}

fn is_management(c: &Command) -> bool {
    matches!(
        c,
        Command::Add(_)
            | Command::Copy(_)
            | Command::Delete(_)
            | Command::Exec(_)
            | Command::Get(_)
            | Command::Replace(_)
            | Command::Atomic(_)
            | Command::Sequence(_)
    ) || matches!(c, Command::Alert(a) if a.code.is_some_and(|c| c.is_ui()))
}

async fn no_commands(w: &mut DmWorld, c: &Context) -> StepResult {
    let p = from(c, 1);
    let s = w.last()?;
    let skip = usize::from(p == Party::Client);
    for m in s.from(p).skip(skip) {
        if let Some(cmd) = m.commands().iter().find(|c| is_management(c)) {
            return Err(fail(
                "facts §6.2 (an authentication failure is answered with statuses only)",
                "no management command",
                format!("a {} in message {}", cmd.name(), m.msg_id()),
            ));
        }
    }
    Ok(())
}

async fn fits(w: &mut DmWorld, c: &Context) -> StepResult {
    let p = from(c, 1);
    let max: usize = arg(c, 2)
        .parse()
        .map_err(|e| Why::Error(format!("bad size: {e}")))?;
    for s in &w.sessions {
        for m in s.from(p) {
            if m.bytes.len() > max {
                return Err(fail(
                    "facts §1.5/§2.4 (messages respect the peer's MaxMsgSize)",
                    &format!("at most {max} bytes"),
                    format!("message {} of {} bytes", m.msg_id(), m.bytes.len()),
                ));
            }
        }
    }
    Ok(())
}

/// A check on what the tester sends is a precondition, not a verdict on the IUT: when it
/// does not hold, the scenario could not exercise its rule (`inconclusive`).
fn precondition(w: &DmWorld, p: Party, why: Why) -> Why {
    if p == w.other_party() {
        Why::Inconclusive(format!("the scenario's precondition does not hold: {why}"))
    } else {
        why
    }
}

async fn multi_message(w: &mut DmWorld, c: &Context) -> StepResult {
    let p = from(c, 1);
    multi_message_of(w, p).map_err(|e| precondition(w, p, e))
}

fn multi_message_of(w: &DmWorld, p: Party) -> StepResult {
    let s = w.last()?;
    let non_final = s
        .from(p)
        .filter(|m| m.msg.as_ref().is_some_and(|x| !x.body.final_))
        .count();
    if non_final > 0 {
        Ok(())
    } else {
        Err(fail(
            "facts §2.4 (a package too big for one message is split; all but the last lack Final)",
            "a message without Final",
            "every message carries Final",
        ))
    }
}

async fn chunks(w: &mut DmWorld, c: &Context) -> StepResult {
    let p = from(c, 1);
    chunks_of(w, p).map_err(|e| precondition(w, p, e))
}

fn chunks_of(w: &DmWorld, p: Party) -> StepResult {
    let s = w.last()?;
    let more = s
        .from(p)
        .flat_map(|m| m.commands())
        .filter(|c| match c {
            Command::Add(i) | Command::Replace(i) => i.items.iter().any(|x| x.more_data),
            Command::Results(r) => r.items.iter().any(|x| x.more_data),
            _ => false,
        })
        .count();
    if more > 0 {
        Ok(())
    } else {
        Err(fail(
            "facts §8 (a large object is sent in chunks marked MoreData)",
            "an item with MoreData",
            "none",
        ))
    }
}

async fn pkg0_valid(w: &mut DmWorld, _c: &Context) -> StepResult {
    let bytes = w
        .pkg0
        .last()
        .ok_or_else(|| Why::Error("no package #0 was received: add a When step".into()))?;
    let n = dm_protocol::pkg0::decode(bytes).map_err(|e| {
        fail(
            "facts §7.1 (package #0 layout)",
            "a well-formed package #0",
            e,
        )
    })?;
    let ctx = w.ctx()?;
    if n.server_id != ctx.profile.ixit.server_id {
        return Err(fail(
            "facts §7.1 (ServerID in the trigger)",
            &ctx.profile.ixit.server_id,
            &n.server_id,
        ));
    }
    let creds = w
        .server_creds
        .as_ref()
        .ok_or_else(|| Why::Error("package #0 needs `the server authenticates with …`".into()))?;
    // facts §7.2: the name before the colon is the server identifier (IMPL: or the SRVCRED
    // AAuthName); the nonce is the server nonce the device holds, empty before any session.
    let mut ok = false;
    for name in [n.server_id.as_str(), creds.name.as_str()] {
        ok |= dm_protocol::pkg0::verify(bytes, name, &creds.secret, b"")
            .map_err(|e| fail("facts §7.2 (digest)", "a digest", e))?;
    }
    if ok {
        Ok(())
    } else {
        Err(fail(
            "facts §7.2 (digest = H(B64(H(server-id:password)):nonce:B64(H(trigger))))",
            "a digest made with the server's credentials",
            "a digest that does not verify",
        ))
    }
}

async fn vector(w: &mut DmWorld, _c: &Context) -> StepResult {
    let ctx = w.ctx()?;
    if ctx.interop() {
        return Err(Why::NotApplicable(
            "golden session vectors record an exchange with the reference tester; an interop run has none".into(),
        ));
    }
    let server_url = match &w.server {
        Some(ServerSide::Tester(t)) => t.url.clone(),
        Some(ServerSide::Iut(i)) => i.dm_url.clone(),
        None => String::new(),
    };
    let messages: Vec<(sessions::Party, &[u8])> = w
        .sessions
        .iter()
        .flat_map(|s| &s.messages)
        .map(|m| {
            let p = match m.from {
                Party::Client => sessions::Party::Client,
                Party::Server => sessions::Party::Server,
            };
            (p, m.bytes.as_slice())
        })
        .collect();
    let text = sessions::normalize(
        &messages,
        &MaskContext {
            dev_id: w.dev_id.clone(),
            server_url,
        },
    );
    let name = format!("{}-{}", w.id, w.role()?.tag());
    match sessions::compare(&ctx.session_vectors, &name, &text, ctx.bless) {
        Ok(None) => Ok(()),
        Ok(Some(diff)) => {
            w.diffs.push(diff);
            Err(Why::Fail(format!(
                "the normalized exchange differs from vectors/sessions/{name}.txt (diff in the report)"
            )))
        }
        Err(e) => Err(Why::Error(e.to_string())),
    }
}

async fn results_differ(w: &mut DmWorld, c: &Context) -> StepResult {
    let uri = arg(c, 1);
    let per_session: Vec<Vec<String>> = w
        .sessions
        .iter()
        .map(|s| {
            s.from(Party::Client)
                .flat_map(|m| m.commands())
                .filter_map(|c| match c {
                    Command::Results(r) => Some(r),
                    _ => None,
                })
                .flat_map(|r| &r.items)
                .filter(|i| i.source.as_ref().is_some_and(|l| l.loc_uri == uri))
                .map(|i| text(&i.data))
                .collect()
        })
        .filter(|v: &Vec<String>| !v.is_empty())
        .collect();
    match per_session.as_slice() {
        [a, b, ..] if a != b => Ok(()),
        _ => Err(fail(
            "facts §4.3 (VerNo and TStamp change with every change of the node)",
            &format!("different Results for {uri} before and after the change"),
            format!("{per_session:?}"),
        )),
    }
}

async fn got_alert(w: &mut DmWorld, c: &Context) -> StepResult {
    let (type_, data) = (arg(c, 1), arg(c, 2));
    let server = w
        .server
        .as_ref()
        .ok_or_else(|| Why::Error("no server".into()))?;
    let alerts = server.alerts(&w.dev_id).await?;
    let found = alerts.iter().any(|a| {
        a.code == 1226
            && a.items
                .iter()
                .any(|i| i.type_.as_deref() == Some(type_) && i.data.as_deref() == Some(data))
    });
    if found {
        Ok(())
    } else {
        Err(fail(
            "facts §3.5 (Generic Alert: Data 1226, Item Meta Type and Format, Data)",
            &format!("a 1226 with type {type_:?} and data {data:?}"),
            format!("{alerts:?}"),
        ))
    }
}

async fn alert_answer_data(w: &mut DmWorld, c: &Context) -> StepResult {
    let (want, data) = (code(c, 1)?, arg(c, 2));
    let mut got = Vec::new();
    for s in &w.sessions {
        for (st, _) in answers(s, Party::Client, "Alert", None) {
            let items: Vec<String> = st.items.iter().map(|i| text(&i.data)).collect();
            if st.code.as_u16() == want && items.iter().any(|i| i == data) {
                return Ok(());
            }
            got.push((st.code.as_u16(), items));
        }
    }
    Err(fail(
        "facts §3.4 (the answer to a UI alert: its status and the user's input in Item/Data)",
        &format!("Status {want} with Item Data {data:?}"),
        format!("{got:?}"),
    ))
}

async fn next_message_only(w: &mut DmWorld, c: &Context) -> StepResult {
    let p = from(c, 1);
    let mut checked = 0;
    for s in &w.sessions {
        for m in s.from(p.other()) {
            if m.msg.as_ref().is_none_or(|x| x.body.final_) {
                continue;
            }
            // A message asking for the next part of `p`'s own package (Alert 1222) is
            // answered with that part, not with statuses only.
            let asks_next = m.commands().iter().any(
                |c| matches!(c, Command::Alert(a) if a.code.is_some_and(|c| c.as_u16() == 1222)),
            );
            if asks_next {
                continue;
            }
            // The answer is the next message from `p` referencing this one.
            let answer = s
                .from(p)
                .find(|a| statuses(a).any(|st| st.cmd == "SyncHdr" && st.msg_ref == m.msg_id()));
            let Some(a) = answer else { continue };
            checked += 1;
            let bad = a.commands().iter().find(|c| match c {
                Command::Status(_) => false,
                Command::Alert(al) => !al
                    .code
                    .is_some_and(|c| c.as_u16() == 1222 || c.as_u16() == 1223),
                _ => true,
            });
            if let Some(b) = bad {
                return Err(fail(
                    "facts §2.4 (the \"next message\" response holds only Status and Alert 1222)",
                    "only Status and Alert 1222",
                    format!("a {} in message {}", b.name(), a.msg_id()),
                ));
            }
        }
    }
    if checked == 0 {
        return Err(Why::Inconclusive(format!(
            "the {} sent no non-final message, so the rule was not exercised",
            p.other().name()
        )));
    }
    Ok(())
}

async fn none_after_abort(w: &mut DmWorld, _c: &Context) -> StepResult {
    let s = w.last()?;
    let is_abort = |m: &Msg| {
        m.commands()
            .iter()
            .any(|c| matches!(c, Command::Alert(a) if a.code.is_some_and(|c| c.as_u16() == 1223)))
    };
    let Some(at) = s
        .messages
        .iter()
        .position(|m| m.from == Party::Client && is_abort(m))
    else {
        return Err(Why::Error(
            "the client did not abort (no Alert 1223 was sent)".into(),
        ));
    };
    for m in s.messages[at..].iter().filter(|m| m.from == Party::Server) {
        if let Some(cmd) = m.commands().iter().find(|c| is_management(c)) {
            return Err(fail(
                "facts §2.3 (a server receiving 1223 answers with statuses only, no new commands)",
                "no management command after the abort",
                format!("a {} in message {}", cmd.name(), m.msg_id()),
            ));
        }
    }
    Ok(())
}

/// Every NextNonce the server sent (in Chal), over every session.
async fn fresh_nonces(w: &mut DmWorld, _c: &Context) -> StepResult {
    let nonces: Vec<String> = w
        .sessions
        .iter()
        .flat_map(|s| s.from(Party::Server))
        .flat_map(statuses)
        .filter_map(|st| st.chal.as_ref().and_then(|c| c.meta.next_nonce.clone()))
        .collect();
    let unique: std::collections::BTreeSet<&String> = nonces.iter().collect();
    if nonces.len() >= 2 && unique.len() == nonces.len() {
        Ok(())
    } else {
        Err(fail(
            "facts §6.2 (a new, unpredictable nonce per session)",
            "at least two challenges, each with a different NextNonce",
            format!("NextNonces {nonces:?}"),
        ))
    }
}

async fn no_results_for(w: &mut DmWorld, c: &Context) -> StepResult {
    let uri = arg(c, 1);
    let n = results_for(w, uri).len();
    if n == 0 {
        Ok(())
    } else {
        Err(fail(
            "facts §6.2/§4.4 (nothing is executed for an unauthorised server)",
            &format!("no Results for {uri}"),
            format!("{n} Results items"),
        ))
    }
}

/// The data of every Results item for `uri`, chunks of a large object joined (facts §8).
fn assembled(w: &DmWorld, uri: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut pending = String::new();
    for s in &w.sessions {
        for m in s.from(Party::Client) {
            for c in m.commands() {
                if let Command::Results(r) = c {
                    for i in &r.items {
                        // facts §4.6 gives a TNDS answer's Source as the start node; implementations
                        // also name the requested URI (node and query): both are accepted.
                        let src = i
                            .source
                            .as_ref()
                            .map(|l| l.loc_uri.split('?').next().unwrap_or(""));
                        let exact = i.source.as_ref().map(|l| l.loc_uri.as_str()) == Some(uri);
                        if !exact && src != Some(uri) && pending.is_empty() {
                            continue;
                        }
                        pending.push_str(&text(&i.data));
                        if !i.more_data {
                            out.push(std::mem::take(&mut pending));
                        }
                    }
                }
            }
        }
    }
    out
}

async fn results_large(w: &mut DmWorld, c: &Context) -> StepResult {
    let uri = arg(c, 1);
    let n: usize = arg(c, 2)
        .parse()
        .map_err(|e| Why::Error(format!("bad size: {e}")))?;
    let want = super::act::large_value(n);
    let got = assembled(w, uri);
    if got.contains(&want) {
        Ok(())
    } else {
        let lens: Vec<usize> = got.iter().map(String::len).collect();
        Err(fail(
            "facts §8 (a large object arrives whole, its chunks in order)",
            &format!("Results for {uri} with the {n}-byte value"),
            format!("values of {lens:?} bytes"),
        ))
    }
}

async fn results_containing(w: &mut DmWorld, c: &Context) -> StepResult {
    let (uri, part) = (arg(c, 1), arg(c, 2));
    let got = assembled(w, uri);
    if got.iter().any(|v| v.contains(part)) {
        Ok(())
    } else {
        Err(fail(
            "facts §4.6/§9.2 (the query's Results)",
            &format!("Results for {uri} containing {part:?}"),
            format!("{got:?}"),
        ))
    }
}

async fn job_result_large(w: &mut DmWorld, c: &Context) -> StepResult {
    let n: usize = arg(c, 1)
        .parse()
        .map_err(|e| Why::Error(format!("bad size: {e}")))?;
    let want = super::act::large_value(n);
    let j = job(w).await?;
    if j.results.iter().any(|r| r.data == want) {
        Ok(())
    } else {
        let lens: Vec<usize> = j.results.iter().map(|r| r.data.len()).collect();
        Err(fail(
            "facts §8 (the receiver assembles a large object from its chunks)",
            &format!("a recorded result of {n} bytes"),
            format!("job {:?} with results of {lens:?} bytes", j.state),
        ))
    }
}

async fn encoded_in(w: &mut DmWorld, c: &Context) -> StepResult {
    let p = from(c, 1);
    let want = match arg(c, 2) {
        "WBXML" => dm_protocol::codec::Encoding::Wbxml,
        _ => dm_protocol::codec::Encoding::Xml,
    };
    for s in &w.sessions {
        for m in s.from(p) {
            let got = dm_protocol::codec::Encoding::detect(&m.bytes);
            if got != want {
                return Err(fail(
                    "facts §1.1/§12 (a peer answers in the encoding of the request)",
                    &format!("every {} message in {}", p.name(), want.name()),
                    format!("message {} in {}", m.msg_id(), got.name()),
                ));
            }
        }
    }
    Ok(())
}

async fn pkg0_session_id(w: &mut DmWorld, _c: &Context) -> StepResult {
    let bytes = w
        .pkg0
        .last()
        .ok_or_else(|| Why::Error("no package #0 was received".into()))?;
    let n = dm_protocol::pkg0::decode(bytes).map_err(|e| {
        fail(
            "facts §7.1 (package #0 layout)",
            "a well-formed package #0",
            e,
        )
    })?;
    let want = format!("{:X}", n.session_id);
    let s = w.last()?;
    for m in &s.messages {
        if let Some(x) = &m.msg {
            if x.hdr.session_id != want {
                return Err(fail(
                    "facts §7.3 (the session answering a package #0 uses its session-id, uppercase hex)",
                    &format!("SessionID {want}"),
                    format!("SessionID {} in a {} message", x.hdr.session_id, m.from.name()),
                ));
            }
        }
    }
    Ok(())
}
