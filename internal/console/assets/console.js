// okrgraph policy console: plain JavaScript, no dependencies, talks only
// to /graphql with the admin's bearer token.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { token: "", org: "", versions: [], modules: [], current: 0 };

// --- GraphQL ---------------------------------------------------------

class GraphQLError extends Error {
  constructor(errors) {
    super(errors.map((e) => {
      const code = e.extensions && e.extensions.code ? e.extensions.code + ": " : "";
      const reasons = e.extensions && e.extensions.reasons ? " (" + e.extensions.reasons.join("; ") + ")" : "";
      return code + e.message + reasons;
    }).join("\n"));
    this.errors = errors;
  }
}

async function gql(query, variables) {
  const res = await fetch("/graphql", {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      "Accept": "application/json",
      "Authorization": "Bearer " + state.token,
      "X-Org": state.org,
    },
    body: JSON.stringify({ query, variables: variables || {} }),
  });
  let body;
  try { body = await res.json(); } catch (e) { throw new Error("HTTP " + res.status); }
  if (body.errors && body.errors.length) throw new GraphQLError(body.errors);
  return body.data;
}

function status(msg) { $("status").textContent = msg; }
function fail(err) { $("error").textContent = err ? String(err.message || err) : ""; }

async function run(label, fn) {
  fail(null);
  status(label + "…");
  try {
    const msg = await fn();
    status(typeof msg === "string" ? msg : label + ": done");
  } catch (err) {
    status(label + ": failed");
    fail(err);
  }
}

// --- Sign in ---------------------------------------------------------
// With an OIDC client configured (config.json names the issuer and the
// console's public client id) the console signs in with the issuer: the
// authorization code flow with PKCE (S256), run here, the bearer token kept
// in sessionStorage only. Without one it takes a pasted token.
let oidc = null; // { issuer, client_id, token: "id_token"|"access_token", scopes }
const PENDING = "okrgraph.console.oidc";
const SESSION = "okrgraph.console";

function b64url(bytes) {
  let s = "";
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomString(n) {
  const b = new Uint8Array(n);
  crypto.getRandomValues(b);
  return b64url(b);
}

function jwtClaims(raw) {
  const p = String(raw).split(".")[1] || "";
  const b64 = p.replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(atob(b64.padEnd(Math.ceil(b64.length / 4) * 4, "=")));
}

// The page's own address, where the issuer sends the browser back.
function redirectURI() { return new URL(".", location.href).href; }

async function loadConfig() {
  try {
    const res = await fetch("config.json", { credentials: "same-origin", cache: "no-store" });
    if (res.ok) oidc = (await res.json()).oidc || null;
  } catch (e) { oidc = null; }
}

async function discover() {
  const res = await fetch(oidc.issuer.replace(/\/+$/, "") + "/.well-known/openid-configuration", { credentials: "omit" });
  if (!res.ok) throw new Error("The identity provider's discovery document: HTTP " + res.status);
  const d = await res.json();
  if (String(d.issuer).replace(/\/+$/, "") !== oidc.issuer.replace(/\/+$/, "")) throw new Error("The identity provider names another issuer: " + d.issuer);
  if (!d.authorization_endpoint || !d.token_endpoint) throw new Error("The identity provider publishes no authorization or token endpoint.");
  return d;
}

async function signInWithOIDC() {
  const org = $("org").value.trim();
  if (!org) {
    $("org").focus();
    throw new Error("Enter the organization (slug) first.");
  }
  if (!window.crypto || !crypto.subtle) throw new Error("This browser cannot sign in with the identity provider on this page (it needs HTTPS).");
  const d = await discover();
  const verifier = randomString(32); // 43 characters
  const challenge = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  const pending = { state: randomString(16), nonce: randomString(16), verifier, org, tokenEndpoint: d.token_endpoint };
  sessionStorage.setItem(PENDING, JSON.stringify(pending));
  const u = new URL(d.authorization_endpoint);
  for (const [k, v] of Object.entries({
    response_type: "code", client_id: oidc.client_id, redirect_uri: redirectURI(), scope: oidc.scopes || "openid email profile",
    state: pending.state, nonce: pending.nonce, code_challenge: challenge, code_challenge_method: "S256",
  })) u.searchParams.set(k, v);
  location.assign(u.href);
}

// finishOIDC handles the issuer's redirect back: the state must be the one
// this tab sent; the code is exchanged (public client: the code verifier
// proves the exchange comes from whoever started the sign-in).
async function finishOIDC(params) {
  const pending = JSON.parse(sessionStorage.getItem(PENDING) || "null");
  sessionStorage.removeItem(PENDING);
  history.replaceState(null, "", location.pathname); // the code leaves the address bar and history
  if (!pending || params.get("state") !== pending.state) throw new Error("This sign-in answer was not started here (state mismatch): sign in again.");
  if (params.get("error")) throw new Error("The identity provider refused: " + params.get("error") + (params.get("error_description") ? " — " + params.get("error_description") : ""));
  const code = params.get("code");
  if (!code) throw new Error("The identity provider sent no code.");
  const res = await fetch(pending.tokenEndpoint, {
    method: "POST",
    credentials: "omit",
    headers: { "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json" },
    body: new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: redirectURI(), client_id: oidc.client_id, code_verifier: pending.verifier }),
  });
  let body = {};
  try { body = await res.json(); } catch (e) { /* reported below */ }
  if (!res.ok) throw new Error("The identity provider refused the code: " + (body.error || "HTTP " + res.status) + (body.error_description ? " — " + body.error_description : ""));
  if (body.id_token && jwtClaims(body.id_token).nonce !== pending.nonce) throw new Error("The identity provider's ID token is not for this sign-in (nonce mismatch).");
  const token = body[oidc.token];
  if (!token) throw new Error("The identity provider sent no " + oidc.token + ".");
  $("org").value = pending.org;
  return signedIn(token, pending.org);
}

