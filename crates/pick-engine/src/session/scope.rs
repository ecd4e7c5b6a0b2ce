//! The shards a statement can read of each dataset it names. A query whose every mention of
//! a table filters it with literals on `_split` or `_file` (`WHERE _split = 'test'`,
//! `_file IN (...)`) reads no other shard, so the dataset is opened on those shards alone:
//! schema inference never opens the shards the scan would prune (a first opening of a big
//! dataset costs only the split it asks about), and the table is what that query reads.

use std::collections::HashMap;
use std::ops::ControlFlow;

use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{
    BinaryOperator, Expr, Ident, ObjectName, Query, Select, SetExpr, Statement, TableFactor, Value,
    Visit, Visitor, visit_relations,
};

use crate::dataset::scope::{ShardFilter as Filter, ShardScope};
use crate::session::wildcard::ident_value;

/// The scope of each table (by name as written: a registered name, or a path in quotes)
/// that every mention in `statements` filters.
pub fn scopes<'a>(
    statements: impl IntoIterator<Item = &'a DfStatement>,
) -> HashMap<String, ShardScope> {
    let mut mentions: HashMap<String, usize> = HashMap::new();
    let mut filtered = Filtered::default();
    for statement in statements {
        let statement: &Statement = match statement {
            DfStatement::Statement(s) => s,
            DfStatement::Explain(e) => match e.statement.as_ref() {
                DfStatement::Statement(s) => s,
                _ => return HashMap::new(),
            },
            _ => return HashMap::new(),
        };
        let _ = visit_relations(statement, |name| {
            *mentions.entry(key(name)).or_default() += 1;
            ControlFlow::<()>::Continue(())
        });
        let _ = statement.visit(&mut filtered);
    }
    filtered
        .0
        .into_iter()
        .filter(|(name, found)| mentions.get(name) == Some(&found.len()))
        .map(|(name, found)| (name, ShardScope::new(found)))
        .collect()
}

fn key(name: &ObjectName) -> String {
    name.0
        .iter()
        .filter_map(ident_value)
        .collect::<Vec<_>>()
        .join(".")
}

/// The filtered mentions of each table, found in every SELECT of a statement.
#[derive(Default)]
struct Filtered(HashMap<String, Vec<Filter>>);

impl Visitor for Filtered {
    type Break = ();

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        // Nested queries (CTEs, subqueries, derived tables) are visited as queries of their own.
        selects(&query.body, &mut |select| self.select(select));
        ControlFlow::Continue(())
    }
}

fn selects(body: &SetExpr, f: &mut dyn FnMut(&Select)) {
    match body {
        SetExpr::Select(select) => f(select),
        SetExpr::SetOperation { left, right, .. } => {
            selects(left, f);
            selects(right, f);
        }
        _ => {}
    }
}

impl Filtered {
    fn select(&mut self, select: &Select) {
        let tables: Vec<(&ObjectName, String)> = select
            .from
            .iter()
            .flat_map(|twj| {
                std::iter::once(&twj.relation).chain(twj.joins.iter().map(|j| &j.relation))
            })
            .filter_map(|rel| match rel {
                TableFactor::Table {
                    name,
                    alias,
                    args: None,
                    ..
                } => Some((
                    name,
                    match alias {
                        Some(a) => a.name.value.clone(),
                        None => name.0.last().and_then(ident_value).unwrap_or_default(),
                    },
                )),
                _ => None,
            })
            .collect();
        let alone = select.from.len() == 1 && select.from[0].joins.is_empty();
        let mut conjuncts = Vec::new();
        if let Some(selection) = &select.selection {
            and_parts(selection, &mut conjuncts);
        }
        for (name, qualifier) in tables {
            let mut filter = Filter::default();
            for c in &conjuncts {
                let Some((column, values)) = literal_filter(c, &qualifier, alone) else {
                    continue;
                };
                let slot = match column.as_str() {
                    "_split" => &mut filter.splits,
                    _ => &mut filter.files,
                };
                *slot = Some(match slot.take() {
                    None => values,
                    Some(had) => had.into_iter().filter(|v| values.contains(v)).collect(),
                });
            }
            if filter != Filter::default() {
                self.0.entry(key(name)).or_default().push(filter);
            }
        }
    }
}

