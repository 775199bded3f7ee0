//! Issue 6, items 1-3 and 8: nothing is ever lost (outputs that are inputs, interrupted writes, a full
//! disk), and inputs that are not regular files (stdin, pipes, FIFOs, directories, devices).

use crate::util;

use std::io::Write;
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use util::{Dir, assert_no_panic, expect_success, f64s, lossy, parse_describe_json};

fn run(dir: &Dir, args: &[&str]) -> Output {
    dir.tally().args(args).output().expect("run tally")
}

fn failed_with(out: &Output, needle: &str) -> String {
    let stderr = lossy(&out.stderr);
    assert_no_panic(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "exit 1 expected:\n{stderr}");
    assert!(stderr.contains(needle), "stderr lacks {needle:?}:\n{stderr}");
    stderr
}

/// The names in the directory, so leftovers (temporary files) show.
fn listing(dir: &Dir) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

fn interrupt(child: &Child) {
    let status = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
}

/// Waits for `child` at most `limit`, killing it (and failing) if it does not end.
fn wait_with_timeout(mut child: Child, limit: Duration) -> Output {
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("tally did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn item1_an_output_that_is_the_input_is_refused_also_through_links() {
    let dir = Dir::new();
    dir.gen_file("g.arrow", 1000, 1, 100);
    let before = dir.read("g.arrow");
    std::os::unix::fs::symlink("g.arrow", dir.join("link.arrow")).unwrap();
    std::fs::hard_link(dir.join("g.arrow"), dir.join("hard.arrow")).unwrap();
    for out in ["g.arrow", "link.arrow", "hard.arrow", "./g.arrow"] {
        let o = run(&dir, &["describe", "g.arrow", "-o", out, "--executor", "serial"]);
        failed_with(&o, "is the input file");
        assert_eq!(dir.read("g.arrow"), before, "-o {out} changed the input");
    }
    // Through the link as the input too.
    let o = run(&dir, &["describe", "link.arrow", "-o", "g.arrow", "--executor", "serial"]);
    failed_with(&o, "is the input file");
    assert_eq!(dir.read("g.arrow"), before);
    assert_eq!(listing(&dir), vec!["g.arrow", "hard.arrow", "link.arrow"]);
}

#[test]
fn item1_outputs_replace_the_old_file_only_when_complete() {
    let dir = Dir::new();
    dir.gen_file("g.arrow", 100, 1, 100);
    dir.write("r.json", b"old result");
    // A failing run (unknown column) leaves the old output as it was.
    let o = run(&dir, &["describe", "g.arrow", "--columns", "nope", "-o", "r.json"]);
    failed_with(&o, "nope");
    assert_eq!(dir.read("r.json"), b"old result");
    let o = run(&dir, &["describe", "g.arrow", "-o", "r.json", "--executor", "serial"]);
    expect_success(&o, "describe -o");
    let doc = parse_describe_json(&lossy(&dir.read("r.json")));
    assert_eq!(doc["rows"], 100);
    assert_eq!(listing(&dir), vec!["g.arrow", "r.json"]);
}

#[test]
fn item2_interrupted_gen_leaves_the_old_file_untouched_and_no_temporary() {
    let dir = Dir::new();
    dir.write("old.arrow", b"precious bytes");
    let child = dir
        .std_tally()
        .args(["gen", "old.arrow", "--rows", "200000000", "--quiet"])
        .env("TALLY_FREE_BYTES", "100000000000000")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    interrupt(&child);
    let out = wait_with_timeout(child, Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(130), "{}", lossy(&out.stderr));
    assert_eq!(dir.read("old.arrow"), b"precious bytes");
    assert_eq!(listing(&dir), vec!["old.arrow"], "no temporary file stays behind");
}

/// `convert` of a CSV decodes straight into its temporary output: Ctrl-C in the middle stops the decode at
/// its next write, keeps the old output and leaves no temporary file.
#[test]
fn item2_interrupted_csv_convert_leaves_the_old_file_untouched_and_no_temporary() {
    let dir = Dir::new();
    let mut text = String::from("a,b,c\n");
    for i in 0..3_000_000u64 {
        text.push_str(&format!("{i},{}.25,{}\n", i % 1000, i * 7));
    }
    dir.write("in.csv", text.as_bytes());
    dir.write("old.arrow", b"precious bytes");
    let child =
        dir.std_tally().args(["convert", "in.csv", "old.arrow", "--quiet"]).stderr(Stdio::piped()).spawn().unwrap();
    // The debug build takes seconds for 3M rows; the temporary output exists from the start.
    let start = Instant::now();
    while !listing(&dir).iter().any(|n| n.starts_with(".tally-")) && start.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(100));
    interrupt(&child);
    let out = wait_with_timeout(child, Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(130), "{}", lossy(&out.stderr));
    assert_eq!(dir.read("old.arrow"), b"precious bytes");
    assert_eq!(listing(&dir), vec!["in.csv", "old.arrow"], "no temporary file stays behind");
}