function signOut() {
  sessionStorage.removeItem(SESSION);
  sessionStorage.removeItem(PENDING);
  state.token = "";
  location.replace(location.pathname);
}

function signedIn(token, org) {
  state.token = token;
  state.org = org;
  sessionStorage.setItem(SESSION, JSON.stringify({ token, org }));
  return start();
}

async function start() {
  try {
    const d = await gql("{ viewer { user { email } membership { role } } }");
    const m = d.viewer.membership;
    if (!m || (m.role !== "ADMIN" && m.role !== "OWNER")) throw new Error("The console is for the organization's admins.");
    $("who").textContent = d.viewer.user.email + " — " + state.org + " (" + m.role + ")";
  } catch (err) {
    $("signin-error").textContent = String(err.message || err);
    return;
  }
  $("signin").hidden = true;
  $("app").hidden = false;
  $("signout").hidden = false;
  await run("Loading", async () => {
    await loadVersions();
    await Promise.all([loadLog(), loadAudit()]);
  });
}

// --- Versions and editor -----------------------------------------------

const VERSION_FIELDS = "id number status comment createdAt activatedAt author { email } modules { name source }";

async function loadVersions(selectID) {
  const d = await gql("{ policyVersions { " + VERSION_FIELDS + " } }");
  state.versions = d.policyVersions;
  for (const sel of [$("version"), $("diff-a"), $("diff-b")]) {
    const keep = sel.value;
    sel.textContent = "";
    for (const v of state.versions) {
      const o = document.createElement("option");
      o.value = v.id;
      o.textContent = "v" + v.number + " " + v.status + (v.comment ? " — " + v.comment : "");
      sel.append(o);
    }
    if (keep) sel.value = keep;
  }
  if (selectID) $("version").value = selectID;
  if (state.versions.length > 1 && !$("diff-a").dataset.touched) {
    $("diff-a").value = state.versions[1].id;
    $("diff-b").value = state.versions[0].id;
  }
  showVersion();
}

function selectedVersion() {
  return state.versions.find((v) => v.id === $("version").value) || null;
}

function showVersion() {
  const v = selectedVersion();
  $("version-info").textContent = v ? "by " + (v.author ? v.author.email : "?") + ", " + new Date(v.createdAt).toLocaleString() : "no versions yet";
  $("activate").disabled = !v || v.status === "ACTIVE";
  $("rollback").disabled = !v || v.status !== "ARCHIVED";
  $("impact").disabled = !v;
  state.modules = v ? v.modules.map((m) => ({ name: m.name, source: m.source })) : [{ name: "policy.rego", source: "package okrgraph.tenant.example\n\n" }];
  state.current = 0;
  showModules();
}

