#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The device profile, the state directory and the choice of server: what `dm-client init`
//! builds, what survives a reopen, and the errors a user gets for a bad profile.

use std::path::{Path, PathBuf};

use dm_client::account::{self, AccountError, DeviceAccount};
use dm_client::device::{Device, DeviceError};
use dm_client::profile::{DeviceProfile, ProfileError};
use dm_protocol::auth::AuthType;
use dm_tree::{GetResult, Principal};
use rstest::rstest;

const BASE: &str = r#"
[device]
dev_id = "IMEI:493005100592800"
manufacturer = "Example"
model = "Sim-1"
firmware_version = "1.0.7"
max_msg_size = 20000
max_obj_size = 100000

[[account]]
server_id = "srvA"
url = "http://127.0.0.1:9/dm"
default = true
client_auth = { type = "md5", name = "device", secret = "devpass", nonce = "n0" }
server_auth = { type = "md5", name = "srvA", secret = "srvpass" }

[[account]]
server_id = "srvB"
node = "second"
url = "https://dm.example.com/b"
encoding = "wbxml"
client_auth = { type = "hmac", name = "dev", secret = "s" }
"#;

fn write_profile(dir: &Path, text: &str) -> PathBuf {
    let p = dir.join("profile.toml");
    std::fs::write(&p, text).unwrap();
    p
}

fn leaf(dev: &Device, uri: &str) -> Vec<u8> {
    match dev.tree().get(&Principal::Local, uri).unwrap() {
        GetResult::Leaf { value, .. } => value,
        other => panic!("{uri} is not a leaf: {other:?}"),
    }
}

#[test]
fn init_builds_standard_objects_and_accounts() {
    let tmp = tempfile::tempdir().unwrap();
    let profile = write_profile(tmp.path(), BASE);
    let dev = Device::init(&tmp.path().join("state"), &profile).unwrap();
    // facts §5.2 / §5.3: DevInfo and DevDetail from the profile.
    assert_eq!(leaf(&dev, "./DevInfo/DevId"), b"IMEI:493005100592800");
    assert_eq!(leaf(&dev, "./DevInfo/Man"), b"Example");
    assert_eq!(leaf(&dev, "./DevInfo/DmV"), b"1.2");
    assert_eq!(leaf(&dev, "./DevDetail/FwV"), b"1.0.7");
    assert_eq!(leaf(&dev, "./DevDetail/LrgObj"), b"true");
    // facts §5.4: one DMAcc node per account, named `node` or the ServerID.
    assert_eq!(leaf(&dev, "./DMAcc/srvA/ServerID"), b"srvA");
    assert_eq!(leaf(&dev, "./DMAcc/second/ServerID"), b"srvB");
    assert_eq!(leaf(&dev, "./DMAcc/srvA/AppAuth/1/AAuthLevel"), b"CLCRED");
    assert_eq!(leaf(&dev, "./DMAcc/srvA/AppAuth/1/AAuthType"), b"DIGEST");
    assert_eq!(leaf(&dev, "./DMAcc/srvA/AppAuth/1/AAuthData"), b"n0");
    assert_eq!(leaf(&dev, "./DMAcc/srvA/AppAuth/2/AAuthLevel"), b"SRVCRED");
    assert_eq!(leaf(&dev, "./DMAcc/second/AppAuth/1/AAuthType"), b"HMAC");
    assert_eq!(leaf(&dev, "./DMAcc/srvA/AAuthPref"), b"DIGEST");
    let accounts = dev.accounts();
    assert_eq!(accounts.len(), 2);
    let a = &accounts.iter().find(|a| a.server_id == "srvA").unwrap();
    assert_eq!(a.url, "http://127.0.0.1:9/dm");
    let creds = a.client_auth.as_ref().unwrap().credentials().unwrap();
    assert_eq!(creds.auth_type, AuthType::Md5);
    assert_eq!(creds.nonce, b"n0");
    let b = &accounts.iter().find(|a| a.server_id == "srvB").unwrap();
    assert_eq!(
        b.client_auth
            .as_ref()
            .unwrap()
            .credentials()
            .unwrap()
            .auth_type,
        AuthType::Mac
    );
    assert!(b.server_auth.is_none());
}

