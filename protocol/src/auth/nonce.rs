//! Nonce generation (facts §6.2: nonces of at least 128 bits, new per session, unpredictable).

use rand::{RngCore as _, SeedableRng as _};
use rand_chacha::ChaCha20Rng;

/// Length of generated nonces in bytes: 16 bytes = 128 bits, the minimum facts §6.2
/// recommends.
pub const NONCE_LEN: usize = 16;

/// A source of 16-byte nonces backed by ChaCha20.
///
/// [`NonceGenerator::from_seed`] is deterministic, so tests and reproducible conformance runs
/// get the same nonces every time; [`NonceGenerator::from_entropy`] seeds from the operating
/// system for real use.
#[derive(Debug, Clone)]
pub struct NonceGenerator {
    rng: ChaCha20Rng,
}

impl NonceGenerator {
    /// A deterministic generator: the same seed always yields the same nonce sequence.
    pub fn from_seed(seed: u64) -> Self {
        NonceGenerator {
            rng: ChaCha20Rng::seed_from_u64(seed),
        }
    }

    /// A generator seeded from the operating system's entropy source.
    pub fn from_entropy() -> Self {
        NonceGenerator {
            rng: ChaCha20Rng::from_rng(&mut rand::rng()),
        }
    }

    /// The next nonce (raw bytes, as used in the digest formulas of facts §6.1/§6.3/§7.2).
    pub fn next_nonce(&mut self) -> [u8; NONCE_LEN] {
        let mut n = [0u8; NONCE_LEN];
        self.rng.fill_bytes(&mut n);
        n
    }

    /// A 64-bit number from the next nonce (its first 8 bytes, little-endian): a seed for
    /// another generator, e.g. one per session.
    pub fn next_u64(&mut self) -> u64 {
        let n = self.next_nonce();
        u64::from_le_bytes([n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7]])
    }

    /// The next nonce in base64, the form carried in `Chal/Meta/NextNonce` (facts §1.5).
    pub fn next_nonce_b64(&mut self) -> String {
        super::b64(&self.next_nonce())
    }
}
