//! What the migrations change, read from PostgreSQL's catalog: a snapshot of the current
//! schema's tables, columns, constraints and indexes, and the difference between two
//! snapshots in words. Keyed by object id, so a renamed table or column shows as renamed.

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Integer, Text};

use super::migrations::SyncPg;

/// The tables of the current schema (diesel's own bookkeeping aside) and what is on them.
#[derive(Debug, Default)]
pub struct Catalog {
    tables: BTreeMap<i64, String>,
    columns: BTreeMap<(i64, i32), Column>,
    /// Constraints, and the indexes that back none, by (table, name).
    constraints: BTreeMap<(i64, String), Defined>,
    indexes: BTreeMap<(i64, String), Defined>,
}

#[derive(Debug, PartialEq, Eq)]
struct Column {
    name: String,
    type_name: String,
    not_null: bool,
}

#[derive(QueryableByName)]
struct TableRow {
    #[diesel(sql_type = BigInt)]
    table_oid: i64,
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct ColumnRow {
    #[diesel(sql_type = BigInt)]
    table_oid: i64,
    #[diesel(sql_type = Integer)]
    number: i32,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    type_name: String,
    #[diesel(sql_type = Bool)]
    not_null: bool,
}

/// A constraint or index: its object id, and its definition as PostgreSQL prints it.
type Defined = (i64, String);

#[derive(QueryableByName)]
struct DefinedRow {
    #[diesel(sql_type = BigInt)]
    table_oid: i64,
    #[diesel(sql_type = BigInt)]
    oid: i64,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    definition: String,
}

const TABLES: &str = "
    SELECT c.oid::int8 AS table_oid, c.relname::text AS name
    FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace
    WHERE ns.nspname = current_schema() AND c.relkind IN ('r', 'p')
      AND c.relname <> '__diesel_schema_migrations'";

const COLUMNS: &str = "
    SELECT a.attrelid::int8 AS table_oid, a.attnum::int4 AS number, a.attname::text AS name,
           format_type(a.atttypid, a.atttypmod) AS type_name, a.attnotnull AS not_null
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace ns ON ns.oid = c.relnamespace
    WHERE ns.nspname = current_schema() AND c.relkind IN ('r', 'p')
      AND a.attnum > 0 AND NOT a.attisdropped";

const CONSTRAINTS: &str = "
    SELECT con.conrelid::int8 AS table_oid, con.oid::int8 AS oid, con.conname::text AS name,
           pg_get_constraintdef(con.oid) AS definition
    FROM pg_constraint con
    JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace ns ON ns.oid = c.relnamespace
    WHERE ns.nspname = current_schema() AND c.relkind IN ('r', 'p')";

const INDEXES: &str = "
    SELECT i.indrelid::int8 AS table_oid, i.indexrelid::int8 AS oid, ic.relname::text AS name,
           pg_get_indexdef(i.indexrelid) AS definition
    FROM pg_index i
    JOIN pg_class ic ON ic.oid = i.indexrelid
    JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace ns ON ns.oid = c.relnamespace
    WHERE ns.nspname = current_schema() AND c.relkind IN ('r', 'p')
      AND NOT EXISTS (SELECT 1 FROM pg_constraint con
                      WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid)";

/// A column as the catalog query returns it: (table oid, number, name, type, not null).
pub type ColumnTuple = (i64, i32, String, String, bool);
/// A constraint or index as the catalog queries return it: (table oid, oid, name, definition).
pub type DefinedTuple = (i64, i64, String, String);

impl Catalog {
    pub fn read(conn: &mut SyncPg) -> QueryResult<Self> {
        let defined = |conn: &mut SyncPg, sql: &str| -> QueryResult<Vec<DefinedTuple>> {
            Ok(diesel::sql_query(sql)
                .load::<DefinedRow>(conn)?
                .into_iter()
                .map(|row| (row.table_oid, row.oid, row.name, row.definition))
                .collect())
        };
        let tables = diesel::sql_query(TABLES)
            .load::<TableRow>(conn)?
            .into_iter()
            .map(|row| (row.table_oid, row.name));
        let columns = diesel::sql_query(COLUMNS)
            .load::<ColumnRow>(conn)?
            .into_iter()
            .map(|row| {
                let ColumnRow {
                    table_oid,
                    number,
                    name,
                    type_name,
                    not_null,
                } = row;
                (table_oid, number, name, type_name, not_null)
            });
        Ok(Self::from_rows(
            tables,
            columns,
            defined(conn, CONSTRAINTS)?,
            defined(conn, INDEXES)?,
        ))
    }

