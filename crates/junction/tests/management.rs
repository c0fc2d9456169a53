//! LiteLLM's management API for teams, organisations and users, end to end over HTTP, on
//! SQLite and on Postgres: create, update, info, list and delete of each; team members on both
//! sides (team and user); keys with a team, an organisation and an `object_permission`;
//! non-admin callers refused, bad bodies answered 400 naming the field, unknown ids 404.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{MASTER_KEY, TestDb, TestGateway, client};
use serde_json::{Value, json};

fn config() -> String {
    "model_list:\n  - model_name: demo\n    litellm_params:\n      model: openai/demo\n      mock_response: hello there\n".to_owned()
}

fn ask() -> Value {
    json!({"model": "demo", "messages": [{"role": "user", "content": "hi"}]})
}

/// A request with any method and a JSON body; status and parsed body.
async fn send(gw: &TestGateway, method: &str, path: &str, key: &str, body: &Value) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let resp = client()
        .request(method, format!("{}{path}", gw.url))
        .bearer_auth(key)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn admin_post(gw: &TestGateway, path: &str, body: Value) -> Value {
    let (status, answer) = gw.post(path, Some(MASTER_KEY), &body).await;
    assert_eq!(status, 200, "{path}: {answer}");
    answer
}

async fn admin_get(gw: &TestGateway, path: &str) -> Value {
    let (status, answer) = gw.get(path, Some(MASTER_KEY)).await;
    assert_eq!(status, 200, "{path}: {answer}");
    answer
}

/// Asserts an OpenAI-style error with this status naming this parameter.
#[track_caller]
fn assert_error(answer: &(u16, Value), status: u16, param: &str) {
    assert_eq!(answer.0, status, "{}", answer.1);
    assert_eq!(answer.1["error"]["param"], param, "{}", answer.1);
    assert_eq!(
        answer.1["error"]["code"],
        status.to_string(),
        "{}",
        answer.1
    );
    assert!(
        answer.1["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
}

fn ids(list: &Value, field: &str) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| v[field].as_str().unwrap().to_owned())
        .collect()
}

