use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{}: not a model2vec model: no config.json, model.safetensors and tokenizer.json (nor a \
         sentence-transformers layout)",
        .0.display()
    )]
    NotAModel(PathBuf),
    /// A file that is there but cannot be used: the file and why.
    #[error("{}: {message}", path.display())]
    Bad { path: PathBuf, message: String },
}

impl ModelError {
    pub fn bad(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        ModelError::Bad {
            path: path.into(),
            message: message.into(),
        }
    }
}
