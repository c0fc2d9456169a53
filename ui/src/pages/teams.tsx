// The Teams page: list teams (`/team/list`), create and edit them with their models, MCP
// servers and access groups and budget (`/team/new`, `/team/update`), delete them
// (`/team/delete`, which also deletes their keys), and manage their members
// (`/team/member_add`, `/team/member_delete`). A team's MCP permission is what its keys
// inherit, and the ceiling of what they may narrow it to.
import { useState } from 'preact/hooks';
import { api } from '../api';
import type { Route } from '../router';
import {
  ActionButton,
  Badge,
  Empty,
  ErrorNote,
  Field,
  Loading,
  Modal,
  Notice,
  Page,
  Table,
  formatUsd,
  messageOf,
  useAsync,
} from '../components/ui';
import {
  BudgetField,
  type ObjectPermission,
  type Picks,
  ModelsSummary,
  PermissionSummary,
  Pickers,
  RecordList,
  budgetOf,
  fieldErrorOf,
  loadChoices,
  permissionOf,
  permissionPatch,
  picksOf,
} from './permissions_picker';

/** One entry of a team's `members_with_roles`. */
export interface Member {
  user_id?: string | null;
  user_email?: string | null;
  role: string;
}

/** A team as `/team/list` answers it (LiteLLM's `LiteLLM_TeamTable` plus its keys). */
export interface Team {
  team_id: string;
  team_alias: string | null;
  organization_id: string | null;
  models: string[];
  max_budget: number | null;
  spend: number;
  members_with_roles: Member[];
  blocked: boolean;
  object_permission: ObjectPermission | null;
  created_at: string;
  keys?: { token: string }[];
}

export function loadTeams(): Promise<Team[]> {
  return api<Team[]>('GET', '/team/list');
}

/** A team's name for people: its alias, else its id. */
export function teamName(team: Pick<Team, 'team_id' | 'team_alias'>): string {
  return team.team_alias || team.team_id;
}

