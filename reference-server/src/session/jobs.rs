//! The jobs of one session: what is still to send, which of our CmdIDs belongs to which
//! command of which job, and when a job is done (issue item 4).
//!
//! Positions name a command inside its job: `1`, `2`, … for top-level commands, `2.1` for
//! the first command inside the second (an Atomic or Sequence). A Status is attributed by
//! (`MsgRef`, `CmdRef`) — the MsgID and CmdID we sent the command with (facts §1.4); a
//! Results by its `CmdRef` and `MsgRef`. A job is done when every command has a Status,
//! every successful Get has its Results, and every Exec answered 202 has been completed by a
//! Generic Alert carrying its Correlator (facts §3.5).

use std::collections::{BTreeMap, HashMap};

use dm_protocol::codes::StatusCode;
use dm_protocol::model::{Command, Data, Item, Meta, Status};

use crate::model::{AlertRecord, Job, JobResult, JobState, JobStatus, JobUpdate};

/// Where a command of a job is: the job's index in the book and the command's position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Origin {
    /// Index into the book.
    pub job: usize,
    /// Position inside the job (`1`, `2.1`, …).
    pub position: String,
}

/// One command of a job as tracked in this session.
#[derive(Debug, Clone, Default)]
struct CmdTrack {
    name: String,
    status: Option<StatusCode>,
    got_results: bool,
    correlator: Option<String>,
    /// Answered 202 and not completed yet (facts §3.5).
    waiting: bool,
}

impl CmdTrack {
    fn complete(&self) -> bool {
        let Some(code) = self.status else {
            return false;
        };
        let results_ok = !(self.name == "Get" && code == StatusCode::Ok) || self.got_results;
        results_ok && !self.waiting
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Not sent in this session yet.
    Unsent,
    /// Sent; statuses missing.
    InFlight,
    /// Everything but an asynchronous completion arrived.
    Waiting,
    /// Complete.
    Done,
}

#[derive(Debug, Clone)]
struct Tracked {
    id: u64,
    commands: Vec<Command>,
    phase: Phase,
    /// Went out in this session (even if it must go again).
    was_sent: bool,
    cmds: BTreeMap<String, CmdTrack>,
}

/// The jobs of one session. See the module documentation.
#[derive(Debug, Default)]
pub(super) struct JobBook {
    jobs: Vec<Tracked>,
    /// (our MsgID, our CmdID) → the command.
    sent: HashMap<(String, String), Origin>,
}

/// The Correlator the engine gives an Exec that has none, so its Generic Alert can be
/// matched to the job in this or a later session (facts §3.5).
pub(super) fn default_correlator(job: u64, position: &str) -> String {
    format!("job-{job}-{position}")
}

/// Give every Exec of `commands` a Correlator (see [`default_correlator`]).
fn with_correlators(job: u64, commands: &mut [Command], prefix: &str) {
    for (k, c) in commands.iter_mut().enumerate() {
        let position = position_of(prefix, k);
        match c {
            Command::Exec(e) if e.correlator.is_none() => {
                e.correlator = Some(default_correlator(job, &position));
            }
            Command::Atomic(ct) | Command::Sequence(ct) => {
                with_correlators(job, &mut ct.commands, &position);
            }
            _ => {}
        }
    }
}

fn position_of(prefix: &str, k: usize) -> String {
    if prefix.is_empty() {
        (k + 1).to_string()
    } else {
        format!("{prefix}.{}", k + 1)
    }
}

fn tracks(commands: &[Command], prefix: &str, out: &mut BTreeMap<String, CmdTrack>) {
    for (k, c) in commands.iter().enumerate() {
        let position = position_of(prefix, k);
        let correlator = match c {
            Command::Exec(e) => e.correlator.clone(),
            _ => None,
        };
        out.insert(
            position.clone(),
            CmdTrack {
                name: c.name().to_owned(),
                correlator,
                ..CmdTrack::default()
            },
        );
        if let Command::Atomic(ct) | Command::Sequence(ct) = c {
            tracks(&ct.commands, &position, out);
        }
    }
}

/// The text form of a Results item's data for [`JobResult::data`].
fn data_text(d: Option<&Data>) -> (String, bool) {
    match d {
        None => (String::new(), false),
        Some(Data::Text(t)) => (t.clone(), false),
        Some(Data::Binary(b)) => (dm_protocol::auth::b64(b), true),
        Some(Data::Markup(m)) => (m.to_xml(), false),
    }
}

/// A [`JobResult`] for one Results item (item Meta overrides the Results Meta, facts §1.5).
pub(super) fn job_result(position: &str, meta: Option<&Meta>, item: &Item) -> JobResult {
    let im = item.meta.as_ref();
    let (data, binary) = data_text(item.data.as_ref());
    let format = im
        .and_then(|m| m.format.clone())
        .or_else(|| meta.and_then(|m| m.format.clone()));
    JobResult {
        command: position.to_owned(),
        source: item.source.as_ref().map(|l| l.loc_uri.clone()),
        format: if binary { Some("b64".into()) } else { format },
        type_: im
            .and_then(|m| m.type_.clone())
            .or_else(|| meta.and_then(|m| m.type_.clone())),
        data,
    }
}

impl JobBook {
    /// Track `jobs`: Queued, Interrupted and Sent ones are (re)sent; Waiting ones only wait
    /// for their Generic Alerts; the others are ignored.
    pub fn new(jobs: Vec<Job>) -> Self {
        let mut book = JobBook::default();
        for job in jobs {
            book.add(job);
        }
        book
    }

