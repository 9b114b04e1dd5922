//! The `dm-server` binary: `serve` runs the reference DM server; the other commands are a
//! client of its admin API (docs/admin-api.md), usable against any server implementing that
//! contract. See `dm-server --help` and docs/reference-server.md.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use dm_protocol::model::{Command as DmCommand, Data, Exec, Item, ItemCommand, Locator};
use dm_server::admin::{serve_admin, Admin};
use dm_server::endpoint::{self, EndpointConfig};
use dm_server::faults::ServerFaults;
use dm_server::http_client::{path_segment, request, HttpClientError};
use dm_server::model::{AuthKind, Device, JobSpec, NotifyAddress, NotifyTransport, Secret};
use dm_server::notify::PackageNotifier;
use dm_server::service::{DmService, ServiceConfig};
use dm_server::store::Store;
use dm_server::tls::{self, TlsFiles};

/// The reference OMA DM 1.2 server, and a client of its admin API.
#[derive(Debug, Parser)]
#[command(
    name = "dm-server",
    version,
    about,
    long_about = None,
    after_help = "Exit codes: 0 success; 1 the admin API refused the request (its error is \\
                  printed); 2 usage or setup error; 3 the admin API could not be reached.\\n\\
                  Guide: docs/reference-server.md; admin API contract: docs/admin-api.md"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server: the DM endpoint (devices) and the admin API (tools), until Ctrl-C.
    ///
    /// Prints `dm <URL>` and `admin <URL>` once both listen (the real ports when 0 is
    /// given). Everything is kept in DIR/server.db; a killed server loses no job.
    Serve(ServeArgs),
    /// Write a test CA, a server certificate (for --tls-cert/--tls-key) and a device
    /// certificate into DIR. For local runs only.
    TestCa {
        /// The folder to write into.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// DNS names or IP addresses of the server certificate.
        #[arg(long = "name", value_name = "NAME", default_values_t = ["localhost".to_string(), "127.0.0.1".to_string()])]
        names: Vec<String>,
    },
    /// Register, list, show or delete devices.
    #[command(subcommand)]
    Device(DeviceCommand),
    /// Queue, list or show jobs.
    #[command(subcommand)]
    Job(JobCommand),
    /// Send a package #0 to a device so it opens a session.
    Notify {
        #[command(flatten)]
        api: Api,
        /// The device.
        #[arg(long, value_name = "DEV_ID")]
        dev_id: String,
        /// Which address: udp, tcp or http (default: the device's first).
        #[arg(long)]
        transport: Option<String>,
        /// not_specified, background, informative or user_interaction.
        #[arg(long, default_value = "background")]
        ui_mode: String,
        /// The session id, 1–65535 (default: the server picks one).
        #[arg(long)]
        session_id: Option<u16>,
    },
    /// List a device's sessions.
    Sessions {
        #[command(flatten)]
        api: Api,
        /// The device.
        #[arg(long, value_name = "DEV_ID")]
        dev_id: String,
    },
    /// Show one session with its transcript.
    Transcript {
        #[command(flatten)]
        api: Api,
        /// The device.
        #[arg(long, value_name = "DEV_ID")]
        dev_id: String,
        /// The SessionID.
        #[arg(long, value_name = "ID")]
        session: String,
    },
    /// List the alerts devices sent (one device with --dev-id).
    Alerts {
        #[command(flatten)]
        api: Api,
        /// Only this device.
        #[arg(long, value_name = "DEV_ID")]
        dev_id: Option<String>,
    },
    /// Read a device's schedules and their reports (docs/admin-api.md "Schedules").
    Schedule {
        #[command(subcommand)]
        action: ScheduleCommand,
    },
}

