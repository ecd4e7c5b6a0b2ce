//! A store whose reads of listed objects are pinned to the versions seen when listing: each
//! GET of such an object carries `If-Match` with its ETag, so an object replaced while a
//! reader that is not pick's own (DataFusion's Parquet reader) reads it is an error naming it,
//! as `read::RangedReader` makes it for pick's. Everything else goes to the wrapped store.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use futures::stream::BoxStream;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, RenameOptions, Result,
};

/// `inner`, its reads of the objects in `pins` pinned.
#[derive(Debug)]
pub struct Pinned {
    inner: Arc<dyn ObjectStore>,
    /// Per object: its ETag, and its URL for messages.
    pins: HashMap<Path, (String, String)>,
}

impl Pinned {
    pub fn new(inner: Arc<dyn ObjectStore>, pins: HashMap<Path, (String, String)>) -> Pinned {
        Pinned { inner, pins }
    }
}

impl fmt::Display for Pinned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pinned({})", self.inner)
    }
}

/// The error of a read whose object is no longer the version listed.
pub fn changed(url: &str) -> String {
    format!(
        "{url}: the object changed while pick read it (its ETag is not the one listed): it was \
         replaced mid-read; run the command again"
    )
}

#[async_trait]
impl ObjectStore for Pinned {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        options: PutOptions,
    ) -> Result<PutResult> {
        self.inner.put_opts(location, payload, options).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        options: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(location, options).await
    }

    async fn get_opts(&self, location: &Path, mut options: GetOptions) -> Result<GetResult> {
        let pin = self.pins.get(location);
        if let Some((etag, _)) = pin
            && options.if_match.is_none()
        {
            options.if_match = Some(etag.clone());
        }
        self.inner
            .get_opts(location, options)
            .await
            .map_err(|e| match (e, pin) {
                (object_store::Error::Precondition { .. }, Some((_, url))) => {
                    object_store::Error::Generic {
                        store: "pick",
                        source: changed(url).into(),
                    }
                }
                (e, _) => e,
            })
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<Path>>,
    ) -> BoxStream<'static, Result<Path>> {
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        self.inner.list(prefix)
    }

    fn list_with_offset(
        &self,
        prefix: Option<&Path>,
        offset: &Path,
    ) -> BoxStream<'static, Result<ObjectMeta>> {
        self.inner.list_with_offset(prefix, offset)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        self.inner.copy_opts(from, to, options).await
    }

    async fn rename_opts(&self, from: &Path, to: &Path, options: RenameOptions) -> Result<()> {
        self.inner.rename_opts(from, to, options).await
    }
}
