// The sign-in page: the master key or a virtual key, checked by the gateway.
import { useState } from 'preact/hooks';
import { signIn, useSession } from '../session';
import { Field, Notice } from '../components/ui';

export function SignIn() {
  const { expired } = useSession();
  const [key, setKey] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await signIn(key.trim());
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="sign-in">
      <form onSubmit={submit} class="card">
        <h1>Junction</h1>
        <p class="muted">Sign in with the master key to manage the gateway, or with a virtual key to use its tools.</p>
        {expired && !error && <Notice kind="warn">Signed out: {expired}</Notice>}
        <Field label="API key" error={error}>
          {(id) => (
            <input
              id={id}
              name="key"
              type="password"
              autocomplete="current-password"
              placeholder="sk-…"
              required
              autofocus
              value={key}
              onInput={(e) => setKey(e.currentTarget.value)}
            />
          )}
        </Field>
        <button type="submit" class="primary" disabled={busy || !key.trim()}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
