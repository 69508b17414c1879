//! The series as numbered mbox files, byte for byte as `git format-patch`
//! writes them: `index` lines (so `git am -3` can fall back to a three-way
//! merge), the diffstat and the `---` separator.

use std::path::{Path, PathBuf};

use super::{Step, StepFile};
use crate::error::Error;
use crate::quote;
use crate::render::diff;
use crate::render::report::tool;

/// The file name `git format-patch` would give a subject.
fn patch_file_name(n: usize, subject: &str) -> String {
    let mut slug = String::new();
    for c in subject.chars() {
        if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
            slug.push(c);
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    // Like git: trim the ends, then cut to 52 characters (a cut may end in '-').
    let slug: String = slug
        .trim_matches(|c| c == '-' || c == '.')
        .chars()
        .take(52)
        .collect();
    format!("{n:04}-{slug}.patch")
}

/// A date as git writes it in a mail header (RFC 2822, the day not
/// padded): `Tue, 1 Dec 2026 00:00:27 +0000`.
pub fn git_date(unix: i64, offset_minutes: i32) -> String {
    let offset =
        time::UtcOffset::from_whole_seconds(offset_minutes * 60).unwrap_or(time::UtcOffset::UTC);
    let t = time::OffsetDateTime::from_unix_timestamp(unix)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .to_offset(offset);
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let m = offset_minutes.abs();
    format!(
        "{}, {} {} {} {:02}:{:02}:{:02} {sign}{:02}{:02}",
        DAYS[t.weekday().number_days_from_monday() as usize],
        t.day(),
        MONTHS[u8::from(t.month()) as usize - 1],
        t.year(),
        t.hour(),
        t.minute(),
        t.second(),
        m / 60,
        m % 60
    )
}

/// One file's part of a patch: its diff with git's `index` line, and the
/// counts the diffstat shows.
struct FileDiff {
    rel: String,
    name: String,
    text: String,
    added: usize,
    deleted: usize,
}

impl FileDiff {
    fn new(f: &StepFile, abbrev: &dyn Fn(git2::Oid) -> String) -> Option<FileDiff> {
        let diff = diff::unified(&f.rel, &f.before, &f.after);
        let (first, rest) = diff.split_once('\n')?;
        let blob = |t: &str| {
            git2::Oid::hash_object(git2::ObjectType::Blob, t.as_bytes())
                .map_or_else(|_| "0".repeat(7), abbrev)
        };
        let index = format!(
            "index {}..{} {}",
            blob(&f.before),
            blob(&f.after),
            mode(&f.path)
        );
        let (mut added, mut deleted) = (0, 0);
        for line in rest.lines().skip_while(|l| !l.starts_with("@@")) {
            if line.starts_with('+') {
                added += 1;
            } else if line.starts_with('-') {
                deleted += 1;
            }
        }
        Some(FileDiff {
            rel: f.rel.clone(),
            name: quote::path(&f.rel).into_owned(),
            text: format!("{first}\n{index}\n{rest}"),
            added,
            deleted,
        })
    }
}

/// The file's mode as git records it.
fn mode(path: &Path) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0) {
            return "100755";
        }
    }
    let _ = path;
    "100644"
}

/// The diffstat `git format-patch` writes (`git diff --stat` at 72
/// columns, the width of a mail), summary line included.
fn diffstat(files: &[FileDiff]) -> String {
    let width = 72usize;
    let max_change = files.iter().map(|f| f.added + f.deleted).max().unwrap_or(0);
    let max_len = files
        .iter()
        .map(|f| f.name.chars().count())
        .max()
        .unwrap_or(0);
    let number_width = max_change.to_string().len();
    let mut graph_width = max_change;
    let mut name_width = max_len;
    if name_width + number_width + 6 + graph_width > width {
        if graph_width > (width * 3 / 8).saturating_sub(number_width + 6) {
            graph_width = (width * 3 / 8).saturating_sub(number_width + 6).max(6);
        }
        if name_width > width - number_width - 6 - graph_width {
            name_width = width - number_width - 6 - graph_width;
        } else {
            graph_width = width - number_width - 6 - name_width;
        }
    }
    let scale = |it: usize| {
        if it == 0 {
            0
        } else {
            1 + it * (graph_width - 1) / max_change
        }
    };
    let mut out = String::new();
    for f in files {
        let chars: Vec<char> = f.name.chars().collect();
        let (prefix, name) = if name_width < chars.len() {
            let tail: String = chars[chars.len() - (name_width - 3)..].iter().collect();
            let name = match tail.find('/') {
                Some(i) => tail[i..].to_string(),
                None => tail,
            };
            ("...", name)
        } else {
            ("", f.name.clone())
        };
        let len = if prefix.is_empty() {
            name_width
        } else {
            name_width - 3
        };
        let padding = len.saturating_sub(name.chars().count());
        let (mut add, mut del) = (f.added, f.deleted);
        let total = add + del;
        if graph_width <= max_change {
            let mut scaled = scale(total);
            if scaled < 2 && add > 0 && del > 0 {
                scaled = 2;
            }
            if add < del {
                add = scale(add);
                del = scaled - add;
            } else {
                del = scale(del);
                add = scaled - del;
            }
        }
        out.push_str(&format!(
            " {prefix}{name}{:padding$} | {total:>number_width$}{}{}{}\n",
            "",
            if total > 0 { " " } else { "" },
            "+".repeat(add),
            "-".repeat(del),
        ));
    }
    let (ins, del): (usize, usize) = files
        .iter()
        .fold((0, 0), |(i, d), f| (i + f.added, d + f.deleted));
    let n = files.len();
    out.push_str(&format!(
        " {n} file{} changed",
        if n == 1 { "" } else { "s" }
    ));
    if ins > 0 || del == 0 {
        out.push_str(&format!(
            ", {ins} insertion{}(+)",
            if ins == 1 { "" } else { "s" }
        ));
    }
    if del > 0 || ins == 0 {
        out.push_str(&format!(
            ", {del} deletion{}(-)",
            if del == 1 { "" } else { "s" }
        ));
    }
    out.push('\n');
    out
}