async fn teams_members_and_keys(db: TestDb) {
    let gw = TestGateway::start_with_db(&config(), db).await;
    let org = admin_post(
        &gw,
        "/organization/new",
        json!({"organization_id": "org-1", "organization_alias": "Acme",
               "object_permission": {"mcp_servers": ["github", "time"]}}),
    )
    .await;
    assert_eq!(org["organization_id"], "org-1");

    // Create, with members (one new user by id, one by email) and a permission.
    let team = admin_post(
        &gw,
        "/team/new",
        json!({
            "team_id": "team-a", "team_alias": "Alpha", "organization_id": "org-1",
            "models": ["demo"], "max_budget": 10.5, "metadata": {"cost_center": 7},
            "members_with_roles": [{"role": "admin", "user_id": "ann"},
                                   {"role": "user", "user_email": "bob@example.com"}],
            "object_permission": {"mcp_servers": ["github"], "mcp_access_groups": ["dev"],
                                  "mcp_tool_permissions": {"github": ["list_issues"]}},
        }),
    )
    .await;
    assert_eq!(team["team_id"], "team-a");
    assert_eq!(team["team_alias"], "Alpha");
    assert_eq!(team["organization_id"], "org-1");
    assert_eq!(team["max_budget"], 10.5);
    assert_eq!(team["spend"], 0.0);
    assert_eq!(team["blocked"], false);
    assert_eq!(
        team["object_permission"],
        json!({"mcp_servers": ["github"], "mcp_access_groups": ["dev"],
               "mcp_tool_permissions": {"github": ["list_issues"]}})
    );
    let members = team["members_with_roles"].as_array().unwrap();
    assert_eq!(members.len(), 2);
    assert_eq!(
        members[0],
        json!({"user_id": "ann", "user_email": null, "role": "admin"})
    );
    assert_eq!(members[1]["user_email"], "bob@example.com");
    let bob_id = members[1]["user_id"].as_str().unwrap().to_owned();
    assert!(team["created_at"].as_str().unwrap().ends_with('Z'));

    // The members became users of the team.
    let ann = admin_get(&gw, "/user/info?user_id=ann").await;
    assert_eq!(ann["user_info"]["teams"], json!(["team-a"]));
    assert_eq!(ann["user_info"]["user_role"], "internal_user");
    assert_eq!(ids(&ann["teams"], "team_id"), ["team-a"]);
    let bob = admin_get(&gw, &format!("/user/info?user_id={bob_id}")).await;
    assert_eq!(bob["user_info"]["user_email"], "bob@example.com");

    // Duplicates and a missing organisation.
    assert_error(
        &gw.post("/team/new", Some(MASTER_KEY), &json!({"team_id": "team-a"}))
            .await,
        400,
        "team_id",
    );
    assert_error(
        &gw.post(
            "/team/new",
            Some(MASTER_KEY),
            &json!({"team_alias": "Alpha"}),
        )
        .await,
        400,
        "team_alias",
    );
    assert_error(
        &gw.post(
            "/team/new",
            Some(MASTER_KEY),
            &json!({"organization_id": "org-nope"}),
        )
        .await,
        400,
        "organization_id",
    );

    // A team without id gets a UUID.
    let other = admin_post(&gw, "/team/new", json!({"team_alias": "Beta"})).await;
    let other_id = other["team_id"].as_str().unwrap().to_owned();
    assert_eq!(other_id.len(), 36, "{other_id}");
    assert_eq!(other["object_permission"], Value::Null);

    // A key of the team: inherits the organisation, keeps its own permission.
    let generated = admin_post(
        &gw,
        "/key/generate",
        json!({"team_id": "team-a", "key_alias": "team-key",
               "object_permission": {"mcp_servers": ["github"]}}),
    )
    .await;
    let team_key = generated["key"].as_str().unwrap().to_owned();
    let token = generated["token"].as_str().unwrap().to_owned();
    assert_eq!(generated["organization_id"], "org-1");
    assert_eq!(
        generated["object_permission"],
        json!({"mcp_servers": ["github"]})
    );
    let info = admin_get(&gw, &format!("/key/info?key={token}")).await;
    assert_eq!(info["info"]["team_id"], "team-a");
    assert_eq!(
        info["info"]["object_permission"],
        json!({"mcp_servers": ["github"]})
    );
    let listed = admin_get(&gw, "/key/list?return_full_object=true&team_id=team-a").await;
    assert_eq!(listed["total_count"], 1);
    assert_eq!(
        listed["keys"][0]["object_permission"],
        json!({"mcp_servers": ["github"]})
    );
    assert_eq!(gw.chat(&team_key, &ask()).await.0, 200);

    // Keys naming what does not exist, or another organisation than their team's.
    assert_error(
        &gw.post(
            "/key/generate",
            Some(MASTER_KEY),
            &json!({"team_id": "ghost"}),
        )
        .await,
        400,
        "team_id",
    );
    assert_error(
        &gw.post(
            "/key/generate",
            Some(MASTER_KEY),
            &json!({"organization_id": "ghost"}),
        )
        .await,
        400,
        "organization_id",
    );
    admin_post(
        &gw,
        "/organization/new",
        json!({"organization_id": "org-2", "organization_alias": "Other"}),
    )
    .await;
    assert_error(
        &gw.post(
            "/key/generate",
            Some(MASTER_KEY),
            &json!({"team_id": "team-a", "organization_id": "org-2"}),
        )
        .await,
        400,
        "organization_id",
    );
    assert_error(
        &gw.post(
            "/key/generate",
            Some(MASTER_KEY),
            &json!({"object_permission": {"mcp_servers": "github"}}),
        )
        .await,
        400,
        "object_permission",
    );

    // The team's own key may read the team; another team's key may not.
    let (status, own) = gw.get("/team/info?team_id=team-a", Some(&team_key)).await;
    assert_eq!(status, 200, "{own}");
    assert_eq!(own["team_info"]["team_alias"], "Alpha");
    assert_eq!(own["keys"][0]["token"], token.as_str());
    assert_eq!(own["team_memberships"], json!([]));
    let (status, implicit) = gw.get("/team/info", Some(&team_key)).await;
    assert_eq!((status, &implicit["team_id"]), (200, &json!("team-a")));
    assert_eq!(
        gw.get(&format!("/team/info?team_id={other_id}"), Some(&team_key))
            .await
            .0,
        403
    );

    // Update: a partial permission merges into the stored one; null removes one field.
    let updated = admin_post(
        &gw,
        "/team/update",
        json!({"team_id": "team-a", "team_alias": "Alpha 2", "blocked": true,
               "object_permission": {"mcp_servers": ["time"], "mcp_tool_permissions": null}}),
    )
    .await;
    assert_eq!(updated["team_id"], "team-a");
    assert_eq!(updated["data"]["team_alias"], "Alpha 2");
    assert_eq!(updated["data"]["blocked"], true);
    assert_eq!(
        updated["data"]["object_permission"],
        json!({"mcp_servers": ["time"], "mcp_access_groups": ["dev"]})
    );
    assert_eq!(updated["data"]["models"], json!(["demo"]), "unchanged");
    let cleared = admin_post(
        &gw,
        "/team/update",
        json!({"team_id": "team-a", "object_permission": null, "blocked": false,
               "max_budget": null}),
    )
    .await;
    assert_eq!(cleared["data"]["object_permission"], Value::Null);
    assert_eq!(cleared["data"]["max_budget"], Value::Null);
    assert_error(
        &gw.post(
            "/team/update",
            Some(MASTER_KEY),
            &json!({"team_id": "team-a", "organization_id": "ghost"}),
        )
        .await,
        400,
        "organization_id",
    );
    assert_error(
        &gw.post(
            "/team/update",
            Some(MASTER_KEY),
            &json!({"team_id": "ghost"}),
        )
        .await,
        404,
        "team_id",
    );

    // List, all and by organisation, with each team's keys.
    let all = admin_get(&gw, "/team/list").await;
    assert_eq!(ids(&all, "team_id"), ["team-a", other_id.as_str()]);
    assert_eq!(all[0]["keys"].as_array().unwrap().len(), 1);
    let in_org = admin_get(&gw, "/team/list?organization_id=org-1").await;
    assert_eq!(ids(&in_org, "team_id"), ["team-a"]);
    let of_ann = admin_get(&gw, "/team/list?user_id=ann").await;
    assert_eq!(ids(&of_ann, "team_id"), ["team-a"]);

    // Members: add one (existing user), then a list; duplicates refused.
    let added = admin_post(
        &gw,
        "/team/member_add",
        json!({"team_id": other_id, "member": {"role": "user", "user_id": "ann"}}),
    )
    .await;
    assert_eq!(ids(&added["members_with_roles"], "user_id"), ["ann"]);
    assert_eq!(added["updated_users"][0]["user_id"], "ann");
    assert_eq!(
        added["updated_users"][0]["teams"],
        json!(["team-a", other_id.as_str()])
    );
    assert_error(
        &gw.post(
            "/team/member_add",
            Some(MASTER_KEY),
            &json!({"team_id": other_id, "member": {"role": "user", "user_id": "ann"}}),
        )
        .await,
        400,
        "member",
    );
    let added = admin_post(
        &gw,
        "/team/member_add",
        json!({"team_id": other_id, "member": [
            {"role": "admin", "user_id": "cat", "user_email": "cat@example.com"},
            {"role": "user", "user_id": "ann"}]}),
    )
    .await;
    assert_eq!(ids(&added["members_with_roles"], "user_id"), ["ann", "cat"]);
    let cat = admin_get(&gw, "/user/info?user_id=cat").await;
    assert_eq!(cat["user_info"]["teams"], json!([other_id.as_str()]));

    // Member delete, by id and by email; both sides change.
    let after = admin_post(
        &gw,
        "/team/member_delete",
        json!({"team_id": other_id, "user_id": "ann"}),
    )
    .await;
    assert_eq!(ids(&after["members_with_roles"], "user_id"), ["cat"]);
    let ann = admin_get(&gw, "/user/info?user_id=ann").await;
    assert_eq!(ann["user_info"]["teams"], json!(["team-a"]));
    let after = admin_post(
        &gw,
        "/team/member_delete",
        json!({"team_id": other_id, "user_email": "CAT@example.com"}),
    )
    .await;
    assert_eq!(after["members_with_roles"], json!([]));
    let cat = admin_get(&gw, "/user/info?user_id=cat").await;
    assert_eq!(cat["user_info"]["teams"], json!([]));
    assert_error(
        &gw.post(
            "/team/member_delete",
            Some(MASTER_KEY),
            &json!({"team_id": other_id, "user_id": "ann"}),
        )
        .await,
        400,
        "user_id",
    );

    // Delete: unknown ids refuse the whole request; a team's keys go with it.
    assert_error(
        &gw.post(
            "/team/delete",
            Some(MASTER_KEY),
            &json!({"team_ids": ["team-a", "ghost"]}),
        )
        .await,
        404,
        "team_id",
    );
    let deleted = admin_post(&gw, "/team/delete", json!({"team_ids": ["team-a"]})).await;
    assert_eq!(deleted, json!({"deleted_teams": ["team-a"]}));
    assert_eq!(
        gw.get("/team/info?team_id=team-a", Some(MASTER_KEY))
            .await
            .0,
        404
    );
    assert_eq!(
        gw.get(&format!("/key/info?key={token}"), Some(MASTER_KEY))
            .await
            .0,
        404
    );
    assert_eq!(gw.chat(&team_key, &ask()).await.0, 401);
    let ann = admin_get(&gw, "/user/info?user_id=ann").await;
    assert_eq!(ann["user_info"]["teams"], json!([]));
    assert_eq!(
        ids(&admin_get(&gw, "/team/list").await, "team_id"),
        [other_id]
    );
}

