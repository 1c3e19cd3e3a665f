// A real OpenID provider for FriKomPort's SSO tests: oidc-provider (npm) with in-memory
// accounts and clients, its own sign-in page, and a few test controls (/test/...).
//
//   PORT=5555 CLIENTS='[{"client_id": ..., "client_secret": ..., "redirect_uris": [...],
//     "post_logout_redirect_uris": [...]}]' node tests/sso/oidc_provider.mjs
//
// Prints one line "READY <issuer>" on stdout once listening; everything else goes to
// stderr. Exits when its stdin closes, so a dead test run never leaves it behind.
// Started by tests/sso/provider.py; not for anything but tests.

import * as crypto from 'node:crypto';

// oidc-provider prints its notices with console.info (stdout): keep stdout for READY.
console.info = console.error;
console.log = console.error;

// RSA key generation takes a few hundred ms here: run it in libuv's thread pool while
// the main thread loads oidc-provider. A second key, for the foreign_key tamper mode, is
// made once the provider is listening.
const newRsaKey = () => new Promise((resolve, reject) => {
  crypto.generateKeyPair('rsa', { modulusLength: 2048 }, (err, _publicKey, key) => {
    if (err) reject(err); else resolve(key);
  });
});
const signingKeyReady = newRsaKey();
let foreignKeyReady;

const { default: Provider } = await import('oidc-provider');

const PORT = Number(process.env.PORT);
if (!Number.isInteger(PORT) || PORT <= 0) {
  console.error('PORT must be set to a port number');
  process.exit(2);
}
const ISSUER = process.env.ISSUER || `http://127.0.0.1:${PORT}`;

// --- keys -----------------------------------------------------------------------------

const KID = `test-${crypto.randomBytes(6).toString('hex')}`;
const privateKey = await signingKeyReady;
const signingJwk = { ...privateKey.export({ format: 'jwk' }), kid: KID, alg: 'RS256', use: 'sig' };

// --- in-memory state set by the tests -------------------------------------------------

let accounts = {}; // accountId -> claims
let clients = new Map(); // client_id -> client metadata
let tampering = {}; // applied to ID tokens from the token endpoint
let pendingError = null; // {error, error_description?} for the next authorization request
const tokenLog = []; // token-endpoint requests seen

function clientMetadata(c) {
  if (!c || typeof c !== 'object' || typeof c.client_id !== 'string') {
    throw new TypeError('each client needs a client_id');
  }
  return {
    client_id: c.client_id,
    client_secret: c.client_secret,
    redirect_uris: c.redirect_uris ?? [],
    post_logout_redirect_uris: c.post_logout_redirect_uris ?? [],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: c.token_endpoint_auth_method ?? 'client_secret_basic',
  };
}

function setClients(list) {
  if (!Array.isArray(list)) throw new TypeError('clients must be a JSON list');
  clients = new Map(list.map((c) => [c.client_id, clientMetadata(c)]));
}

setClients(JSON.parse(process.env.CLIENTS || '[]'));

// A tiny in-memory adapter. Clients are read from `clients` above (so /test/clients can
// replace them at run time); every other model lives in one Map with expiry.
const store = new Map();

class TestAdapter {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  get(key) {
    const entry = store.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt && entry.expiresAt < Date.now()) {
      store.delete(key);
      return undefined;
    }
    return entry.value;
  }

  async upsert(id, payload, expiresIn) {
    if (this.model === 'Client') {
      clients.set(id, payload);
      return;
    }
    const expiresAt = expiresIn ? Date.now() + expiresIn * 1000 : undefined;
    store.set(this.key(id), { value: payload, expiresAt });
    if (payload.uid) store.set(`uid:${payload.uid}`, { value: id, expiresAt });
    if (payload.userCode) store.set(`userCode:${payload.userCode}`, { value: id, expiresAt });
    if (payload.grantId) {
      const members = this.get(`grant:${payload.grantId}`) ?? [];
      members.push(this.key(id));
      store.set(`grant:${payload.grantId}`, { value: members });
    }
  }

  async find(id) {
    if (this.model === 'Client') {
      const found = clients.get(id);
      return found ? structuredClone(found) : undefined;
    }
    return this.get(this.key(id));
  }

  async findByUid(uid) {
    const id = this.get(`uid:${uid}`);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode) {
    const id = this.get(`userCode:${userCode}`);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id) {
    const payload = this.get(this.key(id));
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    if (this.model === 'Client') {
      clients.delete(id);
      return;
    }
    store.delete(this.key(id));
  }

  async revokeByGrantId(grantId) {
    for (const key of this.get(`grant:${grantId}`) ?? []) store.delete(key);
    store.delete(`grant:${grantId}`);
  }
}

// --- pages ----------------------------------------------------------------------------

const escapeHtml = (value) => String(value).replace(/[&<>"']/g, (ch) => ({
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
}[ch]));

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} – test OpenID provider</title>
</head>
<body>
<main>
${body}
</main>
</body>
</html>`;
}

function loginPage(uid, clientId, error, login = '') {
  const errorHtml = error
    ? `<p id="login-error" role="alert">${escapeHtml(error)}</p>\n` : '';
  const describedBy = error ? ' aria-describedby="login-error" aria-invalid="true"' : '';
  return page('Sign in', `<h1>Sign in</h1>
