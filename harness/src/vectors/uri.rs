//! Checker for `vectors/uri/` (facts §4.1, §4.3, §4.6): node URIs, queries, limits.
//! Format: `vectors/uri/README.md`.

use super::sec_cases::{expect, flag, run, s, uint, unknown_op};
use super::Outcome;
use dm_protocol::uri::{
    ListQuery, NodeUri, ParseOptions, TndsFilter, UriError, UriLimits, UriQuery, UriRef,
};
use serde_json::{json, Value};
use std::path::Path;

/// Check every case in `dir` (normally `vectors/uri`).
pub fn check(dir: &Path) -> Vec<Outcome> {
    run(dir, "uri", &op)
}

fn err(e: &UriError) -> Value {
    json!({ "error": e.kind(), "status": e.status_code() })
}

fn query_json(q: &UriQuery) -> Value {
    match q {
        UriQuery::Prop(p) => json!({ "prop": p.as_str() }),
        UriQuery::List(ListQuery::Struct) => json!({ "list": "Struct" }),
        UriQuery::List(ListQuery::StructData) => json!({ "list": "StructData" }),
        UriQuery::List(ListQuery::Tnds(f)) => {
            let (filter, fields) = match f {
                TndsFilter::All => ("all", &[][..]),
                TndsFilter::Include(v) => ("include", &v[..]),
                TndsFilter::Exclude(v) => ("exclude", &v[..]),
            };
            let names: Vec<&str> = fields.iter().map(|f| f.as_str()).collect();
            json!({ "list": "TNDS", "filter": filter, "fields": names })
        }
    }
}

fn op(name: &str, i: &Value) -> Result<Value, String> {
    let opts = ParseOptions {
        allow_unescaped: flag(i, "allow_unescaped"),
    };
    Ok(match name {
        "parse" => match UriRef::parse_with(s(i, "uri")?, opts) {
            Ok(r) => expect(json!({
                "canonical": r.to_string(),
                "segments": r.node.segments(),
                "depth": r.node.depth(),
                "query": r.query.as_ref().map(query_json),
            })),
            Err(e) => err(&e),
        },
        "limits" => {
            let size = |f: &str| -> Result<usize, String> {
                usize::try_from(uint(i, f)?).map_err(|_| format!("input.{f} too large"))
            };
            let limits = UriLimits {
                max_depth: size("max_depth")?,
                max_tot_len: size("max_tot_len")?,
                max_seg_len: size("max_seg_len")?,
            };
            let node = NodeUri::parse_with(s(i, "uri")?, opts)
                .map_err(|e| format!("malformed vector: input.uri does not parse: {e}"))?;
            match limits.check(&node) {
                Ok(()) => expect(json!({ "ok": true })),
                Err(e) => err(&e),
            }
        }
        other => return Err(unknown_op("uri", other)),
    })
}
