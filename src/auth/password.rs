//! argon2id password hashing. The cost is a setting (`auth.password_hash_*`):
//! OWASP's recommended parameters by default, and production refuses less.

use std::sync::{Mutex, RwLock};

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::config::PasswordCost as Cost;

/// The cost new hashes are made with; start-up sets it from the settings.
static COST: RwLock<Cost> = RwLock::new(Cost::OWASP);

/// Sets the cost of every hash made from now on (start-up, from the settings).
/// Existing hashes keep verifying: each records its own parameters.
pub fn set_cost(cost: Cost) {
    *COST.write().unwrap_or_else(|e| e.into_inner()) = cost;
}

fn cost() -> Cost {
    *COST.read().unwrap_or_else(|e| e.into_inner())
}

fn params(cost: Cost) -> Result<Params, argon2::Error> {
    Params::new(cost.memory_kib, cost.iterations, 1, None)
}

fn hasher(cost: Cost) -> Argon2<'static> {
    // The settings check refuses invalid parameters, so construction cannot
    // fail; fall back to the crate default (OWASP's argon2id) rather than
    // panic if that ever changed.
    let params = params(cost).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash(password: &str) -> anyhow::Result<String> {
    hash_with(cost(), password)
}

fn hash_with(cost: Cost, password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    hasher(cost)
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("password hashing failed: {e}"))
}

/// Constant-shape check: a malformed stored hash counts as a mismatch. The
/// parameters come from the stored hash (its PHC string), not the setting.
pub fn verify(password: &str, stored_hash: &str) -> bool {
    match PasswordHash::new(stored_hash) {
        Ok(parsed) => hasher(cost())
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Verifies against a throwaway hash so that a sign-in for an unknown email
/// costs the same time as one with a wrong password (at the current cost).
pub fn verify_against_dummy(password: &str) {
    static DUMMY: Mutex<Option<(Cost, String)>> = Mutex::new(None);
    let current = cost();
    let dummy = {
        let mut cached = DUMMY.lock().unwrap_or_else(|e| e.into_inner());
        match &*cached {
            Some((made_at, dummy)) if *made_at == current => dummy.clone(),
            _ => {
                let dummy =
                    hash_with(current, "not-a-real-password-for-timing").unwrap_or_default();
                *cached = Some((current, dummy.clone()));
                dummy
            }
        }
    };
    let _ = verify(password, &dummy);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_salted_and_verify() {
        let a = hash_with(Cost::OWASP, "correct horse battery").unwrap();
        let b = hash_with(Cost::OWASP, "correct horse battery").unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(verify("correct horse battery", &a));
        assert!(!verify("correct horse battery!", &a));
        assert!(!verify("anything", "not a hash"));
    }

    #[test]
    fn a_hash_records_its_cost_and_verifies_whatever_the_current_cost() {
        let cheap = hash_with(Cost::MINIMUM, "correct horse battery").unwrap();
        assert!(cheap.starts_with("$argon2id$v=19$m=8,t=1,p=1$"), "{cheap}");
        let owasp = hash_with(Cost::OWASP, "correct horse battery").unwrap();
        for current in [Cost::MINIMUM, Cost::OWASP] {
            for stored in [&cheap, &owasp] {
                let parsed = PasswordHash::new(stored).unwrap();
                let hasher = hasher(current);
                assert!(
                    hasher
                        .verify_password(b"correct horse battery", &parsed)
                        .is_ok(),
                    "{stored} at {current:?}"
                );
                assert!(hasher.verify_password(b"wrong", &parsed).is_err());
            }
        }
    }

    #[test]
    fn owasps_configurations_are_the_floor() {
        assert!(Cost::OWASP.meets_owasp());
        assert!(params(Cost::MINIMUM).is_ok());
        assert!(!Cost::MINIMUM.meets_owasp());
        for (memory_kib, iterations) in Cost::OWASP_EQUIVALENTS {
            let cost = Cost {
                memory_kib,
                iterations,
            };
            assert!(cost.meets_owasp(), "{cost:?}");
        }
        let cost = |memory_kib, iterations| Cost {
            memory_kib,
            iterations,
        };
        assert!(!cost(19 * 1024 - 1, 2).meets_owasp());
        assert!(!cost(19 * 1024, 1).meets_owasp());
        assert!(!cost(46 * 1024 - 1, 1).meets_owasp());
        assert!(!cost(7 * 1024 - 1, 100).meets_owasp());
        assert!(cost(12 * 1024, 3).meets_owasp());
        assert!(cost(64 * 1024, 1).meets_owasp());
        assert!(params(cost(7, 1)).is_err());
        assert!(params(cost(8, 0)).is_err());
    }
}