    /// Track one more job (e.g. queued in the middle of a session for a device's request):
    /// Queued, Interrupted and Sent ones are (re)sent; Waiting ones only wait for their
    /// Generic Alerts; the others are ignored.
    pub fn add(&mut self, job: Job) {
        let phase = match job.state {
            JobState::Queued | JobState::Interrupted | JobState::Sent => Phase::Unsent,
            JobState::Waiting => Phase::Waiting,
            JobState::Done | JobState::Cancelled => return,
        };
        let mut commands = job.spec.commands.clone();
        with_correlators(job.id, &mut commands, "");
        let mut cmds = BTreeMap::new();
        tracks(&commands, "", &mut cmds);
        if phase == Phase::Waiting {
            // Waiting from an earlier session: the Execs answered 202 and not completed.
            for st in &job.statuses {
                if let Some(t) = cmds.get_mut(&st.command) {
                    t.status = Some(StatusCode::from_u16(st.code));
                    let done = t.correlator.as_ref().is_some_and(|c| {
                        job.completions
                            .iter()
                            .any(|a| a.correlator.as_ref() == Some(c))
                    });
                    t.waiting = st.code == 202 && t.name == "Exec" && !done;
                    t.got_results = true;
                }
            }
            for t in cmds.values_mut() {
                if t.status.is_none() {
                    t.status = Some(StatusCode::Ok);
                    t.got_results = true;
                }
            }
        }
        self.jobs.push(Tracked {
            id: job.id,
            commands,
            phase,
            was_sent: false,
            cmds,
        });
    }

    /// The commands of every unsent job, in order, each with its origin; the jobs become
    /// Sent (`JobUpdate::Sent`).
    pub fn take_unsent(
        &mut self,
        session_id: &str,
        updates: &mut Vec<JobUpdate>,
    ) -> Vec<(Command, Origin)> {
        let mut out = Vec::new();
        for (idx, j) in self.jobs.iter_mut().enumerate() {
            if j.phase != Phase::Unsent {
                continue;
            }
            j.phase = Phase::InFlight;
            j.was_sent = true;
            // `Sent` carries the state change (the store refuses a separate move to Sent).
            updates.push(JobUpdate::Sent {
                job: j.id,
                session_id: session_id.to_owned(),
            });
            for (k, c) in j.commands.iter().enumerate() {
                out.push((
                    c.clone(),
                    Origin {
                        job: idx,
                        position: position_of("", k),
                    },
                ));
            }
        }
        out
    }

    /// Remember that the command at `origin` went out as CmdID `cmd_id` of our message
    /// `msg_id`.
    pub fn register(&mut self, msg_id: &str, cmd_id: &str, origin: Origin) {
        self.sent
            .insert((msg_id.to_owned(), cmd_id.to_owned()), origin);
    }

