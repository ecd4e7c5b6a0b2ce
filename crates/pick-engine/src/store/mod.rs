//! Object stores: `s3://`, `gs://`, `az://` and `http(s)://` locations for datasets, models
//! and outputs, through `object_store` (the crate DataFusion uses, and the only HTTP stack
//! here besides pick-llm's, which is the same reqwest).
//!
//! A location that is not a URL is a local path and never comes here. Stores are built once
//! per bucket from the standard environment (`AWS_*`, `GOOGLE_*`, `AZURE_*`, the instance and
//! container credential chains) and `~/.aws` profiles; credentials stay inside the store
//! clients, which never print them. `--endpoint` (or `AWS_ENDPOINT_URL`) points `s3://` at an
//! S3-compatible server: MinIO, R2, GCS interop, moto in the tests.
//!
//! Requests run on one I/O runtime of their own (`block_on`), so the synchronous readers and
//! writers of the engine can wait on them from any thread, including DataFusion's workers,
//! without starving the query's tasks.

pub mod live;
pub mod local;
pub mod pinned;
mod profile;
pub mod read;
pub mod write;

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use object_store::ObjectStore;
use object_store::path::Path as Key;

use crate::error::{PickError, Result};

/// URL schemes pick reads and writes.
const SCHEMES: &[&str] = &[
    "s3", "s3a", "gs", "gcs", "az", "azure", "abfs", "abfss", "http", "https",
];

/// Whether `location` names an object store (`s3://...`) rather than a local path.
pub fn is_url(location: &str) -> bool {
    location
        .split_once("://")
        .is_some_and(|(scheme, _)| SCHEMES.contains(&scheme.to_ascii_lowercase().as_str()))
}

/// Whether a path, as commands hold their locations, names an object store.
pub fn is_url_path(path: &Path) -> bool {
    path.to_str().is_some_and(is_url)
}

/// A key or prefix in a store.
#[derive(Clone)]
pub struct Remote {
    pub store: Arc<dyn ObjectStore>,
    /// `scheme://bucket` (for HTTP, `scheme://host`), without a trailing slash.
    pub root: String,
    /// The key under the root, without leading or trailing slashes.
    pub key: String,
}

impl fmt::Debug for Remote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url())
    }
}

impl Remote {
    /// Parses `scheme://bucket/key` and finds (or builds) the bucket's store.
    pub fn parse(url: &str) -> Result<Remote> {
        let bad = |message: &str| PickError::Usage(format!("{url}: {message}"));
        let (scheme, rest) = url.split_once("://").ok_or_else(|| bad("not a URL"))?;
        let scheme = scheme.to_ascii_lowercase();
        let (authority, key) = rest.split_once('/').unwrap_or((rest, ""));
        if authority.is_empty() {
            return Err(bad("no bucket in the URL"));
        }
        let root = format!("{scheme}://{authority}");
        let store = store_for(&scheme, authority, &root)?;
        Ok(Remote {
            store,
            root,
            key: key.trim_matches('/').to_string(),
        })
    }

    pub fn url(&self) -> String {
        if self.key.is_empty() {
            self.root.clone()
        } else {
            format!("{}/{}", self.root, self.key)
        }
    }

    /// The key as `object_store` names it. Keys are taken as written: `%` and spaces stay.
    pub fn path(&self) -> Key {
        Key::from_iter(self.key.split('/').filter(|p| !p.is_empty()))
    }

    /// A key below this one.
    pub fn child(&self, rel: &str) -> Remote {
        let key = match (self.key.as_str(), rel.trim_matches('/')) {
            ("", r) => r.to_string(),
            (k, "") => k.to_string(),
            (k, r) => format!("{k}/{r}"),
        };
        Remote {
            store: Arc::clone(&self.store),
            root: self.root.clone(),
            key,
        }
    }

    /// Another key in the same bucket.
    pub fn child_of_root(&self, key: &str) -> Remote {
        Remote {
            store: Arc::clone(&self.store),
            root: self.root.clone(),
            key: key.trim_matches('/').to_string(),
        }
    }

