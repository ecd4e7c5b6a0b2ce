//! pick on a Ballista cluster of processes: a scheduler and two executors (one task slot each)
//! started on 127.0.0.1 by the test, queried with `pick sql --cluster`. The answers are the
//! local ones; an executor killed mid-query either has its tasks run again on the other one
//! (the same answer) or fails the query with a clear error, never a wrong answer.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::{pick, pick_ok, s, samples, stderr, stdout};

/// A process killed when the test is done with it, passed or not.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `pick args`, its log (stderr, `RUST_LOG=info`) in `log`.
fn spawn(args: &[&str], env: &[(&str, &str)], log: &Path) -> Running {
    Running(
        Command::new(env!("CARGO_BIN_EXE_pick"))
            .args(args)
            .envs(env.iter().copied())
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log).expect("a log file"))
            .spawn()
            .expect("pick starts"),
    )
}

fn wait_listening(port: u16) {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let start = Instant::now();
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "nothing listens on {addr}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

struct Cluster {
    url: String,
    _scheduler: Running,
    executors: Vec<Running>,
}

/// A scheduler and `n` executors with one slot each. A silent executor is dropped after
/// `timeout` seconds: long where none is killed (a loaded test machine can starve an
/// executor's polls for seconds), short where one is.
fn cluster(work: &Path, n: usize, timeout: &str) -> Cluster {
    cluster_with(work, n, timeout, &[])
}

/// `cluster`, its processes started with `env` (each executor caching objects in a
/// directory of its own).
fn cluster_with(work: &Path, n: usize, timeout: &str, env: &[(&str, &str)]) -> Cluster {
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let scheduler = spawn(
        &[
            "cluster",
            "scheduler",
            "--bind",
            &bind,
            "--executor-timeout",
            timeout,
        ],
        env,
        &work.join("scheduler.log"),
    );
    wait_listening(port);
    let url = format!("df://127.0.0.1:{port}");
    let executors = (0..n)
        .map(|i| {
            let port = free_port();
            let dir = work.join(format!("executor-{i}"));
            let cache = work.join(format!("executor-{i}-cache"));
            std::fs::create_dir_all(&dir).unwrap();
            let mut env = env.to_vec();
            env.push(("PICK_CACHE_DIR", s(&cache)));
            let e = spawn(
                &[
                    "cluster",
                    "executor",
                    "--scheduler",
                    &url,
                    "--bind",
                    &format!("127.0.0.1:{port}"),
                    "--slots",
                    "1",
                    "--work-dir",
                    s(&dir),
                ],
                &env,
                &work.join(format!("executor-{i}.log")),
            );
            wait_listening(port);
            e
        })
        .collect();
    Cluster {
        url,
        _scheduler: scheduler,
        executors,
    }
}

fn sql(query: &str, cluster: Option<&str>) -> Output {
    let mut args = vec!["sql", "-q", "-f", "csv", query];
    if let Some(url) = cluster {
        args.extend(["--cluster", url]);
    }
    pick(&args)
}

fn answer(query: &str, cluster: Option<&str>) -> String {
    let o = sql(query, cluster);
    assert!(
        o.status.success(),
        "pick sql {query} (cluster {cluster:?}) failed: {}",
        stderr(&o)
    );
    stdout(&o)
}

#[test]
fn a_cluster_of_processes_answers_as_the_local_engine() {
    let tmp = tempfile::tempdir().unwrap();
    let pq = tmp.path().join("parquet");
    pick_ok(&["export", "-q", "-i", s(&samples()), "-o", s(&pq)]);
    let cluster = cluster(tmp.path(), 2, "120");
    let model = samples().join("fasttext/binary");
    for dataset in [samples(), pq.clone()] {
        let scoring = format!(
            "SELECT _split, count(*) AS n, \
             count(*) FILTER (WHERE fasttext_score('{m}', normalize(text, 'ultrafine'), 'pos') > 0.5) AS positive, \
             round(cohen_kappa(label(_json, 'if .metadata.code_quality.score < 3 then \"neg\" else \"pos\" end'), \
               CASE WHEN fasttext_score('{m}', normalize(text, 'ultrafine'), 'pos') > 0.5 THEN 'pos' ELSE 'neg' END), 6) AS kappa \
             FROM '{d}' GROUP BY _split ORDER BY _split",
            m = s(&model),
            d = s(&dataset)
        );
        let local = answer(&scoring, None);
        assert_eq!(local.lines().count(), 4, "{local}");
        assert_eq!(answer(&scoring, Some(&cluster.url)), local);

        // A shuffle (GROUP BY a high-cardinality key) and a global sort across executors.
        let shuffled = format!(
            "SELECT substr(id, 1, 3) AS k, count(*) AS n, sum(length(text)) AS bytes FROM '{}' \
             GROUP BY k ORDER BY n DESC, k LIMIT 20",
            s(&dataset)
        );
        assert_eq!(
            answer(&shuffled, Some(&cluster.url)),
            answer(&shuffled, None)
        );
    }

    // The commands that take --cluster print and write what they do locally.
    let samples_dir = samples();
    let data = s(&samples_dir);
    let url = cluster.url.as_str();
    same_on_cluster(&["count-tokens", "-d", data], url, None);
    let labels = ".metadata.code_quality.score";
    same_on_cluster(&["label-distribution", "-d", data, "-l", labels], url, None);
    let scored = tmp.path().join("scored");
    let infer = [
        "infer-fasttext",
        "-q",
        "-i",
        data,
        "-m",
        s(&model),
        "-c",
        "ft",
    ];
    same_on_cluster(
        &[&infer[..], &["--normalizer", "ultrafine"]].concat(),
        url,
        Some(&scored),
    );
    same_on_cluster(
        &[
            "normalize-dataset",
            "-q",
            "-i",
            data,
            "-t",
            "text",
            "-l",
            "id",
        ],
        url,
        Some(&tmp.path().join("normalized")),
    );
    // Parquet shards: their transformed rows become Parquet with their own columns, written
    // by the executors.
    let pq_dir = tmp.path().join("parquet");
    let transform = [
        "transform-dataset",
        "-q",
        "-i",
        s(&pq_dir),
        "-t",
        "{text: .text, n: (.text | length)}",
        "-l",
        "{score: .metadata.code_quality.score}",
    ];
    let transformed = same_on_cluster(&transform, url, Some(&tmp.path().join("transformed")));
    assert!(
        transformed.keys().all(|k| k.ends_with(".parquet")),
        "{transformed:?}"
    );
    let where_ = "metadata.code_quality.score >= 3";
    let export = ["export", "-q", "-i", data, "-f", "jsonl", "--where", where_];
    let exported = same_on_cluster(&export, url, Some(&tmp.path().join("export")));
    assert!(!exported.is_empty());

    // A query the executors cannot run fails with the function's own message, exit 1.
    let missing = format!(
        "SELECT fasttext_score('/no/such/model.bin', text, 'pos') FROM '{}'",
        s(&samples().join("test"))
    );
    let o = sql(&missing, Some(&cluster.url));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("/no/such/model.bin"), "{}", stderr(&o));
}

