#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The schedule MO in the reference client (docs/scheduling.md): the verdict a server's write
//! gets (200, 425, 406, 415, 304, 405), the triggers on an injected clock (At, Every, When,
//! OnChange), runs as the creating server with its rights checked at run time (1425), the
//! parameter groups, End/Count, State, the report a run queues, persistence across reopening
//! the device and the three schedule fault switches.

mod common;

use std::path::{Path, PathBuf};

use dm_client::device::Device;
use dm_client::schedule::{self, ScheduleFaults, ALERT_TYPE};
use dm_client::ui::UiPolicy;
use dm_protocol::codes::StatusCode;
use dm_protocol::tnds::Format;
use dm_protocol::uri::Property;
use dm_tree::{NewNode, Principal, Tree};
use rstest::rstest;

const T0: u64 = 1_796_299_200; // 20261203T120000Z

fn srv() -> Principal {
    Principal::server("srvA")
}

/// A device tree with its schedule subscription (derefs to the tree).
struct Dev {
    t: Tree,
    sub: dm_tree::SubscriptionId,
}

impl std::ops::Deref for Dev {
    type Target = Tree;
    fn deref(&self) -> &Tree {
        &self.t
    }
}

impl std::ops::DerefMut for Dev {
    fn deref_mut(&mut self) -> &mut Tree {
        &mut self.t
    }
}

/// A device tree with `./Vendor` (Volume, Battery, Mode, Secret) and `./Schedule`; srvA may
/// Get and Replace everything in ./Vendor but Secret (no rights at all).
fn tree(policy: UiPolicy) -> Dev {
    let mut t = common::device("http://127.0.0.1:9/dm");
    let local = Principal::Local;
    t.add(&local, "./Vendor", NewNode::interior()).unwrap();
    t.replace_prop(
        &local,
        "./Vendor",
        Property::Acl,
        "Get=srvA&Replace=srvA&Add=srvA",
    )
    .unwrap();
    for (n, v) in [("Volume", "5"), ("Battery", "80"), ("Mode", "day")] {
        t.add(&local, &format!("./Vendor/{n}"), NewNode::leaf(v))
            .unwrap();
    }
    t.add(&local, "./Vendor/Secret", NewNode::leaf("s"))
        .unwrap();
    t.replace_prop(&local, "./Vendor/Secret", Property::Acl, "Get=other")
        .unwrap();
    let sub =
        schedule::install(&mut t, std::sync::Arc::new(std::sync::Mutex::new(policy))).unwrap();
    Dev { t, sub }
}

/// Create `./Schedule/<name>` as srvA with these leaves (relative path, value).
fn create(t: &mut Tree, name: &str, leaves: &[(&str, &str)]) -> Result<(), StatusCode> {
    let base = format!("./Schedule/{name}");
    t.atomically(|t| {
        t.add(&srv(), &base, NewNode::interior())?;
        for (rel, v) in leaves {
            let path = format!("{base}/{rel}");
            let mut parent = base.clone();
            for seg in rel.split('/').collect::<Vec<_>>().split_last().unwrap().1 {
                parent = format!("{parent}/{seg}");
                if !t.exists(&dm_protocol::uri::NodeUri::parse(&parent).unwrap()) {
                    t.add(&srv(), &parent, NewNode::interior())?;
                }
            }
            let format = if rel.ends_with("Every") || rel.ends_with("Count") {
                Format::Int
            } else {
                Format::Chr
            };
            t.add(&srv(), &path, NewNode::leaf(*v).format(format))?;
        }
        Ok(())
    })
    .map_err(|e| e.status())
}

fn get(uri: &str) -> String {
    format!("<Get><CmdID>1</CmdID><Item><Target><LocURI>{uri}</LocURI></Target></Item></Get>")
}

fn replace(uri: &str, v: &str) -> String {
    format!(
        "<Replace><CmdID>2</CmdID><Item><Target><LocURI>{uri}</LocURI></Target><Data>{v}</Data></Item></Replace>"
    )
}

fn tick_with(
    d: &mut Dev,
    now: u64,
    policy: &UiPolicy,
    faults: ScheduleFaults,
) -> Vec<schedule::ScheduleRun> {
    let events = d.t.take_events(d.sub);
    let out = schedule::tick(&mut d.t, now, policy, faults, None, events, &mut |_| Ok(()));
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    out.runs
}

fn tick(d: &mut Dev, now: u64) -> Vec<schedule::ScheduleRun> {
    tick_with(d, now, &UiPolicy::Headless, ScheduleFaults::default())
}

