use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Role {
    Citizen,
    Caseworker,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Citizen => "citizen",
            Role::Caseworker => "caseworker",
            Role::Admin => "admin",
        }
    }
}

impl FromStr for Role {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "citizen" => Ok(Role::Citizen),
            "caseworker" => Ok(Role::Caseworker),
            "admin" => Ok(Role::Admin),
            _ => Err(()),
        }
    }
}
