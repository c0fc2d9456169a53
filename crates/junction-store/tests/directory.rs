//! Integration tests for teams, organisations, users and the keys' MCP permission columns,
//! each run once on a fresh SQLite file and once on a fresh Postgres database (see
//! `common`): round trips, patches that set, clear or leave each field, duplicates,
//! deletes, corrupt rows, and a database made by the earlier migrations upgrading in place.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::borrow::Cow;
use std::collections::BTreeMap;

use junction_store::{
    KeyPatch, NewKey, NewOrganization, NewTeam, NewUser, ObjectPermission, OrganizationPatch,
    Store, StoreError, TeamMember, TeamPatch, UserPatch, generate_key,
};
use serde_json::{Map, Value, json};
use sqlx::Row;

#[macro_use]
mod common;

use common::{Ctx, Kind, with_db};

both_backends!(
    team_round_trip_and_listing,
    team_patch_sets_clears_and_leaves,
    team_duplicates_conflict,
    delete_returns_only_existing_ids,
    organization_round_trip_and_patch,
    user_round_trip_patch_and_duplicates,
    key_permission_and_organization_round_trip,
    missing_rows_are_none,
    invalid_input_is_rejected,
    corrupt_rows_are_errors,
    previous_schema_upgrades_in_place,
);

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn object(value: Value) -> Map<String, Value> {
    value.as_object().unwrap().clone()
}

fn permission(servers: &[&str]) -> ObjectPermission {
    ObjectPermission {
        mcp_servers: Some(servers.iter().map(|s| (*s).to_owned()).collect()),
        mcp_access_groups: Some(vec!["dev".into()]),
        mcp_tool_permissions: Some(BTreeMap::from([(
            "github".to_owned(),
            vec!["list_issues".to_owned()],
        )])),
    }
}

fn member(user_id: &str, role: &str) -> TeamMember {
    TeamMember {
        user_id: Some(user_id.to_owned()),
        user_email: None,
        role: role.to_owned(),
    }
}

fn team(id: &str) -> NewTeam {
    NewTeam {
        team_id: id.to_owned(),
        team_alias: None,
        organization_id: None,
        models: Vec::new(),
        max_budget: None,
        members_with_roles: Vec::new(),
        metadata: Map::new(),
        blocked: false,
        object_permission: None,
    }
}

fn organization(id: &str) -> NewOrganization {
    NewOrganization {
        organization_id: id.to_owned(),
        organization_alias: Some("Acme".into()),
        models: Vec::new(),
        max_budget: None,
        metadata: Map::new(),
        object_permission: None,
    }
}

fn user(id: &str) -> NewUser {
    NewUser {
        user_id: id.to_owned(),
        user_email: None,
        user_role: "internal_user".into(),
        teams: Vec::new(),
        models: Vec::new(),
        max_budget: None,
        metadata: Map::new(),
        object_permission: None,
    }
}

fn key() -> NewKey {
    common::minimal_key(&generate_key())
}

fn invalid<T: std::fmt::Debug>(result: Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::Invalid(_)))
}

