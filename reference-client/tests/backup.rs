#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The backup MO in the reference client (docs/migration.md, docs/reference-client.md "Backup
//! (migration)"): a server Execs `./Backup/Operations/Backup` with an upload URL (202), the
//! device PUTs a TNDS document of `Subtrees` to a real HTTP server and reports an
//! `OperationComplete` Generic Alert with the Exec's Correlator right away; `Restore` on a
//! second, fresh device GETs that document and imports it — the migration end to end. Failed
//! uploads give 1402; malformed documents 1405 with the tree unchanged; a pending operation
//! survives reopening the device.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use common::{
    exists, generic_alerts, hdr_status, serve, server_xml, value, Reply, Request, Server,
};
use dm_client::device::{Device, SessionRequest};
use dm_client::runner;
use dm_protocol::model::{Alert, Command, Data};
use dm_protocol::tnds::TndsDocument;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// One request the storage server received.
#[derive(Debug, Clone)]
struct Stored {
    method: String,
    path: String,
    content_type: Option<String>,
}

/// A backup store on a raw socket: `PUT` (or `POST`) keeps the body under its path and
/// answers `put_status`; `GET` returns what is kept (404 if nothing).
struct Store {
    base: String,
    files: Arc<Mutex<HashMap<String, Vec<u8>>>>,
    log: Arc<Mutex<Vec<Stored>>>,
}

impl Store {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
    fn file(&self, path: &str) -> Option<Vec<u8>> {
        self.files.lock().unwrap().get(path).cloned()
    }
    fn put_file(&self, path: &str, bytes: &[u8]) {
        self.files
            .lock()
            .unwrap()
            .insert(path.to_owned(), bytes.to_vec());
    }
}

async fn store(put_status: u16) -> Store {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let files: Arc<Mutex<HashMap<String, Vec<u8>>>> = Arc::default();
    let log: Arc<Mutex<Vec<Stored>>> = Arc::default();
    let (f, l) = (files.clone(), log.clone());
    tokio::spawn(async move {
        loop {
            let Ok((mut tcp, _)) = listener.accept().await else {
                return;
            };
            let mut data = Vec::new();
            let mut buf = [0u8; 4096];
            let end = loop {
                if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                    break i + 4;
                }
                match tcp.read(&mut buf).await {
                    Ok(0) | Err(_) => break data.len(),
                    Ok(n) => data.extend_from_slice(&buf[..n]),
                }
            };
            let head = String::from_utf8_lossy(&data[..end]).to_string();
            let mut first = head.lines().next().unwrap_or("").split(' ');
            let method = first.next().unwrap_or("").to_owned();
            let path = first.next().unwrap_or("").to_owned();
            let header = |name: &str| {
                head.lines()
                    .find(|l| l.to_ascii_lowercase().starts_with(&format!("{name}:")))
                    .map(|l| l[name.len() + 1..].trim().to_owned())
            };
            let len: usize = header("content-length")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let mut body = data[end..].to_vec();
            while body.len() < len {
                match tcp.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => body.extend_from_slice(&buf[..n]),
                }
            }
            l.lock().unwrap().push(Stored {
                method: method.clone(),
                path: path.clone(),
                content_type: header("content-type"),
            });
            let (status, out) = match method.as_str() {
                "PUT" | "POST" => {
                    if (200..300).contains(&put_status) {
                        f.lock().unwrap().insert(path, body);
                    }
                    (put_status, Vec::new())
                }
                _ => match f.lock().unwrap().get(&path) {
                    Some(b) => (200, b.clone()),
                    None => (404, Vec::new()),
                },
            };
            let mut resp = format!(
                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                out.len()
            )
            .into_bytes();
            resp.extend_from_slice(&out);
            let _ = tcp.write_all(&resp).await;
            let _ = tcp.shutdown().await;
        }
    });
    Store { base, files, log }
}

