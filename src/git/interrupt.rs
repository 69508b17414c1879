//! SIGINT, SIGTERM and SIGHUP during a series: noted by a flag, acted on
//! at the next step boundary (the series stops and is rolled back).

use crate::error::Error;

/// SIGINT, SIGTERM and SIGHUP (a closed terminal) during a series: noted,
/// then the series stops at the next step boundary and is rolled back.
pub(super) struct Interrupt {
    flag: std::sync::Arc<std::sync::atomic::AtomicBool>,
    ids: Vec<signal_hook::SigId>,
}

impl Interrupt {
    pub(super) fn install() -> Interrupt {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let ids = [SIGINT, SIGTERM, SIGHUP]
            .iter()
            .filter_map(|&sig| signal_hook::flag::register(sig, flag.clone()).ok())
            .collect();
        Interrupt { flag, ids }
    }

    pub(super) fn check(&self) -> Result<(), Error> {
        if self.flag.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(Error::Refused("interrupted".to_string()));
        }
        Ok(())
    }
}

impl Drop for Interrupt {
    fn drop(&mut self) {
        for id in self.ids.drain(..) {
            signal_hook::low_level::unregister(id);
        }
    }
}
