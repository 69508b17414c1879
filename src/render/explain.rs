//! The pages of the codes: `dims-fix --explain CODE` (text), SARIF's
//! `help` (text and Markdown), and the table of codes in docs/output.md.

use crate::analyze::reason::{Rule, RULES};

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("    {l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn wrap(text: &str) -> String {
    let options = textwrap::Options::new(76)
        .initial_indent("    ")
        .subsequent_indent("    ")
        .word_splitter(textwrap::WordSplitter::NoHyphenation)
        .break_words(false);
    textwrap::fill(text, options)
}

/// The page `--explain` prints.
pub fn page(rule: &Rule) -> String {
    format!(
        "{} {} ({})\n\n{}.\n\nWhat it means:\n{}\n\nExample:\n{}\n\nWhat to do:\n{}\n",
        rule.id,
        rule.slug,
        rule.class.as_str(),
        capitalised(rule.summary),
        wrap(rule.meaning),
        indent(rule.example),
        wrap(rule.fix),
    )
}

/// The page in Markdown (SARIF `help.markdown`).
pub fn markdown(rule: &Rule) -> String {
    format!(
        "**{} {}** ({}): {}.\n\n{}\n\n```c\n{}\n```\n\n**What to do:** {}",
        rule.id,
        rule.slug,
        rule.class.as_str(),
        rule.summary,
        rule.meaning,
        rule.example,
        rule.fix
    )
}

/// The page as plain text on few lines (SARIF `help.text`).
pub fn plain(rule: &Rule) -> String {
    format!(
        "{}. {}\n\nExample:\n{}\n\nWhat to do: {}",
        capitalised(rule.summary),
        rule.meaning,
        rule.example,
        rule.fix
    )
}

/// Every code with its summary, for an unknown `--explain` argument.
pub fn list() -> String {
    RULES
        .iter()
        .map(|r| format!("  {} {:<28} {}\n", r.id, r.slug, r.summary))
        .collect()
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table of codes in docs/output.md (a test keeps it in step).
    pub fn table() -> String {
        let mut out = String::from("| code | name | class | meaning |\n|---|---|---|---|\n");
        for r in RULES {
            out.push_str(&format!(
                "| {} | `{}` | {} | {} |\n",
                r.id,
                r.slug,
                r.class.as_str(),
                r.summary.replace('|', "\\|")
            ));
        }
        out
    }

    /// docs/output.md lists every code: its table is this one, verbatim.
    #[test]
    fn docs_list_every_code() {
        let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/output.md"))
            .unwrap();
        let table = table();
        assert!(
            doc.contains(&table),
            "the table of codes in docs/output.md is out of date; it should read:\n{table}"
        );
    }

    #[test]
    fn every_code_has_a_page() {
        for r in RULES {
            let page = page(r);
            assert!(
                page.starts_with(&format!("{} {} (", r.id, r.slug)),
                "{page}"
            );
            for part in ["What it means:", "Example:", "What to do:"] {
                assert!(page.contains(part), "{page}");
            }
            assert!(markdown(r).contains("```c"));
        }
    }
}
