//! Abuse limits in front of every endpoint: a request budget per signed-in
//! caller and per client address (governor's GCRA), and the client address
//! itself, read through trusted proxies only.

use std::net::IpAddr;
use std::num::NonZeroU32;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::HeaderName;
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest, ResponseError};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use ipnet::IpNet;

use crate::api::callers::bearer;
use crate::api::state::AppState;
use crate::config::LimitSettings;
use crate::error::ApiError;
use crate::web_client::surface;

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// Paths load balancers and monitoring poll; they are never limited.
pub(crate) const UNLIMITED_PATHS: [&str; 4] = ["/healthz", "/healthz/jobs", "/readyz", "/metrics"];

/// The two budgets, each keyed; held in memory by each replica.
pub struct RateLimits {
    per_caller: Option<DefaultKeyedRateLimiter<String>>,
    per_address: Option<DefaultKeyedRateLimiter<IpAddr>>,
    trusted_proxies: Vec<IpNet>,
}

fn quota(per_minute: u32, burst: u32) -> Option<Quota> {
    let rate = NonZeroU32::new(per_minute)?;
    Some(Quota::per_minute(rate).allow_burst(NonZeroU32::new(burst).unwrap_or(rate)))
}

impl RateLimits {
    pub fn new(settings: &LimitSettings, trusted_proxies: Vec<IpNet>) -> RateLimits {
        RateLimits {
            per_caller: quota(settings.per_caller_per_minute, settings.per_caller_burst)
                .map(RateLimiter::keyed),
            per_address: quota(settings.per_address_per_minute, settings.per_address_burst)
                .map(RateLimiter::keyed),
            trusted_proxies,
        }
    }

    /// The address a request came from: the peer, or, when the peer is a
    /// trusted proxy, the nearest address in `X-Forwarded-For` that is not.
    pub fn client_address(&self, req: &HttpRequest) -> Option<IpAddr> {
        let peer = req.peer_addr()?.ip();
        let forwarded: Vec<&str> = req
            .headers()
            .get_all(X_FORWARDED_FOR)
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .collect();
        Some(forwarded_client(peer, &forwarded, &self.trusted_proxies))
    }

    /// Counts one request against the caller's and the address's budgets;
    /// `Err` holds the seconds to wait when either is spent.
    fn admit(&self, caller: Option<&String>, address: Option<IpAddr>) -> Result<(), u64> {
        let clock = DefaultClock::default();
        let wait =
            |not_until: governor::NotUntil<_>| not_until.wait_time_from(clock.now()).as_secs() + 1;
        if let (Some(limiter), Some(address)) = (&self.per_address, address) {
            limiter.check_key(&address).map_err(wait)?;
        }
        if let (Some(limiter), Some(caller)) = (&self.per_caller, caller) {
            limiter.check_key(caller).map_err(wait)?;
        }
        Ok(())
    }

    /// Drops the state of callers and addresses whose budgets are full again,
    /// so memory follows recent traffic only.
    pub fn forget_idle(&self) {
        if let Some(limiter) = &self.per_caller {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        if let Some(limiter) = &self.per_address {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

/// Walks `X-Forwarded-For` from the nearest hop while each hop is a trusted
/// proxy; the first untrusted one is the client. Entries that are not
/// addresses end the walk, since nothing before them can be believed.
fn forwarded_client(peer: IpAddr, forwarded: &[&str], trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    let mut client = peer;
    for hop in forwarded.iter().rev() {
        if !is_trusted(&client) {
            break;
        }
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) => client = ip,
            Err(_) => break,
        }
    }
    client
}

/// Middleware: 429 problem+json with `Retry-After` once a budget is spent.
/// A caller is counted by a valid token's subject; a missing or bad token
/// counts only against the address.
pub async fn rate_limit(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let limited = match state {
        // The web client's page and files are the same few bytes for everyone and a page
        // load fetches about eight of them at once: like the health checks, they do not count.
        Some(state)
            if !UNLIMITED_PATHS.contains(&req.path())
                && !surface(req.method(), req.path()).is_web_client() =>
        {
            let caller = bearer(req.request()).and_then(|t| state.keys.subject(t));
            let address = state.limits.client_address(req.request());
            state.limits.admit(caller.as_ref(), address).err()
        }
        _ => None,
    };
    match limited {
        Some(retry_after_seconds) => {
            let error = ApiError::TooManyRequests {
                retry_after_seconds,
            };
            // OAuth clients read the token endpoint's errors by their `error` member.
            let error = if req.path() == crate::api::clients::TOKEN_PATH {
                error.into_oauth()
            } else {
                error
            };
            let response = error.error_response();
            Ok(req.into_response(response).map_into_right_body())
        }
        None => next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let got = forwarded_client(ip("203.0.113.9"), &["10.0.0.1"], &nets(&["10.0.0.0/8"]));
        assert_eq!(got, ip("203.0.113.9"));
    }

    #[test]
    fn a_trusted_proxy_hands_over_to_the_nearest_untrusted_hop() {
        let trusted = nets(&["10.0.0.0/8"]);
        let chain = ["198.51.100.7", "192.0.2.1", "10.1.1.1"];
        assert_eq!(
            forwarded_client(ip("10.0.0.2"), &chain, &trusted),
            ip("192.0.2.1"),
            "the spoofable leftmost entry is not believed"
        );
    }

    #[test]
    fn a_garbled_hop_ends_the_walk_at_the_last_trusted_address() {
        let trusted = nets(&["10.0.0.0/8"]);
        assert_eq!(
            forwarded_client(ip("10.0.0.2"), &["192.0.2.1", "junk"], &trusted),
            ip("10.0.0.2")
        );
        assert_eq!(
            forwarded_client(ip("10.0.0.2"), &[" 192.0.2.1 "], &trusted),
            ip("192.0.2.1")
        );
    }

    fn limits(per_caller: (u32, u32), per_address: (u32, u32)) -> RateLimits {
        RateLimits::new(
            &LimitSettings {
                per_caller_per_minute: per_caller.0,
                per_caller_burst: per_caller.1,
                per_address_per_minute: per_address.0,
                per_address_burst: per_address.1,
            },
            Vec::new(),
        )
    }

    #[test]
    fn a_caller_gets_the_burst_then_waits_while_others_go_on() {
        let limits = limits((60, 3), (0, 0));
        let (alice, bob) = ("user:a".to_owned(), "user:b".to_owned());
        for _ in 0..3 {
            assert_eq!(limits.admit(Some(&alice), None), Ok(()));
        }
        let wait = limits.admit(Some(&alice), None).unwrap_err();
        assert!(
            (1..=2).contains(&wait),
            "one a second at 60 a minute: {wait}"
        );
        assert_eq!(limits.admit(Some(&bob), None), Ok(()));
    }

    #[test]
    fn an_address_is_limited_whoever_signs_in_from_it() {
        let limits = limits((1000, 1000), (60, 2));
        let here = Some(ip("192.0.2.1"));
        assert_eq!(limits.admit(Some(&"user:a".into()), here), Ok(()));
        assert_eq!(limits.admit(Some(&"user:b".into()), here), Ok(()));
        assert!(limits.admit(None, here).is_err());
        assert_eq!(limits.admit(None, Some(ip("192.0.2.2"))), Ok(()));
    }

    #[test]
    fn zero_turns_a_limit_off() {
        let limits = limits((0, 0), (0, 0));
        for _ in 0..10_000 {
            assert_eq!(
                limits.admit(Some(&"user:a".into()), Some(ip("::1"))),
                Ok(())
            );
        }
    }
}
