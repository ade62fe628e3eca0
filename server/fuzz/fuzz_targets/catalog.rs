//! The adoption's catalog reader: PostgreSQL's catalog rows (tables, columns, constraints,
//! indexes) turned into a snapshot, and the difference between two snapshots in words. A
//! snapshot differs from itself in nothing; creating and dropping tables mirror each other
//! between two snapshots; from nothing, a snapshot differs by one `create table` a table.
//!
//! Input: rows one a line, fields split by `|`, a line `---` between the snapshot before and
//! the one after: `t|oid|name`, `c|table oid|number|name|type|not null (t)`,
//! `k|table oid|oid|name|definition` (a constraint), `i|…` (an index).
#![no_main]

use std::collections::BTreeSet;

use gatehouse_app::db::catalog::{Catalog, ColumnTuple, DefinedTuple};
use libfuzzer_sys::fuzz_target;

#[derive(Default)]
struct Rows {
    tables: Vec<(i64, String)>,
    columns: Vec<ColumnTuple>,
    constraints: Vec<DefinedTuple>,
    indexes: Vec<DefinedTuple>,
}

impl Rows {
    fn read(text: &str) -> Self {
        let mut rows = Rows::default();
        for line in text.lines() {
            let fields: Vec<&str> = line.split('|').collect();
            let field = |n: usize| fields.get(n).copied().unwrap_or_default();
            let number = |n: usize| field(n).parse::<i64>().unwrap_or_default();
            let text = |n: usize| field(n).to_string();
            match field(0) {
                "t" => rows.tables.push((number(1), text(2))),
                "c" => rows.columns.push((
                    number(1),
                    number(2) as i32,
                    text(3),
                    text(4),
                    field(5) == "t",
                )),
                "k" => rows
                    .constraints
                    .push((number(1), number(2), text(3), text(4))),
                "i" => rows.indexes.push((number(1), number(2), text(3), text(4))),
                _ => {}
            }
        }
        rows
    }

    fn catalog(&self) -> Catalog {
        Catalog::from_rows(
            self.tables.clone(),
            self.columns.clone(),
            self.constraints.clone(),
            self.indexes.clone(),
        )
    }
}

fuzz_target!(|data: &[u8]| {
    let Some(text) = gatehouse_fuzz::text(data) else {
        return;
    };
    let (before, after) = text.split_once("\n---\n").unwrap_or((text, ""));
    let (before, after) = (Rows::read(before), Rows::read(after));
    let changes = before.catalog().changes_to(&after.catalog());
    let back = after.catalog().changes_to(&before.catalog());
    let count =
        |lines: &[String], prefix: &str| lines.iter().filter(|l| l.starts_with(prefix)).count();
    assert_eq!(
        count(&changes, "create table "),
        count(&back, "drop table ")
    );
    assert_eq!(
        count(&changes, "drop table "),
        count(&back, "create table ")
    );
    assert!(before.catalog().changes_to(&before.catalog()).is_empty());
    let tables: BTreeSet<i64> = after.tables.iter().map(|(oid, _)| *oid).collect();
    let created = Catalog::default().changes_to(&after.catalog());
    assert_eq!(created.len(), tables.len());
    assert!(created.iter().all(|l| l.starts_with("create table ")));
});
