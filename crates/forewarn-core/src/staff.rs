//! Staff of the security team and their roles.

use std::fmt;

use crate::error::{quote, Invalid};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Everything, including users and keys.
    Admin,
    /// Writes advisories.
    Author,
    /// Approves advisories written by others, and schedules them.
    Approver,
    /// Manages partners and policy.
    ProgramManager,
    /// Investigates leaks.
    Investigator,
    /// Reads the history and the transparency log.
    Auditor,
}

impl Role {
    pub const ALL: [Role; 6] =
        [Self::Admin, Self::Author, Self::Approver, Self::ProgramManager, Self::Investigator, Self::Auditor];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Author => "author",
            Self::Approver => "approver",
            Self::ProgramManager => "program-manager",
            Self::Investigator => "investigator",
            Self::Auditor => "auditor",
        }
    }

    pub fn parse(s: &str) -> Result<Self, Invalid> {
        Self::ALL.into_iter().find(|r| r.as_str() == s.trim()).ok_or_else(|| {
            Invalid::new(
                "role",
                format!(
                    "{} is not a role; use admin, author, approver, program-manager, investigator or auditor",
                    quote(s)
                ),
            )
        })
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of roles. `admin` does not imply the others in the data; [`Roles::allows`] is where it counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Roles(u8);

impl Roles {
    pub fn from_slice(roles: &[Role]) -> Self {
        Self(roles.iter().fold(0, |acc, r| acc | r.bit()))
    }

    /// Parses a comma-separated list such as `author,approver`. The empty list is refused: a user with no role
    /// could do nothing.
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let roles = s.split(',').filter(|p| !p.trim().is_empty()).map(Role::parse).collect::<Result<Vec<_>, _>>()?;
        if roles.is_empty() {
            return Err(Invalid::new("role", "give at least one role, e.g. --roles author"));
        }
        Ok(Self::from_slice(&roles))
    }

    pub fn contains(self, role: Role) -> bool {
        self.0 & role.bit() != 0
    }

    /// Whether a user with these roles may act in `role`: they hold it, or they are an admin.
    pub fn allows(self, role: Role) -> bool {
        self.contains(role) || self.contains(Role::Admin)
    }

    pub fn iter(self) -> impl Iterator<Item = Role> {
        Role::ALL.into_iter().filter(move |r| self.contains(*r))
    }
}

impl fmt::Display for Roles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Role::as_str).collect();
        f.write_str(&names.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip() {
        let r = Roles::parse("approver, author").unwrap();
        assert_eq!(r.to_string(), "author,approver");
        assert_eq!(Roles::parse(&r.to_string()).unwrap(), r);
        assert!(r.allows(Role::Author) && !r.allows(Role::Auditor));
        assert!(Roles::parse("admin").unwrap().allows(Role::Auditor));
        assert!(Roles::parse("").is_err());
        assert!(Roles::parse("author,root").is_err());
    }
}