#[test]
fn state_survives_reopen_and_the_directory_is_locked() {
    let tmp = tempfile::tempdir().unwrap();
    let profile = write_profile(tmp.path(), BASE);
    let state = tmp.path().join("state");
    {
        let mut dev = Device::init(&state, &profile).unwrap();
        // Another process (here: another handle) cannot use the directory meanwhile.
        assert!(matches!(Device::open(&state), Err(DeviceError::Busy(_))));
        let accounts = dev.accounts();
        let a = accounts.iter().find(|a| a.server_id == "srvA").unwrap();
        let auth = a.client_auth.clone().unwrap();
        account::store_nonce(dev.tree_mut(), &auth, b"rotated").unwrap();
    }
    let dev = Device::open(&state).unwrap();
    assert_eq!(leaf(&dev, "./DMAcc/srvA/AppAuth/1/AAuthData"), b"rotated");
    assert_eq!(dev.profile().accounts.len(), 2);
    // A second init on the same directory is refused, and nothing is overwritten.
    drop(dev);
    let again = Device::init(&state, &profile);
    assert!(matches!(again, Err(DeviceError::AlreadyInitialised(_))));
    let dev = Device::open(&state).unwrap();
    assert_eq!(leaf(&dev, "./DMAcc/srvA/AppAuth/1/AAuthData"), b"rotated");
}

#[test]
fn open_without_init_says_how_to_create_the_device() {
    let tmp = tempfile::tempdir().unwrap();
    let err = Device::open(tmp.path()).unwrap_err();
    assert!(matches!(err, DeviceError::NotInitialised(_)));
    assert!(err.to_string().contains("dm-client init"), "{err}");
}

#[test]
fn tnds_and_ddf_files_are_loaded_at_init() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("apps.xml"),
        r#"<MgmtTree xmlns="syncml:dmddf1.2"><VerDTD>1.2</VerDTD>
        <Node><NodeName>Vendor</NodeName><RTProperties><Format><node/></Format><Type><DDFName>com.example/1.0/Vendor</DDFName></Type></RTProperties>
          <Node><NodeName>Color</NodeName><RTProperties><Format><chr/></Format><Type><MIME>text/plain</MIME></Type></RTProperties><Value>blue</Value></Node>
        </Node></MgmtTree>"#,
    )
    .unwrap();
    let profile = write_profile(
        tmp.path(),
        &format!("{BASE}\n[tree]\ntnds = [\"apps.xml\"]\nddf = [\"{}\"]\n", {
            let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/mo/inbox.ddf.xml");
            p.display().to_string()
        }),
    );
    let state = tmp.path().join("state");
    let dev = Device::init(&state, &profile).unwrap();
    assert_eq!(leaf(&dev, "./Vendor/Color"), b"blue");
    drop(dev);
    // The DDF was copied into the state directory: the device opens without the original.
    assert_eq!(std::fs::read_dir(state.join("ddf")).unwrap().count(), 1);
    let dev = Device::open(&state).unwrap();
    assert_eq!(leaf(&dev, "./Vendor/Color"), b"blue");
}

#[test]
fn a_bad_tnds_file_leaves_no_device() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("bad.xml"), "<MgmtTree><oops").unwrap();
    let profile = write_profile(
        tmp.path(),
        &format!("{BASE}\n[tree]\ntnds = [\"bad.xml\"]\n"),
    );
    let state = tmp.path().join("state");
    let err = Device::init(&state, &profile).unwrap_err();
    assert!(matches!(err, DeviceError::BadTreeFile { .. }), "{err}");
    assert!(err.to_string().contains("bad.xml"), "{err}");
    assert!(matches!(
        Device::open(&state),
        Err(DeviceError::NotInitialised(_))
    ));
}