<p>Test OpenID provider, signing in to <strong>${escapeHtml(clientId)}</strong>.</p>
${errorHtml}<form method="post" action="/interaction/${escapeHtml(uid)}/login" autocomplete="off">
<p><label for="login">Username</label>
<input id="login" name="login" autocomplete="username" required value="${escapeHtml(login)}"${describedBy}></p>
<p><button type="submit">Sign in</button></p>
</form>`);
}

async function logoutSource(ctx, form) {
  // `form` is oidc-provider's <form id="op.logoutForm" …> with the xsrf field. The page
  // submits itself (so browsers pass straight through) and still has a real button, so
  // a plain HTTP client can post the form with logout=yes.
  const script = `document.addEventListener('DOMContentLoaded', function () {
  document.getElementById('logout').click();
});`;
  ctx.type = 'html';
  ctx.body = page('Sign out', `<h1>Sign out</h1>
<p>Signing you out of the test OpenID provider.</p>
${form}
<p><button id="logout" type="submit" form="op.logoutForm" name="logout" value="yes">Sign out</button></p>
<script>${script}</script>`);
}

async function postLogoutSuccessSource(ctx) {
  ctx.type = 'html';
  ctx.body = page('Signed out', '<h1>Signed out</h1>\n<p>You are signed out of the test OpenID provider.</p>');
}

async function renderError(ctx, out) {
  ctx.type = 'html';
  ctx.body = page('Error', `<h1>Error</h1>