/// `dm-server schedule …`.
#[derive(Debug, Subcommand)]
enum ScheduleCommand {
    /// List a device's schedules: definition, state, the device's verdict.
    List {
        #[command(flatten)]
        api: Api,
        /// The device.
        #[arg(long, value_name = "DEV_ID")]
        dev_id: String,
    },
    /// Show one schedule.
    Show {
        #[command(flatten)]
        api: Api,
        /// The device.
        #[arg(long, value_name = "DEV_ID")]
        dev_id: String,
        /// The schedule's name (`./Schedule/<name>`).
        #[arg(long, value_name = "NAME")]
        name: String,
    },
    /// The reports the device sent for a schedule, oldest first.
    Reports {
        #[command(flatten)]
        api: Api,
        /// The device.
        #[arg(long, value_name = "DEV_ID")]
        dev_id: String,
        /// The schedule's name.
        #[arg(long, value_name = "NAME")]
        name: String,
    },
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// The data directory (created if missing).
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
    /// Address of the DM endpoint.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Address of the admin API.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8081")]
    admin: SocketAddr,
    /// TLS certificate chain (PEM); with --tls-key the endpoint speaks HTTPS.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Require device certificates issued by this CA (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_client_ca: Option<PathBuf>,
    /// The URL devices use (our Source/LocURI); default built from --listen.
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
    /// MaxMsgSize we announce.
    #[arg(long, value_name = "BYTES")]
    max_msg_size: Option<u64>,
    /// MaxObjSize we announce.
    #[arg(long, value_name = "BYTES")]
    max_obj_size: Option<u64>,
    /// Largest accepted request body; larger ones get HTTP 413.
    #[arg(long, value_name = "BYTES", default_value_t = 4 * 1024 * 1024)]
    max_body: usize,
    /// Seconds without a message before a session is ended.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    idle_timeout: u64,
    /// Seed of nonces and notification session ids (replayable runs).
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// A fault-injection switch (repeatable): accept_bad_credentials, ignore_msg_ref,
    /// never_final, no_status_for_alerts, stale_nonce, no_server_credentials,
    /// commands_in_next_message_response, no_tls (with --tls-cert: plain HTTP behind the
    /// https URL).
    #[arg(long = "fault", value_name = "NAME")]
    faults: Vec<String>,
    /// The key id of the software-originator key that signs hosted packages (its key is
    /// made in the data directory at first use; GET /originator shows the public key).
    #[arg(long, value_name = "ID", default_value = "dm-server")]
    originator_id: String,
}

/// Where the admin API is.
#[derive(Debug, Args)]
struct Api {
    /// The admin API's base URL.
    #[arg(
        long = "admin-url",
        value_name = "URL",
        env = "DM_SERVER_ADMIN",
        default_value = "http://127.0.0.1:8081"
    )]
    url: String,
}

#[derive(Debug, Subcommand)]
enum DeviceCommand {
    /// Register a device.
    Add {
        #[command(flatten)]
        api: Api,
        /// The whole device as JSON (the admin API's Device); replaces the flags below.
        #[arg(long, value_name = "FILE", conflicts_with_all = ["dev_id", "server_id"])]
        json: Option<PathBuf>,
        /// The device's DevId.
        #[arg(long, value_name = "DEV_ID", required_unless_present = "json")]
        dev_id: Option<String>,
        /// Our ServerID on the device.
        #[arg(long, value_name = "ID", required_unless_present = "json")]
        server_id: Option<String>,
        /// What the device must present: TYPE:NAME:SECRET, TYPE = basic, md5 or hmac.
        #[arg(long, value_name = "TYPE:NAME:SECRET")]
        client_auth: Option<String>,
        /// What the server presents: TYPE:NAME:SECRET.
        #[arg(long, value_name = "TYPE:NAME:SECRET")]
        server_auth: Option<String>,
        /// A notification address, TRANSPORT:ADDRESS (udp:host:port, tcp:host:port,
        /// http:URL); repeatable.
        #[arg(long, value_name = "TRANSPORT:ADDRESS")]
        notify: Vec<String>,
    },
    /// List the devices.
    List {
        #[command(flatten)]
        api: Api,
    },
    /// Show a device and its state.
    Show {
        #[command(flatten)]
        api: Api,
        /// The device.
        dev_id: String,
    },
    /// Delete a device and everything of it.
    Delete {
        #[command(flatten)]
        api: Api,
        /// The device.
        dev_id: String,
    },
}

#[derive(Debug, Subcommand)]
enum JobCommand {
    /// Queue a job for a device's next session.
    Add {
        #[command(flatten)]
        api: Api,
        /// The device.
        #[arg(long, value_name = "DEV_ID")]
        dev_id: String,
        /// A Get of this URI (repeatable).
        #[arg(long, value_name = "URI")]
        get: Vec<String>,
        /// A Replace, URI=VALUE (repeatable).
        #[arg(long, value_name = "URI=VALUE")]
        replace: Vec<String>,
        /// An Exec of this URI.
        #[arg(long, value_name = "URI")]
        exec: Vec<String>,
        /// The whole job as JSON (the admin API's JobSpec); replaces the flags above.
        #[arg(long, value_name = "FILE", conflicts_with_all = ["get", "replace", "exec"])]
        json: Option<PathBuf>,
    },
    /// Show a job with its statuses and results.
    Show {
        #[command(flatten)]
        api: Api,
        /// The job id.
        id: u64,
    },
    /// List a device's jobs.
    List {
        #[command(flatten)]
        api: Api,
        /// The device.
        #[arg(long, value_name = "DEV_ID")]
        dev_id: String,
    },
}

