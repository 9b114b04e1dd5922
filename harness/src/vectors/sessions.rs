//! Session golden vectors (`vectors/sessions/`, format in its README.md).
//!
//! A scenario records every message exchanged with the implementation under test, turns the
//! exchange into text with [`normalize`] and compares that text with the vector
//! `vectors/sessions/<name>.txt` through [`compare`]; a mismatch is a unified diff for the
//! report. `dmconf vectors check` checks that each vector file is well formed ([`check`]).
//!
//! # The normalized form
//!
//! For each message, in exchange order (numbered from 1):
//!
//! ```text
//! --- message 1: client -> server
//! <?xml version="1.0" encoding="UTF-8"?>
//! <SyncML xmlns="SYNCML:SYNCML1.2">
//!   ...
//! </SyncML>
//! ```
//!
//! The body is the pretty XML ([`codec::to_pretty_xml`]) of the message after lenient
//! decoding (XML or WBXML, detected from the bytes, so both encodings of one message give the
//! same text) and masking. A message that does not decode is shown as one line
//! `!! not decodable: <n> bytes (<error kind>: <error>)`; a message that decodes but cannot be
//! written as XML (binary data, control characters) as the line
//! `!! not writable as XML (<error>); the masked model as JSON:` followed by the model's
//! pretty JSON. Nothing panics; the output is deterministic.
//!
//! # The mask
//!
//! Only values that change from run to run or from implementation to implementation are
//! replaced; status codes, `CmdID`s, `MsgID`s, `MsgRef`/`CmdRef`, command names and order,
//! node URIs and every value the scenario chose stay, because those are what the protocol
//! fixes.
//!
//! | field | placeholder | why it is volatile |
//! |---|---|---|
//! | `SyncHdr/SessionID` (when not empty) | `#SESSION-ID` | chosen per session (facts §1.3, §7.3) |
//! | `SyncHdr` `Target`/`Source` `LocURI` equal to [`MaskContext::dev_id`] | `#DEV-ID` | the device under test |
//! | `SyncHdr` `Target`/`Source` `LocURI` equal to [`MaskContext::server_url`] | `#SERVER-URL` | the server's address in this run |
//! | `Status` `TargetRef`/`SourceRef` equal to either of them | `#DEV-ID` / `#SERVER-URL` | the SyncHdr Status echoes the header's LocURIs (facts §1.4) |
//! | `SyncHdr/RespURI` | `#RESP-URI` | per-session URL chosen by the server |
//! | the server's `scheme://host:port` anywhere in the text (a `PkgURL`, an upload URL) | `#SERVER-BASE` | the server's address in this run |
//! | `Correlator` of `Exec` and `Alert` | `#CORRELATOR` | chosen by the server (its job numbering) |
//! | `Cred/Data`, every `Cred` | `#CRED` | basic/md5 material depends on secrets and nonces (facts §6.1) |
//! | `NextNonce`, in any `Meta` (`Chal`, `SyncHdr`, commands, items) | `#NONCE` | random per challenge (facts §6.2) |
//! | `MaxMsgSize`, `MaxObjSize`, in any `Meta` | `#SIZE` | implementation limits (facts §1.3) |
//! | `Item/Data` of the client's `Replace` in package 1 whose item `Target` or `Source` `LocURI` starts with `./DevInfo/` | `#DEVINFO` | vendor values (facts §5.2) |
//!
//! A client message is in package 1 when it carries an `Alert` 1200 or 1201 (the opening of
//! package 1, also when it is sent again after a challenge), or when it follows such a client
//! message that had no `Final` (package 1 spread over several messages). `#SIZE` values keep
//! their element and position; the decoder files them as non-numeric MetInf, which is what
//! lets a vector be read back. Commands the model does not type (`Command::Other`) are shown
//! as received.

use std::path::{Path, PathBuf};

use dm_protocol::codec::{self, DecodeOptions};
use dm_protocol::codes::AlertCode;
use dm_protocol::dom::{Element, Node, NS_METINF};
use dm_protocol::model::{Command, Cred, Data, Item, Meta, SyncMl};

use super::{unified_diff, Outcome};

const SESSION_ID: &str = "#SESSION-ID";
const DEV_ID: &str = "#DEV-ID";
const SERVER_URL: &str = "#SERVER-URL";
const CORRELATOR: &str = "#CORRELATOR";
const RESP_URI: &str = "#RESP-URI";
const CRED: &str = "#CRED";
const NONCE: &str = "#NONCE";
const SIZE: &str = "#SIZE";
const DEVINFO: &str = "#DEVINFO";

