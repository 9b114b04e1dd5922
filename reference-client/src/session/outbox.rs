//! The client's outgoing package, cut into messages that fit the server's `MaxMsgSize`
//! (facts §1.5, §2.4), with Results items too big for one message sent as large-object
//! chunks (facts §8).
//!
//! The engine queues every command of its reply here; [`Outbox::fill`] then takes, in order,
//! as many as fit in one encoded message behind the SyncHdr Status. Whole commands are never
//! split (facts §2.4); only a Results command that does not fit even alone is chunked: one
//! item per Results, `Meta/Size` on the first chunk, `MoreData` on every chunk but the last,
//! and a message ends after each non-last chunk so that the next one waits for the server's
//! 213 (facts §8).

use std::collections::VecDeque;

use dm_protocol::codec::Encoding;
use dm_protocol::model::{Command, Data, Item, Results, SyncHdr};
use dm_protocol::packing::{as_chunkable, chunk_item, data_len, fits, largest_prefix, split_data};

/// One queued piece of the client's package.
#[derive(Debug, Clone)]
enum Piece {
    /// A whole command.
    Whole(Box<Command>),
    /// A Results item being sent in chunks (facts §8).
    Chunked(Box<Chunking>),
}

/// A Results item on its way out in chunks.
#[derive(Debug, Clone)]
struct Chunking {
    /// The Results without items (CmdRef, MsgRef, Meta).
    results: Results,
    /// The item without data.
    item: Item,
    /// What is left to send.
    rest: Data,
    /// `Meta/Size` of the whole object: the byte length of its data as carried in `Data`
    /// (for b64 the encoded length, facts §8).
    total: u64,
    /// Whether the first chunk has gone (it alone carries `Meta/Size`).
    started: bool,
}

/// What [`Outbox::fill`] put into one message.
#[derive(Debug, Default)]
pub(super) struct Filled {
    /// The commands after the SyncHdr Status, CmdIDs numbered from 2.
    pub commands: Vec<Command>,
    /// The CmdID of a non-last chunk in this message: its 213 must come before the next.
    pub awaiting_chunk_status: Option<String>,
    /// A whole command did not fit even alone and was sent anyway (facts §2.4 forbids
    /// splitting it); the engine records a deviation of its own.
    pub oversized: Option<String>,
}

/// The queue of the client's package. See the module documentation.
#[derive(Debug, Default)]
pub(super) struct Outbox {
    queue: VecDeque<Piece>,
}

impl Outbox {
    /// Nothing left to send.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Put the commands of a new server message's answer ahead of what is still queued
    /// (their statuses belong in the very next message; a chunk continuation follows).
    pub fn push_front_all(&mut self, commands: Vec<Command>) {
        for c in commands.into_iter().rev() {
            self.queue.push_front(Piece::Whole(Box::new(c)));
        }
    }

    /// Drop the large object being chunked, if it is at the head of the queue (the server
    /// refused a chunk). Returns whether one was dropped.
    pub fn abandon_chunk(&mut self) -> bool {
        let chunk_at = self
            .queue
            .iter()
            .position(|p| matches!(p, Piece::Chunked(c) if c.started));
        match chunk_at {
            Some(i) => {
                self.queue.remove(i);
                true
            }
            None => false,
        }
    }

