//! Fitting a package into messages (facts §1.3 `MaxMsgSize`, §2.4) and cutting an item's
//! data into large-object chunks (facts §8): the measuring and cutting both peers need. The
//! queueing policy (what to defer, what to chunk) stays with each peer's engine.

use crate::codec::{self, Encoding};
use crate::model::{Command, Data, Item, Meta, SyncBody, SyncHdr, SyncMl};

/// Whether a message with `hdr` and `cmds` fits `limit` bytes once encoded (no limit: yes).
/// An encoding failure counts as fitting: the caller reports it when it encodes the real
/// message.
pub fn fits(hdr: &SyncHdr, cmds: &[Command], limit: Option<u64>, encoding: Encoding) -> bool {
    let Some(limit) = limit else { return true };
    let msg = SyncMl {
        hdr: hdr.clone(),
        body: SyncBody {
            commands: cmds.to_vec(),
            final_: true,
        },
    };
    codec::encode(&msg, encoding).map_or(true, |b| b.len() as u64 <= limit)
}

/// The data's length as carried: text and bytes by their bytes, embedded markup by its XML
/// text.
pub fn data_len(d: &Data) -> usize {
    match d {
        Data::Text(t) => t.len(),
        Data::Binary(b) => b.len(),
        Data::Markup(m) => m.to_xml().len(),
    }
}

/// Data in a form that can be cut: markup becomes its XML text (facts §8: a TNDS document
/// travels as a large object like any other data).
pub fn as_chunkable(d: Data) -> Data {
    match d {
        Data::Markup(m) => Data::Text(m.to_xml()),
        other => other,
    }
}

/// Split at (at most) `n` bytes: text on a character boundary at or before `n`, but always
/// at least one character of non-empty text so each chunk makes progress; markup as its XML
/// text.
pub fn split_data(d: &Data, n: usize) -> (Data, Data) {
    match d {
        Data::Text(t) => {
            let mut cut = n.min(t.len());
            while cut > 0 && !t.is_char_boundary(cut) {
                cut -= 1;
            }
            if cut == 0 && !t.is_empty() {
                cut = t.chars().next().map_or(t.len(), char::len_utf8);
            }
            let (a, b) = t.split_at(cut);
            (Data::Text(a.to_owned()), Data::Text(b.to_owned()))
        }
        Data::Binary(bytes) => {
            let cut = n.min(bytes.len());
            (
                Data::Binary(bytes[..cut].to_vec()),
                Data::Binary(bytes[cut..].to_vec()),
            )
        }
        Data::Markup(m) => split_data(&Data::Text(m.to_xml()), n),
    }
}

/// The largest `n` in `1..=total` for which `fits_with(n)` holds, assuming it holds for
/// every length below one that does (the encoded size grows with the chunk); `None` when not
/// even one byte fits.
pub fn largest_prefix(total: usize, fits_with: impl Fn(usize) -> bool) -> Option<usize> {
    if fits_with(total) {
        return Some(total);
    }
    let (mut lo, mut hi) = (0usize, total); // lo fits (or is 0), hi does not
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if fits_with(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (lo > 0 && fits_with(lo)).then_some(lo)
}

/// One chunk of a large object (facts §8): `item` with `piece` as its data, `Meta/Size` =
/// `total` on the first chunk only (removed from later ones, dropping a Meta left empty), and
/// `MoreData` on every chunk but the last.
pub fn chunk_item(item: &Item, piece: Data, total: u64, first: bool, more: bool) -> Item {
    let mut item = item.clone();
    if first {
        let mut meta = item.meta.take().unwrap_or_default();
        meta.size = Some(total);
        item.meta = Some(meta);
    } else if let Some(m) = item.meta.as_mut() {
        m.size = None;
        if *m == Meta::default() {
            item.meta = None;
        }
    }
    item.data = Some(piece);
    item.more_data = more;
    item
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn text_is_cut_on_character_boundaries_and_always_progresses() {
        let t = Data::Text("aé€b".into()); // 1 + 2 + 3 + 1 bytes
        assert_eq!(
            split_data(&t, 2),
            (Data::Text("a".into()), Data::Text("é€b".into()))
        );
        assert_eq!(
            split_data(&Data::Text("€b".into()), 1),
            (Data::Text("€".into()), Data::Text("b".into())),
            "one whole character even when n is smaller"
        );
        assert_eq!(
            split_data(&Data::Binary(vec![1, 2, 3]), 2),
            (Data::Binary(vec![1, 2]), Data::Binary(vec![3]))
        );
    }

    #[test]
    fn largest_prefix_finds_the_boundary() {
        assert_eq!(largest_prefix(100, |n| n <= 37), Some(37));
        assert_eq!(largest_prefix(100, |n| n <= 100), Some(100));
        assert_eq!(largest_prefix(100, |_| false), None);
    }

    #[test]
    fn size_on_the_first_chunk_only() {
        let item = Item {
            meta: Some(Meta {
                format: Some("chr".into()),
                ..Meta::default()
            }),
            ..Item::default()
        };
        let first = chunk_item(&item, Data::Text("ab".into()), 4, true, true);
        let meta = first.meta.as_ref().unwrap();
        assert_eq!((meta.size, first.more_data), (Some(4), true));
        let last = chunk_item(&first, Data::Text("cd".into()), 4, false, false);
        let meta = last.meta.as_ref().unwrap();
        assert_eq!(
            (meta.size, meta.format.as_deref(), last.more_data),
            (None, Some("chr"), false)
        );
        let bare = chunk_item(&Item::default(), Data::Text("x".into()), 2, false, true);
        assert!(bare.meta.is_none());
    }
}
