//! Teams, organisations and users: who keys belong to, and the levels above a key that
//! carry budgets, model lists and MCP permissions (LiteLLM's `LiteLLM_TeamTable`,
//! `LiteLLM_OrganizationTable`, `LiteLLM_UserTable`).
//!
//! The three tables share one shape (an id, JSON columns, spend, timestamps), so they share
//! the statement builders and decoding helpers of `store.rs`; what differs is described by a
//! [`Table`]. The store checks values (ids not empty, finite amounts) and uniqueness, not
//! references: whether a team's organisation exists, or keeping a team's members and its
//! users' `teams` in step, is the caller's job, because it spans several rows that LiteLLM's
//! API changes one request at a time.

use serde_json::{Map, Value};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::store::{
    Bind, bind_all, check_finite, from_json, insert_sql, next_creation_micros, permission_from,
    permission_json, to_json, update_sql,
};
use crate::{
    NewOrganization, NewTeam, NewUser, OrganizationPatch, OrganizationRecord, Store, StoreError,
    TeamMember, TeamPatch, TeamRecord, UserPatch, UserRecord,
};

/// What differs between the three tables.
struct Table {
    name: &'static str,
    /// The primary key column, also the id's name in messages (`team_id`, …).
    id: &'static str,
    /// Columns selected for the record, read by its `*_from_row`.
    columns: &'static str,
    /// The unique column besides the id, named in a conflict message.
    unique: Option<&'static str>,
}

const TEAMS: Table = Table {
    name: "junction_teams",
    id: "team_id",
    columns: "team_id, team_alias, organization_id, models, max_budget, spend, \
        members_with_roles, metadata, CASE WHEN blocked THEN 1 ELSE 0 END AS blocked, \
        object_permission, created_at, updated_at",
    unique: Some("team_alias"),
};

const ORGANIZATIONS: Table = Table {
    name: "junction_organizations",
    id: "organization_id",
    columns: "organization_id, organization_alias, models, max_budget, spend, metadata, \
        object_permission, created_at, updated_at",
    unique: None,
};

const USERS: Table = Table {
    name: "junction_users",
    id: "user_id",
    columns: "user_id, user_email, user_role, teams, models, max_budget, spend, metadata, \
        object_permission, created_at, updated_at",
    unique: Some("user_email"),
};

impl Store {
    /// Inserts a team. [`StoreError::Conflict`] if its `team_id` or `team_alias` is taken,
    /// [`StoreError::Invalid`] if `team_id` is empty or `max_budget` is not finite.
    pub async fn insert_team(&self, team: &NewTeam) -> Result<TeamRecord, StoreError> {
        check_id(&TEAMS, &team.team_id)?;
        check_budget(team.max_budget)?;
        let values = vec![
            ("team_id", Bind::Text(team.team_id.clone())),
            ("team_alias", Bind::OptText(team.team_alias.clone())),
            (
                "organization_id",
                Bind::OptText(team.organization_id.clone()),
            ),
            ("models", Bind::Text(to_json("models", &team.models)?)),
            ("max_budget", Bind::opt_f64(team.max_budget)),
            ("spend", Bind::F64(0.0)),
            (
                "members_with_roles",
                Bind::Text(to_json("members_with_roles", &team.members_with_roles)?),
            ),
            ("metadata", Bind::Text(to_json("metadata", &team.metadata)?)),
            ("blocked", Bind::Bool(team.blocked)),
            (
                "object_permission",
                Bind::OptText(permission_json(team.object_permission.as_ref())?),
            ),
        ];
        let row = self
            .insert_row(&TEAMS, values, &team.team_id, team.team_alias.as_deref())
            .await?;
        team_from_row(&row)
    }

    /// The team `team_id`, if any.
    pub async fn team(&self, team_id: &str) -> Result<Option<TeamRecord>, StoreError> {
        let row = self.row_by_id(&TEAMS, team_id).await?;
        row.as_ref().map(team_from_row).transpose()
    }

    /// Every team, or those of one organisation, oldest first.
    pub async fn list_teams(
        &self,
        organization_id: Option<&str>,
    ) -> Result<Vec<TeamRecord>, StoreError> {
        let filter = organization_id.map(|org| ("organization_id", org));
        let rows = self.rows(&TEAMS, filter, "ASC").await?;
        rows.iter().map(team_from_row).collect()
    }

