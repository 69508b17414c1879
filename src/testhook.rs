//! Pause points, for tests that must act between two steps of a run:
//! delete a file after the walk, edit one before `--apply` writes, signal
//! the process in the middle of a commit series. Inert unless
//! `DIMS_FIX_TEST_PAUSE` names the point; then the run creates the file
//! named by `DIMS_FIX_TEST_PAUSE_FILE` and waits (at most a minute) until
//! the test removes it.

use std::path::Path;
use std::time::{Duration, Instant};

pub fn pause(point: &str) {
    if std::env::var("DIMS_FIX_TEST_PAUSE").ok().as_deref() != Some(point) {
        return;
    }
    let Some(flag) = std::env::var_os("DIMS_FIX_TEST_PAUSE_FILE") else {
        return;
    };
    if std::fs::write(&flag, point).is_err() {
        return;
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while Path::new(&flag).exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
}
