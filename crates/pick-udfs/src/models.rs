//! Where a model a SQL function names is read from. A path is read as it is; the engine
//! installs a resolver for paths that are not local files (`s3://`, `gs://`, `az://`,
//! `http(s)://`: a local copy, made once per process), so that each executor of a cluster
//! fetches the models its tasks name itself.

use std::path::PathBuf;
use std::sync::OnceLock;

/// Turns a model location into a local path, or says why it cannot.
pub type Resolver = fn(&str) -> Result<PathBuf, String>;

static RESOLVER: OnceLock<Resolver> = OnceLock::new();

/// Installs the resolver every model function uses from now on; the first call wins.
pub fn set_resolver(resolver: Resolver) {
    let _ = RESOLVER.set(resolver);
}

/// The local path of the model at `location`.
pub fn local(location: &str) -> Result<PathBuf, String> {
    match RESOLVER.get() {
        Some(resolve) => resolve(location),
        None => Ok(PathBuf::from(location)),
    }
}
