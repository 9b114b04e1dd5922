//! Runs a [`Session`] over a real [`Transport`]: encode, post, decode, hand the answer to
//! the engine, until it says the session is over. Every message in both directions is kept
//! in the [`Exchange`] list (the raw material of `--trace` transcripts).

use dm_protocol::codec::{self, DecodeOptions, Encoding};
use dm_protocol::violation::Violation;
use dm_tree::{CommandHooks, Tree};

use crate::session::{EndReason, Session, Step};
use crate::transport::{Transport, TransportError};

/// Direction of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Client → server.
    Sent,
    /// Server → client.
    Received,
}

/// One message as it travelled.
#[derive(Debug, Clone, PartialEq)]
pub struct Exchange {
    /// Which way.
    pub direction: Direction,
    /// Its encoding.
    pub encoding: Encoding,
    /// The exact bytes.
    pub bytes: Vec<u8>,
    /// Representation violations found when decoding a received message.
    pub violations: Vec<Violation>,
}

/// Why a session could not run to its end.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DriverError {
    /// The message could not be encoded (a bug, or a tree value no encoding can carry).
    #[error("cannot encode our message: {0}")]
    Encode(codec::CodecError),
    /// The HTTP exchange failed.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The server answered with a non-2xx HTTP status.
    #[error("the server answered HTTP {status}; check the server URL and its logs")]
    HttpStatus {
        /// The status.
        status: u16,
    },
    /// The server's answer is not a SyncML DM message.
    #[error("the server's answer is not a DM message: {0}")]
    Decode(codec::CodecError),
    /// The server kept the session going beyond the configured number of messages.
    #[error("the session exceeded {0} messages; the server does not end it")]
    TooManyMessages(usize),
}

/// The outcome of a session run.
#[derive(Debug)]
pub struct Run {
    /// How the session ended.
    pub end: EndReason,
    /// Every message, in order.
    pub exchanges: Vec<Exchange>,
}

/// Run `session` to its end: package 1, then request/response until the engine finishes.
/// At most `max_messages` client messages are sent.
pub async fn run(
    tree: &mut Tree,
    session: &mut Session,
    transport: &Transport,
    encoding: Encoding,
    hooks: &mut dyn CommandHooks,
    max_messages: usize,
) -> Result<Run, DriverError> {
    let mut exchanges = Vec::new();
    let mut next = session.start(tree);
    for _ in 0..max_messages {
        let bytes = codec::encode(&next, encoding).map_err(DriverError::Encode)?;
        exchanges.push(Exchange {
            direction: Direction::Sent,
            encoding,
            bytes: bytes.clone(),
            violations: Vec::new(),
        });
        let response = transport
            .post_encoded(session.target_uri(), encoding, bytes, &[])
            .await?;
        if !response.is_success() {
            return Err(DriverError::HttpStatus {
                status: response.status,
            });
        }
        let decoded =
            codec::decode(&response.body, DecodeOptions::LENIENT).map_err(DriverError::Decode)?;
        exchanges.push(Exchange {
            direction: Direction::Received,
            encoding: decoded.encoding,
            bytes: response.body.clone(),
            violations: decoded.violations.clone(),
        });
        match session.handle(tree, &decoded.message, hooks) {
            Step::Send(m) => next = *m,
            Step::Finished(end) => return Ok(Run { end, exchanges }),
        }
    }
    Err(DriverError::TooManyMessages(max_messages))
}
