//! The URL rules: what a webhook may point at, checked on create and at every attempt.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why a URL is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UrlRefusal {
    Malformed,
    Scheme,
    Credentials,
    /// The host is, or resolves to, an address that is not public.
    NotPublic,
    Unresolvable,
}

impl UrlRefusal {
    pub fn message(self) -> &'static str {
        match self {
            UrlRefusal::Malformed => "url is not an absolute URL of at most 2048 characters",
            UrlRefusal::Scheme => "url must use https",
            UrlRefusal::Credentials => "url must not hold a user or password",
            UrlRefusal::NotPublic => {
                "url's host must not be, or resolve to, a loopback, private, link-local or reserved address"
            }
            UrlRefusal::Unresolvable => "url's host does not resolve",
        }
    }
}

/// A URL that passed the rules that need no lookup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub url: String,
    pub https: bool,
    /// As in the URL: a name, or an address without brackets.
    pub host: String,
    pub port: u16,
    /// Path and query, at least `/`.
    pub path: String,
    /// `http://127.0.0.1` or `http://localhost`: taken only by the local stack.
    pub local_form: bool,
}

impl Target {
    /// The address literal of the URL, if its host is one.
    pub fn literal(&self) -> Option<IpAddr> {
        self.host.parse().ok()
    }

    /// Whether an attempt may connect to `ip`.
    pub fn may_reach(&self, ip: IpAddr, allow_local: bool) -> bool {
        if self.local_form {
            allow_local && ip.is_loopback()
        } else {
            public_ip(ip)
        }
    }
}

/// Checks what can be checked without a lookup. `allow_local`: the local stack's settings.
pub fn parse_url(raw: &str, allow_local: bool) -> Result<Target, UrlRefusal> {
    if raw.is_empty() || raw.len() > 2048 {
        return Err(UrlRefusal::Malformed);
    }
    let u = url::Url::parse(raw).map_err(|_| UrlRefusal::Malformed)?;
    if !u.username().is_empty() || u.password().is_some() {
        return Err(UrlRefusal::Credentials);
    }
    let host = match u.host() {
        Some(url::Host::Domain(d)) => d.to_ascii_lowercase(),
        Some(url::Host::Ipv4(a)) => a.to_string(),
        Some(url::Host::Ipv6(a)) => a.to_string(),
        None => return Err(UrlRefusal::Malformed),
    };
    let local_form = u.scheme() == "http" && (host == "127.0.0.1" || host == "localhost");
    let https = match u.scheme() {
        "https" => true,
        "http" if local_form && allow_local => false,
        "http" if local_form => return Err(UrlRefusal::NotPublic),
        _ => return Err(UrlRefusal::Scheme),
    };
    let port = u.port_or_known_default().ok_or(UrlRefusal::Malformed)?;
    let mut path = u.path().to_owned();
    if let Some(q) = u.query() {
        path.push('?');
        path.push_str(q);
    }
    let t = Target {
        url: raw.to_owned(),
        https,
        host,
        port,
        path,
        local_form,
    };
    if let Some(ip) = t.literal() {
        if !t.may_reach(ip, allow_local) {
            return Err(UrlRefusal::NotPublic);
        }
    } else if (t.host == "localhost" || t.host.ends_with(".localhost"))
        && !(local_form && allow_local)
    {
        return Err(UrlRefusal::NotPublic);
    }
    Ok(t)
}

/// An address that is globally routable: not loopback, private, link-local, shared,
/// documentation, benchmarking, multicast, broadcast or otherwise reserved.
pub fn public_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => public_v4(a),
        IpAddr::V6(a) => public_v6(a),
    }
}