    /// Applies `patch` to the team and bumps `updated_at`. `None` if there is no such team,
    /// [`StoreError::Conflict`] if the new alias is taken.
    pub async fn update_team(
        &self,
        team_id: &str,
        patch: &TeamPatch,
    ) -> Result<Option<TeamRecord>, StoreError> {
        let mut sets = Sets::default();
        if let Some(alias) = &patch.team_alias {
            sets.push("team_alias", Bind::OptText(alias.clone()));
        }
        if let Some(organization) = &patch.organization_id {
            sets.push("organization_id", Bind::OptText(organization.clone()));
        }
        sets.common(
            patch.models.as_ref(),
            patch.max_budget,
            patch.spend,
            patch.metadata.as_ref(),
            patch.object_permission.as_ref(),
        )?;
        if let Some(members) = &patch.members_with_roles {
            sets.push(
                "members_with_roles",
                Bind::Text(to_json("members_with_roles", members)?),
            );
        }
        if let Some(blocked) = patch.blocked {
            sets.push("blocked", Bind::Bool(blocked));
        }
        let alias = patch.team_alias.clone().flatten();
        let row = self
            .update_row(&TEAMS, team_id, sets, alias.as_deref())
            .await?;
        row.as_ref().map(team_from_row).transpose()
    }

    /// Deletes the given teams in one transaction and returns the ids that existed (each
    /// once, in input order). Keys and users that name them are left to the caller.
    pub async fn delete_teams(&self, team_ids: &[String]) -> Result<Vec<String>, StoreError> {
        self.delete_rows(&TEAMS, team_ids).await
    }

    /// Inserts an organisation. [`StoreError::Conflict`] if its id is taken.
    pub async fn insert_organization(
        &self,
        org: &NewOrganization,
    ) -> Result<OrganizationRecord, StoreError> {
        check_id(&ORGANIZATIONS, &org.organization_id)?;
        check_budget(org.max_budget)?;
        let values = vec![
            ("organization_id", Bind::Text(org.organization_id.clone())),
            (
                "organization_alias",
                Bind::OptText(org.organization_alias.clone()),
            ),
            ("models", Bind::Text(to_json("models", &org.models)?)),
            ("max_budget", Bind::opt_f64(org.max_budget)),
            ("spend", Bind::F64(0.0)),
            ("metadata", Bind::Text(to_json("metadata", &org.metadata)?)),
            (
                "object_permission",
                Bind::OptText(permission_json(org.object_permission.as_ref())?),
            ),
        ];
        let row = self
            .insert_row(&ORGANIZATIONS, values, &org.organization_id, None)
            .await?;
        organization_from_row(&row)
    }

    /// The organisation `organization_id`, if any.
    pub async fn organization(
        &self,
        organization_id: &str,
    ) -> Result<Option<OrganizationRecord>, StoreError> {
        let row = self.row_by_id(&ORGANIZATIONS, organization_id).await?;
        row.as_ref().map(organization_from_row).transpose()
    }

    /// Every organisation, oldest first.
    pub async fn list_organizations(&self) -> Result<Vec<OrganizationRecord>, StoreError> {
        let rows = self.rows(&ORGANIZATIONS, None, "ASC").await?;
        rows.iter().map(organization_from_row).collect()
    }

    /// Applies `patch` to the organisation and bumps `updated_at`; `None` if there is none.
    pub async fn update_organization(
        &self,
        organization_id: &str,
        patch: &OrganizationPatch,
    ) -> Result<Option<OrganizationRecord>, StoreError> {
        let mut sets = Sets::default();
        if let Some(alias) = &patch.organization_alias {
            sets.push("organization_alias", Bind::OptText(alias.clone()));
        }
        sets.common(
            patch.models.as_ref(),
            patch.max_budget,
            patch.spend,
            patch.metadata.as_ref(),
            patch.object_permission.as_ref(),
        )?;
        let row = self
            .update_row(&ORGANIZATIONS, organization_id, sets, None)
            .await?;
        row.as_ref().map(organization_from_row).transpose()
    }