async fn organizations(db: TestDb) {
    let gw = TestGateway::start_with_db(&config(), db).await;
    assert_error(
        &gw.post(
            "/organization/new",
            Some(MASTER_KEY),
            &json!({"models": []}),
        )
        .await,
        400,
        "organization_alias",
    );
    let org = admin_post(
        &gw,
        "/organization/new",
        json!({"organization_alias": "Acme", "models": ["demo"], "max_budget": 50,
               "metadata": {"plan": "gold"},
               "object_permission": {"mcp_servers": ["github"]}}),
    )
    .await;
    let org_id = org["organization_id"].as_str().unwrap().to_owned();
    assert_eq!(org_id.len(), 36);
    assert_eq!(org["organization_alias"], "Acme");
    assert_eq!(org["litellm_budget_table"]["max_budget"], 50.0);
    assert_eq!(org["object_permission"], json!({"mcp_servers": ["github"]}));
    assert_error(
        &gw.post(
            "/organization/new",
            Some(MASTER_KEY),
            &json!({"organization_id": org_id, "organization_alias": "Again"}),
        )
        .await,
        400,
        "organization_id",
    );
    // LiteLLM allows a second organisation with the same alias.
    let twin = admin_post(
        &gw,
        "/organization/new",
        json!({"organization_id": "twin", "organization_alias": "Acme"}),
    )
    .await;
    assert_eq!(twin["organization_id"], "twin");

    admin_post(
        &gw,
        "/team/new",
        json!({"team_id": "t1", "organization_id": org_id}),
    )
    .await;
    let org_key = admin_post(&gw, "/key/generate", json!({"organization_id": org_id})).await;
    let team_key = admin_post(&gw, "/key/generate", json!({"team_id": "t1"})).await;
    assert_eq!(team_key["organization_id"], org_id.as_str());

    // Info by GET, and LiteLLM's older POST form.
    let info = admin_get(&gw, &format!("/organization/info?organization_id={org_id}")).await;
    assert_eq!(info["organization_alias"], "Acme");
    assert_eq!(ids(&info["teams"], "team_id"), ["t1"]);
    assert_eq!(info["members"], json!([]));
    let many = admin_post(
        &gw,
        "/organization/info",
        json!({"organizations": [org_id, "ghost"]}),
    )
    .await;
    assert_eq!(ids(&many, "organization_id"), [org_id.as_str()]);

    // Update with PATCH (LiteLLM's method) and POST.
    let (status, patched) = send(
        &gw,
        "PATCH",
        "/organization/update",
        MASTER_KEY,
        &json!({"organization_id": org_id, "organization_alias": "Acme Inc",
                "object_permission": {"mcp_access_groups": ["ops"]}}),
    )
    .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["organization_alias"], "Acme Inc");
    assert_eq!(
        patched["object_permission"],
        json!({"mcp_servers": ["github"], "mcp_access_groups": ["ops"]})
    );
    assert_eq!(patched["models"], json!(["demo"]));
    let posted = admin_post(
        &gw,
        "/organization/update",
        json!({"organization_id": org_id, "max_budget": null, "models": []}),
    )
    .await;
    assert_eq!(posted["max_budget"], Value::Null);
    assert_eq!(posted["models"], json!([]));
    assert_eq!(posted["organization_alias"], "Acme Inc");

    let listed = admin_get(&gw, "/organization/list").await;
    assert_eq!(ids(&listed, "organization_id"), [org_id.as_str(), "twin"]);
    assert_eq!(ids(&listed[0]["teams"], "team_id"), ["t1"]);

    // Delete with DELETE: its teams and keys go too.
    let (status, deleted) = send(
        &gw,
        "DELETE",
        "/organization/delete",
        MASTER_KEY,
        &json!({"organization_ids": [org_id]}),
    )
    .await;
    assert_eq!(status, 200, "{deleted}");
    assert_eq!(ids(&deleted, "organization_id"), [org_id.as_str()]);
    assert_eq!(ids(&deleted[0]["teams"], "team_id"), ["t1"]);
    assert_eq!(
        gw.get("/team/info?team_id=t1", Some(MASTER_KEY)).await.0,
        404
    );
    for key in [&org_key, &team_key] {
        let token = key["token"].as_str().unwrap();
        assert_eq!(
            gw.get(&format!("/key/info?key={token}"), Some(MASTER_KEY))
                .await
                .0,
            404
        );
    }
    assert_error(
        &gw.get(
            &format!("/organization/info?organization_id={org_id}"),
            Some(MASTER_KEY),
        )
        .await,
        404,
        "organization_id",
    );
    // And with POST.
    let deleted = admin_post(
        &gw,
        "/organization/delete",
        json!({"organization_ids": ["twin"]}),
    )
    .await;
    assert_eq!(ids(&deleted, "organization_id"), ["twin"]);
    assert_eq!(admin_get(&gw, "/organization/list").await, json!([]));
}