/// A TNDS file that parses but cannot be imported (it adds the existing ./DevInfo, facts
/// §4.5: 418) fails init after the tree was created: nothing stays behind, and the same
/// directory takes a fixed profile.
#[test]
fn a_failed_import_leaves_the_directory_reusable() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("clash.xml"),
        r#"<MgmtTree xmlns="syncml:dmddf1.2"><VerDTD>1.2</VerDTD>
        <Node><NodeName>DevInfo</NodeName><RTProperties><Format><node/></Format><Type><DDFName>x</DDFName></Type></RTProperties></Node></MgmtTree>"#,
    )
    .unwrap();
    let bad = write_profile(
        tmp.path(),
        &format!("{BASE}\n[tree]\ntnds = [\"clash.xml\"]\n"),
    );
    let state = tmp.path().join("state");
    let err = Device::init(&state, &bad).unwrap_err();
    assert!(err.to_string().contains("clash.xml"), "{err}");
    assert!(!state.join("tree.db").exists());
    let good = write_profile(tmp.path(), BASE);
    let dev = Device::init(&state, &good).unwrap();
    assert_eq!(leaf(&dev, "./DevInfo/Man"), b"Example");
}

#[rstest]
#[case::unknown_field(
    "[device]\ndev_id = \"x\"\nmanufacturer = \"m\"\nmodel = \"m\"\ncolour = 1\n",
    "colour"
)]
#[case::missing_dev_id("[device]\nmanufacturer = \"m\"\nmodel = \"m\"\n", "dev_id")]
#[case::empty_dev_id(
    "[device]\ndev_id = \" \"\nmanufacturer = \"m\"\nmodel = \"m\"\n",
    "dev_id"
)]
#[case::duplicate_server(
    "[device]\ndev_id = \"x\"\nmanufacturer = \"m\"\nmodel = \"m\"\n[[account]]\nserver_id = \"s\"\nurl = \"http://a\"\n[[account]]\nserver_id = \"s\"\nnode = \"t\"\nurl = \"http://b\"\n",
    "unique"
)]
#[case::duplicate_node(
    "[device]\ndev_id = \"x\"\nmanufacturer = \"m\"\nmodel = \"m\"\n[[account]]\nserver_id = \"s\"\nurl = \"http://a\"\n[[account]]\nserver_id = \"t\"\nnode = \"s\"\nurl = \"http://b\"\n",
    "./DMAcc/s"
)]
#[case::bad_url(
    "[device]\ndev_id = \"x\"\nmanufacturer = \"m\"\nmodel = \"m\"\n[[account]]\nserver_id = \"s\"\nurl = \"ftp://a\"\n",
    "http://"
)]
#[case::two_defaults(
    "[device]\ndev_id = \"x\"\nmanufacturer = \"m\"\nmodel = \"m\"\n[[account]]\nserver_id = \"s\"\nurl = \"http://a\"\ndefault = true\n[[account]]\nserver_id = \"t\"\nurl = \"http://b\"\ndefault = true\n",
    "default"
)]
#[case::bad_auth_type(
    "[device]\ndev_id = \"x\"\nmanufacturer = \"m\"\nmodel = \"m\"\n[[account]]\nserver_id = \"s\"\nurl = \"http://a\"\nclient_auth = { type = \"x509\", name = \"a\", secret = \"b\" }\n",
    "x509"
)]
#[case::obj_size_without_lo(
    "[device]\ndev_id = \"x\"\nmanufacturer = \"m\"\nmodel = \"m\"\nlarge_objects = false\nmax_obj_size = 5\n",
    "large_objects"
)]
#[case::bad_ui_mode(
    "[device]\ndev_id = \"x\"\nmanufacturer = \"m\"\nmodel = \"m\"\n[ui]\nmode = \"maybe\"\n",
    "maybe"
)]
#[case::unknown_fault(
    "[device]\ndev_id = \"x\"\nmanufacturer = \"m\"\nmodel = \"m\"\n[faults]\nbe_nice = true\n",
    "be_nice"
)]
fn bad_profiles_are_refused_with_the_reason(#[case] text: &str, #[case] needle: &str) {
    let err = DeviceProfile::from_toml(text, Path::new("/p/profile.toml")).unwrap_err();
    assert!(
        matches!(
            err,
            ProfileError::Syntax { .. } | ProfileError::Invalid { .. }
        ),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains("/p/profile.toml"), "{msg}");
    assert!(msg.contains(needle), "{msg} should mention {needle}");
}

