//! The OpenAI Batch API (files and batches): request lines in, a batch per request file, its
//! status polled, its output and error files downloaded. Calls that fail for a passing reason
//! (429, 5xx, a broken connection) are tried again with backoff; the rest end the command.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::client::{Endpoint, error_message, http_client};
use crate::error::LlmError;

const ATTEMPTS: u32 = 5;

pub struct BatchApi {
    http: reqwest::Client,
    endpoint: Endpoint,
    backoff: Duration,
}

/// What a poll says about a batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchStatus {
    pub id: String,
    pub status: String,
    pub output_file_id: Option<String>,
    pub error_file_id: Option<String>,
}

impl BatchStatus {
    /// No further change will come: `completed`, `failed`, `expired` or `cancelled`.
    pub fn is_final(&self) -> bool {
        matches!(
            self.status.as_str(),
            "completed" | "failed" | "expired" | "cancelled"
        )
    }
}

/// One line of a batch's input file.
pub fn request_line(custom_id: &str, body: &[u8]) -> Vec<u8> {
    let mut line = Vec::with_capacity(body.len() + 96);
    line.extend_from_slice(b"{\"custom_id\":");
    serde_json::to_writer(&mut line, custom_id).expect("a string serializes");
    line.extend_from_slice(b",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":");
    line.extend_from_slice(body);
    line.extend_from_slice(b"}\n");
    line
}

/// One line of a batch's output or error file: its custom id, and the answer's text or why
/// there is none.
pub fn result_line(line: &str) -> Option<(String, Result<String, String>)> {
    let v: Value = serde_json::from_str(line).ok()?;
    let id = v["custom_id"].as_str()?.to_string();
    if !v["error"].is_null() {
        let e = &v["error"];
        let message = e["message"]
            .as_str()
            .map_or_else(|| e.to_string(), str::to_string);
        return Some((id, Err(message)));
    }
    let response = &v["response"];
    let status = response["status_code"].as_u64().unwrap_or(0);
    let body = &response["body"];
    if status != 200 {
        let message = error_message(body.to_string().as_bytes());
        return Some((id, Err(format!("HTTP {status}: {message}"))));
    }
    match body["choices"][0]["message"]["content"].as_str() {
        Some(c) => Some((id, Ok(c.to_string()))),
        None => Some((
            id,
            Err("the response has no choices[0].message.content".into()),
        )),
    }
}

impl BatchApi {
    pub fn new(endpoint: Endpoint, backoff: Duration) -> Result<BatchApi, LlmError> {
        let http = http_client(&endpoint, Duration::from_secs(3600), 8)?;
        Ok(BatchApi {
            http,
            endpoint,
            backoff,
        })
    }

    /// Sends what `make` builds, again after a passing failure; the body of a 2xx.
    async fn call(
        &self,
        what: &str,
        url: &str,
        make: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<bytes::Bytes, LlmError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut req = make();
            if let Some(key) = &self.endpoint.api_key {
                req = req.bearer_auth(key);
            }
            let why = match req.send().await {
                Ok(r) => {
                    let status = r.status();
                    match r.bytes().await {
                        Ok(body) if status.is_success() => return Ok(body),
                        Ok(body) => {
                            let message = format!(
                                "{what}: HTTP {}: {}",
                                status.as_u16(),
                                error_message(&body)
                            );
                            if !(status.as_u16() == 429 || status.is_server_error()) {
                                return Err(LlmError::Endpoint {
                                    url: url.to_string(),
                                    message,
                                });
                            }
                            message
                        }
                        Err(e) => format!("{what}: {e}"),
                    }
                }
                Err(e) => format!("{what}: {e}"),
            };
            if attempt >= ATTEMPTS {
                return Err(LlmError::Endpoint {
                    url: url.to_string(),
                    message: format!("{why} (after {attempt} attempts)"),
                });
            }
            let wait = self.backoff.saturating_mul(1 << attempt.min(10));
            tokio::time::sleep(wait.mul_f64(0.5 + fastrand::f64() * 0.5)).await;
        }
    }

    /// The `id` member of a JSON response.
    fn id_in(url: String, body: &[u8]) -> Result<String, LlmError> {
        let v: Value = serde_json::from_slice(body).map_err(|e| LlmError::Endpoint {
            url: url.clone(),
            message: format!("the response is not JSON: {e}"),
        })?;
        match v["id"].as_str() {
            Some(id) => Ok(id.to_string()),
            None => Err(LlmError::Endpoint {
                url,
                message: format!("no id in {v}"),
            }),
        }
    }

    /// Uploads a request file (`purpose=batch`); its file id.
    pub async fn upload(&self, name: &str, bytes: Vec<u8>) -> Result<String, LlmError> {
        let url = self.endpoint.url("files");
        let body = self
            .call("uploading a request file", &url, || {
                let part = reqwest::multipart::Part::bytes(bytes.clone())
                    .file_name(name.to_string())
                    .mime_str("application/jsonl")
                    .expect("a valid MIME type");
                let form = reqwest::multipart::Form::new()
                    .text("purpose", "batch")
                    .part("file", part);
                self.http.post(&url).multipart(form)
            })
            .await?;
        Self::id_in(url, &body)
    }

    /// Starts a batch over an uploaded file; its id.
    pub async fn create(&self, input_file_id: &str) -> Result<String, LlmError> {
        let url = self.endpoint.url("batches");
        let request = serde_json::json!({
            "input_file_id": input_file_id,
            "endpoint": "/v1/chat/completions",
            "completion_window": "24h",
        });
        let body = self
            .call("creating a batch", &url, || {
                self.http
                    .post(&url)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(request.to_string())
            })
            .await?;
        Self::id_in(url, &body)
    }

    pub async fn status(&self, id: &str) -> Result<BatchStatus, LlmError> {
        let url = self.endpoint.url(&format!("batches/{id}"));
        let body = self
            .call("polling a batch", &url, || self.http.get(&url))
            .await?;
        let v: Value = serde_json::from_slice(&body).map_err(|e| LlmError::Endpoint {
            url: url.clone(),
            message: format!("the response is not JSON: {e}"),
        })?;
        Ok(BatchStatus {
            id: id.to_string(),
            status: v["status"].as_str().unwrap_or("unknown").to_string(),
            output_file_id: v["output_file_id"].as_str().map(str::to_string),
            error_file_id: v["error_file_id"].as_str().map(str::to_string),
        })
    }

    /// A file's content written to `dest` (complete or not at all).
    pub async fn download(&self, file_id: &str, dest: &Path) -> Result<(), LlmError> {
        let url = self.endpoint.url(&format!("files/{file_id}/content"));
        let body = self
            .call("downloading results", &url, || self.http.get(&url))
            .await?;
        let tmp = dest.with_extension(format!("part-{}", std::process::id()));
        let io = |source| LlmError::Io {
            path: dest.to_path_buf(),
            source,
        };
        std::fs::write(&tmp, &body).map_err(io)?;
        std::fs::rename(&tmp, dest).map_err(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines_wrap_the_body() {
        let line = request_line("3-7", br#"{"model":"m"}"#);
        let v: Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(v["custom_id"], "3-7");
        assert_eq!(v["url"], "/v1/chat/completions");
        assert_eq!(v["body"]["model"], "m");
    }

    #[test]
    fn result_lines_give_the_content_or_the_error() {
        let ok = r#"{"custom_id": "a", "response": {"status_code": 200, "body": {"choices": [{"message": {"content": "{}"}}]}}, "error": null}"#;
        assert_eq!(result_line(ok), Some(("a".into(), Ok("{}".into()))));
        let bad = r#"{"custom_id": "b", "response": {"status_code": 500, "body": {"error": {"message": "boom"}}}, "error": null}"#;
        assert_eq!(
            result_line(bad),
            Some(("b".into(), Err("HTTP 500: boom".into())))
        );
        let expired = r#"{"custom_id": "c", "response": null, "error": {"code": "batch_expired", "message": "expired"}}"#;
        assert_eq!(
            result_line(expired),
            Some(("c".into(), Err("expired".into())))
        );
    }
}
