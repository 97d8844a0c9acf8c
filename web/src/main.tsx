// The console's entry: session bootstrap, layout (header, navigation, main) and routes.
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { render, type JSX } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { LocationProvider, Route, Router, useLocation } from 'preact-iso';
import { ApiError, all, me, onUnauthorized, selectedTenant, selectTenant, session, setCsrfToken, type Privilege, type Tenant } from './api';
import { AuthContext, BASE, useAuth, type Auth } from './auth';
import { ErrorAlert, Screen } from './ui';
import { SignIn } from './screens/sign-in';
import { Dashboard } from './screens/dashboard';
import { Search } from './screens/search';
import { Suppliers } from './screens/suppliers';
import { SupplierPage } from './screens/supplier';
import { SharedSuppliers } from './screens/shared-suppliers';
import { Tags } from './screens/tags';
import { Detections } from './screens/detections';
import { ApiClients } from './screens/api-clients';
import { Users } from './screens/users';
import { Roles } from './screens/roles';
import { SiemIntegrations } from './screens/siem';
import { AuditLog } from './screens/audit';
import { Tenants } from './screens/tenants';

const NAV: [string, string, Privilege | null][] = [
  ['Dashboard', '/', null],
  ['Search', '/search', 'search'],
  ['Suppliers', '/suppliers', 'suppliers.read'],
  ['Shared suppliers', '/shared-suppliers', 'suppliers.read'],
  ['Tags', '/tags', 'tags.read'],
  ['Detections', '/detections', 'detections.read'],
  ['API clients', '/api-clients', 'clients.manage'],
  ['Users', '/users', 'users.manage'],
  ['Roles', '/roles', 'roles.manage'],
  ['SIEM integrations', '/siem-integrations', 'siem.manage'],
  ['Audit log', '/audit-log', 'audit.read'],
  ['Tenants', '/tenants', 'tenants.manage'],
];

async function loadAuth(): Promise<Auth> {
  const s = await session.get();
  setCsrfToken(s.csrfToken);
  let m;
  try {
    m = await me();
  } catch (e) {
    // The tenant chosen earlier is gone (or no longer ours): act at home again.
    if (!(e instanceof ApiError) || e.status !== 404 || !selectedTenant()) throw e;
    selectTenant(null);
    m = await me();
  }
  const privileges = new Set(m.privileges);
  return { me: m, session: s, tenant: selectedTenant() ?? s.tenant, can: (p) => privileges.has(p) };
}

function TenantSwitcher({ auth, onChange }: { auth: Auth; onChange: () => void }) {
  const [tenants, setTenants] = useState<Tenant[]>([]);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    all<Tenant>('/tenants', { home: true }).then(setTenants, setError);
  }, []);
  const home = auth.session.tenant;
  return (
    <div class="tenant">
      <label for="tenant-switcher">Tenant</label>
      <select
        id="tenant-switcher"
        value={auth.tenant}
        onChange={(e) => {
          const v = e.currentTarget.value;
          selectTenant(v === home ? null : v);
          onChange();
        }}
      >
        <option value={home}>{home} (home)</option>
        {tenants
          .filter((t) => t.name !== home)
          .map((t) => (
            <option key={t.id} value={t.name}>
              {t.displayName && t.displayName !== t.name ? `${t.name} — ${t.displayName}` : t.name}
            </option>
          ))}
      </select>
      <ErrorAlert error={error} />
    </div>
  );
}

function NotFound() {
  return (
    <Screen title="Page not found">
      <p>
        There is no such page. <a href={`${BASE}/`}>Go to the dashboard</a>.
      </p>
    </Screen>
  );
}

/** A screen the principal's privileges allow, else a notice (and no request that would be refused). */
function guarded<P extends object>(privilege: Privilege, title: string, C: (p: P) => JSX.Element) {
  return function Guarded(props: P) {
    const { can } = useAuth();
    if (can(privilege)) return <C {...props} />;
    return (
      <Screen title={title}>
        <p>Your role does not give you access to this screen.</p>
      </Screen>
    );
  };
}
const Routes = {
  search: guarded('search', 'Search', Search),
  suppliers: guarded('suppliers.read', 'Suppliers', Suppliers),
  supplier: guarded('suppliers.read', 'Supplier', SupplierPage),
  shared: guarded('suppliers.read', 'Shared suppliers', SharedSuppliers),
  tags: guarded('tags.read', 'Tags', Tags),
  detections: guarded('detections.read', 'Detections', Detections),
  clients: guarded('clients.manage', 'API clients', ApiClients),
  users: guarded('users.manage', 'Users', Users),
  roles: guarded('roles.manage', 'Roles', Roles),
  siem: guarded('siem.manage', 'SIEM integrations', SiemIntegrations),
  audit: guarded('audit.read', 'Audit log', AuditLog),
  tenants: guarded('tenants.manage', 'Tenants', Tenants),
};

