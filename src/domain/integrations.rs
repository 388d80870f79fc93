//! Other agencies' systems: what an API client may do (scopes), the events
//! a webhook can subscribe to, and which webhook addresses are safe to call.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use ipnet::IpNet;

/// What an API client is allowed to do.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
pub enum Scope {
    /// Submit requests on behalf of the organisation's practitioners.
    #[serde(rename = "requests:write")]
    RequestsWrite,
    /// Read and follow the requests the client submitted.
    #[serde(rename = "requests:read")]
    RequestsRead,
    /// Register webhooks and read their delivery log.
    #[serde(rename = "webhooks:manage")]
    WebhooksManage,
}

impl Scope {
    pub const ALL: [Scope; 3] = [
        Scope::RequestsWrite,
        Scope::RequestsRead,
        Scope::WebhooksManage,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::RequestsWrite => "requests:write",
            Scope::RequestsRead => "requests:read",
            Scope::WebhooksManage => "webhooks:manage",
        }
    }

    pub fn parse(value: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

/// Scopes from a space-separated list (RFC 6749 §3.3), sorted and without
/// repeats; the first unknown one is the error.
pub fn parse_scopes(text: &str) -> Result<Vec<Scope>, String> {
    let mut scopes = text
        .split_ascii_whitespace()
        .map(|s| Scope::parse(s).ok_or_else(|| s.to_owned()))
        .collect::<Result<Vec<_>, _>>()?;
    scopes.sort();
    scopes.dedup();
    Ok(scopes)
}

/// Scopes as stored and as `scope` in a token response.
pub fn scopes_text(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The scopes a token gets: all the client's when it asks for none, else
/// those asked for, each of which the client must hold.
pub fn granted_scopes(held: &[Scope], asked: Option<&[Scope]>) -> Result<Vec<Scope>, Scope> {
    match asked {
        None => Ok(held.to_vec()),
        Some(asked) => match asked.iter().find(|s| !held.contains(s)) {
            Some(missing) => Err(*missing),
            None => Ok(asked.to_vec()),
        },
    }
}

/// What a webhook is told about. Payloads carry ids, the reference, the
/// status and times, never case text.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
pub enum WebhookEvent {
    #[serde(rename = "request.created")]
    RequestCreated,
    #[serde(rename = "request.status_changed")]
    RequestStatusChanged,
    /// A reply in the conversation; internal notes are never announced.
    #[serde(rename = "message.created")]
    MessageCreated,
    #[serde(rename = "request.sla_breached")]
    RequestSlaBreached,
}

impl WebhookEvent {
    pub const ALL: [WebhookEvent; 4] = [
        WebhookEvent::RequestCreated,
        WebhookEvent::RequestStatusChanged,
        WebhookEvent::MessageCreated,
        WebhookEvent::RequestSlaBreached,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WebhookEvent::RequestCreated => "request.created",
            WebhookEvent::RequestStatusChanged => "request.status_changed",
            WebhookEvent::MessageCreated => "message.created",
            WebhookEvent::RequestSlaBreached => "request.sla_breached",
        }
    }

    pub fn parse(value: &str) -> Option<WebhookEvent> {
        WebhookEvent::ALL.into_iter().find(|e| e.as_str() == value)
    }

    /// A missed deadline goes out before routine deliveries, as its email does.
    pub fn is_safety_critical(self) -> bool {
        self == WebhookEvent::RequestSlaBreached
    }
}

/// Whether an address is on the public internet. Loopback, private,
/// link-local (cloud metadata lives there), shared, documentation,
/// benchmarking, multicast and unspecified addresses are not, nor are IPv6
/// addresses that embed one of those.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        // Shared address space (carrier-grade NAT), 100.64.0.0/10.
        || (a == 100 && (64..128).contains(&b))
        // IETF protocol assignments, 192.0.0.0/24.
        || (a == 192 && b == 0 && c == 0)
        // Benchmarking, 198.18.0.0/15.
        || (a == 198 && (b == 18 || b == 19))
        // Reserved, 240.0.0.0/4.
        || a >= 240)
}

/// Only global unicast (2000::/3) outside the IANA special-purpose blocks
/// in it is public. Everything else is refused whole: that covers the
/// forms that embed an IPv4 address (IPv4-compatible `::a.b.c.d`,
/// IPv4-translated `::ffff:0:a.b.c.d`, NAT64 `64:ff9b::/96` and
/// `64:ff9b:1::/48`), discard-only `100::/64`, loopback, unique local,
/// link-local, multicast and whatever IANA has not allocated.
fn is_public_v6(ip: Ipv6Addr) -> bool {
    let [first, second, ..] = ip.segments();
    let global_unicast = (0x2000..=0x3fff).contains(&first);
    global_unicast
        && !(
            // IETF protocol assignments, 2001::/23: Teredo (2001::/32, which
            // wraps an IPv4 address), benchmarking, ORCHID and the rest; and
            // documentation, 2001:db8::/32.
            (first == 0x2001 && (second < 0x0200 || second == 0x0db8))
            // Documentation, 3fff::/20.
            || (first == 0x3fff && second < 0x1000)
            // 6to4, 2002::/16, wraps an IPv4 address that may be private.
            || first == 0x2002
        )
}

