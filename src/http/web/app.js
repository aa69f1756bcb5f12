// trailmint web view: plain browser JavaScript over the JSON API, no framework and no build step.
// Everything the API returns is rendered with textContent (never as HTML). With a bearer token
// configured on the server the page still loads; the first 401 shows the token field, and the
// token (kept in sessionStorage, so it ends with the tab) goes out on every API call.

const TOKEN_KEY = 'trailmint.apiToken';
const WINDOW_DAYS = 90;
const STATUS_REFRESH_MS = 10_000;
const DAY_MS = 86_400_000;
/** principals rendered at once; the filter narrows the rest */
const LIST_MAX = 500;
/** resources shown per action before "n more" */
const RESOURCES_SHOWN = 5;

const $ = (id) => document.getElementById(id);
const query = new URLSearchParams(location.search);
/** `?pageSize=` pages /v1/principals in smaller steps (1..1000; default 1000) */
const PAGE_SIZE = Math.min(
  1000,
  Math.max(1, Number.parseInt(query.get('pageSize') ?? '', 10) || 1000),
);

// ---- API ----------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const storedToken = () => sessionStorage.getItem(TOKEN_KEY) ?? '';

/** JSON from the API, or an ApiError carrying the API's `{error: {code, message}}`. */
async function api(path, { method = 'GET', body, signal } = {}) {
  const headers = { accept: 'application/json' };
  const token = storedToken();
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  let text;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      cache: 'no-store',
    });
    text = await res.text();
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(0, 'NETWORK', `no answer from the service (${err.message})`);
  }
  let data;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (res.ok && data !== undefined) return data;
  const e = data?.error;
  const err =
    typeof e?.code === 'string'
      ? new ApiError(res.status, e.code, String(e.message ?? ''))
      : new ApiError(res.status, `HTTP_${res.status}`, text.slice(0, 300) || res.statusText);
  if (res.status === 401) askForToken();
  throw err;
}

// ---- small DOM helpers --------------------------------------------------------------------

/** el('td', {className: 'num'}, 'text', childNode, …) */
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k.startsWith('data-') || k.startsWith('aria-') || k === 'role') node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const c of children.flat()) {
    if (c !== undefined && c !== null && c !== false) node.append(c);
  }
  return node;
}

function showError(box, err) {
  if (err?.name === 'AbortError') return;
  box.hidden = false;
  box.replaceChildren(
    el('strong', { className: 'code' }, err.code ?? 'ERROR'),
    ' ',
    el('span', {}, err.message),
  );
}

function clearError(box) {
  box.hidden = true;
  box.replaceChildren();
}

function announce(text) {
  $('announce').textContent = '';
  setTimeout(() => ($('announce').textContent = text), 50);
}

/** `2026-03-11T09:30:12.000Z` → `2026-03-11 09:30 UTC`; null → an em dash */
function fmtTime(iso) {
  if (!iso) return '—';
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

function fmtCount(n) {
  return Number(n).toLocaleString('en-US');
}

function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined) return 'no events yet';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
}

const isoDay = (ms) => new Date(ms).toISOString().slice(0, 10);
const dayMs = (iso) => Date.parse(`${iso}T00:00:00Z`);

/** `arn:aws:iam::111122223333:role/path/name` → {account, name: 'role/path/name'} */
function splitArn(arn) {
  const parts = arn.split(':');
  return { account: parts[4] ?? '', name: parts.slice(5).join(':') || arn };
}

async function copyText(text) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // fall through to the selection-based copy (plain http outside localhost)
  }
  const area = el('textarea', { className: 'offscreen', value: text, readOnly: true });
  document.body.append(area);
  area.select();
  try {
    return document.execCommand('copy');
  } catch {
    return false;
  } finally {
    area.remove();
  }
}

function copyButton(label, text) {
  const button = el('button', { type: 'button', className: 'copy' }, label);
  button.addEventListener('click', async () => {
    const ok = await copyText(text());
    button.textContent = ok ? 'Copied' : 'Copy failed: select the text';
    announce(ok ? 'Copied to the clipboard' : 'Copy failed');
    setTimeout(() => (button.textContent = label), 1500);
  });
  return button;
}

