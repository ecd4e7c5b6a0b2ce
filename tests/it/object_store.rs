//! Datasets and outputs in an S3-compatible store: moto's server on 127.0.0.1, which
//! `scripts/s3-setup.sh` installs from PyPI (the README's test command runs it). Every command
//! gets the same bytes whether its inputs and outputs are local or in the bucket.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::common::{files_under, s, samples, stderr, stdout};

/// The `moto_server` that `scripts/s3-setup.sh` installs, from its export or its cache.
fn moto_server() -> PathBuf {
    let path = std::env::var_os("PICK_MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            std::env::var_os("HOME")
                .map(|h| PathBuf::from(h).join(".cache/pick-s3/venv/bin/moto_server"))
                .unwrap_or_default()
        });
    assert!(
        path.is_file(),
        "moto_server is missing ({}): run the tests with `bash scripts/test.sh`, which \
         installs it",
        path.display()
    );
    path
}

/// A moto server for this test binary, stopped when the binary exits (a shell watches the
/// test process and kills the server when it is gone).
pub(crate) struct Moto {
    pub(crate) endpoint: String,
    _child: Child,
}

fn start_moto(auth: bool) -> Moto {
    let server = moto_server();
    let script = format!(
        "'{}' -H 127.0.0.1 -p 0 & m=$!; while kill -0 {} 2>/dev/null; do sleep 1; done; kill $m",
        server.display(),
        std::process::id()
    );
    let mut cmd = Command::new("sh");
    cmd.args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if auth {
        // moto checks signatures against its own IAM users once this many requests are done.
        cmd.env("INITIAL_NO_AUTH_ACTION_COUNT", "0");
    }
    let mut child = cmd.spawn().expect("moto_server starts");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    let endpoint = loop {
        let line = lines
            .next()
            .expect("moto_server printed its address")
            .unwrap();
        if let Some(i) = line.find("http://127.0.0.1:") {
            break line[i..].trim().to_string();
        }
        assert!(Instant::now() < deadline, "moto_server did not start");
    };
    // Keep draining its log so it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Moto {
        endpoint,
        _child: child,
    }
}

pub(crate) fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(|| start_moto(false))
}

/// One unsigned HTTP/1.1 request to the server (moto takes them when it does not check
/// signatures): the status code and the body.
fn request(endpoint: &str, method: &str, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let addr = endpoint.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    stream.write_all(body).unwrap();
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(response.len(), |i| i + 4);
    let head = String::from_utf8_lossy(&response[..split]).to_string();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, response[split..].to_vec())
}

fn http(endpoint: &str, method: &str, path: &str) -> u16 {
    request(endpoint, method, path, b"").0
}

/// Copies the files under `local` to `bucket/prefix/`, byte for byte.
pub(crate) fn put_dir(local: &Path, bucket: &str, prefix: &str) {
    for (rel, bytes) in files_under(local) {
        let (status, _) = request(
            &moto().endpoint,
            "PUT",
            &format!("/{bucket}/{prefix}/{rel}"),
            &bytes,
        );
        assert_eq!(status, 200, "PUT {rel}");
    }
}

/// The test user's own client of `bucket` (moto keeps objects private to the user that wrote
/// them, so unsigned reads are refused).
fn signed<T>(bucket: &str, f: impl AsyncFnOnce(&object_store::aws::AmazonS3) -> T) -> T {
    let store = object_store::aws::AmazonS3Builder::new()
        .with_endpoint(&moto().endpoint)
        .with_allow_http(true)
        .with_bucket_name(bucket)
        .with_region("us-east-1")
        .with_access_key_id("testing")
        .with_secret_access_key("testing")
        .build()
        .unwrap();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f(&store))
}

/// Whether the object `bucket/key` exists.
fn exists(bucket: &str, key: &str) -> bool {
    use object_store::ObjectStoreExt;
    signed(bucket, async |store| {
        store
            .head(&object_store::path::Path::from(key))
            .await
            .is_ok()
    })
}

