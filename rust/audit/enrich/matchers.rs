//! Compiled matchers of the configuration: label regexes, environment variable
//! names and prefixes, and socket address filters (CIDR and/or port).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use regex::bytes::RegexSet;

/// `regex -> label` pairs, matched in one pass.
#[derive(Debug, Clone)]
pub struct LabelMatcher {
    set: RegexSet,
    labels: Vec<String>,
}

impl LabelMatcher {
    pub fn new(map: &BTreeMap<String, String>) -> Result<Option<LabelMatcher>, String> {
        if map.is_empty() {
            return Ok(None);
        }
        let set = RegexSet::new(map.keys()).map_err(|e| e.to_string())?;
        Ok(Some(LabelMatcher {
            set,
            labels: map.values().cloned().collect(),
        }))
    }

    pub fn matches<'a>(&'a self, text: &[u8]) -> impl Iterator<Item = &'a str> + 'a {
        self.set
            .matches(text)
            .into_iter()
            .map(move |i| self.labels[i].as_str())
    }
}

/// Environment variables to report: exact names, or prefixes (`NAME*`).
#[derive(Debug, Clone, Default)]
pub struct EnvMatcher {
    exact: Vec<Vec<u8>>,
    prefixes: Vec<Vec<u8>>,
}

impl EnvMatcher {
    pub fn new(names: &[String]) -> EnvMatcher {
        let mut m = EnvMatcher::default();
        for n in names {
            match n.strip_suffix('*') {
                Some(p) => m.prefixes.push(p.as_bytes().to_vec()),
                None => m.exact.push(n.as_bytes().to_vec()),
            }
        }
        m
    }

    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.prefixes.is_empty()
    }

    fn wants(&self, name: &[u8]) -> bool {
        self.exact.iter().any(|e| e == name) || self.prefixes.iter().any(|p| name.starts_with(p))
    }

    /// The wanted `NAME=value` pairs of a NUL-separated environment block, in
    /// block order.
    pub fn select<'a>(&self, block: &'a [u8]) -> Vec<(&'a [u8], &'a [u8])> {
        block
            .split(|&c| c == 0)
            .filter_map(|kv| {
                let eq = kv.iter().position(|&c| c == b'=')?;
                let (k, v) = (&kv[..eq], &kv[eq + 1..]);
                self.wants(k).then_some((k, v))
            })
            .collect()
    }
}

/// One `filter-sockaddr` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SockaddrMatcher {
    net: Option<(IpAddr, u8)>,
    port: Option<u16>,
}

fn parse_net(s: &str) -> Result<(IpAddr, u8), String> {
    let (addr, bits) = match s.split_once('/') {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    };
    let ip: IpAddr = addr.parse().map_err(|_| format!("bad address {addr:?}"))?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let bits = match bits {
        Some(b) => b
            .parse::<u8>()
            .ok()
            .filter(|&b| b <= max)
            .ok_or_else(|| format!("bad prefix length {b:?}"))?,
        None => max,
    };
    Ok((ip, bits))
}

fn parse_port(s: &str) -> Result<u16, String> {
    s.parse().map_err(|_| format!("bad port {s:?}"))
}

impl SockaddrMatcher {
    /// `ipv4[/bits][:port]`, `ipv6[/bits]`, `[ipv6[/bits]]:port`, `*:port`.
    pub fn parse(s: &str) -> Result<SockaddrMatcher, String> {
        let err = |e: String| format!("filter-sockaddr {s:?}: {e}");
        if let Some(port) = s.strip_prefix("*:") {
            return Ok(SockaddrMatcher {
                net: None,
                port: Some(parse_port(port).map_err(err)?),
            });
        }
        if let Some(rest) = s.strip_prefix('[') {
            let (inner, after) = rest
                .split_once(']')
                .ok_or_else(|| err("missing ']'".into()))?;
            let port = match after {
                "" => None,
                p => Some(parse_port(p.strip_prefix(':').unwrap_or(p)).map_err(err)?),
            };
            return Ok(SockaddrMatcher {
                net: Some(parse_net(inner).map_err(err)?),
                port,
            });
        }
        if s.matches(':').count() == 1 {
            let (net, port) = s.split_once(':').unwrap_or((s, ""));
            return Ok(SockaddrMatcher {
                net: Some(parse_net(net).map_err(err)?),
                port: Some(parse_port(port).map_err(err)?),
            });
        }
        Ok(SockaddrMatcher {
            net: Some(parse_net(s).map_err(err)?),
            port: None,
        })
    }