enum Failure {
    Refused(String),
    Usage(String),
    Unreachable(String),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("dm-server: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match rt.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            let (code, msg) = match f {
                Failure::Refused(m) => (1, m),
                Failure::Usage(m) => (2, m),
                Failure::Unreachable(m) => (3, m),
            };
            eprintln!("dm-server: {msg}");
            ExitCode::from(code)
        }
    }
}

async fn run(cmd: Command) -> Result<(), Failure> {
    match cmd {
        Command::Serve(args) => serve(args).await,
        Command::TestCa { out, names } => {
            let ca =
                tls::generate_test_ca(&out, &names).map_err(|e| Failure::Usage(e.to_string()))?;
            println!("ca {}", ca.ca_cert.display());
            println!("server-cert {}", ca.server_cert.display());
            println!("server-key {}", ca.server_key.display());
            println!("client-cert {}", ca.client_cert.display());
            println!("client-key {}", ca.client_key.display());
            Ok(())
        }
        Command::Device(d) => device(d).await,
        Command::Job(j) => job(j).await,
        Command::Notify {
            api,
            dev_id,
            transport,
            ui_mode,
            session_id,
        } => {
            let mut body = serde_json::json!({ "ui_mode": ui_mode });
            if let Some(t) = transport {
                body["transport"] = t.into();
            }
            if let Some(s) = session_id {
                body["session_id"] = s.into();
            }
            call(
                &api,
                "POST",
                &format!("/devices/{}/notify", path_segment(&dev_id)),
                Some(body),
            )
            .await
        }
        Command::Sessions { api, dev_id } => {
            call(
                &api,
                "GET",
                &format!("/devices/{}/sessions", path_segment(&dev_id)),
                None,
            )
            .await
        }
        Command::Transcript {
            api,
            dev_id,
            session,
        } => {
            let path = format!(
                "/sessions/{}/{}",
                path_segment(&dev_id),
                path_segment(&session)
            );
            call(&api, "GET", &path, None).await
        }
        Command::Alerts { api, dev_id } => {
            let path = match dev_id {
                Some(d) => format!("/devices/{}/alerts", path_segment(&d)),
                None => "/alerts".into(),
            };
            call(&api, "GET", &path, None).await
        }
        Command::Schedule { action } => {
            let (api, path) = match action {
                ScheduleCommand::List { api, dev_id } => {
                    let path = format!("/devices/{}/schedules", path_segment(&dev_id));
                    (api, path)
                }
                ScheduleCommand::Show { api, dev_id, name } => {
                    let path = format!(
                        "/devices/{}/schedules/{}",
                        path_segment(&dev_id),
                        path_segment(&name)
                    );
                    (api, path)
                }
                ScheduleCommand::Reports { api, dev_id, name } => {
                    let path = format!(
                        "/devices/{}/schedules/{}/reports",
                        path_segment(&dev_id),
                        path_segment(&name)
                    );
                    (api, path)
                }
            };
            call(&api, "GET", &path, None).await
        }
    }
}

