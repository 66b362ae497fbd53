//! Company rules: what a valid name, website, location, size and industry are.

use common::values::{optional_text, required_text};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub const NAME_MAX: usize = 120;
pub const DESCRIPTION_MAX: usize = 5000;
pub const INDUSTRY_MAX: usize = 80;

pub fn name(raw: &str) -> Result<String, &'static str> {
    required_text(raw, NAME_MAX)
}
pub fn description(raw: &str) -> Result<Option<String>, &'static str> {
    optional_text(raw, DESCRIPTION_MAX)
}
pub fn industry(raw: &str) -> Result<Option<String>, &'static str> {
    optional_text(raw, INDUSTRY_MAX)
}

pub use common::values::website;

/// Company headcount bands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum CompanySize {
    #[serde(rename = "1-10")]
    S1To10,
    #[serde(rename = "11-50")]
    S11To50,
    #[serde(rename = "51-200")]
    S51To200,
    #[serde(rename = "201-500")]
    S201To500,
    #[serde(rename = "501-1000")]
    S501To1000,
    #[serde(rename = "1001-5000")]
    S1001To5000,
    #[serde(rename = "5001+")]
    S5001Plus,
}

pub use common::values::Location;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_sizes() {
        assert_eq!(name("  Acme ").unwrap(), "Acme");
        assert!(name(" ").is_err());
        assert!(name(&"n".repeat(121)).is_err());
        assert_eq!(serde_json::to_string(&CompanySize::S5001Plus).unwrap(), "\"5001+\"");
        assert!(serde_json::from_str::<CompanySize>("\"huge\"").is_err());
    }
}