/// Runs `args` locally and with `--cluster url` and asserts the same result: what it prints,
/// or, given `out`, the files it writes there (`-o out/local`, `-o out/cluster`). Returns the
/// local files.
fn same_on_cluster(args: &[&str], url: &str, out: Option<&Path>) -> Files {
    let run = |tag: &str, cluster: bool| {
        let mut all: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let dir = out.map(|o| o.join(tag));
        if let Some(d) = &dir {
            all.extend(["-o".to_string(), s(d).to_string()]);
        }
        if cluster {
            all.extend(["--cluster".to_string(), url.to_string()]);
        }
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        let printed = pick_ok(&refs);
        match dir {
            Some(d) => (String::new(), crate::common::files_under(&d)),
            None => (printed, Files::new()),
        }
    };
    let local = run("local", false);
    assert_eq!(run("cluster", true), local, "{args:?}");
    local.1
}

type Files = std::collections::BTreeMap<String, Vec<u8>>;

/// Rows of about 3 KB, in `shards` shards: enough work that a query is still running when
/// an executor is killed.
fn corpus(dir: &Path, shards: usize, rows: usize) {
    std::fs::create_dir_all(dir).unwrap();
    let words = [
        "fn", "let", "mut", "struct", "impl", "return", "match", "Some", "None", "self", "quality",
        "document", "the", "of", "and", "data", "model", "score", "label", "text",
    ];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for shard in 0..shards {
        let mut out = String::new();
        for row in 0..rows {
            let mut text = String::with_capacity(3200);
            while text.len() < 3000 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                text.push_str(words[(x % words.len() as u64) as usize]);
                text.push(if x.is_multiple_of(11) { '\n' } else { ' ' });
            }
            out.push_str(&format!(
                "{{\"id\":\"{shard}-{row}\",\"text\":{}}}\n",
                serde_json::to_string(&text).unwrap()
            ));
        }
        std::fs::write(dir.join(format!("shard_{shard:02}.jsonl")), out).unwrap();
    }
}