/** Policy documents, pretty-printed, each with its size and a copy button. */
function renderDocuments(container, docs, what) {
  container.replaceChildren(
    ...docs.map((doc, i) => {
      const json = JSON.stringify(doc, null, 2);
      const n = docs.length > 1 ? ` ${i + 1} of ${docs.length}` : '';
      const title = `${what}${n}`;
      return el(
        'figure',
        { className: 'doc' },
        el(
          'figcaption',
          {},
          el('span', {}, `${title} · ${fmtCount(JSON.stringify(doc).length)} characters`),
          copyButton(docs.length > 1 ? `Copy document ${i + 1}` : 'Copy', () => json),
        ),
        el('pre', { tabIndex: 0, 'aria-label': title, className: 'json' }, el('code', {}, json)),
      );
    }),
  );
}

// ---- token --------------------------------------------------------------------------------

function askForToken() {
  const form = $('auth');
  const wasHidden = form.hidden;
  form.hidden = false;
  $('auth-note').textContent = storedToken()
    ? 'The service refused this token; enter the current one.'
    : 'This service needs an API token (TRAILMINT_API_TOKEN).';
  if (wasHidden) $('token').focus();
}

function initToken() {
  const form = $('auth');
  if (storedToken()) {
    form.hidden = false;
    $('auth-note').textContent = 'Token set for this tab.';
  }
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const token = $('token').value.trim();
    if (!token) return;
    sessionStorage.setItem(TOKEN_KEY, token);
    $('token').value = '';
    $('auth-note').textContent = 'Token set for this tab.';
    reloadAll();
  });
  $('forget').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    $('auth-note').textContent = 'Token forgotten.';
    $('token').focus();
  });
}

// ---- status -------------------------------------------------------------------------------

let statusTimer;

async function loadStatus() {
  try {
    const s = await api('/v1/status');
    clearError($('status-error'));
    renderStatus(s);
  } catch (err) {
    showError($('status-error'), err);
  }
}

function renderStatus(s) {
  const figure = (label, value, title) =>
    el(
      'div',
      { className: 'figure' },
      el('dt', {}, label),
      el('dd', { title: title ?? '' }, value),
    );
  const o = s.objects ?? {};
  const r = s.records ?? {};
  $('status-figures').replaceChildren(
    figure('Objects ingested', fmtCount(o.ingested ?? 0)),
    figure('Objects failed', fmtCount(o.failed ?? 0)),
    figure('Objects skipped', fmtCount(o.skipped ?? 0)),
    figure(
      'Records',
      fmtCount(r.total ?? 0),
      `succeeded ${r.succeeded}, failed ${r.failed}, denied ${r.denied}, skipped ${r.skipped}, duplicate ${r.duplicate}`,
    ),
    figure('Denied records', fmtCount(r.denied ?? 0)),
    figure('Ingest lag', fmtDuration(s.ingestLagSeconds), 'now minus the newest event merged'),
    figure('Newest event', fmtTime(s.newestEventTime)),
    figure('Unmapped pairs', fmtCount(s.unmapped?.pairs ?? 0)),
    figure('Store', s.store ?? '—'),
  );
  const details = [];
  const top = s.unmapped?.top ?? [];
  if (top.length) {
    details.push(
      el(
        'details',
        {},
        el('summary', {}, `Unmapped event source/name pairs (${top.length} most frequent)`),
        el(
          'ul',
          { className: 'plain' },
          top.map((u) =>
            el('li', {}, el('code', {}, `${u.source} ${u.name}`), ` × ${fmtCount(u.count)}`),
          ),
        ),
      ),
    );
  }
  const failed = s.failedObjects ?? [];
  if (failed.length) {
    details.push(
      el(
        'details',
        {},
        el('summary', {}, `Failed objects (${failed.length} most recent)`),
        el(
          'ul',
          { className: 'plain' },
          failed.map((f) =>
            el(
              'li',
              {},
              el('code', {}, f.object),
              ` ${f.code}: ${f.message} (${f.action}, ${fmtTime(f.time)})`,
            ),
          ),
        ),
      ),
    );
  }
  $('status-details').replaceChildren(...details);
  $('status-updated').textContent = `Updated ${new Date().toISOString().slice(11, 19)} UTC`;
}

function startStatusRefresh() {
  clearInterval(statusTimer);
  statusTimer = setInterval(() => {
    if (!document.hidden) void loadStatus();
  }, STATUS_REFRESH_MS);
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) void loadStatus();
  });
}

// ---- principals ---------------------------------------------------------------------------

let principals = [];
let principalsGen = 0;
let selected;