function showModules() {
  const sel = $("module");
  sel.textContent = "";
  state.modules.forEach((m, i) => {
    const o = document.createElement("option");
    o.value = String(i);
    o.textContent = m.name;
    sel.append(o);
  });
  sel.value = String(state.current);
  const m = state.modules[state.current];
  $("module-name").value = m.name;
  $("source").value = m.source;
  render([]);
}

function keepEdits() {
  const m = state.modules[state.current];
  if (m) {
    m.name = $("module-name").value.trim();
    m.source = $("source").value;
  }
}

// --- Highlighting ----------------------------------------------------

const TOKEN = /(#[^\n]*)|("(?:[^"\\\n]|\\.)*"|`[^`]*`)|(\b\d+(?:\.\d+)?\b)|(\b(?:package|import|if|contains|every|in|some|not|default|else|with|as|true|false|null|future)\b)|(\b(?:input|data)\b)/g;
const CLASSES = [null, "tok-com", "tok-str", "tok-num", "tok-kw", "tok-ref"];

function escapeHTML(s) {
  return s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
}

function highlight(src) {
  let out = "";
  let last = 0;
  src.replace(TOKEN, (match, ...groups) => {
    const offset = groups[groups.length - 2];
    const kind = groups.slice(0, 5).findIndex((g) => g !== undefined) + 1;
    out += escapeHTML(src.slice(last, offset)) + '<span class="' + CLASSES[kind] + '">' + escapeHTML(match) + "</span>";
    last = offset + match.length;
    return match;
  });
  return out + escapeHTML(src.slice(last)) + "\n";
}

// render paints the source and marks the lines of problems of this module.
function render(problems) {
  const src = $("source").value;
  $("highlight").innerHTML = highlight(src);
  const name = $("module-name").value.trim();
  const bad = new Map();
  for (const p of problems || []) {
    if (p.line > 0 && (p.file === name || p.file === "")) bad.set(p.line, p.message);
  }
  const lines = src.split("\n").length;
  let g = "";
  for (let i = 1; i <= lines; i++) {
    g += bad.has(i) ? '<span class="bad" data-line="' + i + '" title="' + escapeHTML(bad.get(i)) + '">' + i + "</span>\n" : i + "\n";
  }
  $("gutter").innerHTML = g;
  syncScroll();
}

function syncScroll() {
  $("highlight").scrollTop = $("source").scrollTop;
  $("highlight").scrollLeft = $("source").scrollLeft;
  $("gutter").scrollTop = $("source").scrollTop;
}

function goToLine(line, col) {
  const ta = $("source");
  const lines = ta.value.split("\n");
  let pos = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i++) pos += lines[i].length + 1;
  pos += Math.max(0, (col || 1) - 1);
  ta.focus();
  ta.setSelectionRange(pos, pos);
}

function showProblems(problems) {
  const ul = $("problems");
  ul.textContent = "";
  for (const p of problems) {
    const li = document.createElement("li");
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = (p.file || "policy") + (p.line ? ":" + p.line + ":" + p.column : "") + ": " + p.message;
    b.addEventListener("click", () => {
      const i = state.modules.findIndex((m) => m.name === p.file);
      if (i >= 0 && i !== state.current) { keepEdits(); state.current = i; showModules(); }
      if (p.line) goToLine(p.line, p.column);
    });
    li.append(b);
    ul.append(li);
  }
  render(problems);
}

function modulesInput() {
  keepEdits();
  return state.modules.map((m) => ({ name: m.name, source: m.source }));
}

async function validate() {
  const d = await gql("mutation($m: [PolicyModuleInput!]!) { validatePolicy(modules: $m) { valid problems { file line column message } } }", { m: modulesInput() });
  showProblems(d.validatePolicy.problems);
  status(d.validatePolicy.valid ? "Valid" : d.validatePolicy.problems.length + " problem(s)");
  return d.validatePolicy.valid;
}

