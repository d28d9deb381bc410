//! Translation catalogues. Every user-visible string lives in `locales/<lang>.toml`; a test
//! makes sure both catalogues have the same keys and that every key the code uses exists.

use std::collections::HashMap;
use std::sync::OnceLock;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    #[default]
    De,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::De, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Lang::De => "de",
            Lang::En => "en",
        }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        match code.trim().to_ascii_lowercase().as_str() {
            "de" => Some(Lang::De),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The other language, offered by the language switch.
    pub fn other(self) -> Lang {
        match self {
            Lang::De => Lang::En,
            Lang::En => Lang::De,
        }
    }

    /// Picks the preferred supported language from an `Accept-Language` header, honouring
    /// quality values; German when nothing matches.
    pub fn from_accept_language(header: &str) -> Lang {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim();
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or("");
            if let Some(lang) = Lang::from_code(primary) {
                if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
                    best = Some((q, lang));
                }
            }
        }
        best.map(|(_, l)| l).unwrap_or_default()
    }
}

pub(crate) const CATALOGUE_DE: &str = include_str!("../locales/de.toml");
pub(crate) const CATALOGUE_EN: &str = include_str!("../locales/en.toml");

type Catalogue = HashMap<String, String>;

/// Flattens nested tables into dotted keys (`[nav] home = …` becomes `nav.home`).
pub(crate) fn parse_catalogue(text: &str) -> Result<Catalogue, String> {
    fn walk(prefix: &str, table: &toml::Table, out: &mut Catalogue) -> Result<(), String> {
        for (k, v) in table {
            let key = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            match v {
                toml::Value::String(s) => {
                    out.insert(key, s.clone());
                }
                toml::Value::Table(t) => walk(&key, t, out)?,
                _ => return Err(format!("{key}: only strings and tables are allowed")),
            }
        }
        Ok(())
    }
    let table: toml::Table = text.parse().map_err(|e| format!("{e}"))?;
    let mut out = HashMap::new();
    walk("", &table, &mut out)?;
    Ok(out)
}

fn catalogue(lang: Lang) -> &'static Catalogue {
    static DE: OnceLock<Catalogue> = OnceLock::new();
    static EN: OnceLock<Catalogue> = OnceLock::new();
    let (cell, text) = match lang {
        Lang::De => (&DE, CATALOGUE_DE),
        Lang::En => (&EN, CATALOGUE_EN),
    };
    // The catalogues are compiled in and checked by tests, so a parse error is a build defect.
    cell.get_or_init(|| parse_catalogue(text).expect("translation catalogue must parse"))
}

/// Looks up a message. A missing key shows the key itself (tests prevent that from shipping).
pub fn t(lang: Lang, key: &str) -> &'static str {
    match catalogue(lang).get(key) {
        Some(s) => s.as_str(),
        None => {
            debug_assert!(false, "missing translation key {key} for {}", lang.code());
            // Leaking once per missing key keeps the signature simple; only reachable on defects.
            Box::leak(key.to_owned().into_boxed_str())
        }
    }
}

/// Looks up a message and fills `{name}` placeholders.
pub fn tf(lang: Lang, key: &str, args: &[(&str, &str)]) -> String {
    let mut s = t(lang, key).to_owned();
    for (name, value) in args {
        s = s.replace(&format!("{{{name}}}"), value);
    }
    s
}

/// Whether a key exists; used by the test that scans the sources for keys in use.
pub fn has_key(lang: Lang, key: &str) -> bool {
    catalogue(lang).contains_key(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogues_have_the_same_keys() {
        let de = parse_catalogue(CATALOGUE_DE).unwrap();
        let en = parse_catalogue(CATALOGUE_EN).unwrap();
        let mut missing_en: Vec<_> = de.keys().filter(|k| !en.contains_key(*k)).collect();
        let mut missing_de: Vec<_> = en.keys().filter(|k| !de.contains_key(*k)).collect();
        missing_en.sort();
        missing_de.sort();
        assert!(missing_en.is_empty(), "missing in en.toml: {missing_en:?}");
        assert!(missing_de.is_empty(), "missing in de.toml: {missing_de:?}");
    }

    #[test]
    fn placeholders_match_between_languages() {
        let de = parse_catalogue(CATALOGUE_DE).unwrap();
        let en = parse_catalogue(CATALOGUE_EN).unwrap();
        let holes = |s: &str| {
            let mut v: Vec<String> = s
                .split('{')
                .skip(1)
                .filter_map(|p| p.split_once('}').map(|(n, _)| n.to_string()))
                .collect();
            v.sort();
            v
        };
        for (k, v) in &de {
            if let Some(e) = en.get(k) {
                assert_eq!(holes(v), holes(e), "placeholders differ for {k}");
            }
        }
    }

    #[test]
    fn accept_language_is_honoured() {
        assert_eq!(
            Lang::from_accept_language("en-GB,en;q=0.9,de;q=0.8"),
            Lang::En
        );
        assert_eq!(
            Lang::from_accept_language("fr-FR,de;q=0.5,en;q=0.4"),
            Lang::De
        );
        assert_eq!(Lang::from_accept_language("de;q=0.2, en;q=0.9"), Lang::En);
        assert_eq!(Lang::from_accept_language("fr"), Lang::De);
        assert_eq!(Lang::from_accept_language(""), Lang::De);
        assert_eq!(Lang::from_accept_language("en;q=0"), Lang::De);
    }
}