/// The DM server: package 2 of the first session Execs `./Backup/Operations/{op}` with
/// `url` as Item/Data and Correlator `corr-1`; every other message gets Status for the header
/// (and 200 for each Alert) and ends the session.
async fn dm_server(op: &'static str, url: String) -> Server {
    serve(move |n, req: &Request, dm_url| {
        let m = req.msg();
        let mut body = hdr_status(req, dm_url, 200, "");
        if n == 0 {
            body.push_str(&format!(
                r#"<Exec><CmdID>2</CmdID><Correlator>corr-1</Correlator><Item><Target><LocURI>./Backup/Operations/{op}</LocURI></Target><Meta><Format xmlns="syncml:metinf">chr</Format></Meta><Data>{url}</Data></Item></Exec>"#
            ));
        } else {
            let mut id = 2;
            for c in &m.body.commands {
                if let Command::Alert(a) = c {
                    body.push_str(&format!(
                        "<Status><CmdID>{id}</CmdID><MsgRef>{}</MsgRef><CmdRef>{}</CmdRef><Cmd>Alert</Cmd><Data>200</Data></Status>",
                        m.hdr.msg_id, a.cmd_id
                    ));
                    id += 1;
                }
            }
        }
        Reply::xml(server_xml(req, n + 1, dm_url, "", &body, true))
    })
    .await
}

/// The old device's configuration.
const OLD_VENDOR: &str = r#"<MgmtTree xmlns="syncml:dmddf1.2"><VerDTD>1.2</VerDTD>
<Node><NodeName>Vendor</NodeName><RTProperties><Format><node/></Format><Type><DDFName>com.example/1.0/Vendor</DDFName></Type></RTProperties>
  <Node><NodeName>Color</NodeName><RTProperties><Format><chr/></Format><Type><MIME>text/plain</MIME></Type></RTProperties><Value>blue</Value></Node>
  <Node><NodeName>Volume</NodeName><RTProperties><Format><int/></Format><Type><MIME>text/plain</MIME></Type></RTProperties><Value>7</Value></Node>
  <Node><NodeName>Apps</NodeName><RTProperties><Format><node/></Format><Type><DDFName></DDFName></Type></RTProperties>
    <Node><NodeName>mail app</NodeName><RTProperties><Format><chr/></Format><Type><MIME>text/plain</MIME></Type></RTProperties><Value>on</Value></Node>
  </Node>
</Node></MgmtTree>"#;

/// The new device's factory configuration: other values, a node the old one lacks, an ACL
/// that lets servers change it.
const NEW_VENDOR: &str = r#"<MgmtTree xmlns="syncml:dmddf1.2"><VerDTD>1.2</VerDTD>
<Node><NodeName>Vendor</NodeName><RTProperties><ACL>Add=*&amp;Delete=*&amp;Get=*&amp;Replace=*</ACL><Format><node/></Format><Type><DDFName>com.example/1.0/Vendor</DDFName></Type></RTProperties>
  <Node><NodeName>Color</NodeName><RTProperties><Format><chr/></Format><Type><MIME>text/plain</MIME></Type></RTProperties><Value>factory-grey</Value></Node>
  <Node><NodeName>Factory</NodeName><RTProperties><Format><chr/></Format><Type><MIME>text/plain</MIME></Type></RTProperties><Value>x</Value></Node>
</Node></MgmtTree>"#;

fn profile(dir: &Path, name: &str, dm_url: &str, vendor: Option<&str>) -> std::path::PathBuf {
    let tree = match vendor {
        Some(v) => {
            let f = dir.join(format!("{name}-vendor.xml"));
            std::fs::write(&f, v).unwrap();
            format!("[tree]\ntnds = [\"{}\"]\n", f.display())
        }
        None => String::new(),
    };
    let text = format!(
        "[device]\ndev_id = \"IMEI:{name}\"\nmanufacturer = \"Acme\"\nmodel = \"Phone-1\"\n\
         [transport]\nretries = 0\n\
         [[account]]\nserver_id = \"srvA\"\nurl = \"{dm_url}\"\n\
         [backup]\nenabled = true\nsubtrees = \"./Vendor\"\n{tree}"
    );
    let p = dir.join(format!("{name}.toml"));
    std::fs::write(&p, text).unwrap();
    p
}

struct Outcome {
    code: u16,
    detail: Option<String>,
    alert: Alert,
    data: String,
    dev: Device,
}

