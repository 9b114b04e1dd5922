//! Schedules on the server side (docs/scheduling.md "The server side", docs/admin-api.md
//! "Schedules"): the admin endpoints and the jobs they queue (one TNDS Add, the
//! Replace/Add/Delete set of a change, State, Delete), the schedule's state following the
//! device's Status, and report alerts stored per schedule — through the admin service, the
//! store, and a whole session with the reference client engine.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use dm_protocol::model::{Command, Data};
use dm_protocol::tnds::{Format, TndsDocument, MIME_TNDS_XML};
use dm_server::admin::{Admin, Notifier, NotifyFuture};
use dm_server::model::{
    AlertItem, AlertRecord, Device, DeviceState, Job, JobStatus, JobUpdate, NotifyAddress,
    NotifyRequest,
};
use dm_server::store::Store;
use http_body_util::{BodyExt, Full};
use hyper::header::LOCATION;
use hyper::{Method, Request, StatusCode};
use rstest::rstest;
use serde_json::{json, Value};

const DEV: &str = "IMEI:1";

struct NoNotifier;

impl Notifier for NoNotifier {
    fn notify<'a>(
        &'a self,
        _: &'a Device,
        _: &'a DeviceState,
        _: &'a NotifyAddress,
        _: &'a NotifyRequest,
    ) -> NotifyFuture<'a> {
        Box::pin(async { Err("not in these tests".to_string()) })
    }
}

struct Api {
    admin: Admin,
    store: Store,
    _dir: tempfile::TempDir,
}

impl Api {
    fn new() -> Api {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.add_device(&device(DEV)).unwrap();
        Api {
            admin: Admin::new(store.clone(), Arc::new(NoNotifier)),
            store,
            _dir: dir,
        }
    }

    /// One request; the status, the `Location` header and the JSON body (`Null` if empty).
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Option<String>, Value) {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let req = Request::builder()
            .method(method)
            .uri(path)
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        let response = self.admin.handle(req).await;
        let status = response.status();
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };
        (status, location, value)
    }

    /// A call expected to succeed with `status`; the body.
    /// `GET /devices/IMEI:1/schedules/r1`, which must answer 200.
    async fn schedule(&self) -> Value {
        self.ok(
            Method::GET,
            "/devices/IMEI:1/schedules/r1",
            None,
            StatusCode::OK,
        )
        .await
    }

    async fn ok(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        status: StatusCode,
    ) -> Value {
        let (got, _, value) = self.call(method, path, body).await;
        assert_eq!(got, status, "{value}");
        value
    }

    /// The device answers every command of job `id` with `code` (facts §1.4).
    fn answer(&self, id: u64, code: u16) {
        let job = self.store.job(id).unwrap();
        let mut updates = vec![JobUpdate::Sent {
            job: id,
            session_id: "1".into(),
        }];
        for (i, c) in job.spec.commands.iter().enumerate() {
            updates.push(JobUpdate::Status {
                job: id,
                status: JobStatus {
                    command: (i + 1).to_string(),
                    cmd: c.name().to_string(),
                    code,
                    target_refs: vec![],
                    source_refs: vec![],
                    items: vec![],
                    note: None,
                },
            });
        }
        self.store.apply_job_updates(&updates, 50).unwrap();
    }
}

fn device(dev_id: &str) -> Device {
    Device {
        dev_id: dev_id.into(),
        server_id: "srvA".into(),
        client_auth: None,
        server_auth: None,
        notify: vec![],
    }
}

const GET: &str =
    "<Get><CmdID>1</CmdID><Item><Target><LocURI>./DevInfo/Man</LocURI></Target></Item></Get>";
const SET: &str = "<Replace><CmdID>1</CmdID><Item><Target><LocURI>./Vendor/Mode</LocURI></Target><Data>eco</Data></Item></Replace>";

fn r1() -> Value {
    json!({
        "name": "r1",
        "commands": GET,
        "groups": [{"name": "low", "condition": "./Vendor/Battery < 20", "commands": SET}],
        "at": "20261203T120000Z",
        "every": 3600,
        "count": 3,
        "report": "batch",
    })
}

fn job_of(answer: &Value) -> Job {
    serde_json::from_value(answer["job"].clone()).unwrap()
}

/// Create `r1` and have the device accept it (Status 200 for the Add).
async fn create_accepted(api: &Api) {
    let created = api
        .ok(
            Method::POST,
            "/devices/IMEI:1/schedules",
            Some(r1()),
            StatusCode::CREATED,
        )
        .await;
    api.answer(job_of(&created).id, 200);
}