/// The objects under `bucket/prefix/`, by key relative to it, byte for byte.
pub(crate) fn get_dir(bucket: &str, prefix: &str) -> std::collections::BTreeMap<String, Vec<u8>> {
    use futures::TryStreamExt;
    use object_store::{ObjectStore, ObjectStoreExt};
    signed(bucket, async |store| {
        let listed: Vec<_> = store
            .list(Some(&object_store::path::Path::from(prefix)))
            .try_collect()
            .await
            .unwrap();
        let mut out = std::collections::BTreeMap::new();
        for meta in listed {
            let bytes = store
                .get(&meta.location)
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            let key = meta.location.as_ref();
            let key = if prefix.is_empty() {
                key
            } else {
                &key[prefix.len() + 1..]
            };
            let key = key.to_string();
            out.insert(key, bytes.to_vec());
        }
        out
    })
}

/// A fresh bucket on the shared server.
pub(crate) fn bucket(name: &str) -> String {
    let status = http(&moto().endpoint, "PUT", &format!("/{name}"));
    assert_eq!(status, 200, "bucket {name} created");
    name.to_string()
}

/// Runs pick against the moto server.
fn pick_s3(args: &[&str]) -> Output {
    pick_at(&moto().endpoint, args, &[])
}

fn pick_at(endpoint: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pick"));
    cmd.args(args)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("PICK_STORE_RETRIES", "1")
        .env("PICK_STORE_RETRY_SECONDS", "5");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("pick runs")
}

fn ok(o: Output, what: &str) -> String {
    assert!(o.status.success(), "{what}: {}", stderr(&o));
    stdout(&o)
}

fn assert_same(
    a: &std::collections::BTreeMap<String, Vec<u8>>,
    b: &std::collections::BTreeMap<String, Vec<u8>>,
) {
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "same files"
    );
    for (k, v) in a {
        assert!(v == &b[k], "{k} differs");
    }
}

/// A bucket's output without its completion marker, which a local output does not have.
pub(crate) fn output(bucket: &str, prefix: &str) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut files = get_dir(bucket, prefix);
    let manifest = files.remove("_SUCCESS").expect("the completion marker");
    let listed: Vec<&str> = std::str::from_utf8(&manifest).unwrap().lines().collect();
    assert_eq!(listed, files.keys().map(String::as_str).collect::<Vec<_>>());
    files
}

#[test]
fn sql_reads_a_bucket_as_it_reads_a_directory() {
    let b = bucket("sql-read");
    let url = format!("s3://{b}/data");
    put_dir(&samples(), &b, "data");
    let q = "SELECT _split, count(*) AS n, sum(length(text)) AS chars FROM s GROUP BY 1 ORDER BY 1";
    let local = ok(
        pick_s3(&["sql", "-d", &format!("s={}", s(&samples())), q]),
        "local",
    );
    let remote = ok(pick_s3(&["sql", "-d", &format!("s={url}"), q]), "s3");
    assert_eq!(local, remote);
    // Paths in FROM, a split prefix and a glob over keys.
    let from = ok(
        pick_s3(&[
            "sql",
            &format!("SELECT count(*) AS n FROM '{url}/train/*.jsonl.zst'"),
        ]),
        "glob",
    );
    let split = ok(
        pick_s3(&["sql", &format!("SELECT count(*) AS n FROM '{url}/train'")]),
        "prefix",
    );
    assert_eq!(from, split);
    let local_train = ok(
        pick_s3(&[
            "sql",
            &format!("SELECT count(*) AS n FROM '{}/train'", s(&samples())),
        ]),
        "local",
    );
    assert_eq!(split, local_train);
}