/// A device (`name`, with `vendor` as its configuration) whose server Execs `op` with `url`:
/// the session (202 checked), then the worker and its report session.
async fn scenario(
    tmp: &Path,
    name: &str,
    vendor: Option<&str>,
    op: &'static str,
    url: String,
) -> Outcome {
    let dm = dm_server(op, url).await;
    let p = profile(tmp, name, &dm.url, vendor);
    let mut dev = Device::init(&tmp.join(name), &p).unwrap();
    let r = dev.run_session(SessionRequest::default()).await.unwrap();
    assert!(r.end.is_ok(), "{:?}", r.end);
    assert_eq!(common::status_code(dm.requests()[1].msg(), "2"), Some(202));
    assert_eq!(dev.pending_operations().len(), 1);
    let (ops, sessions) = runner::perform_and_report(&mut dev, Some(1)).await.unwrap();
    assert_eq!(ops.len(), 1);
    assert_eq!(sessions.len(), 1);
    assert!(sessions[0].end.is_ok());
    assert!(dev.pending_operations().is_empty());
    let alerts = generic_alerts(&dm.requests()[2]);
    assert_eq!(
        alerts.len(),
        1,
        "one OperationComplete in the report session"
    );
    let alert = alerts[0].clone();
    let Some(Data::Text(data)) = alert.items[0].data.clone() else {
        panic!("text data: {alert:?}");
    };
    Outcome {
        code: ops[0].result_code,
        detail: ops[0].detail.clone(),
        alert,
        data,
        dev,
    }
}

fn alert_type(a: &Alert) -> Option<String> {
    a.items[0].meta.as_ref().and_then(|m| m.type_.clone())
}

/// The migration: back up the old device, restore onto a fresh new one, compare.
#[tokio::test]
async fn backup_then_restore_onto_a_new_device_migrates_the_configuration() {
    let tmp = tempfile::tempdir().unwrap();
    let st = store(201).await;
    let up = st.url("/upload/backups/old/1.tnds");
    let old = scenario(tmp.path(), "old", Some(OLD_VENDOR), "Backup", up).await;
    assert_eq!(old.code, 1200, "{:?}", old.alert);
    // The completion (docs/migration.md): type, format xml, Correlator, Source, ResultCode.
    assert_eq!(
        alert_type(&old.alert).as_deref(),
        Some("urn:dmconf:at:backup:1.0:OperationComplete")
    );
    let format = old.alert.items[0]
        .meta
        .as_ref()
        .and_then(|m| m.format.clone());
    assert_eq!(format.as_deref(), Some("xml"));
    assert_eq!(old.alert.correlator.as_deref(), Some("corr-1"));
    assert_eq!(
        old.alert.items[0]
            .source
            .as_ref()
            .map(|s| s.loc_uri.as_str()),
        Some("./Backup/Operations/Backup")
    );
    assert_eq!(old.data, "<ResultCode>1200</ResultCode>");
    assert_eq!(
        value(&old.dev, "./Backup/LastResult").as_deref(),
        Some("1200")
    );
    // The upload: one PUT with the TNDS type, holding the subtree's values.
    let log = st.log.lock().unwrap().clone();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].method, "PUT");
    assert_eq!(log[0].path, "/upload/backups/old/1.tnds");
    assert_eq!(
        log[0].content_type.as_deref(),
        Some("application/vnd.syncml.dmtnds+xml")
    );
    let doc = st.file("/upload/backups/old/1.tnds").unwrap();
    let parsed = TndsDocument::parse_xml(&doc).unwrap();
    assert!(parsed.violations.is_empty(), "{:?}", parsed.violations);
    let text = String::from_utf8(doc).unwrap();
    for v in [
        "<Value>blue</Value>",
        "<Value>7</Value>",
        "mail app",
        "<int/>",
    ] {
        assert!(text.contains(v), "{v} in {text}");
    }
    // No device-managed properties in a backup.
    assert!(
        !text.contains("<TStamp>") && !text.contains("<VerNo>"),
        "{text}"
    );

    // The new device starts from its factory configuration and restores the backup.
    let down = st.url("/upload/backups/old/1.tnds");
    let new = scenario(tmp.path(), "new", Some(NEW_VENDOR), "Restore", down).await;
    assert_eq!(new.code, 1200, "{:?}", new.data);
    assert_eq!(
        new.alert.items[0]
            .source
            .as_ref()
            .map(|s| s.loc_uri.as_str()),
        Some("./Backup/Operations/Restore")
    );
    assert_eq!(
        value(&new.dev, "./Backup/LastResult").as_deref(),
        Some("1200")
    );
    for (uri, v) in [
        ("./Vendor/Color", "blue"),
        ("./Vendor/Volume", "7"),
        ("./Vendor/Apps/mail%20app", "on"),
    ] {
        assert_eq!(value(&new.dev, uri).as_deref(), Some(v), "{uri}");
        assert_eq!(value(&old.dev, uri).as_deref(), Some(v), "{uri}");
    }
    // Replace semantics: what the backup does not describe is gone.
    assert!(!exists(&new.dev, "./Vendor/Factory"));
    // The same configuration: the two exports of ./Vendor (values, formats, types) are
    // equal. ACLs are restored as the server may set them, so they are not compared here.
    let export = |d: &Device| {
        let t = d
            .tree()
            .export_tnds(
                &"./Vendor".parse().unwrap(),
                &dm_protocol::uri::TndsFilter::Include(vec![
                    dm_protocol::uri::TndsField::Prop(dm_protocol::uri::Property::Format),
                    dm_protocol::uri::TndsField::Prop(dm_protocol::uri::Property::Type),
                    dm_protocol::uri::TndsField::Value,
                ]),
            )
            .unwrap();
        TndsDocument::from_tree(t).to_xml(false).unwrap()
    };
    assert_eq!(export(&old.dev), export(&new.dev));
}