async fn users(db: TestDb) {
    let gw = TestGateway::start_with_db(&config(), db).await;
    admin_post(&gw, "/team/new", json!({"team_id": "t1"})).await;

    // New user with a key, joined to a team as admin.
    let created = admin_post(
        &gw,
        "/user/new",
        json!({"user_id": "dan", "user_email": "Dan@Example.com", "models": ["demo"],
               "max_budget": 3, "teams": [{"team_id": "t1", "user_role": "admin"}],
               "key_alias": "dan-key", "object_permission": {"mcp_servers": ["time"]}}),
    )
    .await;
    assert_eq!(created["user_id"], "dan");
    assert_eq!(created["user_role"], "internal_user");
    assert_eq!(created["teams"], json!(["t1"]));
    assert_eq!(created["key_alias"], "dan-key");
    assert_eq!(
        created["object_permission"],
        json!({"mcp_servers": ["time"]})
    );
    let dan_key = created["key"].as_str().unwrap().to_owned();
    assert!(dan_key.starts_with("sk-"));
    assert_eq!(gw.chat(&dan_key, &ask()).await.0, 200);
    let team = admin_get(&gw, "/team/info?team_id=t1").await;
    assert_eq!(
        team["team_info"]["members_with_roles"],
        json!([{"user_id": "dan", "user_email": "Dan@Example.com", "role": "admin"}])
    );

    // Without a key; duplicates answer 409 as in LiteLLM.
    let eve = admin_post(
        &gw,
        "/user/new",
        json!({"user_id": "eve", "auto_create_key": false, "user_role": "proxy_admin_viewer"}),
    )
    .await;
    assert_eq!(eve["key"], "");
    assert_error(
        &gw.post("/user/new", Some(MASTER_KEY), &json!({"user_id": "eve"}))
            .await,
        409,
        "user_id",
    );
    assert_error(
        &gw.post(
            "/user/new",
            Some(MASTER_KEY),
            &json!({"user_email": "dan@example.COM", "auto_create_key": false}),
        )
        .await,
        409,
        "user_email",
    );
    assert_error(
        &gw.post(
            "/user/new",
            Some(MASTER_KEY),
            &json!({"user_role": "emperor"}),
        )
        .await,
        400,
        "user_role",
    );
    assert_error(
        &gw.post("/user/new", Some(MASTER_KEY), &json!({"teams": ["ghost"]}))
            .await,
        400,
        "teams",
    );

    // Info: the master key, and the user's own key (also without ?user_id).
    let info = admin_get(&gw, "/user/info?user_id=dan").await;
    assert_eq!(info["user_info"]["max_budget"], 3.0);
    assert_eq!(info["keys"][0]["key_alias"], "dan-key");
    assert_eq!(ids(&info["teams"], "team_id"), ["t1"]);
    let (status, own) = gw.get("/user/info", Some(&dan_key)).await;
    assert_eq!((status, &own["user_id"]), (200, &json!("dan")));
    assert_eq!(
        gw.get("/user/info?user_id=eve", Some(&dan_key)).await.0,
        403
    );

    // Update by id and by email.
    let updated = admin_post(
        &gw,
        "/user/update",
        json!({"user_id": "eve", "user_email": "eve@example.com", "max_budget": 9,
               "object_permission": {"mcp_access_groups": ["dev"]}}),
    )
    .await;
    assert_eq!(updated["user_id"], "eve");
    assert_eq!(updated["data"]["user_email"], "eve@example.com");
    assert_eq!(
        updated["data"]["user_role"], "proxy_admin_viewer",
        "unchanged"
    );
    let by_email = admin_post(
        &gw,
        "/user/update",
        json!({"user_email": "EVE@example.com", "user_role": "internal_user",
               "object_permission": null}),
    )
    .await;
    assert_eq!(by_email["user_id"], "eve");
    assert_eq!(by_email["data"]["user_role"], "internal_user");
    assert_eq!(by_email["data"]["user_email"], "eve@example.com");
    assert_eq!(by_email["data"]["object_permission"], Value::Null);
    assert_eq!(by_email["data"]["max_budget"], 9.0);
    assert_error(
        &gw.post(
            "/user/update",
            Some(MASTER_KEY),
            &json!({"user_id": "eve", "user_email": "dan@example.com"}),
        )
        .await,
        409,
        "user_email",
    );
    assert_error(
        &gw.post("/user/update", Some(MASTER_KEY), &json!({"max_budget": 1}))
            .await,
        400,
        "user_id",
    );

    // List: newest first, paged, filtered.
    let listed = admin_get(&gw, "/user/list").await;
    assert_eq!(ids(&listed["users"], "user_id"), ["eve", "dan"]);
    assert_eq!(listed["total"], 2);
    assert_eq!(listed["users"][1]["key_count"], 1);
    let page = admin_get(&gw, "/user/list?page=2&page_size=1").await;
    assert_eq!(ids(&page["users"], "user_id"), ["dan"]);
    assert_eq!(
        (page["total_pages"].as_u64(), page["page"].as_u64()),
        (Some(2), Some(2))
    );
    let in_team = admin_get(&gw, "/user/list?team=t1").await;
    assert_eq!(ids(&in_team["users"], "user_id"), ["dan"]);
    assert_error(
        &gw.get("/user/list?page=0", Some(MASTER_KEY)).await,
        400,
        "page",
    );

    // Delete: keys go, the team forgets the member.
    assert_error(
        &gw.post(
            "/user/delete",
            Some(MASTER_KEY),
            &json!({"user_ids": ["dan", "ghost"]}),
        )
        .await,
        404,
        "user_id",
    );
    let deleted = admin_post(&gw, "/user/delete", json!({"user_ids": ["dan"]})).await;
    assert_eq!(deleted, json!({"deleted_users": ["dan"]}));
    assert_eq!(gw.chat(&dan_key, &ask()).await.0, 401);
    let team = admin_get(&gw, "/team/info?team_id=t1").await;
    assert_eq!(team["team_info"]["members_with_roles"], json!([]));
    assert_eq!(
        gw.get("/user/info?user_id=dan", Some(MASTER_KEY)).await.0,
        404
    );
}