/// Kills the cluster's last executor (its log in `work`) while it runs a task: when its log
/// shows more tasks received than finished.
fn kill_the_last_executor_while_it_runs_a_task(cluster: &mut Cluster, work: &Path) {
    let n = cluster.executors.len() - 1;
    let log = work.join(format!("executor-{n}.log"));
    let running = || {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        text.matches("Received task").count() > text.matches("Finished task").count()
    };
    let waiting = Instant::now();
    while !running() {
        assert!(
            waiting.elapsed() < Duration::from_secs(120),
            "executor {n} never ran a task: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(cluster.executors.pop());
}

#[test]
fn a_killed_executor_never_gives_a_wrong_answer() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("corpus");
    corpus(&data, 16, 1500);
    let model = samples().join("fasttext/binary");
    let query = format!(
        "SELECT count(*) AS n, count(DISTINCT id) AS ids, \
         round(sum(fasttext_score('{}', normalize(text, 'ultrafine'), 'pos')), 3) AS total \
         FROM '{}'",
        s(&model),
        s(&data)
    );
    let local = answer(&query, None);
    assert!(local.contains("24000,24000,"), "{local}");

    let mut cluster = cluster(tmp.path(), 2, "20");
    let client = Command::new(env!("CARGO_BIN_EXE_pick"))
        .args(["sql", "-q", "-f", "csv", &query, "--cluster", &cluster.url])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    kill_the_last_executor_while_it_runs_a_task(&mut cluster, tmp.path());
    let start = Instant::now();
    let o = client.wait_with_output().unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(170),
        "the query hung after its executor died"
    );
    if o.status.success() {
        assert_eq!(stdout(&o), local, "a rerun on the surviving executor");
    } else {
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(err.starts_with("error: "), "{err}");
        assert!(
            stdout(&o).is_empty(),
            "a failed query printed rows: {}",
            stdout(&o)
        );
    }
    // The survivor still serves queries.
    assert_eq!(answer(&query, Some(&cluster.url)), local);
}

/// A dataset and a model in an object store (moto's S3 server): the client lists the shards,
/// each executor reads its pieces and fetches the model into its own cache.
#[test]
fn a_cluster_reads_datasets_and_models_from_an_object_store() {
    use crate::object_store::{bucket, get_dir, moto, output, put_dir};
    let tmp = tempfile::tempdir().unwrap();
    let b = bucket("cluster");
    put_dir(&samples(), &b, "samples");
    let endpoint = moto().endpoint.clone();
    let env = [
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
    ];
    let cluster = cluster_with(tmp.path(), 2, "120", &env);
    let query = |data: &str, model: &str| {
        format!(
            "SELECT _split, count(*) AS n, \
             round(avg(fasttext_score('{model}', normalize(text, 'ultrafine'), 'pos')), 6) AS mean \
             FROM '{data}' GROUP BY _split ORDER BY _split"
        )
    };
    let local = answer(
        &query(
            s(&samples()),
            s(&samples().join("fasttext/binary/model.bin")),
        ),
        None,
    );
    let remote = query(
        "s3://cluster/samples",
        "s3://cluster/samples/fasttext/binary/model.bin",
    );
    let client_cache = tmp.path().join("client-cache");
    let o = Command::new(env!("CARGO_BIN_EXE_pick"))
        .args(["sql", "-q", "-f", "csv", &remote, "--cluster", &cluster.url])
        .envs(env)
        .env("PICK_CACHE_DIR", &client_cache)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), local);
    // The executors fetched the model themselves.
    let fetched = (0..2)
        .filter(|i| {
            tmp.path()
                .join(format!("executor-{i}-cache/objects"))
                .is_dir()
        })
        .count();
    assert!(fetched >= 1, "no executor cached the model");

    // A whole-dataset job into the bucket: the executors write the files under a hidden
    // prefix, the client publishes them as a local run's output.
    let local_out = tmp.path().join("export");
    pick_ok(&[
        "export",
        "-q",
        "-i",
        s(&samples()),
        "-o",
        s(&local_out),
        "-f",
        "jsonl",
    ]);
    let o = Command::new(env!("CARGO_BIN_EXE_pick"))
        .args([
            "export",
            "-q",
            "-i",
            "s3://cluster/samples",
            "-o",
            "s3://cluster/exported",
        ])
        .args(["-f", "jsonl", "--cluster", &cluster.url])
        .envs(env)
        .env("PICK_CACHE_DIR", &client_cache)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        output("cluster", "exported"),
        crate::common::files_under(&local_out)
    );
    let hidden: Vec<String> = get_dir("cluster", "")
        .into_keys()
        .filter(|k| k.starts_with('.'))
        .collect();
    assert!(hidden.is_empty(), "staged objects left behind: {hidden:?}");
}

