//! Both migration sets must build the same schema shape: tables, columns,
//! column types (as diesel sees them) and nullability.

use std::collections::BTreeSet;

use diesel::prelude::*;
use diesel::sql_types::{Integer, Text};
use nru_helpdesk::db::{run_migrations, DbConnection};

use crate::helpers::TestDb;

#[derive(QueryableByName)]
struct SqliteColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    column_type: String,
    #[diesel(sql_type = Integer)]
    not_null: i32,
    #[diesel(sql_type = Integer)]
    pk: i32,
}

#[derive(QueryableByName)]
struct PgColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Text)]
    is_nullable: String,
}

type Shape = BTreeSet<(String, String, &'static str, bool)>;

fn kind(declared: &str) -> &'static str {
    match declared.to_ascii_lowercase().as_str() {
        "text" => "text",
        "integer" => "integer",
        "bigint" => "bigint",
        "boolean" => "bool",
        "timestamp" | "timestamp without time zone" => "timestamp",
        other => panic!("column type {other} has no shared diesel mapping"),
    }
}

fn sqlite_shape() -> Shape {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shape.db");
    let mut conn =
        DbConnection::Sqlite(SqliteConnection::establish(path.to_str().unwrap()).unwrap());
    run_migrations(&mut conn).unwrap();
    let DbConnection::Sqlite(conn) = &mut conn else {
        unreachable!()
    };
    let columns: Vec<SqliteColumn> = diesel::sql_query(
        "SELECT m.name AS table_name, p.name AS name, p.type AS column_type, p.\"notnull\" AS not_null, p.pk AS pk \
         FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name != '__diesel_schema_migrations'",
    )
    .load(conn)
    .unwrap();
    columns
        .into_iter()
        // SQLite reports primary-key columns as nullable unless declared NOT NULL; treat keys as required.
        .map(|c| {
            (
                c.table_name,
                c.name,
                kind(&c.column_type),
                c.not_null == 1 || c.pk > 0,
            )
        })
        .collect()
}

fn postgres_shape(url: &str) -> Shape {
    let mut conn = DbConnection::Postgresql(PgConnection::establish(url).unwrap());
    run_migrations(&mut conn).unwrap();
    let DbConnection::Postgresql(conn) = &mut conn else {
        unreachable!()
    };
    let columns: Vec<PgColumn> = diesel::sql_query(
        "SELECT table_name::text AS table_name, column_name::text AS column_name, data_type::text AS data_type, \
         is_nullable::text AS is_nullable FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name != '__diesel_schema_migrations'",
    )
    .load(conn)
    .unwrap();
    columns
        .into_iter()
        .map(|c| {
            (
                c.table_name,
                c.column_name,
                kind(&c.data_type),
                c.is_nullable == "NO",
            )
        })
        .collect()
}

#[test]
fn sqlite_migrations_build_every_table_of_the_schema() {
    let shape = sqlite_shape();
    let tables: BTreeSet<&str> = shape.iter().map(|c| c.0.as_str()).collect();
    for table in [
        "users",
        "user_skills",
        "teams",
        "team_members",
        "sessions",
        "refresh_tokens",
        "login_attempts",
    ] {
        assert!(tables.contains(table), "missing table {table}");
    }
}

#[test]
fn both_migration_sets_build_the_same_shape() {
    let (db, url) = TestDb::create();
    if !db.is_postgres() {
        eprintln!(
            "TEST_DATABASE_URL is not set: the PostgreSQL side of this comparison runs in CI"
        );
        return;
    }
    let sqlite = sqlite_shape();
    let postgres = postgres_shape(&url);
    let only_sqlite: Vec<_> = sqlite.difference(&postgres).collect();
    let only_postgres: Vec<_> = postgres.difference(&sqlite).collect();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "shapes differ\nonly in SQLite: {only_sqlite:?}\nonly in PostgreSQL: {only_postgres:?}"
    );
}