fn public_v4(a: Ipv4Addr) -> bool {
    let o = a.octets();
    !(a.is_unspecified()
        || a.is_loopback()
        || a.is_private()
        || a.is_link_local()
        || a.is_broadcast()
        || a.is_documentation()
        || a.is_multicast()
        || o[0] == 0
        || (o[0] == 100 && (o[1] & 0xc0) == 64) // 100.64/10, shared
        || (o[0] == 192 && o[1] == 0 && o[2] == 0) // 192.0.0/24, protocol assignments
        || (o[0] == 198 && (o[1] & 0xfe) == 18) // 198.18/15, benchmarking
        || o[0] >= 240) // 240/4, reserved
}

fn public_v6(a: Ipv6Addr) -> bool {
    if let Some(v4) = a.to_ipv4_mapped() {
        return public_v4(v4);
    }
    let s = a.segments();
    !(a.is_unspecified()
        || a.is_loopback()
        || a.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // fc00::/7, unique local
        || (s[0] & 0xffc0) == 0xfe80 // fe80::/10, link-local
        || (s[0] & 0xffc0) == 0xfec0 // fec0::/10, site-local
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x0064 && s[1] == 0xff9b) // NAT64, maps to IPv4
        || (s[0] == 0x2002) // 6to4, maps to IPv4
        || (s[0] == 0 && s[1] == 0 && s[2] == 0 && s[3] == 0 && s[4] == 0 && s[5] == 0))
    // ::/96 compatible
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(url: &str) -> Option<UrlRefusal> {
        parse_url(url, false).err()
    }

    #[test]
    fn urls_that_the_rules_refuse() {
        assert_eq!(refused("http://example.com/h"), Some(UrlRefusal::Scheme));
        assert_eq!(refused("ftp://example.com/h"), Some(UrlRefusal::Scheme));
        assert_eq!(
            refused("https://u:p@example.com/h"),
            Some(UrlRefusal::Credentials)
        );
        assert_eq!(
            refused("https://u@example.com/"),
            Some(UrlRefusal::Credentials)
        );
        for private in [
            "https://127.0.0.1/",
            "https://10.1.2.3/",
            "https://172.16.0.1/",
            "https://172.31.255.255/",
            "https://192.168.1.1/",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/",
            "https://[fd00::1]/",
            "https://[fe80::1]/",
            "https://[::ffff:10.0.0.1]/",
            "https://0.0.0.0/",
            "https://100.64.0.1/",
            "https://localhost/",
            "http://127.0.0.1:8080/",
            "http://localhost:8080/",
        ] {
            assert_eq!(refused(private), Some(UrlRefusal::NotPublic), "{private}");
        }
        assert_eq!(refused("not a url"), Some(UrlRefusal::Malformed));
        assert_eq!(refused(""), Some(UrlRefusal::Malformed));
    }

    #[test]
    fn urls_that_pass() {
        let t = parse_url("https://hooks.example.com/in?x=1", false).unwrap();
        assert_eq!((t.https, t.port, t.path.as_str()), (true, 443, "/in?x=1"));
        assert!(parse_url("https://93.184.216.34:8443/", false).is_ok());
        assert!(parse_url("https://[2606:4700::1111]/", false).is_ok());
    }

    #[test]
    fn the_local_stack_takes_its_two_forms_only() {
        let t = parse_url("http://127.0.0.1:8080/hook", true).unwrap();
        assert!(t.local_form && !t.https && t.port == 8080);
        assert!(parse_url("http://localhost:9/", true).is_ok());
        assert_eq!(
            parse_url("https://10.0.0.1/", true).err(),
            Some(UrlRefusal::NotPublic)
        );
        assert_eq!(
            parse_url("http://10.0.0.1/", true).err(),
            Some(UrlRefusal::Scheme)
        );
        assert_eq!(
            parse_url("https://127.0.0.1/", true).err(),
            Some(UrlRefusal::NotPublic)
        );
        let local = parse_url("http://localhost:9/", true).unwrap();
        assert!(local.may_reach("127.0.0.1".parse().unwrap(), true));
        assert!(!local.may_reach("10.0.0.1".parse().unwrap(), true));
        let public = parse_url("https://example.com/", true).unwrap();
        assert!(!public.may_reach("127.0.0.1".parse().unwrap(), true));
    }
}