#[test]
fn relative_paths_are_anchored_at_the_profile() {
    let text = format!("{BASE}\n[tree]\ntnds = [\"init/a.xml\"]\n[transport]\ntrust_anchors = [\"ca.pem\", \"/abs/ca2.pem\"]\n");
    let p = DeviceProfile::from_toml(&text, Path::new("/etc/dev/profile.toml")).unwrap();
    assert_eq!(p.tree.tnds, vec![PathBuf::from("/etc/dev/init/a.xml")]);
    assert_eq!(
        p.transport.trust_anchors,
        vec![
            PathBuf::from("/etc/dev/ca.pem"),
            PathBuf::from("/abs/ca2.pem")
        ]
    );
    // The stored copy reads back to the same profile.
    let again = DeviceProfile::from_toml(&p.to_toml(), Path::new("/state/profile.toml")).unwrap();
    assert_eq!(again, p);
}

fn acc(id: &str, url: &str) -> DeviceAccount {
    DeviceAccount {
        uri: format!("./DMAcc/{id}"),
        server_id: id.into(),
        url: url.into(),
        client_auth: None,
        server_auth: None,
    }
}

/// docs/reference-client.md "Choosing the server".
#[rstest]
#[case::explicit(&["a", "b"], Some("b"), Some("a"), Ok("b"))]
#[case::profile_default(&["a", "b"], None, Some("b"), Ok("b"))]
#[case::only_one(&["a"], None, None, Ok("a"))]
#[case::default_gone_single_left(&["a"], None, Some("gone"), Ok("a"))]
#[case::ambiguous(&["a", "b"], None, None, Err("none is the default"))]
#[case::default_gone_ambiguous(&["a", "b"], None, Some("gone"), Err("--account"))]
#[case::unknown(&["a", "b"], Some("c"), None, Err("knows: a, b"))]
#[case::none(&[], None, None, Err("no DM server account"))]
fn choosing_the_server(
    #[case] ids: &[&str],
    #[case] requested: Option<&str>,
    #[case] default: Option<&str>,
    #[case] want: Result<&str, &str>,
) {
    let all: Vec<DeviceAccount> = ids.iter().map(|i| acc(i, "http://x")).collect();
    match (account::choose(&all, requested, default), want) {
        (Ok(a), Ok(id)) => assert_eq!(a.server_id, id),
        (Err(e), Err(needle)) => assert!(e.to_string().contains(needle), "{e}"),
        (got, want) => panic!("got {got:?}, want {want:?}"),
    }
}

#[test]
fn an_account_without_address_is_refused() {
    let all = vec![acc("a", "")];
    assert_eq!(
        account::choose(&all, None, None),
        Err(AccountError::NoAddress {
            server_id: "a".into()
        })
    );
}

/// Every `[faults]` switch of the profile reaches the engine or the tree
/// (docs/reference-client.md "Fault injection").
#[test]
fn profile_faults_reach_the_engine_and_the_tree() {
    let tmp = tempfile::tempdir().unwrap();
    let all = "[faults]\nskip_server_auth = true\nwrong_msg_ref = true\nno_results = true\n\
               no_devinfo = true\nno_final = true\nstale_nonce = true\nno_hmac = true\n\
               ignore_acl = true\ncommit_failed_atomic = true\nadd_overwrites = true\n\
               delete_permanent = true\nfrozen_versions = true\nignore_size_mismatch = true\n\
               fail_rollback = true\naccept_any_certificate = true\n\
               report_inventory_without_consent = true\n";
    let profile = write_profile(tmp.path(), &format!("{BASE}\n{all}"));
    let dev = Device::init(&tmp.path().join("state"), &profile).unwrap();
    let f = dev.profile().faults.client_faults();
    assert!(
        f.skip_server_auth
            && f.wrong_msg_ref
            && f.no_results
            && f.no_devinfo
            && f.no_final
            && f.stale_nonce
            && f.no_hmac
            && f.ignore_acl
            && f.commit_failed_atomic
    );
    let t = dev.tree().faults();
    assert!(
        t.add_overwrites
            && t.delete_permanent
            && t.frozen_versions
            && t.ignore_size_mismatch
            && t.fail_rollback
    );
    // Session-level tree switches are applied by the engine when a session starts.
    assert!(!t.ignore_acl && !t.no_atomic_rollback);
    // And they survive a reopen.
    drop(dev);
    let dev = Device::open(&tmp.path().join("state")).unwrap();
    assert!(dev.tree().faults().fail_rollback);
    assert!(dev.profile().faults.client_faults().no_hmac);
    assert!(dev.profile().faults.accept_any_certificate);
    assert!(dev.profile().faults.report_inventory_without_consent);
}