    /// Take as many queued commands as fit, with `hdr` and `hdr_status`, in a message of at
    /// most `limit` bytes once encoded with `encoding` (no limit: everything).
    pub fn fill(
        &mut self,
        hdr: &SyncHdr,
        hdr_status: &Command,
        limit: Option<u64>,
        encoding: Encoding,
    ) -> Filled {
        let mut filled = Filled::default();
        let mut cmds = vec![hdr_status.clone()];
        while let Some(piece) = self.queue.pop_front() {
            let id = (cmds.len() + 1).to_string();
            match piece {
                Piece::Whole(c) => {
                    let mut c = *c;
                    set_cmd_id(&mut c, &id);
                    cmds.push(c);
                    if fits(hdr, &cmds, limit, encoding) {
                        continue;
                    }
                    let Some(c) = cmds.pop() else { break };
                    // Defer to the next message what will fit there: beside its SyncHdr
                    // Status and one more Status (for the server's 1222). What would not is
                    // chunked (Results) or sent alone now, so every message makes progress.
                    let next = [hdr_status.clone(), hdr_status.clone(), c.clone()];
                    if cmds.len() > 1 && fits(hdr, &next, limit, encoding) {
                        self.queue.push_front(Piece::Whole(Box::new(c)));
                        break;
                    }
                    match c {
                        // Only items with data to cut: a Results of data-less or empty items
                        // cannot shrink, and chunking it again would never end.
                        Command::Results(r)
                            if r.items
                                .iter()
                                .any(|i| i.data.as_ref().is_some_and(|d| !is_empty_data(d))) =>
                        {
                            for p in into_chunkings(r).into_iter().rev() {
                                self.queue.push_front(p);
                            }
                        }
                        other => {
                            // facts §2.4: a whole command must fit in one message; it cannot
                            // be split, so it goes as it is and the engine notes it.
                            filled.oversized = Some(other.name().to_owned());
                            cmds.push(other);
                            break;
                        }
                    }
                }
                Piece::Chunked(mut ch) => {
                    let remaining = data_len(&ch.rest);
                    let len = largest_fitting(hdr, &cmds, &ch, &id, limit, encoding);
                    let len = match len {
                        Some(n) => n,
                        // No room here: the next message has room beside two Statuses,
                        // unless the limit is absurdly small.
                        None if cmds.len() > 2 => {
                            self.queue.push_front(Piece::Chunked(ch));
                            break;
                        }
                        // Not even one byte fits: send the smallest chunk to make progress.
                        None => 1.min(remaining),
                    };
                    let (piece, rest) = split_data(&ch.rest, len);
                    let more = !is_empty_data(&rest);
                    cmds.push(chunk_command(&ch, &id, piece, more));
                    ch.started = true;
                    ch.rest = rest;
                    if more {
                        filled.awaiting_chunk_status = Some(id);
                        self.queue.push_front(Piece::Chunked(ch));
                        break;
                    }
                }
            }
        }
        cmds.remove(0);
        filled.commands = cmds;
        filled
    }
}

/// One Chunking per item of a Results that does not fit (items without data stay whole in
/// a Results of their own). Embedded markup (a TNDS document) is chunked as its XML text;
/// the item's Meta (Type, Format) is kept (facts §8, §9.2).
fn into_chunkings(r: Results) -> Vec<Piece> {
    let template = Results {
        items: Vec::new(),
        ..r.clone()
    };
    r.items
        .into_iter()
        .map(|item| match item.data.clone() {
            Some(data) if !is_empty_data(&data) => {
                let data = as_chunkable(data);
                let total = data_len(&data) as u64;
                Piece::Chunked(Box::new(Chunking {
                    results: template.clone(),
                    item: Item { data: None, ..item },
                    rest: data,
                    total,
                    started: false,
                }))
            }
            _ => Piece::Whole(Box::new(Command::Results(Results {
                items: vec![item],
                ..template.clone()
            }))),
        })
        .collect()
}

/// The Results carrying the next `piece` of a chunked item.
fn chunk_command(ch: &Chunking, id: &str, piece: Data, more: bool) -> Command {
    Command::Results(Results {
        cmd_id: id.to_owned(),
        items: vec![chunk_item(&ch.item, piece, ch.total, !ch.started, more)],
        ..ch.results.clone()
    })
}

/// The longest prefix of the chunk's rest that fits in the message.
fn largest_fitting(
    hdr: &SyncHdr,
    cmds: &[Command],
    ch: &Chunking,
    id: &str,
    limit: Option<u64>,
    encoding: Encoding,
) -> Option<usize> {
    largest_prefix(data_len(&ch.rest), |n| {
        let (piece, rest) = split_data(&ch.rest, n);
        let mut trial = cmds.to_vec();
        trial.push(chunk_command(ch, id, piece, !is_empty_data(&rest)));
        fits(hdr, &trial, limit, encoding)
    })
}

fn is_empty_data(d: &Data) -> bool {
    data_len(d) == 0
}

/// Renumber a command the client sends (CmdIDs are unique per message, facts §1.3).
fn set_cmd_id(c: &mut Command, id: &str) {
    let slot = match c {
        Command::Add(x) | Command::Copy(x) | Command::Delete(x) | Command::Get(x) => &mut x.cmd_id,
        Command::Replace(x) => &mut x.cmd_id,
        Command::Alert(a) => &mut a.cmd_id,
        Command::Atomic(x) | Command::Sequence(x) => &mut x.cmd_id,
        Command::Exec(e) => &mut e.cmd_id,
        Command::Results(r) => &mut r.cmd_id,
        Command::Status(s) => &mut s.cmd_id,
        Command::Other(_) => return,
    };
    id.clone_into(slot);
}