#[test]
fn item3_gen_refuses_a_file_larger_than_the_free_space_naming_both_numbers() {
    let dir = Dir::new();
    let o = dir.tally().args(["gen", "x.arrow", "--rows", "1000000", "-q"]).env("TALLY_FREE_BYTES", "1000000").output();
    let stderr = failed_with(&o.unwrap(), "has only 1000000 bytes (1.0 MB) free");
    assert!(stderr.contains("the output needs 52") && stderr.contains("(52."), "{stderr}");
    // The size is computed without overflow for the largest row count, against the real free space.
    let o = run(&dir, &["gen", "x.arrow", "--rows", "18446744073709551615", "-q"]);
    failed_with(&o, "the output needs 9");
    assert!(listing(&dir).is_empty(), "nothing was written");
    // Within the limit, it writes.
    let o = dir.tally().args(["gen", "x.arrow", "--rows", "1000", "-q"]).env("TALLY_FREE_BYTES", "1000000").output();
    expect_success(&o.unwrap(), "gen within the limit");
}

/// An Arrow IPC stream of one batch: a = [1.5, null, 4.0].
fn stream_bytes() -> Vec<u8> {
    let batch = util::batch_of(vec![("a", f64s(&[Some(1.5), None, Some(4.0)]))]);
    let mut bytes = Vec::new();
    let mut w = arrow_ipc::writer::StreamWriter::try_new(&mut bytes, &batch.schema()).unwrap();
    w.write(&batch).unwrap();
    w.finish().unwrap();
    drop(w);
    bytes
}

fn check_stream_result(out: &Output) {
    expect_success(out, "describe of a piped stream");
    let doc = parse_describe_json(&lossy(&out.stdout));
    let a = util::column(&doc, "a");
    assert_eq!((a["count"].as_u64(), a["null_count"].as_u64()), (Some(2), Some(1)));
    assert_eq!(a["max"].as_f64(), Some(4.0));
    assert_eq!(doc["input"]["format"], "arrow-ipc-stream");
}

#[test]
fn item8_dash_reads_a_stream_or_a_file_from_standard_input() {
    let dir = Dir::new();
    for args in [&["describe", "-", "--format", "json"][..], &["describe", "/dev/stdin", "--format", "json"][..]] {
        let mut child = dir.std_tally().args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
        child.stdin.take().unwrap().write_all(&stream_bytes()).unwrap();
        check_stream_result(&wait_with_timeout(child, Duration::from_secs(60)));
    }
    // An Arrow IPC file through a pipe is read too.
    let file = dir.gen_file("g.arrow", 500, 1, 100);
    let mut child = dir
        .std_tally()
        .args(["describe", "-", "--format", "json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&std::fs::read(&file).unwrap()).unwrap();
    let out = wait_with_timeout(child, Duration::from_secs(60));
    expect_success(&out, "describe - of a piped file");
    assert_eq!(parse_describe_json(&lossy(&out.stdout))["rows"], 500);
    // `- < file` (a regular file as standard input) is mapped.
    let out = dir.tally().args(["describe", "-", "--format", "json"]).pipe_stdin(&file).unwrap().output().unwrap();
    expect_success(&out, "describe - < file");
    assert_eq!(parse_describe_json(&lossy(&out.stdout))["rows"], 500);
}

#[test]
fn item8_a_fifo_without_a_writer_waits_and_honours_ctrl_c() {
    let dir = Dir::new();
    rustix::fs::mkfifoat(rustix::fs::CWD, dir.join("fifo"), rustix::fs::Mode::from_raw_mode(0o600)).unwrap();
    let child = dir.std_tally().args(["describe", "fifo"]).stderr(Stdio::piped()).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    interrupt(&child);
    let out = wait_with_timeout(child, Duration::from_secs(5));
    assert_eq!(out.status.code(), Some(130), "{}", lossy(&out.stderr));
}

#[test]
fn item8_a_fifo_is_read_as_a_stream_once_a_writer_comes() {
    let dir = Dir::new();
    let fifo = dir.join("fifo");
    rustix::fs::mkfifoat(rustix::fs::CWD, &fifo, rustix::fs::Mode::from_raw_mode(0o600)).unwrap();
    let child = dir.std_tally().args(["describe", "fifo", "--format", "json"]).stdout(Stdio::piped()).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    std::fs::OpenOptions::new().write(true).open(&fifo).unwrap().write_all(&stream_bytes()).unwrap();
    check_stream_result(&wait_with_timeout(child, Duration::from_secs(60)));
}

#[test]
fn item8_directories_and_devices_are_refused() {
    let dir = Dir::new();
    std::fs::create_dir(dir.join("sub")).unwrap();
    failed_with(&run(&dir, &["describe", "sub"]), "is a directory");
    failed_with(&run(&dir, &["describe", "/dev/null"]), "is a device");
    failed_with(&run(&dir, &["schema", "/dev/zero"]), "is a device");
    // An empty pipe is an empty input, not a hang.
    let out = dir.tally().args(["describe", "-"]).write_stdin(Vec::new()).output().unwrap();
    failed_with(&out, "empty input");
}
