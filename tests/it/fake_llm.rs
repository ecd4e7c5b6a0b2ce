//! A fault-injecting OpenAI-compatible server on 127.0.0.1, run inside the tests (and the
//! annotation benchmark): `/v1/chat/completions`, and `/v1/files` with `/v1/batches` for the
//! Batch API. Rows are recognised by `row-<n>` in the user message; what happens to each
//! attempt of row `n` is decided by the server's `Faults`, so a test knows which rows must
//! come back answered and which must be recorded as failed. The answer echoes the row
//! (`{"row": n, "score": n % 6}`), so a cached answer says which row it belongs to.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response, StatusCode};
use serde_json::{Value, json};

/// What the server does to the attempts of a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    Answer,
    /// 429 with `Retry-After: 0` (seconds).
    RateLimited,
    ServerError(u16),
    /// No answer for this long (longer than the client's timeout).
    Hang(Duration),
    /// HTTP 200 with a body that is not JSON.
    MalformedBody,
    /// An answer whose content is not JSON.
    NotJson,
    /// An answer that breaks the schema (`score` as a string).
    BreaksSchema,
    /// The answer sent in small pieces, slowly (but within the timeout).
    SlowStream,
}

/// The fault for (row, attempt); attempts count from 1.
pub type Faults = Arc<dyn Fn(u64, u32) -> Fault + Send + Sync>;

pub fn no_faults() -> Faults {
    Arc::new(|_, _| Fault::Answer)
}

#[derive(Default)]
pub struct Seen {
    /// Attempts per row.
    pub attempts: Mutex<HashMap<u64, u32>>,
    /// Every chat request's row, in arrival order.
    pub log: Mutex<Vec<u64>>,
    pub requests: AtomicU64,
    /// The last request body, for tests on what pick sends.
    pub last_body: Mutex<Option<Value>>,
    /// The last `Authorization` header.
    pub authorization: Mutex<Option<String>>,
}

#[derive(Default)]
struct Batches {
    files: HashMap<String, Vec<u8>>,
    batches: HashMap<String, Value>,
    /// Polls each batch has had.
    polls: HashMap<String, u32>,
}

pub struct FakeLlm {
    pub addr: SocketAddr,
    pub seen: Arc<Seen>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeLlm {
    pub fn start(faults: Faults) -> FakeLlm {
        Self::start_with(faults, BatchPlan::default())
    }

    pub fn start_with(faults: Faults, plan: BatchPlan) -> FakeLlm {
        let seen = Arc::new(Seen::default());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let state = Arc::new(State {
            faults,
            seen: Arc::clone(&seen),
            batches: Mutex::new(Batches::default()),
            plan,
        });
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                let mut rx = rx;
                loop {
                    tokio::select! {
                        _ = &mut rx => break,
                        accepted = listener.accept() => {
                            let Ok((stream, _)) = accepted else { continue };
                            let _ = stream.set_nodelay(true);
                            let state = Arc::clone(&state);
                            tokio::spawn(async move {
                                let io = hyper_util::rt::TokioIo::new(stream);
                                let service = hyper::service::service_fn(move |req| {
                                    let state = Arc::clone(&state);
                                    async move { Ok::<_, Infallible>(state.handle(req).await) }
                                });
                                let _ = hyper::server::conn::http1::Builder::new()
                                    .keep_alive(true)
                                    .serve_connection(io, service)
                                    .await;
                            });
                        }
                    }
                }
            });
            rt.shutdown_timeout(Duration::from_millis(100));
        });
        FakeLlm {
            addr: addr_rx.recv().unwrap(),
            seen,
            shutdown: Some(tx),
            thread: Some(thread),
        }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }
}

impl Drop for FakeLlm {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// How batches end: by batch number (1-based, in creation order).
#[derive(Default, Clone)]
pub struct BatchPlan {
    /// Batches that expire with half of their requests answered.
    pub expire: Vec<u32>,
    /// Batches that fail validation (no output at all).
    pub fail: Vec<u32>,
    /// Rows whose request inside a batch gets a 500 in its result line.
    pub error_rows: Vec<u64>,
}

struct State {
    faults: Faults,
    seen: Arc<Seen>,
    batches: Mutex<Batches>,
    plan: BatchPlan,
}

type Body = BoxBody<Bytes, Infallible>;

fn full(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(body.into()).boxed())
        .unwrap()
}

/// The row number in a chat request's messages (`row-<n>`).
pub fn row_of(body: &Value) -> Option<u64> {
    let messages = body["messages"].as_array()?;
    let text = messages.last()?["content"].as_str()?;
    let at = text.find("row-")? + 4;
    let digits: String = text[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok()
}

pub fn answer_of(row: u64) -> Value {
    json!({"row": row, "score": row % 6})
}

fn completion(model: &str, content: &str) -> Value {
    json!({
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 20, "completion_tokens": 7, "total_tokens": 27,
                  "completion_tokens_details": {"reasoning_tokens": 2}}
    })
}