export function Teams(_props: { route: Route }) {
  const teams = useAsync(loadTeams);
  const choices = useAsync(loadChoices);
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<Team>();
  const [membersOf, setMembersOf] = useState<string>();
  const [done, setDone] = useState<string>();
  const [failure, setFailure] = useState<string>();

  const remove = async (team: Team) => {
    const keys = team.keys?.length ?? 0;
    const also = keys ? ` Its ${keys} key${keys === 1 ? '' : 's'} will be deleted too and stop working at once.` : '';
    if (!window.confirm(`Delete team “${teamName(team)}”?${also}`)) return;
    setDone(undefined);
    setFailure(undefined);
    try {
      await api('POST', '/team/delete', { team_ids: [team.team_id] });
      setDone(`Deleted team “${teamName(team)}”.`);
      teams.reload();
    } catch (e) {
      setFailure(`Could not delete team “${teamName(team)}”: ${messageOf(e)}`);
    }
  };

  const list = teams.data ?? [];
  const shownMembers = list.find((t) => t.team_id === membersOf);

  return (
    <Page
      title="Teams"
      actions={
        <button type="button" class="primary" onClick={() => setCreating(true)}>
          Create team
        </button>
      }
    >
      {done && <Notice kind="success">{done}</Notice>}
      {failure && <ErrorNote error={failure} />}
      {teams.error && <ErrorNote error={teams.error} onRetry={teams.reload} />}
      {!teams.data && teams.loading && <Loading what="teams" />}
      {teams.data && list.length === 0 && (
        <Empty>
          No teams yet. A team groups keys: the models, MCP servers and budget you give the team apply to every key
          created in it, and its members are the users who work with those keys. Use “Create team” to add one.
        </Empty>
      )}
      {list.length > 0 && (
        <RecordList
          caption="Teams"
          titleLabel="Team"
          rows={list}
          rowKey={(team) => team.team_id}
          title={(team) => (
            <>
              <strong>{team.team_alias || <span class="muted">(no alias)</span>}</strong>
              {team.blocked && (
                <>
                  {' '}
                  <Badge kind="bad">Blocked</Badge>
                </>
              )}
              <div class="mono muted" style={{ wordBreak: 'break-all' }}>
                {team.team_id}
              </div>
            </>
          )}
          columns={[
            { label: 'Members', num: true, render: (team) => team.members_with_roles.length },
            {
              label: 'Keys',
              num: true,
              render: (team) =>
                team.keys?.length ? (
                  <a href={`#/keys?team=${encodeURIComponent(team.team_id)}`} aria-label={`${team.keys.length} key${team.keys.length === 1 ? '' : 's'} of ${teamName(team)}`}>
                    {team.keys.length}
                  </a>
                ) : (
                  0
                ),
            },
            { label: 'Models', render: (team) => <ModelsSummary models={team.models} /> },
            {
              label: 'MCP permissions',
              render: (team) => <PermissionSummary permission={team.object_permission} unset="Not set: keys use their own" />,
            },
            {
              label: 'Spend / budget',
              num: true,
              render: (team) => (
                <span style={{ whiteSpace: 'nowrap' }}>
                  {formatUsd(team.spend)} / {team.max_budget === null ? 'no limit' : formatUsd(team.max_budget)}
                </span>
              ),
            },
          ]}
          actions={(team) => (
            <>
              <button type="button" class="small" aria-label={`Members of ${teamName(team)}`} onClick={() => setMembersOf(team.team_id)}>
                Members
              </button>
              <button type="button" class="small" aria-label={`Edit ${teamName(team)}`} onClick={() => setEditing(team)}>
                Edit
              </button>
              <ActionButton class="small danger" aria-label={`Delete ${teamName(team)}`} busyLabel="Deleting…" onClick={() => remove(team)}>
                Delete
              </ActionButton>
            </>
          )}
        />
      )}

      <Modal title="Create team" open={creating} onClose={() => setCreating(false)} wide>
        <TeamForm
          choices={choices}
          onCancel={() => setCreating(false)}
          onSaved={(team) => {
            setCreating(false);
            setFailure(undefined);
            setDone(`Created team “${teamName(team)}”. Create keys in it on the Keys page.`);
            teams.reload();
          }}
        />
      </Modal>
      <Modal title={editing ? `Edit team ${teamName(editing)}` : 'Edit team'} open={Boolean(editing)} onClose={() => setEditing(undefined)} wide>
        {editing && (
          <TeamForm
            team={editing}
            choices={choices}
            onCancel={() => setEditing(undefined)}
            onSaved={(team) => {
              setEditing(undefined);
              setFailure(undefined);
              setDone(`Saved team “${teamName(team)}”.`);
              teams.reload();
            }}
          />
        )}
      </Modal>
      <Modal
        title={shownMembers ? `Members of ${teamName(shownMembers)}` : 'Members'}
        open={Boolean(membersOf)}
        onClose={() => setMembersOf(undefined)}
      >
        {shownMembers ? (
          <Members team={shownMembers} onChanged={teams.reload} />
        ) : (
          <p class="muted">This team no longer exists.</p>
        )}
      </Modal>
    </Page>
  );
}

const FIELDS = ['team_alias', 'models', 'max_budget', 'object_permission'];

