//! ListUsers, groups and the read side of pools and clients over real HTTP (docs/api.md,
//! "Admin actions" and "Pools and clients").

use crate::api_admin::{AdminApi, CLIENT, POOL, attribute, ok};
use crate::api_support::{ADMIN_SECRET, Api, assert_error};
use crate::on_both_backends_with;
use serde_json::{Value, json};

on_both_backends_with!(
    AdminApi;
    list_users_filters_by_equality_and_prefix,
    a_very_long_value_is_kept_and_searchable,
    list_users_refuses_bad_filters,
    list_users_pages_through_everyone,
    groups_are_created_listed_and_joined,
    pools_and_clients_are_described,
);

async fn create(api: &Api, username: &str, attributes: Value) {
    ok(
        api,
        "AdminCreateUser",
        json!({"UserPoolId": POOL, "Username": username, "MessageAction": "SUPPRESS",
               "TemporaryPassword": "Temp-Passw0rd!", "UserAttributes": attributes}),
    )
    .await;
}

async fn names(api: &Api, filter: &str) -> Vec<String> {
    let answer = ok(
        api,
        "ListUsers",
        json!({"UserPoolId": POOL, "Filter": filter}),
    )
    .await;
    let mut names: Vec<String> = answer["Users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["Username"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

async fn list_users_filters_by_equality_and_prefix(api: Api) {
    create(
        &api,
        "bob",
        json!([{"Name": "email", "Value": "bob@example.com"},
                               {"Name": "given_name", "Value": "Bob"}]),
    )
    .await;
    create(
        &api,
        "bobby",
        json!([{"Name": "email", "Value": "bobby@example.org"},
                                 {"Name": "given_name", "Value": "Robert \"Bobby\""}]),
    )
    .await;
    create(
        &api,
        "Carol",
        json!([{"Name": "email", "Value": "Carol@Example.com"}]),
    )
    .await;
    assert_eq!(names(&api, r#"email = "bob@example.com""#).await, ["bob"]);
    assert_eq!(names(&api, r#"email ^= "bob""#).await, ["bob", "bobby"]);
    // Attribute values compare as stored: case matters.
    assert!(
        names(&api, r#"email = "carol@example.com""#)
            .await
            .is_empty()
    );
    assert_eq!(
        names(&api, r#"email = "Carol@Example.com""#).await,
        ["Carol"]
    );
    // Usernames follow the pool (case-insensitive here); statuses ignore case.
    assert_eq!(names(&api, r#"username = "CAROL""#).await, ["Carol"]);
    assert_eq!(names(&api, r#"username ^= "BO""#).await, ["bob", "bobby"]);
    assert_eq!(
        names(&api, r#"cognito:user_status = "force_change_password""#).await,
        ["Carol", "bob", "bobby"]
    );
    assert_eq!(
        names(&api, r#"cognito:user_status = "CONFIRMED""#).await,
        ["alice"]
    );
    assert_eq!(
        names(&api, r#"given_name = "Robert \"Bobby\"""#).await,
        ["bobby"]
    );
    ok(
        &api,
        "AdminDisableUser",
        json!({"UserPoolId": POOL, "Username": "bobby"}),
    )
    .await;
    assert_eq!(names(&api, r#"status = "Disabled""#).await, ["bobby"]);
    assert!(names(&api, r#"status = "disabled""#).await.is_empty());
    let alice = ok(
        &api,
        "AdminGetUser",
        json!({"UserPoolId": POOL, "Username": "alice"}),
    )
    .await;
    let sub = attribute(&alice["UserAttributes"], "sub")
        .unwrap()
        .to_owned();
    assert_eq!(names(&api, &format!(r#"sub = "{sub}""#)).await, ["alice"]);
    // A changed email is found under its new value only.
    ok(
        &api,
        "AdminUpdateUserAttributes",
        json!({"UserPoolId": POOL, "Username": "bob",
               "UserAttributes": [{"Name": "email", "Value": "robert@example.com"}]}),
    )
    .await;
    assert!(names(&api, r#"email = "bob@example.com""#).await.is_empty());
    assert_eq!(names(&api, r#"email ^= "rob""#).await, ["bob"]);
    ok(
        &api,
        "AdminDeleteUser",
        json!({"UserPoolId": POOL, "Username": "bob"}),
    )
    .await;
    assert!(names(&api, r#"email ^= "rob""#).await.is_empty());
    // AttributesToGet limits what comes back.
    let answer = ok(
        &api,
        "ListUsers",
        json!({"UserPoolId": POOL, "Filter": "username = \"alice\"", "AttributesToGet": ["email"]}),
    )
    .await;
    let attributes = answer["Users"][0]["Attributes"].as_array().unwrap();
    assert_eq!(attributes.len(), 1, "{answer}");
    assert_eq!(attributes[0]["Name"], "email");
}

async fn list_users_refuses_bad_filters(api: Api) {
    for filter in [
        r#"custom:tier = "gold""#,
        r#"nickname = "x""#,
        r#"email == "x""#,
        r#"email = "unterminated"#,
        r#"email = bare"#,
        r#"email = "x" and more"#,
    ] {
        let answer = api
            .admin("ListUsers", json!({"UserPoolId": POOL, "Filter": filter}))
            .await;
        assert_error(&answer, "InvalidParameterException");
        assert_eq!(
            answer.1["message"], "Error while parsing filter",
            "{filter}"
        );
    }
    let too_many = api
        .admin("ListUsers", json!({"UserPoolId": POOL, "Limit": 61}))
        .await;
    assert_error(&too_many, "InvalidParameterException");
    let garbage = api
        .admin(
            "ListUsers",
            json!({"UserPoolId": POOL, "PaginationToken": "%%"}),
        )
        .await;
    assert_error(&garbage, "InvalidParameterException");
}

async fn list_users_pages_through_everyone(api: Api) {
    for i in 0..7 {
        create(
            &api,
            &format!("page{i}"),
            json!([{"Name": "given_name", "Value": "Pat"}]),
        )
        .await;
    }
    for filter in [
        None,
        Some(r#"given_name = "Pat""#),
        Some(r#"username ^= "page""#),
    ] {
        let mut seen = Vec::new();
        let mut token: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut input = json!({"UserPoolId": POOL, "Limit": 3});
            if let Some(filter) = filter {
                input["Filter"] = json!(filter);
            }
            if let Some(token) = &token {
                input["PaginationToken"] = json!(token);
            }
            let answer = ok(&api, "ListUsers", input).await;
            let users = answer["Users"].as_array().unwrap();
            assert!(users.len() <= 3);
            seen.extend(
                users
                    .iter()
                    .map(|u| u["Username"].as_str().unwrap().to_owned()),
            );
            pages += 1;
            match answer["PaginationToken"].as_str() {
                Some(next) => token = Some(next.to_owned()),
                None => break,
            }
        }
        let expected = if filter.is_none() { 8 } else { 7 };
        assert_eq!(seen.len(), expected, "{filter:?}: {seen:?}");
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), expected, "no user twice");
        assert_eq!(pages, 3);
    }
}

async fn groups_are_created_listed_and_joined(api: Api) {
    let created = ok(
        &api,
        "CreateGroup",
        json!({"UserPoolId": POOL, "GroupName": "editors", "Description": "Edit", "Precedence": 5}),
    )
    .await;
    assert_eq!(created["Group"]["GroupName"], "editors");
    assert_eq!(created["Group"]["Precedence"], 5);
    assert!(created["Group"]["CreationDate"].is_number());
    let again = api
        .admin(
            "CreateGroup",
            json!({"UserPoolId": POOL, "GroupName": "editors"}),
        )
        .await;
    assert_error(&again, "GroupExistsException");
    let updated = ok(
        &api,
        "UpdateGroup",
        json!({"UserPoolId": POOL, "GroupName": "editors", "Description": "Edits things"}),
    )
    .await;
    assert_eq!(updated["Group"]["Description"], "Edits things");
    assert_eq!(updated["Group"]["Precedence"], 5);
    // The file's group is read-only here.
    let declared = api
        .admin(
            "DeleteGroup",
            json!({"UserPoolId": POOL, "GroupName": "staff"}),
        )
        .await;
    assert_error(&declared, "InvalidParameterException");
    assert_eq!(
        declared.1["message"],
        "Group staff is declared in the configuration file"
    );
    let got = ok(
        &api,
        "GetGroup",
        json!({"UserPoolId": POOL, "GroupName": "staff"}),
    )
    .await;
    assert_eq!(got["Group"]["Description"], "Declared in the file");
    assert_error(
        &api.admin("GetGroup", json!({"UserPoolId": POOL, "GroupName": "nope"}))
            .await,
        "ResourceNotFoundException",
    );
    for name in ["g1", "g2", "g3"] {
        ok(
            &api,
            "CreateGroup",
            json!({"UserPoolId": POOL, "GroupName": name}),
        )
        .await;
    }
    let first = ok(&api, "ListGroups", json!({"UserPoolId": POOL, "Limit": 3})).await;
    assert_eq!(first["Groups"].as_array().unwrap().len(), 3);
    let token = first["NextToken"].as_str().unwrap();
    let second = ok(
        &api,
        "ListGroups",
        json!({"UserPoolId": POOL, "Limit": 3, "NextToken": token}),
    )
    .await;
    let rest: Vec<&str> = second["Groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["GroupName"].as_str().unwrap())
        .collect();
    assert_eq!(rest, ["g3", "staff"]);
    assert!(second.get("NextToken").is_none());

    let member = json!({"UserPoolId": POOL, "Username": "alice", "GroupName": "editors"});
    ok(&api, "AdminAddUserToGroup", member.clone()).await;
    let groups = ok(
        &api,
        "AdminListGroupsForUser",
        json!({"UserPoolId": POOL, "Username": "alice"}),
    )
    .await;
    let names: Vec<&str> = groups["Groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["GroupName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["staff", "editors"], "by precedence");
    let members = ok(
        &api,
        "ListUsersInGroup",
        json!({"UserPoolId": POOL, "GroupName": "editors"}),
    )
    .await;
    assert_eq!(members["Users"][0]["Username"], "alice");
    ok(&api, "AdminRemoveUserFromGroup", member.clone()).await;
    let members = ok(
        &api,
        "ListUsersInGroup",
        json!({"UserPoolId": POOL, "GroupName": "editors"}),
    )
    .await;
    assert_eq!(members["Users"], json!([]));
    let nobody = api
        .admin(
            "AdminAddUserToGroup",
            json!({"UserPoolId": POOL, "Username": "ghost", "GroupName": "editors"}),
        )
        .await;
    assert_error(&nobody, "UserNotFoundException");
    let no_group = api
        .admin(
            "AdminAddUserToGroup",
            json!({"UserPoolId": POOL, "Username": "alice", "GroupName": "ghosts"}),
        )
        .await;
    assert_error(&no_group, "ResourceNotFoundException");
    ok(
        &api,
        "DeleteGroup",
        json!({"UserPoolId": POOL, "GroupName": "editors"}),
    )
    .await;
    assert_error(
        &api.admin(
            "GetGroup",
            json!({"UserPoolId": POOL, "GroupName": "editors"}),
        )
        .await,
        "ResourceNotFoundException",
    );
}

async fn pools_and_clients_are_described(api: Api) {
    let pool = ok(&api, "DescribeUserPool", json!({"UserPoolId": POOL})).await;
    let pool = &pool["UserPool"];
    assert_eq!(pool["Id"], POOL);
    assert_eq!(pool["Name"], "admin-test");
    assert_eq!(pool["AliasAttributes"], json!(["email"]));
    assert_eq!(pool["EstimatedNumberOfUsers"], 1);
    assert_eq!(pool["Policies"]["PasswordPolicy"]["MinimumLength"], 8);
    assert!(pool["CreationDate"].is_number());
    assert!(
        pool["Arn"]
            .as_str()
            .unwrap()
            .ends_with(&format!("userpool/{POOL}"))
    );
    let schema = pool["SchemaAttributes"].as_array().unwrap();
    let badge = schema.iter().find(|a| a["Name"] == "custom:badge").unwrap();
    assert_eq!(badge["Mutable"], false);

    let client = ok(
        &api,
        "DescribeUserPoolClient",
        json!({"UserPoolId": POOL, "ClientId": CLIENT}),
    )
    .await;
    let client = &client["UserPoolClient"];
    assert_eq!(client["ClientName"], "web");
    assert_eq!(client["AllowedOAuthFlows"], json!(["code"]));
    assert_eq!(
        client["CallbackURLs"],
        json!(["http://localhost:3000/callback"])
    );
    assert!(client.get("ClientSecret").is_none());
    // What the file says (here: nothing, so Cognito's defaults), not a fixed list.
    assert_eq!(
        client["ExplicitAuthFlows"],
        json!(["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])
    );
    assert_eq!(client["AuthSessionValidity"], 3);
    assert_error(
        &api.admin(
            "DescribeUserPoolClient",
            json!({"UserPoolId": POOL, "ClientId": "nope"}),
        )
        .await,
        "ResourceNotFoundException",
    );
    let clients = ok(
        &api,
        "ListUserPoolClients",
        json!({"UserPoolId": POOL, "MaxResults": 10}),
    )
    .await;
    assert_eq!(clients["UserPoolClients"][0]["ClientId"], CLIENT);

    let missing = api.admin("ListUserPools", json!({})).await;
    assert_error(&missing, "InvalidParameterException");
    let pools = ok(&api, "ListUserPools", json!({"MaxResults": 1})).await;
    assert_eq!(pools["UserPools"].as_array().unwrap().len(), 1);
    let token = pools["NextToken"].as_str().unwrap().to_owned();
    let rest = ok(
        &api,
        "ListUserPools",
        json!({"MaxResults": 60, "NextToken": token}),
    )
    .await;
    assert_eq!(rest["UserPools"].as_array().unwrap().len(), 1);
    // A key limited to one pool sees only it.
    let limited = api
        .signed(
            "AKIAGATEHOUSEREAD001",
            ADMIN_SECRET,
            "ListUserPools",
            json!({"MaxResults": 60}),
        )
        .await;
    assert_eq!(
        limited.1["UserPools"].as_array().unwrap().len(),
        1,
        "{limited:?}"
    );
    assert_eq!(limited.1["UserPools"][0]["Id"], "local_Admin0002");
}

/// The longest value an attribute may hold (2,048 bytes: 512 four-byte characters) is stored
/// and indexed on both backends (PostgreSQL's btree takes index rows that long), and a prefix
/// filter (filters are at most 256 characters, as Cognito's) finds it.
async fn a_very_long_value_is_kept_and_searchable(api: Api) {
    let long = "\u{1D11E}".repeat(512);
    create(&api, "longname", json!([{"Name": "name", "Value": long}])).await;
    let prefix = "\u{1D11E}".repeat(60);
    let found = ok(
        &api,
        "ListUsers",
        json!({"UserPoolId": POOL, "Filter": format!("name ^= \"{prefix}\"")}),
    )
    .await;
    assert_eq!(found["Users"][0]["Username"], "longname");
    assert_eq!(
        attribute(&found["Users"][0]["Attributes"], "name"),
        Some(long.as_str())
    );
}
