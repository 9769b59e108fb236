import { lazy, Suspense } from 'react';
import { Redirect, Route, Switch, useLocation } from 'wouter';
import { AuthProvider, useAuthApi } from './auth';
import { Layout } from '../components/Layout';
import { SignIn } from '../components/SignIn';
import { SessionsPage } from '../pages/Sessions';
import { Empty } from '../components/States';
import { ErrorBoundary } from '../components/ErrorBoundary';
import { ServerStatus } from '../components/ServerStatus';

// The first screen (sessions) ships in the entry chunk; detail, heartbeats, the ECharts
// dashboard, the review queue and Improve load on demand, which keeps the first-screen JavaScript small.
const SessionDetailPage = lazy(() => import('../pages/SessionDetail'));
const HeartbeatsPage = lazy(() => import('../pages/Heartbeats'));
const DashboardPage = lazy(() => import('../pages/Dashboard'));
const ReviewQueuePage = lazy(() => import('../pages/ReviewQueue'));
const ImprovePage = lazy(() => import('../pages/Improve'));
const AlertsPage = lazy(() => import('../pages/Alerts'));
const ToolsPage = lazy(() => import('../pages/Tools'));

function Routes() {
  const { state } = useAuthApi();
  const [location] = useLocation();
  if (state !== 'signed-in') return <SignIn />;
  return (
    <Layout>
      <ErrorBoundary resetKey={location}>
        <Suspense fallback={<div className="muted" aria-busy="true">Loading…</div>}>
          <Switch>
            <Route path="/">
              <Redirect to="/sessions" replace />
            </Route>
            <Route path="/sessions" component={SessionsPage} />
            <Route path="/sessions/:id">{(p) => <SessionDetailPage id={p.id} />}</Route>
            <Route path="/heartbeats" component={HeartbeatsPage} />
            <Route path="/dashboard" component={DashboardPage} />
            <Route path="/queue" component={ReviewQueuePage} />
            <Route path="/improve" component={ImprovePage} />
            <Route path="/alerts" component={AlertsPage} />
            <Route path="/tools" component={ToolsPage} />
            <Route>
              <Empty title="Page not found">
                <a href="/sessions">Go to sessions</a>
              </Empty>
            </Route>
          </Switch>
        </Suspense>
      </ErrorBoundary>
    </Layout>
  );
}

export function App() {
  return (
    <AuthProvider>
      <Routes />
      <ServerStatus />
    </AuthProvider>
  );
}