function Layout({ auth, onSignOut, onTenant }: { auth: Auth; onSignOut: () => void; onTenant: () => void }) {
  const { path } = useLocation();
  const current = path.replace(/\/+$/, '') || BASE;
  return (
    <>
      <header class="top">
        <a class="brand" href={`${BASE}/`}>
          Indicium
        </a>
        {auth.can('tenants.manage') && <TenantSwitcher auth={auth} onChange={onTenant} />}
        <span class="who">
          {auth.me.name} ({auth.me.role})
        </span>
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <nav aria-label="Main">
        <ul>
          {NAV.filter(([, , p]) => !p || auth.can(p)).map(([label, to]) => {
            const href = `${BASE}${to}`;
            const active = (href.replace(/\/+$/, '') || BASE) === current || (to !== '/' && current.startsWith(`${href}/`));
            return (
              <li key={to}>
                <a href={href} aria-current={active ? 'page' : undefined}>
                  {label}
                </a>
              </li>
            );
          })}
        </ul>
      </nav>
      <main id="main">
        <Router>
          <Route path={`${BASE}/`} component={Dashboard} />
          <Route path={BASE} component={Dashboard} />
          <Route path={`${BASE}/search`} component={Routes.search} />
          <Route path={`${BASE}/suppliers`} component={Routes.suppliers} />
          <Route path={`${BASE}/suppliers/:name`} component={Routes.supplier} />
          <Route path={`${BASE}/shared-suppliers`} component={Routes.shared} />
          <Route path={`${BASE}/tags`} component={Routes.tags} />
          <Route path={`${BASE}/detections`} component={Routes.detections} />
          <Route path={`${BASE}/api-clients`} component={Routes.clients} />
          <Route path={`${BASE}/users`} component={Routes.users} />
          <Route path={`${BASE}/roles`} component={Routes.roles} />
          <Route path={`${BASE}/siem-integrations`} component={Routes.siem} />
          <Route path={`${BASE}/audit-log`} component={Routes.audit} />
          <Route path={`${BASE}/tenants`} component={Routes.tenants} />
          <Route default component={NotFound} />
        </Router>
      </main>
    </>
  );
}

function App() {
  const [auth, setAuth] = useState<Auth | null | 'loading'>('loading');
  const [tenantKey, setTenantKey] = useState(0);
  const loc = useLocation();
  const onSignIn = loc.path.startsWith(`${BASE}/sign-in`);

  useEffect(() => {
    onUnauthorized(() => {
      setAuth(null);
      const here = location.pathname + location.search;
      if (!here.startsWith(`${BASE}/sign-in`)) loc.route(`${BASE}/sign-in?next=${encodeURIComponent(here)}`, true);
    });
    loadAuth().then(setAuth, () => setAuth(null));
  }, []);

  useEffect(() => {
    if (auth === null && !onSignIn) {
      const here = location.pathname + location.search;
      loc.route(`${BASE}/sign-in?next=${encodeURIComponent(here)}`, true);
    }
  }, [auth, onSignIn, loc]);

  const signedIn = async () => {
    const a = await loadAuth();
    setAuth(a);
    const next = loc.query.next;
    loc.route(next && next.startsWith(`${BASE}/`) && !next.startsWith(`${BASE}/sign-in`) ? next : `${BASE}/`, true);
  };
  const signOut = async () => {
    // The session ends on the server before the form shows: the old cookie is then worthless.
    await session.signOut().catch(() => undefined);
    selectTenant(null);
    setCsrfToken('');
    setAuth(null);
    loc.route(`${BASE}/sign-in`, true);
  };
  const switchTenant = () => {
    if (auth && auth !== 'loading') setAuth({ ...auth, tenant: selectedTenant() ?? auth.session.tenant });
    setTenantKey((k) => k + 1);
  };
  const value = useMemo(() => (auth && auth !== 'loading' ? auth : null), [auth]);

  if (auth === 'loading') return <p class="loading">Loading the console…</p>;
  if (!value || onSignIn)
    return (
      <main id="main" class="sign-in">
        <SignIn onSignedIn={signedIn} />
      </main>
    );
  return (
    <AuthContext.Provider value={value}>
      <Layout key={tenantKey} auth={value} onSignOut={() => void signOut()} onTenant={switchTenant} />
    </AuthContext.Provider>
  );
}

render(
  <LocationProvider scope={BASE}>
    <App />
  </LocationProvider>,
  document.getElementById('app') ?? document.body,
);
