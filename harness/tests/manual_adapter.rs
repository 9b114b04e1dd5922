#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The manual adapter: the prompt shows the action and its values; `done`/Enter succeed,
//! `fail <why>` and silence are adapter errors (inconclusive).

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dmconf::adapter::manual::ManualAdapter;
use dmconf::adapter::AdapterError;

#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn answers_and_silence() {
    let out = Shared::default();
    let (reader, mut writer) = std::io::pipe().unwrap();
    writer
        .write_all(b"done\n\nfail the device has no UI\n")
        .unwrap();
    let mut a = ManualAdapter::new(
        std::io::BufReader::new(reader),
        out.clone(),
        Duration::from_millis(300),
    );
    let v = BTreeMap::from([("server_url", "http://tester/dm".to_owned())]);
    a.perform("bootstrap", &v).unwrap();
    a.perform("start_session", &BTreeMap::new()).unwrap();
    let err = a.perform("answer_ui", &BTreeMap::new()).unwrap_err();
    assert!(
        matches!(&err, AdapterError::Failed { stderr, .. } if stderr.contains("the device has no UI")),
        "{err}"
    );
    let started = Instant::now();
    let err = a.perform("restart", &BTreeMap::new()).unwrap_err();
    assert!(matches!(err, AdapterError::Timeout { .. }), "{err}");
    assert!(started.elapsed() < Duration::from_secs(3));
    // Input closed: nobody can answer any more.
    drop(writer);
    std::thread::sleep(Duration::from_millis(50));
    let err = a.perform("restart", &BTreeMap::new()).unwrap_err();
    assert!(matches!(err, AdapterError::Unreachable { .. }), "{err}");
    let shown = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
    assert!(shown.contains("please perform `bootstrap`"), "{shown}");
    assert!(shown.contains("server_url: http://tester/dm"), "{shown}");
}
