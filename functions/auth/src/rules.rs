//! Account rules: what a valid email, password, name and registrable role are, and the
//! login lockout window. Pure functions; parsed once at the edge into these types.

use std::collections::HashSet;
use std::sync::OnceLock;

use common::token::Role;

pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 128;
pub const NAME_MAX: usize = 100;
pub const EMAIL_MAX: usize = 254;
/// Failed logins allowed in one window before the account is locked until it passes.
pub const MAX_FAILED_LOGINS: u32 = 5;
pub const LOCKOUT_WINDOW_SECS: i64 = 15 * 60;

/// A normalised (trimmed, lower-case) email address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let e = raw.trim().to_lowercase();
        if e.is_empty() {
            return Err("is required");
        }
        if e.len() > EMAIL_MAX {
            return Err("is too long");
        }
        let Some((local, domain)) = e.rsplit_once('@') else {
            return Err("is not an email address");
        };
        let domain_ok = domain.len() >= 3
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        // RFC 5322 atext and dots: what mail systems deliver to without SMTPUTF8 (an
        // internationalised domain is given in its punycode form).
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".!#$%&'*+/=?^_`{|}~-".contains(c));
        if !domain_ok || !local_ok {
            return Err("is not an email address");
        }
        Ok(Email(e))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password that satisfies the policy (still plaintext: hash it, never store it).
pub struct Password(String);

fn common_passwords() -> &'static HashSet<String> {
    static SET: OnceLock<HashSet<String>> = OnceLock::new();
    SET.get_or_init(|| {
        include_str!("../data/common-passwords.txt")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_lowercase)
            .collect()
    })
}

impl Password {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let chars = raw.chars().count();
        if chars < PASSWORD_MIN {
            return Err("must be at least 8 characters");
        }
        if chars > PASSWORD_MAX {
            return Err("must be at most 128 characters");
        }
        if raw.trim().is_empty() {
            return Err("must not be blank");
        }
        if common_passwords().contains(&raw.to_lowercase()) {
            return Err("is too common; choose a less guessable password");
        }
        Ok(Password(raw.to_string()))
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// A person's display name: trimmed, 1-100 characters, no control characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FullName(String);

impl FullName {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let n = raw.trim();
        if n.is_empty() {
            return Err("is required");
        }
        if n.chars().count() > NAME_MAX {
            return Err("must be at most 100 characters");
        }
        if raw.chars().any(common::values::breaks_line) {
            return Err(common::values::LINE_BREAK_REFUSED);
        }
        Ok(FullName(n.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Roles a person can register with; admins are created by a command.
pub fn registrable_role(raw: &str) -> Result<Role, &'static str> {
    match raw {
        "seeker" => Ok(Role::Seeker),
        "employer" => Ok(Role::Employer),
        _ => Err("must be \"seeker\" or \"employer\""),
    }
}

pub use common::error::Problems;

/// The network a sign-in comes from, as failures are counted: an IPv4 address, or the /64 of
/// an IPv6 address (one host is given a whole /64, and may move within it at will).
pub fn network_of(ip: &str) -> String {
    match ip.trim().parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Ok(std::net::IpAddr::V6(v6)) => v6.to_ipv4_mapped().map(|v4| v4.to_string()).unwrap_or_default(),
        Ok(ip) => ip.to_string(),
        Err(_) => ip.trim().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(Email::parse("  Ada@Example.COM ").unwrap().as_str(), "ada@example.com");
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "ada@exa mple.com",
            "ada@.com",
            "ada@example..com",
            "ad\"a@example.com",
            "ada@exämple.com",
            "adä@example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(250))).is_err());
        assert!(Email::parse("o'brien+jobs@xn--exmple-cua.com").is_ok());
    }

    #[test]
    fn password_policy() {
        assert!(Password::parse("short").is_err());
        assert!(Password::parse(&"x".repeat(129)).is_err());
        assert!(Password::parse(&"é".repeat(128)).is_ok(), "length counts characters, not bytes");
        assert!(Password::parse("password123").is_err());
        assert!(Password::parse("PassWord123").is_err(), "common check ignores case");
        assert!(Password::parse("        ").is_err());
        assert!(Password::parse("correct horse battery").is_ok());
    }

    #[test]
    fn names_and_roles() {
        assert_eq!(FullName::parse("  Ada Lovelace ").unwrap().as_str(), "Ada Lovelace");
        assert!(FullName::parse(" ").is_err());
        assert!(FullName::parse("a\u{0}b").is_err());
        assert!(FullName::parse(&"n".repeat(101)).is_err());
        assert_eq!(registrable_role("seeker").unwrap(), Role::Seeker);
        assert_eq!(registrable_role("employer").unwrap(), Role::Employer);
        assert!(registrable_role("admin").is_err());
        assert!(registrable_role("Seeker").is_err());
    }

    #[test]
    fn failures_count_per_network() {
        assert_eq!(network_of("203.0.113.7"), "203.0.113.7");
        assert_eq!(network_of("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(network_of("2001:db8:1:2:ffff:1:2:3"), network_of("2001:db8:1:2::9"), "one /64");
        assert_ne!(network_of("2001:db8:1:3::1"), network_of("2001:db8:1:2::1"));
        assert_eq!(network_of("::ffff:203.0.113.7"), "203.0.113.7");
        assert_eq!(network_of(""), "");
    }
}
