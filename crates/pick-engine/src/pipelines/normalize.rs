//! `pick normalize-dataset`: one text field normalized and the label field normalized, every
//! other field and the row order kept, shard for shard (bonepick §7.2).

use std::path::PathBuf;
use std::sync::Arc;

use pick_text::Normalizer;

use crate::dataset::{Dataset, ReadOptions};
use crate::error::Result;
use crate::observe::Observer;
use crate::ops::{Mirror, Mirrored, ShardQuery, mirror};
use crate::plan::rows::{check_field, fields, required};
use crate::plan::{Params, ident};
use crate::session::Exec;
use crate::write::OutputDir;

#[derive(Debug, Clone)]
pub struct NormalizeParams {
    pub input: String,
    pub output: PathBuf,
    pub normalizer: Normalizer,
    pub text_field: String,
    pub label_field: String,
    pub partitions: usize,
    pub read: ReadOptions,
    /// Replace a non-empty output directory.
    pub overwrite: bool,
    /// Where the shards are read, normalized and written.
    pub exec: Exec,
}

pub async fn run(p: &NormalizeParams, observer: &dyn Observer) -> Result<Mirrored> {
    let dataset = Arc::new(Dataset::open(&p.input, p.read.clone())?);
    check_field(&dataset, &p.text_field, "-t/--text-field")?;
    check_field(&dataset, &p.label_field, "-l/--label-field")?;
    p.normalizer.warm_up();

    let mut params = Params::default();
    let select: Vec<String> = fields(&dataset)
        .into_iter()
        .map(|name| {
            if name == p.text_field {
                let value = required(&mut params, &dataset, name);
                let normalizer = params.str(p.normalizer.name());
                format!("normalize({value}, {normalizer}) AS {}", ident(name))
            } else if name == p.label_field {
                let value = required(&mut params, &dataset, name);
                format!("normalize_label({value}) AS {}", ident(name))
            } else {
                ident(name)
            }
        })
        .collect();
    let out = OutputDir::prepare_for(
        &p.output,
        std::slice::from_ref(&dataset.root),
        p.overwrite,
        !p.exec.is_local(),
    )?;
    let written = mirror(
        Mirror {
            dataset,
            query: ShardQuery::new(select.join(", "), params),
            output: out.path(),
            format: None,
            partitions: p.partitions,
            verb: "normalize",
            exec: p.exec.clone(),
        },
        observer,
    )
    .await?;
    out.commit()?;
    Ok(written)
}
