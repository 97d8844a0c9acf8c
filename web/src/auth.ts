// Who is signed in, and what their privileges allow: screens ask `can(...)`.
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Me, Privilege, Session } from './api';

export interface Auth {
  me: Me;
  session: Session;
  /** The tenant requests act in: the switcher's choice, else the home tenant. */
  tenant: string;
  can: (p: Privilege) => boolean;
}

export const AuthContext = createContext<Auth | null>(null);

export function useAuth(): Auth {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error('useAuth outside a signed-in console');
  return auth;
}

export const BASE = '/console';
