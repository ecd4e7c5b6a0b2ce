//! Which shards of a dataset a statement can read (`session::scope` finds them in the SQL):
//! a dataset opened with a scope discovers and infers those shards alone.

use crate::dataset::Shard;

/// Shards a statement may read: those some mention of the table keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardScope(Vec<ShardFilter>);

/// One mention's literal filters; `None` where it does not filter that column.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShardFilter {
    pub splits: Option<Vec<String>>,
    pub files: Option<Vec<String>>,
}

impl ShardScope {
    pub fn new(mentions: Vec<ShardFilter>) -> ShardScope {
        ShardScope(mentions)
    }

    /// Each mention's filters.
    pub fn mentions(&self) -> &[ShardFilter] {
        &self.0
    }

    pub fn keeps(&self, shard: &Shard) -> bool {
        let within = |allowed: &Option<Vec<String>>, value: Option<&str>| match allowed {
            None => true,
            Some(list) => value.is_some_and(|v| list.iter().any(|a| a == v)),
        };
        self.0.iter().any(|f| {
            within(&f.splits, shard.split.as_deref()) && within(&f.files, Some(&shard.rel))
        })
    }

    /// A stable text of the scope, to tell datasets opened with different scopes apart.
    pub fn key(&self) -> String {
        format!("{:?}", self.0)
    }
}