#[test]
fn commands_round_trip_through_a_bucket() {
    let b = bucket("round-trip");
    let tmp = tempfile::tempdir().unwrap();
    let local = |n: &str| tmp.path().join(n);
    let url = |n: &str| format!("s3://{b}/{n}");
    let input = samples();
    // Each command: all local, then local -> s3, s3 -> s3 and s3 -> local.
    type Cmd<'a> = &'a dyn Fn(&str, &str) -> Vec<String>;
    let commands: Vec<(&str, Cmd)> = vec![
        ("export", &|i, o| {
            ["export", "-i", i, "-o", o, "--format", "parquet"]
                .map(String::from)
                .to_vec()
        }),
        ("transform", &|i, o| {
            [
                "transform-dataset",
                "-i",
                i,
                "-o",
                o,
                "-l",
                "{text: .text, n: (.text | length)}",
            ]
            .map(String::from)
            .to_vec()
        }),
        ("reshard", &|i, o| {
            ["reshard-dataset", "-i", i, "-o", o, "-n", "3", "-t", "0.8"]
                .map(String::from)
                .to_vec()
        }),
        ("infer", &|i, o| {
            [
                "infer-fasttext",
                "-m",
                "MODEL",
                "-i",
                i,
                "-o",
                o,
                "-c",
                "clf",
            ]
            .map(String::from)
            .to_vec()
        }),
        ("convert", &|i, o| {
            [
                "convert-to-fasttext",
                "-i",
                i,
                "-o",
                o,
                "-ll",
                ".metadata.code_quality.score",
                "--auto",
                "3",
            ]
            .map(String::from)
            .to_vec()
        }),
    ];
    // Runs reading the bucket take the model from it too.
    let model = samples().join("fasttext/binary");
    put_dir(&model, &b, "models/binary");
    let model_url = url("models/binary");
    let run = |args: Vec<String>| {
        let remote = args.contains(&url("in"));
        let args: Vec<String> = args
            .into_iter()
            .map(|a| match (a == "MODEL", remote) {
                (true, true) => model_url.clone(),
                (true, false) => s(&model).to_string(),
                _ => a,
            })
            .collect();
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        ok(pick_s3(&refs), &args.join(" "));
    };
    put_dir(&input, &b, "in");
    for (name, cmd) in commands {
        let all_local = local(&format!("{name}-local"));
        run(cmd(s(&input), s(&all_local)));
        // A report names its input and output; the rest of it is the same.
        let expected = |i: &str, o: &str| {
            let mut files = files_under(&all_local);
            if let Some(r) = files.get_mut("report.yaml") {
                *r = String::from_utf8_lossy(r)
                    .replace(&format!(": {}\n", s(&input)), &format!(": {i}\n"))
                    .replace(&format!(": {}\n", s(&all_local)), &format!(": {o}\n"))
                    .into_bytes();
            }
            files
        };
        let (a, b2) = (url(&format!("{name}-a")), url(&format!("{name}-b")));
        run(cmd(s(&input), &a));
        assert_same(&expected(s(&input), &a), &output(&b, &format!("{name}-a")));
        run(cmd(&url("in"), &b2));
        assert_same(
            &expected(&url("in"), &b2),
            &output(&b, &format!("{name}-b")),
        );
        let back = local(&format!("{name}-back"));
        run(cmd(&url("in"), s(&back)));
        assert_same(&expected(&url("in"), s(&back)), &files_under(&back));
    }
}