    /// The location shown to users and kept in `Shard::path`.
    pub fn display_path(&self) -> PathBuf {
        PathBuf::from(self.url())
    }

    /// An error of a request on this location, as users read it.
    pub fn error(&self, e: object_store::Error) -> PickError {
        store_error(&self.url(), e)
    }
}

/// Turns an `object_store` error into one naming the URL, with the server's answer reduced to
/// its status and code (the crate's message repeats the request and the retry policy).
pub fn store_error(url: &str, e: object_store::Error) -> PickError {
    use object_store::Error as E;
    let message = match &e {
        E::NotFound { .. } => "not found".to_string(),
        E::PermissionDenied { .. } | E::Unauthenticated { .. } => {
            format!("access denied: check the credentials and the bucket policy ({e})")
        }
        _ => e.to_string(),
    };
    PickError::Store {
        url: url.to_string(),
        message: tidy(&message),
    }
}

/// The server's answer without the crate's account of the request (method, URL, timing and
/// retry policy), and an XML error body cut to its `<Code>` and `<Message>`.
fn tidy(message: &str) -> String {
    let message = match message.rfind("status code: ") {
        Some(i) => &message[i + "status code: ".len()..],
        None => message,
    };
    let Some(start) = message.find("<?xml").or_else(|| message.find("<Error>")) else {
        return message.to_string();
    };
    let tag = |t: &str| {
        let open = format!("<{t}>");
        let close = format!("</{t}>");
        let from = message.find(&open)? + open.len();
        let to = message[from..].find(&close)? + from;
        Some(message[from..to].to_string())
    };
    let mut out = message[..start]
        .trim_end()
        .trim_end_matches(':')
        .to_string();
    if let Some(code) = tag("Code") {
        out.push_str(&format!(": {code}"));
    }
    if let Some(m) = tag("Message") {
        out.push_str(&format!(" ({m})"));
    }
    out
}

static ENDPOINT: OnceLock<String> = OnceLock::new();
static STORES: Mutex<Option<HashMap<String, Arc<dyn ObjectStore>>>> = Mutex::new(None);

/// The S3-compatible endpoint `s3://` URLs go to (the CLI's `--endpoint`); the first call
/// wins, and it takes precedence over `AWS_ENDPOINT_URL`.
pub fn set_endpoint(url: &str) {
    let _ = ENDPOINT.set(url.to_string());
}

/// How often a failed request is retried before the command fails: `PICK_STORE_RETRIES`
/// (default 10, as `object_store`), with backoff, for at most `PICK_STORE_RETRY_SECONDS`.
fn retry_config() -> object_store::RetryConfig {
    let env = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<u64>().ok());
    object_store::RetryConfig {
        max_retries: env("PICK_STORE_RETRIES").map_or(10, |n| n as usize),
        retry_timeout: Duration::from_secs(env("PICK_STORE_RETRY_SECONDS").unwrap_or(180)),
        ..Default::default()
    }
}

fn store_for(scheme: &str, authority: &str, root: &str) -> Result<Arc<dyn ObjectStore>> {
    let mut stores = STORES.lock().unwrap_or_else(|e| e.into_inner());
    let stores = stores.get_or_insert_with(HashMap::new);
    if let Some(s) = stores.get(root) {
        return Ok(Arc::clone(s));
    }
    let built = build(scheme, authority, root).map_err(|e| PickError::Store {
        url: root.to_string(),
        message: format!("cannot set up the store: {e}"),
    })?;
    stores.insert(root.to_string(), Arc::clone(&built));
    Ok(built)
}