async function loadPrincipals() {
  const gen = ++principalsGen;
  clearError($('principals-error'));
  $('principals-count').textContent = 'Loading…';
  const all = [];
  let nextToken;
  try {
    do {
      const q = new URLSearchParams({ limit: String(PAGE_SIZE) });
      if (nextToken) q.set('nextToken', nextToken);
      const page = await api(`/v1/principals?${q}`);
      if (gen !== principalsGen) return;
      all.push(...page.principals);
      nextToken = page.nextToken;
      principals = all.slice();
      renderPrincipals();
    } while (nextToken);
  } catch (err) {
    if (gen !== principalsGen) return;
    $('principals-count').textContent = '';
    showError($('principals-error'), err);
    return;
  }
  if (selected) updateActiveDays();
}

function visiblePrincipals() {
  const words = $('filter').value.toLowerCase().split(/\s+/).filter(Boolean);
  const list = principals.filter((p) => {
    const arn = p.principal.toLowerCase();
    return words.every((w) => arn.includes(w));
  });
  const sort = $('sort').value;
  if (sort === 'last')
    list.sort((a, b) => b.lastSeen.localeCompare(a.lastSeen) || cmp(a.principal, b.principal));
  else if (sort === 'actions')
    list.sort((a, b) => b.actions - a.actions || cmp(a.principal, b.principal));
  return list;
}