fn conflict_message(err: StoreError) -> String {
    match err {
        StoreError::Conflict(message) => message,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------
// Tests run on both backends
// ---------------------------------------------------------------------------

async fn team_round_trip_and_listing(ctx: Ctx) {
    let store = ctx.store().await;
    let full = NewTeam {
        team_id: "team-a".into(),
        team_alias: Some("Alpha".into()),
        organization_id: Some("org-1".into()),
        models: vec!["gpt-4o".into(), "claude".into()],
        max_budget: Some(12.5),
        members_with_roles: vec![
            member("u1", "admin"),
            TeamMember {
                user_id: None,
                user_email: Some("b@example.com".into()),
                role: "user".into(),
            },
        ],
        metadata: object(json!({"env": "prod", "nested": {"n": [1, null]}})),
        blocked: true,
        object_permission: Some(permission(&["github", "time"])),
    };
    let inserted = store.insert_team(&full).await.unwrap();
    assert_eq!(inserted.team_id, "team-a");
    assert_eq!(inserted.team_alias.as_deref(), Some("Alpha"));
    assert_eq!(inserted.organization_id.as_deref(), Some("org-1"));
    assert_eq!(inserted.models, full.models);
    assert_eq!(inserted.max_budget, Some(12.5));
    assert_eq!(inserted.spend, 0.0);
    assert_eq!(inserted.members_with_roles, full.members_with_roles);
    assert_eq!(inserted.metadata, full.metadata);
    assert!(inserted.blocked);
    assert_eq!(inserted.object_permission, full.object_permission);
    assert_eq!(inserted.created_at, inserted.updated_at);
    assert_eq!(store.team("team-a").await.unwrap().unwrap(), inserted);

    let plain = store.insert_team(&team("team-b")).await.unwrap();
    assert_eq!(plain.object_permission, None);
    assert!(!plain.blocked && plain.members_with_roles.is_empty());
    // Several teams without alias are allowed.
    store.insert_team(&team("team-c")).await.unwrap();

    let all: Vec<String> = store
        .list_teams(None)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.team_id)
        .collect();
    assert_eq!(all, ["team-a", "team-b", "team-c"], "oldest first");
    let in_org = store.list_teams(Some("org-1")).await.unwrap();
    assert_eq!(in_org, vec![inserted]);
    assert!(store.list_teams(Some("org-2")).await.unwrap().is_empty());
    store.close().await;
}

async fn team_patch_sets_clears_and_leaves(ctx: Ctx) {
    let store = ctx.store().await;
    let mut new = team("t");
    new.team_alias = Some("before".into());
    new.object_permission = Some(permission(&["a"]));
    new.organization_id = Some("org".into());
    let original = store.insert_team(&new).await.unwrap();

    // Nothing set: only updated_at may move.
    let same = store
        .update_team("t", &TeamPatch::default())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        same,
        junction_store::TeamRecord {
            updated_at: same.updated_at,
            ..original.clone()
        }
    );

    let set = TeamPatch {
        team_alias: Some(Some("after".into())),
        organization_id: Some(Some("org-2".into())),
        models: Some(vec!["m".into()]),
        max_budget: Some(Some(3.0)),
        spend: Some(1.5),
        members_with_roles: Some(vec![member("u9", "user")]),
        metadata: Some(object(json!({"k": "v"}))),
        blocked: Some(true),
        object_permission: Some(Some(ObjectPermission {
            mcp_servers: Some(Vec::new()),
            ..ObjectPermission::default()
        })),
    };
    let updated = store.update_team("t", &set).await.unwrap().unwrap();
    assert_eq!(updated.team_alias.as_deref(), Some("after"));
    assert_eq!(updated.organization_id.as_deref(), Some("org-2"));
    assert_eq!(updated.models, vec!["m".to_owned()]);
    assert_eq!(updated.max_budget, Some(3.0));
    assert_eq!(updated.spend, 1.5);
    assert_eq!(updated.members_with_roles, vec![member("u9", "user")]);
    assert_eq!(updated.metadata, object(json!({"k": "v"})));
    assert!(updated.blocked);
    // An empty server list ("nothing") stays distinct from no permission at all.
    assert_eq!(
        updated.object_permission.as_ref().unwrap().mcp_servers,
        Some(Vec::new())
    );
    assert_eq!(updated.created_at, original.created_at);
    assert_eq!(store.team("t").await.unwrap().unwrap(), updated);

    let clear = TeamPatch {
        team_alias: Some(None),
        organization_id: Some(None),
        max_budget: Some(None),
        object_permission: Some(None),
        ..TeamPatch::default()
    };
    let cleared = store.update_team("t", &clear).await.unwrap().unwrap();
    assert_eq!(cleared.team_alias, None);
    assert_eq!(cleared.organization_id, None);
    assert_eq!(cleared.max_budget, None);
    assert_eq!(cleared.object_permission, None);
    // Untouched fields kept.
    assert_eq!(cleared.models, updated.models);
    assert_eq!(cleared.members_with_roles, updated.members_with_roles);
    assert!(cleared.blocked);
    store.close().await;
}

