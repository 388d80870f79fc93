//! Opaque random secrets (refresh tokens, API client secrets, webhook signing
//! keys): 256 bits, shown once; refresh tokens and client secrets are stored
//! only as a SHA-256 digest.

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn digest(token: &str) -> String {
    let hash = Sha256::digest(token.as_bytes());
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_and_digests_stable() {
        let a = generate();
        assert_ne!(a, generate());
        assert_eq!(a.len(), 43);
        assert_eq!(digest(&a), digest(&a));
        assert_eq!(digest(&a).len(), 64);
        assert_ne!(digest(&a), a);
    }
}