/// An upload the store refuses is a transfer failure.
#[tokio::test]
async fn a_refused_upload_is_1402() {
    let tmp = tempfile::tempdir().unwrap();
    let st = store(500).await;
    let up = st.url("/upload/x.tnds");
    let o = scenario(tmp.path(), "old", Some(OLD_VENDOR), "Backup", up).await;
    assert_eq!(o.code, 1402);
    assert_eq!(o.data, "<ResultCode>1402</ResultCode>");
    assert_eq!(
        value(&o.dev, "./Backup/LastResult").as_deref(),
        Some("1402")
    );
}

/// A document that cannot be downloaded is a transfer failure too.
#[tokio::test]
async fn a_missing_backup_is_1402() {
    let tmp = tempfile::tempdir().unwrap();
    let st = store(201).await;
    let down = st.url("/upload/none.tnds");
    let o = scenario(tmp.path(), "new", Some(NEW_VENDOR), "Restore", down).await;
    assert_eq!(o.code, 1402);
    assert_eq!(
        value(&o.dev, "./Vendor/Color").as_deref(),
        Some("factory-grey")
    );
}

/// Malformed documents are import failures and change nothing: not XML; and a document
/// whose first node is fine but whose second the server may not write (all or nothing).
#[tokio::test]
async fn a_malformed_document_is_1405_and_changes_nothing() {
    let half = r#"<MgmtTree xmlns="syncml:dmddf1.2"><VerDTD>1.2</VerDTD>
<Node><NodeName>Vendor</NodeName><Path>.</Path><RTProperties><Format><node/></Format><Type><DDFName>com.example/1.0/Vendor</DDFName></Type></RTProperties>
  <Node><NodeName>Color</NodeName><RTProperties><Format><chr/></Format><Type><MIME>text/plain</MIME></Type></RTProperties><Value>red</Value></Node>
</Node>
<Node><NodeName>DevInfo</NodeName><Path>.</Path><RTProperties><Format><node/></Format><Type><DDFName>urn:oma:mo:oma-dm-devinfo:1.0</DDFName></Type></RTProperties>
  <Node><NodeName>Man</NodeName><RTProperties><Format><chr/></Format><Type><MIME>text/plain</MIME></Type></RTProperties><Value>Evil</Value></Node>
</Node></MgmtTree>"#;
    for (i, doc) in [&b"this is not a TNDS document"[..], half.as_bytes()]
        .into_iter()
        .enumerate()
    {
        let tmp = tempfile::tempdir().unwrap();
        let st = store(201).await;
        st.put_file("/bad.tnds", doc);
        let o = scenario(
            tmp.path(),
            "new",
            Some(NEW_VENDOR),
            "Restore",
            st.url("/bad.tnds"),
        )
        .await;
        assert_eq!(o.code, 1405, "document {i}: {:?}", o.data);
        let detail = o.detail.unwrap_or_default();
        let why = ["not a TNDS document", "the import was refused"][i];
        assert!(detail.contains(why), "document {i}: {detail}");
        assert_eq!(o.data, "<ResultCode>1405</ResultCode>");
        assert_eq!(
            value(&o.dev, "./Backup/LastResult").as_deref(),
            Some("1405")
        );
        assert_eq!(
            value(&o.dev, "./Vendor/Color").as_deref(),
            Some("factory-grey")
        );
        assert_eq!(value(&o.dev, "./Vendor/Factory").as_deref(), Some("x"));
        assert_eq!(value(&o.dev, "./DevInfo/Man").as_deref(), Some("Acme"));
    }
}