mod common;

/// facts §3.5 + "the state directory keeps everything": an asynchronous Exec completion
/// survives a restart, goes in package 1 to its server, is reported again when that session
/// fails, and is gone once a session carrying it completes.
#[tokio::test]
async fn completions_survive_restarts_until_reported() {
    use common::{hdr_status, serve, server_xml, Reply};
    use dm_client::device::SessionRequest;
    use dm_protocol::codes::AlertCode;
    use dm_protocol::model::Command;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    let broken = Arc::new(AtomicBool::new(true));
    let server = serve({
        let broken = broken.clone();
        move |n, req, url| {
            if broken.load(Ordering::SeqCst) {
                return Reply::xml("not SyncML".into());
            }
            Reply::xml(server_xml(
                req,
                n + 1,
                url,
                "",
                &hdr_status(req, url, 200, ""),
                true,
            ))
        }
    })
    .await;
    let tmp = tempfile::tempdir().unwrap();
    let text = format!(
        "[device]\ndev_id = \"IMEI:1\"\nmanufacturer = \"m\"\nmodel = \"m\"\n\
         [transport]\nretries = 0\n[[account]]\nserver_id = \"srvA\"\nurl = \"{}\"\n",
        server.url
    );
    let profile = write_profile(tmp.path(), &text);
    let state = tmp.path().join("state");
    {
        let mut dev = Device::init(&state, &profile).unwrap();
        dev.tree_mut().complete_exec(dm_tree::Completion {
            correlator: Some("job-7".into()),
            source: "./DevInfo".parse().unwrap(),
            alert_type: "urn:example:done".into(),
            format: "int".into(),
            mark: None,
            data: "1200".into(),
            server: Some("srvA".into()),
        });
        dev.save_pending().unwrap();
    }
    let generic = |m: &dm_protocol::model::SyncMl| {
        m.body
            .commands
            .iter()
            .filter(|c| matches!(c, Command::Alert(a) if a.code == Some(AlertCode::GenericAlert)))
            .count()
    };
    let req = || SessionRequest {
        account: Some("srvA".into()),
        ..SessionRequest::default()
    };
    // A restart later: the failed session carried it, so it stays.
    let mut dev = Device::open(&state).unwrap();
    let r = dev.run_session(req()).await.unwrap();
    assert!(r.end.is_err());
    assert_eq!(generic(server.requests()[0].msg()), 1);
    drop(dev);
    // Another restart: the completed session carries it again, then it is gone.
    broken.store(false, Ordering::SeqCst);
    let mut dev = Device::open(&state).unwrap();
    let r = dev.run_session(req()).await.unwrap();
    assert!(matches!(
        r.end,
        Ok(dm_client::session::EndReason::Completed)
    ));
    assert_eq!(generic(server.requests()[1].msg()), 1);
    let r = dev.run_session(req()).await.unwrap();
    assert!(r.end.is_ok());
    assert_eq!(
        generic(server.requests()[2].msg()),
        0,
        "reported once completed"
    );
    drop(dev);
    let state_json = std::fs::read_to_string(state.join("state.json")).unwrap();
    assert!(!state_json.contains("job-7"), "{state_json}");
}