/// `(command, target)` of every command of a job.
fn commands(job: &Job) -> Vec<(String, String)> {
    job.spec
        .commands
        .iter()
        .map(|c| {
            let target = match c {
                Command::Add(i) | Command::Replace(i) | Command::Delete(i) => i.items[0]
                    .target
                    .as_ref()
                    .map(|t| t.loc_uri.clone())
                    .unwrap_or_default(),
                _ => String::new(),
            };
            (c.name().to_string(), target)
        })
        .collect()
}

/// The leaves of a TNDS document: full path → (format, value).
fn tnds_leaves(doc: &TndsDocument) -> BTreeMap<String, (Option<Format>, String)> {
    fn walk(
        prefix: &str,
        nodes: &[dm_protocol::tnds::Node],
        out: &mut BTreeMap<String, (Option<Format>, String)>,
    ) {
        for n in nodes {
            let path = format!("{prefix}/{}", n.name);
            match &n.content {
                dm_protocol::tnds::NodeContent::Children(c) => walk(&path, c, out),
                dm_protocol::tnds::NodeContent::Value(v) => {
                    let format = n.rt.as_ref().and_then(|r| r.format);
                    out.insert(path, (format, v.clone().unwrap_or_default()));
                }
            }
        }
    }
    let mut out = BTreeMap::new();
    for top in &doc.tree.nodes {
        // facts §9.2: Path is relative to the Add's Target, `./Schedule`.
        let base = match top.path.as_deref() {
            None | Some(".") => "./Schedule".to_owned(),
            Some(p) => format!("./Schedule/{}", p.trim_start_matches("./")),
        };
        walk(&base, std::slice::from_ref(top), &mut out);
    }
    out
}

/// docs/scheduling.md "Life cycle" Create: one Add targeting `./Schedule`, Meta Format `xml`
/// and Type `application/vnd.syncml.dmtnds+xml` (facts §9.2), whose TNDS document holds the
/// node `r1` (Path `.`, relative to the Target) and exactly the leaves of the definition,
/// ints as `int`.
#[tokio::test]
async fn create_queues_one_tnds_add_holding_the_leaves() {
    let api = Api::new();
    let (status, location, answer) = api
        .call(Method::POST, "/devices/IMEI:1/schedules", Some(r1()))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(location.as_deref(), Some("/devices/IMEI:1/schedules/r1"));
    assert_eq!(answer["schedule"]["state"], "requested");
    assert_eq!(answer["schedule"]["verdict"], Value::Null);
    assert_eq!(answer["schedule"]["definition"], r1());
    let job = job_of(&answer);
    assert_eq!(answer["schedule"]["jobs"], json!([job.id]));
    assert_eq!(
        commands(&job),
        [("Add".to_string(), "./Schedule".to_string())]
    );
    let Command::Add(add) = &job.spec.commands[0] else {
        panic!("not an Add");
    };
    let item = &add.items[0];
    let meta = item.meta.as_ref().expect("Meta");
    assert_eq!(meta.type_.as_deref(), Some(MIME_TNDS_XML));
    assert_eq!(meta.format.as_deref(), Some("xml"));
    let Some(Data::Markup(raw)) = &item.data else {
        panic!("the TNDS document is carried as markup: {:?}", item.data);
    };
    let doc = TndsDocument::parse_xml(raw.to_xml().as_bytes()).unwrap();
    assert!(
        doc.tnds_violations(true).is_empty(),
        "{:?}",
        doc.tnds_violations(true)
    );
    assert_eq!(doc.tree.nodes.len(), 1);
    assert_eq!(doc.tree.nodes[0].name, "r1");
    assert_eq!(doc.tree.nodes[0].path.as_deref(), Some("."));
    let chr = Some(Format::Chr);
    let expected: BTreeMap<String, (Option<Format>, String)> = [
        ("./Schedule/r1/Task/Commands", chr, GET),
        (
            "./Schedule/r1/Task/Groups/low/Condition",
            chr,
            "./Vendor/Battery < 20",
        ),
        ("./Schedule/r1/Task/Groups/low/Commands", chr, SET),
        ("./Schedule/r1/Trigger/At", chr, "20261203T120000Z"),
        ("./Schedule/r1/Trigger/Every", Some(Format::Int), "3600"),
        ("./Schedule/r1/End/Count", Some(Format::Int), "3"),
        ("./Schedule/r1/Report/Mode", chr, "batch"),
    ]
    .into_iter()
    .map(|(p, f, v)| (p.to_string(), (f, v.to_string())))
    .collect();
    assert_eq!(tnds_leaves(&doc), expected);

    // Listed and shown; the job is an ordinary job of the device.
    let list = api
        .ok(
            Method::GET,
            "/devices/IMEI:1/schedules",
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(list, json!([answer["schedule"]]));
    let one = api.schedule().await;
    assert_eq!(one, answer["schedule"]);
    assert_eq!(api.store.jobs(DEV).unwrap(), vec![job]);
}

#[rstest]
#[case::slash_in_name(json!({"name": "a/b"}), "one node name")]
#[case::dot_name(json!({"name": "."}), "one node name")]
#[case::dotdot_name(json!({"name": ".."}), "one node name")]
#[case::empty_name(json!({"name": ""}), "one node name")]
#[case::query_in_name(json!({"name": "a?b"}), "query")]
#[case::report(json!({"report": "loud"}), "`report` is `loud`")]
#[case::prompt(json!({"prompt": "always"}), "`prompt` is `always`")]
#[case::state(json!({"state": "paused"}), "`state` is `paused`")]
#[case::at(json!({"at": "2026-12-03T12:00:00Z"}), "TStamp")]
#[case::until(json!({"until": "20261203T120000"}), "TStamp")]
#[case::every(json!({"every": 4_294_967_296_u64}), "int leaf")]
#[case::no_trigger(json!({"at": null, "every": null}), "needs a trigger")]
#[case::no_task(json!({"commands": null, "groups": []}), "needs a task")]
#[case::group_name(json!({"groups": [{"name": "a/b", "condition": "./X > 1", "commands": "<Get/>"}]}), "group name")]
#[case::group_twice(json!({"groups": [
    {"name": "g", "condition": "./X > 1", "commands": "<Get/>"},
    {"name": "g", "condition": "./X > 2", "commands": "<Get/>"}]}), "twice")]