    /// Deletes the given organisations in one transaction and returns the ids that existed.
    /// Their teams and keys are left to the caller.
    pub async fn delete_organizations(
        &self,
        organization_ids: &[String],
    ) -> Result<Vec<String>, StoreError> {
        self.delete_rows(&ORGANIZATIONS, organization_ids).await
    }

    /// Inserts a user. [`StoreError::Conflict`] if its `user_id` is taken or its
    /// `user_email` is (whatever the case); [`StoreError::Invalid`] if `user_id` or
    /// `user_role` is empty.
    pub async fn insert_user(&self, user: &NewUser) -> Result<UserRecord, StoreError> {
        check_id(&USERS, &user.user_id)?;
        check_budget(user.max_budget)?;
        check_role(&user.user_role)?;
        let values = vec![
            ("user_id", Bind::Text(user.user_id.clone())),
            ("user_email", Bind::OptText(user.user_email.clone())),
            ("user_role", Bind::Text(user.user_role.clone())),
            ("teams", Bind::Text(to_json("teams", &user.teams)?)),
            ("models", Bind::Text(to_json("models", &user.models)?)),
            ("max_budget", Bind::opt_f64(user.max_budget)),
            ("spend", Bind::F64(0.0)),
            ("metadata", Bind::Text(to_json("metadata", &user.metadata)?)),
            (
                "object_permission",
                Bind::OptText(permission_json(user.object_permission.as_ref())?),
            ),
        ];
        let row = self
            .insert_row(&USERS, values, &user.user_id, user.user_email.as_deref())
            .await?;
        user_from_row(&row)
    }

    /// The user `user_id`, if any.
    pub async fn user(&self, user_id: &str) -> Result<Option<UserRecord>, StoreError> {
        let row = self.row_by_id(&USERS, user_id).await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// Every user, newest first (LiteLLM's `/user/list` order).
    pub async fn list_users(&self) -> Result<Vec<UserRecord>, StoreError> {
        let rows = self.rows(&USERS, None, "DESC").await?;
        rows.iter().map(user_from_row).collect()
    }

    /// Applies `patch` to the user and bumps `updated_at`. `None` if there is no such user,
    /// [`StoreError::Conflict`] if the new email is taken.
    pub async fn update_user(
        &self,
        user_id: &str,
        patch: &UserPatch,
    ) -> Result<Option<UserRecord>, StoreError> {
        let mut sets = Sets::default();
        if let Some(email) = &patch.user_email {
            sets.push("user_email", Bind::OptText(email.clone()));
        }
        if let Some(role) = &patch.user_role {
            check_role(role)?;
            sets.push("user_role", Bind::Text(role.clone()));
        }
        if let Some(teams) = &patch.teams {
            sets.push("teams", Bind::Text(to_json("teams", teams)?));
        }
        sets.common(
            patch.models.as_ref(),
            patch.max_budget,
            patch.spend,
            patch.metadata.as_ref(),
            patch.object_permission.as_ref(),
        )?;
        let email = patch.user_email.clone().flatten();
        let row = self
            .update_row(&USERS, user_id, sets, email.as_deref())
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// Deletes the given users in one transaction and returns the ids that existed. Their
    /// keys and team memberships are left to the caller.
    pub async fn delete_users(&self, user_ids: &[String]) -> Result<Vec<String>, StoreError> {
        self.delete_rows(&USERS, user_ids).await
    }

    async fn insert_row(
        &self,
        table: &Table,
        mut values: Vec<(&'static str, Bind)>,
        id: &str,
        unique_value: Option<&str>,
    ) -> Result<AnyRow, StoreError> {
        let micros = next_creation_micros();
        let now = micros.div_euclid(1_000_000);
        values.push(("created_at", Bind::I64(now)));
        values.push(("updated_at", Bind::I64(now)));
        values.push(("created_at_micros", Bind::I64(micros)));
        let (sql, binds) = insert_sql(table.name, values, table.columns);
        bind_all(sqlx::query(&sql), binds)
            .fetch_one(&self.pools.writer)
            .await
            .map_err(|e| conflict_or(e, table, Some(id), unique_value))
    }

    async fn row_by_id(&self, table: &Table, id: &str) -> Result<Option<AnyRow>, StoreError> {
        let sql = format!(
            "SELECT {} FROM {} WHERE {} = $1",
            table.columns, table.name, table.id
        );
        Ok(sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pools.reader)
            .await?)
    }

    /// All rows in creation order (`order` is `ASC` or `DESC`), optionally where one column
    /// equals a value.
    async fn rows(
        &self,
        table: &Table,
        filter: Option<(&str, &str)>,
        order: &str,
    ) -> Result<Vec<AnyRow>, StoreError> {
        let condition = filter.map_or(String::new(), |(column, _)| format!(" WHERE {column} = $1"));
        let sql = format!(
            "SELECT {} FROM {}{condition} ORDER BY created_at_micros {order}, {} ASC",
            table.columns, table.name, table.id
        );
        let mut query = sqlx::query(&sql);
        if let Some((_, value)) = filter {
            query = query.bind(value);
        }
        Ok(query.fetch_all(&self.pools.reader).await?)
    }

    async fn update_row(
        &self,
        table: &Table,
        id: &str,
        sets: Sets,
        unique_value: Option<&str>,
    ) -> Result<Option<AnyRow>, StoreError> {
        let (sql, binds) = update_sql(
            table.name,
            sets.columns,
            sets.binds,
            (table.id, id),
            table.columns,
        );
        bind_all(sqlx::query(&sql), binds)
            .fetch_optional(&self.pools.writer)
            .await
            .map_err(|e| conflict_or(e, table, None, unique_value))
    }

    async fn delete_rows(&self, table: &Table, ids: &[String]) -> Result<Vec<String>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!("DELETE FROM {} WHERE {} = $1", table.name, table.id);
        let mut tx = self.pools.writer.begin().await?;
        let mut deleted: Vec<String> = Vec::new();
        for id in ids {
            if deleted.contains(id) {
                continue;
            }
            let result = sqlx::query(&sql).bind(id).execute(&mut *tx).await?;
            if result.rows_affected() > 0 {
                deleted.push(id.clone());
            }
        }
        tx.commit().await?;
        Ok(deleted)
    }
}

/// The `SET` part of an update being built.
#[derive(Default)]
struct Sets {
    columns: Vec<&'static str>,
    binds: Vec<Bind>,
}

impl Sets {
    fn push(&mut self, column: &'static str, bind: Bind) {
        self.columns.push(column);
        self.binds.push(bind);
    }