async function runTests() {
  const d = await gql("mutation($m: [PolicyModuleInput!]) { testPolicy(modules: $m) { passed results { package name passed message safety } problems { file line column message } } }", { m: modulesInput() });
  const r = d.testPolicy;
  showProblems(r.problems);
  const ul = $("tests");
  ul.textContent = "";
  for (const t of r.results) {
    const li = document.createElement("li");
    li.className = t.passed ? "pass" : "fail";
    li.textContent = (t.passed ? "PASS " : "FAIL ") + t.package + "." + t.name + (t.safety ? " (safety)" : "") + (t.message ? " — " + t.message : "");
    ul.append(li);
  }
  const failed = r.results.filter((t) => !t.passed).length;
  $("tests-summary").textContent = r.problems.length ? "The policy does not compile." : (r.passed ? "All " + r.results.length + " tests passed." : failed + " of " + r.results.length + " tests failed.");
  $("tests-summary").className = r.passed ? "pass" : "fail";
}

async function saveDraft() {
  if (!(await validate())) throw new Error("Fix the problems before saving.");
  const d = await gql("mutation($m: [PolicyModuleInput!]!, $c: String) { savePolicyDraft(modules: $m, comment: $c) { id number } }", { m: modulesInput(), c: $("comment").value });
  await loadVersions(d.savePolicyDraft.id);
  return "Saved as draft v" + d.savePolicyDraft.number;
}

// --- Confirmation ------------------------------------------------------

function confirmAction(text) {
  return new Promise((resolve) => {
    const dlg = $("confirm");
    $("confirm-text").textContent = text;
    const done = (ok) => {
      $("confirm-yes").onclick = $("confirm-no").onclick = null;
      dlg.onclose = null;
      if (dlg.open) dlg.close();
      resolve(ok);
    };
    $("confirm-yes").onclick = () => done(true);
    $("confirm-no").onclick = () => done(false);
    dlg.onclose = () => done(false);
    dlg.showModal();
    $("confirm-no").focus();
  });
}

async function deactivate() {
  if (!(await confirmAction("Deactivate the organization's policy? Only the default policy will decide, at once."))) {
    status("Cancelled");
    return;
  }
  await run("Deactivate", async () => {
    await gql("mutation { deactivatePolicy { deactivated { number } } }");
    await loadVersions($("version").value);
    await loadAudit();
  });
}

async function activate(op) {
  const v = selectedVersion();
  if (!v) return;
  const verb = op === "activatePolicy" ? "Activate" : "Roll back to";
  if (!(await confirmAction(verb + " version " + v.number + "? Every request of the organization will be decided by it at once."))) {
    status("Cancelled");
    return;
  }
  await run(verb + " v" + v.number, async () => {
    await gql("mutation($id: ID!) { " + op + "(versionId: $id) { id number status } }", { id: v.id });
    await loadVersions(v.id);
    await loadAudit();
  });
}

// --- Impact, explain, diff --------------------------------------------

async function showImpact() {
  const v = selectedVersion();
  const since = new Date(Date.now() - Number($("impact-since").value) * 3600e3).toISOString();
  const d = await gql(`query($v: ID!, $s: Time!) { policyImpact(versionId: $v, since: $s) {
      version replayed skipped failures truncated allowToDeny denyToAllow
      byAction { key allowToDeny denyToAllow }
      bySubject { key subjectType user { email name } allowToDeny denyToAllow }
      examples { decision { action subjectId user { email } decidedAt } nowAllowed nowReasons } } }`, { v: v.id, s: since });
  const r = d.policyImpact;
  const out = $("impact-out");
  out.textContent = "";
  const p = document.createElement("p");
  p.id = "impact-summary";
  p.textContent = "Version " + r.version + " would change " + (r.allowToDeny + r.denyToAllow) + " of " + r.replayed + " logged decisions: " +
    r.allowToDeny + " allowed → denied, " + r.denyToAllow + " denied → allowed." + (r.truncated ? " (Only the newest decisions were replayed.)" : "") +
    (r.failures ? " " + r.failures + " evaluations failed." : "");
  out.append(p);
  if (r.bySubject.length) {
    out.append(table(["Subject", "Allowed → denied", "Denied → allowed"], r.bySubject.map((s) => [s.user ? s.user.email : s.subjectType + " " + s.key, s.allowToDeny, s.denyToAllow]), "impact-subjects", "Changes by subject"));
    out.append(table(["Action", "Allowed → denied", "Denied → allowed"], r.byAction.map((a) => [a.key, a.allowToDeny, a.denyToAllow]), "impact-actions", "Changes by action"));
  }
}