#[tokio::test]
async fn teams_on_sqlite() {
    teams_members_and_keys(TestDb::sqlite()).await;
}

#[tokio::test]
async fn teams_on_postgres() {
    teams_members_and_keys(TestDb::postgres().await).await;
}

#[tokio::test]
async fn organizations_on_sqlite() {
    organizations(TestDb::sqlite()).await;
}

#[tokio::test]
async fn organizations_on_postgres() {
    organizations(TestDb::postgres().await).await;
}

#[tokio::test]
async fn users_on_sqlite() {
    users(TestDb::sqlite()).await;
}

#[tokio::test]
async fn users_on_postgres() {
    users(TestDb::postgres().await).await;
}

/// Key updates: `object_permission` merges field by field, `null` removes it; the team and
/// organisation must exist and agree.
#[tokio::test]
async fn key_permissions_update_like_litellm() {
    let gw = TestGateway::start(&config()).await;
    admin_post(
        &gw,
        "/organization/new",
        json!({"organization_id": "o1", "organization_alias": "O"}),
    )
    .await;
    admin_post(
        &gw,
        "/organization/new",
        json!({"organization_id": "o2", "organization_alias": "P"}),
    )
    .await;
    admin_post(
        &gw,
        "/team/new",
        json!({"team_id": "t1", "organization_id": "o1"}),
    )
    .await;
    let key = admin_post(
        &gw,
        "/key/generate",
        json!({"object_permission": {"mcp_servers": ["a"], "mcp_access_groups": ["g"]}}),
    )
    .await;
    let token = key["token"].as_str().unwrap();
    assert_eq!(key["organization_id"], Value::Null);

    let merged = admin_post(
        &gw,
        "/key/update",
        json!({"key": token, "object_permission": {"mcp_servers": ["b"],
               "mcp_tool_permissions": {"b": []}}}),
    )
    .await;
    assert_eq!(
        merged["object_permission"],
        json!({"mcp_servers": ["b"], "mcp_access_groups": ["g"],
               "mcp_tool_permissions": {"b": []}})
    );
    let unchanged = admin_post(
        &gw,
        "/key/update",
        json!({"key": token, "models": ["demo"]}),
    )
    .await;
    assert_eq!(unchanged["object_permission"], merged["object_permission"]);

    // Joining a team in an organisation moves the key into it.
    let joined = admin_post(&gw, "/key/update", json!({"key": token, "team_id": "t1"})).await;
    assert_eq!(
        (&joined["team_id"], &joined["organization_id"]),
        (&json!("t1"), &json!("o1"))
    );
    assert_error(
        &gw.post(
            "/key/update",
            Some(MASTER_KEY),
            &json!({"key": token, "organization_id": "o2"}),
        )
        .await,
        400,
        "organization_id",
    );
    assert_error(
        &gw.post(
            "/key/update",
            Some(MASTER_KEY),
            &json!({"key": token, "team_id": "ghost"}),
        )
        .await,
        400,
        "team_id",
    );
    assert_error(
        &gw.post(
            "/key/update",
            Some(MASTER_KEY),
            &json!({"key": token, "object_permission": ["a"]}),
        )
        .await,
        400,
        "object_permission",
    );
    let cleared = admin_post(
        &gw,
        "/key/update",
        json!({"key": token, "object_permission": null, "team_id": null,
               "organization_id": null}),
    )
    .await;
    assert_eq!(cleared["object_permission"], Value::Null);
    assert_eq!(
        (&cleared["team_id"], &cleared["organization_id"]),
        (&Value::Null, &Value::Null)
    );
    let listed = admin_get(&gw, "/key/list?return_full_object=true").await;
    assert_eq!(listed["keys"][0]["token"], token);
    assert_eq!(admin_get(&gw, "/key/list").await["keys"][0], token);
}