async fn team_duplicates_conflict(ctx: Ctx) {
    let store = ctx.store().await;
    let mut first = team("dup");
    first.team_alias = Some("Shared".into());
    store.insert_team(&first).await.unwrap();

    let message = conflict_message(store.insert_team(&team("dup")).await.unwrap_err());
    assert!(
        message.contains("team_id") && message.contains("dup"),
        "{message}"
    );

    let mut other = team("other");
    other.team_alias = Some("Shared".into());
    let message = conflict_message(store.insert_team(&other).await.unwrap_err());
    assert!(
        message.contains("team_alias") && message.contains("Shared"),
        "{message}"
    );

    other.team_alias = Some("Mine".into());
    store.insert_team(&other).await.unwrap();
    let rename = TeamPatch {
        team_alias: Some(Some("Shared".into())),
        ..TeamPatch::default()
    };
    let message = conflict_message(store.update_team("other", &rename).await.unwrap_err());
    assert!(message.contains("team_alias"), "{message}");
    assert_eq!(
        store.team("other").await.unwrap().unwrap().team_alias,
        Some("Mine".into())
    );

    // Organisations: a second id conflicts, a second alias does not (as in LiteLLM).
    store.insert_organization(&organization("o")).await.unwrap();
    let message = conflict_message(
        store
            .insert_organization(&organization("o"))
            .await
            .unwrap_err(),
    );
    assert!(message.contains("organization_id"), "{message}");
    store
        .insert_organization(&organization("o2"))
        .await
        .unwrap();
    store.close().await;
}

async fn delete_returns_only_existing_ids(ctx: Ctx) {
    let store = ctx.store().await;
    for id in ["t1", "t2", "t3"] {
        store.insert_team(&team(id)).await.unwrap();
        store
            .insert_organization(&organization(&format!("o-{id}")))
            .await
            .unwrap();
        store.insert_user(&user(&format!("u-{id}"))).await.unwrap();
    }
    let ids = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();

    assert!(store.delete_teams(&[]).await.unwrap().is_empty());
    let deleted = store
        .delete_teams(&ids(&["t3", "absent", "t1", "t3"]))
        .await
        .unwrap();
    assert_eq!(deleted, ids(&["t3", "t1"]));
    let left: Vec<String> = store
        .list_teams(None)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.team_id)
        .collect();
    assert_eq!(left, ids(&["t2"]));

    let deleted = store
        .delete_organizations(&ids(&["o-t2", "nope"]))
        .await
        .unwrap();
    assert_eq!(deleted, ids(&["o-t2"]));
    assert_eq!(store.list_organizations().await.unwrap().len(), 2);
    assert!(store.organization("o-t2").await.unwrap().is_none());

    let deleted = store.delete_users(&ids(&["u-t1"])).await.unwrap();
    assert_eq!(deleted, ids(&["u-t1"]));
    assert!(store.user("u-t1").await.unwrap().is_none());
    assert!(
        store
            .delete_users(&ids(&["u-t1"]))
            .await
            .unwrap()
            .is_empty()
    );
    store.close().await;
}

async fn organization_round_trip_and_patch(ctx: Ctx) {
    let store = ctx.store().await;
    let full = NewOrganization {
        organization_id: "org-x".into(),
        organization_alias: Some("X Corp".into()),
        models: vec!["gpt-4o".into()],
        max_budget: Some(100.0),
        metadata: object(json!({"tier": 1})),
        object_permission: Some(permission(&["github"])),
    };
    let inserted = store.insert_organization(&full).await.unwrap();
    assert_eq!(inserted.organization_alias.as_deref(), Some("X Corp"));
    assert_eq!(inserted.models, full.models);
    assert_eq!(inserted.max_budget, Some(100.0));
    assert_eq!(inserted.spend, 0.0);
    assert_eq!(inserted.metadata, full.metadata);
    assert_eq!(inserted.object_permission, full.object_permission);
    assert_eq!(
        store.organization("org-x").await.unwrap().unwrap(),
        inserted
    );
    store
        .insert_organization(&organization("org-y"))
        .await
        .unwrap();
    let listed: Vec<String> = store
        .list_organizations()
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.organization_id)
        .collect();
    assert_eq!(listed, ["org-x", "org-y"]);

    let patch = OrganizationPatch {
        organization_alias: Some(Some("Renamed".into())),
        max_budget: Some(None),
        spend: Some(2.0),
        object_permission: Some(None),
        ..OrganizationPatch::default()
    };
    let updated = store
        .update_organization("org-x", &patch)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.organization_alias.as_deref(), Some("Renamed"));
    assert_eq!(updated.max_budget, None);
    assert_eq!(updated.spend, 2.0);
    assert_eq!(updated.object_permission, None);
    assert_eq!(updated.models, full.models, "left unchanged");
    assert_eq!(updated.metadata, full.metadata, "left unchanged");

    let patch = OrganizationPatch {
        models: Some(Vec::new()),
        metadata: Some(Map::new()),
        object_permission: Some(Some(permission(&["time"]))),
        ..OrganizationPatch::default()
    };
    let updated = store
        .update_organization("org-x", &patch)
        .await
        .unwrap()
        .unwrap();
    assert!(updated.models.is_empty() && updated.metadata.is_empty());
    assert_eq!(updated.object_permission, Some(permission(&["time"])));
    assert_eq!(updated.organization_alias.as_deref(), Some("Renamed"));
    store.close().await;
}

