//! The name search's index: the lower-cased words of applicants' names (`case_search`, one row
//! per word with the case's date and state), written with every case, and the indexed words a
//! typed prefix stands for.

use crate::db::batch::Batch;
use crate::domain::Reference;

/// Lower-cased words of a name, as stored in `case_search` and matched by prefix.
pub fn name_terms(name: &str) -> Vec<String> {
    let mut terms: Vec<String> = name
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase().chars().take(40).collect())
        .collect();
    terms.sort();
    terms.dedup();
    terms.truncate(8);
    terms
}

/// The exclusive upper bound of all strings that start with `prefix` (byte order).
pub fn prefix_end(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

/// A search word matches names with a word starting with it; this many such words are looked
/// at (typing "m" alone does not list every name starting with m).
pub const MAX_WORDS: usize = 12;

/// The name words of a search; none for a reference number, which is looked up as such.
pub fn terms(search: &str) -> Vec<String> {
    if Reference::parse(search.trim()).is_some() {
        return Vec::new();
    }
    name_terms(search)
}

/// The word of a search (its `terms`) that drives the index: the longest, as the most selective
/// (the others filter; of equally long words the last in byte order).
pub fn lead(terms: &[String]) -> Option<&str> {
    terms
        .iter()
        .max_by_key(|t| t.chars().count())
        .map(String::as_str)
}

/// A scalar subquery: the distinct indexed words in postbox `$1` that start with the prefix in
/// `$p` (its `prefix_end` in `$p+1`), at most `MAX_WORDS`, separated by spaces (words have none:
/// `name_terms` splits at every other character), NULL if there are none. Each word is found
/// by one index seek (no scan over all rows of a common name), the seeks chained in one
/// recursive statement; as a column it costs the inbox no statement of its own. `string_agg`
/// is PostgreSQL's and, since 3.44, SQLite's too.
pub fn words_column(p: usize) -> String {
    let next = format!(
        "SELECT term FROM case_search WHERE postbox_id = $1 AND term {{op}} {{from}} AND term < ${} ORDER BY term LIMIT 1",
        p + 1
    );
    format!(
        "(WITH RECURSIVE w (term, n) AS (
           SELECT ({}), 1
           UNION ALL
           SELECT ({}), w.n + 1 FROM w WHERE w.term IS NOT NULL AND w.n < {MAX_WORDS}
         )
         SELECT string_agg(term, ' ' ORDER BY n) FROM w WHERE term IS NOT NULL)",
        next.replace("{op}", ">=")
            .replace("{from}", &format!("${p}")),
        next.replace("{op}", ">").replace("{from}", "w.term"),
    )
}

/// The words of a `words_column`. A space cannot be part of a word: `name_terms` keeps only
/// alphanumeric characters, and no whitespace character is alphanumeric.
pub fn split_words(column: Option<String>) -> Vec<String> {
    column
        .map(|c| {
            c.split(' ')
                .filter(|w| !w.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Writes the search words of a case (forwarding moves them along), inside the caller's
/// transaction, with the state the case has there.
pub async fn index_name(
    conn: &mut sqlx::AnyConnection,
    postbox: &str,
    case_id: &str,
    submitted_at: i64,
    name: &str,
) -> sqlx::Result<()> {
    let mut batch = Batch::new();
    index_name_into(&mut batch, postbox, case_id, submitted_at, name, None);
    batch.run_in(conn).await
}

/// `index_name` as part of a batched write. `state` is the case's state when the case is
/// written in the same batch: a part of a PostgreSQL batch cannot read it from `cases`.
pub fn index_name_into(
    batch: &mut Batch,
    postbox: &str,
    case_id: &str,
    submitted_at: i64,
    name: &str,
    state: Option<&str>,
) {
    for term in name_terms(name) {
        batch
            .add(
                "INSERT INTO case_search (postbox_id, term, submitted_at, case_id, state)
                 VALUES ($1, $2, $3, $4, COALESCE($5, (SELECT state FROM cases WHERE id = $4)))
                 ON CONFLICT DO NOTHING",
            )
            .bind(postbox.to_string())
            .bind(term)
            .bind(submitted_at)
            .bind(case_id.to_string())
            .bind(state.map(str::to_string));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names_become_lower_case_words() {
        assert_eq!(
            name_terms("Anna-Lena  MÜLLER"),
            vec!["anna", "lena", "müller"]
        );
        assert!(name_terms("  ").is_empty());
    }

    #[test]
    fn the_longest_word_leads_and_a_reference_is_no_name() {
        assert_eq!(lead(&terms("anna müll")), Some("müll"));
        assert_eq!(lead(&terms("  ")), None);
        let reference = Reference::from_number(1_000_000_001).to_string();
        assert_eq!(lead(&terms(&reference)), None);
        assert_eq!(
            split_words(Some("meier meyer".into())),
            vec!["meier", "meyer"]
        );
        assert!(split_words(None).is_empty());
    }

    proptest! {
        #[test]
        fn every_word_lies_within_its_own_prefix_range(name in "\\PC{0,60}") {
            let words = name_terms(&name);
            // Joined and split again as `words_column` hands them over.
            prop_assert_eq!(split_words(Some(words.join(" "))), words.clone());
            for t in words {
                prop_assert!(t < prefix_end(&t));
                let shorter: String = t.chars().take(2).collect();
                prop_assert!(t.as_str() >= shorter.as_str() && t < prefix_end(&shorter));
            }
        }
    }
}