// docs/scheduling.md "Verification": the status of the Add is the device's verdict.
#[rstest]
#[case::accepted(vec![("Task/Commands", get("./Vendor/Volume")), ("Trigger/Every", "60".into())], StatusCode::Ok)]
#[case::no_right_on_a_target(vec![("Task/Commands", get("./Vendor/Secret"))], StatusCode::PermissionDenied)]
#[case::no_right_for_a_condition(vec![("Trigger/When", "./Vendor/Secret == s".into())], StatusCode::PermissionDenied)]
#[case::no_right_for_on_change(vec![("Trigger/OnChange", "./Vendor/Secret".into())], StatusCode::PermissionDenied)]
// DMRD-6.1.4-16: observations of the installed-application list would disclose it.
#[case::watches_the_inventory(vec![("Trigger/OnChange", "./SCOMO/Inventory/Deployed".into())], StatusCode::PermissionDenied)]
#[case::conditions_on_the_inventory(vec![("Trigger/When", "./SCOMO/Inventory/Deployed/av/State == 20".into())], StatusCode::PermissionDenied)]
#[case::unsupported_command(vec![("Task/Commands", "<Alert><CmdID>1</CmdID><Data>1226</Data></Alert>".into())], StatusCode::OptionalFeatureNotSupported)]
#[case::unsupported_operator(vec![("Trigger/When", "./Vendor/Battery ~ 3".into())], StatusCode::OptionalFeatureNotSupported)]
#[case::unsupported_mode(vec![("Report/Mode", "email".into())], StatusCode::OptionalFeatureNotSupported)]
#[case::unsupported_state(vec![("State", "paused".into())], StatusCode::OptionalFeatureNotSupported)]
#[case::malformed_commands(vec![("Task/Commands", "<Get><CmdID>1</Get>".into())], StatusCode::UnsupportedMediaType)]
#[case::malformed_time(vec![("Trigger/At", "tomorrow".into())], StatusCode::UnsupportedMediaType)]
#[case::device_set_leaf(vec![("Verification", "200".into())], StatusCode::CommandNotAllowed)]
#[case::owner_is_device_set(vec![("Owner", "srvB".into())], StatusCode::CommandNotAllowed)]
#[case::period_out_of_range(vec![("Trigger/Every", "4294967295".into())], StatusCode::UnsupportedMediaType)]
#[case::count_not_a_number(vec![("End/Count", "-1".into())], StatusCode::UnsupportedMediaType)]
#[case::acts_on_schedules(vec![("Task/Commands", get("./Schedule"))], StatusCode::OptionalFeatureNotSupported)]
fn verification(#[case] leaves: Vec<(&str, String)>, #[case] expected: StatusCode) {
    let mut t = tree(UiPolicy::Headless);
    let leaves: Vec<(&str, &str)> = leaves.iter().map(|(a, b)| (*a, b.as_str())).collect();
    let got = create(&mut t, "s1", &leaves);
    assert_eq!(got.err().unwrap_or(StatusCode::Ok), expected);
    // facts §9.2 all-or-nothing: a refused schedule leaves nothing behind.
    let exists = t.exists(&dm_protocol::uri::NodeUri::parse("./Schedule/s1").unwrap());
    assert_eq!(exists, expected == StatusCode::Ok);
}

// docs/scheduling.md: `Prompt = create` asks the user; "no" is 304 (facts §3.4).
#[rstest]
#[case(UiPolicy::Reject, Some(StatusCode::NotModified))]
#[case(UiPolicy::Timeout, Some(StatusCode::NotModified))]
#[case(UiPolicy::Accept { text: None }, None)]
fn prompt_on_create(#[case] policy: UiPolicy, #[case] refused: Option<StatusCode>) {
    let mut t = tree(policy);
    let got = create(
        &mut t,
        "p",
        &[("Prompt", "create"), ("Trigger/Every", "60")],
    );
    assert_eq!(got.err(), refused);
}

// Another server cannot change or delete srvA's schedule (facts §4.4 creator ACL).
#[test]
fn a_schedule_belongs_to_its_creator() {
    let mut t = tree(UiPolicy::Headless);
    create(&mut t, "s", &[("Trigger/Every", "60"), ("State", "active")]).unwrap();
    let other = Principal::server("srvB");
    let e = t
        .replace(&other, "./Schedule/s/State", NewNode::leaf("terminated"))
        .unwrap_err();
    assert_eq!(e.status(), StatusCode::PermissionDenied);
    assert_eq!(
        t.delete(&other, "./Schedule/s").unwrap_err().status(),
        StatusCode::PermissionDenied
    );
    t.replace(&srv(), "./Schedule/s/State", NewNode::leaf("suspended"))
        .unwrap();
}