async fn user_round_trip_patch_and_duplicates(ctx: Ctx) {
    let store = ctx.store().await;
    let full = NewUser {
        user_id: "alice".into(),
        user_email: Some("Alice@Example.com".into()),
        user_role: "proxy_admin".into(),
        teams: vec!["t1".into(), "t2".into()],
        models: vec!["m".into()],
        max_budget: Some(5.0),
        metadata: object(json!({"dept": "eng"})),
        object_permission: Some(permission(&["github"])),
    };
    let inserted = store.insert_user(&full).await.unwrap();
    assert_eq!(inserted.user_email.as_deref(), Some("Alice@Example.com"));
    assert_eq!(inserted.user_role, "proxy_admin");
    assert_eq!(inserted.teams, full.teams);
    assert_eq!(inserted.models, full.models);
    assert_eq!(inserted.max_budget, Some(5.0));
    assert_eq!(inserted.spend, 0.0);
    assert_eq!(inserted.metadata, full.metadata);
    assert_eq!(inserted.object_permission, full.object_permission);
    assert_eq!(store.user("alice").await.unwrap().unwrap(), inserted);

    // Duplicate id, and the same email in another case.
    let message = conflict_message(store.insert_user(&user("alice")).await.unwrap_err());
    assert!(message.contains("user_id"), "{message}");
    let mut bob = user("bob");
    bob.user_email = Some("alice@example.COM".into());
    let message = conflict_message(store.insert_user(&bob).await.unwrap_err());
    assert!(message.contains("user_email"), "{message}");
    bob.user_email = None;
    store.insert_user(&bob).await.unwrap();
    store.insert_user(&user("carol")).await.unwrap();
    let take_email = UserPatch {
        user_email: Some(Some("ALICE@example.com".into())),
        ..UserPatch::default()
    };
    let message = conflict_message(store.update_user("bob", &take_email).await.unwrap_err());
    assert!(message.contains("user_email"), "{message}");

    let listed: Vec<String> = store
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.user_id)
        .collect();
    assert_eq!(listed, ["carol", "bob", "alice"], "newest first");

    let patch = UserPatch {
        user_email: Some(None),
        user_role: Some("internal_user_viewer".into()),
        teams: Some(vec!["t3".into()]),
        max_budget: Some(None),
        spend: Some(0.25),
        object_permission: Some(None),
        ..UserPatch::default()
    };
    let updated = store.update_user("alice", &patch).await.unwrap().unwrap();
    assert_eq!(updated.user_email, None);
    assert_eq!(updated.user_role, "internal_user_viewer");
    assert_eq!(updated.teams, vec!["t3".to_owned()]);
    assert_eq!(updated.max_budget, None);
    assert_eq!(updated.spend, 0.25);
    assert_eq!(updated.object_permission, None);
    assert_eq!(updated.models, full.models, "left unchanged");
    assert_eq!(updated.metadata, full.metadata, "left unchanged");
    // The freed email can be taken now.
    store
        .update_user("bob", &take_email)
        .await
        .unwrap()
        .unwrap();
    store.close().await;
}

