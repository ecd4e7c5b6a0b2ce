//! Chat completions against an OpenAI-compatible endpoint: at most `max_concurrent` requests
//! in flight, per-minute request and token budgets, a timeout per attempt sized for long
//! reasoning outputs, and retries with jittered exponential backoff on 429, 5xx, timeouts,
//! broken connections and answers that are not valid JSON for the schema (`Retry-After` is
//! honoured). A request that still fails is a row's `Failure`, never a dropped row. Errors
//! that would fail every row (a wrong key, an unknown model or route) end the run instead.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;
use tokio::sync::Semaphore;

use crate::answer::{Schema, preview};
use crate::budget::Bucket;
use crate::error::LlmError;
use crate::request::Request;

#[derive(Debug, Clone)]
pub struct Endpoint {
    /// e.g. `https://api.openai.com/v1`; `/chat/completions` is appended.
    pub base_url: String,
    /// Sent as `Authorization: Bearer`; never written anywhere.
    pub api_key: Option<String>,
}

impl Endpoint {
    pub fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.base_url.trim_end_matches('/'))
    }
}

#[derive(Debug, Clone)]
pub struct Limits {
    pub max_concurrent: usize,
    pub requests_per_minute: u64,
    pub tokens_per_minute: u64,
    pub timeout: Duration,
    pub max_attempts: u32,
    /// The first retry's mean delay; doubled each attempt, at most a minute.
    pub backoff: Duration,
}

/// Counters the progress line and the report read while requests run.
#[derive(Debug, Default, Serialize)]
pub struct Stats {
    pub requests: AtomicU64,
    pub in_flight: AtomicU64,
    /// Answers received (valid or not): once there is one, the endpoint takes the requests.
    pub answers: AtomicU64,
    /// Requests refused as bad (4xx other than 401/403/404/408/409/429).
    pub refused: AtomicU64,
    pub retries: AtomicU64,
    pub failed: AtomicU64,
    pub prompt_tokens: AtomicU64,
    pub completion_tokens: AtomicU64,
    pub reasoning_tokens: AtomicU64,
}

/// Tokens one answer cost, as the endpoint reported them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub reasoning_tokens: u64,
}

#[derive(Debug, Clone)]
pub struct Answer {
    pub value: Value,
    pub usage: Usage,
}

/// Why a row has no answer, as written under the row's error key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Failure {
    pub error: String,
    pub attempts: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
}

pub struct Client {
    http: reqwest::Client,
    url: String,
    endpoint: Endpoint,
    limits: Limits,
    in_flight: Semaphore,
    rpm: Option<Bucket>,
    tpm: Option<Bucket>,
    pub stats: Arc<Stats>,
}

/// A run whose first this-many requests are all refused as bad requests (a 400 for a flag the
/// endpoint does not take) stops instead of recording the same failure for every row.
const REFUSALS_BEFORE_STOP: u64 = 20;

/// One attempt's outcome.
enum Attempt {
    Answer(Answer),
    /// Worth another attempt, after at least this long (a `Retry-After`).
    Retry(String, Option<u16>, Option<Duration>),
    /// Not worth another attempt (a 400: the request itself is wrong for this row).
    Fail(String, Option<u16>),
}

