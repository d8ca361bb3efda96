import { useEffect, useState } from 'react';
import { onSessionEnded } from './api/client.ts';
import { readSession, signInUrl, type SessionInfo } from './api/session.ts';
import { roleWords } from './components/roles.ts';
import { Link, useLocation } from './components/router.tsx';
import { SessionProvider, useSession } from './components/session.tsx';
import { ErrorMessage, Loading, Page } from './components/ui.tsx';
import { Layout } from './layout.tsx';
import { findRoute } from './routes.tsx';

/** The app: the session first (signed out → the sign-in page), then the page the path names. */
export function App() {
  const [session, setSession] = useState<SessionInfo | null | undefined>(undefined);
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    readSession().then(setSession, setError);
    // The API said 401 mid-session (expired, signed out elsewhere): ask again, which shows sign-in.
    onSessionEnded(() => {
      readSession().then(setSession, setError);
    });
  }, []);
  if (error) {
    return (
      <main id="main" className="narrow">
        <h1>EMS</h1>
        <ErrorMessage error={error} />
      </main>
    );
  }
  if (session === undefined) return <Loading what="Opening EMS" />;
  if (session === null) return <SignIn />;
  return (
    <SessionProvider info={session}>
      <Layout>
        <CurrentPage />
      </Layout>
    </SessionProvider>
  );
}

function SignIn() {
  const { path, search } = useLocation();
  const returnTo = path + (search.size ? `?${search.toString()}` : '');
  return (
    <main id="main" className="narrow">
      <h1>EMS — Exit Management System</h1>
      <p>When someone leaves, EMS makes sure the right things happen, once: their manager is told, an exit interview is booked with their HR partner, and their critical access is suspended until the decision.</p>
      <p>
        <a className="button" href={signInUrl(returnTo)}>
          Sign in
        </a>
      </p>
      <p className="muted">
        The API: <a href="/docs">interactive docs</a> · <a href="/openapi.json">OpenAPI</a> · <a href="/asyncapi.json">AsyncAPI</a>
      </p>
    </main>
  );
}

function CurrentPage() {
  const { path } = useLocation();
  const session = useSession();
  const found = findRoute(path);
  if (!found) {
    return (
      <Page title="Page not found">
        <p>
          There is no page at <code>{path}</code>. <Link to="/">Go to your start page</Link>.
        </p>
      </Page>
    );
  }
  const { route, params } = found;
  if (route.roles && !session.has(...route.roles)) {
    return (
      <Page title="Not available to you">
        <p>
          This page is for {route.roles.map(roleWords).join(', ')}. You are signed in as {session.name} ({session.roles.map(roleWords).join(', ') || 'no role'}).
        </p>
        <p>
          <Link to="/">Go to your start page</Link>
        </p>
      </Page>
    );
  }
  const PageComponent = route.page;
  return <PageComponent key={path} params={params} />;
}