// docs/scheduling.md "Life cycle": the owner is the server that added the schedule, it may
// read the whole schedule (device-set leaves included), and a changed trigger recomputes Next.
#[test]
fn owner_reads_and_retriggers() {
    let mut t = tree(UiPolicy::Headless);
    create(
        &mut t,
        "o",
        &[
            ("Task/Commands", &get("./Vendor/Volume")),
            ("Trigger/At", "20261203T130000Z"),
        ],
    )
    .unwrap();
    tick(&mut t, T0);
    assert_eq!(t.value_str("./Schedule/o/Owner").as_deref(), Some("srvA"));
    let got = t.get(&srv(), "./Schedule/o/Verification").map(|_| ());
    assert!(got.is_ok(), "{got:?}");
    assert!(t
        .get(&Principal::server("srvB"), "./Schedule/o/Verification")
        .is_err());
    t.replace(
        &srv(),
        "./Schedule/o/Trigger/At",
        NewNode::leaf("20261203T140000Z"),
    )
    .unwrap();
    assert!(
        tick(&mut t, T0 + 3600).is_empty(),
        "the old time no longer counts"
    );
    assert_eq!(
        t.value_str("./Schedule/o/Next").as_deref(),
        Some("20261203T140000Z")
    );
    assert_eq!(tick(&mut t, T0 + 7200).len(), 1);
}

// Use case 5.6.1: a periodic Get, reported each period (no burst after a clock jump).
#[test]
fn periodic_report() {
    let mut t = tree(UiPolicy::Headless);
    create(
        &mut t,
        "r",
        &[
            ("Task/Commands", &get("./Vendor/Battery")),
            ("Trigger/At", "20261203T130000Z"),
            ("Trigger/Every", "3600"),
        ],
    )
    .unwrap();
    assert!(tick(&mut t, T0).is_empty(), "adoption only");
    assert_eq!(
        t.value_str("./Schedule/r/Verification").as_deref(),
        Some("200")
    );
    assert_eq!(
        t.value_str("./Schedule/r/Next").as_deref(),
        Some("20261203T130000Z")
    );
    assert!(tick(&mut t, T0 + 3599).is_empty(), "not due yet");
    let runs = tick(&mut t, T0 + 3600);
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].result, schedule::RESULT_OK);
    assert_eq!(runs[0].server.as_deref(), Some("srvA"));
    assert!(runs[0]
        .report
        .contains("<LocURI>./Vendor/Battery</LocURI></Source><Data>80</Data>"));
    assert!(runs[0]
        .report
        .contains("<ResultCode>1200</ResultCode><Run>1</Run><Time>20261203T130000Z</Time>"));
    let c = t.take_completions();
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].alert_type, ALERT_TYPE);
    assert_eq!(c[0].format, "xml");
    assert_eq!(c[0].source.to_string(), "./Schedule/r");
    assert_eq!(c[0].server.as_deref(), Some("srvA"));
    // Three periods later: one run, not three.
    assert_eq!(tick(&mut t, T0 + 4 * 3600 + 5).len(), 1);
    assert_eq!(t.value_str("./Schedule/r/Last/Count").as_deref(), Some("2"));
    assert_eq!(
        t.value_str("./Schedule/r/Next").as_deref(),
        Some("20261203T170000Z")
    );
}

// Use case 5.6.3: the group whose condition holds runs; End/Count terminates.
#[test]
fn parameter_groups_and_end_count() {
    let mut t = tree(UiPolicy::Headless);
    create(
        &mut t,
        "adj",
        &[
            ("Task/Groups/a-low/Condition", "./Vendor/Battery < 20"),
            (
                "Task/Groups/a-low/Commands",
                &replace("./Vendor/Mode", "saver"),
            ),
            ("Task/Groups/b-high/Condition", "./Vendor/Battery >= 20"),
            (
                "Task/Groups/b-high/Commands",
                &replace("./Vendor/Mode", "normal"),
            ),
            ("Trigger/OnChange", "./Vendor/Battery"),
            ("End/Count", "2"),
        ],
    )
    .unwrap();
    assert!(tick(&mut t, T0).is_empty());
    assert!(tick(&mut t, T0 + 1).is_empty(), "no change, no run");
    let local = Principal::Local;
    t.replace(&local, "./Vendor/Battery", NewNode::leaf("15"))
        .unwrap();
    let runs = tick(&mut t, T0 + 2);
    assert_eq!(runs.len(), 1);
    assert!(runs[0].report.contains("<Group>a-low</Group>"));
    assert!(runs[0]
        .report
        .contains("<Cmd>Replace</Cmd><Target>./Vendor/Mode</Target><Code>200</Code>"));
    assert_eq!(t.value_str("./Vendor/Mode").as_deref(), Some("saver"));
    t.replace(&local, "./Vendor/Battery", NewNode::leaf("90"))
        .unwrap();
    tick(&mut t, T0 + 3);
    assert_eq!(t.value_str("./Vendor/Mode").as_deref(), Some("normal"));
    assert_eq!(
        t.value_str("./Schedule/adj/State").as_deref(),
        Some("terminated")
    );
    t.replace(&local, "./Vendor/Battery", NewNode::leaf("10"))
        .unwrap();
    assert!(
        tick(&mut t, T0 + 4).is_empty(),
        "terminated after End/Count"
    );
}

