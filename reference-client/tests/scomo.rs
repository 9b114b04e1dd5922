#![allow(clippy::unwrap_used, clippy::expect_used)]
//! SCOMO in the reference client (facts §10, docs/reference-client.md "SCOMO"): a server adds
//! `./SCOMO/Download/p1` and Execs `DownloadInstall` (202), the device fetches the package
//! over real HTTP (resuming with `Range`), verifies it (docs/scomo-package.md), asks the user,
//! installs it and reports an `OperationComplete` Generic Alert with the Exec's Correlator in
//! a session right away; each refusal gives its result code, and each SCOMO fault switch
//! changes the outcome.

mod common;

use std::path::Path;
use std::sync::{Arc, Mutex};

use common::{
    exists, generic_alerts, hdr_status, serve, server_xml, value, Reply, Request, Server,
};
use dm_client::device::{Device, SessionRequest};
use dm_client::runner;
use dm_protocol::model::{Alert, Command, Data};
use dm_protocol::swpkg::{Originator, PackageSpec, Target};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A package file server on a raw socket: it can cut the first response after `cut` bytes
/// and answers `Range: bytes=N-` with 206; it records every request's Range header.
struct PkgServer {
    url: String,
    ranges: Arc<Mutex<Vec<Option<String>>>>,
}

async fn pkg_server(bytes: Vec<u8>, cut: Option<usize>) -> PkgServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://127.0.0.1:{}/pkg/p1.dmpkg",
        listener.local_addr().unwrap().port()
    );
    let ranges: Arc<Mutex<Vec<Option<String>>>> = Arc::default();
    let seen = ranges.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut tcp, _)) = listener.accept().await else {
                return;
            };
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match tcp.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            let text = String::from_utf8_lossy(&head).to_string();
            let range = text
                .lines()
                .find(|l| l.to_ascii_lowercase().starts_with("range:"))
                .map(|l| l[6..].trim().to_owned());
            let first = {
                let mut s = seen.lock().unwrap();
                s.push(range.clone());
                s.len() == 1
            };
            let len = bytes.len();
            let from = range
                .as_deref()
                .and_then(|r| r.strip_prefix("bytes="))
                .and_then(|r| r.strip_suffix('-'))
                .and_then(|n| n.parse::<usize>().ok());
            let mut out = Vec::new();
            match from {
                Some(n) if n < len => {
                    out.extend_from_slice(
                        format!(
                            "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {n}-{}/{len}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            len - 1,
                            len - n
                        )
                        .as_bytes(),
                    );
                    out.extend_from_slice(&bytes[n..]);
                }
                _ => {
                    out.extend_from_slice(
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n"
                        )
                        .as_bytes(),
                    );
                    let body = match cut {
                        Some(c) if first => &bytes[..c],
                        _ => &bytes[..],
                    };
                    out.extend_from_slice(body);
                }
            }
            let _ = tcp.write_all(&out).await;
            let _ = tcp.shutdown().await;
        }
    });
    PkgServer { url, ranges }
}