impl Client {
    pub fn new(endpoint: Endpoint, limits: Limits) -> Result<Client, LlmError> {
        let http = http_client(&endpoint, limits.timeout, limits.max_concurrent)?;
        Ok(Client {
            http,
            url: endpoint.url("chat/completions"),
            in_flight: Semaphore::new(limits.max_concurrent.max(1)),
            rpm: Bucket::per_minute(limits.requests_per_minute),
            tpm: Bucket::per_minute(limits.tokens_per_minute),
            endpoint,
            limits,
            stats: Arc::new(Stats::default()),
        })
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The row's answer, or why there is none after every attempt. `Err` only for what would
    /// fail every row.
    pub async fn annotate(
        &self,
        request: &Request,
        schema: Option<&Schema>,
    ) -> Result<Result<Answer, Failure>, LlmError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            if let Some(b) = &self.rpm {
                b.take(1).await;
            }
            if let Some(b) = &self.tpm {
                b.take(request.tokens).await;
            }
            let outcome = {
                let _permit = self.in_flight.acquire().await.expect("never closed");
                self.stats.requests.fetch_add(1, Ordering::Relaxed);
                self.stats.in_flight.fetch_add(1, Ordering::Relaxed);
                let outcome = self.attempt(request, schema).await;
                self.stats.in_flight.fetch_sub(1, Ordering::Relaxed);
                outcome?
            };
            let (error, status) = match outcome {
                Attempt::Answer(a) => return Ok(Ok(a)),
                Attempt::Fail(error, status) => {
                    let refused = self.stats.refused.fetch_add(1, Ordering::Relaxed) + 1;
                    if refused >= REFUSALS_BEFORE_STOP
                        && self.stats.answers.load(Ordering::Relaxed) == 0
                    {
                        return Err(LlmError::Endpoint {
                            url: self.url.clone(),
                            message: format!(
                                "the first {refused} requests were refused and none answered \
                                 ({error}); check the model name and the flags"
                            ),
                        });
                    }
                    (error, status)
                }
                Attempt::Retry(_, _, after) if attempt < self.limits.max_attempts => {
                    self.stats.retries.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(self.backoff(attempt, after)).await;
                    continue;
                }
                Attempt::Retry(error, status, _) => (error, status),
            };
            self.stats.failed.fetch_add(1, Ordering::Relaxed);
            return Ok(Err(Failure {
                error,
                attempts: attempt,
                status,
            }));
        }
    }

    /// Full jitter over an exponential ceiling, and never sooner than the server asked.
    fn backoff(&self, attempt: u32, after: Option<Duration>) -> Duration {
        let ceiling = self
            .limits
            .backoff
            .saturating_mul(1 << (attempt - 1).min(16))
            .min(Duration::from_secs(60));
        let jittered = ceiling.mul_f64(0.5 + fastrand::f64() * 0.5);
        after.map_or(jittered, |a| a.max(jittered))
    }

    async fn attempt(
        &self,
        request: &Request,
        schema: Option<&Schema>,
    ) -> Result<Attempt, LlmError> {
        let mut builder = self
            .http
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(request.body.clone());
        if let Some(key) = &self.endpoint.api_key {
            builder = builder.bearer_auth(key);
        }
        let response = match builder.send().await {
            Ok(r) => r,
            Err(e) => return Ok(Attempt::Retry(transport_error(&e), None, None)),
        };
        let status = response.status();
        let after = retry_after(response.headers());
        let body = match response.bytes().await {
            Ok(b) => b,
            Err(e) => {
                return Ok(Attempt::Retry(
                    transport_error(&e),
                    Some(status.as_u16()),
                    after,
                ));
            }
        };
        let code = status.as_u16();
        if !status.is_success() {
            let message = format!("HTTP {code}: {}", error_message(&body));
            return match code {
                401 | 403 | 404 => Err(LlmError::Endpoint {
                    url: self.url.clone(),
                    message,
                }),
                408 | 409 | 429 | 500..=599 => Ok(Attempt::Retry(message, Some(code), after)),
                _ => Ok(Attempt::Fail(message, Some(code))),
            };
        }
        let parsed: Value = match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(e) => {
                return Ok(Attempt::Retry(
                    format!("the response is not JSON ({e})"),
                    Some(code),
                    None,
                ));
            }
        };
        self.stats.answers.fetch_add(1, Ordering::Relaxed);
        let usage = usage_of(&parsed);
        self.stats
            .prompt_tokens
            .fetch_add(usage.prompt_tokens, Ordering::Relaxed);
        self.stats
            .completion_tokens
            .fetch_add(usage.completion_tokens, Ordering::Relaxed);
        self.stats
            .reasoning_tokens
            .fetch_add(usage.reasoning_tokens, Ordering::Relaxed);
        let choice = &parsed["choices"][0];
        let Some(content) = choice["message"]["content"].as_str() else {
            let why = match choice["message"]["refusal"].as_str() {
                Some(r) => format!("the model refused: {}", preview(r, 200)),
                None => "the response has no choices[0].message.content".to_string(),
            };
            return Ok(Attempt::Retry(why, Some(code), None));
        };
        match crate::answer::parse(schema, content) {
            Ok(value) => Ok(Attempt::Answer(Answer { value, usage })),
            Err(mut why) => {
                if choice["finish_reason"] == "length" {
                    why.push_str(" (the answer was cut at the token limit)");
                }
                Ok(Attempt::Retry(why, Some(code), None))
            }
        }
    }
}

/// The HTTP client of every call to an endpoint: `timeout` per request (the whole answer
/// read), up to `pool` idle connections kept.
pub fn http_client(
    endpoint: &Endpoint,
    timeout: Duration,
    pool: usize,
) -> Result<reqwest::Client, LlmError> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(pool)
        .tcp_nodelay(true)
        .user_agent(concat!("pick/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| LlmError::Endpoint {
            url: endpoint.base_url.clone(),
            message: format!("cannot make an HTTP client: {e}"),
        })
}

fn usage_of(v: &Value) -> Usage {
    let u = &v["usage"];
    Usage {
        prompt_tokens: u["prompt_tokens"].as_u64().unwrap_or(0),
        completion_tokens: u["completion_tokens"].as_u64().unwrap_or(0),
        reasoning_tokens: u["completion_tokens_details"]["reasoning_tokens"]
            .as_u64()
            .unwrap_or(0),
    }
}

/// The endpoint's own words for an error (`{"error": {"message": ...}}`), else the body.
pub fn error_message(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let from_json = serde_json::from_slice::<Value>(body).ok().and_then(|v| {
        let e = &v["error"];
        e["message"]
            .as_str()
            .or_else(|| e.as_str())
            .map(str::to_string)
    });
    preview(from_json.as_deref().unwrap_or(text.trim()), 300)
}

fn transport_error(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "the request timed out".to_string()
    } else if e.is_connect() {
        format!("cannot connect: {}", root_cause(e))
    } else {
        format!("the connection failed: {}", root_cause(e))
    }
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// `retry-after-ms` (OpenAI's), or `Retry-After` in seconds.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let get = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<f64>().ok();
    if let Some(ms) = get("retry-after-ms") {
        return Some(Duration::from_secs_f64((ms / 1000.0).clamp(0.0, 3600.0)));
    }
    get("retry-after").map(|s| Duration::from_secs_f64(s.clamp(0.0, 3600.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_errors_read_their_message() {
        assert_eq!(
            error_message(br#"{"error": {"message": "Invalid key", "type": "x"}}"#),
            "Invalid key"
        );
        assert_eq!(error_message(b" upstream gone \n"), "upstream gone");
    }

    #[test]
    fn retry_after_in_seconds_or_milliseconds() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("retry-after", "2".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert("retry-after-ms", "250".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_millis(250)));
    }
}
