//! Category rules: names, descriptions and the slug derived from the name.

pub const NAME_MAX: usize = 60;
pub const DESCRIPTION_MAX: usize = 500;

/// A category's URL id: lower-case ASCII words joined by `-`, derived from the name
/// (accents transliterated), at most 60 characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slug(String);

impl Slug {
    pub fn from_name(name: &str) -> Result<Self, &'static str> {
        let s = slug::slugify(name);
        let s = s.chars().take(NAME_MAX).collect::<String>().trim_end_matches('-').to_string();
        if s.is_empty() {
            return Err("must contain letters or digits");
        }
        Ok(Slug(s))
    }
    /// A slug from a URL: must already be in slug form.
    pub fn parse(raw: &str) -> Option<Self> {
        let ok = !raw.is_empty()
            && raw.len() <= NAME_MAX
            && raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !raw.starts_with('-')
            && !raw.ends_with('-');
        ok.then(|| Slug(raw.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub fn name(raw: &str) -> Result<String, &'static str> {
    let n = raw.trim();
    if n.is_empty() {
        return Err("is required");
    }
    if n.chars().count() > NAME_MAX {
        return Err("must be at most 60 characters");
    }
    if raw.chars().any(common::values::breaks_line) {
        return Err(common::values::LINE_BREAK_REFUSED);
    }
    Ok(n.to_string())
}

/// Trimmed, at most [`DESCRIPTION_MAX`] characters, no control characters but newline and
/// tab; empty means none (the shared text rule).
pub fn description(raw: &str) -> Result<Option<String>, &'static str> {
    common::values::optional_text(raw, DESCRIPTION_MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_from_names() {
        assert_eq!(Slug::from_name("Software Engineering").unwrap().as_str(), "software-engineering");
        assert_eq!(
            Slug::from_name("  Développement & Données ").unwrap().as_str(),
            "developpement-donnees"
        );
        assert_eq!(Slug::from_name("C++ / .NET").unwrap().as_str(), "c-net");
        assert!(Slug::from_name("!!!").is_err());
        assert!(Slug::from_name(&"a".repeat(100)).unwrap().as_str().len() <= NAME_MAX);
    }

    #[test]
    fn slugs_from_urls() {
        assert!(Slug::parse("software-engineering").is_some());
        for bad in ["", "Software", "a_b", "-a", "a-", "a b", "é"] {
            assert!(Slug::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn names_and_descriptions() {
        assert_eq!(name("  Design ").unwrap(), "Design");
        assert!(name("").is_err());
        assert!(name(&"n".repeat(61)).is_err());
        assert_eq!(description("  ").unwrap(), None);
        assert!(description(&"d".repeat(501)).is_err());
    }
}
