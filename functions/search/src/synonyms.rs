//! Abbreviations and synonyms, expanded at query time: the local stand-in ignores synonym
//! filters, and a list in code is reviewed like code. Each group's members are equivalent.

const GROUPS: &[&[&str]] = &[
    &["js", "javascript", "ecmascript"],
    &["ts", "typescript"],
    &["k8s", "kubernetes"],
    &[
        "sre",
        "site reliability engineer",
        "site reliability engineering",
        "site reliability",
    ],
    &["ml", "machine learning"],
    &["ai", "artificial intelligence"],
    &["nlp", "natural language processing"],
    &["dev", "developer", "development"],
    &["swe", "software engineer", "software developer"],
    &["pm", "product manager", "project manager"],
    &["qa", "quality assurance", "tester", "test engineer"],
    &["ux", "user experience"],
    &["ui", "user interface"],
    &["devops", "dev ops"],
    &["frontend", "front end", "front-end"],
    &["backend", "back end", "back-end"],
    &["fullstack", "full stack", "full-stack"],
    &["golang", "go"],
    &["py", "python"],
    &["db", "database"],
    &["dba", "database administrator"],
    &["postgres", "postgresql"],
    &["node", "nodejs", "node.js"],
    &["react", "reactjs", "react.js"],
    &["vue", "vuejs", "vue.js"],
    &["csharp", "c#"],
    &["cpp", "c++"],
    &["aws", "amazon web services"],
    &["gcp", "google cloud", "google cloud platform"],
    &["hr", "human resources"],
    &["cto", "chief technology officer"],
    &["ceo", "chief executive officer"],
    &["cfo", "chief financial officer"],
    &["ios", "iphone"],
    &["ds", "data scientist", "data science"],
    &["bi", "business intelligence"],
    &["seo", "search engine optimization"],
    &["ops", "operations"],
    &["sysadmin", "system administrator", "systems administrator"],
];

/// Words that say nothing about a job ("engineer in Berlin").
const STOP: &[&str] = &["a", "an", "and", "at", "for", "in", "of", "on", "or", "the", "to", "with"];

/// Longest phrase (in words) of any group member.
const MAX_WORDS: usize = 4;

/// The words of a query: lower case, split on white space and separators, `c#`, `c++` and
/// `node.js` kept whole.
pub fn words(q: &str) -> Vec<String> {
    q.to_lowercase()
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '/' | '(' | ')' | '"' | '!' | '?' | ':'))
        .map(|w| w.trim_matches(|c: char| c == '.' || c == '\'' || c == '-'))
        .filter(|w| !w.is_empty() && !STOP.contains(w))
        .map(str::to_string)
        .collect()
}

/// One unit of the query: the words as typed and what they are equivalent to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slot {
    pub text: String,
    pub alternatives: Vec<&'static str>,
}

fn group_of(phrase: &str) -> Option<&'static [&'static str]> {
    GROUPS.iter().find(|g| g.contains(&phrase)).copied()
}

/// Splits the query into slots, longest known phrase first ("site reliability engineer" is
/// one slot with "sre" as its alternative).
pub fn slots(q: &str) -> Vec<Slot> {
    let w = words(q);
    let mut out = Vec::new();
    let mut i = 0;
    while i < w.len() {
        let mut taken = None;
        for n in (1..=MAX_WORDS.min(w.len() - i)).rev() {
            let phrase = w[i..i + n].join(" ");
            if let Some(g) = group_of(&phrase) {
                taken = Some((n, phrase, g));
                break;
            }
        }
        match taken {
            Some((n, phrase, g)) => {
                let alternatives = g.iter().copied().filter(|m| *m != phrase).collect();
                out.push(Slot {
                    text: phrase,
                    alternatives,
                });
                i += n;
            }
            None => {
                out.push(Slot {
                    text: w[i].clone(),
                    alternatives: vec![],
                });
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases_and_abbreviations_expand() {
        let s = slots("Senior SRE, k8s");
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].text, "senior");
        assert!(s[0].alternatives.is_empty());
        assert!(s[1].alternatives.contains(&"site reliability engineer"));
        assert!(s[2].alternatives.contains(&"kubernetes"));
        let s = slots("site reliability engineer in Berlin");
        assert_eq!(s[0].text, "site reliability engineer");
        assert!(s[0].alternatives.contains(&"sre"));
        assert_eq!(s.len(), 2, "\"in\" says nothing: {s:?}");
        assert_eq!(words("C# / node.js developer"), vec!["c#", "node.js", "developer"]);
    }
}