async fn serve(a: ServeArgs) -> Result<(), Failure> {
    let usage = |e: &dyn std::fmt::Display| Failure::Usage(e.to_string());
    let store = Store::open(&a.data).map_err(|e| usage(&e))?;
    let mut faults = ServerFaults::default();
    for f in &a.faults {
        faults = with_fault(faults, f)?;
    }
    let tls = match (&a.tls_cert, &a.tls_key) {
        (Some(cert), Some(key)) if faults.no_tls => {
            // Fault injection: the material is checked, then not used.
            tls::server_config(&TlsFiles {
                cert: cert.clone(),
                key: key.clone(),
                client_ca: a.tls_client_ca.clone(),
            })
            .map_err(|e| usage(&e))?;
            None
        }
        (Some(cert), Some(key)) => Some(tokio_rustls::TlsAcceptor::from(
            tls::server_config(&TlsFiles {
                cert: cert.clone(),
                key: key.clone(),
                client_ca: a.tls_client_ca.clone(),
            })
            .map_err(|e| usage(&e))?,
        )),
        _ => None,
    };
    let dm_listener = tokio::net::TcpListener::bind(a.listen)
        .await
        .map_err(|e| Failure::Usage(format!("cannot listen on {}: {e}", a.listen)))?;
    let admin_listener = tokio::net::TcpListener::bind(a.admin)
        .await
        .map_err(|e| Failure::Usage(format!("cannot listen on {}: {e}", a.admin)))?;
    let dm_addr = dm_listener.local_addr().map_err(|e| usage(&e))?;
    let admin_addr = admin_listener.local_addr().map_err(|e| usage(&e))?;
    let scheme = if tls.is_some() || (faults.no_tls && a.tls_cert.is_some()) {
        "https"
    } else {
        "http"
    };
    let public = a
        .public_url
        .clone()
        .unwrap_or_else(|| format!("{scheme}://{dm_addr}/dm"));
    let clock: Arc<dyn dm_tree::Clock> = Arc::new(dm_tree::SystemClock);
    let service = Arc::new(
        DmService::new(
            store.clone(),
            ServiceConfig {
                server_uri: public.clone(),
                max_msg_size: a.max_msg_size,
                max_obj_size: a.max_obj_size,
                faults,
                idle_timeout_secs: a.idle_timeout,
                seed: a.seed,
            },
            clock,
        )
        .map_err(|e| usage(&e))?,
    );
    let notifier = Arc::new(PackageNotifier::new(Duration::from_secs(10), a.seed));
    let admin = Admin::new(store, notifier)
        .with_originator_id(&a.originator_id)
        .with_public_base(dm_server::packages::url_base(&public));
    tokio::spawn(endpoint::serve(
        dm_listener,
        tls,
        EndpointConfig {
            max_body: a.max_body,
            ..EndpointConfig::default()
        },
        Arc::new(service.clone()),
    ));
    let reaper = service.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if let Err(e) = reaper.reap().await {
                eprintln!("dm-server: ending idle sessions failed: {e}");
            }
        }
    });
    println!("dm {public}");
    println!("admin http://{admin_addr}");
    let stop = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    serve_admin(admin_listener, admin, stop)
        .await
        .map_err(|e| Failure::Usage(format!("the admin API stopped: {e}")))
}

fn with_fault(mut f: ServerFaults, name: &str) -> Result<ServerFaults, Failure> {
    let slot = match name {
        "accept_bad_credentials" => &mut f.accept_bad_credentials,
        "ignore_msg_ref" => &mut f.ignore_msg_ref,
        "never_final" => &mut f.never_final,
        "no_status_for_alerts" => &mut f.no_status_for_alerts,
        "stale_nonce" => &mut f.stale_nonce,
        "no_server_credentials" => &mut f.no_server_credentials,
        "commands_in_next_message_response" => &mut f.commands_in_next_message_response,
        "no_tls" => &mut f.no_tls,
        other => {
            return Err(Failure::Usage(format!(
                "unknown fault {other:?}; see `dm-server serve --help` for the list"
            )))
        }
    };
    *slot = true;
    Ok(f)
}

/// Call the admin API and print its JSON answer.
async fn call(
    api: &Api,
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
) -> Result<(), Failure> {
    let url = format!("{}{path}", api.url.trim_end_matches('/'));
    let (ct, bytes) = match &body {
        Some(v) => (Some("application/json"), v.to_string().into_bytes()),
        None => (None, Vec::new()),
    };
    let answer = request(method, &url, ct, bytes)
        .await
        .map_err(|e| match e {
            HttpClientError::Url { .. } => Failure::Usage(e.to_string()),
            other => Failure::Unreachable(other.to_string()),
        })?;
    let text = String::from_utf8_lossy(&answer.body).into_owned();
    let pretty = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or(text);
    if (200..300).contains(&answer.status) {
        if !pretty.is_empty() {
            println!("{pretty}");
        }
        Ok(())
    } else {
        Err(Failure::Refused(format!(
            "HTTP {}: {pretty}",
            answer.status
        )))
    }
}

fn secret(text: &str) -> Result<Secret, Failure> {
    let mut parts = text.splitn(3, ':');
    let (Some(kind), Some(name), Some(secret)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(Failure::Usage(format!(
            "{text:?}: give credentials as TYPE:NAME:SECRET, e.g. md5:device:pw"
        )));
    };
    let kind = match kind {
        "basic" => AuthKind::Basic,
        "md5" => AuthKind::Md5,
        "hmac" => AuthKind::Hmac,
        other => {
            return Err(Failure::Usage(format!(
                "{other:?}: the credential type is basic, md5 or hmac"
            )))
        }
    };
    Ok(Secret {
        kind,
        name: name.into(),
        secret: secret.into(),
    })
}

