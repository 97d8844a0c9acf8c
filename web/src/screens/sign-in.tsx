import { useState } from 'preact/hooks';
import { session } from '../api';
import { ErrorAlert, Screen, onSubmit, useAction } from '../ui';

export function SignIn({ onSignedIn }: { onSignedIn: () => Promise<void> }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const { error, busy, run } = useAction();
  const submit = onSubmit(() => {
    void run(async () => {
      await session.signIn(username, password);
      await onSignedIn();
    });
  });
  return (
    <Screen title="Sign in to Indicium">
      <form class="card narrow" onSubmit={submit}>
        <label for="username">Username</label>
        <input id="username" name="username" autoComplete="username" required value={username} onInput={(e) => setUsername(e.currentTarget.value)} />
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autoComplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        <ErrorAlert error={error} />
        <button type="submit" class="primary" disabled={busy}>
          Sign in
        </button>
      </form>
    </Screen>
  );
}