#[test]
fn an_output_in_a_bucket_is_the_local_output() {
    let b = bucket("same-bytes");
    let tmp = tempfile::tempdir().unwrap();
    let local = tmp.path().join("local");
    ok(
        pick_s3(&[
            "reshard-dataset",
            "-i",
            s(&samples()),
            "-o",
            s(&local),
            "-n",
            "4",
        ]),
        "local",
    );
    let url = format!("s3://{b}/out");
    ok(
        pick_s3(&[
            "reshard-dataset",
            "-i",
            s(&samples()),
            "-o",
            &url,
            "-n",
            "4",
        ]),
        "s3",
    );
    assert_same(&files_under(&local), &output(&b, "out"));
    // Overwriting needs --overwrite, as locally.
    let o = pick_s3(&[
        "reshard-dataset",
        "-i",
        s(&samples()),
        "-o",
        &url,
        "-n",
        "2",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--overwrite"), "{}", stderr(&o));
}

#[test]
fn errors_name_the_url_and_leave_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    // A bucket that does not exist, as input and as output.
    let o = pick_s3(&["sql", "SELECT count(*) FROM 's3://no-such-bucket/x'"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("s3://no-such-bucket/x"),
        "{}",
        stderr(&o)
    );
    let o = pick_s3(&[
        "export",
        "-i",
        s(&samples()),
        "-o",
        "s3://no-such-bucket/out",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("s3://no-such-bucket"), "{}", stderr(&o));
    // A server that answers 500 to everything.
    let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = server.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in server.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf);
            let _ = conn.write_all(
                b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    let o = pick_at(
        &format!("http://{addr}"),
        &["sql", "SELECT count(*) FROM 's3://any/data'"],
        &[],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("s3://any/data"), "{}", stderr(&o));
    assert!(stderr(&o).contains("500"), "{}", stderr(&o));
    // Nothing local was made for an s3:// output (pick once wrote a folder named `s3:`).
    let o = Command::new(env!("CARGO_BIN_EXE_pick"))
        .current_dir(tmp.path())
        .args([
            "export",
            "-i",
            s(&samples()),
            "-o",
            "s3://no-such-bucket/out",
        ])
        .env("AWS_ENDPOINT_URL", &moto().endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("PICK_STORE_RETRIES", "0")
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}

#[test]
fn wrong_credentials_are_refused_with_the_url() {
    static AUTH: OnceLock<Moto> = OnceLock::new();
    let auth = AUTH.get_or_init(|| start_moto(true));
    let o = pick_at(
        &auth.endpoint,
        &["sql", "SELECT count(*) FROM 's3://private/data'"],
        &[],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("s3://private/data"), "{err}");
    assert!(err.contains("403") || err.contains("denied"), "{err}");
    assert!(!err.contains("testing"), "a credential was printed: {err}");
}

#[test]
fn a_killed_upload_leaves_no_finished_output_and_a_rerun_completes() {
    let b = bucket("crash");
    let tmp = tempfile::tempdir().unwrap();
    // One shard well past the single-PUT size, so it goes up as a multipart upload.
    let input = tmp.path().join("big/train/shard.jsonl");
    std::fs::create_dir_all(input.parent().unwrap()).unwrap();
    let mut text = String::new();
    let line = "x".repeat(1000);
    for i in 0..60_000 {
        text.push_str(&format!("{{\"id\":{i},\"text\":\"{line}\"}}\n"));
    }
    std::fs::write(&input, &text).unwrap();
    let input_dir = tmp.path().join("big");
    let url = format!("s3://{b}/out");
    let args = [
        "export",
        "-i",
        s(&input_dir),
        "-o",
        &url,
        "--format",
        "jsonl",
    ];
    let mut child = Command::new(env!("CARGO_BIN_EXE_pick"))
        .args(args)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_ENDPOINT_URL", &moto().endpoint)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it as soon as the publish has begun (the writing marker is up).
    let deadline = Instant::now() + Duration::from_secs(120);
    while !exists(&b, "out/_PICK_WRITING") {
        assert!(Instant::now() < deadline, "the upload never started");
        assert!(child.try_wait().unwrap().is_none(), "pick ended first");
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        !exists(&b, "out/train/shard.jsonl"),
        "a half upload is visible"
    );
    assert!(!exists(&b, "out/_SUCCESS"));
    // Reading it is refused, and says why.
    let o = pick_s3(&["sql", &format!("SELECT count(*) FROM '{url}'")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("interrupted"), "{}", stderr(&o));
    // A rerun (it overwrites what the killed run began) finishes the job.
    let mut rerun: Vec<&str> = args.to_vec();
    rerun.push("--overwrite");
    ok(pick_s3(&rerun), "rerun");
    assert!(exists(&b, "out/train/shard.jsonl"));
    assert!(exists(&b, "out/_SUCCESS"));
    assert!(!exists(&b, "out/_PICK_WRITING"));
    let n = ok(
        pick_s3(&["sql", &format!("SELECT count(*) AS n FROM '{url}'")]),
        "count",
    );
    assert!(n.contains("60000"), "{n}");
}

/// fastText's directories in a bucket: `train-fasttext -d s3://...` trains on the bucket's
/// `train.txt` the model a local run trains (one thread, byte for byte), `eval-fasttext -d
/// s3://...` scores its `test.txt` as locally, and a prefix without one says so.
#[test]
fn fasttext_trains_and_evaluates_from_a_bucket() {
    let b = bucket("fasttext-dirs");
    let tmp = tempfile::tempdir().unwrap();
    let ft = tmp.path().join("ft");
    ok(
        pick_s3(&[
            "convert-to-fasttext",
            "-q",
            "-i",
            s(&samples()),
            "-o",
            s(&ft),
            "-ll",
            ".metadata.code_quality.score",
            "--auto",
            "3",
        ]),
        "convert",
    );
    put_dir(&ft, &b, "ft");
    let train = |d: &str, out: &Path| {
        ok(
            pick_s3(&[
                "train-fasttext",
                "-q",
                "-d",
                d,
                "-o",
                s(out),
                "--dimension",
                "16",
                "--epoch",
                "5",
                "--thread",
                "1",
                "--seed",
                "42",
            ]),
            "train",
        );
        std::fs::read(out.join("model.bin")).unwrap()
    };
    let local_model = tmp.path().join("local-model");
    let local = train(s(&ft), &local_model);
    let remote = train(&format!("s3://{b}/ft"), &tmp.path().join("remote-model"));
    assert!(
        local == remote,
        "the bucket's train.txt trained another model"
    );

    let eval = |d: &str| {
        let o = pick_s3(&["-q", "eval-fasttext", "-d", d, "-m", s(&local_model)]);
        ok(o, "eval")
            .lines()
            .filter(|l| {
                !l.starts_with("dataset_dir") && !l.starts_with("- /") && !l.starts_with("- s3://")
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let local_eval = eval(s(&ft));
    assert!(local_eval.contains("macro_f1"), "{local_eval}");
    assert_eq!(eval(&format!("s3://{b}/ft")), local_eval);

    let o = pick_s3(&[
        "train-fasttext",
        "-d",
        &format!("s3://{b}/nothing"),
        "-o",
        s(&tmp.path().join("m")),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("s3://{b}/nothing: no train.txt")),
        "{}",
        stderr(&o)
    );
}

/// A profile whose keys come from a `credential_process`: the command runs (it leaves a mark),
/// its keys reach the store, and the secret it prints is never shown. A profile that gets
/// its keys through SSO is an error naming the profile and the setting, not skipped.
#[test]
fn credential_process_profiles_are_followed_and_sso_profiles_named() {
    let b = bucket("process");
    put_dir(&samples().join("valid"), &b, "data");
    let tmp = tempfile::tempdir().unwrap();
    let mark = tmp.path().join("ran");
    let script = tmp.path().join("credentials.sh");
    std::fs::write(
        &script,
        format!(
            "touch '{}'\ncat <<'JSON'\n{{\"Version\": 1, \"AccessKeyId\": \"testing\", \
             \"SecretAccessKey\": \"proc-secret\", \"Expiration\": \"2999-01-01T00:00:00Z\"}}\nJSON\n",
            mark.display()
        ),
    )
    .unwrap();
    let config = tmp.path().join("config");
    std::fs::write(
        &config,
        format!(
            "[profile proc]\ncredential_process = sh {}\n\
             [profile sso]\nsso_start_url = https://example.awsapps.com/start\n\
             sso_region = us-east-1\n\
             [profile bad]\ncredential_process = echo leaked-secret\n",
            script.display()
        ),
    )
    .unwrap();
    let query = format!("SELECT count(*) AS n FROM 's3://{b}/data'");
    let run = |profile: &str| {
        Command::new(env!("CARGO_BIN_EXE_pick"))
            .args(["sql", "-q", "-f", "csv", &query])
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_SESSION_TOKEN")
            .env("AWS_CONFIG_FILE", &config)
            .env("AWS_SHARED_CREDENTIALS_FILE", tmp.path().join("none"))
            .env("AWS_PROFILE", profile)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ENDPOINT_URL", &moto().endpoint)
            .env("PICK_STORE_RETRIES", "1")
            .output()
            .unwrap()
    };
    let local = crate::common::pick_ok(&[
        "sql",
        "-q",
        "-f",
        "csv",
        &format!(
            "SELECT count(*) AS n FROM '{}'",
            s(&samples().join("valid"))
        ),
    ]);
    let o = run("proc");
    assert_eq!(ok(o, "credential_process"), local);
    assert!(mark.exists(), "the credential_process never ran");

    let o = run("sso");
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("`sso`") && err.contains("sso_start_url"),
        "{err}"
    );
    assert!(!err.contains("proc-secret"), "{err}");
}

/// An object replaced while pick reads it (its output is held back by a reader that has not
/// read it yet): an error naming the object, never rows from two versions of it.
#[test]
fn an_object_replaced_mid_read_is_an_error_naming_it() {
    let b = bucket("pinned");
    // 160 MB: more than pick reads ahead of a stalled consumer.
    let rows = |tag: &str| {
        let mut text = String::with_capacity(170 << 20);
        for i in 0..160_000 {
            text.push_str(&format!(
                "{{\"id\":{i},\"tag\":\"{tag}\",\"text\":\"{}\"}}\n",
                "x".repeat(960)
            ));
        }
        text.into_bytes()
    };
    assert_replaced_mid_read_is_an_error(&b, "data/a.jsonl", rows("old"), rows("new"));
}

/// The same for a Parquet object, which DataFusion's reader reads row group by row group:
/// an error naming it once it is replaced, never row groups of two versions.
#[test]
fn a_parquet_object_replaced_mid_read_is_an_error_naming_it() {
    let b = bucket("pinned-parquet");
    let tmp = tempfile::tempdir().unwrap();
    // Ten row groups of 65,536 rows, the text hard to compress.
    let parquet = |tag: &str| {
        let dir = tmp.path().join(format!("json-{tag}"));
        std::fs::create_dir_all(&dir).unwrap();
        let mut text = String::with_capacity(150 << 20);
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for i in 0..655_360 {
            let mut words = String::with_capacity(200);
            while words.len() < 160 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                words.push_str(&format!("{x:016x}"));
            }
            text.push_str(&format!(
                "{{\"id\":{i},\"tag\":\"{tag}\",\"text\":\"{words}\"}}\n"
            ));
        }
        std::fs::write(dir.join("a.jsonl"), text).unwrap();
        let out = tmp.path().join(format!("parquet-{tag}"));
        crate::common::pick_ok(&[
            "export",
            "-q",
            "-i",
            s(&dir),
            "-o",
            s(&out),
            "-f",
            "parquet",
        ]);
        std::fs::read(out.join("a.parquet")).unwrap()
    };
    let (old, new) = (parquet("old"), parquet("new"));
    assert_replaced_mid_read_is_an_error(&b, "data/a.parquet", old, new);
}

/// Puts `old` at `key` of `bucket`, starts reading the prefix `data` with pick (in file order,
/// one reader, output as large as the input, so pick holds no more of the object than its
/// read-ahead while this test has not read), replaces the object with `new` once the first
/// row is out, and asserts an error naming the object and no row of the new version.
fn assert_replaced_mid_read_is_an_error(bucket: &str, key: &str, old: Vec<u8>, new: Vec<u8>) {
    let path = object_store::path::Path::from(key);
    let put = |bytes: Vec<u8>| {
        use object_store::ObjectStoreExt;
        let path = path.clone();
        signed(bucket, async move |store| {
            store.put(&path, bytes.into()).await.unwrap();
        })
    };
    put(old);
    let mut child = Command::new(env!("CARGO_BIN_EXE_pick"))
        .args([
            "sql",
            "-q",
            "-f",
            "jsonl",
            &format!("SELECT id, tag, text FROM 's3://{bucket}/data' ORDER BY _row"),
        ])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", &moto().endpoint)
        .env("PICK_STORE_RETRIES", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    assert!(first.contains("\"old\""), "{first}");
    put(new);
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    let o = child.wait_with_output().unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains(&format!("s3://{bucket}/{key}")), "{err}");
    assert!(err.contains("changed while pick read it"), "{err}");
    assert!(
        !rest.contains("\"new\""),
        "rows of the new version were read"
    );
}