impl State {
    async fn handle(&self, req: Request<Incoming>) -> Response<Body> {
        let path = req.uri().path().to_string();
        let method = req.method().clone();
        let content_type = req
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        if let Some(auth) = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
        {
            *self.seen.authorization.lock().unwrap() = Some(auth.to_string());
        }
        let body = match req.into_body().collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) => return full(StatusCode::BAD_REQUEST, "{}"),
        };
        match (method.as_str(), path.as_str()) {
            ("POST", "/v1/chat/completions") => self.chat(&body).await,
            ("POST", "/v1/files") => self.upload(&content_type, &body),
            ("POST", "/v1/batches") => self.create_batch(&body),
            ("GET", p) if p.starts_with("/v1/batches/") => self.poll(&p["/v1/batches/".len()..]),
            ("GET", p) if p.starts_with("/v1/files/") && p.ends_with("/content") => {
                let id = &p["/v1/files/".len()..p.len() - "/content".len()];
                match self.batches.lock().unwrap().files.get(id) {
                    Some(b) => full(StatusCode::OK, b.clone()),
                    None => full(
                        StatusCode::NOT_FOUND,
                        r#"{"error": {"message": "no such file"}}"#,
                    ),
                }
            }
            _ => full(
                StatusCode::NOT_FOUND,
                r#"{"error": {"message": "no such route"}}"#,
            ),
        }
    }

    async fn chat(&self, body: &[u8]) -> Response<Body> {
        self.seen.requests.fetch_add(1, Ordering::Relaxed);
        let Ok(body) = serde_json::from_slice::<Value>(body) else {
            return full(
                StatusCode::BAD_REQUEST,
                r#"{"error": {"message": "bad JSON"}}"#,
            );
        };
        let model = body["model"].as_str().unwrap_or("").to_string();
        if model == "missing-model" {
            return full(
                StatusCode::NOT_FOUND,
                r#"{"error": {"message": "The model `missing-model` does not exist"}}"#,
            );
        }
        if body["service_tier"] == "bogus" {
            return full(
                StatusCode::BAD_REQUEST,
                r#"{"error": {"message": "Invalid value for 'service_tier'"}}"#,
            );
        }
        let Some(row) = row_of(&body) else {
            return full(
                StatusCode::BAD_REQUEST,
                r#"{"error": {"message": "no row-<n> in the message"}}"#,
            );
        };
        *self.seen.last_body.lock().unwrap() = Some(body);
        let attempt = {
            let mut a = self.seen.attempts.lock().unwrap();
            let n = a.entry(row).or_insert(0);
            *n += 1;
            *n
        };
        self.seen.log.lock().unwrap().push(row);
        let good = || completion(&model, &answer_of(row).to_string()).to_string();
        match (self.faults)(row, attempt) {
            Fault::Answer => full(StatusCode::OK, good()),
            Fault::RateLimited => Response::builder()
                .status(429)
                .header("retry-after", "0")
                .body(
                    Full::new(Bytes::from_static(
                        br#"{"error": {"message": "Rate limit reached"}}"#,
                    ))
                    .boxed(),
                )
                .unwrap(),
            Fault::ServerError(code) => full(
                StatusCode::from_u16(code).unwrap(),
                r#"{"error": {"message": "the server is overloaded"}}"#,
            ),
            Fault::Hang(d) => {
                tokio::time::sleep(d).await;
                full(StatusCode::OK, good())
            }
            Fault::MalformedBody => full(StatusCode::OK, r#"{"id": "x", "choices": [{"#),
            Fault::NotJson => full(
                StatusCode::OK,
                completion(&model, "I think this is a fine snippet.").to_string(),
            ),
            Fault::BreaksSchema => full(
                StatusCode::OK,
                completion(&model, &json!({"row": row, "score": "high"}).to_string()).to_string(),
            ),
            Fault::SlowStream => {
                let text = good().into_bytes();
                let pieces: Vec<Bytes> = text.chunks(16).map(Bytes::copy_from_slice).collect();
                let stream = futures::stream::iter(pieces).then(|piece| async move {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    Ok::<_, Infallible>(Frame::data(piece))
                });
                Response::builder()
                    .status(200)
                    .header("content-type", "application/json")
                    .body(BodyExt::boxed(StreamBody::new(stream)))
                    .unwrap()
            }
        }
    }

    fn upload(&self, content_type: &str, body: &[u8]) -> Response<Body> {
        let Some(boundary) = content_type.split("boundary=").nth(1) else {
            return full(
                StatusCode::BAD_REQUEST,
                r#"{"error": {"message": "not multipart"}}"#,
            );
        };
        let text = String::from_utf8_lossy(body);
        let delimiter = format!("--{}", boundary.trim_matches('"'));
        let mut file = None;
        let mut purpose = None;
        for part in text.split(&delimiter) {
            let Some((head, content)) = part.split_once("\r\n\r\n") else {
                continue;
            };
            let content = content.strip_suffix("\r\n").unwrap_or(content);
            if head.contains("name=\"file\"") {
                file = Some(content.to_string());
            } else if head.contains("name=\"purpose\"") {
                purpose = Some(content.to_string());
            }
        }
        let (Some(file), Some("batch")) = (file, purpose.as_deref()) else {
            return full(
                StatusCode::BAD_REQUEST,
                r#"{"error": {"message": "need file and purpose=batch"}}"#,
            );
        };
        let mut b = self.batches.lock().unwrap();
        let id = format!("file-{}", b.files.len() + 1);
        let bytes = file.len();
        b.files.insert(id.clone(), file.into_bytes());
        full(
            StatusCode::OK,
            json!({"id": id, "object": "file", "bytes": bytes, "purpose": "batch"}).to_string(),
        )
    }

    fn create_batch(&self, body: &[u8]) -> Response<Body> {
        let Ok(req) = serde_json::from_slice::<Value>(body) else {
            return full(StatusCode::BAD_REQUEST, "{}");
        };
        let mut b = self.batches.lock().unwrap();
        let Some(input) = req["input_file_id"]
            .as_str()
            .and_then(|id| b.files.get(id))
            .cloned()
        else {
            return full(
                StatusCode::BAD_REQUEST,
                r#"{"error": {"message": "no such input file"}}"#,
            );
        };
        let number = b.batches.len() as u32 + 1;
        let id = format!("batch_{number}");
        let lines: Vec<Value> = String::from_utf8_lossy(&input)
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let expire = self.plan.expire.contains(&number);
        let fail = self.plan.fail.contains(&number);
        let mut out = String::new();
        let mut errors = String::new();
        let answered = if expire { lines.len() / 2 } else { lines.len() };
        for line in &lines[..answered] {
            let custom = line["custom_id"].clone();
            let row = row_of(&line["body"]).unwrap_or(0);
            self.seen.log.lock().unwrap().push(row);
            if self.plan.error_rows.contains(&row) {
                errors.push_str(&json!({"id": "r", "custom_id": custom, "response": {"status_code": 500, "body": {"error": {"message": "internal error"}}}, "error": null}).to_string());
                errors.push('\n');
                continue;
            }
            let model = line["body"]["model"].as_str().unwrap_or("");
            let body = completion(model, &answer_of(row).to_string());
            out.push_str(&json!({"id": "r", "custom_id": custom, "response": {"status_code": 200, "body": body}, "error": null}).to_string());
            out.push('\n');
        }
        let (status, output_file, error_file) = if fail {
            ("failed", Value::Null, Value::Null)
        } else {
            let o = format!("file-out-{number}");
            b.files.insert(o.clone(), out.into_bytes());
            let e = if errors.is_empty() {
                Value::Null
            } else {
                let e = format!("file-err-{number}");
                b.files.insert(e.clone(), errors.into_bytes());
                Value::String(e)
            };
            (
                if expire { "expired" } else { "completed" },
                Value::String(o),
                e,
            )
        };
        let batch = json!({
            "id": id, "object": "batch", "endpoint": req["endpoint"], "status": "validating",
            "final_status": status, "output_file_id": output_file, "error_file_id": error_file,
            "request_counts": {"total": lines.len(), "completed": answered, "failed": lines.len() - answered}
        });
        b.batches.insert(id.clone(), batch.clone());
        full(StatusCode::OK, batch.to_string())
    }

    /// Batches are `in_progress` on their first poll and final on the next.
    fn poll(&self, id: &str) -> Response<Body> {
        let mut b = self.batches.lock().unwrap();
        let polls = {
            let n = b.polls.entry(id.to_string()).or_insert(0);
            *n += 1;
            *n
        };
        let Some(batch) = b.batches.get(id) else {
            return full(
                StatusCode::NOT_FOUND,
                r#"{"error": {"message": "no such batch"}}"#,
            );
        };
        let mut shown = batch.clone();
        if polls < 2 {
            shown["status"] = json!("in_progress");
            shown["output_file_id"] = Value::Null;
            shown["error_file_id"] = Value::Null;
        } else {
            shown["status"] = batch["final_status"].clone();
        }
        full(StatusCode::OK, shown.to_string())
    }
}

use futures::StreamExt as _;