    pub fn matches(&self, ip: IpAddr, port: u16) -> bool {
        if self.port.is_some_and(|p| p != port) {
            return false;
        }
        match (self.net, ip) {
            (None, _) => true,
            (Some((IpAddr::V4(n), bits)), IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (Some((IpAddr::V6(n), bits)), IpAddr::V6(a)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// Address and port of a SOCKADDR record's `saddr` (hex of struct sockaddr),
/// for AF_INET and AF_INET6.
pub fn decode_saddr(hex: &[u8]) -> Option<(IpAddr, u16)> {
    let mut b = Vec::with_capacity(hex.len() / 2);
    for pair in hex.chunks_exact(2) {
        let s = std::str::from_utf8(pair).ok()?;
        b.push(u8::from_str_radix(s, 16).ok()?);
    }
    let family = u16::from_le_bytes([*b.first()?, *b.get(1)?]);
    let port = u16::from_be_bytes([*b.get(2)?, *b.get(3)?]);
    match family {
        2 => {
            let a: [u8; 4] = b.get(4..8)?.try_into().ok()?;
            Some((IpAddr::V4(Ipv4Addr::from(a)), port))
        }
        10 => {
            let a: [u8; 16] = b.get(8..24)?.try_into().ok()?;
            Some((IpAddr::V6(Ipv6Addr::from(a)), port))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> SockaddrMatcher {
        SockaddrMatcher::parse(s).unwrap()
    }

    #[test]
    fn sockaddr_specs() {
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        let lan: IpAddr = "192.168.0.77".parse().unwrap();
        let v6: IpAddr = "2a00:1450:4001:82f::200e".parse().unwrap();
        assert!(m("127.0.0.1").matches(lo, 5));
        assert!(!m("127.0.0.1").matches(lan, 5));
        assert!(m("192.168.0.0/24:22").matches(lan, 22));
        assert!(!m("192.168.0.0/24:22").matches(lan, 23));
        assert!(m("0.0.0.0/0").matches(lan, 1));
        assert!(m("::/0").matches(v6, 1));
        assert!(m("2a00:1450::/32").matches(v6, 1));
        assert!(!m("2a00:1451::/32").matches(v6, 1));
        assert!(m("[2a00:1450:4001:82f::200e]:443").matches(v6, 443));
        assert!(!m("[2a00:1450:4001:82f::200e]:443").matches(v6, 80));
        assert!(m("[2a00:1450::/32]:443").matches(v6, 443));
        assert!(m("*:111").matches(lo, 111) && m("*:111").matches(v6, 111));
        assert!(!m("127.0.0.1").matches(v6, 1));
        for bad in [
            "",
            "x",
            "1.2.3.4/33",
            "*:x",
            "[::1",
            "1.2.3.4:99999",
            "[::1]x",
        ] {
            assert!(SockaddrMatcher::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn saddr_hex() {
        assert_eq!(
            decode_saddr(b"0200AB147F0000010000000000000000"),
            Some(("127.0.0.1".parse().unwrap(), 43796))
        );
        let v6 = b"0A0001BB000000002A00145040010000000000000000200E00000000";
        assert_eq!(
            decode_saddr(v6),
            Some(("2a00:1450:4001::200e".parse().unwrap(), 443))
        );
        assert_eq!(decode_saddr(b"01002F746D70"), None);
        assert_eq!(decode_saddr(b"02"), None);
        assert_eq!(decode_saddr(b"zz"), None);
    }

    #[test]
    fn env_and_labels() {
        let e = EnvMatcher::new(&["LD_PRELOAD".into(), "K8S_*".into()]);
        let got = e.select(b"PATH=/bin\0LD_PRELOAD=/x.so\0K8S_NS=a=b\0K8S\0\0");
        assert_eq!(
            got,
            vec![
                (&b"LD_PRELOAD"[..], &b"/x.so"[..]),
                (&b"K8S_NS"[..], &b"a=b"[..])
            ]
        );
        let mut map = BTreeMap::new();
        map.insert("^/usr/bin/.*sh$".to_string(), "shell".to_string());
        map.insert("bash".to_string(), "bash".to_string());
        let l = LabelMatcher::new(&map).unwrap().unwrap();
        let mut got: Vec<&str> = l.matches(b"/usr/bin/bash").collect();
        got.sort_unstable();
        assert_eq!(got, ["bash", "shell"]);
        map.insert("(".to_string(), "x".to_string());
        assert!(LabelMatcher::new(&map).is_err());
    }
}
