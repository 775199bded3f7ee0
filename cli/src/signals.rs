//! Ctrl-C and SIGTERM: recorded in a [`Cancel`] token that the executors poll, so a run stops within
//! milliseconds, reaps its workers, and exits with 128 + the signal number. A second signal while shutting
//! down takes the default action at once (the escape hatch should shutdown ever hang); workers follow
//! through their parent-death signal.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::flag;
use tally_engine::exec::Cancel;

pub(crate) fn install() -> std::io::Result<Cancel> {
    let cancel = Cancel::default();
    let seen = Arc::new(AtomicBool::new(false));
    for signal in [SIGINT, SIGTERM] {
        // Handlers run in registration order: the first signal only records, the second one kills.
        flag::register_conditional_default(signal, seen.clone())?;
        flag::register(signal, seen.clone())?;
        flag::register_usize(signal, cancel.cell(), signal as usize)?;
    }
    Ok(cancel)
}
