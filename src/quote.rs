//! How names and text are written where they could be misread: git's C
//! quoting of paths (diff headers, commit messages, reports), control
//! characters made visible for terminals, percent-encoding for URIs.
//!
//! A file name may hold any byte but `/` and NUL. Printed raw, a newline in
//! a name splits a diff header or smuggles lines into a commit message (and
//! from there into `git am`), and an escape sequence rewrites the screen.

use std::borrow::Cow;
use std::fmt::Write as _;

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};

/// Whether git's `quote_c_style` quotes a string holding `c`: control
/// characters, DEL, `"` and `\`. (Non-ASCII is kept as UTF-8, as with
/// `core.quotePath=false`; `git apply` reads both forms.)
fn needs_quoting(c: char) -> bool {
    c < ' ' || c == '\x7f' || c == '"' || c == '\\'
}

/// A path as git writes it: unchanged when it needs no quoting, else in
/// double quotes with C escapes (`"a\nb.c"`), so it stays on one line and
/// `git apply`/`git am` read it back exactly.
pub fn path(name: &str) -> Cow<'_, str> {
    if !name.chars().any(needs_quoting) {
        return Cow::Borrowed(name);
    }
    let mut out = String::with_capacity(name.len() + 8);
    out.push('"');
    for c in name.chars() {
        match c {
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\x0b' => out.push_str("\\v"),
            '\x0c' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if needs_quoting(c) => {
                let _ = write!(out, "\\{:03o}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    Cow::Owned(out)
}

/// `prefix` + `name`, quoted as one path the way git quotes `a/NAME`.
pub fn prefixed(prefix: &str, name: &str) -> String {
    path(&format!("{prefix}{name}")).into_owned()
}

/// Undo [`path`]: the name a possibly quoted path stands for.
pub fn unquote(quoted: &str) -> Option<String> {
    let Some(inner) = quoted.strip_prefix('"').and_then(|q| q.strip_suffix('"')) else {
        return Some(quoted.to_string());
    };
    let mut bytes = Vec::with_capacity(inner.len());
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0; 4];
            bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        let e = chars.next()?;
        let b = match e {
            'a' => 7,
            'b' => 8,
            't' => b'\t',
            'n' => b'\n',
            'v' => 11,
            'f' => 12,
            'r' => b'\r',
            '"' => b'"',
            '\\' => b'\\',
            '0'..='7' => {
                let mut v = e.to_digit(8)?;
                for _ in 0..2 {
                    v = v * 8 + chars.next()?.to_digit(8)?;
                }
                u8::try_from(v).ok()?
            }
            _ => return None,
        };
        bytes.push(b);
    }
    String::from_utf8(bytes).ok()
}

/// Text for a terminal: control characters (C0 but tab and newline, DEL,
/// C1) shown as escapes, so source text or a name cannot move the cursor,
/// set the window title or forge lines. A `\r` right before `\n` (CRLF) is
/// harmless and kept.
pub fn visible(text: &str) -> Cow<'_, str> {
    let unsafe_at = |i: usize, c: char| {
        c.is_control() && c != '\t' && c != '\n' && !(c == '\r' && text[i + 1..].starts_with('\n'))
    };
    if !text.char_indices().any(|(i, c)| unsafe_at(i, c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for (i, c) in text.char_indices() {
        if !unsafe_at(i, c) {
            out.push(c);
        } else if (c as u32) < 0x80 {
            let _ = write!(out, "\\x{:02x}", c as u32);
        } else {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
    Cow::Owned(out)
}

/// Characters a relative URI reference cannot hold as they are (RFC 3986):
/// controls, space, and the delimiters that would end or change the path.
const URI_PATH: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// A `/`-separated path as a URI path (SARIF `artifactLocation.uri`):
/// percent-encoded, non-ASCII as UTF-8 bytes, `/` kept.
pub fn uri_path(path: &str) -> String {
    utf8_percent_encode(path, URI_PATH).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_quoted_like_git() {
        assert_eq!(path("src/a b#%?.c"), "src/a b#%?.c");
        assert_eq!(path("é.c"), "é.c");
        assert_eq!(path("n\nl.c"), "\"n\\nl.c\"");
        assert_eq!(path("t\tb\\s\".c"), "\"t\\tb\\\\s\\\".c\"");
        assert_eq!(path("esc\x1b.c"), "\"esc\\033.c\"");
        assert_eq!(path("del\x7f.c"), "\"del\\177.c\"");
        assert_eq!(prefixed("a/", "x\ny"), "\"a/x\\ny\"");
    }

    #[test]
    fn quoting_round_trips() {
        for name in [
            "plain.c",
            "n\nl.c",
            "t\tb\\s\".c",
            "\x1b[1m\x07\x7f.c",
            "é ü.c",
        ] {
            assert_eq!(unquote(&path(name)).as_deref(), Some(name), "{name:?}");
        }
        assert_eq!(unquote("\"bad\\q\""), None);
    }

    #[test]
    fn control_characters_are_made_visible() {
        assert_eq!(visible("a\tb\r\n"), "a\tb\r\n");
        assert_eq!(visible("\x1b]0;title\x07x\x7f"), "\\x1b]0;title\\x07x\\x7f");
        assert_eq!(visible("over\rwrite"), "over\\x0dwrite");
        assert_eq!(visible("c1\u{9b}2J"), "c1\\u{9b}2J");
    }

    #[test]
    fn uris_are_percent_encoded() {
        assert_eq!(uri_path("src/a b#1%?.c"), "src/a%20b%231%25%3F.c");
        assert_eq!(uri_path("d/é\n.c"), "d/%C3%A9%0A.c");
    }
}
