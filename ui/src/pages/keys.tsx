// The Keys page: list virtual keys (`/key/list?return_full_object=true`), create one with its
// team, models, MCP servers and access groups, budget and expiry (`/key/generate`, whose raw
// key is shown here once and never again), edit, block and revoke keys (`/key/update`,
// `/key/delete`). `#/keys?team=<id>` shows only that team's keys and creates keys in it.
import { useState } from 'preact/hooks';
import { api } from '../api';
import type { Route } from '../router';
import {
  ActionButton,
  Badge,
  CopyButton,
  Empty,
  ErrorNote,
  Field,
  Loading,
  Modal,
  Notice,
  Page,
  formatTime,
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
  jsonObjectOf,
  loadChoices,
  permissionOf,
  permissionPatch,
  picksOf,
} from './permissions_picker';
import { type Team, loadTeams, teamName } from './teams';

/** A key as `/key/list?return_full_object=true` answers it (never the raw key). */
interface Key {
  /** SHA-256 of the raw key: how the API names a key after it was created. */
  token: string;
  /** `sk-...abcd`. */
  key_name: string;
  key_alias: string | null;
  models: string[];
  metadata: Record<string, unknown>;
  max_budget: number | null;
  spend: number;
  team_id: string | null;
  user_id: string | null;
  blocked: boolean;
  object_permission: ObjectPermission | null;
  /** ISO 8601, or `null` for never. */
  expires: string | null;
  created_at: string;
}

/** `/key/generate`'s answer: the key object plus, this once, the raw key. */
interface Generated extends Key {
  key: string;
}

/** The select value that filters for keys without a team (a team id is never empty). */
const NO_TEAM = '';

function keyName(key: Key): string {
  return key.key_alias || key.key_name;
}

function isExpired(key: Key): boolean {
  return key.expires !== null && new Date(key.expires).getTime() < Date.now();
}

function showTeam(query: string | null) {
  location.hash = query === null ? '#/keys' : `#/keys?team=${encodeURIComponent(query)}`;
}