// Trigger/When alone runs when the condition becomes true; suspended schedules do not run.
#[test]
fn when_edges_and_suspension() {
    let mut t = tree(UiPolicy::Headless);
    create(
        &mut t,
        "w",
        &[
            ("Trigger/When", "./Vendor/Volume > 7"),
            ("Task/Commands", &get("./Vendor/Volume")),
        ],
    )
    .unwrap();
    tick(&mut t, T0);
    let local = Principal::Local;
    t.replace(&local, "./Vendor/Volume", NewNode::leaf("9"))
        .unwrap();
    assert_eq!(tick(&mut t, T0 + 1).len(), 1);
    assert!(tick(&mut t, T0 + 2).is_empty(), "still true: no new edge");
    t.replace(&srv(), "./Schedule/w/State", NewNode::leaf("suspended"))
        .unwrap();
    t.replace(&local, "./Vendor/Volume", NewNode::leaf("1"))
        .unwrap();
    tick(&mut t, T0 + 3);
    t.replace(&local, "./Vendor/Volume", NewNode::leaf("8"))
        .unwrap();
    assert!(tick(&mut t, T0 + 4).is_empty(), "suspended");
}

// DMRD-6.1.7-6: a right withdrawn after acceptance → 1425 and nothing runs; the fault
// `skip_schedule_rights` runs anyway.
#[rstest]
#[case(false, schedule::RESULT_NO_RIGHT, "5")]
#[case(true, schedule::RESULT_OK, "7")]
fn rights_are_checked_at_run_time(#[case] skip: bool, #[case] result: u32, #[case] volume: &str) {
    let mut t = tree(UiPolicy::Headless);
    create(
        &mut t,
        "v",
        &[
            ("Task/Commands", &replace("./Vendor/Volume", "7")),
            ("Trigger/Every", "60"),
        ],
    )
    .unwrap();
    tick(&mut t, T0);
    t.replace_prop(
        &Principal::Local,
        "./Vendor/Volume",
        Property::Acl,
        "Get=srvA",
    )
    .unwrap();
    let faults = ScheduleFaults {
        skip_rights: skip,
        ..ScheduleFaults::default()
    };
    let runs = tick_with(&mut t, T0 + 60, &UiPolicy::Headless, faults);
    assert_eq!(runs[0].result, result);
    assert_eq!(t.value_str("./Vendor/Volume").as_deref(), Some(volume));
}

// `Prompt = run`: the user's refusal is result 1401 and nothing runs.
#[test]
fn prompt_on_run() {
    let mut t = tree(UiPolicy::Headless);
    create(
        &mut t,
        "q",
        &[
            ("Task/Commands", &replace("./Vendor/Volume", "9")),
            ("Trigger/Every", "60"),
            ("Prompt", "run"),
            ("Report/Mode", "batch"),
        ],
    )
    .unwrap();
    tick(&mut t, T0);
    let runs = tick_with(
        &mut t,
        T0 + 60,
        &UiPolicy::Reject,
        ScheduleFaults::default(),
    );
    assert_eq!(runs[0].result, schedule::RESULT_REFUSED);
    assert_eq!(runs[0].report_mode, "batch");
    assert_eq!(t.value_str("./Vendor/Volume").as_deref(), Some("5"));
}

// `report_early`: the run happens at the first tick, before it is due.
#[test]
fn report_early_fault_runs_before_due() {
    let mut t = tree(UiPolicy::Headless);
    create(
        &mut t,
        "e",
        &[
            ("Task/Commands", &get("./Vendor/Volume")),
            ("Trigger/At", "20261204T000000Z"),
        ],
    )
    .unwrap();
    let early = ScheduleFaults {
        report_early: true,
        ..ScheduleFaults::default()
    };
    assert_eq!(tick_with(&mut t, T0, &UiPolicy::Headless, early).len(), 1);
}