    /// The catalog that the rows of its four queries make (`read`, and the fuzz targets).
    pub fn from_rows(
        tables: impl IntoIterator<Item = (i64, String)>,
        columns: impl IntoIterator<Item = ColumnTuple>,
        constraints: impl IntoIterator<Item = DefinedTuple>,
        indexes: impl IntoIterator<Item = DefinedTuple>,
    ) -> Self {
        let defined = |rows: &mut dyn Iterator<Item = DefinedTuple>| {
            rows.map(|(table_oid, oid, name, definition)| ((table_oid, name), (oid, definition)))
                .collect()
        };
        Self {
            tables: tables.into_iter().collect(),
            columns: columns
                .into_iter()
                .map(|(table_oid, number, name, type_name, not_null)| {
                    let column = Column {
                        name,
                        type_name,
                        not_null,
                    };
                    ((table_oid, number), column)
                })
                .collect(),
            constraints: defined(&mut constraints.into_iter()),
            indexes: defined(&mut indexes.into_iter()),
        }
    }

    /// What changed from `self` to `after`, one line a change: tables, then columns, then
    /// constraints, then indexes. A table made in between is one line, whatever it holds.
    pub fn changes_to(&self, after: &Catalog) -> Vec<String> {
        let mut changes = Vec::new();
        for (oid, name) in &after.tables {
            match self.tables.get(oid) {
                None => changes.push(format!("create table {name}")),
                Some(old) if old != name => changes.push(format!("rename table {old} to {name}")),
                Some(_) => {}
            }
        }
        for (oid, name) in &self.tables {
            if !after.tables.contains_key(oid) {
                changes.push(format!("drop table {name}"));
            }
        }
        // Only tables that were there before: a new table's contents are part of its creation.
        let kept = |oid: &i64| self.tables.contains_key(oid) && after.tables.contains_key(oid);
        let table = |oid: &i64| &after.tables[oid];

        for ((oid, number), column) in after.columns.iter().filter(|((oid, _), _)| kept(oid)) {
            let (table, name) = (table(oid), &column.name);
            let Some(old) = self.columns.get(&(*oid, *number)) else {
                let not_null = if column.not_null { " not null" } else { "" };
                changes.push(format!(
                    "add column {table}.{name} ({}{not_null})",
                    column.type_name
                ));
                continue;
            };
            if old.name != column.name {
                changes.push(format!("rename column {table}.{} to {name}", old.name));
            }
            if old.type_name != column.type_name {
                changes.push(format!(
                    "convert column {table}.{name} from {} to {}",
                    old.type_name, column.type_name
                ));
            }
            if old.not_null != column.not_null {
                let now = if column.not_null {
                    "not null"
                } else {
                    "nullable"
                };
                changes.push(format!("make column {table}.{name} {now}"));
            }
        }

        for (kind, before, now) in [
            ("constraint", &self.constraints, &after.constraints),
            ("index", &self.indexes, &after.indexes),
        ] {
            for ((oid, name), (id, definition)) in now.iter().filter(|((oid, _), _)| kept(oid)) {
                match before.get(&(*oid, name.clone())) {
                    None => {
                        changes.push(format!("add {kind} {name} on {}: {definition}", table(oid)))
                    }
                    // Made anew, and otherwise. (A rename changes how the definition prints,
                    // not the object; a converted column's index is rebuilt as it was.)
                    Some((old_id, old)) if old_id != id && old != definition => changes.push(
                        format!("change {kind} {name} on {}: {definition}", table(oid)),
                    ),
                    Some(_) => {}
                }
            }
            for ((oid, name), _) in before.iter().filter(|((oid, _), _)| kept(oid)) {
                if !now.contains_key(&(*oid, name.clone())) {
                    changes.push(format!("drop {kind} {name} on {}", table(oid)));
                }
            }
        }
        changes
    }
}
