//! Fault injection for tests: make a worker abort, exit, hang or fail on a given chunk.
//!
//! `TALLY_FAULT` holds comma-separated rules `ACTION:chunk=J[:worker=K]` or `exit:pass=P[:worker=K]` (exit
//! when pass P arrives, before any of its chunks: a worker dying between passes) or `hang:start[:worker=K]`
//! (hang before reporting ready), where ACTION is `abort` (dies by
//! SIGABRT, like a crash), `exit` (exits with status 3 without replying), `hang` (sleeps forever, for
//! `--chunk-timeout`) or `error` (reports a failure, like a malformed input). `worker=K` limits the rule to
//! the K-th worker the run started (0-based, counting respawns), so a retried chunk can succeed on a fresh
//! worker; without it every worker that gets chunk J fails (a "poison" chunk). Like hyperfine's mock
//! executor, this is read only by workers and costs nothing when unset.

use crate::error::{Error, Result};

/// What an injected fault does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    Abort,
    Exit,
    Hang,
    Error,
}

/// One rule of `TALLY_FAULT`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Fault {
    pub(crate) action: Action,
    pub(crate) at: At,
    pub(crate) worker: Option<usize>,
}

/// Where a fault triggers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum At {
    Chunk(usize),
    Pass(u32),
    /// After opening the input, before reporting ready.
    Start,
}

/// The environment variable workers read.
pub const FAULT_ENV: &str = "TALLY_FAULT";

/// Parses `TALLY_FAULT`'s value.
pub(crate) fn parse(spec: &str) -> Result<Vec<Fault>> {
    spec.split(',').filter(|r| !r.trim().is_empty()).map(parse_rule).collect()
}

fn parse_rule(rule: &str) -> Result<Fault> {
    let bad = |why: &str| Error::input(format!("{FAULT_ENV}: bad rule {rule:?}: {why}"));
    let mut parts = rule.trim().split(':');
    let action = match parts.next() {
        Some("abort") => Action::Abort,
        Some("exit") => Action::Exit,
        Some("hang") => Action::Hang,
        Some("error") => Action::Error,
        _ => return Err(bad("action must be abort, exit, hang or error")),
    };
    let (mut at, mut worker) = (None, None);
    for part in parts {
        if part == "start" {
            at = Some(At::Start);
            continue;
        }
        let (key, value) = part.split_once('=').ok_or_else(|| bad("expected key=value"))?;
        let value: usize = value.parse().map_err(|_| bad("expected a number"))?;
        match key {
            "chunk" => at = Some(At::Chunk(value)),
            "pass" => at = Some(At::Pass(u32::try_from(value).map_err(|_| bad("pass number too large"))?)),
            "worker" => worker = Some(value),
            _ => return Err(bad("keys are chunk, pass and worker")),
        }
    }
    Ok(Fault { action, at: at.ok_or_else(|| bad("chunk=J, pass=P or start is required"))?, worker })
}

/// The fault, if any, that `worker` must trigger on `chunk`.
pub(crate) fn find(faults: &[Fault], worker: usize, chunk: usize) -> Option<Action> {
    find_at(faults, worker, At::Chunk(chunk))
}

/// The fault, if any, that `worker` must trigger when pass `pass` arrives.
pub(crate) fn find_pass(faults: &[Fault], worker: usize, pass: u32) -> Option<Action> {
    find_at(faults, worker, At::Pass(pass))
}

/// The fault, if any, that `worker` must trigger before it reports ready.
pub(crate) fn find_start(faults: &[Fault], worker: usize) -> Option<Action> {
    find_at(faults, worker, At::Start)
}

fn find_at(faults: &[Fault], worker: usize, at: At) -> Option<Action> {
    faults.iter().find(|f| f.at == at && f.worker.is_none_or(|w| w == worker)).map(|f| f.action)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rules_and_matches_workers() {
        let faults = parse("abort:chunk=3:worker=0, hang:chunk=5").unwrap();
        assert_eq!(faults.len(), 2);
        assert_eq!(find(&faults, 0, 3), Some(Action::Abort));
        assert_eq!(find(&faults, 1, 3), None, "a respawned worker gets the chunk through");
        assert_eq!(find(&faults, 9, 5), Some(Action::Hang));
        assert_eq!(find(&faults, 0, 4), None);
        assert!(parse("explode:chunk=1").is_err());
        assert!(parse("abort:worker=1").is_err());
        assert!(parse("abort:chunk=x").is_err());
        assert!(parse("").unwrap().is_empty());
        let between = parse("exit:pass=1:worker=0").unwrap();
        assert_eq!(find_pass(&between, 0, 1), Some(Action::Exit));
        assert_eq!((find_pass(&between, 0, 0), find(&between, 0, 1)), (None, None));
        assert_eq!(find_start(&parse("hang:start:worker=2").unwrap(), 2), Some(Action::Hang));
    }
}