    /// The columns every directory table has.
    fn common(
        &mut self,
        models: Option<&Vec<String>>,
        max_budget: Option<Option<f64>>,
        spend: Option<f64>,
        metadata: Option<&Map<String, Value>>,
        object_permission: Option<&Option<crate::ObjectPermission>>,
    ) -> Result<(), StoreError> {
        if let Some(models) = models {
            self.push("models", Bind::Text(to_json("models", models)?));
        }
        if let Some(budget) = max_budget {
            check_budget(budget)?;
            self.push("max_budget", Bind::opt_f64(budget));
        }
        if let Some(spend) = spend {
            check_finite("spend", spend)?;
            self.push("spend", Bind::F64(spend));
        }
        if let Some(metadata) = metadata {
            self.push("metadata", Bind::Text(to_json("metadata", metadata)?));
        }
        if let Some(permission) = object_permission {
            self.push(
                "object_permission",
                Bind::OptText(permission_json(permission.as_ref())?),
            );
        }
        Ok(())
    }
}

fn check_id(table: &Table, id: &str) -> Result<(), StoreError> {
    if id.trim().is_empty() {
        Err(StoreError::Invalid(format!(
            "{} must not be empty",
            table.id
        )))
    } else {
        Ok(())
    }
}

fn check_budget(budget: Option<f64>) -> Result<(), StoreError> {
    budget.map_or(Ok(()), |b| check_finite("max_budget", b))
}

fn check_role(role: &str) -> Result<(), StoreError> {
    if role.trim().is_empty() {
        Err(StoreError::Invalid("user_role must not be empty".into()))
    } else {
        Ok(())
    }
}

/// Maps a unique violation to [`StoreError::Conflict`] naming the id or the table's other
/// unique column (told apart by the constraint's name, which contains the column's).
fn conflict_or(
    err: sqlx::Error,
    table: &Table,
    id: Option<&str>,
    unique_value: Option<&str>,
) -> StoreError {
    if let sqlx::Error::Database(db) = &err
        && db.is_unique_violation()
    {
        let on_unique = table.unique.filter(|column| {
            db.constraint().is_some_and(|c| c.contains(column)) || db.message().contains(column)
        });
        return StoreError::Conflict(match (on_unique, unique_value, id) {
            (Some(column), Some(value), _) => format!("{column} {value:?} is already in use"),
            (Some(column), None, _) => format!("{column} is already in use"),
            (None, _, Some(id)) => format!("{} {id:?} already exists", table.id),
            (None, _, None) => format!("{} already exists", table.id),
        });
    }
    StoreError::Database(err)
}

/// Reads a JSON TEXT column of a directory row.
fn json_column<T: serde::de::DeserializeOwned>(
    row: &AnyRow,
    table: &Table,
    id: &str,
    column: &'static str,
    expected: &str,
) -> Result<T, StoreError> {
    let text: String = row.try_get(column)?;
    from_json(&text, expected).map_err(|reason| corrupt(table, id, column, reason))
}

fn permission_column(
    row: &AnyRow,
    table: &Table,
    id: &str,
) -> Result<Option<crate::ObjectPermission>, StoreError> {
    permission_from(row.try_get("object_permission")?)
        .map_err(|reason| corrupt(table, id, "object_permission", reason))
}

fn corrupt(table: &Table, id: &str, column: &'static str, reason: String) -> StoreError {
    StoreError::CorruptRecord {
        table: table.name,
        id: id.to_owned(),
        column,
        reason,
    }
}

const STRINGS: &str = "a JSON array of strings";
const OBJECT: &str = "a JSON object";

fn team_from_row(row: &AnyRow) -> Result<TeamRecord, StoreError> {
    let team_id: String = row.try_get("team_id")?;
    let t = &TEAMS;
    let members: Vec<TeamMember> = json_column(
        row,
        t,
        &team_id,
        "members_with_roles",
        "a JSON array of {user_id, user_email, role}",
    )?;
    let blocked: i64 = row.try_get("blocked")?;
    Ok(TeamRecord {
        team_alias: row.try_get("team_alias")?,
        organization_id: row.try_get("organization_id")?,
        models: json_column(row, t, &team_id, "models", STRINGS)?,
        max_budget: row.try_get("max_budget")?,
        spend: row.try_get("spend")?,
        members_with_roles: members,
        metadata: json_column(row, t, &team_id, "metadata", OBJECT)?,
        blocked: blocked != 0,
        object_permission: permission_column(row, t, &team_id)?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        team_id,
    })
}

fn organization_from_row(row: &AnyRow) -> Result<OrganizationRecord, StoreError> {
    let organization_id: String = row.try_get("organization_id")?;
    let t = &ORGANIZATIONS;
    Ok(OrganizationRecord {
        organization_alias: row.try_get("organization_alias")?,
        models: json_column(row, t, &organization_id, "models", STRINGS)?,
        max_budget: row.try_get("max_budget")?,
        spend: row.try_get("spend")?,
        metadata: json_column(row, t, &organization_id, "metadata", OBJECT)?,
        object_permission: permission_column(row, t, &organization_id)?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        organization_id,
    })
}

fn user_from_row(row: &AnyRow) -> Result<UserRecord, StoreError> {
    let user_id: String = row.try_get("user_id")?;
    let t = &USERS;
    Ok(UserRecord {
        user_email: row.try_get("user_email")?,
        user_role: row.try_get("user_role")?,
        teams: json_column(row, t, &user_id, "teams", STRINGS)?,
        models: json_column(row, t, &user_id, "models", STRINGS)?,
        max_budget: row.try_get("max_budget")?,
        spend: row.try_get("spend")?,
        metadata: json_column(row, t, &user_id, "metadata", OBJECT)?,
        object_permission: permission_column(row, t, &user_id)?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        user_id,
    })
}