/// An Exec without a URL is refused at once (412), nothing is queued.
#[tokio::test]
async fn an_exec_without_url_is_412() {
    let tmp = tempfile::tempdir().unwrap();
    let p = profile(tmp.path(), "old", "http://127.0.0.1:9/dm", Some(OLD_VENDOR));
    let mut dev = Device::init(&tmp.path().join("old"), &p).unwrap();
    let srv = dm_tree::Principal::server("srvA");
    let out = dev
        .tree_mut()
        .exec(&srv, "./Backup/Operations/Backup", None, Some("c".into()));
    let code = match out {
        Ok(dm_tree::ExecOutcome::Done(c)) => c.as_u16(),
        other => panic!("{other:?}"),
    };
    assert_eq!(code, 412);
    assert!(dev.pending_operations().is_empty());
}

/// A pending backup survives a restart: the session accepted it, the process stopped before
/// the worker ran; the reopened device performs and reports it.
#[tokio::test]
async fn a_pending_backup_survives_reopening_the_device() {
    let tmp = tempfile::tempdir().unwrap();
    let st = store(201).await;
    let up = st.url("/upload/later.tnds");
    let dm = dm_server("Backup", up.clone()).await;
    let p = profile(tmp.path(), "old", &dm.url, Some(OLD_VENDOR));
    let state = tmp.path().join("old");
    {
        let mut dev = Device::init(&state, &p).unwrap();
        let r = dev.run_session(SessionRequest::default()).await.unwrap();
        assert!(r.end.is_ok());
        assert_eq!(dev.pending_operations().len(), 1);
    }
    assert!(st.log.lock().unwrap().is_empty());
    let mut dev = Device::open(&state).unwrap();
    let pending = dev.pending_operations();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].correlator.as_deref(), Some("corr-1"));
    assert_eq!(pending[0].argument.as_deref(), Some(up.as_str()));
    let (ops, sessions) = runner::perform_and_report(&mut dev, Some(1)).await.unwrap();
    assert_eq!(ops[0].result_code, 1200);
    assert!(sessions[0].end.is_ok());
    assert!(st.file("/upload/later.tnds").is_some());
    assert_eq!(generic_alerts(&dm.requests()[2]).len(), 1);
    drop(dev);
    let dev = Device::open(&state).unwrap();
    assert!(dev.pending_operations().is_empty());
}

/// DMRD-6.1.4-16 (docs/scomo.md "Inventory consent"): a backup whose subtrees hold the
/// installed-application list needs `granted` (nobody can be asked in the background):
/// otherwise it ends 1401 before anything is exported; other subtrees are unaffected.
#[test]
fn the_inventory_is_backed_up_only_with_the_users_setting() {
    use dm_client::backup::{self, BackupSection, Worker};
    use dm_client::privacy::InventoryConsent;
    use dm_client::profile::FaultsSection;
    use dm_client::transport::{Transport, TransportConfig};
    let mut tree = dm_tree::Tree::new(dm_tree::TreeConfig::default());
    let queue: dm_client::jobs::Queue = Arc::new(Mutex::new(Vec::new()));
    dm_client::scomo::install(&mut tree, queue.clone()).unwrap();
    let settings = BackupSection {
        enabled: true,
        subtrees: "./SCOMO".into(),
    };
    backup::install(&mut tree, &settings, queue).unwrap();
    let transport = Transport::new(TransportConfig::default()).unwrap();
    let faults = FaultsSection::default();
    let who = dm_tree::Principal::server("srvA");
    for (consent, allowed) in [
        (InventoryConsent::Ask, false),
        (InventoryConsent::Refused, false),
        (InventoryConsent::Granted, true),
    ] {
        let w = Worker {
            tree: &mut tree,
            transport: &transport,
            faults: &faults,
            inventory: consent,
        };
        match w.export(&who) {
            Ok(doc) => assert!(allowed, "{consent:?}: {}", String::from_utf8_lossy(&doc)),
            Err((code, why)) => {
                assert!(!allowed, "{consent:?}: {code} {why}");
                assert_eq!(code, 1401);
                assert!(why.contains("DMRD-6.1.4-16"), "{why}");
            }
        }
    }
    let faulty = FaultsSection {
        report_inventory_without_consent: true,
        ..FaultsSection::default()
    };
    let w = Worker {
        tree: &mut tree,
        transport: &transport,
        faults: &faulty,
        inventory: InventoryConsent::Refused,
    };
    assert!(w.export(&who).is_ok(), "the fault exports it anyway");
}
