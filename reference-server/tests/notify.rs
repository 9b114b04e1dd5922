#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Package #0 from the server, received and verified by the reference client's real
//! listeners (facts §7.1–§7.3): every transport, the digest over the device's nonce, the
//! session id as hex, ui-mode; and the errors a user gets.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use dm_client::listener::{self, NotificationConfig, ServerCredentials};
use dm_protocol::pkg0::UiMode;
use dm_server::model::UiMode as Mode;
use dm_server::model::{AuthKind, Device, DeviceState, NotifyAddress, NotifyTransport, Secret};
use dm_server::notify::{self, NotifyError};
use rstest::rstest;

fn device(notify: Vec<NotifyAddress>) -> Device {
    Device {
        dev_id: "IMEI:1".into(),
        server_id: "srvA".into(),
        client_auth: None,
        server_auth: Some(Secret {
            kind: AuthKind::Md5,
            name: "srvA".into(),
            secret: "srvpw".into(),
        }),
        notify,
    }
}

fn state() -> DeviceState {
    DeviceState {
        server_nonce: b"n-7".to_vec(),
        ..DeviceState::default()
    }
}

fn listener_config(transport: NotifyTransport) -> NotificationConfig {
    let name = notify::transport_name(transport);
    toml::from_str(&format!("resync = []\n[{name}]\nbind = \"127.0.0.1:0\"\n")).unwrap()
}

#[rstest]
#[case::udp(NotifyTransport::Udp)]
#[case::tcp(NotifyTransport::Tcp)]
#[case::http(NotifyTransport::Http)]
#[tokio::test]
async fn the_reference_client_verifies_it(#[case] transport: NotifyTransport) {
    let mut accounts = HashMap::new();
    accounts.insert(
        "srvA".to_owned(),
        ServerCredentials::new("srvA", "srvpw", b"n-7".to_vec()),
    );
    let (listeners, mut queues) = listener::start(
        &listener_config(transport),
        Arc::new(accounts),
        Arc::new(dm_tree::ManualClock::at(1_000)),
    )
    .await
    .unwrap();
    let address = match transport {
        NotifyTransport::Udp => listeners.udp_addr().unwrap().to_string(),
        NotifyTransport::Tcp => listeners.tcp_addr().unwrap().to_string(),
        NotifyTransport::Http => format!("http://{}/notify", listeners.http_addr().unwrap()),
    };
    let dev = device(vec![NotifyAddress { transport, address }]);
    let bytes = notify::build(&dev, &state(), 0x00AB, Mode::UserInteraction).unwrap();
    let to = notify::pick(&dev, Some(transport)).unwrap();
    notify::deliver(to, &bytes, Duration::from_secs(5))
        .await
        .unwrap();
    let got = tokio::time::timeout(Duration::from_secs(5), queues.verified.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.server_id, "srvA");
    assert_eq!(
        got.session_id, "AB",
        "facts §7.3: hex without leading zeros"
    );
    assert_eq!(got.ui_mode, UiMode::UserInteraction);
    assert!(!got.resync, "the digest used the device's stored nonce");
}

#[tokio::test]
async fn http_refusal_is_reported_with_the_listener_reason() {
    // The digest is over another nonce than the device holds: its HTTP listener says 400.
    let mut accounts = HashMap::new();
    accounts.insert(
        "srvA".to_owned(),
        ServerCredentials::new("srvA", "srvpw", b"other".to_vec()),
    );
    let (listeners, _queues) = listener::start(
        &listener_config(NotifyTransport::Http),
        Arc::new(accounts),
        Arc::new(dm_tree::ManualClock::at(1_000)),
    )
    .await
    .unwrap();
    let address = format!("http://{}/", listeners.http_addr().unwrap());
    let dev = device(vec![NotifyAddress {
        transport: NotifyTransport::Http,
        address,
    }]);
    let bytes = notify::build(&dev, &state(), 5, Mode::Background).unwrap();
    let err = notify::deliver(&dev.notify[0], &bytes, Duration::from_secs(5))
        .await
        .unwrap_err();
    assert!(
        matches!(err, NotifyError::Refused { status: 400, .. }),
        "{err}"
    );
}

#[test]
fn user_errors_say_what_to_do() {
    let mut dev = device(vec![]);
    let err = notify::pick(&dev, Some(NotifyTransport::Udp)).unwrap_err();
    assert!(
        err.to_string().contains("no udp notification address"),
        "{err}"
    );
    dev.server_auth = None;
    let err = notify::build(&dev, &state(), 1, Mode::Background).unwrap_err();
    assert!(err.to_string().contains("server_auth"), "{err}");
}

#[tokio::test]
async fn a_dead_tcp_address_fails_with_the_cause() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let to = NotifyAddress {
        transport: NotifyTransport::Tcp,
        address: format!("127.0.0.1:{port}"),
    };
    let err = notify::deliver(&to, b"x", Duration::from_secs(5))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            NotifyError::Send {
                transport: "tcp",
                ..
            }
        ),
        "{err}"
    );
}