/// 240 shards with three unreadable rows among them: with `--skip-bad-rows` the cluster's
/// executors skip those rows, and the client reports them as a local run does, for a query
/// and for a whole-dataset command (one job), with the same answer and the same files.
#[test]
fn a_cluster_reports_the_bad_rows_it_skips_as_a_local_run_does() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("many");
    std::fs::create_dir_all(&data).unwrap();
    for shard in 0..240 {
        let mut text = String::new();
        for row in 0..5 {
            text.push_str(&format!(
                "{{\"id\":\"{shard}-{row}\",\"text\":\"row {row} of shard {shard}\"}}\n"
            ));
            if row == 2 && [7, 100, 201].contains(&shard) {
                text.push_str("{\"id\": \"broken\", \"text\": \n");
            }
        }
        std::fs::write(data.join(format!("part-{shard:03}.jsonl")), text).unwrap();
    }
    let cluster = cluster(tmp.path(), 2, "120");
    let query = format!(
        "SELECT count(*) AS n, count(DISTINCT id) AS ids FROM '{}'",
        s(&data)
    );
    let run = |args: &[&str], on_cluster: bool| {
        let mut all = args.to_vec();
        if on_cluster {
            all.extend(["--cluster", &cluster.url]);
        }
        let o = pick(&all);
        assert!(o.status.success(), "pick {all:?}: {}", stderr(&o));
        let skipped: Vec<String> = stderr(&o)
            .lines()
            .filter(|l| l.starts_with("skipped"))
            .map(str::to_string)
            .collect();
        (stdout(&o), skipped)
    };
    let sql = ["sql", "-f", "csv", "--skip-bad-rows", &query];
    let local = run(&sql, false);
    assert_eq!(local.0, "n,ids\n1200,1200\n");
    assert_eq!(local.1.len(), 1, "{local:?}");
    assert!(local.1[0].starts_with("skipped 3 bad rows"), "{local:?}");
    assert_eq!(run(&sql, true), local);

    // Shard for shard, as one job whose executors write the 240 output files.
    let export = |tag: &str, on_cluster: bool| {
        let out = tmp.path().join(tag);
        let args = [
            "export",
            "-i",
            s(&data),
            "-o",
            s(&out),
            "-f",
            "jsonl",
            "--skip-bad-rows",
        ];
        let (_, skipped) = run(&args, on_cluster);
        (skipped, crate::common::files_under(&out))
    };
    let local = export("local", false);
    assert_eq!(local.0, ["skipped 3 bad rows"], "{:?}", local.0);
    assert_eq!(local.1.len(), 240);
    assert_eq!(export("cluster", true), local);
    // The job's scans had one partition per task slot of the cluster (two executors, one
    // slot each), not a fixed number.
    let log = std::fs::read_to_string(tmp.path().join("scheduler.log")).unwrap();
    assert!(
        log.contains("scans cut into 2 partitions, one per task slot"),
        "{log}"
    );
}

/// An executor killed while it writes its part of a whole-dataset job: the command completes
/// with the local run's files, or fails with a clear error and leaves the previous output as
/// it was, with nothing half-written beside it.
#[test]
fn a_killed_executor_leaves_no_half_written_output() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("corpus");
    corpus(&data, 16, 1500);
    let model = samples().join("fasttext/binary");
    let infer = |out: &Path| {
        vec![
            "infer-fasttext".to_string(),
            "-q".into(),
            "-i".into(),
            s(&data).into(),
            "-m".into(),
            s(&model).into(),
            "-c".into(),
            "ft".into(),
            "--normalizer".into(),
            "ultrafine".into(),
            "-o".into(),
            s(out).into(),
        ]
    };
    let local_out = tmp.path().join("local");
    let args = infer(&local_out);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    pick_ok(&refs);
    let local = crate::common::files_under(&local_out);
    assert_eq!(local.len(), 16);

    // The output holds a previous run's files, which a failed run must leave as they were.
    let out = tmp.path().join("scored");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("previous.jsonl"), "{\"id\":\"old\"}\n").unwrap();
    let previous = crate::common::files_under(&out);

    let mut cluster = cluster(tmp.path(), 2, "20");
    let mut args = infer(&out);
    args.extend([
        "--overwrite".into(),
        "--cluster".into(),
        cluster.url.clone(),
    ]);
    let client = Command::new(env!("CARGO_BIN_EXE_pick"))
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    kill_the_last_executor_while_it_runs_a_task(&mut cluster, tmp.path());
    let o = client.wait_with_output().unwrap();
    if o.status.success() {
        assert_eq!(
            crate::common::files_under(&out),
            local,
            "a rerun on the survivor"
        );
    } else {
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(err.starts_with("error: "), "{err}");
        assert_eq!(crate::common::files_under(&out), previous);
    }
    // No staging directory and no temporary file is left beside the output.
    let left: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