/// A mail header line folded like git's: at spaces, to lines of at most
/// 78 columns, continuation lines starting with a space.
fn fold_header(value: &str) -> String {
    let mut out = String::new();
    let mut line_len = "Subject: ".len();
    for (i, word) in value.split(' ').enumerate() {
        if i > 0 {
            if line_len + 1 + word.chars().count() > 78 {
                out.push_str("\n ");
                line_len = 1;
            } else {
                out.push(' ');
                line_len += 1;
            }
        }
        out.push_str(word);
        line_len += word.chars().count();
    }
    out
}

/// git's MIME headers, written only when the message or the sender is not ASCII.
fn mime_headers(message: &str, author: &str) -> &'static str {
    if message.is_ascii() && author.is_ascii() {
        ""
    } else {
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n\
         Content-Transfer-Encoding: 8bit\n"
    }
}

/// Before anything is committed: the patch directory can be made and
/// written, and no file the series would write is a symbolic link or a
/// directory (a link planted there must not be followed).
pub fn check_patch_dir(dir: &Path, steps: &[Step]) -> Result<(), Error> {
    let io = |path: &Path, source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    for (i, step) in steps.iter().enumerate() {
        let path = dir.join(patch_file_name(i + 1, step.subject()));
        if let Ok(meta) = path.symlink_metadata() {
            if !meta.is_file() {
                return Err(Error::NotWritten {
                    path,
                    reason: format!(
                        "is {}; dims-fix writes patches only as regular files",
                        if meta.file_type().is_symlink() {
                            "a symbolic link"
                        } else {
                            "not a regular file"
                        }
                    ),
                });
            }
        }
    }
    let probe = dir.join(crate::owner::temp_name(".dims-fix-"));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .map_err(|e| io(dir, e))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// Write the series as numbered mbox patches `git am` takes. `ids` are the
/// commits' ids when the series was committed. Each file is written new
/// (never through a link) and renamed into place.
pub fn write_patch_dir(
    dir: &Path,
    steps: &[Step],
    author: &str,
    dates: &[String],
    ids: Option<&[String]>,
    abbrev: &dyn Fn(git2::Oid) -> String,
) -> Result<Vec<PathBuf>, Error> {
    check_patch_dir(dir, steps)?;
    let total = steps.len();
    let mut written = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        let n = i + 1;
        let id = ids.map_or("0".repeat(40), |ids| ids[i].clone());
        let date = &dates[i];
        let (subject, body) = step
            .message
            .split_once('\n')
            .map_or((step.message.as_str(), ""), |(s, b)| {
                (s, b.trim_start_matches('\n'))
            });
        let mut diffs: Vec<FileDiff> = step
            .files
            .iter()
            .filter_map(|f| FileDiff::new(f, abbrev))
            .collect();
        // In git's order: by path.
        diffs.sort_by(|a, b| a.rel.as_bytes().cmp(b.rel.as_bytes()));
        let counter = if total > 1 {
            format!("[PATCH {n}/{total}]")
        } else {
            "[PATCH]".to_string()
        };
        let mail = format!(
            "From {id} Mon Sep 17 00:00:00 2001\nFrom: {author}\nDate: {date}\n\
             Subject: {}\n{}\n{body}---\n{}\n{}-- \n{}\n\n",
            fold_header(&format!("{counter} {subject}")),
            mime_headers(&step.message, author),
            diffstat(&diffs),
            diffs.iter().map(|d| d.text.as_str()).collect::<String>(),
            tool()
        );
        let path = dir.join(patch_file_name(n, subject));
        write_new(&path, mail.as_bytes())?;
        written.push(path);
    }
    Ok(written)
}

/// Write `path` through a fresh temporary file (O_EXCL, so never through a
/// link) renamed over it: a link planted at `path` is replaced, not followed.
fn write_new(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(crate::owner::temp_name(".dims-fix-"));
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_written_like_git() {
        assert_eq!(git_date(1_796_083_227, 0), "Tue, 1 Dec 2026 00:00:27 +0000");
        assert_eq!(
            git_date(1_796_083_227, -330),
            "Mon, 30 Nov 2026 18:30:27 -0530"
        );
    }

    #[test]
    fn file_names_follow_format_patch() {
        assert_eq!(
            patch_file_name(
                1,
                "BUG: avoid data race on the shape of aop in PyArray_Repeat"
            ),
            "0001-BUG-avoid-data-race-on-the-shape-of-aop-in-PyArray_R.patch"
        );
        assert_eq!(
            patch_file_name(
                7,
                "MAINT: mark in-place shape change in swap_arrays for locking"
            ),
            "0007-MAINT-mark-in-place-shape-change-in-swap_arrays-for-.patch"
        );
        assert_eq!(patch_file_name(12, "MAINT: x"), "0012-MAINT-x.patch");
    }
}