/// The DM server: package 2 of the first session adds `./SCOMO/Download/p1` and Execs
/// `op` with Correlator `corr-1`; every other message gets Status for the header (and 200 for
/// a Generic Alert) and ends the session.
async fn dm_server(pkg_url: String, op: &'static str) -> Server {
    serve(move |n, req: &Request, url| {
        let m = req.msg();
        let mut body = hdr_status(req, url, 200, "");
        if n == 0 {
            let leaf = |id: u32, path: &str, data: &str| {
                format!(
                    r#"<Add><CmdID>{id}</CmdID><Item><Target><LocURI>./SCOMO/Download/p1/{path}</LocURI></Target><Meta><Format xmlns="syncml:metinf">chr</Format></Meta><Data>{data}</Data></Item></Add>"#
                )
            };
            body.push_str(r#"<Add><CmdID>2</CmdID><Item><Target><LocURI>./SCOMO/Download/p1</LocURI></Target><Meta><Format xmlns="syncml:metinf">node</Format></Meta></Item></Add>"#);
            body.push_str(&leaf(3, "PkgID", "pkg-7"));
            body.push_str(&leaf(4, "Name", "Antivirus"));
            body.push_str(&leaf(5, "PkgURL", &pkg_url));
            body.push_str(&leaf(6, &format!("Operations/{op}"), ""));
            body.push_str(&format!(
                "<Exec><CmdID>7</CmdID><Correlator>corr-1</Correlator><Item><Target><LocURI>./SCOMO/Download/p1/Operations/{op}</LocURI></Target></Item></Exec>"
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
        Reply::xml(server_xml(req, n + 1, url, "", &body, true))
    })
    .await
}

struct Setup {
    /// Sign with an originator the device does not trust.
    untrusted: bool,
    /// Flip the last payload byte.
    tampered: bool,
    /// The package's target model.
    model: &'static str,
    /// `[ui]` and `[faults]` lines.
    extra: &'static str,
    /// Cut the first download after this many bytes.
    cut: Option<usize>,
    op: &'static str,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            untrusted: false,
            tampered: false,
            model: "Phone-1",
            extra: "",
            cut: None,
            op: "DownloadInstall",
        }
    }
}

fn package(s: &Setup) -> (Vec<u8>, Vec<u8>) {
    let (trusted, _) = Originator::generate("acme-apps").unwrap();
    let (evil, _) = Originator::generate("evil-apps").unwrap();
    let signer = if s.untrusted { &evil } else { &trusted };
    let mut bytes = signer.sign(&PackageSpec {
        pkg_id: "pkg-7".into(),
        name: "Antivirus".into(),
        version: "2.0".into(),
        pkg_type: Some("application/vnd.example.app".into()),
        targets: vec![Target::Model {
            manufacturer: "Acme".into(),
            model: s.model.into(),
        }],
        payload: b"the antivirus application payload, 64 bytes or so, for the test".to_vec(),
    });
    if s.tampered {
        let last = bytes.len() - 1;
        bytes[last] ^= 0x01;
    }
    (bytes, trusted.public_key())
}

fn profile(dir: &Path, dm_url: &str, key: &[u8], extra: &str) -> std::path::PathBuf {
    let text = format!(
        "[device]\ndev_id = \"IMEI:1\"\nmanufacturer = \"Acme\"\nmodel = \"Phone-1\"\n\
         [transport]\nretries = 0\n\
         [[account]]\nserver_id = \"srvA\"\nurl = \"{dm_url}\"\n\
         [scomo]\nenabled = true\ntrusted_originators = [{{ id = \"acme-apps\", public_key = \"{}\" }}]\n\
         {extra}\n",
        dm_protocol::auth::b64(key)
    );
    let p = dir.join("profile.toml");
    std::fs::write(&p, text).unwrap();
    p
}

struct Outcome {
    /// The result code the worker found.
    code: u16,
    /// The ResultCode the Generic Alert carried.
    reported: String,
    alert: Alert,
    dev: Device,
    ranges: Vec<Option<String>>,
    _tmp: tempfile::TempDir,
}

/// One server session with the Exec (202 checked), then the worker and its report session.
async fn scenario(s: Setup) -> Outcome {
    let (bytes, key) = package(&s);
    let pkg = pkg_server(bytes, s.cut).await;
    let dm = dm_server(pkg.url.clone(), s.op).await;
    let tmp = tempfile::tempdir().unwrap();
    let p = profile(tmp.path(), &dm.url, &key, s.extra);
    let mut dev = Device::init(&tmp.path().join("state"), &p).unwrap();
    let r = dev.run_session(SessionRequest::default()).await.unwrap();
    assert!(r.end.is_ok(), "{:?}", r.end);
    // facts §4.5 / §10.3: the Exec is answered 202 and the operation is pending.
    let reqs = dm.requests();
    assert_eq!(common::status_code(reqs[1].msg(), "7"), Some(202));
    assert_eq!(
        value(&dev, "./SCOMO/Download/p1/Status").as_deref(),
        Some("30")
    );
    assert_eq!(dev.pending_operations().len(), 1);
    let (ops, sessions) = runner::perform_and_report(&mut dev, Some(1)).await.unwrap();
    assert_eq!(ops.len(), 1);
    assert_eq!(sessions.len(), 1);
    assert!(sessions[0].end.is_ok());
    assert!(dev.pending_operations().is_empty());
    let reqs = dm.requests();
    let alerts = generic_alerts(&reqs[2]);
    assert_eq!(
        alerts.len(),
        1,
        "one OperationComplete in the report session"
    );
    let alert = alerts[0].clone();
    let Some(Data::Text(data)) = alert.items[0].data.clone() else {
        panic!("text data: {alert:?}");
    };
    let reported = data
        .split("<ResultCode>")
        .nth(1)
        .and_then(|r| r.split("</ResultCode>").next())
        .unwrap()
        .to_owned();
    let ranges = pkg.ranges.lock().unwrap().clone();
    Outcome {
        code: ops[0].result_code,
        reported,
        alert,
        dev,
        ranges,
        _tmp: tmp,
    }
}

fn installed(o: &Outcome) -> bool {
    exists(&o.dev, "./SCOMO/Inventory/Deployed/p1")
}

#[tokio::test]
async fn download_install_reports_success_and_deploys() {
    let o = scenario(Setup::default()).await;
    assert_eq!(o.code, 1200);
    assert_eq!(o.reported, "1200");
    // facts §3.5 / §10.3: Correlator echoed, Source the operation node, type, format, no
    // warning mark on success, the identifier of the component.
    assert_eq!(o.alert.correlator.as_deref(), Some("corr-1"));
    let item = &o.alert.items[0];
    assert_eq!(
        item.source.as_ref().unwrap().loc_uri,
        "./SCOMO/Download/p1/Operations/DownloadInstall"
    );
    let meta = item.meta.as_ref().unwrap();
    assert_eq!(
        meta.type_.as_deref(),
        Some("urn:oma:at:scomo:1.0:OperationComplete")
    );
    assert_eq!(meta.format.as_deref(), Some("xml"));
    assert_eq!(meta.mark, None);
    assert_eq!(
        item.data,
        Some(Data::Text(
            "<ResultCode>1200</ResultCode><Identifier>pkg-7</Identifier>".into()
        ))
    );
    let d = "./SCOMO/Inventory/Deployed/p1";
    assert_eq!(value(&o.dev, &format!("{d}/ID")).as_deref(), Some("pkg-7"));
    assert_eq!(
        value(&o.dev, &format!("{d}/Version")).as_deref(),
        Some("2.0")
    );
    assert_eq!(value(&o.dev, &format!("{d}/State")).as_deref(), Some("20"));
    assert!(exists(&o.dev, &format!("{d}/Operations/Remove")));
    assert!(
        !exists(&o.dev, "./SCOMO/Download/p1"),
        "the entry is consumed"
    );
    assert_eq!(o.ranges, vec![None]);
}

#[tokio::test]
async fn inactive_variant_installs_inactive() {
    let o = scenario(Setup {
        op: "DownloadInstallInactive",
        ..Setup::default()
    })
    .await;
    assert_eq!(o.code, 1200);
    assert_eq!(
        value(&o.dev, "./SCOMO/Inventory/Deployed/p1/State").as_deref(),
        Some("10")
    );
}

#[tokio::test]
async fn tampered_package_is_a_download_failure() {
    let o = scenario(Setup {
        tampered: true,
        ..Setup::default()
    })
    .await;
    assert_eq!((o.code, o.reported.as_str()), (1402, "1402"));
    assert_eq!(
        o.alert.items[0].meta.as_ref().unwrap().mark.as_deref(),
        Some("warning")
    );
    assert!(!installed(&o));
    assert_eq!(
        value(&o.dev, "./SCOMO/Download/p1/Status").as_deref(),
        Some("20")
    );
}

#[tokio::test]
async fn untrusted_originator_is_a_validation_failure() {
    let o = scenario(Setup {
        untrusted: true,
        ..Setup::default()
    })
    .await;
    assert_eq!((o.code, o.reported.as_str()), (1407, "1407"));
    assert!(!installed(&o));
}

#[tokio::test]
async fn wrong_model_is_an_unsupported_environment() {
    let o = scenario(Setup {
        model: "Phone-2",
        ..Setup::default()
    })
    .await;
    assert_eq!((o.code, o.reported.as_str()), (1413, "1413"));
    assert!(!installed(&o));
}

#[tokio::test]
async fn user_refusal_installs_nothing() {
    let o = scenario(Setup {
        extra: "[ui]\nmode = \"reject\"\n",
        ..Setup::default()
    })
    .await;
    assert_eq!((o.code, o.reported.as_str()), (1401, "1401"));
    assert!(!installed(&o));
}

#[tokio::test]
async fn interrupted_download_resumes_with_range() {
    let o = scenario(Setup {
        cut: Some(100),
        ..Setup::default()
    })
    .await;
    assert_eq!(o.code, 1200);
    assert!(installed(&o));
    assert_eq!(o.ranges, vec![None, Some("bytes=100-".to_owned())]);
}

#[tokio::test]
async fn fault_skip_signature_check_installs_untrusted_packages() {
    let o = scenario(Setup {
        untrusted: true,
        extra: "[faults]\nskip_signature_check = true\n",
        ..Setup::default()
    })
    .await;
    assert_eq!(o.code, 1200);
    assert!(installed(&o));
}

#[tokio::test]
async fn fault_report_success_on_failure_lies() {
    let o = scenario(Setup {
        tampered: true,
        extra: "[faults]\nreport_success_on_failure = true\n",
        ..Setup::default()
    })
    .await;
    assert_eq!(o.code, 1402, "what really happened");
    assert_eq!(o.reported, "1200", "what the device reports");
    assert!(!installed(&o));
}

#[tokio::test]
async fn fault_ignore_user_refusal_installs_anyway() {
    let o = scenario(Setup {
        extra: "[ui]\nmode = \"reject\"\n[faults]\nignore_user_refusal = true\n",
        ..Setup::default()
    })
    .await;
    assert_eq!(o.code, 1200);
    assert!(installed(&o));
}

/// A pending operation survives a restart: the session accepted it, the process stopped
/// before the worker ran; the reopened device performs and reports it.
#[tokio::test]
async fn pending_operation_survives_a_restart() {
    let s = Setup::default();
    let (bytes, key) = package(&s);
    let pkg = pkg_server(bytes, None).await;
    let dm = dm_server(pkg.url.clone(), s.op).await;
    let tmp = tempfile::tempdir().unwrap();
    let p = profile(tmp.path(), &dm.url, &key, "");
    let state = tmp.path().join("state");
    {
        let mut dev = Device::init(&state, &p).unwrap();
        let r = dev.run_session(SessionRequest::default()).await.unwrap();
        assert!(r.end.is_ok());
        assert_eq!(dev.pending_operations().len(), 1);
    }
    let mut dev = Device::open(&state).unwrap();
    let pending = dev.pending_operations();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].correlator.as_deref(), Some("corr-1"));
    let (ops, sessions) = runner::perform_and_report(&mut dev, Some(1)).await.unwrap();
    assert_eq!(ops[0].result_code, 1200);
    assert!(sessions[0].end.is_ok());
    assert!(exists(&dev, "./SCOMO/Inventory/Deployed/p1"));
    assert_eq!(generic_alerts(&dm.requests()[2]).len(), 1);
    drop(dev);
    // Nothing is left to do after another restart.
    let dev = Device::open(&state).unwrap();
    assert!(dev.pending_operations().is_empty());
}