async fn key_permission_and_organization_round_trip(ctx: Ctx) {
    let store = ctx.store().await;
    let mut new = key();
    new.object_permission = Some(permission(&["github"]));
    new.organization_id = Some("org-1".into());
    new.team_id = Some("team-1".into());
    let inserted = store.insert_key(&new).await.unwrap();
    assert_eq!(inserted.object_permission, new.object_permission);
    assert_eq!(inserted.organization_id.as_deref(), Some("org-1"));
    assert_eq!(
        store.key_by_hash(&new.token_hash).await.unwrap().unwrap(),
        inserted
    );

    // Unchanged when the patch does not name them.
    let other = KeyPatch {
        rpm_limit: Some(Some(3)),
        ..KeyPatch::default()
    };
    let kept = store
        .update_key(&new.token_hash, &other)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.object_permission, new.object_permission);
    assert_eq!(kept.organization_id.as_deref(), Some("org-1"));

    let set = KeyPatch {
        object_permission: Some(Some(ObjectPermission {
            mcp_servers: Some(vec!["time".into()]),
            ..ObjectPermission::default()
        })),
        organization_id: Some(Some("org-2".into())),
        ..KeyPatch::default()
    };
    let updated = store
        .update_key(&new.token_hash, &set)
        .await
        .unwrap()
        .unwrap();
    let stored = updated.object_permission.clone().unwrap();
    assert_eq!(stored.mcp_servers, Some(vec!["time".to_owned()]));
    assert_eq!(stored.mcp_access_groups, None);
    assert_eq!(updated.organization_id.as_deref(), Some("org-2"));

    let clear = KeyPatch {
        object_permission: Some(None),
        organization_id: Some(None),
        ..KeyPatch::default()
    };
    let cleared = store
        .update_key(&new.token_hash, &clear)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cleared.object_permission, None);
    assert_eq!(cleared.organization_id, None);
    assert_eq!(cleared.team_id.as_deref(), Some("team-1"));

    // A key without either reads back as None.
    let plain = store.insert_key(&key()).await.unwrap();
    assert_eq!(
        (plain.object_permission, plain.organization_id),
        (None, None)
    );
    store.close().await;
}

async fn missing_rows_are_none(ctx: Ctx) {
    let store = ctx.store().await;
    assert!(store.team("nope").await.unwrap().is_none());
    assert!(store.organization("nope").await.unwrap().is_none());
    assert!(store.user("nope").await.unwrap().is_none());
    let patch = TeamPatch {
        blocked: Some(true),
        ..TeamPatch::default()
    };
    assert!(store.update_team("nope", &patch).await.unwrap().is_none());
    assert!(
        store
            .update_organization("nope", &OrganizationPatch::default())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .update_user("nope", &UserPatch::default())
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.list_teams(None).await.unwrap().is_empty());
    assert!(store.list_organizations().await.unwrap().is_empty());
    assert!(store.list_users().await.unwrap().is_empty());
    store.close().await;
}

async fn invalid_input_is_rejected(ctx: Ctx) {
    let store = ctx.store().await;
    assert!(invalid(store.insert_team(&team(" ")).await));
    assert!(invalid(store.insert_organization(&organization("")).await));
    assert!(invalid(store.insert_user(&user("")).await));
    let mut no_role = user("r");
    no_role.user_role = String::new();
    assert!(invalid(store.insert_user(&no_role).await));
    let mut rich = team("rich");
    rich.max_budget = Some(f64::INFINITY);
    assert!(invalid(store.insert_team(&rich).await));

    store.insert_team(&team("ok")).await.unwrap();
    for patch in [
        TeamPatch {
            max_budget: Some(Some(f64::NAN)),
            ..TeamPatch::default()
        },
        TeamPatch {
            spend: Some(f64::NEG_INFINITY),
            ..TeamPatch::default()
        },
    ] {
        assert!(invalid(store.update_team("ok", &patch).await));
    }
    assert!(store.list_teams(None).await.unwrap().len() == 1);
    store.close().await;
}