fn build(scheme: &str, authority: &str, root: &str) -> object_store::Result<Arc<dyn ObjectStore>> {
    use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
    use object_store::azure::MicrosoftAzureBuilder;
    use object_store::gcp::GoogleCloudStorageBuilder;
    use object_store::http::HttpBuilder;
    let client = object_store::ClientOptions::new()
        .with_connect_timeout(Duration::from_secs(10))
        .with_pool_idle_timeout(Duration::from_secs(60));
    Ok(match scheme {
        "s3" | "s3a" => {
            // Client options first: setting them replaces `allow_http`.
            let mut b = AmazonS3Builder::from_env()
                .with_client_options(client)
                .with_retry(retry_config());
            let selected = profile::profile();
            if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
                let process =
                    selected
                        .credentials()
                        .map_err(|message| object_store::Error::Generic {
                            store: "S3",
                            source: message.into(),
                        })?;
                if let Some(process) = process {
                    b = b.with_credentials(process);
                }
            }
            let profile = selected.settings;
            for (var, value) in &profile {
                if std::env::var_os(var).is_none()
                    && let Ok(k) = var.to_ascii_lowercase().parse::<AmazonS3ConfigKey>()
                {
                    b = b.with_config(k, value);
                }
            }
            let env = |k: &str| std::env::var(k).ok();
            let endpoint = ENDPOINT
                .get()
                .cloned()
                .or_else(|| env("AWS_ENDPOINT_URL_S3"))
                .or_else(|| env("AWS_ENDPOINT_URL"))
                .or_else(|| env("AWS_ENDPOINT"))
                .or_else(|| profile.get("AWS_ENDPOINT_URL").cloned());
            if let Some(endpoint) = endpoint {
                b = b
                    .with_allow_http(endpoint.starts_with("http://"))
                    .with_endpoint(endpoint);
            }
            if b.get_config_value(&AmazonS3ConfigKey::Region).is_none() {
                b = b.with_region("us-east-1");
            }
            Arc::new(b.with_bucket_name(authority).build()?)
        }
        "gs" | "gcs" => Arc::new(
            GoogleCloudStorageBuilder::from_env()
                .with_bucket_name(authority)
                .with_client_options(client)
                .with_retry(retry_config())
                .build()?,
        ),
        "az" | "azure" | "abfs" | "abfss" => Arc::new(
            MicrosoftAzureBuilder::from_env()
                .with_url(root)
                .with_client_options(client)
                .with_retry(retry_config())
                .build()?,
        ),
        _ => Arc::new(
            HttpBuilder::new()
                .with_url(root)
                .with_client_options(client.with_allow_http(true))
                .with_retry(retry_config())
                .build()?,
        ),
    })
}

/// The runtime every store request runs on.
fn io_runtime() -> &'static tokio::runtime::Runtime {
    static IO: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    IO.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("pick-io")
            .enable_all()
            .build()
            .expect("the I/O runtime starts")
    })
}

/// Runs `fut` on the I/O runtime and waits for it, from any thread.
pub fn block_on<F>(fut: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    match futures::executor::block_on(io_runtime().spawn(fut)) {
        Ok(out) => out,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => panic!("an I/O task was cancelled: {e}"),
    }
}

/// Starts `fut` on the I/O runtime without waiting.
pub fn spawn<F>(fut: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    io_runtime().spawn(fut)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_paths() {
        assert!(is_url("s3://b/k"));
        assert!(is_url("S3://b/k"));
        assert!(is_url("gs://b"));
        assert!(is_url("https://host/x.jsonl"));
        assert!(!is_url("data/train"));
        assert!(!is_url("/abs/s3://x"));
        assert!(!is_url("file.jsonl"));
    }

    #[test]
    fn xml_errors_are_cut_to_code_and_message() {
        let m = "Generic S3 error: Error performing GET http://x in 1ms - Server returned \
                 non-2xx status code: 403 Forbidden: <?xml version=\"1.0\"?><Error><Code>\
                 InvalidAccessKeyId</Code><Message>The key is not valid</Message></Error>";
        assert_eq!(
            tidy(m),
            "403 Forbidden: InvalidAccessKeyId (The key is not valid)"
        );
    }
}