fn and_parts<'a>(expr: &'a Expr, out: &mut Vec<&'a Expr>) {
    match expr {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            and_parts(left, out);
            and_parts(right, out);
        }
        Expr::Nested(inner) => and_parts(inner, out),
        e => out.push(e),
    }
}

/// `_split = 'x'`, `'x' = _split`, `_file IN ('a', 'b')` (the column bare when the SELECT
/// reads one table, or qualified by the table's name or alias).
fn literal_filter(expr: &Expr, qualifier: &str, alone: bool) -> Option<(String, Vec<String>)> {
    let column = |e: &Expr| -> Option<String> {
        let name = match e {
            Expr::Identifier(Ident {
                value,
                quote_style: None,
                ..
            }) if alone => value.to_lowercase(),
            Expr::CompoundIdentifier(parts) => match parts.as_slice() {
                [q, c] if q.value == qualifier && c.quote_style.is_none() => c.value.to_lowercase(),
                _ => return None,
            },
            _ => return None,
        };
        matches!(name.as_str(), "_split" | "_file").then_some(name)
    };
    let text = |e: &Expr| match e {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) => Some(s.clone()),
            _ => None,
        },
        _ => None,
    };
    match expr {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::Eq,
            right,
        } => match (column(left), text(right)) {
            (Some(c), Some(v)) => Some((c, vec![v])),
            _ => Some((column(right)?, vec![text(left)?])),
        },
        Expr::InList {
            expr,
            list,
            negated: false,
        } => Some((column(expr)?, list.iter().map(text).collect::<Option<_>>()?)),
        Expr::Nested(inner) => literal_filter(inner, qualifier, alone),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::parser::DFParser;

    fn scopes_of(sql: &str) -> HashMap<String, ShardScope> {
        scopes(&DFParser::parse_sql(sql).unwrap())
    }

    fn splits(scope: &ShardScope) -> Vec<Option<Vec<String>>> {
        scope.mentions().iter().map(|f| f.splits.clone()).collect()
    }

    #[test]
    fn every_mention_must_filter() {
        let s = scopes_of("SELECT count(*) FROM s WHERE _split = 'test' AND x > 1");
        assert_eq!(splits(&s["s"]), [Some(vec!["test".to_string()])]);
        let s = scopes_of(
            "SELECT * FROM s WHERE _split = 'test' UNION ALL SELECT * FROM s WHERE s._split IN ('valid', 'x')",
        );
        assert_eq!(s["s"].mentions().len(), 2);
        // One mention unfiltered: the whole dataset.
        assert!(
            scopes_of("SELECT * FROM s WHERE _split = 'a' UNION ALL SELECT * FROM s").is_empty()
        );
        assert!(scopes_of("SELECT * FROM s WHERE _split = 'a' OR x = 1").is_empty());
        assert!(scopes_of("SELECT * FROM s; SELECT * FROM s WHERE _split = 'a'").is_empty());
        // A bare column in a join could belong to either table.
        assert!(scopes_of("SELECT * FROM s JOIN t ON s.id = t.id WHERE _split = 'a'").is_empty());
        let s = scopes_of("SELECT * FROM s a JOIN t ON a.id = t.id WHERE a._split = 'a'");
        assert!(s.contains_key("s") && !s.contains_key("t"));
    }

    #[test]
    fn paths_subqueries_and_explain() {
        let s = scopes_of(
            "EXPLAIN SELECT n FROM (SELECT count(*) AS n FROM 'data/x' WHERE 'train' = _split \
             AND _file = 'train/a.jsonl')",
        );
        let scope = &s["data/x"];
        assert_eq!(splits(scope), [Some(vec!["train".to_string()])]);
        assert_eq!(
            scope.mentions()[0].files,
            Some(vec!["train/a.jsonl".to_string()])
        );
        // The same column twice keeps what both allow.
        let s = scopes_of("SELECT 1 FROM s WHERE _split IN ('a', 'b') AND _split = 'b'");
        assert_eq!(splits(&s["s"]), [Some(vec!["b".to_string()])]);
    }
}
