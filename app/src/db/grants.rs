//! What a role that only serves Gatehouse needs, and no more: rows of every table it uses,
//! the audit log only to add to and read, the migrations' record only to read.

use super::check::REQUIRED_TABLES;

/// The GRANT statements for `role` (quoted here) in `schema`.
pub fn app_role(schema: &str, role: &str) -> Vec<String> {
    let (schema, role) = (quoted(schema), quoted(role));
    let rows: Vec<String> = REQUIRED_TABLES
        .iter()
        .filter(|table| **table != "audit_event")
        .map(|table| format!("{schema}.{}", quoted(table)))
        .collect();
    vec![
        format!("GRANT USAGE ON SCHEMA {schema} TO {role}"),
        format!(
            "GRANT SELECT, INSERT, UPDATE, DELETE ON {} TO {role}",
            rows.join(", ")
        ),
        format!("GRANT SELECT, INSERT ON {schema}.audit_event TO {role}"),
        format!("GRANT SELECT ON {schema}.__diesel_schema_migrations TO {role}"),
        format!("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role}"),
    ]
}

/// An SQL identifier, quoted.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