fn address(text: &str) -> Result<NotifyAddress, Failure> {
    let (t, addr) = text.split_once(':').ok_or_else(|| {
        Failure::Usage(format!(
            "{text:?}: give TRANSPORT:ADDRESS, e.g. udp:127.0.0.1:2948"
        ))
    })?;
    let transport = match t {
        "udp" => NotifyTransport::Udp,
        "tcp" => NotifyTransport::Tcp,
        "http" => NotifyTransport::Http,
        other => {
            return Err(Failure::Usage(format!(
                "{other:?}: the transport is udp, tcp or http"
            )))
        }
    };
    Ok(NotifyAddress {
        transport,
        address: addr.into(),
    })
}

fn read_json(path: &std::path::Path) -> Result<serde_json::Value, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::Usage(format!("cannot read {}: {e}", path.display())))?;
    serde_json::from_str(&text)
        .map_err(|e| Failure::Usage(format!("{} is not JSON: {e}", path.display())))
}

async fn device(cmd: DeviceCommand) -> Result<(), Failure> {
    match cmd {
        DeviceCommand::Add {
            api,
            json,
            dev_id,
            server_id,
            client_auth,
            server_auth,
            notify,
        } => {
            let body = match json {
                Some(path) => read_json(&path)?,
                None => {
                    let d = Device {
                        dev_id: dev_id.unwrap_or_default(),
                        server_id: server_id.unwrap_or_default(),
                        client_auth: client_auth.as_deref().map(secret).transpose()?,
                        server_auth: server_auth.as_deref().map(secret).transpose()?,
                        notify: notify
                            .iter()
                            .map(|n| address(n))
                            .collect::<Result<_, _>>()?,
                    };
                    serde_json::to_value(&d).map_err(|e| Failure::Usage(e.to_string()))?
                }
            };
            call(&api, "POST", "/devices", Some(body)).await
        }
        DeviceCommand::List { api } => call(&api, "GET", "/devices", None).await,
        DeviceCommand::Show { api, dev_id } => {
            call(
                &api,
                "GET",
                &format!("/devices/{}", path_segment(&dev_id)),
                None,
            )
            .await
        }
        DeviceCommand::Delete { api, dev_id } => {
            call(
                &api,
                "DELETE",
                &format!("/devices/{}", path_segment(&dev_id)),
                None,
            )
            .await
        }
    }
}

fn item_command(uri: &str, data: Option<&str>) -> ItemCommand {
    ItemCommand {
        items: vec![Item {
            target: Some(Locator::uri(uri)),
            data: data.map(|d| Data::Text(d.to_owned())),
            ..Item::default()
        }],
        ..ItemCommand::default()
    }
}

async fn job(cmd: JobCommand) -> Result<(), Failure> {
    match cmd {
        JobCommand::Add {
            api,
            dev_id,
            get,
            replace,
            exec,
            json,
        } => {
            let body = match json {
                Some(path) => read_json(&path)?,
                None => {
                    let mut commands = Vec::new();
                    for uri in &get {
                        commands.push(DmCommand::Get(item_command(uri, None)));
                    }
                    for r in &replace {
                        let (uri, value) = r.split_once('=').ok_or_else(|| {
                            Failure::Usage(format!("{r:?}: give --replace URI=VALUE"))
                        })?;
                        commands.push(DmCommand::Replace(item_command(uri, Some(value))));
                    }
                    for uri in &exec {
                        let exec = item_command(uri, None);
                        commands.push(DmCommand::Exec(Exec {
                            items: exec.items,
                            ..Exec::default()
                        }));
                    }
                    if commands.is_empty() {
                        return Err(Failure::Usage(
                            "a job needs at least one command: --get, --replace, --exec or --json"
                                .into(),
                        ));
                    }
                    serde_json::to_value(JobSpec { commands })
                        .map_err(|e| Failure::Usage(e.to_string()))?
                }
            };
            call(
                &api,
                "POST",
                &format!("/devices/{}/jobs", path_segment(&dev_id)),
                Some(body),
            )
            .await
        }
        JobCommand::Show { api, id } => call(&api, "GET", &format!("/jobs/{id}"), None).await,
        JobCommand::List { api, dev_id } => {
            call(
                &api,
                "GET",
                &format!("/devices/{}/jobs", path_segment(&dev_id)),
                None,
            )
            .await
        }
    }
}
