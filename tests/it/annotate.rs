//! `annotate-dataset`, `list-prompts`: against the fault-injecting server (`fake_llm`), with
//! the promises a long paid run relies on: no row lost, every failure recorded, rows in input
//! order with files whole, answers cached as they come and never bought twice, the key never
//! written.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{files_under, repo, s, stderr, stdout, write_file, zstd_bytes};
use crate::fake_llm::{FakeLlm, Fault, Faults, answer_of, no_faults};

/// A prompt directory with task `probe` (answer `{row, score}`) and system `terse`.
pub fn probe_prompts(dir: &Path) -> PathBuf {
    let p = dir.join("prompts");
    write_file(
        &p.join("task/probe.jinja"),
        b"Judge this sample.\n<<<{{ text }}>>>{% if truncated %} [cut {{ omitted_chars }} chars]{% endif %}\n",
    );
    let schema = json!({
        "type": "object",
        "properties": {
            "row": {"type": "integer"},
            "score": {"type": "integer", "minimum": 0, "maximum": 5}
        },
        "required": ["row", "score"],
        "additionalProperties": false
    });
    write_file(
        &p.join("task/probe.schema.json"),
        serde_json::to_string_pretty(&schema).unwrap().as_bytes(),
    );
    write_file(&p.join("system/terse.jinja"), b"Answer in JSON.\n");
    p
}

/// Rows `{"id": n, "text": "row-n ..."}` in three shards (zstd, plain, nested), `rows` in all;
/// rows with `id % 17 == 16` already carry a `probe` answer.
pub fn probe_dataset(dir: &Path, rows: u64) -> PathBuf {
    let d = dir.join("input");
    let mut parts = [String::new(), String::new(), String::new()];
    for n in 0..rows {
        let mut row = json!({"id": n, "text": format!("row-{n} says hello {}", "x".repeat((n % 7) as usize))});
        if n % 17 == 16 {
            row["probe"] = json!({"row": n, "score": 5, "kept": true});
        }
        parts[(n * 3 / rows.max(1)) as usize].push_str(&format!("{row}\n"));
    }
    write_file(&d.join("a.jsonl.zst"), &zstd_bytes(parts[0].as_bytes()));
    write_file(&d.join("b.jsonl"), parts[1].as_bytes());
    write_file(&d.join("sub/c.jsonl"), parts[2].as_bytes());
    d
}

/// `pick annotate-dataset` against `server` with the probe prompt; `extra` flags appended.
pub fn annotate_cmd(
    server: &FakeLlm,
    input: &Path,
    output: &Path,
    prompts: &Path,
    cache: &Path,
    extra: &[&str],
) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pick"));
    c.args([
        "annotate-dataset",
        "-d",
        s(input),
        "-o",
        s(output),
        "-T",
        "probe",
        "-S",
        "terse",
        "--prompt-dir",
        s(prompts),
        "--cache-location",
        s(cache),
        "--base-url",
        &server.base_url(),
        "--json",
    ])
    .args(extra)
    .args(if extra.contains(&"-m") {
        &[][..]
    } else {
        &["-m", "fake-model"][..]
    })
    .env("PICK_RETRY_BASE_MS", "1")
    .env_remove("OPENAI_API_KEY")
    .env_remove("OPENAI_BASE_URL");
    c
}

fn run(mut c: Command) -> Output {
    c.output().expect("pick runs")
}

