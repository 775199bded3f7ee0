//! `tally bench`'s flags, and the analysis' own flags mixed in with them.
//!
//! `tally bench data.arrow --analysis groupby --by k2 --agg count --runs 7`: the bench owns `--runs`, the
//! group-by owns `--by` and `--agg`. clap cannot parse one command line against two commands, so the
//! words are split first: each flag goes to whichever of the two commands declares it (the bench first),
//! with its value when that command says it takes one, and the first plain word is the input. Then each
//! part is parsed by its own parser: the bench's flags here, the analysis' by the very parser of its
//! subcommand (`tally groupby ...`), so every analysis flag, present and future, works in a bench with
//! its own validation, defaults and errors, and nothing is declared twice.

use std::path::{Path, PathBuf};

use clap::{CommandFactory, Parser, ValueEnum};
use tally_engine::Analysis;

use crate::args::{AnalysisArgs, Cli, Command, ExecutorArg};

/// Measure how an analysis scales with workers and executors on this machine (see README, "tally bench").
#[derive(Debug, Parser)]
#[command(name = "tally bench", version)]
pub(crate) struct BenchArgs {
    /// Input to measure [default: a `tally gen` file generated in a temporary directory (TMPDIR), removed
    /// afterwards, also on Ctrl-C].
    pub(crate) path: Option<PathBuf>,
    /// Rows of the generated file [default: sized for this machine's free memory, disk and cores; the
    /// bench says what it chose and why].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) rows: Option<u64>,
    /// Seed of the generated file.
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    /// The analysis to measure; its own flags follow anywhere on the line (e.g. `--analysis groupby --by
    /// k2 --agg count,mean(a)`), and so do the shared ones (`--where`, `--chunk-rows`, `-v`, `-q`).
    #[arg(long, value_enum, default_value_t = AnalysisName::Describe)]
    pub(crate) analysis: AnalysisName,
    /// Worker counts, comma-separated [default: 1, 2, 4, ... up to the cores this process may use].
    #[arg(long, value_delimiter = ',', value_name = "N,N,...", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub(crate) workers_list: Vec<u16>,
    /// Executors, comma-separated (serial runs once, with one worker).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "processes,threads", value_name = "E,E,...")]
    pub(crate) executors: Vec<ExecutorArg>,
    /// Measured runs per configuration, after one warm-up run.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..))]
    pub(crate) runs: u16,
    /// Write the context and every run as JSON (schema in README, "tally bench").
    #[arg(long, value_name = "FILE")]
    pub(crate) export_json: Option<PathBuf>,
    /// Write the report as a markdown table.
    #[arg(long, value_name = "FILE")]
    pub(crate) export_markdown: Option<PathBuf>,
    /// Draw speed-up and GB/s against workers, with the measured ceiling, into an SVG file.
    #[arg(long, value_name = "FILE.svg")]
    pub(crate) plot: Option<PathBuf>,
    /// Pin worker i to the i-th allowed CPU (round robin) with sched_setaffinity; the report says which.
    #[arg(long)]
    pub(crate) pin: bool,
    /// Bytes of the memory-ceiling probe's buffer [default: twice the last-level cache, at least 64 MiB].
    #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u64).range(4096..))]
    pub(crate) ceiling_bytes: Option<u64>,
}

/// The analyses a bench can run: the subcommands of the same names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum AnalysisName {
    Describe,
    Hist,
    Corr,
    Quantile,
    Groupby,
    Distinct,
    Top,
}

impl AnalysisName {
    pub(crate) fn subcommand(self) -> &'static str {
        match self {
            AnalysisName::Describe => "describe",
            AnalysisName::Hist => "hist",
            AnalysisName::Corr => "corr",
            AnalysisName::Quantile => "quantile",
            AnalysisName::Groupby => "groupby",
            AnalysisName::Distinct => "distinct",
            AnalysisName::Top => "top",
        }
    }
}

/// The bench's flags, and the words that belong to the analysis.
#[derive(Debug)]
pub(crate) struct Split {
    pub(crate) bench: BenchArgs,
    pub(crate) analysis: Vec<String>,
}

/// Splits and parses `words` (what follows `tally bench`). Help and usage errors come back as
/// `clap::Error`, which `main` prints as clap does.
pub(crate) fn split(words: &[String]) -> Result<Split, clap::Error> {
    let name = analysis_name(words);
    let mut bench_cmd = BenchArgs::command();
    bench_cmd.build();
    let mut cli = Cli::command();
    cli.build();
    let analysis_cmd = cli.find_subcommand(name).cloned().unwrap_or_default();
    let (mut bench, mut analysis, mut plain) = (vec!["tally bench".to_string()], Vec::new(), Vec::new());
    let mut i = 0;
    while i < words.len() {
        let word = &words[i];
        i += 1;
        if word == "--" {
            analysis.extend(words[i..].iter().cloned());
            break;
        }
        if !word.starts_with('-') || word == "-" {
            plain.push(word.clone());
            continue;
        }
        let (target, takes) = match (flag(&bench_cmd, word), flag(&analysis_cmd, word)) {
            (Some(takes), _) => (&mut bench, takes),
            (None, Some(takes)) => (&mut analysis, takes),
            // Unknown to both: the analysis' parser names it (with suggestions).
            (None, None) => (&mut analysis, false),
        };
        target.push(word.clone());
        if takes && i < words.len() {
            target.push(words[i].clone());
            i += 1;
        }
    }
    let mut plain = plain.into_iter();
    bench.extend(plain.next());
    // More plain words are the analysis' further inputs (`MORE`).
    analysis.extend(plain);
    Ok(Split { bench: BenchArgs::try_parse_from(bench)?, analysis })
}

