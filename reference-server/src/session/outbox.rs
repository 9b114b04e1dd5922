//! Our outgoing package, cut into messages that fit the device's `MaxMsgSize` (facts §1.3,
//! §2.4), with the data of a Replace/Add too big for one message sent as large-object chunks
//! (facts §8).
//!
//! Whole commands (an Atomic or Sequence with everything inside) are never split (facts
//! §2.4). A Replace or Add with one item whose data does not fit even alone is chunked:
//! `Meta/Size` (the data's byte length) on the first chunk, `MoreData` on every chunk but the
//! last, the command's Meta repeated, and the message ends after each non-last chunk so the
//! next one waits for the device's 213 (facts §8).

use std::collections::VecDeque;

use dm_protocol::codec::Encoding;
use dm_protocol::model::{Command, Data, Item, ItemCommand, SyncHdr};
use dm_protocol::packing::{chunk_item, data_len, fits, largest_prefix, split_data};

use super::jobs::Origin;

/// One queued piece of our package.
#[derive(Debug, Clone)]
enum Piece {
    /// A whole command.
    Whole(Box<Command>, Option<Origin>),
    /// A Replace/Add item on its way out in chunks.
    Chunked(Box<Chunking>),
}

#[derive(Debug, Clone)]
struct Chunking {
    /// `Replace` or `Add`.
    add: bool,
    /// The command without items.
    template: ItemCommand,
    /// The item without data.
    item: Item,
    rest: Data,
    total: u64,
    started: bool,
    origin: Option<Origin>,
}

/// One command placed in a message, with every nested command's CmdID.
#[derive(Debug, Clone)]
pub(super) struct Placed {
    /// The CmdID of the command or nested command.
    pub cmd_id: String,
    /// Its job command, if any.
    pub origin: Origin,
}

/// What [`Outbox::fill`] put into one message.
#[derive(Debug, Default)]
pub(super) struct Filled {
    /// The commands after the leading ones, CmdIDs numbered on.
    pub commands: Vec<Command>,
    /// Every job command placed (nested ones too).
    pub placed: Vec<Placed>,
    /// The CmdID of a non-last chunk: its 213 must come before the next chunk.
    pub awaiting_chunk: Option<String>,
    /// A command that did not fit even alone and was sent whole anyway.
    pub oversized: Option<String>,
}

/// Our queued package. See the module documentation.
#[derive(Debug, Default)]
pub(super) struct Outbox {
    queue: VecDeque<Piece>,
}

impl Outbox {
    /// Nothing left to send.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Queue a command at the end.
    pub fn push(&mut self, cmd: Command, origin: Option<Origin>) {
        self.queue.push_back(Piece::Whole(Box::new(cmd), origin));
    }

    /// Drop a large object being chunked (the device refused a chunk, facts §8).
    pub fn abandon_chunk(&mut self) {
        if let Some(Piece::Chunked(c)) = self.queue.front() {
            if c.started {
                self.queue.pop_front();
            }
        }
    }

    /// Drop everything.
    pub fn clear(&mut self) {
        self.queue.clear();
    }

    /// Take as many queued commands as fit after `leading` (already numbered 1..=n) in one
    /// message of at most `limit` bytes encoded with `encoding` (no limit: everything).
    pub fn fill(
        &mut self,
        hdr: &SyncHdr,
        leading: &[Command],
        limit: Option<u64>,
        encoding: Encoding,
    ) -> Filled {
        let mut filled = Filled::default();
        let mut cmds: Vec<Command> = leading.to_vec();
        let mut next_id = count_ids(leading) + 1;
        while let Some(piece) = self.queue.pop_front() {
            match piece {
                Piece::Whole(c, origin) => {
                    let mut c = *c;
                    let mut placed = Vec::new();
                    let mut id = next_id;
                    number(&mut c, &mut id, origin.as_ref(), &mut placed);
                    cmds.push(c);
                    if fits(hdr, &cmds, limit, encoding) {
                        next_id = id;
                        filled.placed.extend(placed);
                        continue;
                    }
                    let Some(c) = cmds.pop() else { break };
                    // Defer what will fit in the next message, beside its SyncHdr Status and
                    // one more Status (for the device's 1222); what would not is chunked or
                    // sent alone now, so every message makes progress.
                    let first = leading.first().cloned();
                    let next: Vec<Command> = first
                        .iter()
                        .cloned()
                        .chain(first.iter().cloned())
                        .chain(std::iter::once(c.clone()))
                        .collect();
                    if cmds.len() > 1 && fits(hdr, &next, limit, encoding) {
                        self.queue.push_front(Piece::Whole(Box::new(c), origin));
                        break;
                    }
                    match chunkable(c) {
                        Ok(ch) => {
                            self.queue
                                .push_front(Piece::Chunked(Box::new(Chunking { origin, ..*ch })));
                        }
                        Err(c) => {
                            // facts §2.4: a whole command must fit in one message; it cannot
                            // be split, so it goes as it is and the engine notes it.
                            filled.oversized = Some(c.name().to_owned());
                            cmds.push(*c);
                            filled.placed.extend(placed);
                            break;
                        }
                    }
                }
                Piece::Chunked(mut ch) => {
                    let id = next_id.to_string();
                    let remaining = data_len(&ch.rest);
                    let len = match largest_fitting(hdr, &cmds, &ch, &id, limit, encoding) {
                        Some(n) => n,
                        // No room here: the next message has room beside two Statuses.
                        None if cmds.len() > 2 => {
                            self.queue.push_front(Piece::Chunked(ch));
                            break;
                        }
                        // Not even one byte fits: the smallest chunk, to make progress.
                        None => 1.min(remaining),
                    };
                    let (piece, rest) = split_data(&ch.rest, len);
                    let more = data_len(&rest) > 0;
                    cmds.push(chunk_command(&ch, &id, piece, more));
                    if let Some(o) = &ch.origin {
                        filled.placed.push(Placed {
                            cmd_id: id.clone(),
                            origin: o.clone(),
                        });
                    }
                    next_id += 1;
                    ch.started = true;
                    ch.rest = rest;
                    if more {
                        filled.awaiting_chunk = Some(id);
                        self.queue.push_front(Piece::Chunked(ch));
                        break;
                    }
                }
            }
        }
        filled.commands = cmds.split_off(leading.len());
        filled
    }
}