    /// The command our (`msg_id`, `cmd_id`) was, if it belongs to a job.
    pub fn origin(&self, msg_id: &str, cmd_id: &str) -> Option<&Origin> {
        self.sent.get(&(msg_id.to_owned(), cmd_id.to_owned()))
    }

    /// Our CmdIDs of message `msg_id` that still wait for a Status.
    pub fn missing_statuses(&self, msg_id: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .sent
            .iter()
            .filter(|((m, _), o)| {
                m == msg_id
                    && self
                        .jobs
                        .get(o.job)
                        .and_then(|j| j.cmds.get(&o.position))
                        .is_some_and(|t| t.status.is_none())
            })
            .map(|((_, c), _)| c.clone())
            .collect();
        v.sort();
        v
    }

    /// A Status for a job command. Returns false when (`MsgRef`, `CmdRef`) names no job
    /// command. A 213 (chunk accepted, facts §8) is not recorded: only the status of the
    /// whole object counts.
    pub fn on_status(&mut self, st: &Status, updates: &mut Vec<JobUpdate>) -> bool {
        let Some(origin) = self.origin(&st.msg_ref, &st.cmd_ref).cloned() else {
            return false;
        };
        if st.code == StatusCode::ChunkedItemAccepted {
            return true;
        }
        let Some(j) = self.jobs.get_mut(origin.job) else {
            return false;
        };
        let Some(t) = j.cmds.get_mut(&origin.position) else {
            return false;
        };
        if t.status.is_none() {
            t.status = Some(st.code);
            // facts §3.5, §4.5: 202 on an Exec → completed later by a Generic Alert.
            t.waiting = t.name == "Exec" && st.code == StatusCode::Accepted;
        }
        updates.push(JobUpdate::Status {
            job: j.id,
            status: JobStatus {
                command: origin.position.clone(),
                cmd: st.cmd.clone(),
                code: st.code.as_u16(),
                target_refs: st.target_refs.clone(),
                source_refs: st.source_refs.clone(),
                items: st
                    .items
                    .iter()
                    .map(|i| data_text(i.data.as_ref()).0)
                    .collect(),
                note: None,
            },
        });
        Self::settle(j, updates);
        true
    }

    /// A job command the server does not send: it (and every command inside it) gets
    /// `code` from the server itself, with `note` saying why.
    pub fn refuse(
        &mut self,
        origin: &Origin,
        cmd: &str,
        code: StatusCode,
        note: &str,
        updates: &mut Vec<JobUpdate>,
    ) {
        let Some(j) = self.jobs.get_mut(origin.job) else {
            return;
        };
        let nested = format!("{}.", origin.position);
        for (pos, t) in j.cmds.iter_mut() {
            if *pos == origin.position || pos.starts_with(&nested) {
                t.status.get_or_insert(code);
                t.waiting = false;
            }
        }
        updates.push(JobUpdate::Status {
            job: j.id,
            status: JobStatus {
                command: origin.position.clone(),
                cmd: cmd.to_owned(),
                code: code.as_u16(),
                target_refs: Vec::new(),
                source_refs: Vec::new(),
                items: Vec::new(),
                note: Some(note.to_owned()),
            },
        });
        Self::settle(j, updates);
    }

    /// A Results item for the Get our (`msg_ref`, `cmd_ref`) was. Returns false when it
    /// names no job Get.
    pub fn on_result(
        &mut self,
        msg_ref: &str,
        cmd_ref: &str,
        meta: Option<&Meta>,
        item: &Item,
        updates: &mut Vec<JobUpdate>,
    ) -> bool {
        let Some((origin, j)) = self.job_get(msg_ref, cmd_ref) else {
            return false;
        };
        if let Some(t) = j.cmds.get_mut(&origin.position) {
            t.got_results = true;
        }
        updates.push(JobUpdate::Result {
            job: j.id,
            result: job_result(&origin.position, meta, item),
        });
        Self::settle(j, updates);
        true
    }

    /// The job Get our (`msg_ref`, `cmd_ref`) was, with its job.
    fn job_get(&mut self, msg_ref: &str, cmd_ref: &str) -> Option<(Origin, &mut Tracked)> {
        let origin = self.origin(msg_ref, cmd_ref).cloned()?;
        let j = self.jobs.get_mut(origin.job)?;
        (j.cmds.get(&origin.position)?.name == "Get").then_some((origin, j))
    }

