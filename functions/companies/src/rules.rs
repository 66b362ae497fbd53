//! Company rules: what a valid name, website, location, size and industry are.

use common::values::{optional_line, optional_text, required_line};
pub use common::vocab::CompanySize;

pub const NAME_MAX: usize = 120;
pub const DESCRIPTION_MAX: usize = 5000;
pub const INDUSTRY_MAX: usize = 80;

pub fn name(raw: &str) -> Result<String, &'static str> {
    required_line(raw, NAME_MAX)
}
pub fn description(raw: &str) -> Result<Option<String>, &'static str> {
    optional_text(raw, DESCRIPTION_MAX)
}
pub fn industry(raw: &str) -> Result<Option<String>, &'static str> {
    optional_line(raw, INDUSTRY_MAX)
}

pub use common::values::website;

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
