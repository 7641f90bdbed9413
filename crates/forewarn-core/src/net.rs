//! IP networks for partner allow-lists: `192.0.2.0/24`, `2001:db8::/32`, or a single address.

use std::fmt;
use std::net::IpAddr;

use crate::error::{quote, Invalid};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let bad =
            || Invalid::new("IP network", format!("{} is not an address or a network such as 192.0.2.0/24", quote(s)));
        let (a, p) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let addr: IpAddr = a.parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
            None => max,
        };
        let net = Self { addr, prefix };
        if net.network() != addr {
            return Err(Invalid::new(
                "IP network",
                format!("{} has host bits set; write {}", quote(s), Self { addr: net.network(), prefix }),
            ));
        }
        Ok(net)
    }

    fn mask(bits: u32, prefix: u8) -> u128 {
        if prefix == 0 {
            0
        } else {
            (!0u128) << (bits - u32::from(prefix))
        }
    }

    fn network(&self) -> IpAddr {
        match self.addr {
            IpAddr::V4(v4) => {
                let m = Self::mask(32, self.prefix) as u32;
                IpAddr::V4((u32::from(v4) & m).into())
            }
            IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & Self::mask(128, self.prefix)).into()),
        }
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let m = Self::mask(32, self.prefix) as u32;
                u32::from(n) & m == u32::from(a) & m
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let m = Self::mask(128, self.prefix);
                u128::from(n) & m == u128::from(a) & m
            }
            _ => false,
        }
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks() {
        let n = IpNet::parse("192.0.2.0/24").unwrap();
        assert!(n.contains("192.0.2.77".parse().unwrap()));
        assert!(n.contains("::ffff:192.0.2.1".parse().unwrap()));
        assert!(!n.contains("192.0.3.1".parse().unwrap()));
        assert_eq!(IpNet::parse("198.51.100.7").unwrap().to_string(), "198.51.100.7/32");
        assert!(IpNet::parse("2001:db8::/32").unwrap().contains("2001:db8:1::5".parse().unwrap()));
        assert!(IpNet::parse("0.0.0.0/0").unwrap().contains("203.0.113.9".parse().unwrap()));
        for bad in ["", "192.0.2.0/33", "192.0.2.1/24", "example.com", "10.0.0.0/x"] {
            assert!(IpNet::parse(bad).is_err(), "{bad}");
        }
    }
}
