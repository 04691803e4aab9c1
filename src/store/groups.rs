//! Groups as the API manages them (docs/api.md, "Admin actions"): with their dates and
//! whether the configuration file or the API created them.

use super::schema::user_groups;
use super::{AnyConnection, StoreError, StoreResult, on_backend};
use crate::model::{Group, PoolId};
use diesel::prelude::*;

/// Groups the configuration file declares; the API leaves them alone.
pub const SOURCE_FILE: &str = "file";
pub const SOURCE_API: &str = "api";

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = user_groups)]
struct Row {
    pool_id: String,
    name: String,
    description: Option<String>,
    precedence: Option<i32>,
    role_arn: Option<String>,
    created_at: i64,
    updated_at: i64,
    source: String,
}

/// A group with its dates and origin.
#[derive(Debug, Clone)]
pub struct GroupRecord {
    pub group: Group,
    pub created_at: i64,
    pub updated_at: i64,
    pub source: String,
}

impl Row {
    fn into_record(self) -> StoreResult<GroupRecord> {
        Ok(GroupRecord {
            group: Group {
                pool_id: PoolId::parse(&self.pool_id)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                name: self.name,
                description: self.description,
                precedence: self.precedence,
                role_arn: self.role_arn,
            },
            created_at: self.created_at,
            updated_at: self.updated_at,
            source: self.source,
        })
    }
}

pub fn find(
    conn: &mut AnyConnection,
    pool_id: &str,
    name: &str,
) -> StoreResult<Option<GroupRecord>> {
    user_groups::table
        .find((pool_id, name))
        .select(Row::as_select())
        .get_result(conn)
        .optional()?
        .map(Row::into_record)
        .transpose()
}

/// One page of a pool's groups, by name after `after`.
pub fn page(
    conn: &mut AnyConnection,
    pool_id: &str,
    after: Option<&str>,
    limit: usize,
) -> StoreResult<Vec<GroupRecord>> {
    let rows: Vec<Row> = on_backend!(conn, |c| {
        let mut query = user_groups::table
            .filter(user_groups::pool_id.eq(pool_id))
            .order(user_groups::name)
            .limit(limit as i64)
            .select(Row::as_select())
            .into_boxed();
        if let Some(after) = after {
            query = query.filter(user_groups::name.gt(after.to_owned()));
        }
        query.load(c)
    })?;
    rows.into_iter().map(Row::into_record).collect()
}

/// Creates a group owned by the API; a taken name is a `Conflict`.
pub fn create(conn: &mut AnyConnection, group: &Group, now: i64) -> StoreResult<()> {
    diesel::insert_into(user_groups::table)
        .values((
            user_groups::pool_id.eq(group.pool_id.as_str()),
            user_groups::name.eq(&group.name),
            user_groups::description.eq(&group.description),
            user_groups::precedence.eq(group.precedence),
            user_groups::role_arn.eq(&group.role_arn),
            user_groups::created_at.eq(now),
            user_groups::updated_at.eq(now),
            user_groups::source.eq(SOURCE_API),
        ))
        .execute(conn)
        .map_err(|e| StoreError::from_write(e, format!("group {}", group.name)))?;
    Ok(())
}

pub fn update(conn: &mut AnyConnection, group: &Group, now: i64) -> StoreResult<()> {
    diesel::update(user_groups::table.find((group.pool_id.as_str(), group.name.as_str())))
        .set((
            user_groups::description.eq(&group.description),
            user_groups::precedence.eq(group.precedence),
            user_groups::role_arn.eq(&group.role_arn),
            user_groups::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Deletes a group; its memberships go with it (the schema cascades).
pub fn delete(conn: &mut AnyConnection, pool_id: &str, name: &str) -> StoreResult<()> {
    diesel::delete(user_groups::table.find((pool_id, name))).execute(conn)?;
    Ok(())
}