export function Keys(props: { route: Route }) {
  const keys = useAsync(() => api<{ keys: Key[] }>('GET', '/key/list?return_full_object=true'));
  const teams = useAsync(loadTeams);
  const choices = useAsync(loadChoices);
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<Key>();
  const [done, setDone] = useState<string>();
  const [failure, setFailure] = useState<string>();

  const teamFilter = props.route.query.get('team');
  const teamList = teams.data ?? [];
  const teamById = new Map(teamList.map((t) => [t.team_id, t]));
  const all = keys.data?.keys ?? [];
  const shown = teamFilter === null ? all : all.filter((k) => (k.team_id ?? NO_TEAM) === teamFilter);

  const act = async (what: string, run: () => Promise<unknown>) => {
    setDone(undefined);
    setFailure(undefined);
    try {
      await run();
      setDone(what);
      keys.reload();
    } catch (e) {
      setFailure(messageOf(e));
    }
  };

  const revoke = (key: Key) => {
    if (!window.confirm(`Revoke key “${keyName(key)}” (${key.key_name})? Anything using it stops working at once.`)) {
      return Promise.resolve();
    }
    return act(`Revoked key “${keyName(key)}”.`, () => api('POST', '/key/delete', { keys: [key.token] }));
  };

  const block = (key: Key) =>
    act(key.blocked ? `Unblocked key “${keyName(key)}”.` : `Blocked key “${keyName(key)}”.`, () =>
      api('POST', '/key/update', { key: key.token, blocked: !key.blocked }),
    );

  return (
    <Page
      title="Keys"
      actions={
        <button type="button" class="primary" onClick={() => setCreating(true)}>
          Create key
        </button>
      }
    >
      {done && <Notice kind="success">{done}</Notice>}
      {failure && <ErrorNote error={failure} />}
      {keys.error && <ErrorNote error={keys.error} onRetry={keys.reload} />}
      {teams.error && <ErrorNote error={`Could not load the teams: ${teams.error.message}`} onRetry={teams.reload} />}

      {all.length > 0 && (
        <div class="row" style={{ marginBottom: '0.75rem' }}>
          <label for="keys-team-filter" style={{ fontWeight: 600, fontSize: '0.9rem' }}>
            Show keys of
          </label>
          <select
            id="keys-team-filter"
            style={{ width: 'auto', maxWidth: '100%' }}
            value={teamFilter === null ? '*' : teamFilter}
            onChange={(e) => showTeam(e.currentTarget.value === '*' ? null : e.currentTarget.value)}
          >
            <option value="*">All teams</option>
            <option value={NO_TEAM}>No team</option>
            {teamList.map((t) => (
              <option key={t.team_id} value={t.team_id}>
                {teamName(t)}
              </option>
            ))}
            {teamFilter && !teamById.has(teamFilter) && <option value={teamFilter}>{teamFilter}</option>}
          </select>
          <span class="muted" aria-live="polite">
            {shown.length} of {all.length}
          </span>
        </div>
      )}

      {!keys.data && keys.loading && <Loading what="keys" />}
      {keys.data && all.length === 0 && (
        <Empty>
          No keys yet. A virtual key is what an application or person sends as its API key (
          <code>Authorization: Bearer sk-…</code>) instead of the master key: each key can be limited to some models
          and MCP servers, given a budget and an expiry, put in a team, and revoked on its own. Use “Create key” to make
          one.
        </Empty>
      )}
      {keys.data && all.length > 0 && shown.length === 0 && (
        <Empty>
          No keys {teamFilter ? 'in this team' : 'without a team'}.{' '}
          <button type="button" class="link" onClick={() => showTeam(null)}>
            Show all keys
          </button>
        </Empty>
      )}
      {shown.length > 0 && (
        <RecordList
          caption="Keys"
          titleLabel="Key"
          rows={shown}
          rowKey={(key) => key.token}
          title={(key) => (
            <>
              <strong>{key.key_alias || <span class="muted">(no alias)</span>}</strong>{' '}
              {key.blocked ? (
                <Badge kind="bad">Blocked</Badge>
              ) : isExpired(key) ? (
                <Badge kind="warn">Expired</Badge>
              ) : (
                <Badge kind="ok">Active</Badge>
              )}
              <div class="mono muted">{key.key_name}</div>
            </>
          )}
          columns={[
            {
              label: 'Team',
              render: (key) => {
                if (!key.team_id) return <span class="muted">—</span>;
                const team = teamById.get(key.team_id);
                return team ? (
                  teamName(team)
                ) : (
                  <span class="mono" title="This team no longer exists">
                    {key.team_id}
                  </span>
                );
              },
            },
            { label: 'Models', render: (key) => <ModelsSummary models={key.models} /> },
            {
              label: 'MCP permissions',
              render: (key) => (
                <PermissionSummary permission={key.object_permission} unset={key.team_id ? 'Not set: the team’s apply' : 'None'} />
              ),
            },
            {
              label: 'Spend / budget',
              num: true,
              render: (key) => (
                <span style={{ whiteSpace: 'nowrap' }}>
                  {formatUsd(key.spend)} / {key.max_budget === null ? 'no limit' : formatUsd(key.max_budget)}
                </span>
              ),
            },
            {
              label: 'Expires',
              render: (key) => (key.expires === null ? <span class="muted">Never</span> : formatTime(key.expires)),
            },
            { label: 'Created', render: (key) => formatTime(key.created_at) },
          ]}
          actions={(key) => (
            <>
              <button type="button" class="small" aria-label={`Edit ${keyName(key)}`} onClick={() => setEditing(key)}>
                Edit
              </button>
              <ActionButton class="small" aria-label={`${key.blocked ? 'Unblock' : 'Block'} ${keyName(key)}`} onClick={() => block(key)}>
                {key.blocked ? 'Unblock' : 'Block'}
              </ActionButton>
              <ActionButton class="small danger" aria-label={`Revoke ${keyName(key)}`} busyLabel="Revoking…" onClick={() => revoke(key)}>
                Revoke
              </ActionButton>
            </>
          )}
        />
      )}

      <Modal title="Create key" open={creating} onClose={() => setCreating(false)} wide>
        <KeyForm
          teams={teamList}
          initialTeam={teamFilter ?? NO_TEAM}
          choices={choices}
          onCancel={() => setCreating(false)}
          onSaved={() => {
            setDone(undefined);
            setFailure(undefined);
            keys.reload();
            teams.reload();
          }}
        />
      </Modal>
      <Modal title={editing ? `Edit key ${keyName(editing)}` : 'Edit key'} open={Boolean(editing)} onClose={() => setEditing(undefined)} wide>
        {editing && (
          <KeyForm
            existing={editing}
            teams={teamList}
            initialTeam={editing.team_id ?? NO_TEAM}
            choices={choices}
            onCancel={() => setEditing(undefined)}
            onSaved={() => {
              setEditing(undefined);
              setFailure(undefined);
              setDone(`Saved key “${keyName(editing)}”.`);
              keys.reload();
            }}
          />
        )}
      </Modal>
    </Page>
  );
}