${Object.entries(out).map(([k, v]) => `<p><strong>${escapeHtml(k)}</strong>: ${escapeHtml(v)}</p>`).join('\n')}`);
}

// --- the provider ---------------------------------------------------------------------

const provider = new Provider(ISSUER, {
  adapter: TestAdapter,
  jwks: { keys: [signingJwk] },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
  responseTypes: ['code'],
  pkce: { required: () => true },
  scopes: ['openid', 'email', 'profile'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name', 'upn'],
  },
  conformIdTokenClaims: false,
  ttl: {
    AccessToken: 3600, AuthorizationCode: 600, IdToken: 3600, Interaction: 3600,
    Session: 14 * 24 * 3600, Grant: 14 * 24 * 3600,
  },
  features: {
    devInteractions: { enabled: false },
    claimsParameter: { enabled: false },
    rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  renderError,
  async findAccount(ctx, sub) {
    if (!Object.hasOwn(accounts, sub)) return undefined;
    return {
      accountId: sub,
      async claims() {
        return { ...accounts[sub], sub };
      },
    };
  },
});

provider.on('server_error', (ctx, err) => console.error('server_error', ctx.path, err));
provider.on('authorization.error', (ctx, err) => console.error('authorization.error', err.message, err.error_description ?? ''));
provider.on('grant.error', (ctx, err) => console.error('grant.error', err.message, err.error_description ?? ''));
provider.on('end_session.error', (ctx, err) => console.error('end_session.error', err.message, err.error_description ?? ''));

// --- request helpers ------------------------------------------------------------------

async function readBody(ctx) {
  const chunks = [];
  for await (const chunk of ctx.req) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString('utf8');
  if (ctx.is('application/json')) return text ? JSON.parse(text) : {};
  return Object.fromEntries(new URLSearchParams(text));
}

function json(ctx, body, status = 200) {
  ctx.status = status;
  ctx.type = 'application/json';
  ctx.body = JSON.stringify(body);
}

const b64url = (value) => Buffer.from(value).toString('base64url');

async function resign(idToken) {
  const [headerPart, payloadPart] = idToken.split('.');
  const header = JSON.parse(Buffer.from(headerPart, 'base64url').toString());
  const payload = JSON.parse(Buffer.from(payloadPart, 'base64url').toString());
  if ('aud' in tampering) payload.aud = tampering.aud;
  if ('iss' in tampering) payload.iss = tampering.iss;
  if ('nonce' in tampering) payload.nonce = tampering.nonce;
  if ('exp_offset' in tampering) {
    payload.exp = Math.floor(Date.now() / 1000) + Number(tampering.exp_offset);
    payload.iat = payload.exp - 60;
  }
  if (tampering.claims) Object.assign(payload, tampering.claims);
  let key = privateKey;
  if (tampering.foreign_key) {
    key = await (foreignKeyReady ??= newRsaKey());
  }
  // same header, hence the same alg (RS256) and kid
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  const signature = crypto.sign('sha256', Buffer.from(input), key).toString('base64url');
  return `${input}.${signature}`;
}

function redirectWith(uri, params) {
  const url = new URL(uri);
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null) url.searchParams.set(name, value);
  }
  return url.href;
}

// --- test controls, sign-in pages, and the pre/post hooks around oidc-provider --------

provider.use(async (ctx, next) => {
  const { path, method } = ctx;

  // test controls
  if (path.startsWith('/test/')) {
    if (method === 'GET' && path === '/test/log') return json(ctx, tokenLog);
    if (method !== 'POST') return json(ctx, { error: 'method not allowed' }, 405);
    let body;
    try {
      body = await readBody(ctx);
    } catch (err) {
      return json(ctx, { error: `bad JSON: ${err.message}` }, 400);
    }
    switch (path) {
      case '/test/accounts':
        if (!body || typeof body !== 'object' || Array.isArray(body)) {
          return json(ctx, { error: 'expected {"<accountId>": {claims…}}' }, 400);
        }
        accounts = body;
        return json(ctx, { accounts: Object.keys(accounts) });
      case '/test/clients':
        try {
          const list = Array.isArray(body) ? body : body.clients;
          for (const c of list ?? []) await provider.Client.validate(clientMetadata(c));
          setClients(list);
        } catch (err) {
          return json(ctx, { error: err.message, error_description: err.error_description }, 400);
        }
        return json(ctx, { clients: [...clients.keys()] });
      case '/test/tamper':
        tampering = body ?? {};
        return json(ctx, { tamper: tampering });
      case '/test/error':
        pendingError = body?.error ? body : null;
        return json(ctx, { error: pendingError });
      case '/test/reset':
        tampering = {};
        pendingError = null;
        tokenLog.length = 0;
        return json(ctx, {});
      default:
        return json(ctx, { error: 'unknown test control' }, 404);
    }
  }

  // our own interaction pages (devInteractions is off)
  const match = /^\/interaction\/([^/]+)(\/login)?$/.exec(path);
  if (match) {
    let details;
    try {
      details = await provider.interactionDetails(ctx.req, ctx.res);
    } catch (err) {
      ctx.status = 400;
      ctx.type = 'html';
      ctx.body = page('Error', `<h1>Error</h1>\n<p>${escapeHtml(err.message)}</p>`);
      return undefined;
    }
    const { uid, prompt, params } = details;
    const finish = async (result) => {
      const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, {
        mergeWithLastSubmission: false,
      });
      ctx.status = 303;
      ctx.redirect(returnTo);
    };

    if (prompt.name === 'consent') {
      // granted automatically: no consent page
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: details.session.accountId, clientId: params.client_id });
      const d = prompt.details;
      if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
      if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(d.missingResourceScopes ?? {})) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
      const grantId = await grant.save();
      return finish({ consent: details.grantId ? {} : { grantId } });
    }
    if (prompt.name !== 'login') {
      return finish({ error: 'access_denied', error_description: `unsupported prompt ${prompt.name}` });
    }
    if (method === 'GET' && !match[2]) {
      ctx.type = 'html';
      ctx.body = loginPage(uid, params.client_id);
      return undefined;
    }
    if (method === 'POST' && match[2]) {
      const form = await readBody(ctx);
      const login = String(form.login ?? '').trim();
      if (!Object.hasOwn(accounts, login)) {
        ctx.status = 200;
        ctx.type = 'html';
        ctx.body = loginPage(uid, params.client_id, `Unknown username "${login}".`, login);
        return undefined;
      }
      return finish({ login: { accountId: login } });
    }
    ctx.status = 405;
    return undefined;
  }

  // POST /test/error: the next authorization request is answered with that error
  if (path === '/auth' && method === 'GET' && pendingError) {
    const { client_id: clientId, redirect_uri: redirectUri, state } = ctx.query;
    const client = await provider.Client.find(String(clientId ?? ''));
    if (client && redirectUri && client.redirectUriAllowed(String(redirectUri))) {
      const { error, error_description: description } = pendingError;
      pendingError = null;
      ctx.status = 303;
      ctx.redirect(redirectWith(String(redirectUri), {
        error, error_description: description, state, iss: ISSUER,
      }));
      return undefined;
    }
  }

  if (path !== '/token') return next();

  // the token endpoint: log the request, and rewrite the ID token when tampering
  const entry = { grant_type: undefined, code_verifier: false, client_id: undefined, status: undefined };
  tokenLog.push(entry);
  try {
    await next();
  } finally {
    const body = ctx.oidc?.body ?? {};
    entry.grant_type = body.grant_type;
    entry.code_verifier = typeof body.code_verifier === 'string' && body.code_verifier.length > 0;
    entry.client_id = ctx.oidc?.client?.clientId;
    entry.auth = ctx.get('authorization') ? 'client_secret_basic'
      : (body.client_secret ? 'client_secret_post' : 'none');
    entry.status = ctx.status;
  }
  if (ctx.status === 200 && ctx.body?.id_token && Object.keys(tampering).length) {
    ctx.body = { ...ctx.body, id_token: await resign(ctx.body.id_token) };
  }
  return undefined;
});

// --- start ----------------------------------------------------------------------------

process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));

const server = provider.listen(PORT, '127.0.0.1', () => {
  process.stdout.write(`READY ${ISSUER}\n`);
  console.error(`listening on ${ISSUER} after ${Math.round(process.uptime() * 1000)} ms`);
  foreignKeyReady ??= newRsaKey();
  foreignKeyReady.catch((err) => console.error('foreign key:', err));
});
server.on('error', (err) => {
  console.error(`cannot listen on 127.0.0.1:${PORT}: ${err.message}`);
  process.exit(1);
});