/// `--analysis NAME` (or `=NAME`) as the subcommand name, `describe` when absent or unknown (the bench's
/// parser then reports an unknown one).
fn analysis_name(words: &[String]) -> &'static str {
    let given = words.iter().enumerate().find_map(|(i, w)| match w.strip_prefix("--analysis") {
        Some("") => words.get(i + 1).map(String::as_str),
        Some(rest) => rest.strip_prefix('='),
        None => None,
    });
    given.and_then(|g| AnalysisName::from_str(g, true).ok()).unwrap_or(AnalysisName::Describe).subcommand()
}

/// Whether `cmd` declares the flag `word` (`--long`, `--long=value`, `-s`, `-sVALUE`, `-vv`), and if so
/// whether the next word is its value.
fn flag(cmd: &clap::Command, word: &str) -> Option<bool> {
    let takes = |a: &clap::Arg| a.get_action().takes_values();
    if let Some(long) = word.strip_prefix("--") {
        let (name, inline) = match long.split_once('=') {
            Some((name, _)) => (name, true),
            None => (long, false),
        };
        let arg = cmd.get_arguments().find(|a| {
            a.get_long() == Some(name) || a.get_all_aliases().is_some_and(|aliases| aliases.contains(&name))
        })?;
        return Some(takes(arg) && !inline);
    }
    let short = word.chars().nth(1)?;
    let arg = cmd.get_arguments().find(|a| a.get_short() == Some(short))?;
    Some(takes(arg) && word.chars().count() == 2)
}

/// Parses the analysis' words with its subcommand's parser, over `path`: the analysis and its shared flags.
pub(crate) fn analysis(name: AnalysisName, path: &Path, words: &[String]) -> anyhow::Result<(Analysis, AnalysisArgs)> {
    for (flag, instead) in [("--executor", "--executors"), ("--workers", "--workers-list")] {
        if words.iter().any(|w| w == flag || w.starts_with(&format!("{flag}="))) {
            anyhow::bail!("tally bench runs every configuration itself: use {instead} instead of {flag}");
        }
    }
    let argv = ["tally".into(), name.subcommand().into(), path.as_os_str().to_owned()]
        .into_iter()
        .chain(words.iter().map(Into::into));
    let command = Cli::try_parse_from(argv)?.command;
    let (analysis, run) = match command {
        Command::Describe(a) => (crate::describe::analysis(&a), a.run),
        Command::Hist(a) => (crate::hist::analysis(&a)?, a.run),
        Command::Corr(a) => (crate::corr::analysis(&a), a.run),
        Command::Quantile(a) => (crate::quantile::analysis(&a), a.run),
        Command::Groupby(a) => (crate::groupby::analysis(&a)?, a.run),
        Command::Distinct(a) => (crate::distinct::distinct_analysis(&a), a.run),
        Command::Top(a) => (crate::distinct::top_analysis(&a), a.run),
        other => anyhow::bail!("internal: {other:?} is not an analysis"),
    };
    if run.save_state.is_some() || run.output.output.is_some() || run.output.format.is_some() {
        anyhow::bail!(
            "tally bench prints its own report: --save-state, --output and --format do not apply (use \
             --export-json or --export-markdown)"
        );
    }
    Ok((analysis, run))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn bench_and_analysis_flags_go_to_their_owners_in_any_order() {
        let s =
            split(&words("data.arrow --analysis groupby --by k2 --agg count,mean(a) --workers-list 1,2 -q")).unwrap();
        assert_eq!(s.bench.path.as_deref(), Some(Path::new("data.arrow")));
        assert_eq!((s.bench.analysis, s.bench.workers_list.clone()), (AnalysisName::Groupby, vec![1, 2]));
        assert_eq!(s.analysis, words("--by k2 --agg count,mean(a) -q"));
        let (a, run) = analysis(s.bench.analysis, Path::new("data.arrow"), &s.analysis).unwrap();
        assert!(matches!(a, Analysis::GroupBy(ref g) if g.by == ["k2"] && g.aggs.len() == 2), "{a:?}");
        assert!(run.log.quiet);
    }

    #[test]
    fn without_a_path_the_value_of_an_analysis_flag_is_not_taken_for_one() {
        let s = split(&words("--analysis=hist --column a --bins 20 --runs 2 --where a>0")).unwrap();
        assert_eq!((s.bench.path.clone(), s.bench.runs), (None, 2));
        let (a, run) = analysis(s.bench.analysis, Path::new("g.arrow"), &s.analysis).unwrap();
        assert!(matches!(a, Analysis::Hist(ref h) if h.column == "a"), "{a:?}");
        assert_eq!(run.filter.as_deref(), Some("a>0"));
    }

    #[test]
    fn defaults_and_refusals() {
        let s = split(&[]).unwrap();
        assert_eq!((s.bench.analysis, s.bench.runs, s.bench.pin), (AnalysisName::Describe, 5, false));
        assert_eq!(s.bench.executors, vec![ExecutorArg::Processes, ExecutorArg::Threads]);
        let e = analysis(AnalysisName::Describe, Path::new("x"), &words("--workers 3")).unwrap_err();
        assert!(e.to_string().contains("use --workers-list"), "{e}");
        let e = analysis(AnalysisName::Describe, Path::new("x"), &words("-o r.json")).unwrap_err();
        assert!(e.to_string().contains("--export-json"), "{e}");
        // an analysis flag the analysis does not have: its own parser says so
        let e = analysis(AnalysisName::Describe, Path::new("x"), &words("--by k")).unwrap_err();
        assert!(e.to_string().contains("--by"), "{e}");
        assert!(split(&words("--runs 0")).is_err());
        assert!(split(&words("--analysis nope")).is_err());
    }
}