fn report(o: &Output) -> Value {
    assert!(o.status.success(), "pick failed: {}", stderr(o));
    serde_json::from_str(&stdout(o)).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

/// Every output row by file, parsed.
fn rows_by_file(dir: &Path) -> Vec<(String, Vec<Value>)> {
    files_under(dir)
        .into_iter()
        .map(|(name, bytes)| {
            let text = if name.ends_with(".zst") {
                zstd::decode_all(&bytes[..]).unwrap()
            } else {
                bytes
            };
            let rows = String::from_utf8(text)
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            (name, rows)
        })
        .collect()
}

fn chaos() -> Faults {
    std::sync::Arc::new(|row, attempt| {
        if row % 25 == 9 {
            return Fault::ServerError(503);
        }
        match (row % 10, attempt) {
            (0, 1 | 2) => Fault::RateLimited,
            (1, 1) => Fault::ServerError(500),
            (2, 1) => Fault::ServerError(503),
            (3, 1) => Fault::MalformedBody,
            (4, 1) => Fault::BreaksSchema,
            (5, 1) => Fault::Hang(Duration::from_secs(4)),
            (6, _) => Fault::SlowStream,
            (7, 1) => Fault::NotJson,
            _ => Fault::Answer,
        }
    })
}

#[test]
fn faults_lose_no_row_and_every_failure_is_recorded_and_retried_on_rerun() {
    let dir = tempfile::tempdir().unwrap();
    let prompts = probe_prompts(dir.path());
    let input = probe_dataset(dir.path(), 120);
    let cache = dir.path().join("cache");
    let out = dir.path().join("out");
    let server = FakeLlm::start(chaos());
    let flags = [
        "--max-attempts",
        "3",
        "--request-timeout",
        "1.5",
        "--max-concurrent-requests",
        "40",
    ];
    let r = report(&run(annotate_cmd(
        &server, &input, &out, &prompts, &cache, &flags,
    )));

    let failing: Vec<u64> = (0..120).filter(|n| n % 25 == 9 && n % 17 != 16).collect();
    let kept = (0..120).filter(|n| n % 17 == 16).count() as u64;
    assert_eq!(r["rows"], 120);
    assert_eq!(r["already_annotated"], kept);
    assert_eq!(r["failed"], failing.len() as u64);
    assert_eq!(r["answered"], 120 - kept - failing.len() as u64);
    assert_eq!(r["cached"], 0);
    assert!(r["retries"].as_u64().unwrap() > 40, "{r}");

    // Same files, same rows in the same order; answers, kept rows and failures as planned.
    let inputs = rows_by_file(&input);
    let outputs = rows_by_file(&out);
    assert_eq!(
        inputs.iter().map(|f| &f.0).collect::<Vec<_>>(),
        outputs.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    for ((_, ins), (name, outs)) in inputs.iter().zip(&outputs) {
        assert_eq!(ins.len(), outs.len(), "{name}");
        for (i, o) in ins.iter().zip(outs) {
            let n = i["id"].as_u64().unwrap();
            assert_eq!(o["id"], i["id"], "{name}: order");
            assert_eq!(o["text"], i["text"]);
            if n % 17 == 16 {
                assert_eq!(o, i, "an annotated row passes through untouched");
            } else if failing.contains(&n) {
                assert!(o.get("probe").is_none());
                let e = &o["probe_error"];
                assert_eq!(e["attempts"], 3, "{o}");
                assert_eq!(e["status"], 503);
                assert!(e["error"].as_str().unwrap().contains("HTTP 503"), "{e}");
            } else {
                assert_eq!(o["probe"], answer_of(n), "{name}: row {n}");
                assert!(o.get("probe_error").is_none());
            }
        }
    }
    // The request carried the system prompt, the schema and the model.
    let body = server.seen.last_body.lock().unwrap().clone().unwrap();
    assert_eq!(body["model"], "fake-model");
    assert_eq!(body["messages"][0]["content"], "Answer in JSON.");
    assert_eq!(body["response_format"]["json_schema"]["name"], "probe");
    assert_eq!(body["response_format"]["json_schema"]["strict"], true);
    drop(server);

    // A rerun asks again for the failed rows only: the rest comes from the cache.
    let healed = FakeLlm::start(no_faults());
    let r = report(&run(annotate_cmd(
        &healed,
        &input,
        &out,
        &prompts,
        &cache,
        &["--overwrite"],
    )));
    assert_eq!(r["failed"], 0);
    assert_eq!(r["answered"], failing.len() as u64);
    assert_eq!(r["cached"], 120 - kept - failing.len() as u64);
    let mut asked = healed.seen.log.lock().unwrap().clone();
    asked.sort();
    assert_eq!(asked, failing);
    for (_, rows) in rows_by_file(&out) {
        for o in rows {
            assert!(o.get("probe_error").is_none(), "{o}");
            assert!(o.get("probe").is_some());
        }
    }
}

#[test]
fn limit_rows_keeps_every_file_whole_and_counts_cached_rows() {
    let dir = tempfile::tempdir().unwrap();
    let prompts = probe_prompts(dir.path());
    let input = probe_dataset(dir.path(), 30);
    let cache = dir.path().join("cache");
    let out = dir.path().join("out");
    let server = FakeLlm::start(no_faults());
    let r = report(&run(annotate_cmd(
        &server,
        &input,
        &out,
        &prompts,
        &cache,
        &["--limit-rows", "12"],
    )));
    assert_eq!(
        server
            .seen
            .requests
            .load(std::sync::atomic::Ordering::Relaxed),
        12,
        "B24: exactly the limit"
    );
    assert_eq!(r["answered"], 12);
    assert_eq!(r["rows"], 30);
    assert_eq!(r["over_limit"], 30 - 12 - 1);
    let outputs = rows_by_file(&out);
    assert_eq!(outputs.len(), 3, "every file is written");
    let rows: Vec<&Value> = outputs.iter().flat_map(|f| &f.1).collect();
    assert_eq!(rows.len(), 30);
    let answered: Vec<u64> = rows
        .iter()
        .filter(|r| r.get("probe").is_some() && r["id"].as_u64().unwrap() % 17 != 16)
        .map(|r| r["id"].as_u64().unwrap())
        .collect();
    assert_eq!(
        answered,
        (0..12).collect::<Vec<_>>(),
        "the first rows in input order"
    );

    // Raised limit: the first twelve come from the cache, the next ones are asked.
    let out2 = dir.path().join("out2");
    let r = report(&run(annotate_cmd(
        &server,
        &input,
        &out2,
        &prompts,
        &cache,
        &["--limit-rows", "20"],
    )));
    assert_eq!(r["cached"], 12);
    assert_eq!(r["answered"], 8);
}

#[test]
fn a_killed_run_resumes_without_buying_any_cached_answer_again() {
    let dir = tempfile::tempdir().unwrap();
    let prompts = probe_prompts(dir.path());
    let input = probe_dataset(dir.path(), 400);
    let cache = dir.path().join("cache");
    let out = dir.path().join("out");
    let slow: Faults = std::sync::Arc::new(|_, _| Fault::Hang(Duration::from_millis(40)));
    let server = FakeLlm::start(slow);
    let mut child = annotate_cmd(
        &server,
        &input,
        &out,
        &prompts,
        &cache,
        &["--max-concurrent-requests", "8"],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    // Kill once some answers are committed (about 200 a second come back unloaded). Polled,
    // not slept: under a loaded test run the first commits can take seconds.
    let db_path = cache.join("pick-answers.sqlite");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        let committed = rusqlite::Connection::open_with_flags(
            &db_path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .and_then(|db| db.query_row("SELECT count(*) FROM answers", [], |r| r.get::<_, i64>(0)))
        .unwrap_or(0);
        if committed >= 20 {
            break;
        }
    }
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    child.wait().unwrap();
    assert!(!out.exists(), "a killed run leaves no output");
    drop(server);

    let db = rusqlite::Connection::open(cache.join("pick-answers.sqlite")).unwrap();
    let cached: Vec<u64> = db
        .prepare("SELECT answer FROM answers")
        .unwrap()
        .query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(|a| {
            serde_json::from_str::<Value>(&a.unwrap()).unwrap()["row"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert!(
        !cached.is_empty(),
        "answers are committed while the run goes on"
    );
    assert!(
        cached.len() < 380,
        "the run was killed mid-way ({})",
        cached.len()
    );

    let server = FakeLlm::start(no_faults());
    let r = report(&run(annotate_cmd(
        &server,
        &input,
        &out,
        &prompts,
        &cache,
        &[],
    )));
    let asked = server.seen.log.lock().unwrap().clone();
    for row in &asked {
        assert!(
            !cached.contains(row),
            "row {row} was cached and asked again"
        );
    }
    assert_eq!(r["cached"], cached.len() as u64);
    assert_eq!(r["failed"], 0);
    let rows: usize = rows_by_file(&out).iter().map(|f| f.1.len()).sum();
    assert_eq!(rows, 400);
    // No staging or temporary file is left beside the output.
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn the_api_key_is_sent_but_never_written() {
    let dir = tempfile::tempdir().unwrap();
    let prompts = probe_prompts(dir.path());
    let input = probe_dataset(dir.path(), 9);
    let cache = dir.path().join("cache");
    let out = dir.path().join("out");
    let server = FakeLlm::start(std::sync::Arc::new(|row, _| {
        if row == 3 {
            Fault::ServerError(500)
        } else {
            Fault::Answer
        }
    }));
    let mut c = annotate_cmd(
        &server,
        &input,
        &out,
        &prompts,
        &cache,
        &["--max-attempts", "1"],
    );
    c.env("OPENAI_API_KEY", "sk-test-SECRET-4242");
    let o = run(c);
    assert!(o.status.success(), "{}", stderr(&o));
    let secret = b"SECRET-4242";
    let leaks = |bytes: &[u8]| bytes.windows(secret.len()).any(|w| w == secret);
    assert!(!leaks(&o.stdout) && !leaks(&o.stderr));
    for (name, bytes) in files_under(&out).into_iter().chain(files_under(&cache)) {
        assert!(!leaks(&bytes), "the key is in {name}");
    }
    assert_eq!(
        server.seen.authorization.lock().unwrap().as_deref(),
        Some("Bearer sk-test-SECRET-4242")
    );
}

/// A run that must stop (exit 1) with nothing written; its stderr.
fn stopped(rows: u64, extra: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let prompts = probe_prompts(dir.path());
    let input = probe_dataset(dir.path(), rows);
    let out = dir.path().join("out");
    let server = FakeLlm::start(no_faults());
    let cache = dir.path().join("cache");
    let o = run(annotate_cmd(&server, &input, &out, &prompts, &cache, extra));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(!out.exists());
    stderr(&o)
}

#[test]
fn an_endpoint_that_refuses_every_request_ends_the_run_and_writes_nothing() {
    let e = stopped(5, &["-m", "missing-model"]);
    assert!(
        e.contains("HTTP 404: The model `missing-model` does not exist"),
        "{e}"
    );
    // A flag the endpoint refuses (400) for every row stops the run too.
    let e = stopped(60, &["-e", "bogus"]);
    assert!(e.contains("requests were refused and none answered"), "{e}");
    assert!(e.contains("Invalid value for 'service_tier'"), "{e}");
}

#[test]
fn unknown_prompts_are_usage_errors_that_list_the_known_ones() {
    let dir = tempfile::tempdir().unwrap();
    let input = probe_dataset(dir.path(), 3);
    let o = crate::common::pick(&[
        "annotate-dataset",
        "-d",
        s(&input),
        "-o",
        s(&dir.path().join("o")),
        "-T",
        "nope",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("no task prompt named \"nope\""), "{e}");
    assert!(e.contains("countup_criteria_v2"), "{e}");
}

#[test]
fn list_prompts_shows_shipped_and_own_prompts() {
    let dir = tempfile::tempdir().unwrap();
    let prompts = probe_prompts(dir.path());
    let tasks = crate::common::pick_ok(&["list-prompts", "task", "--prompt-dir", s(&prompts)]);
    assert!(tasks.starts_with("Available task prompts:\n"), "{tasks}");
    for name in [
        "countup_criteria_v2",
        "countup_criteria",
        "claude_rubric_code",
        "claude_progressive_rubric_code",
        "simplified_code_rubric",
        "inv_codedoc_verysimple",
        "text_quality",
    ] {
        assert!(tasks.contains(&format!("- {name}\n")), "{name}: {tasks}");
    }
    assert!(tasks.contains("- probe  ("), "{tasks}");
    let systems = crate::common::pick_ok(&["list-prompts", "system"]);
    assert!(systems.contains("- code_system\n"), "{systems}");
}

/// Every shipped task prompt rendered for one short and one cut sample, against golden files
/// (`PICK_GOLDEN_UPDATE=1` rewrites them).
#[test]
fn shipped_prompts_render_as_their_golden_files() {
    let dir = tempfile::tempdir().unwrap();
    let code = "def mean(xs):\n    \"\"\"Average of xs.\"\"\"\n    return sum(xs) / len(xs)\n";
    let long: String = (0..60)
        .map(|i| format!("x{i} = {i} * 2  # step {i}\n"))
        .collect();
    let goldens = repo().join("tests/fixtures/prompts");
    let tasks = crate::common::pick_ok(&["list-prompts", "task"]);
    let names: Vec<&str> = tasks.lines().filter_map(|l| l.strip_prefix("- ")).collect();
    assert!(names.len() >= 8, "{names:?}");
    for (case, text, max) in [("short", code.to_string(), "100000"), ("cut", long, "600")] {
        let input = dir.path().join(case);
        write_file(
            &input.join("a.jsonl"),
            format!("{}\n", json!({"text": text})).as_bytes(),
        );
        for name in &names {
            let rendered = crate::common::pick_ok(&[
                "annotate-dataset",
                "-d",
                s(&input),
                "-o",
                s(&dir.path().join("unused")),
                "-T",
                name,
                "-S",
                "code_system",
                "--max-text-length",
                max,
                "--show-prompt",
            ]);
            assert!(
                !rendered.contains("{{") && !rendered.contains("}}") && !rendered.contains("{%"),
                "{name}: {rendered}"
            );
            if case == "cut" {
                assert!(
                    rendered.contains("more characters")
                        || rendered.contains("truncated")
                        || rendered.contains("cut"),
                    "{name}: no notice"
                );
                assert!(!rendered.contains(" 0 characters"), "{name}: B11");
            }
            let golden = goldens.join(format!("{name}.{case}.txt"));
            if std::env::var_os("PICK_GOLDEN_UPDATE").is_some() {
                write_file(&golden, rendered.as_bytes());
            }
            let want = std::fs::read_to_string(&golden).unwrap_or_else(|e| {
                panic!("{}: {e} (PICK_GOLDEN_UPDATE=1 writes it)", golden.display())
            });
            assert_eq!(
                rendered,
                want,
                "{name} ({case}) differs from {}",
                golden.display()
            );
        }
    }
    assert!(
        !dir.path().join("unused").exists(),
        "--show-prompt writes nothing"
    );
}

fn batch_cmd(server: &FakeLlm, args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pick"));
    c.args(args)
        .args(["--base-url", &server.base_url(), "--json"])
        .env("PICK_RETRY_BASE_MS", "1")
        .env("OPENAI_API_KEY", "sk-batch-test")
        .env_remove("OPENAI_BASE_URL");
    c.output().unwrap()
}

#[test]
fn batches_submit_exactly_the_limit_and_retrieve_keeps_failed_and_expired_requests() {
    let dir = tempfile::tempdir().unwrap();
    let prompts = probe_prompts(dir.path());
    let input = probe_dataset(dir.path(), 20);
    let batches = dir.path().join("batches");
    // Batch 2 expires half done, batch 3 fails; rows 1, 5, 9, ... error inside their batch.
    let plan = crate::fake_llm::BatchPlan {
        expire: vec![2],
        fail: vec![3],
        error_rows: (0..20).filter(|n| n % 4 == 1).collect(),
    };
    let server = FakeLlm::start_with(no_faults(), plan);
    let submitted = report(&batch_cmd(
        &server,
        &[
            "batch-annotate-submit",
            "-d",
            s(&input),
            "-b",
            s(&batches),
            "-T",
            "probe",
            "--prompt-dir",
            s(&prompts),
            "-m",
            "fake-model",
            "--limit-rows",
            "7",
            "--annotation-batch-size",
            "3",
        ],
    ));
    assert_eq!(submitted["requests"], 7, "B24: exactly --limit-rows");
    assert_eq!(submitted["rows"], 20);
    assert_eq!(submitted["batches"].as_array().unwrap().len(), 3);
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(batches.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["batches"][2]["requests"], 1);
    assert!(
        !String::from_utf8_lossy(&std::fs::read(batches.join("manifest.json")).unwrap())
            .contains("sk-batch-test")
    );

    // Batches are still running at the first poll: with no time to wait, retrieve stops and
    // writes nothing.
    let out = dir.path().join("out");
    let o = batch_cmd(
        &server,
        &[
            "batch-annotate-retrieve",
            "-b",
            s(&batches),
            "-o",
            s(&out),
            "--timeout",
            "0",
            "--poll-interval",
            "0.01",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("still running"), "{}", stderr(&o));
    assert!(!out.exists());

    let r = report(&batch_cmd(
        &server,
        &[
            "batch-annotate-retrieve",
            "-b",
            s(&batches),
            "-o",
            s(&out),
            "--poll-interval",
            "0.01",
        ],
    ));
    assert_eq!(r["rows"], 20);
    assert_eq!(r["passed_through"], 13);
    let rows: Vec<Value> = rows_by_file(&out).into_iter().flat_map(|f| f.1).collect();
    assert_eq!(rows.len(), 20, "every row is written");
    let mut answered = 0;
    let mut failed = Vec::new();
    for row in &rows {
        let n = row["id"].as_u64().unwrap();
        if let Some(a) = row.get("probe") {
            if n % 17 != 16 {
                assert_eq!(a, &answer_of(n));
                answered += 1;
            }
        } else if let Some(e) = row.get("probe_error") {
            failed.push((n, e["error"].as_str().unwrap().to_string()));
        }
    }
    assert_eq!(answered + failed.len(), 7, "{failed:?}");
    assert_eq!(r["answered"], answered);
    assert_eq!(r["failed"], failed.len());
    assert!(
        failed.iter().any(|(_, e)| e.contains("HTTP 500")),
        "{failed:?}"
    );
    assert!(
        failed.iter().any(|(_, e)| e.contains("is expired")),
        "{failed:?}"
    );
    assert!(
        failed.iter().any(|(_, e)| e.contains("is failed")),
        "{failed:?}"
    );
    // Downloaded once: a second retrieve needs no server.
    drop(server);
    let gone = FakeLlm::start(no_faults());
    let again = report(&batch_cmd(
        &gone,
        &[
            "batch-annotate-retrieve",
            "-b",
            s(&batches),
            "-o",
            s(&dir.path().join("again")),
            "--poll-interval",
            "0.01",
        ],
    ));
    assert_eq!(again["answered"], r["answered"]);
}
