//! `SELECT *` leaves out the virtual columns (`_split`, `_file`, `_row`, `_json`): they are
//! there when named, as in DuckDB's `filename`, and cost nothing otherwise. DataFusion has no
//! hidden columns, so the parsed statement's wildcards over dataset tables get an `EXCLUDE`.

use std::any::Any;
use std::collections::HashMap;

use datafusion::common::TableReference;
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{
    ExcludeSelectItem, Ident, ObjectName, ObjectNamePart, Query, Select, SelectItem,
    SelectItemQualifiedWildcardKind, SetExpr, Statement, TableFactor, WildcardAdditionalOptions,
};

use crate::dataset::DatasetTable;
use crate::session::Engine;

/// Virtual column names of each dataset table a statement names, keyed by the table name
/// as written.
type Virtuals = HashMap<String, Vec<String>>;

pub async fn hide_virtual_columns(engine: &Engine, statement: &mut DfStatement) {
    let Some(query) = query_of(statement) else {
        return;
    };
    let mut names = Vec::new();
    collect_tables(query, &mut names);
    let mut virtuals = Virtuals::new();
    for name in names {
        if virtuals.contains_key(&name.to_string()) {
            continue;
        }
        let Ok(provider) = engine.ctx.table_provider(table_reference(&name)).await else {
            continue;
        };
        let any: &dyn Any = provider.as_ref();
        if let Some(table) = any.downcast_ref::<DatasetTable>() {
            let v = table
                .dataset()
                .layout
                .virtuals
                .iter()
                .map(|v| v.name().to_string())
                .collect();
            virtuals.insert(name.to_string(), v);
        }
    }
    if !virtuals.is_empty()
        && let Some(query) = query_of(statement)
    {
        rewrite_query(query, &virtuals);
    }
}

fn query_of(statement: &mut DfStatement) -> Option<&mut Query> {
    match statement {
        DfStatement::Statement(s) => match s.as_mut() {
            Statement::Query(q) => Some(q),
            Statement::CreateView(v) => Some(&mut v.query),
            _ => None,
        },
        DfStatement::Explain(e) => query_of(&mut e.statement),
        _ => None,
    }
}

pub(super) fn ident_value(part: &ObjectNamePart) -> Option<String> {
    match part {
        ObjectNamePart::Identifier(Ident {
            value, quote_style, ..
        }) => Some(if quote_style.is_some() {
            value.clone()
        } else {
            value.to_lowercase()
        }),
        _ => None,
    }
}

fn table_reference(name: &ObjectName) -> TableReference {
    let parts: Vec<String> = name.0.iter().filter_map(ident_value).collect();
    match parts.as_slice() {
        [t] => TableReference::bare(t.clone()),
        [s, t] => TableReference::partial(s.clone(), t.clone()),
        [c, s, t] => TableReference::full(c.clone(), s.clone(), t.clone()),
        _ => TableReference::bare(name.to_string()),
    }
}

fn for_each_query(query: &mut Query, f: &mut dyn FnMut(&mut Select)) {
    if let Some(with) = &mut query.with {
        for cte in &mut with.cte_tables {
            for_each_query(&mut cte.query, f);
        }
    }
    for_each_select(&mut query.body, f);
}

fn for_each_select(body: &mut SetExpr, f: &mut dyn FnMut(&mut Select)) {
    match body {
        SetExpr::Select(select) => {
            for twj in &mut select.from {
                let relations = std::iter::once(&mut twj.relation)
                    .chain(twj.joins.iter_mut().map(|j| &mut j.relation));
                for rel in relations {
                    if let TableFactor::Derived { subquery, .. } = rel {
                        for_each_query(subquery, f);
                    }
                }
            }
            f(select);
        }
        SetExpr::Query(q) => for_each_query(q, f),
        SetExpr::SetOperation { left, right, .. } => {
            for_each_select(left, f);
            for_each_select(right, f);
        }
        _ => {}
    }
}

fn collect_tables(query: &mut Query, out: &mut Vec<ObjectName>) {
    for_each_query(query, &mut |select| {
        for (name, _) in relations(select) {
            out.push(name);
        }
    });
}

/// Every relation in a SELECT's FROM: `(name, qualifier)` for named tables, with the
/// qualifier `*.` wildcards use; derived tables and functions count with no name.
fn relations(select: &Select) -> Vec<(ObjectName, String)> {
    let mut out = Vec::new();
    for twj in &select.from {
        for rel in std::iter::once(&twj.relation).chain(twj.joins.iter().map(|j| &j.relation)) {
            if let TableFactor::Table {
                name,
                alias,
                args: None,
                ..
            } = rel
            {
                let qualifier = match alias {
                    Some(a) => a.name.value.clone(),
                    None => name.0.last().and_then(ident_value).unwrap_or_default(),
                };
                out.push((name.clone(), qualifier));
            }
        }
    }
    out
}

fn relation_count(select: &Select) -> usize {
    select.from.iter().map(|twj| 1 + twj.joins.len()).sum()
}

fn exclude(opts: &mut WildcardAdditionalOptions, names: &[String]) {
    if opts.opt_except.is_some() {
        return;
    }
    let mut list = match opts.opt_exclude.take() {
        Some(ExcludeSelectItem::Single(n)) => vec![n],
        Some(ExcludeSelectItem::Multiple(ns)) => ns,
        None => vec![],
    };
    for n in names {
        let already = list.iter().any(|x| x.to_string().eq_ignore_ascii_case(n));
        if !already {
            list.push(ObjectName::from(vec![Ident::new(n.clone())]));
        }
    }
    opts.opt_exclude = Some(ExcludeSelectItem::Multiple(list));
}

fn rewrite_query(query: &mut Query, virtuals: &Virtuals) {
    for_each_query(query, &mut |select| {
        let rels = relations(select);
        let single = relation_count(select) == 1;
        for item in &mut select.projection {
            match item {
                SelectItem::Wildcard(opts) if single => {
                    if let Some(v) = rels.first().and_then(|(n, _)| virtuals.get(&n.to_string())) {
                        exclude(opts, v);
                    }
                }
                SelectItem::QualifiedWildcard(
                    SelectItemQualifiedWildcardKind::ObjectName(q),
                    opts,
                ) => {
                    let q = q.0.last().and_then(ident_value).unwrap_or_default();
                    if let Some(v) = rels
                        .iter()
                        .find(|(_, qual)| *qual == q)
                        .and_then(|(n, _)| virtuals.get(&n.to_string()))
                    {
                        exclude(opts, v);
                    }
                }
                _ => {}
            }
        }
    });
}