/// Why a webhook URL is refused, for the `url` field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlProblem {
    NotAUrl,
    Scheme,
    Credentials,
    NoHost,
    Fragment,
}

impl std::fmt::Display for UrlProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            UrlProblem::NotAUrl => "must be an absolute URL",
            UrlProblem::Scheme => {
                "must use https (plain http only to a loopback address, and only where the configuration allows it)"
            }
            UrlProblem::Credentials => "must not carry a user name or password",
            UrlProblem::NoHost => "must name a host",
            UrlProblem::Fragment => "must not have a fragment",
        })
    }
}

/// Checks a webhook URL's shape: https (or http to loopback when
/// `http_loopback` allows it), a host, no credentials, no fragment. Where
/// the host resolves to is checked again at every delivery.
pub fn check_url(text: &str, http_loopback: bool) -> Result<url::Url, UrlProblem> {
    let url = url::Url::parse(text.trim()).map_err(|_| UrlProblem::NotAUrl)?;
    let host = url.host().ok_or(UrlProblem::NoHost)?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlProblem::Credentials);
    }
    if url.fragment().is_some() {
        return Err(UrlProblem::Fragment);
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if http_loopback && is_loopback_host(&host) => Ok(url),
        _ => Err(UrlProblem::Scheme),
    }
}

fn is_loopback_host(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    }
}

/// Which addresses deliveries may reach: public ones, and those in the
/// configured networks.
#[derive(Debug, Clone)]
pub struct Reach {
    allowed: Arc<Vec<IpNet>>,
}

impl Reach {
    pub fn new(allowed: Vec<IpNet>) -> Reach {
        Reach {
            allowed: Arc::new(allowed),
        }
    }

    pub fn allows(&self, ip: IpAddr) -> bool {
        is_public(ip) || self.allowed.iter().any(|net| net.contains(&ip))
    }

