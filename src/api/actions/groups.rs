//! Groups and their members (../docs/api.md, "Admin actions";
//! <https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_CreateGroup.html>
//! and its siblings). Groups the configuration file declares are read-only here: the next start
//! would otherwise undo a change.

use super::Action;
use super::admin_users::{site_and_user, user_type};
use crate::api::wire::{check_length, input, page_size, page_token, read_page_token, timestamp};
use crate::api::{ApiError, Ctx};
use crate::flows::Site;
use crate::model::Group;
use crate::store::{self, StoreError, groups::GroupRecord};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn find(name: &str) -> Option<Action> {
    Some(match name {
        "CreateGroup" => create_group,
        "GetGroup" => get_group,
        "ListGroups" => list_groups,
        "UpdateGroup" => update_group,
        "DeleteGroup" => delete_group,
        "AdminAddUserToGroup" => admin_add_user_to_group,
        "AdminRemoveUserFromGroup" => admin_remove_user_from_group,
        "AdminListGroupsForUser" => admin_list_groups_for_user,
        "ListUsersInGroup" => list_users_in_group,
        _ => return None,
    })
}

pub const GROUP_EXISTS: &str = "GroupExistsException";

/// Cognito's `GroupType`.
fn group_type(record: &GroupRecord) -> Value {
    let group = &record.group;
    let mut value = json!({
        "GroupName": group.name,
        "UserPoolId": group.pool_id.as_str(),
        "CreationDate": timestamp(record.created_at),
        "LastModifiedDate": timestamp(record.updated_at),
    });
    if let Some(description) = &group.description {
        value["Description"] = json!(description);
    }
    if let Some(precedence) = group.precedence {
        value["Precedence"] = json!(precedence);
    }
    if let Some(role) = &group.role_arn {
        value["RoleArn"] = json!(role);
    }
    value
}

fn group_not_found(name: &str) -> ApiError {
    ApiError::resource_not_found(format!("Group {name} not found."))
}

fn existing(ctx: &mut Ctx, site: &Site, name: &str) -> Result<GroupRecord, ApiError> {
    check_length("GroupName", name, 1, 128)?;
    let conn = ctx.conn()?;
    store::groups::find(conn, site.pool_id(), name)?.ok_or_else(|| group_not_found(name))
}