/// Every management route needs the master key: a virtual key gets 403, no key 401.
#[tokio::test]
async fn only_the_master_key_manages() {
    let gw = TestGateway::start(&config()).await;
    admin_post(&gw, "/team/new", json!({"team_id": "t1"})).await;
    admin_post(
        &gw,
        "/organization/new",
        json!({"organization_id": "o1", "organization_alias": "O"}),
    )
    .await;
    admin_post(
        &gw,
        "/user/new",
        json!({"user_id": "u1", "auto_create_key": false}),
    )
    .await;
    let key = gw
        .generate_key(&json!({"team_id": "t1", "user_id": "u1"}))
        .await;
    let routes: [(&str, &str, Value); 19] = [
        ("POST", "/team/new", json!({"team_id": "t2"})),
        (
            "POST",
            "/team/update",
            json!({"team_id": "t1", "blocked": true}),
        ),
        ("GET", "/team/list", json!({})),
        ("POST", "/team/delete", json!({"team_ids": ["t1"]})),
        (
            "POST",
            "/team/member_add",
            json!({"team_id": "t1", "member": {"role": "admin", "user_id": "x"}}),
        ),
        (
            "POST",
            "/team/member_delete",
            json!({"team_id": "t1", "user_id": "u1"}),
        ),
        (
            "POST",
            "/organization/new",
            json!({"organization_alias": "X"}),
        ),
        (
            "PATCH",
            "/organization/update",
            json!({"organization_id": "o1"}),
        ),
        ("GET", "/organization/info?organization_id=o1", json!({})),
        (
            "POST",
            "/organization/info",
            json!({"organizations": ["o1"]}),
        ),
        ("GET", "/organization/list", json!({})),
        (
            "DELETE",
            "/organization/delete",
            json!({"organization_ids": ["o1"]}),
        ),
        (
            "POST",
            "/organization/delete",
            json!({"organization_ids": ["o1"]}),
        ),
        ("POST", "/user/new", json!({"user_id": "u2"})),
        (
            "POST",
            "/user/update",
            json!({"user_id": "u1", "user_role": "proxy_admin"}),
        ),
        ("GET", "/user/list", json!({})),
        ("POST", "/user/delete", json!({"user_ids": ["u1"]})),
        ("GET", "/team/info?team_id=other", json!({})),
        ("GET", "/user/info?user_id=other", json!({})),
    ];
    for (method, path, body) in &routes {
        let (status, answer) = send(&gw, method, path, &key, body).await;
        assert_eq!(status, 403, "{method} {path}: {answer}");
        assert_eq!(answer["error"]["code"], "403");
        let resp = client()
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{}{path}", gw.url),
            )
            .json(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 401, "{method} {path} without a key");
    }
    // Nothing changed.
    let team = admin_get(&gw, "/team/info?team_id=t1").await;
    assert_eq!(team["team_info"]["blocked"], false);
    assert_eq!(
        admin_get(&gw, "/user/info?user_id=u1").await["user_info"]["user_role"],
        "internal_user"
    );
    assert_eq!(
        ids(
            &admin_get(&gw, "/organization/list").await,
            "organization_id"
        ),
        ["o1"]
    );
    // The key's own team and user are readable.
    assert_eq!(gw.get("/team/info?team_id=t1", Some(&key)).await.0, 200);
    assert_eq!(gw.get("/user/info?user_id=u1", Some(&key)).await.0, 200);
}

