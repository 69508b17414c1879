//! One file's analysis cannot end the run: a panic while a file is
//! analysed is caught and becomes an internal error naming the file (the
//! run goes on, and its exit code says something was not analysed).

use std::cell::{Cell, RefCell};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::Once;

use crate::source::Skip;

thread_local! {
    /// Set while a file is analysed on this thread: a panic then is
    /// reported with the file, not printed by the default hook.
    static IN_FILE: Cell<bool> = const { Cell::new(false) };
    /// The message and place of the last panic caught on this thread.
    static LAST: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Route panics inside [`guarded`] to the report; leave the others to the
/// hook that was there.
fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if IN_FILE.with(Cell::get) {
                let place = info
                    .location()
                    .map(|l| format!(" at {}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                let message = message(info.payload());
                LAST.with(|l| *l.borrow_mut() = format!("{message}{place}"));
            } else {
                previous(info);
            }
        }));
    });
}

/// A panic's message, from its payload.
fn message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_string())
}

/// Run `f`, the analysis of file `rel`: a panic in it becomes a skip of
/// that file, saying it is an internal error.
pub(crate) fn guarded<T>(rel: &str, f: impl FnOnce() -> Result<T, Skip>) -> Result<T, Skip> {
    install_hook();
    let was = IN_FILE.with(|c| c.replace(true));
    let result = catch_unwind(AssertUnwindSafe(|| {
        crate::testhook::panic_in(rel);
        f()
    }));
    IN_FILE.with(|c| c.set(was));
    match result {
        Ok(r) => r,
        Err(payload) => {
            // A panic on another thread (a parallel part of the analysis)
            // was seen by the hook there, not here: its message comes with
            // the payload, without the place.
            let what = LAST.with(|l| std::mem::take(&mut *l.borrow_mut()));
            let what = if what.is_empty() {
                message(payload.as_ref())
            } else {
                what
            };
            Err(Skip {
                path: PathBuf::from(rel),
                reason: format!(
                    "internal error while analysing this file ({what}); it was not analysed, \
                     the rest of the run is complete; please report it"
                ),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A panic on the analysing thread is reported with its message and place.
    #[test]
    fn a_panic_here_names_message_and_place() {
        let skip = guarded::<()>("here.c", || panic!("broken here")).unwrap_err();
        assert_eq!(skip.path, PathBuf::from("here.c"));
        assert!(
            skip.reason.contains("(broken here at src/scan/guard.rs:"),
            "{}",
            skip.reason
        );
    }

    /// A panic that reaches the guard from another thread (as a parallel
    /// part of the analysis hands it on) keeps its message.
    #[test]
    fn a_panic_from_another_thread_keeps_its_message() {
        let skip = guarded::<()>("there.c", || {
            let joined = std::thread::spawn(|| panic!("broken on a worker")).join();
            match joined {
                Err(payload) => std::panic::resume_unwind(payload),
                Ok(()) => Ok(()),
            }
        })
        .unwrap_err();
        assert!(
            skip.reason.contains("(broken on a worker)"),
            "{}",
            skip.reason
        );
    }
}