#[tokio::test]
async fn invalid_definitions_are_400_and_queue_nothing(
    #[case] change: Value,
    #[case] message: &str,
) {
    let api = Api::new();
    let mut body = r1();
    for (k, v) in change.as_object().unwrap() {
        body[k] = v.clone();
    }
    let (status, _, answer) = api
        .call(Method::POST, "/devices/IMEI:1/schedules", Some(body))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(answer["error"]["kind"], "invalid_request");
    let text = answer["error"]["message"].as_str().unwrap();
    assert!(text.contains(message), "{text}");
    assert!(api.store.jobs(DEV).unwrap().is_empty());
    assert!(api.store.schedules(DEV).unwrap().is_empty());
}

#[tokio::test]
async fn other_request_errors_are_typed() {
    let api = Api::new();
    let mut unknown_field = r1();
    unknown_field["colour"] = json!("red");
    for (method, path, body, status, kind) in [
        (
            Method::POST,
            "/devices/IMEI:1/schedules",
            Some(unknown_field),
            400,
            "bad_json",
        ),
        (
            Method::POST,
            "/devices/IMEI:1/schedules",
            Some(json!({"name": "r1", "report": 3})),
            400,
            "bad_json",
        ),
        (
            Method::POST,
            "/devices/IMEI:9/schedules",
            Some(r1()),
            404,
            "unknown_device",
        ),
        (
            Method::GET,
            "/devices/IMEI:9/schedules",
            None,
            404,
            "unknown_device",
        ),
        (
            Method::GET,
            "/devices/IMEI:1/schedules/r1",
            None,
            404,
            "unknown_schedule",
        ),
        (
            Method::PUT,
            "/devices/IMEI:1/schedules/r1",
            Some(r1()),
            404,
            "unknown_schedule",
        ),
        (
            Method::DELETE,
            "/devices/IMEI:1/schedules/r1",
            None,
            404,
            "unknown_schedule",
        ),
        (
            Method::POST,
            "/devices/IMEI:1/schedules/r1/state",
            Some(json!({"state": "active"})),
            404,
            "unknown_schedule",
        ),
        (
            Method::GET,
            "/devices/IMEI:1/schedules/r1/reports",
            None,
            404,
            "unknown_schedule",
        ),
        (
            Method::PUT,
            "/devices/IMEI:1/schedules",
            Some(r1()),
            405,
            "method_not_allowed",
        ),
        (
            Method::GET,
            "/devices/IMEI:1/schedules/r1/state",
            None,
            405,
            "method_not_allowed",
        ),
    ] {
        let (got, _, answer) = api.call(method.clone(), path, body).await;
        assert_eq!(
            (got.as_u16(), answer["error"]["kind"].as_str()),
            (status, Some(kind)),
            "{method} {path}: {answer}"
        );
    }
    // A second create of a name the device holds (or is being sent) is 409.
    api.ok(
        Method::POST,
        "/devices/IMEI:1/schedules",
        Some(r1()),
        StatusCode::CREATED,
    )
    .await;
    let (got, _, answer) = api
        .call(Method::POST, "/devices/IMEI:1/schedules", Some(r1()))
        .await;
    assert_eq!(
        (got, answer["error"]["kind"].as_str()),
        (StatusCode::CONFLICT, Some("schedule_exists"))
    );
    // A PUT whose body names another schedule; a bad state value.
    let mut other = r1();
    other["name"] = json!("r2");
    let (got, _, answer) = api
        .call(Method::PUT, "/devices/IMEI:1/schedules/r1", Some(other))
        .await;
    assert_eq!(
        (got, answer["error"]["kind"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );
    let (got, _, answer) = api
        .call(
            Method::POST,
            "/devices/IMEI:1/schedules/r1/state",
            Some(json!({"state": "paused"})),
        )
        .await;
    assert_eq!(
        (got, answer["error"]["kind"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );
    assert_eq!(api.store.jobs(DEV).unwrap().len(), 1, "only the create");
}

/// docs/scheduling.md "Verification": the Add's Status is the verdict; 200 starts the
/// schedule (in the definition's State), anything else refuses it.
#[rstest]
#[case::accepted(200, None, "active", None)]
#[case::accepted_suspended(200, Some("suspended"), "suspended", None)]
#[case::no_right(425, None, "refused", Some(425))]
#[case::unsupported(406, None, "refused", Some(406))]
#[case::malformed(415, None, "refused", Some(415))]
#[case::user_said_no(304, None, "refused", Some(304))]
#[tokio::test]
async fn the_adds_status_is_the_verdict(
    #[case] code: u16,
    #[case] state: Option<&str>,
    #[case] expected: &str,
    #[case] last_error: Option<u16>,
) {
    let api = Api::new();
    let mut body = r1();
    if let Some(s) = state {
        body["state"] = json!(s);
    }
    let answer = api
        .ok(
            Method::POST,
            "/devices/IMEI:1/schedules",
            Some(body),
            StatusCode::CREATED,
        )
        .await;
    api.answer(job_of(&answer).id, code);
    let shown = api.schedule().await;
    assert_eq!(shown["state"], expected);
    assert_eq!(shown["verdict"], code);
    assert_eq!(shown["last_error"], json!(last_error));
    assert_eq!(shown["updated_at"], 50);
}

/// docs/scheduling.md "Life cycle" Modify: changed leaves are replaced, new ones added (their
/// interior nodes first), removed ones deleted (a removed group as a whole); a PUT that
/// changes nothing queues nothing.
#[tokio::test]
async fn modify_sends_replace_add_and_delete_for_what_changed() {
    let api = Api::new();
    create_accepted(&api).await;
    let new = json!({
        "commands": GET,
        "groups": [{"name": "high", "condition": "./Vendor/Battery > 80", "commands": SET}],
        "at": "20261203T120000Z",
        "every": 600,
        "when": "./Vendor/Mode == eco",
        "count": 3,
    });
    let answer = api
        .ok(
            Method::PUT,
            "/devices/IMEI:1/schedules/r1",
            Some(new.clone()),
            StatusCode::OK,
        )
        .await;
    let job = job_of(&answer);
    let s = |c: &str, t: &str| (c.to_string(), format!("./Schedule/r1/{t}"));
    assert_eq!(
        commands(&job),
        [
            s("Delete", "Report"),
            s("Delete", "Task/Groups/low"),
            s("Replace", "Trigger/Every"),
            s("Add", "Task/Groups/high"),
            s("Add", "Task/Groups/high/Commands"),
            s("Add", "Task/Groups/high/Condition"),
            s("Add", "Trigger/When"),
        ]
    );
    let Command::Replace(r) = &job.spec.commands[2] else {
        panic!()
    };
    let item = &r.items[0];
    assert_eq!(
        item.meta.as_ref().and_then(|m| m.format.as_deref()),
        Some("int")
    );
    assert_eq!(item.data.as_ref().and_then(Data::as_text), Some("600"));
    let Command::Add(a) = &job.spec.commands[3] else {
        panic!()
    };
    assert_eq!(
        a.items[0].meta.as_ref().and_then(|m| m.format.as_deref()),
        Some("node")
    );
    let mut stored = new.clone();
    stored["name"] = json!("r1");
    assert_eq!(answer["schedule"]["definition"], stored);
    assert_eq!(answer["schedule"]["state"], "active");
    assert_eq!(answer["schedule"]["jobs"].as_array().map(Vec::len), Some(2));

    // One refused item keeps its code as last_error; the schedule stays active.
    let mut updates = vec![JobUpdate::Sent {
        job: job.id,
        session_id: "2".into(),
    }];
    for (i, code) in [200, 200, 425, 200, 200, 200, 200].into_iter().enumerate() {
        updates.push(JobUpdate::Status {
            job: job.id,
            status: JobStatus {
                command: (i + 1).to_string(),
                cmd: job.spec.commands[i].name().into(),
                code,
                target_refs: vec![],
                source_refs: vec![],
                items: vec![],
                note: None,
            },
        });
    }
    api.store.apply_job_updates(&updates, 60).unwrap();
    let shown = api.store.schedule(DEV, "r1").unwrap();
    assert_eq!((shown.last_error, shown.verdict), (Some(425), Some(200)));
    assert_eq!(serde_json::to_value(shown.state).unwrap(), "active");

    // The same definition again: nothing to send.
    let same = api
        .ok(
            Method::PUT,
            "/devices/IMEI:1/schedules/r1",
            Some(new),
            StatusCode::OK,
        )
        .await;
    assert_eq!(same["job"], Value::Null);
    assert_eq!(api.store.jobs(DEV).unwrap().len(), 2);
}

/// A schedule the device refused is sent whole again by a PUT (one TNDS Add).
#[tokio::test]
async fn a_refused_schedule_is_created_again_by_put() {
    let api = Api::new();
    let created = api
        .ok(
            Method::POST,
            "/devices/IMEI:1/schedules",
            Some(r1()),
            StatusCode::CREATED,
        )
        .await;
    api.answer(job_of(&created).id, 425);
    let (got, _, answer) = api
        .call(
            Method::POST,
            "/devices/IMEI:1/schedules/r1/state",
            Some(json!({"state": "suspended"})),
        )
        .await;
    assert_eq!(
        (got, answer["error"]["kind"].as_str()),
        (StatusCode::CONFLICT, Some("schedule_not_on_device"))
    );
    let answer = api
        .ok(
            Method::PUT,
            "/devices/IMEI:1/schedules/r1",
            Some(r1()),
            StatusCode::OK,
        )
        .await;
    let job = job_of(&answer);
    assert_eq!(
        commands(&job),
        [("Add".to_string(), "./Schedule".to_string())]
    );
    assert_eq!(answer["schedule"]["state"], "requested");
    assert_eq!(answer["schedule"]["verdict"], Value::Null);
    api.answer(job.id, 200);
    assert_eq!(api.schedule().await["state"], "active");
}

/// docs/scheduling.md "Life cycle": suspend/resume/terminate replace `State` (the device
/// creates it when it adopts the schedule); the state moves on the 200.
#[tokio::test]
async fn state_changes_write_the_state_leaf() {
    let api = Api::new();
    create_accepted(&api).await;
    let path = "/devices/IMEI:1/schedules/r1/state";
    let answer = api
        .ok(
            Method::POST,
            path,
            Some(json!({"state": "suspended"})),
            StatusCode::OK,
        )
        .await;
    let job = job_of(&answer);
    assert_eq!(
        commands(&job),
        [("Replace".to_string(), "./Schedule/r1/State".to_string())]
    );
    let Command::Replace(a) = &job.spec.commands[0] else {
        panic!()
    };
    assert_eq!(
        a.items[0].data.as_ref().and_then(Data::as_text),
        Some("suspended")
    );
    assert_eq!(
        answer["schedule"]["state"], "active",
        "until the device answers"
    );
    api.answer(job.id, 200);
    let shown = api.schedule().await;
    assert_eq!(
        (
            shown["state"].as_str(),
            shown["definition"]["state"].as_str()
        ),
        (Some("suspended"), Some("suspended"))
    );

    let answer = api
        .ok(
            Method::POST,
            path,
            Some(json!({"state": "terminated"})),
            StatusCode::OK,
        )
        .await;
    let job = job_of(&answer);
    assert_eq!(
        commands(&job),
        [("Replace".to_string(), "./Schedule/r1/State".to_string())]
    );
    api.answer(job.id, 425);
    let shown = api.store.schedule(DEV, "r1").unwrap();
    assert_eq!(shown.last_error, Some(425));
    assert_eq!(
        serde_json::to_value(shown.state).unwrap(),
        "suspended",
        "refused: unchanged"
    );
}

/// docs/scheduling.md "Life cycle" Delete: `Delete ./Schedule/r1`; `deleted` once the device
/// answers 200; a refusal (e.g. 425 for another server's schedule) is kept as last_error.
#[tokio::test]
async fn delete_sends_delete_and_the_200_marks_it_deleted() {
    let api = Api::new();
    create_accepted(&api).await;
    let path = "/devices/IMEI:1/schedules/r1";
    let first = job_of(&api.ok(Method::DELETE, path, None, StatusCode::OK).await);
    assert_eq!(
        commands(&first),
        [("Delete".to_string(), "./Schedule/r1".to_string())]
    );
    api.answer(first.id, 425);
    let shown = api.ok(Method::GET, path, None, StatusCode::OK).await;
    assert_eq!(
        (shown["state"].as_str(), shown["last_error"].as_u64()),
        (Some("active"), Some(425))
    );
    let second = job_of(&api.ok(Method::DELETE, path, None, StatusCode::OK).await);
    api.answer(second.id, 200);
    let shown = api.ok(Method::GET, path, None, StatusCode::OK).await;
    assert_eq!(
        (shown["state"].as_str(), shown["last_error"].as_u64()),
        (Some("deleted"), None)
    );
    let (got, _, answer) = api.call(Method::DELETE, path, None).await;
    assert_eq!(
        (got, answer["error"]["kind"].as_str()),
        (StatusCode::CONFLICT, Some("schedule_not_on_device"))
    );
    // Deleted: the name can be created again.
    api.ok(
        Method::POST,
        "/devices/IMEI:1/schedules",
        Some(r1()),
        StatusCode::CREATED,
    )
    .await;
}

fn report_alert(source: &str, type_: &str, data: Option<&str>, at: u64) -> AlertRecord {
    AlertRecord {
        dev_id: DEV.into(),
        session_id: "5".into(),
        at,
        code: 1226,
        correlator: None,
        items: vec![AlertItem {
            source: Some(source.into()),
            target: None,
            type_: Some(type_.into()),
            format: Some("xml".into()),
            mark: None,
            data: data.map(str::to_string),
        }],
    }
}

/// docs/scheduling.md "Reports": a Generic Alert of type
/// `urn:dmconf:at:schedule:1.0:Report` from `./Schedule/<x>` is a report of `<x>` (also when
/// the server has no record of `<x>`), listed oldest first, its Data parsed leniently; it is
/// still an ordinary alert too. Other alerts are not reports.
#[tokio::test]
async fn report_alerts_are_stored_per_schedule() {
    let api = Api::new();
    api.ok(
        Method::POST,
        "/devices/IMEI:1/schedules",
        Some(r1()),
        StatusCode::CREATED,
    )
    .await;
    let data = "<Report><ResultCode>1200</ResultCode><Run>3</Run><Time>20261203T120000Z</Time>\
                <Group>low</Group><Results/></Report>";
    let r = dm_server::schedules::REPORT_TYPE;
    for alert in [
        report_alert("./Schedule/r1", r, Some(data), 10),
        // The same run delivered again (at least once): kept once.
        report_alert("./Schedule/r1", r, Some(data), 10),
        report_alert("./Schedule/r1", r, Some("<Report><ResultCode>1425"), 11),
        report_alert(
            "./Schedule/ghost",
            r,
            Some("<Report><ResultCode>1401</ResultCode><Run>1</Run></Report>"),
            12,
        ),
        report_alert("./Schedule/r1", "org.example.other", Some(data), 13),
        report_alert("./Other/r1", r, Some(data), 14),
    ] {
        api.store.add_alert(&alert).unwrap();
    }
    let reports = api
        .ok(
            Method::GET,
            "/devices/IMEI:1/schedules/r1/reports",
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(
        reports,
        json!([
            {"received": 10, "session": "5", "result_code": 1200, "run": 3,
             "time": "20261203T120000Z", "group": "low", "data": data},
            {"received": 11, "session": "5", "result_code": null, "run": null,
             "time": null, "group": null, "data": "<Report><ResultCode>1425"},
        ])
    );
    let ghost = api
        .ok(
            Method::GET,
            "/devices/IMEI:1/schedules/ghost/reports",
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(
        (ghost[0]["result_code"].as_u64(), ghost[0]["group"].clone()),
        (Some(1401), Value::Null)
    );
    assert_eq!(
        api.store.alerts(DEV).unwrap().len(),
        6,
        "every alert is still an alert (the repeat too)"
    );
}

/// A whole session with the reference client engine: the create job's TNDS Add is accepted
/// by a real tree (200 → active, verdict 200, the leaves exist), and a report alert sent in
/// package 1 is stored as a report; with no Add right on `./Schedule` the device answers 425
/// (facts §4.4) and the schedule is refused.
#[rstest]
#[case::accepted("Get=*&Add=*", "active", 200)]
#[case::no_add_right("Get=*", "refused", 425)]
#[tokio::test]
async fn a_session_delivers_the_schedule_and_brings_the_report(
    #[case] acl: &str,
    #[case] state: &str,
    #[case] verdict: u16,
) {
    use dm_client::session::{Initiation, Session, SessionConfig, Step};
    use dm_protocol::codec::{self, DecodeOptions, Encoding};
    use dm_server::endpoint::DmRequest;
    use dm_server::service::{DmService, ServiceConfig};
    use dm_tree::standard::{install, put_account, Account, DeviceIdentity};
    use dm_tree::{ManualClock, NewNode, NoHooks, Principal, Tree, TreeConfig};

    const URL: &str = "http://127.0.0.1:1/dm";
    let api = Api::new();
    api.ok(
        Method::POST,
        "/devices/IMEI:1/schedules",
        Some(r1()),
        StatusCode::CREATED,
    )
    .await;
    let svc = DmService::new(
        api.store.clone(),
        ServiceConfig {
            server_uri: URL.into(),
            max_msg_size: None,
            max_obj_size: None,
            faults: Default::default(),
            idle_timeout_secs: 60,
            seed: Some(7),
        },
        Arc::new(ManualClock::at(100)),
    )
    .unwrap();

    let mut tree = Tree::with_clock(TreeConfig::default(), Arc::new(ManualClock::at(1)));
    install(
        &mut tree,
        &DeviceIdentity {
            dev_id: DEV.into(),
            man: "Acme".into(),
            ..DeviceIdentity::default()
        },
    )
    .unwrap();
    put_account(
        &mut tree,
        &Account {
            node: "srvA".into(),
            server_id: "srvA".into(),
            name: "A".into(),
            addr: URL.into(),
            aauth_pref: String::new(),
            auth: vec![],
        },
    )
    .unwrap();
    tree.add(&Principal::Local, "./Schedule", NewNode::interior())
        .unwrap();
    tree.replace_prop(
        &Principal::Local,
        "./Schedule",
        dm_protocol::uri::Property::Acl,
        acl,
    )
    .unwrap();

    let report =
        "<Report><ResultCode>1200</ResultCode><Run>1</Run><Time>20261203T120000Z</Time></Report>";
    let mut client = Session::new(SessionConfig {
        session_id: "1C".into(),
        server_uri: URL.into(),
        server_id: "srvA".into(),
        initiation: Initiation::Client,
        client_auth: None,
        server_auth: None,
        max_msg_size: None,
        max_obj_size: None,
        alerts: vec![dm_protocol::model::Alert {
            cmd_id: "0".into(),
            code: Some(dm_protocol::codes::AlertCode::from_u16(1226)),
            items: vec![dm_protocol::model::Item {
                source: Some(dm_protocol::model::Locator {
                    loc_uri: "./Schedule/r0".into(),
                    loc_name: None,
                }),
                meta: Some(dm_protocol::model::Meta {
                    type_: Some(dm_server::schedules::REPORT_TYPE.into()),
                    format: Some("xml".into()),
                    ..Default::default()
                }),
                data: Some(Data::Text(report.into())),
                ..Default::default()
            }],
            ..Default::default()
        }],
        seed: 1,
        faults: Default::default(),
    });
    let mut msg = codec::encode(&client.start(&mut tree), Encoding::Xml).unwrap();
    for _ in 0..10 {
        let r = svc
            .handle(DmRequest {
                target: "/dm".into(),
                content_type: Some("application/vnd.syncml.dm+xml".into()),
                hmac: None,
                body: msg,
                peer: "127.0.0.1:9".parse().unwrap(),
            })
            .await;
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        let m = codec::decode(&r.body, DecodeOptions::LENIENT)
            .unwrap()
            .message;
        match client.handle(&mut tree, &m, &mut NoHooks) {
            Step::Send(m) => msg = codec::encode(&m, Encoding::Xml).unwrap(),
            Step::Finished(_) => break,
        }
    }
    let shown = api.schedule().await;
    assert_eq!(
        (shown["state"].as_str(), shown["verdict"].as_u64()),
        (Some(state), Some(u64::from(verdict)))
    );
    let every = tree.value_str("./Schedule/r1/Trigger/Every");
    if verdict == 200 {
        assert_eq!(
            every.as_deref(),
            Some("3600"),
            "the TNDS leaves are in the tree"
        );
        assert_eq!(
            tree.value_str("./Schedule/r1/Task/Groups/low/Condition")
                .as_deref(),
            Some("./Vendor/Battery < 20")
        );
    } else {
        assert_eq!(every, None, "all-or-nothing (facts §9.2)");
    }
    let reports = api
        .ok(
            Method::GET,
            "/devices/IMEI:1/schedules/r0/reports",
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(reports.as_array().map(Vec::len), Some(1), "{reports}");
    assert_eq!(reports[0]["result_code"], 1200);
    assert_eq!(reports[0]["session"], "1C");
    assert_eq!(reports[0]["data"], report);
}

/// A version-1 database (before schedules) is upgraded in place: its devices stay and the
/// schedule tables are added (docs/scheduling.md "The server side").
#[test]
fn a_version_1_database_gains_the_schedule_tables() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        store.add_device(&device(DEV)).unwrap();
    }
    {
        let conn = rusqlite::Connection::open(dir.path().join("server.db")).unwrap();
        conn.execute_batch(
            "DROP TABLE schedule_reports; DROP TABLE schedule_jobs; DROP TABLE schedules;
             DELETE FROM schema_version; INSERT INTO schema_version (version) VALUES (1);",
        )
        .unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.devices().unwrap(), vec![device(DEV)]);
    assert!(store.schedules(DEV).unwrap().is_empty());
    let conn = rusqlite::Connection::open(dir.path().join("server.db")).unwrap();
    let version: i64 = conn
        .query_row("SELECT max(version) FROM schema_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, dm_server::store::SCHEMA_VERSION);
    assert_eq!(version, 2);
}

/// The job and the schedule record are saved together or not at all; a device's removal
/// takes its schedules and reports with it.
#[test]
fn schedule_jobs_are_all_or_nothing_and_go_with_the_device() {
    use dm_server::schedules::{ScheduleAction, ScheduleDefinition};
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store.add_device(&device(DEV)).unwrap();
    let def: ScheduleDefinition = serde_json::from_value(r1()).unwrap();
    let empty = dm_server::model::JobSpec { commands: vec![] };
    assert!(store
        .add_schedule_job(DEV, "r1", Some(&def), &ScheduleAction::Create, &empty, 1)
        .is_err());
    assert!(store.schedules(DEV).unwrap().is_empty());
    assert!(store.jobs(DEV).unwrap().is_empty());
    // A change of a schedule the server does not know is refused.
    let spec = dm_server::schedules::delete_job("r1").unwrap();
    assert!(matches!(
        store.add_schedule_job(DEV, "r1", None, &ScheduleAction::Delete, &spec, 1),
        Err(dm_server::store::StoreError::UnknownSchedule { .. })
    ));
    let spec = dm_server::schedules::create_job(&def).unwrap();
    let (record, job) = store
        .add_schedule_job(DEV, "r1", Some(&def), &ScheduleAction::Create, &spec, 1)
        .unwrap();
    assert_eq!(record.jobs, vec![job.id]);
    store
        .add_alert(&report_alert(
            "./Schedule/r1",
            dm_server::schedules::REPORT_TYPE,
            None,
            2,
        ))
        .unwrap();
    assert_eq!(store.schedule_reports(DEV, "r1").unwrap().len(), 1);
    store.delete_device(DEV).unwrap();
    store.add_device(&device(DEV)).unwrap();
    assert!(store.schedules(DEV).unwrap().is_empty());
    assert!(store.schedule_reports(DEV, "r1").unwrap().is_empty());
}

/// `dm-server schedule list|show|reports` print the admin API's answers (exit 0), and an
/// unknown schedule is the API's refusal (exit 1).
#[tokio::test]
async fn the_schedule_cli_reads_the_admin_api() {
    let api = Api::new();
    api.ok(
        Method::POST,
        "/devices/IMEI:1/schedules",
        Some(r1()),
        StatusCode::CREATED,
    )
    .await;
    api.store
        .add_alert(&report_alert(
            "./Schedule/r1",
            dm_server::schedules::REPORT_TYPE,
            Some("<Report><ResultCode>1200</ResultCode></Report>"),
            9,
        ))
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(dm_server::admin::serve_admin(
        listener,
        api.admin.clone(),
        async move {
            let _ = stopped.await;
        },
    ));
    let run = |args: &'static [&'static str]| {
        let url = url.clone();
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_dm-server"))
                .arg("schedule")
                .args(args)
                .args(["--dev-id", DEV, "--admin-url", &url])
                .output()
                .unwrap()
        })
    };
    let list = run(&["list"]).await.unwrap();
    assert_eq!(list.status.code(), Some(0));
    let list: Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(list[0]["name"], "r1");
    let show = run(&["show", "--name", "r1"]).await.unwrap();
    let show: Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(show["state"], "requested");
    let reports = run(&["reports", "--name", "r1"]).await.unwrap();
    let reports: Value = serde_json::from_slice(&reports.stdout).unwrap();
    assert_eq!(reports[0]["result_code"], 1200);
    let missing = run(&["show", "--name", "nope"]).await.unwrap();
    assert_eq!(missing.status.code(), Some(1));
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

/// DMRD-6.1.7-3, DMRD-6.3.4-36: the server keeps a device's schedules, their state, the
/// device's verdict and the reports in its database; reopening it (a restart) loses none.
#[tokio::test]
async fn schedules_and_reports_survive_reopening_the_store() {
    let api = Api::new();
    create_accepted(&api).await;
    let data =
        "<Report><ResultCode>1200</ResultCode><Run>1</Run><Time>20261203T120000Z</Time></Report>";
    api.store
        .add_alert(&report_alert(
            "./Schedule/r1",
            dm_server::schedules::REPORT_TYPE,
            Some(data),
            20,
        ))
        .unwrap();
    let before = api.store.schedule(DEV, "r1").unwrap();
    let dir = api._dir.path().to_owned();
    let reopened = Store::open(&dir).unwrap();
    let after = reopened.schedule(DEV, "r1").unwrap();
    assert_eq!(after, before);
    assert_eq!(after.verdict, Some(200));
    let reports = reopened.schedule_reports(DEV, "r1").unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].run, Some(1));
}