/// Download alone delivers; Install from the inventory deploys; Deactivate and Remove change
/// the inventory.
#[tokio::test]
async fn download_then_install_then_deactivate_then_remove() {
    let o = scenario(Setup {
        op: "Download",
        ..Setup::default()
    })
    .await;
    assert_eq!(o.code, 1200);
    let mut dev = o.dev;
    let del = "./SCOMO/Inventory/Delivered/p1";
    assert_eq!(value(&dev, &format!("{del}/State")).as_deref(), Some("10"));
    assert!(!exists(&dev, "./SCOMO/Download/p1"));
    let srv = dm_tree::Principal::server("srvA");
    let exec = |dev: &mut Device, uri: &str| {
        let out = dev
            .tree_mut()
            .exec(&srv, uri, None, Some("c".into()))
            .unwrap();
        assert_eq!(out, dm_tree::ExecOutcome::Accepted);
    };
    exec(&mut dev, &format!("{del}/Operations/Install"));
    let ops = dev.perform_operations().await.unwrap();
    assert_eq!(ops[0].result_code, 1200);
    assert!(!exists(&dev, del));
    let dep = "./SCOMO/Inventory/Deployed/p1";
    assert_eq!(value(&dev, &format!("{dep}/State")).as_deref(), Some("20"));
    exec(&mut dev, &format!("{dep}/Operations/Deactivate"));
    assert_eq!(value(&dev, &format!("{dep}/Status")).as_deref(), Some("70"));
    let ops = dev.perform_operations().await.unwrap();
    assert_eq!(ops[0].result_code, 1200);
    assert_eq!(value(&dev, &format!("{dep}/State")).as_deref(), Some("10"));
    exec(&mut dev, &format!("{dep}/Operations/Remove"));
    let ops = dev.perform_operations().await.unwrap();
    assert_eq!(ops[0].result_code, 1200);
    assert!(!exists(&dev, dep));
}
