//! Content blobs the server hosts for devices to download (e.g. packages a job points to),
//! by name.

use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::{to_i64, to_u64, Store, StoreError};

/// A hosted blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    /// The MIME type it is served with.
    pub content_type: String,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// A hosted blob as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentInfo {
    /// The name (the URL path it is served under).
    pub name: String,
    /// The MIME type.
    pub content_type: String,
    /// The size in bytes.
    pub size: u64,
    /// Unix seconds of the last `put`.
    pub updated_at: u64,
}

/// Longest accepted name, in bytes.
pub const MAX_CONTENT_NAME: usize = 200;

/// A name is a relative URL path: ASCII letters, digits, `.`, `_`, `-` and `/`, not starting
/// with `/`, no empty, `.` or `..` segment.
fn validate(name: &str) -> Result<(), StoreError> {
    let invalid = |reason| {
        Err(StoreError::InvalidContentName {
            name: name.to_string(),
            reason,
        })
    };
    if name.is_empty() || name.len() > MAX_CONTENT_NAME {
        return invalid("a name has 1 to 200 bytes");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'/'))
    {
        return invalid("only ASCII letters, digits, `.`, `_`, `-` and `/` are allowed");
    }
    if name
        .split('/')
        .any(|segment| segment.is_empty() || segment == "." || segment == "..")
    {
        return invalid("no empty, `.` or `..` path segment (and no leading or trailing `/`)");
    }
    Ok(())
}

impl Store {
    /// Stores (or replaces) the blob `name`.
    pub fn put_content(
        &self,
        name: &str,
        content_type: &str,
        bytes: &[u8],
        now: u64,
    ) -> Result<(), StoreError> {
        validate(name)?;
        self.write(|tx| {
            tx.execute(
                "INSERT INTO content (name, content_type, bytes, updated_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(name) DO UPDATE SET content_type = excluded.content_type,
                 bytes = excluded.bytes, updated_at = excluded.updated_at",
                params![name, content_type, bytes, to_i64("time", now)?],
            )
            .map_err(StoreError::sql("store content"))?;
            Ok(())
        })
    }

    /// The blob `name`.
    pub fn content(&self, name: &str) -> Result<Content, StoreError> {
        self.read(|tx| {
            tx.query_row(
                "SELECT content_type, bytes FROM content WHERE name = ?1",
                [name],
                |row| {
                    Ok(Content {
                        content_type: row.get(0)?,
                        bytes: row.get(1)?,
                    })
                },
            )
            .optional()
            .map_err(StoreError::sql("read content"))?
            .ok_or_else(|| StoreError::UnknownContent {
                name: name.to_string(),
            })
        })
    }

    /// Every blob, by name.
    pub fn contents(&self) -> Result<Vec<ContentInfo>, StoreError> {
        self.read(|tx| {
            let mut stmt = tx
                .prepare(
                    "SELECT name, content_type, length(bytes), updated_at FROM content ORDER BY name",
                )
                .map_err(StoreError::sql("list content"))?;
            let rows: Vec<(String, String, i64, i64)> = stmt
                .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)))
                .and_then(Iterator::collect)
                .map_err(StoreError::sql("list content"))?;
            rows.into_iter()
                .map(|(name, content_type, size, updated)| {
                    Ok(ContentInfo {
                        name,
                        content_type,
                        size: to_u64("content size", size)?,
                        updated_at: to_u64("time", updated)?,
                    })
                })
                .collect()
        })
    }

    /// Deletes the blob `name`.
    pub fn delete_content(&self, name: &str) -> Result<(), StoreError> {
        self.write(|tx| {
            let n = tx
                .execute("DELETE FROM content WHERE name = ?1", [name])
                .map_err(StoreError::sql("delete content"))?;
            if n == 0 {
                return Err(StoreError::UnknownContent {
                    name: name.to_string(),
                });
            }
            Ok(())
        })
    }
}