const FIELDS = ['key_alias', 'team_id', 'models', 'max_budget', 'duration', 'metadata', 'object_permission'];

/**
 * Creates a key (then shows its raw key, once) or edits `existing`. The raw key lives only in
 * this component's state, so closing the dialog, which unmounts it, drops the key.
 */
function KeyForm(props: {
  existing?: Key;
  teams: Team[];
  initialTeam: string;
  choices: Parameters<typeof Pickers>[0]['choices'];
  onCancel: () => void;
  onSaved: () => void;
}) {
  const existing = props.existing;
  const [alias, setAlias] = useState(existing?.key_alias ?? '');
  const [team, setTeam] = useState(props.initialTeam);
  const [picks, setPicks] = useState<Picks>(() => picksOf(existing?.models ?? [], existing?.object_permission));
  const [budget, setBudget] = useState(existing?.max_budget == null ? '' : String(existing.max_budget));
  const [duration, setDuration] = useState('');
  const [metadata, setMetadata] = useState(
    existing && Object.keys(existing.metadata).length ? JSON.stringify(existing.metadata, null, 2) : '',
  );
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<Generated>();

  if (created) {
    return (
      <div>
        <Notice kind="success">Key “{keyName(created)}” created.</Notice>
        <div class="card" style={{ borderWidth: '2px', borderColor: 'var(--accent)', margin: '0.75rem 0' }}>
          <h3 style={{ marginTop: 0 }}>Your new key</h3>
          <div class="row" style={{ alignItems: 'stretch' }}>
            <code
              data-testid="new-key"
              tabIndex={0}
              aria-label="New key"
              style={{
                flex: '1 1 16rem',
                padding: '0.5rem 0.6rem',
                background: 'var(--code-bg)',
                border: '1px solid var(--border)',
                borderRadius: 'var(--radius)',
                wordBreak: 'break-all',
                fontSize: '1rem',
                userSelect: 'all',
              }}
            >
              {created.key}
            </code>
            <CopyButton text={created.key} label="Copy key" class="primary" />
          </div>
          <Notice kind="warn">
            Copy this key now and keep it somewhere safe: it will not be shown again. The gateway stores only its hash;
            if it is lost, revoke it and create another.
          </Notice>
        </div>
        <div class="form-actions">
          <button type="button" onClick={props.onCancel}>
            Done
          </button>
        </div>
      </div>
    );
  }

  const submit = async (e: Event) => {
    e.preventDefault();
    const maxBudget = budgetOf(budget);
    const meta = jsonObjectOf(metadata);
    const invalid: Record<string, string> = {};
    if (maxBudget === undefined) invalid.max_budget = 'Enter an amount in US dollars, like 25 or 12.50, or leave it empty for no limit.';
    if (typeof meta === 'string') invalid.metadata = meta;
    setErrors(invalid);
    setError(undefined);
    if (Object.keys(invalid).length || maxBudget === undefined || typeof meta === 'string') return;
    setBusy(true);
    try {
      if (existing) {
        const body: Record<string, unknown> = {
          key: existing.token,
          key_alias: alias.trim() || null,
          models: picks.models,
          max_budget: maxBudget,
          metadata: meta,
          object_permission: permissionPatch(picks),
        };
        if (team !== (existing.team_id ?? NO_TEAM)) body.team_id = team || null;
        if (duration.trim()) body.duration = duration.trim();
        await api('POST', '/key/update', body);
        props.onSaved();
      } else {
        const body: Record<string, unknown> = {};
        if (alias.trim()) body.key_alias = alias.trim();
        if (team) body.team_id = team;
        if (picks.models.length) body.models = picks.models;
        const permission = permissionOf(picks);
        if (permission) body.object_permission = permission;
        if (maxBudget !== null) body.max_budget = maxBudget;
        if (duration.trim()) body.duration = duration.trim();
        if (Object.keys(meta).length) body.metadata = meta;
        setCreated(await api<Generated>('POST', '/key/generate', body));
        props.onSaved();
      }
    } catch (e) {
      const { field, message } = fieldErrorOf(e, FIELDS);
      if (field) setErrors({ [field]: message });
      else setError(message);
    } finally {
      setBusy(false);
    }
  };

  const chosenTeam = props.teams.find((t) => t.team_id === team);

  return (
    <form onSubmit={submit} noValidate>
      {error && <ErrorNote error={error} />}
      <Field label="Key alias" hint="A name to recognise the key by, unique among keys (optional)." error={errors.key_alias}>
        {(id) => (
          <input id={id} value={alias} onInput={(e) => setAlias(e.currentTarget.value)} placeholder="e.g. billing-service" autoComplete="off" />
        )}
      </Field>
      <Field
        label="Team"
        hint={
          chosenTeam
            ? 'The key can use only what the team allows: its models, MCP servers and budget also apply.'
            : 'Optional. A key in a team inherits its MCP servers and shares its budget.'
        }
        error={errors.team_id}
      >
        {(id) => (
          <select id={id} value={team} onChange={(e) => setTeam(e.currentTarget.value)}>
            <option value={NO_TEAM}>No team</option>
            {props.teams.map((t) => (
              <option key={t.team_id} value={t.team_id}>
                {teamName(t)}
              </option>
            ))}
            {team && !chosenTeam && <option value={team}>{team}</option>}
          </select>
        )}
      </Field>
      <Pickers
        choices={props.choices}
        picks={picks}
        onChange={setPicks}
        modelsHint="None checked: the key may use all models (of its team, if it has one)."
        mcpHint={
          <>
            The key reaches the checked servers and every server of the checked groups.{' '}
            {chosenTeam
              ? "With a team, only the servers both the key and the team allow. None checked: the key gets the team's MCP servers."
              : 'None checked: without a team, the key reaches no MCP server (except any server open to all keys).'}
          </>
        }
      />
      {errors.object_permission && <ErrorNote error={errors.object_permission} />}
      {errors.models && <ErrorNote error={errors.models} />}
      <div class="grid2" style={{ gap: '0 1rem', alignItems: 'start' }}>
        <BudgetField value={budget} onInput={setBudget} hint="Leave empty for no limit." error={errors.max_budget} />
        <Field
          label="Expires in"
          hint={
            existing
              ? `Now: ${existing.expires ? formatTime(existing.expires) : 'never'}. A duration sets a new expiry from now; leave empty to keep it.`
              : 'A duration such as 30d, 12h, 2w or 3mo; leave empty to never expire.'
          }
          error={errors.duration}
        >
          {(id) => (
            <input id={id} value={duration} onInput={(e) => setDuration(e.currentTarget.value)} placeholder="e.g. 30d" autoComplete="off" />
          )}
        </Field>
      </div>
      <details open={Boolean(errors.metadata)}>
        <summary>Metadata</summary>
        <Field label="Metadata (JSON)" hint="A JSON object stored with the key, e.g. who owns it." error={errors.metadata}>
          {(id) => (
            <textarea id={id} value={metadata} onInput={(e) => setMetadata(e.currentTarget.value)} placeholder={'{"owner": "alice"}'} spellcheck={false} />
          )}
        </Field>
      </details>
      <div class="form-actions">
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? (existing ? 'Saving…' : 'Generating…') : existing ? 'Save key' : 'Generate key'}
        </button>
      </div>
    </form>
  );
}