    /// The server refused the Results of the Get our (`msg_ref`, `cmd_ref`) was (e.g. an
    /// object over our MaxObjSize, facts §8): the Get gets `code` from the server with
    /// `note` and needs no Results any more. Returns false when it names no job Get.
    pub fn refuse_result(
        &mut self,
        msg_ref: &str,
        cmd_ref: &str,
        code: StatusCode,
        note: &str,
        updates: &mut Vec<JobUpdate>,
    ) -> bool {
        let Some((origin, j)) = self.job_get(msg_ref, cmd_ref) else {
            return false;
        };
        if let Some(t) = j.cmds.get_mut(&origin.position) {
            t.got_results = true;
            t.status.get_or_insert(code);
        }
        updates.push(JobUpdate::Status {
            job: j.id,
            status: JobStatus {
                command: origin.position.clone(),
                cmd: "Get".to_owned(),
                code: code.as_u16(),
                target_refs: Vec::new(),
                source_refs: Vec::new(),
                items: Vec::new(),
                note: Some(note.to_owned()),
            },
        });
        Self::settle(j, updates);
        true
    }

    /// A Generic Alert with a Correlator (facts §3.5): completes the job's Exec waiting for
    /// it. Returns whether a job took it.
    pub fn on_completion(&mut self, alert: &AlertRecord, updates: &mut Vec<JobUpdate>) -> bool {
        let Some(corr) = alert.correlator.as_deref() else {
            return false;
        };
        for j in &mut self.jobs {
            let hit = j
                .cmds
                .values_mut()
                .find(|t| t.waiting && t.correlator.as_deref() == Some(corr));
            if let Some(t) = hit {
                t.waiting = false;
                updates.push(JobUpdate::Completion {
                    job: j.id,
                    alert: alert.clone(),
                });
                Self::settle(j, updates);
                return true;
            }
        }
        false
    }

    /// Send the job again from the start: the device refused our credentials, so it executed
    /// nothing of what we sent in our message `msg_id` (facts §6.2).
    pub fn resend_from(&mut self, msg_id: &str) {
        let hit: Vec<usize> = self
            .sent
            .iter()
            .filter(|((m, _), _)| m == msg_id)
            .map(|(_, o)| o.job)
            .collect();
        for idx in hit {
            if let Some(j) = self.jobs.get_mut(idx) {
                if j.phase == Phase::InFlight {
                    j.phase = Phase::Unsent;
                    for t in j.cmds.values_mut() {
                        *t = CmdTrack {
                            name: t.name.clone(),
                            correlator: t.correlator.clone(),
                            ..CmdTrack::default()
                        };
                    }
                }
            }
        }
        self.sent.retain(|(m, _), _| m != msg_id);
    }

    /// The session ends: jobs sent but not complete become Interrupted (sent again next
    /// session); Waiting jobs stay Waiting for their Generic Alert.
    pub fn interrupt_unfinished(&mut self, updates: &mut Vec<JobUpdate>) {
        for j in &mut self.jobs {
            let resend = j.phase == Phase::Unsent && j.was_sent;
            if j.phase == Phase::InFlight || resend {
                j.phase = Phase::Unsent;
                j.was_sent = false;
                updates.push(JobUpdate::State {
                    job: j.id,
                    state: JobState::Interrupted,
                });
            }
        }
    }

    fn settle(j: &mut Tracked, updates: &mut Vec<JobUpdate>) {
        let all_statused = j.cmds.values().all(|t| t.status.is_some());
        let all_results = j
            .cmds
            .values()
            .all(|t| t.complete() || (t.waiting && t.status.is_some()));
        if !(all_statused && all_results) {
            return;
        }
        let waiting = j.cmds.values().any(|t| t.waiting);
        let next = if waiting { Phase::Waiting } else { Phase::Done };
        if next != j.phase {
            j.phase = next;
            updates.push(JobUpdate::State {
                job: j.id,
                state: if waiting {
                    JobState::Waiting
                } else {
                    JobState::Done
                },
            });
        }
    }
}