function table(head, rows, id, label) {
  const t = document.createElement("table");
  t.id = id;
  t.setAttribute("aria-label", label);
  const tr = document.createElement("tr");
  for (const h of head) { const th = document.createElement("th"); th.scope = "col"; th.textContent = h; tr.append(th); }
  const thead = document.createElement("thead");
  thead.append(tr);
  const tbody = document.createElement("tbody");
  for (const r of rows) {
    const row = document.createElement("tr");
    for (const c of r) { const td = document.createElement("td"); td.textContent = String(c); row.append(td); }
    tbody.append(row);
  }
  t.append(thead, tbody);
  return t;
}

async function explain(ev) {
  ev.preventDefault();
  await run("Explain", async () => {
    const action = $("explain-action").value.trim();
    const input = { asUserId: $("explain-user").value.trim(), action };
    const v = selectedVersion();
    if (v) input.versionId = v.id;
    if (action === "okr.create") input.createInput = { kind: "OBJECTIVE", level: $("explain-level").value, title: "Explained" };
    else if ($("explain-item").value.trim()) input.itemId = $("explain-item").value.trim();
    const d = await gql("mutation($in: ExplainPolicyInput!) { explainPolicy(input: $in) { allowed reasons decidedBy version } }", { in: input });
    const e = d.explainPolicy;
    $("explain-out").textContent = (e.allowed ? "Allowed" : "Denied") + " by the " + e.decidedBy.toLowerCase() + " policy" +
      (e.version ? " (version " + e.version + ")" : "") + ": " + e.reasons.join("; ");
  });
}

// diffLines is a longest-common-subsequence line diff.
function diffLines(a, b) {
  const n = a.length, m = b.length;
  const L = Array.from({ length: n + 1 }, () => new Int32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) L[i][j] = a[i] === b[j] ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1]);
  const out = [];
  let i = 0, j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) { out.push([" ", a[i]]); i++; j++; }
    else if (L[i + 1][j] >= L[i][j + 1]) out.push(["-", a[i++]]);
    else out.push(["+", b[j++]]);
  }
  while (i < n) out.push(["-", a[i++]]);
  while (j < m) out.push(["+", b[j++]]);
  return out;
}

function showDiff() {
  const va = state.versions.find((v) => v.id === $("diff-a").value);
  const vb = state.versions.find((v) => v.id === $("diff-b").value);
  const pre = $("diff-out");
  pre.textContent = "";
  if (!va || !vb) return;
  const names = [...new Set([...va.modules.map((m) => m.name), ...vb.modules.map((m) => m.name)])].sort();
  for (const name of names) {
    const a = (va.modules.find((m) => m.name === name) || { source: "" }).source.split("\n");
    const b = (vb.modules.find((m) => m.name === name) || { source: "" }).source.split("\n");
    const head = document.createElement("strong");
    head.textContent = "--- v" + va.number + "/" + name + "\n+++ v" + vb.number + "/" + name + "\n";
    pre.append(head);
    for (const [op, line] of diffLines(a, b)) {
      const s = document.createElement("span");
      s.textContent = op + " " + line + "\n";
      if (op === "+") s.className = "add";
      if (op === "-") s.className = "del";
      pre.append(s);
    }
  }
}

// --- Decision log and audit -------------------------------------------

async function loadLog(ev) {
  if (ev) ev.preventDefault();
  const filter = {};
  if ($("log-action").value.trim()) filter.action = $("log-action").value.trim();
  if ($("log-subject").value.trim()) filter.subjectId = $("log-subject").value.trim();
  if ($("log-allowed").value) filter.allowed = $("log-allowed").value === "true";
  const d = await gql(`query($f: PolicyDecisionFilter) { policyDecisions(first: 100, filter: $f) { totalCount
      edges { node { id decidedAt action subjectType subjectId user { email } resourceId allowed reasons decidedBy version failed } } } }`, { f: filter });
  const tbody = $("log").querySelector("tbody");
  tbody.textContent = "";
  for (const { node: n } of d.policyDecisions.edges) {
    const tr = document.createElement("tr");
    const cells = [
      new Date(n.decidedAt).toLocaleString(), n.action, n.user ? n.user.email : n.subjectType + " " + n.subjectId, n.resourceId || "—",
      n.allowed ? "allowed" : (n.failed ? "denied (policy failed)" : "denied"),
      n.decidedBy === "TENANT" ? "tenant v" + n.version : (n.version ? "default (v" + n.version + " active)" : "default"), n.reasons.join("; "),
    ];
    cells.forEach((c, i) => {
      const td = document.createElement("td");
      td.textContent = c;
      if (i === 4) td.className = n.allowed ? "allowed" : "denied";
      tr.append(td);
    });
    tbody.append(tr);
  }
}