/** Creates a team, or edits `team`. */
function TeamForm(props: {
  team?: Team;
  choices: Parameters<typeof Pickers>[0]['choices'];
  onCancel: () => void;
  onSaved: (team: Team) => void;
}) {
  const existing = props.team;
  const [alias, setAlias] = useState(existing?.team_alias ?? '');
  const [picks, setPicks] = useState<Picks>(() => picksOf(existing?.models ?? [], existing?.object_permission));
  const [budget, setBudget] = useState(existing?.max_budget === null || !existing ? '' : String(existing.max_budget));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    const maxBudget = budgetOf(budget);
    if (maxBudget === undefined) {
      setErrors({ max_budget: 'Enter an amount in US dollars, like 25 or 12.50, or leave it empty for no limit.' });
      return;
    }
    setErrors({});
    setError(undefined);
    setBusy(true);
    try {
      let team: Team;
      if (existing) {
        const answer = await api<{ data: Team }>('POST', '/team/update', {
          team_id: existing.team_id,
          team_alias: alias.trim() || null,
          models: picks.models,
          max_budget: maxBudget,
          object_permission: permissionPatch(picks),
        });
        team = answer.data;
      } else {
        const body: Record<string, unknown> = { models: picks.models };
        if (alias.trim()) body.team_alias = alias.trim();
        if (maxBudget !== null) body.max_budget = maxBudget;
        const permission = permissionOf(picks);
        if (permission) body.object_permission = permission;
        team = await api<Team>('POST', '/team/new', body);
      }
      props.onSaved(team);
    } catch (e) {
      const { field, message } = fieldErrorOf(e, FIELDS);
      if (field) setErrors({ [field]: message });
      else setError(message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={submit} noValidate>
      {error && <ErrorNote error={error} />}
      <Field label="Team alias" hint="A name people recognise, unique among teams." error={errors.team_alias}>
        {(id) => (
          <input id={id} value={alias} onInput={(e) => setAlias(e.currentTarget.value)} placeholder="e.g. data-science" autoComplete="off" />
        )}
      </Field>
      <Pickers
        choices={props.choices}
        picks={picks}
        onChange={setPicks}
        modelsHint="None checked: the team's keys may use every model."
        mcpHint="The team's keys reach the checked servers and every server of the checked groups; a key of the team may narrow that but never widen it. None checked: the team sets no MCP permission, and each of its keys reaches only the servers named on the key itself."
      />
      {errors.object_permission && <ErrorNote error={errors.object_permission} />}
      {errors.models && <ErrorNote error={errors.models} />}
      <BudgetField value={budget} onInput={setBudget} hint="Spend across all the team's keys; leave empty for no limit." error={errors.max_budget} />
      <div class="form-actions">
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Saving…' : existing ? 'Save team' : 'Create team'}
        </button>
      </div>
    </form>
  );
}

function memberName(m: Member): string {
  return m.user_id || m.user_email || '(unnamed)';
}

/** A team's members, with adding one by user id and removing one. */
function Members(props: { team: Team; onChanged: () => void }) {
  const { team } = props;
  const [userId, setUserId] = useState('');
  const [role, setRole] = useState('user');
  const [error, setError] = useState<string>();
  const [done, setDone] = useState<string>();
  const [adding, setAdding] = useState(false);

  const add = async () => {
    const id = userId.trim();
    if (!id) {
      setError('Enter the user id of the person to add.');
      return;
    }
    setError(undefined);
    setDone(undefined);
    setAdding(true);
    try {
      await api('POST', '/team/member_add', { team_id: team.team_id, member: { user_id: id, role } });
      setUserId('');
      setDone(`Added ${id}.`);
      props.onChanged();
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setAdding(false);
    }
  };

  const remove = async (m: Member) => {
    if (!window.confirm(`Remove ${memberName(m)} from team “${teamName(team)}”?`)) return;
    setError(undefined);
    setDone(undefined);
    try {
      const who = m.user_id ? { user_id: m.user_id } : { user_email: m.user_email };
      await api('POST', '/team/member_delete', { team_id: team.team_id, ...who });
      setDone(`Removed ${memberName(m)}.`);
      props.onChanged();
    } catch (e) {
      setError(messageOf(e));
    }
  };

  return (
    <div>
      {error && <ErrorNote error={error} />}
      {done && <Notice kind="success">{done}</Notice>}
      {team.members_with_roles.length === 0 ? (
        <Empty>No members yet. Members are users of the gateway; adding a user id that does not exist yet creates that user.</Empty>
      ) : (
        <Table caption={`Members of ${teamName(team)}`}>
          <thead>
            <tr>
              <th scope="col">User</th>
              <th scope="col">Role</th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {team.members_with_roles.map((m) => (
              <tr key={memberName(m)}>
                <td>
                  <span class="mono">{m.user_id ?? '—'}</span>
                  {m.user_email && <div class="muted">{m.user_email}</div>}
                </td>
                <td>{m.role}</td>
                <td>
                  <ActionButton class="small danger" aria-label={`Remove ${memberName(m)}`} busyLabel="Removing…" onClick={() => remove(m)}>
                    Remove
                  </ActionButton>
                </td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void add();
        }}
        style={{ marginTop: '1rem' }}
      >
        <h3>Add a member</h3>
        <Field label="User ID">
          {(id) => <input id={id} value={userId} onInput={(e) => setUserId(e.currentTarget.value)} autoComplete="off" />}
        </Field>
        <Field label="Role">
          {(id) => (
            <select id={id} value={role} onChange={(e) => setRole(e.currentTarget.value)}>
              <option value="user">user</option>
              <option value="admin">admin (manages the team)</option>
            </select>
          )}
        </Field>
        <div class="form-actions">
          <button type="submit" class="primary" disabled={adding}>
            {adding ? 'Adding…' : 'Add member'}
          </button>
        </div>
      </form>
    </div>
  );
}