/// Malformed bodies answer 400 naming the field; unknown ids 404 naming the id.
#[tokio::test]
async fn bad_input_and_unknown_ids() {
    let gw = TestGateway::start(&config()).await;
    admin_post(&gw, "/team/new", json!({"team_id": "t1"})).await;
    let bad: [(&str, &str, Value, &str); 22] = [
        ("POST", "/team/new", json!({"models": "demo"}), "models"),
        ("POST", "/team/new", json!({"team_id": ""}), "team_id"),
        ("POST", "/team/new", json!({"max_budget": -1}), "max_budget"),
        (
            "POST",
            "/team/new",
            json!({"max_budget": "lots"}),
            "max_budget",
        ),
        ("POST", "/team/new", json!({"metadata": [1]}), "metadata"),
        (
            "POST",
            "/team/new",
            json!({"object_permission": {"mcp_servers": [1]}}),
            "object_permission",
        ),
        (
            "POST",
            "/team/new",
            json!({"members_with_roles": [{"role": "owner", "user_id": "x"}]}),
            "members_with_roles",
        ),
        (
            "POST",
            "/team/new",
            json!({"members_with_roles": [{"role": "user"}]}),
            "members_with_roles",
        ),
        ("POST", "/team/update", json!({"blocked": true}), "team_id"),
        (
            "POST",
            "/team/update",
            json!({"team_id": "t1", "blocked": "yes"}),
            "blocked",
        ),
        (
            "POST",
            "/team/update",
            json!({"team_id": "t1", "object_permission": "all"}),
            "object_permission",
        ),
        ("POST", "/team/delete", json!({"team_ids": []}), "team_ids"),
        (
            "POST",
            "/team/delete",
            json!({"team_ids": "t1"}),
            "team_ids",
        ),
        (
            "POST",
            "/team/member_add",
            json!({"team_id": "t1"}),
            "member",
        ),
        (
            "POST",
            "/team/member_add",
            json!({"team_id": "t1", "member": {"role": "boss", "user_id": "x"}}),
            "member",
        ),
        (
            "POST",
            "/team/member_add",
            json!({"member": {"role": "user", "user_id": "x"}}),
            "team_id",
        ),
        (
            "POST",
            "/team/member_delete",
            json!({"team_id": "t1"}),
            "user_id",
        ),
        (
            "POST",
            "/organization/new",
            json!({"organization_alias": ""}),
            "organization_alias",
        ),
        (
            "PATCH",
            "/organization/update",
            json!({"organization_alias": "x"}),
            "organization_id",
        ),
        (
            "POST",
            "/organization/info",
            json!({"organizations": []}),
            "organizations",
        ),
        (
            "DELETE",
            "/organization/delete",
            json!({}),
            "organization_ids",
        ),
        ("POST", "/user/delete", json!({"user_ids": [1]}), "user_ids"),
    ];
    for (method, path, body, param) in &bad {
        let answer = send(&gw, method, path, MASTER_KEY, body).await;
        assert_eq!(answer.0, 400, "{method} {path} {body}: {}", answer.1);
        assert_eq!(
            answer.1["error"]["param"], *param,
            "{method} {path} {body}: {}",
            answer.1
        );
        assert_eq!(answer.1["error"]["type"], "invalid_request_error");
    }
    // Not JSON, or not an object.
    let resp = client()
        .post(format!("{}/team/new", gw.url))
        .bearer_auth(MASTER_KEY)
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    assert_eq!(
        send(&gw, "POST", "/user/new", MASTER_KEY, &json!([1]))
            .await
            .0,
        400
    );
    assert_error(
        &gw.get("/team/info", Some(MASTER_KEY)).await,
        400,
        "team_id",
    );
    assert_error(
        &gw.get("/organization/info", Some(MASTER_KEY)).await,
        400,
        "organization_id",
    );
    assert_error(
        &gw.get("/user/info", Some(MASTER_KEY)).await,
        400,
        "user_id",
    );

    let unknown: [(&str, &str, Value, &str); 9] = [
        ("GET", "/team/info?team_id=ghost", json!({}), "team_id"),
        (
            "POST",
            "/team/update",
            json!({"team_id": "ghost"}),
            "team_id",
        ),
        (
            "POST",
            "/team/delete",
            json!({"team_ids": ["ghost"]}),
            "team_id",
        ),
        (
            "POST",
            "/team/member_add",
            json!({"team_id": "ghost", "member": {"role": "user", "user_id": "x"}}),
            "team_id",
        ),
        (
            "POST",
            "/team/member_delete",
            json!({"team_id": "ghost", "user_id": "x"}),
            "team_id",
        ),
        (
            "POST",
            "/organization/update",
            json!({"organization_id": "ghost"}),
            "organization_id",
        ),
        (
            "POST",
            "/organization/delete",
            json!({"organization_ids": ["ghost"]}),
            "organization_id",
        ),
        ("GET", "/user/info?user_id=ghost", json!({}), "user_id"),
        (
            "POST",
            "/user/update",
            json!({"user_id": "ghost", "max_budget": 1}),
            "user_id",
        ),
    ];
    for (method, path, body, param) in &unknown {
        let answer = send(&gw, method, path, MASTER_KEY, body).await;
        assert_error(&answer, 404, param);
    }
    assert_error(
        &send(
            &gw,
            "POST",
            "/user/delete",
            MASTER_KEY,
            &json!({"user_ids": ["ghost"]}),
        )
        .await,
        404,
        "user_id",
    );
    // A failed member_add on an unknown team created no user.
    assert_eq!(
        gw.get("/user/info?user_id=x", Some(MASTER_KEY)).await.0,
        404
    );
}