function cmp(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

function renderPrincipals() {
  const list = visiblePrincipals();
  const shown = list.slice(0, LIST_MAX);
  $('principals-count').textContent =
    list.length === principals.length
      ? `${fmtCount(principals.length)} principals`
      : `${fmtCount(list.length)} of ${fmtCount(principals.length)} principals`;
  if (shown.length < list.length)
    $('principals-count').textContent += ` (first ${LIST_MAX} shown: narrow the filter)`;
  $('principal-list').replaceChildren(
    ...shown.map((p) => {
      const { account, name } = splitArn(p.principal);
      const button = el(
        'button',
        { type: 'button', title: p.principal, 'data-arn': p.principal },
        el('span', { className: 'name' }, name),
        el(
          'span',
          { className: 'meta' },
          `${account} · last ${p.lastSeen} · ${fmtCount(p.actions)} action${p.actions === 1 ? '' : 's'}`,
        ),
      );
      if (p.principal === selected) button.setAttribute('aria-current', 'true');
      button.addEventListener('click', () => select(p.principal));
      return el('li', {}, button);
    }),
  );
}

/** Arrow keys, Home and End move between the principal buttons. */
function listKeys(ev) {
  const buttons = [...$('principal-list').querySelectorAll('button')];
  const i = buttons.indexOf(document.activeElement);
  if (i < 0) return;
  const to = { ArrowDown: i + 1, ArrowUp: i - 1, Home: 0, End: buttons.length - 1 }[ev.key];
  if (to === undefined) return;
  ev.preventDefault();
  buttons[Math.max(0, Math.min(buttons.length - 1, to))].focus();
}

// ---- the principal's view -----------------------------------------------------------------

let viewAbort;

function windowParams() {
  return { from: $('from').value, to: $('to').value };
}

function setLast90() {
  const today = isoDay(Date.now());
  $('from').value = isoDay(dayMs(today) - (WINDOW_DAYS - 1) * DAY_MS);
  $('to').value = today;
}

function updateActiveDays() {
  const p = principals.find((x) => x.principal === selected);
  const button = $('active-days');
  button.disabled = !p;
  button.textContent = p ? `Active days (${p.firstSeen} – ${p.lastSeen})` : 'Active days';
}

function writeHash() {
  const h = new URLSearchParams();
  if (selected) h.set('principal', selected);
  h.set('from', $('from').value);
  h.set('to', $('to').value);
  if ($('placeholders').checked) h.set('placeholders', 'true');
  history.replaceState(null, '', `${location.pathname}${location.search}#${h}`);
}

function readHash() {
  const h = new URLSearchParams(location.hash.slice(1));
  const valid = (d) => /^\d{4}-\d{2}-\d{2}$/.test(d ?? '');
  setLast90();
  if (valid(h.get('from'))) $('from').value = h.get('from');
  if (valid(h.get('to'))) $('to').value = h.get('to');
  $('placeholders').checked = h.get('placeholders') === 'true';
  return h.get('principal') ?? undefined;
}

function select(arn) {
  selected = arn;
  for (const b of $('principal-list').querySelectorAll('button')) {
    if (b.dataset.arn === arn) b.setAttribute('aria-current', 'true');
    else b.removeAttribute('aria-current');
  }
  $('empty').hidden = true;
  $('view').hidden = false;
  $('principal-h').textContent = arn;
  updateActiveDays();
  loadView();
}

function loadView() {
  if (!selected) return;
  writeHash();
  viewAbort?.abort();
  viewAbort = new AbortController();
  const { signal } = viewAbort;
  const base = { principal: selected, ...windowParams() };
  $('unused-result').replaceChildren();
  clearError($('unused-error'));
  void loadPolicy(base, signal);
  void loadActions(base, signal);
  void loadDenied(base, signal);
}

async function loadPolicy(base, signal) {
  const q = new URLSearchParams(base);
  if ($('placeholders').checked) q.set('placeholders', 'true');
  const box = $('policy-error');
  $('policy-summary').textContent = 'Loading…';
  try {
    const r = await api(`/v1/policy?${q}`, { signal });
    clearError(box);
    const parts = [
      `${fmtCount(r.actions.length)} action${r.actions.length === 1 ? '' : 's'} from ${r.from} to ${r.to}`,
      `${r.policies.length} document${r.policies.length === 1 ? '' : 's'}`,
    ];
    if (r.inferred?.length) parts.push(`inferred: ${r.inferred.join(', ')}`);
    if (r.denied?.length) parts.push(`${r.denied.length} denied, left out`);
    if (r.unknown?.length) parts.push(`not in the action catalog: ${r.unknown.join(', ')}`);
    $('policy-summary').textContent = parts.join(' · ');
    renderDocuments($('policy-docs'), r.policies, 'Policy document');
  } catch (err) {
    if (signal.aborted) return;
    $('policy-summary').textContent = '';
    $('policy-docs').replaceChildren();
    showError(box, err);
  }
}

function resourceList(items) {
  if (!items.length) return el('span', { className: 'muted' }, '—');
  const li = (r) => el('li', {}, el('code', {}, r));
  const list = el('ul', { className: 'plain resources' }, items.slice(0, RESOURCES_SHOWN).map(li));
  if (items.length <= RESOURCES_SHOWN) return list;
  return el(
    'div',
    {},
    list,
    el(
      'details',
      {},
      el('summary', {}, `${items.length - RESOURCES_SHOWN} more`),
      el('ul', { className: 'plain resources' }, items.slice(RESOURCES_SHOWN).map(li)),
    ),
  );
}

async function loadActions(base, signal) {
  const box = $('actions-error');
  const body = $('actions-table').tBodies[0];
  try {
    const r = await api(`/v1/actions?${new URLSearchParams(base)}`, { signal });
    clearError(box);
    const passedTo = new Map();
    for (const p of r.passRoles ?? []) {
      passedTo.set(p.role, [...(passedTo.get(p.role) ?? []), p.service]);
    }
    // Actions only refused are the denied attempts' table; this one is what was granted and used.
    const granted = r.actions.filter((a) => a.used || a.inferred);
    const deniedOnly = r.actions.length - granted.length;
    $('actions-note').textContent = deniedOnly
      ? `${fmtCount(deniedOnly)} more action${deniedOnly === 1 ? ' was' : 's were'} only denied: see Denied attempts.`
      : '';
    if (!granted.length) {
      body.replaceChildren(emptyRow(5, 'No actions used in this window.'));
      return;
    }
    body.replaceChildren(
      ...granted.map((a) => {
        const badges = [];
        if (a.inferred)
          badges.push(
            el(
              'span',
              { className: 'badge inferred', title: 'CloudTrail never records it; inferred' },
              'inferred',
            ),
          );
        if (a.denied)
          badges.push(
            el(
              'span',
              { className: 'badge denied', title: a.deniedCode ?? '' },
              `denied ×${fmtCount(a.deniedCount)}`,
            ),
          );
        const resources = a.resources.map((res) =>
          passedTo.has(res) ? `${res} → ${passedTo.get(res).join(', ')}` : res,
        );
        return el(
          'tr',
          {},
          el('th', { scope: 'row' }, el('code', {}, a.action), ' ', badges),
          el('td', { className: 'num' }, fmtCount(a.count)),
          el('td', {}, fmtTime(a.firstSeen)),
          el('td', {}, fmtTime(a.lastSeen)),
          el('td', {}, resourceList(resources)),
        );
      }),
    );
  } catch (err) {
    if (signal.aborted) return;
    body.replaceChildren();
    $('actions-note').textContent = '';
    showError(box, err);
  }
}

function emptyRow(cols, text) {
  return el('tr', {}, el('td', { colSpan: cols, className: 'muted' }, text));
}

async function loadDenied(base, signal) {
  const box = $('denied-error');
  const body = $('denied-table').tBodies[0];
  try {
    const r = await api(`/v1/denied?${new URLSearchParams(base)}`, { signal });
    clearError(box);
    if (!r.denied.length) {
      body.replaceChildren(emptyRow(4, 'No denied attempts in this window.'));
      return;
    }
    body.replaceChildren(
      ...r.denied.map((d) =>
        el(
          'tr',
          {},
          el('th', { scope: 'row' }, el('code', {}, d.action)),
          el('td', { className: 'num' }, fmtCount(d.count)),
          el('td', {}, fmtTime(d.lastSeen)),
          el('td', {}, el('code', {}, d.errorCode ?? '—')),
        ),
      ),
    );
  } catch (err) {
    if (signal.aborted) return;
    body.replaceChildren();
    showError(box, err);
  }
}

/** The textarea holds a policy document, a list of them, or `{"policies": [...]}`. */
function policiesOf(text) {
  const value = JSON.parse(text);
  if (Array.isArray(value)) return value;
  if (value && typeof value === 'object' && Array.isArray(value.policies)) return value.policies;
  return [value];
}

async function runUnused(ev) {
  ev.preventDefault();
  if (!selected) return;
  const box = $('unused-error');
  const out = $('unused-result');
  out.replaceChildren();
  let policies;
  try {
    policies = policiesOf($('unused-input').value);
  } catch (err) {
    showError(box, { code: 'BAD_JSON', message: `the policies are not JSON: ${err.message}` });
    return;
  }
  const signal = viewAbort?.signal;
  out.replaceChildren(el('p', { className: 'note' }, 'Comparing…'));
  try {
    const r = await api('/v1/unused', {
      method: 'POST',
      body: { principal: selected, ...windowParams(), policies },
      signal,
    });
    clearError(box);
    renderUnused(r);
  } catch (err) {
    if (signal?.aborted) return;
    out.replaceChildren();
    showError(box, err);
  }
}

function renderUnused(r) {
  const figure = (label, value, cls = '') =>
    el('div', { className: `figure ${cls}` }, el('dt', {}, label), el('dd', {}, value));
  const names = (title, list, emptyText) =>
    el(
      'div',
      { className: 'names' },
      el('h4', {}, `${title} (${fmtCount(list.length)})`),
      list.length
        ? el(
            'ul',
            { className: 'plain columns' },
            list.map((a) => el('li', {}, el('code', {}, a))),
          )
        : el('p', { className: 'muted' }, emptyText),
    );
  const suggested = el('div', {});
  const parts = [
    el(
      'dl',
      { className: 'figures' },
      figure('Reduction', `${r.reductionPercent}%`, 'big'),
      figure('Granted', fmtCount(r.granted)),
      figure('Used', fmtCount(r.used.length)),
      figure('Unused', fmtCount(r.unused.length)),
    ),
    el('p', { className: 'note' }, `Window ${r.from} to ${r.to}.`),
    names('Granted, never used', r.unused, 'Every granted action was used.'),
    names(
      'Used but not granted by these policies',
      r.notGranted ?? [],
      'Nothing: these policies cover every action used.',
    ),
  ];
  if (r.unmatched?.length) parts.push(names('Match no known action', r.unmatched, ''));
  parts.push(el('h4', {}, 'Suggested replacement'), suggested);
  $('unused-result').replaceChildren(...parts);
  if (r.suggested?.length) renderDocuments(suggested, r.suggested, 'Suggested policy');
  else suggested.replaceChildren(el('p', { className: 'muted' }, 'No actions to grant.'));
  announce(`${r.reductionPercent}% of the granted actions were not used`);
}

// ---- start --------------------------------------------------------------------------------

function reloadAll() {
  void loadStatus();
  void loadPrincipals();
  loadView();
}

function init() {
  initToken();
  const fromHash = readHash();
  $('filter').addEventListener('input', renderPrincipals);
  $('sort').addEventListener('change', renderPrincipals);
  $('principal-list').addEventListener('keydown', listKeys);
  $('window').addEventListener('submit', (ev) => {
    ev.preventDefault();
    loadView();
  });
  for (const id of ['from', 'to', 'placeholders']) {
    $(id).addEventListener('change', () => {
      if ($('window').checkValidity()) loadView();
    });
  }
  $('last90').addEventListener('click', () => {
    setLast90();
    loadView();
  });
  $('active-days').addEventListener('click', () => {
    const p = principals.find((x) => x.principal === selected);
    if (!p) return;
    $('from').value = p.firstSeen;
    $('to').value = p.lastSeen;
    loadView();
  });
  $('unused-form').addEventListener('submit', runUnused);
  startStatusRefresh();
  void loadStatus();
  void loadPrincipals();
  if (fromHash) select(fromHash);
}

init();