const HEADER: &str = "--- message ";
const NOT_DECODABLE: &str = "!! not decodable: ";
const NOT_WRITABLE: &str = "!! not writable as XML (";

/// Who sent a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Party {
    /// The DM client (device).
    Client,
    /// The DM server.
    Server,
}

impl Party {
    /// `client -> server` or `server -> client`, as in the header lines.
    pub fn direction(self) -> &'static str {
        match self {
            Party::Client => "client -> server",
            Party::Server => "server -> client",
        }
    }
}

/// The run's volatile identities, replaced where they name a peer (see the module docs).
/// An empty value masks nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MaskContext {
    /// The device id (`./DevInfo/DevId`, the client's SyncHdr `Source/LocURI`).
    pub dev_id: String,
    /// The server URL (the client's SyncHdr `Target/LocURI`).
    pub server_url: String,
}

/// The normalized text of an exchange: each message decoded leniently, masked, and written
/// as pretty XML under a `--- message N: <direction>` line. See the module docs.
pub fn normalize(messages: &[(Party, &[u8])], ctx: &MaskContext) -> String {
    let mut out = String::new();
    // Whether the client's previous message was in package 1 and left it open (no Final).
    let mut package_1_open = false;
    for (n, (party, bytes)) in messages.iter().enumerate() {
        out.push_str(&format!("{HEADER}{}: {}\n", n + 1, party.direction()));
        let mut message = match codec::decode(bytes, DecodeOptions::LENIENT) {
            Ok(decoded) => decoded.message,
            Err(e) => {
                out.push_str(&format!(
                    "{NOT_DECODABLE}{} bytes ({}: {e})\n",
                    bytes.len(),
                    e.kind()
                ));
                continue;
            }
        };
        let package_1 = *party == Party::Client && (package_1_open || opens_package_1(&message));
        if *party == Party::Client {
            package_1_open = package_1 && !message.body.final_;
        }
        mask(&mut message, package_1, ctx);
        match codec::to_pretty_xml(&message) {
            Ok(xml) => match server_base(&ctx.server_url) {
                Some(base) => out.push_str(&xml.replace(base, "#SERVER-BASE")),
                None => out.push_str(&xml),
            },
            Err(e) => {
                out.push_str(&format!("{NOT_WRITABLE}{e}); the masked model as JSON:\n"));
                out.push_str(&super::pretty_json(
                    &serde_json::to_value(&message).unwrap_or_default(),
                ));
            }
        }
    }
    out
}

/// The `scheme://host:port` of a URL, if it has one.
fn server_base(url: &str) -> Option<&str> {
    let i = url.find("://")?;
    let rest = &url[i + 3..];
    let end = i + 3 + rest.find('/').unwrap_or(rest.len());
    (end > i + 3).then(|| &url[..end])
}

/// Whether a client message opens package 1: it carries Alert 1200 or 1201 (facts §2.5).
fn opens_package_1(m: &SyncMl) -> bool {
    m.body.commands.iter().any(|c| {
        matches!(
            c,
            Command::Alert(a) if matches!(
                a.code,
                Some(AlertCode::ServerInitiatedMgmt | AlertCode::ClientInitiatedMgmt)
            )
        )
    })
}

/// Apply the mask of the module docs to one decoded message. `client_package_1`: the message
/// is the client's and belongs to package 1.
fn mask(m: &mut SyncMl, client_package_1: bool, ctx: &MaskContext) {
    let hdr = &mut m.hdr;
    if !hdr.session_id.is_empty() {
        hdr.session_id = SESSION_ID.into();
    }
    mask_identity(&mut hdr.target.loc_uri, ctx);
    mask_identity(&mut hdr.source.loc_uri, ctx);
    if let Some(r) = &mut hdr.resp_uri {
        *r = RESP_URI.into();
    }
    mask_cred(&mut hdr.cred);
    mask_meta(&mut hdr.meta);
    for c in &mut m.body.commands {
        mask_command(c, client_package_1, ctx);
    }
}

fn mask_identity(value: &mut String, ctx: &MaskContext) {
    if !ctx.dev_id.is_empty() && *value == ctx.dev_id {
        *value = DEV_ID.into();
    } else if !ctx.server_url.is_empty() && *value == ctx.server_url {
        *value = SERVER_URL.into();
    }
}

