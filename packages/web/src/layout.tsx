import { useState, type ReactNode } from 'react';
import { signOut } from './api/session.ts';
import { roleWords } from './components/roles.ts';
import { Link, useLocation } from './components/router.tsx';
import { useSession } from './components/session.tsx';
import { ErrorMessage } from './components/ui.tsx';
import { NAV } from './routes.tsx';

export function Layout({ children }: { children: ReactNode }) {
  const session = useSession();
  const { path } = useLocation();
  const [error, setError] = useState<unknown>();
  const links = NAV.filter((n) => !n.roles || session.has(...n.roles));
  const within = (to: string) => (to === '/' ? path === '/' : path === to || path.startsWith(`${to}/`));
  // One link is the current page: the one whose path is the longest prefix (/access/audit is "Access audit", not "Access" too).
  const currentTo = links.filter((n) => within(n.to)).reduce<string | undefined>((best, n) => (best === undefined || n.to.length > best.length ? n.to : best), undefined);
  const current = (to: string) => to === currentTo;
  const onSignOut = () => {
    signOut().then(
      (url) => location.assign(url),
      (err: unknown) => setError(err),
    );
  };
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <Link to="/" className="brand">
          EMS
        </Link>
        <nav aria-label="Main">
          <ul>
            {links.map((n) => (
              <li key={n.to}>
                <Link to={n.to} {...(current(n.to) ? { 'aria-current': 'page' as const } : {})}>
                  {n.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          <span>
            {session.name}
            <span className="muted"> · {session.roles.map(roleWords).join(', ') || 'no role'}</span>
          </span>
          <button type="button" className="secondary" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main">
        <ErrorMessage error={error} />
        {children}
      </main>
    </>
  );
}
