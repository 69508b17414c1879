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
                let message = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "panic".to_string());
                LAST.with(|l| *l.borrow_mut() = format!("{message}{place}"));
            } else {
                previous(info);
            }
        }));
    });
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
        Err(_) => {
            let what = LAST.with(|l| std::mem::take(&mut *l.borrow_mut()));
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