fn mask_cred(cred: &mut Option<Cred>) {
    if let Some(c) = cred {
        c.data = CRED.into();
        mask_meta(&mut c.meta);
    }
}

fn mask_meta(meta: &mut Option<Meta>) {
    if let Some(m) = meta {
        mask_meta_fields(m);
    }
}

fn mask_meta_fields(m: &mut Meta) {
    if let Some(n) = &mut m.next_nonce {
        *n = NONCE.into();
    }
    // The typed size slots hold numbers: the placeholders go to the front of `extra`, which
    // the encoder writes right after MaxObjSize, so the element order does not change.
    let mut sizes = Vec::new();
    if m.max_msg_size.take().is_some() {
        sizes.push(Node::Element(
            Element::new("MaxMsgSize", NS_METINF).with_text(SIZE),
        ));
    }
    if m.max_obj_size.take().is_some() {
        sizes.push(Node::Element(
            Element::new("MaxObjSize", NS_METINF).with_text(SIZE),
        ));
    }
    m.extra.nodes.splice(0..0, sizes);
    // Repeated or non-numeric values the decoder kept raw.
    for node in &mut m.extra.nodes {
        if let Node::Element(e) = node {
            let placeholder = match e.name.as_str() {
                "NextNonce" => NONCE,
                "MaxMsgSize" | "MaxObjSize" => SIZE,
                _ => continue,
            };
            e.children = vec![Node::Text(placeholder.into())];
        }
    }
}

fn mask_items(items: &mut [Item]) {
    for i in items {
        mask_meta(&mut i.meta);
    }
}

fn is_devinfo(item: &Item) -> bool {
    [&item.target, &item.source]
        .into_iter()
        .flatten()
        .any(|l| l.loc_uri.starts_with("./DevInfo/"))
}

fn mask_command(c: &mut Command, client_package_1: bool, ctx: &MaskContext) {
    match c {
        Command::Add(r)
        | Command::Copy(r)
        | Command::Delete(r)
        | Command::Get(r)
        | Command::Replace(r) => {
            mask_cred(&mut r.cred);
            mask_meta(&mut r.meta);
            mask_items(&mut r.items);
        }
        Command::Alert(a) => {
            mask_cred(&mut a.cred);
            mask_items(&mut a.items);
            if a.correlator.is_some() {
                a.correlator = Some(CORRELATOR.into());
            }
        }
        Command::Atomic(k) | Command::Sequence(k) => {
            mask_meta(&mut k.meta);
            for c in &mut k.commands {
                mask_command(c, client_package_1, ctx);
            }
        }
        Command::Exec(e) => {
            mask_cred(&mut e.cred);
            mask_meta(&mut e.meta);
            mask_items(&mut e.items);
            if e.correlator.is_some() {
                e.correlator = Some(CORRELATOR.into());
            }
        }
        Command::Results(r) => {
            mask_meta(&mut r.meta);
            mask_items(&mut r.items);
        }
        Command::Status(s) => {
            for r in s.target_refs.iter_mut().chain(s.source_refs.iter_mut()) {
                mask_identity(r, ctx);
            }
            mask_cred(&mut s.cred);
            if let Some(ch) = &mut s.chal {
                mask_meta_fields(&mut ch.meta);
            }
            mask_items(&mut s.items);
        }
        Command::Other(_) => {}
    }
    if let Command::Replace(r) = c {
        if client_package_1 {
            for i in r.items.iter_mut().filter(|i| is_devinfo(i)) {
                if let Some(d) = &mut i.data {
                    *d = Data::Text(DEVINFO.into());
                }
            }
        }
    }
}

/// Why a session vector could not be compared or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionVectorError {
    /// The vector file does not exist yet.
    #[error(
        "session vector {} does not exist; run with --bless to create it from this exchange, \
         then review and commit it",
        path.display()
    )]
    Missing {
        /// The expected file.
        path: PathBuf,
    },
    /// The vector name cannot be a file name.
    #[error(
        "session vector name {0:?} is not usable as a file name; use letters, digits, '-', \
         '_' and '.' only"
    )]
    InvalidName(String),
    /// The vector file exists but cannot be read.
    #[error("cannot read session vector {}: {source}; check its permissions", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The vector file cannot be written (when blessing).
    #[error(
        "cannot write session vector {}: {source}; check that the folder is writable",
        path.display()
    )]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Compare a normalized exchange with the vector `dir/<name>.txt`.