// ----- a whole device: persistence (DMRD-6.1.7-3) and the forget_schedules fault ----------

fn profile(dir: &Path, faults: &str) -> PathBuf {
    let text = format!(
        "[device]\ndev_id = \"IMEI:sched\"\nmanufacturer = \"Acme\"\nmodel = \"Phone-1\"\n\
         [transport]\nretries = 0\n\
         [[account]]\nserver_id = \"srvA\"\nurl = \"http://127.0.0.1:9/dm\"\n\
         [schedule]\nenabled = true\n[faults]\n{faults}\n"
    );
    let p = dir.join("device.toml");
    std::fs::write(&p, text).unwrap();
    p
}

#[rstest]
#[case::kept("", true)]
#[case::forgotten("forget_schedules = true", false)]
fn schedules_and_progress_survive_a_restart(#[case] faults: &str, #[case] kept: bool) {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let mut dev = Device::init(&state, &profile(tmp.path(), faults)).unwrap();
    dev.set_clock(T0).unwrap();
    let t = dev.tree_mut();
    t.add(&srv(), "./Schedule/k", NewNode::interior()).unwrap();
    t.add(&srv(), "./Schedule/k/Trigger", NewNode::interior())
        .unwrap();
    t.add(
        &srv(),
        "./Schedule/k/Trigger/Every",
        NewNode::leaf("60").format(Format::Int),
    )
    .unwrap();
    t.add(&srv(), "./Schedule/k/Task", NewNode::interior())
        .unwrap();
    t.add(
        &srv(),
        "./Schedule/k/Task/Commands",
        NewNode::leaf(get("./DevInfo/DevId")),
    )
    .unwrap();
    dev.run_schedules().unwrap(); // adopted
    assert_eq!(
        common::value(&dev, "./Schedule/k/Owner").as_deref(),
        Some("srvA"),
        "the change events name the server that added it"
    );
    dev.advance_clock(60).unwrap();
    assert_eq!(dev.run_schedules().unwrap().runs.len(), 1);
    drop(dev);
    let mut dev = Device::open(&state).unwrap();
    assert_eq!(dev.now(), T0 + 60, "the simulated clock is kept");
    let count = common::value(&dev, "./Schedule/k/Last/Count");
    if kept {
        assert_eq!(count.as_deref(), Some("1"));
        dev.advance_clock(60).unwrap();
        let runs = dev.run_schedules().unwrap().runs;
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].run, 2);
    } else {
        assert_eq!(count, None);
        assert!(!common::exists(&dev, "./Schedule/k"));
    }
}

// DMRD-6.1.7-3 with a real crash: `dm-client run` ticks once a second on the system clock;
// killed with SIGKILL mid-schedule, the device keeps the schedule, its progress and the
// reports it had not delivered yet.
#[test]
fn a_killed_device_keeps_its_schedule_progress_and_reports() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let mut dev = Device::init(&state, &profile(tmp.path(), "")).unwrap();
    let t = dev.tree_mut();
    for (at, node) in [
        ("./Schedule/k", NewNode::interior()),
        ("./Schedule/k/Trigger", NewNode::interior()),
        (
            "./Schedule/k/Trigger/Every",
            NewNode::leaf("1").format(Format::Int),
        ),
        ("./Schedule/k/Task", NewNode::interior()),
        (
            "./Schedule/k/Task/Commands",
            NewNode::leaf(get("./DevInfo/DevId")),
        ),
        ("./Schedule/k/Report", NewNode::interior()),
        ("./Schedule/k/Report/Mode", NewNode::leaf("batch")),
    ] {
        t.add(&srv(), at, node).unwrap();
    }
    drop(dev);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_dm-client"))
        .args(["run", "--state"])
        .arg(&state)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(3500));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let mut dev = Device::open(&state).unwrap();
    let count: u64 = common::value(&dev, "./Schedule/k/Last/Count")
        .unwrap()
        .parse()
        .unwrap();
    assert!(count >= 1, "runs before the kill: {count}");
    let reports = dev
        .tree_mut()
        .take_completions()
        .into_iter()
        .filter(|c| c.alert_type == ALERT_TYPE)
        .count() as u64;
    // At least once: every recorded run has its report kept (a run cut short may repeat).
    assert!(reports >= count, "{reports} reports kept for {count} runs");
}