async function loadAudit() {
  const d = await gql("{ policyAudit(first: 50) { action actor { email } version detail createdAt } }");
  const tbody = $("audit").querySelector("tbody");
  tbody.textContent = "";
  for (const a of d.policyAudit) {
    const tr = document.createElement("tr");
    for (const c of [new Date(a.createdAt).toLocaleString(), a.action, a.actor ? a.actor.email : "?", a.version ? "v" + a.version : "—", a.detail]) {
      const td = document.createElement("td");
      td.textContent = c;
      tr.append(td);
    }
    tbody.append(tr);
  }
}

// --- Wiring ------------------------------------------------------------

document.addEventListener("DOMContentLoaded", () => {
  $("oidc-signin").addEventListener("click", () => {
    $("signin-error").textContent = "";
    signInWithOIDC().catch((err) => { $("signin-error").textContent = String(err.message || err); });
  });
  $("signin-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    $("signin-error").textContent = "";
    if (!$("org").value.trim()) {
      $("signin-error").textContent = "Enter the organization (slug).";
      $("org").focus();
      return;
    }
    signedIn($("token").value.trim(), $("org").value.trim());
  });
  $("signout").addEventListener("click", signOut);
  $("version").addEventListener("change", showVersion);
  $("module").addEventListener("change", () => { keepEdits(); state.current = Number($("module").value); showModules(); });
  $("add-module").addEventListener("click", () => {
    keepEdits();
    state.modules.push({ name: "module" + (state.modules.length + 1) + ".rego", source: "package okrgraph.tenant.example\n\n" });
    state.current = state.modules.length - 1;
    showModules();
  });
  $("new-draft").addEventListener("click", () => { $("comment").value = ""; $("source").focus(); status("Editing a new draft from the selected version"); });
  $("source").addEventListener("input", () => render([]));
  $("source").addEventListener("scroll", syncScroll);
  $("source").addEventListener("keydown", (ev) => {
    // Tab indents; Escape then Tab leaves the editor (keyboard users).
    if (ev.key === "Tab" && !ev.shiftKey && !$("source").dataset.escaped) {
      ev.preventDefault();
      document.execCommand("insertText", false, "\t");
    }
    $("source").dataset.escaped = ev.key === "Escape" ? "1" : "";
  });
  $("validate").addEventListener("click", () => run("Validate", validate));
  $("run-tests").addEventListener("click", () => run("Tests", runTests));
  $("save").addEventListener("click", () => run("Save draft", saveDraft));
  $("activate").addEventListener("click", () => activate("activatePolicy"));
  $("rollback").addEventListener("click", () => activate("rollbackPolicy"));
  $("deactivate").addEventListener("click", deactivate);
  $("impact").addEventListener("click", () => run("Impact", showImpact));
  $("explain-form").addEventListener("submit", explain);
  $("diff-a").addEventListener("change", () => { $("diff-a").dataset.touched = "1"; });
  $("diff").addEventListener("click", showDiff);
  $("log-form").addEventListener("submit", (ev) => run("Decision log", () => loadLog(ev)));
  $("audit-refresh").addEventListener("click", () => run("Audit", loadAudit));
  resume();
});

async function resume() {
  await loadConfig();
  $("oidc-signin").hidden = $("oidc-hint").hidden = !oidc;
  const params = new URLSearchParams(location.search);
  if (oidc && params.has("state") && (params.has("code") || params.has("error"))) {
    try { await finishOIDC(params); } catch (err) { $("signin-error").textContent = String(err.message || err); }
    return;
  }
  const saved = sessionStorage.getItem(SESSION);
  if (saved) {
    try { const s = JSON.parse(saved); await signedIn(s.token, s.org); } catch (e) { sessionStorage.removeItem(SESSION); }
  }
}