///
/// With `bless`, write `actual` as the vector (creating `dir` if needed) and return
/// `Ok(None)`. Otherwise `Ok(None)` when the vector equals `actual` (line endings `\r\n` in
/// the file count as `\n`), `Ok(Some(diff))` with a unified diff (expected vs actual) when
/// it differs, and [`SessionVectorError::Missing`] when there is no vector yet.
pub fn compare(
    dir: &Path,
    name: &str,
    actual: &str,
    bless: bool,
) -> Result<Option<String>, SessionVectorError> {
    let valid = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !valid {
        return Err(SessionVectorError::InvalidName(name.to_owned()));
    }
    let path = dir.join(format!("{name}.txt"));
    if bless {
        std::fs::create_dir_all(dir)
            .and_then(|()| std::fs::write(&path, actual))
            .map_err(|source| SessionVectorError::Write {
                path: path.clone(),
                source,
            })?;
        return Ok(None);
    }
    let expected = match std::fs::read_to_string(&path) {
        Ok(text) => text.replace("\r\n", "\n"),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(SessionVectorError::Missing { path })
        }
        Err(source) => return Err(SessionVectorError::Read { path, source }),
    };
    Ok((expected != actual).then(|| unified_diff(&expected, actual)))
}

/// Check every `*.txt` file in `dir` (normally `vectors/sessions`) is a well-formed
/// normalized session: numbered header lines from 1 with a known direction, and each body
/// either a `!! not decodable` line, a `!! not writable as XML` line with the model's JSON,
/// or XML that decodes as a SyncML message. Other files (the README) are ignored.
pub fn check(dir: &Path) -> Vec<Outcome> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            return vec![Outcome::fail(
                "sessions",
                dir,
                format!("cannot list vectors: {}: {e}", dir.display()),
            )]
        }
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "txt"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|path| {
            let id = path
                .file_stem()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let result = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read: {e}"))
                .and_then(|text| check_text(&text.replace("\r\n", "\n")));
            match result {
                Ok(()) => Outcome::pass(id, path),
                Err(why) => Outcome::fail(id, path, why),
            }
        })
        .collect()
}

/// One vector's text: headers and bodies (see [`check`]).
fn check_text(text: &str) -> Result<(), String> {
    let mut count = 0usize;
    let mut body: Option<String> = None;
    for (i, line) in text.lines().enumerate() {
        if let Some(rest) = line.strip_prefix(HEADER) {
            if let Some(b) = body.take() {
                check_body(count, &b)?;
            }
            count += 1;
            let want =
                [Party::Client, Party::Server].map(|p| format!("{count}: {}", p.direction()));
            if !want.iter().any(|w| w == rest) {
                return Err(format!(
                    "line {}: expected \"{HEADER}{}\" or \"{HEADER}{}\", found {line:?}",
                    i + 1,
                    want[0],
                    want[1]
                ));
            }
            body = Some(String::new());
        } else if let Some(b) = &mut body {
            b.push_str(line);
            b.push('\n');
        } else {
            return Err(format!(
                "line {}: text before the first \"{HEADER}1: …\" line: {line:?}",
                i + 1
            ));
        }
    }
    match body {
        Some(b) => check_body(count, &b),
        None => Err("no messages: expected \"--- message 1: client -> server\" lines".into()),
    }
}

fn check_body(n: usize, body: &str) -> Result<(), String> {
    let at = |why: String| format!("message {n}: {why}");
    if body.trim().is_empty() {
        return Err(at("empty body".into()));
    }
    if let Some(rest) = body.strip_prefix(NOT_DECODABLE) {
        return match rest.trim_end().lines().count() {
            1 => Ok(()),
            _ => Err(at("a not-decodable message is one line".into())),
        };
    }
    if let Some(rest) = body.strip_prefix(NOT_WRITABLE) {
        let json = rest.split_once('\n').map(|(_, j)| j).unwrap_or_default();
        return serde_json::from_str::<SyncMl>(json).map(drop).map_err(|e| {
            at(format!(
                "the JSON after \"{NOT_WRITABLE}…\" is not a message: {e}"
            ))
        });
    }
    codec::decode(body.as_bytes(), DecodeOptions::LENIENT)
        .map(drop)
        .map_err(|e| at(format!("not a SyncML message in XML ({}): {e}", e.kind())))
}
