import { createContext, useContext, type ReactNode } from 'react';
import type { SessionInfo } from '../api/session.ts';

/** The roles EMS knows (packages/contracts/src/policy.ts). */
export type Role = 'employee' | 'manager' | 'hr_partner' | 'hr_lead' | 'access_admin' | 'operator';

export interface Session {
  info: SessionInfo;
  /** The signed-in person's directory id (e.g. E1010). */
  personId: string;
  name: string;
  roles: readonly string[];
  has(...roles: Role[]): boolean;
}

const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ info, children }: { info: SessionInfo; children: ReactNode }) {
  const session: Session = {
    info,
    personId: info.person.id,
    name: info.person.name,
    roles: info.roles,
    has: (...roles) => roles.some((r) => info.roles.includes(r)),
  };
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}

/** The signed-in person (pages render only inside a session). */
export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside a session');
  return s;
}