async fn corrupt_rows_are_errors(ctx: Ctx) {
    let store = ctx.store().await;
    store.insert_team(&team("t")).await.unwrap();
    store.insert_user(&user("u")).await.unwrap();
    let mut k = key();
    k.object_permission = Some(ObjectPermission::default());
    store.insert_key(&k).await.unwrap();
    let raw = ctx.raw().await;

    for (column, bad) in [
        ("members_with_roles", "[{\"user_id\": \"x\"}]"),
        ("models", "{}"),
        ("object_permission", "not json"),
    ] {
        sqlx::query(&format!("UPDATE junction_teams SET {column} = $1"))
            .bind(bad)
            .execute(&raw)
            .await
            .unwrap();
        let err = store.team("t").await.unwrap_err();
        assert!(
            matches!(&err, StoreError::CorruptRecord { column: c, id, .. } if *c == column && id == "t"),
            "{column}={bad}: {err:?}"
        );
        assert!(store.list_teams(None).await.is_err());
        sqlx::query(
            "UPDATE junction_teams SET members_with_roles = '[]', models = '[]', \
             object_permission = NULL",
        )
        .execute(&raw)
        .await
        .unwrap();
    }
    store.team("t").await.unwrap().unwrap();

    sqlx::query("UPDATE junction_users SET teams = 'x'")
        .execute(&raw)
        .await
        .unwrap();
    assert!(matches!(
        store.user("u").await.unwrap_err(),
        StoreError::CorruptRecord {
            column: "teams",
            ..
        }
    ));

    sqlx::query("UPDATE junction_keys SET object_permission = '[1]'")
        .execute(&raw)
        .await
        .unwrap();
    assert!(matches!(
        store.key_by_hash(&k.token_hash).await.unwrap_err(),
        StoreError::Corrupt {
            column: "object_permission",
            ..
        }
    ));
    raw.close().await;
    store.close().await;
}

/// A database created and used before this migration existed: the new migration applies on
/// top, keeps the old keys (with no permission and no organisation) and the new tables work.
async fn previous_schema_upgrades_in_place(ctx: Ctx) {
    let raw = ctx.raw().await;
    let mut migrator = sqlx::migrate::Migrator::new(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/migrations"
    )))
    .await
    .unwrap();
    let before: Vec<_> = migrator
        .migrations
        .iter()
        .filter(|m| m.version < 20_261_122_000_000)
        .cloned()
        .collect();
    assert!(before.len() >= 2 && before.len() < migrator.migrations.len());
    migrator.migrations = Cow::Owned(before);
    migrator.run(&raw).await.unwrap();

    let old = key();
    sqlx::query(
        "INSERT INTO junction_keys (token_hash, key_name, key_alias, team_id, created_at, \
         updated_at) VALUES ($1, $2, 'legacy', 'team-old', 1, 1)",
    )
    .bind(&old.token_hash)
    .bind(&old.key_name)
    .execute(&raw)
    .await
    .unwrap();
    let tables_before: i64 = count_directory_tables(&raw, ctx.kind).await;
    assert_eq!(tables_before, 0);

    let store = Store::connect(&ctx.url).await.unwrap();
    let upgraded = store.key_by_hash(&old.token_hash).await.unwrap().unwrap();
    assert_eq!(upgraded.key_alias.as_deref(), Some("legacy"));
    assert_eq!(upgraded.team_id.as_deref(), Some("team-old"));
    assert_eq!(upgraded.object_permission, None);
    assert_eq!(upgraded.organization_id, None);
    assert_eq!(count_directory_tables(&raw, ctx.kind).await, 3);

    let patch = KeyPatch {
        object_permission: Some(Some(permission(&["github"]))),
        ..KeyPatch::default()
    };
    let updated = store
        .update_key(&old.token_hash, &patch)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.object_permission, Some(permission(&["github"])));
    store.insert_team(&team("team-old")).await.unwrap();
    assert!(store.team("team-old").await.unwrap().is_some());
    store.close().await;
    raw.close().await;
}

async fn count_directory_tables(raw: &sqlx::AnyPool, kind: Kind) -> i64 {
    let sql = match kind {
        Kind::Sqlite => {
            "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name IN \
             ('junction_teams', 'junction_organizations', 'junction_users')"
        }
        Kind::Postgres => {
            "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_name IN \
             ('junction_teams', 'junction_organizations', 'junction_users')"
        }
    };
    sqlx::query(sql)
        .fetch_one(raw)
        .await
        .unwrap()
        .try_get("n")
        .unwrap()
}