#[cfg(test)]
mod tests {
    use super::*;
    use dm_protocol::model::Locator;

    fn hdr() -> SyncHdr {
        SyncHdr {
            ver_dtd: "1.2".into(),
            ver_proto: "DM/1.2".into(),
            session_id: "1".into(),
            msg_id: "2".into(),
            target: Locator::uri("http://s/dm"),
            source: Locator::uri("IMEI:1"),
            ..SyncHdr::default()
        }
    }

    /// A Results whose only item has empty data and does not fit even alone is sent whole
    /// (noted as oversized) instead of being chunked again and again.
    #[test]
    fn empty_data_results_that_cannot_fit_end() {
        let st = Command::Alert(dm_protocol::model::Alert::default());
        let mut ob = Outbox::default();
        ob.push_front_all(vec![Command::Results(Results {
            cmd_ref: "3".into(),
            items: vec![Item {
                source: Some(Locator::uri(format!("./{}", "a".repeat(400)))),
                data: Some(Data::Text(String::new())),
                ..Item::default()
            }],
            ..Results::default()
        })]);
        let f = ob.fill(&hdr(), &st, Some(300), Encoding::Xml);
        assert_eq!(f.commands.len(), 1);
        assert_eq!(f.oversized.as_deref(), Some("Results"));
        assert!(ob.is_empty());
    }

    /// Embedded markup counts by its XML text and is cut as that text.
    #[test]
    fn markup_counts_and_splits_as_xml_text() {
        let Ok(m) = dm_protocol::model::RawNodes::from_xml("<MgmtTree><Node/></MgmtTree>") else {
            panic!("well-formed markup")
        };
        let xml = m.to_xml();
        assert!(!xml.is_empty());
        assert_eq!(data_len(&Data::Markup(m.clone())), xml.len());
        let (a, b) = split_data(&Data::Markup(m), 3);
        assert_eq!(a, Data::Text(xml[..3].to_owned()));
        assert_eq!(b, Data::Text(xml[3..].to_owned()));
    }

    #[test]
    fn text_is_cut_on_character_boundaries() {
        let (a, b) = split_data(&Data::Text("aé€b".into()), 2);
        assert_eq!(a, Data::Text("a".into()));
        assert_eq!(b, Data::Text("é€b".into()));
        let (a, _) = split_data(&Data::Text("€".into()), 1);
        assert_eq!(a, Data::Text("€".into()), "one character at least");
    }

    #[test]
    fn chunks_respect_the_limit_and_carry_size_first_only() {
        let st = Command::Alert(dm_protocol::model::Alert::default());
        let big = "x".repeat(3000);
        let mut ob = Outbox::default();
        ob.push_front_all(vec![Command::Results(Results {
            cmd_ref: "3".into(),
            items: vec![Item {
                source: Some(Locator::uri("./A")),
                data: Some(Data::Text(big.clone())),
                ..Item::default()
            }],
            ..Results::default()
        })]);
        let mut got = String::new();
        let mut n = 0;
        while !ob.is_empty() {
            n += 1;
            let f = ob.fill(&hdr(), &st, Some(1200), Encoding::Xml);
            let Some(Command::Results(r)) = f.commands.last() else {
                panic!("a Results chunk")
            };
            let item = &r.items[0];
            assert_eq!(
                item.meta.as_ref().and_then(|m| m.size),
                (n == 1).then_some(3000)
            );
            assert_eq!(item.more_data, !ob.is_empty());
            assert_eq!(f.awaiting_chunk_status.is_some(), item.more_data);
            let Some(Data::Text(t)) = &item.data else {
                panic!("text")
            };
            got.push_str(t);
            let mut all = vec![st.clone()];
            all.extend(f.commands);
            assert!(fits(&hdr(), &all, Some(1200), Encoding::Xml));
        }
        assert!(
            n >= 3,
            "3000 bytes cannot go in fewer than 3 messages of 1200"
        );
        assert_eq!(got, big);
    }
}