fn count_ids(cmds: &[Command]) -> usize {
    cmds.iter()
        .map(|c| match c {
            Command::Atomic(ct) | Command::Sequence(ct) => 1 + count_ids(&ct.commands),
            _ => 1,
        })
        .sum()
}

/// Give `c` and everything inside fresh CmdIDs from `next` (unique within the message,
/// facts §1.4), noting each job command.
fn number(c: &mut Command, next: &mut usize, origin: Option<&Origin>, placed: &mut Vec<Placed>) {
    let id = next.to_string();
    *next += 1;
    if let Some(o) = origin {
        placed.push(Placed {
            cmd_id: id.clone(),
            origin: o.clone(),
        });
    }
    match c {
        Command::Add(x) | Command::Copy(x) | Command::Delete(x) | Command::Get(x) => x.cmd_id = id,
        Command::Replace(x) => x.cmd_id = id,
        Command::Alert(a) => a.cmd_id = id,
        Command::Exec(e) => e.cmd_id = id,
        Command::Results(r) => r.cmd_id = id,
        Command::Status(s) => s.cmd_id = id,
        Command::Atomic(ct) | Command::Sequence(ct) => {
            ct.cmd_id = id;
            for (k, child) in ct.commands.iter_mut().enumerate() {
                let child_origin = origin.map(|o| Origin {
                    job: o.job,
                    position: format!("{}.{}", o.position, k + 1),
                });
                number(child, next, child_origin.as_ref(), placed);
            }
        }
        Command::Other(_) => {}
    }
}

/// A Replace/Add with exactly one item carrying text or bytes can be chunked (facts §8).
fn chunkable(c: Command) -> Result<Box<Chunking>, Box<Command>> {
    let (add, x) = match c {
        Command::Replace(x) => (false, x),
        Command::Add(x) => (true, x),
        other => return Err(Box::new(other)),
    };
    let ok = x.items.len() == 1
        && matches!(
            x.items.first().and_then(|i| i.data.as_ref()),
            Some(Data::Text(_) | Data::Binary(_))
        );
    if !ok {
        return Err(Box::new(if add {
            Command::Add(x)
        } else {
            Command::Replace(x)
        }));
    }
    let mut template = x;
    let mut item = template.items.remove(0);
    let rest = item.data.take().unwrap_or(Data::Text(String::new()));
    Ok(Box::new(Chunking {
        add,
        template,
        item,
        total: data_len(&rest) as u64,
        rest,
        started: false,
        origin: None,
    }))
}

fn chunk_command(ch: &Chunking, id: &str, piece: Data, more: bool) -> Command {
    let mut x = ch.template.clone();
    x.cmd_id = id.to_owned();
    x.items = vec![chunk_item(&ch.item, piece, ch.total, !ch.started, more)];
    if ch.add {
        Command::Add(x)
    } else {
        Command::Replace(x)
    }
}

/// The largest chunk of `ch.rest` that fits after `cmds`.
fn largest_fitting(
    hdr: &SyncHdr,
    cmds: &[Command],
    ch: &Chunking,
    id: &str,
    limit: Option<u64>,
    enc: Encoding,
) -> Option<usize> {
    largest_prefix(data_len(&ch.rest), |n| {
        let (piece, rest) = split_data(&ch.rest, n);
        let mut v = cmds.to_vec();
        v.push(chunk_command(ch, id, piece, data_len(&rest) > 0));
        fits(hdr, &v, limit, enc)
    })
}