/// Docs/api.md, "Admin actions": declared groups are the file's.
fn writable(record: &GroupRecord) -> Result<(), ApiError> {
    if record.source == store::groups::SOURCE_FILE {
        return Err(ApiError::invalid_parameter(format!(
            "Group {} is declared in the configuration file",
            record.group.name
        )));
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GroupInput {
    user_pool_id: String,
    group_name: String,
    description: Option<String>,
    precedence: Option<i64>,
    role_arn: Option<String>,
}

fn precedence(value: Option<i64>) -> Result<Option<i32>, ApiError> {
    value
        .map(|p| {
            i32::try_from(p).ok().filter(|p| *p >= 0).ok_or_else(|| {
                ApiError::invalid_parameter(
                    "1 validation error detected: Value at 'precedence' failed to satisfy constraint: Member must have value greater than or equal to 0",
                )
            })
        })
        .transpose()
}

fn create_group(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let given: GroupInput = input(body)?;
    let site = ctx.site(&given.user_pool_id)?;
    check_length("GroupName", &given.group_name, 1, 128)?;
    if let Some(description) = &given.description {
        check_length("Description", description, 0, 2048)?;
    }
    let group = Group {
        pool_id: site.pool.id.clone(),
        name: given.group_name.clone(),
        description: given.description,
        precedence: precedence(given.precedence)?,
        role_arn: given.role_arn,
    };
    let now = ctx.now;
    let conn = ctx.conn()?;
    match store::groups::create(conn, &group, now) {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            return Err(ApiError::new(
                GROUP_EXISTS,
                "A group with the name already exists.",
            ));
        }
        Err(e) => return Err(e.into()),
    }
    let record = existing(ctx, &site, &group.name)?;
    Ok(json!({ "Group": group_type(&record) }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct NameInput {
    user_pool_id: String,
    group_name: String,
}

fn get_group(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let given: NameInput = input(body)?;
    let site = ctx.site(&given.user_pool_id)?;
    let record = existing(ctx, &site, &given.group_name)?;
    Ok(json!({ "Group": group_type(&record) }))
}

fn update_group(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let given: GroupInput = input(body)?;
    let site = ctx.site(&given.user_pool_id)?;
    let mut record = existing(ctx, &site, &given.group_name)?;
    writable(&record)?;
    // Members left out keep their values, as Cognito's UpdateGroup reads them.
    if let Some(description) = given.description {
        check_length("Description", &description, 0, 2048)?;
        record.group.description = Some(description);
    }
    if given.precedence.is_some() {
        record.group.precedence = precedence(given.precedence)?;
    }
    if given.role_arn.is_some() {
        record.group.role_arn = given.role_arn;
    }
    let now = ctx.now;
    let conn = ctx.conn()?;
    store::groups::update(conn, &record.group, now)?;
    let record = existing(ctx, &site, &given.group_name)?;
    Ok(json!({ "Group": group_type(&record) }))
}

fn delete_group(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let given: NameInput = input(body)?;
    let site = ctx.site(&given.user_pool_id)?;
    let record = existing(ctx, &site, &given.group_name)?;
    writable(&record)?;
    let conn = ctx.conn()?;
    store::groups::delete(conn, site.pool_id(), &record.group.name)?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListInput {
    user_pool_id: String,
    limit: Option<i64>,
    next_token: Option<String>,
}

fn list_groups(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let given: ListInput = input(body)?;
    let site = ctx.site(&given.user_pool_id)?;
    let limit = page_size("Limit", given.limit, 60, 60)?;
    let after: Option<String> = given
        .next_token
        .as_deref()
        .map(read_page_token)
        .transpose()?;
    let conn = ctx.conn()?;
    let mut records = store::groups::page(conn, site.pool_id(), after.as_deref(), limit + 1)?;
    let more = records.len() > limit;
    records.truncate(limit);
    let groups: Vec<Value> = records.iter().map(group_type).collect();
    let mut answer = json!({ "Groups": groups });
    if more && let Some(last) = records.last() {
        answer["NextToken"] = json!(page_token(&last.group.name));
    }
    Ok(answer)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MemberInput {
    user_pool_id: String,
    username: String,
    group_name: String,
}

fn admin_add_user_to_group(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let given: MemberInput = input(body)?;
    let (site, user) = site_and_user(ctx, &given.user_pool_id, &given.username)?;
    let record = existing(ctx, &site, &given.group_name)?;
    let conn = ctx.conn()?;
    match store::users::add_to_group(conn, site.pool_id(), &record.group.name, &user.sub) {
        Ok(_) => Ok(json!({})),
        Err(StoreError::NotFound) => Err(group_not_found(&given.group_name)),
        Err(e) => Err(e.into()),
    }
}

fn admin_remove_user_from_group(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let given: MemberInput = input(body)?;
    let (site, user) = site_and_user(ctx, &given.user_pool_id, &given.username)?;
    let record = existing(ctx, &site, &given.group_name)?;
    let conn = ctx.conn()?;
    store::users::remove_from_group(conn, site.pool_id(), &record.group.name, &user.sub)?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UserListInput {
    user_pool_id: String,
    username: String,
    limit: Option<i64>,
    next_token: Option<String>,
}

fn admin_list_groups_for_user(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let given: UserListInput = input(body)?;
    let (site, user) = site_and_user(ctx, &given.user_pool_id, &given.username)?;
    let limit = page_size("Limit", given.limit, 60, 60)?;
    let start: usize = given
        .next_token
        .as_deref()
        .map(read_page_token)
        .transpose()?
        .unwrap_or(0);
    let conn = ctx.conn()?;
    // A user is in few groups (Cognito allows 100): the page is cut from the full list.
    let names = store::users::groups_of(conn, site.pool_id(), &user.sub)?;
    let mut groups = Vec::new();
    for name in names.iter().skip(start).take(limit) {
        if let Some(record) = store::groups::find(conn, site.pool_id(), name)? {
            groups.push(record);
        }
    }
    let values: Vec<Value> = groups.iter().map(group_type).collect();
    let mut answer = json!({ "Groups": values });
    // `start` comes from the caller's token: no arithmetic on it may overflow.
    let next = start.saturating_add(limit);
    if names.len() > next {
        answer["NextToken"] = json!(page_token(&next));
    }
    Ok(answer)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GroupListInput {
    user_pool_id: String,
    group_name: String,
    limit: Option<i64>,
    next_token: Option<String>,
}

fn list_users_in_group(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let given: GroupListInput = input(body)?;
    let site = ctx.site(&given.user_pool_id)?;
    let record = existing(ctx, &site, &given.group_name)?;
    let limit = page_size("Limit", given.limit, 60, 60)?;
    let after: Option<String> = given
        .next_token
        .as_deref()
        .map(read_page_token)
        .transpose()?;
    let conn = ctx.conn()?;
    let mut users = store::users::members_of(
        conn,
        site.pool_id(),
        &record.group.name,
        after.as_deref(),
        limit + 1,
    )?;
    let more = users.len() > limit;
    users.truncate(limit);
    let values: Vec<Value> = users.iter().map(|u| user_type(u, None)).collect();
    let mut answer = json!({ "Users": values });
    if more && let Some(last) = users.last() {
        answer["NextToken"] = json!(page_token(&last.sub.to_string()));
    }
    Ok(answer)
}