    /// The problem with `url`'s host, if it is an address out of reach.
    /// Names are checked when they are resolved, at every delivery.
    pub fn refuses_literal(&self, url: &url::Url) -> Option<String> {
        let ip: IpAddr = match url.host()? {
            url::Host::Domain(_) => return None,
            url::Host::Ipv4(ip) => ip.into(),
            url::Host::Ipv6(ip) => ip.into(),
        };
        (!self.allows(ip)).then(|| format!("{ip} is not a public address"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn scopes_parse_sorted_without_repeats_and_name_the_unknown_one() {
        assert_eq!(
            parse_scopes("webhooks:manage requests:read  webhooks:manage").unwrap(),
            [Scope::RequestsRead, Scope::WebhooksManage]
        );
        assert_eq!(parse_scopes("requests:read admin").unwrap_err(), "admin");
        assert_eq!(parse_scopes("").unwrap(), []);
        assert_eq!(
            scopes_text(&[Scope::RequestsWrite, Scope::RequestsRead]),
            "requests:write requests:read"
        );
    }

    #[test]
    fn a_token_gets_only_scopes_the_client_holds() {
        let held = [Scope::RequestsRead, Scope::RequestsWrite];
        assert_eq!(granted_scopes(&held, None).unwrap(), held);
        assert_eq!(
            granted_scopes(&held, Some(&[Scope::RequestsRead])).unwrap(),
            [Scope::RequestsRead]
        );
        assert_eq!(
            granted_scopes(&held, Some(&[Scope::WebhooksManage])).unwrap_err(),
            Scope::WebhooksManage
        );
    }

    #[test]
    fn events_and_scopes_have_one_name_in_storage_and_json() {
        for event in WebhookEvent::ALL {
            assert_eq!(WebhookEvent::parse(event.as_str()), Some(event));
            assert_eq!(serde_json::json!(event), event.as_str());
        }
        assert_eq!(WebhookEvent::parse("request.deleted"), None);
        for scope in Scope::ALL {
            assert_eq!(serde_json::json!(scope), scope.as_str());
        }
    }

    #[test]
    fn only_public_addresses_are_public() {
        for public in ["8.8.8.8", "81.2.69.160", "2a00:1450:4009:81f::200e"] {
            assert!(is_public(ip(public)), "{public}");
        }
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "192.0.2.1",
            "198.18.0.1",
            "224.0.0.1",
            "240.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "2002:a00:1::",
            "2001:db8::1",
            // IPv4 embedded in IPv6 in every other form, and special-purpose blocks.
            "::127.0.0.1",
            "::ffff:0:127.0.0.1",
            "::7f00:1",
            "64:ff9b:1::a00:1",
            "2001::5efe:7f00:1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "2001:2::1",
            "2001:20::1",
            "100::1",
            "3fff::1",
            "5f00::1",
            "4000::1",
        ] {
            assert!(!is_public(ip(private)), "{private}");
        }
    }

    #[test]
    fn webhook_urls_must_be_https_unless_loopback_http_is_allowed() {
        assert!(check_url("https://hooks.example.org/nru", false).is_ok());
        assert_eq!(
            check_url("http://hooks.example.org/nru", true).unwrap_err(),
            UrlProblem::Scheme
        );
        assert_eq!(
            check_url("http://127.0.0.1:9000/hook", false).unwrap_err(),
            UrlProblem::Scheme
        );
        assert!(check_url("http://127.0.0.1:9000/hook", true).is_ok());
        assert!(check_url("http://localhost:9000/hook", true).is_ok());
        assert!(check_url("http://[::1]:9000/hook", true).is_ok());
        assert_eq!(
            check_url("ftp://hooks.example.org/", true).unwrap_err(),
            UrlProblem::Scheme
        );
        assert_eq!(
            check_url("https://user:pw@hooks.example.org/", false).unwrap_err(),
            UrlProblem::Credentials
        );
        assert_eq!(
            check_url("https://hooks.example.org/#x", false).unwrap_err(),
            UrlProblem::Fragment
        );
        assert_eq!(check_url("hooks", false).unwrap_err(), UrlProblem::NotAUrl);
        assert_eq!(
            check_url("mailto:hooks@example.org", false).unwrap_err(),
            UrlProblem::NoHost
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn scope() -> impl Strategy<Value = Scope> {
            prop::sample::select(Scope::ALL.to_vec())
        }

        fn ipv4() -> impl Strategy<Value = Ipv4Addr> {
            any::<u32>().prop_map(Ipv4Addr::from)
        }

        proptest! {
            #[test]
            fn scope_lists_read_back_sorted_and_unique(scopes in prop::collection::vec(scope(), 0..6)) {
                let read = parse_scopes(&scopes_text(&scopes)).expect("written scopes read back");
                let mut expected = scopes.clone();
                expected.sort();
                expected.dedup();
                prop_assert_eq!(read, expected);
            }

            #[test]
            fn a_refused_scope_list_names_a_word_of_it_that_is_no_scope(text in any::<String>()) {
                match parse_scopes(&text) {
                    Ok(scopes) => prop_assert!(scopes.windows(2).all(|w| w[0] < w[1])),
                    Err(word) => {
                        prop_assert!(text.split_ascii_whitespace().any(|w| w == word));
                        prop_assert_eq!(Scope::parse(&word), None);
                    }
                }
            }

            #[test]
            fn a_token_never_gets_a_scope_its_client_lacks(
                held in prop::collection::vec(scope(), 0..4),
                asked in prop::option::of(prop::collection::vec(scope(), 0..4)),
            ) {
                match granted_scopes(&held, asked.as_deref()) {
                    Ok(granted) => prop_assert!(granted.iter().all(|s| held.contains(s))),
                    Err(missing) => {
                        prop_assert!(!held.contains(&missing));
                        prop_assert!(asked.unwrap_or_default().contains(&missing));
                    }
                }
            }

            #[test]
            fn an_ipv4_address_is_judged_the_same_inside_ipv6(v4 in ipv4()) {
                prop_assert_eq!(
                    is_public(IpAddr::V6(v4.to_ipv6_mapped())),
                    is_public(IpAddr::V4(v4))
                );
            }

            #[test]
            fn private_loopback_and_link_local_ranges_are_never_public(host in any::<u32>(), range in 0usize..5) {
                let (base, prefix): (u32, u32) = [
                    (0x0a00_0000, 8),  // 10.0.0.0/8
                    (0x7f00_0000, 8),  // 127.0.0.0/8
                    (0xac10_0000, 12), // 172.16.0.0/12
                    (0xc0a8_0000, 16), // 192.168.0.0/16
                    (0xa9fe_0000, 16), // 169.254.0.0/16
                ][range];
                let ip = Ipv4Addr::from(base | (host >> prefix));
                prop_assert!(!is_public(IpAddr::V4(ip)), "{}", ip);
            }

            #[test]
            fn an_accepted_webhook_url_is_https_or_allowed_loopback_http(
                text in prop_oneof![
                    any::<String>(),
                    "(https?|ftp)://([a-z]{1,8}(:[a-z]{0,4})?@)?(localhost|127\\.0\\.0\\.1|\\[::1\\]|10\\.0\\.0\\.1|[a-z]{1,10}\\.org)(:[0-9]{1,5})?/[a-z/]{0,10}(#[a-z]{0,3})?",
                ],
                http_loopback in any::<bool>(),
            ) {
                if let Ok(url) = check_url(&text, http_loopback) {
                    prop_assert!(url.username().is_empty() && url.password().is_none());
                    prop_assert!(url.fragment().is_none());
                    let host = url.host().expect("a host");
                    match url.scheme() {
                        "https" => {}
                        "http" => prop_assert!(http_loopback && is_loopback_host(&host)),
                        other => prop_assert!(false, "scheme {other} accepted"),
                    }
                }
            }
        }
    }
}
