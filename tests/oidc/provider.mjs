// A real OpenID Provider (oidc-provider 9) for authgate's integration tests.
// Listens on 127.0.0.1 (unless --host), plain http, issuer http://127.0.0.1:<port> (unless --issuer).
//
//   node provider.mjs --port 4100 --jwks keys.json [--alg RS256] [--at-ttl 600]
//                     [--redirect-uri URI]... [--post-logout-uri URI]...
//                     [--host ADDR --issuer URL]
//       --host (OIDC_HOST, default 127.0.0.1) / --issuer (OIDC_ISSUER, default
//       http://127.0.0.1:<port>): for docker-compose.yml only (--host 0.0.0.0 --issuer
//       http://oidc-provider:4100). With a non-loopback --host the /__test/ endpoints are off.
//       secrets: OIDC_CLIENT_SECRET (client "authgate"), OIDC_CLI_SECRET (client "orders-cli",
//       defaults to OIDC_CLIENT_SECRET); --secret / --cli-secret override them.
//       --redirect-uri / --post-logout-uri are repeatable and take comma-separated lists
//       (also OIDC_REDIRECT_URIS / OIDC_POST_LOGOUT_URIS); they become the "authgate"
//       client's redirect_uris (default http://127.0.0.1/cb) and post_logout_redirect_uris
//       (default none). Redirect URIs match exactly (port included).
//       --at-ttl: lifetime of every access token (JWT and opaque), seconds.
//       --port 0: the kernel picks a free port (the integration harness does this; the
//       issuer, http://127.0.0.1:<that port>, is built once the server listens).
//       Prints "READY <issuer> <host>:<port>" on stdout once listening (the real port);
//       exits 0 on SIGTERM / SIGINT.
//   node provider.mjs genkey --alg RS256|PS256|ES256 --kid KID
//       Prints one private JWK (with kid, alg, use "sig") as JSON on stdout.
//
// Clients (both confidential; oidc-provider accepts client_secret_basic and
// client_secret_post for either, whichever of the two is registered):
//   authgate    client_credentials + authorization_code + refresh_token. The gateway's
//               introspection client and its session (browser login) client.
//               Code flow: PKCE S256 required. Refresh tokens are issued on every code
//               exchange (offline_access or not: oidc-provider drops offline_access unless
//               prompt includes consent) and ROTATE on every refresh grant. Its grants
//               outlive the provider's login session (RP-initiated logout does not revoke
//               them; RFC 7009 revocation does).
//   orders-cli  client_credentials. An API consumer.
// Introspection (opaque tokens only): authgate may introspect every token, any other client
// only its own (features.introspection.allowedPolicy below; oidc-provider's default would let
// any confidential client introspect any token). Revocation: only the client a token was
// issued to may revoke it (oidc-provider's default policy; others get 400 invalid_request).
//
// Resource servers (RFC 8707; the token request's `resource` parameter):
//   https://orders.test   JWT access tokens, aud https://orders.test, scope orders:read orders:write
//   https://other.test    JWT access tokens, aud https://other.test, same scopes (wrong audience
//                         for a gateway that expects https://orders.test)
//   (no resource)         client_credentials: defaulted to https://orders.test, but the access
//                         token is OPAQUE; introspection shows aud https://orders.test and the
//                         granted scope.
// Code flow: an authorization request that names a resource, or asks for an orders:* scope
// without one (then https://orders.test), gets JWT access tokens for that resource from the
// code exchange and every refresh (useGrantedResource); one with OIDC scopes only gets opaque
// userinfo access tokens (no aud).
// JWT access tokens are signed with --alg using the first key of that alg in the JWKS
// file, so a key set [new, old] signs with the new key while publishing both.
// Structured (JWT) tokens cannot be introspected or revoked at oidc-provider's endpoints.
//
// Headless login: /interaction/:uid (the provider's interactions.url) needs no browser.
// It answers 303 straight back to the provider: the login prompt logs in as the account
// named by the authorization request's login_hint (default "alice", see /__test/login),
// the consent prompt grants every requested scope, claim and resource scope. So a login
// is a chain of redirects that any HTTP client with a cookie jar can follow. Accounts
// exist for every name: sub = name, name "<Name> Tester", email <name>@example.test,
// email_verified true. RP-initiated logout (/session/end) renders a form (no JavaScript
// needed: it already carries logout=yes) to POST to /session/end/confirm.
//
// Test-only endpoints (loopback only, no auth):
//   GET  /__test/stats            JSON counters (shape below), kept from provider events
//   POST /__test/reset-stats      zeroes them
//   POST /__test/token-endpoint   {"mode":"ok"|"503"|"hang"|"500"|"garbage"|"huge", "delay_ms":N}:
//                                 POST /token answers normally (after delay_ms, default 0), 503
//                                 temporarily_unavailable (Retry-After: 1), or never (the
//                                 request is held until the client goes away or the mode
//                                 changes, then its connection is closed without a response);
//                                 "500": 500 {"error":"server_error"}; "garbage": 200 with a
//                                 truncated JSON body; "huge": 200 with a 2 MiB JSON token
//                                 response (a valid one, padded: only a bounded read stops it).
//                                 With delay_ms, a client that goes away during the delay is
//                                 not served: its grant is never processed
//                                 (token_endpoint.abandoned counts these).
//                                 Failed-on-purpose requests never reach oidc-provider.
//   POST /__test/login            {"account":"bob"} changes the default account; {"error":
//                                 "access_denied"} makes every interaction end with that
//                                 error; {} restores alice / no error.
// Stats (every counter starts at 0):
//   { "grants": {"<grant_type>": {"success":n,"error":n}},  // token endpoint, as oidc-provider
//                  // saw it (authorization_code, refresh_token, client_credentials always present)
//     "grant_errors": {"<error>": n}, "grant_error_details": {"<error_detail>": n},
//     "refresh_token_reuse": n,    // a rotated (consumed) refresh token presented again
//     "grants_revoked": n,         // whole grants revoked: reuse, code replay, RFC 7009, logout
//     "grants_revoked_by_route": {"token"|"revocation"|"end_session_confirm": n},
//     "revocations": {"success":n,"error":n,"refresh_token":n,"access_token":n,
//                     "client_credentials":n},
//     "token_endpoint": {"requests":n, "unavailable":n, "hung":n, "injected": {"<grant_type>":n},
//                        "mode":"ok|503|hang", "delay_ms":n},
//     "authorizations": {"success":n,"error":n},
//     "interactions": {"login":n,"consent":n,"denied":n,"logins_by_acr":{"<acr>":n}},
//     "end_session": n, "server_errors": n }
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

const ALGS = {
  RS256: { type: 'rsa', options: { modulusLength: 2048 } },
  PS256: { type: 'rsa', options: { modulusLength: 2048 } },
  ES256: { type: 'ec', options: { namedCurve: 'P-256' } },
};

function fail(message) {
  process.stderr.write(`provider.mjs: ${message}\n`);
  process.exit(2);
}

function checkAlg(alg) {
  if (!ALGS[alg]) fail(`unsupported --alg ${alg} (expected one of ${Object.keys(ALGS).join(', ')})`);
  return alg;
}

function genkey(argv) {
  const { values } = parseArgs({
    args: argv,
    options: { alg: { type: 'string', default: 'RS256' }, kid: { type: 'string' } },
  });
  const alg = checkAlg(values.alg);
  if (!values.kid) fail('genkey needs --kid');
  const { type, options } = ALGS[alg];
  const { privateKey } = generateKeyPairSync(type, options);
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: values.kid, alg, use: 'sig' };
  process.stdout.write(`${JSON.stringify(jwk)}\n`);
}

// "a,b" "c" -> [a, b, c]
function uriList(values) {
  return (values || []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
}

function envList(name) {
  return process.env[name] ? [process.env[name]] : undefined;
}

function displayName(accountId) {
  return `${accountId.charAt(0).toUpperCase()}${accountId.slice(1)} Tester`;
}

// The whole request body as a string (bounded).
function readBody(req, limit = 64 * 1024) {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => {
      body += chunk;
      if (body.length > limit) reject(new Error('body too large'));
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

function newStats() {
  const pair = () => ({ success: 0, error: 0 });
  return {
    grants: { authorization_code: pair(), refresh_token: pair(), client_credentials: pair() },
    grant_errors: {},
    grant_error_details: {},
    refresh_token_reuse: 0,
    grants_revoked: 0,
    grants_revoked_by_route: {},
    revocations: { success: 0, error: 0, refresh_token: 0, access_token: 0, client_credentials: 0 },
    token_endpoint: { requests: 0, unavailable: 0, hung: 0, abandoned: 0, injected: {} },
    authorizations: pair(),
    interactions: { login: 0, consent: 0, denied: 0, logins_by_acr: {} },
    end_session: 0,
    server_errors: 0,
  };
}

function bump(map, key, by = 1) {
  map[key] = (map[key] || 0) + by;
}

async function serve(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: process.env.OIDC_PORT },
      jwks: { type: 'string', default: process.env.OIDC_JWKS_FILE },
      alg: { type: 'string', default: process.env.OIDC_JWT_ALG || 'RS256' },
      secret: { type: 'string', default: process.env.OIDC_CLIENT_SECRET },
      'cli-secret': { type: 'string', default: process.env.OIDC_CLI_SECRET },
      'at-ttl': { type: 'string', default: process.env.OIDC_AT_TTL || '600' },
      'redirect-uri': { type: 'string', multiple: true, default: envList('OIDC_REDIRECT_URIS') },
      'post-logout-uri': { type: 'string', multiple: true, default: envList('OIDC_POST_LOGOUT_URIS') },
      host: { type: 'string', default: process.env.OIDC_HOST || '127.0.0.1' },
      issuer: { type: 'string', default: process.env.OIDC_ISSUER },
    },
  });
  const port = Number(values.port);
  if (values.port === undefined || values.port === '' || !Number.isInteger(port) || port < 0 || port > 65535)
    fail('--port (or OIDC_PORT) must be 0..65535 (0: any free port)');
  if (!values.jwks) fail('--jwks (or OIDC_JWKS_FILE) is required');
  if (!values.secret) fail('--secret (or OIDC_CLIENT_SECRET) is required');
  const alg = checkAlg(values.alg);
  const ttl = Number(values['at-ttl']);
  if (!Number.isInteger(ttl) || ttl < 1) fail('--at-ttl must be a positive number of seconds');
  const redirectUris = uriList(values['redirect-uri']);
  const postLogoutUris = uriList(values['post-logout-uri']);
  for (const uri of [...redirectUris, ...postLogoutUris]) {
    if (!URL.canParse(uri)) fail(`not an absolute URI: ${uri}`);
  }

  const jwks = JSON.parse(readFileSync(values.jwks, 'utf8'));
  const signing = (jwks.keys || []).find((k) => k.alg === alg);
  if (!signing) fail(`${values.jwks} has no key with "alg":"${alg}"`);

  const { default: Provider, errors, interactionPolicy } = await import('oidc-provider');

  // Step-up (RFC 9470): two authentication levels. A login is "pwd" unless the authorization
  // request asks for acr_values with "mfa" in them (the harness's user then does the second factor);
  // a session whose acr is not among the requested acr_values is asked to log in again (as Keycloak
  // and Entra do; oidc-provider's own checks only act on an essential acr claims request).
  const kAcrPwd = 'urn:authgate:pwd';
  const kAcrMfa = 'urn:authgate:mfa';
  const requestedAcrs = (params) => String(params.acr_values || '').split(' ').filter(Boolean);
  const policy = interactionPolicy.base();
  policy.get('login').checks.add(new interactionPolicy.Check(
    'acr_values_not_met',
    "the session's acr is none of the requested acr_values",
    (ctx) => {
      const wanted = requestedAcrs(ctx.oidc.params);
      return wanted.length > 0 && !wanted.includes(ctx.oidc.session?.acr)
        ? interactionPolicy.Check.REQUEST_PROMPT : interactionPolicy.Check.NO_NEED_TO_PROMPT;
    },
  ));

  const host = values.host;
  // Listen first: with --port 0 the issuer (which names the port) is known only then.
  // Until the provider is attached below (before READY), requests get a 503.
  const notYet = (req, res) => {
    res.writeHead(503, { 'Retry-After': '1', 'Content-Type': 'application/json' });
    res.end('{"error":"temporarily_unavailable"}\n');
  };
  const server = createServer(notYet);
  await new Promise((resolve) => {
    const onError = (err) => {
      process.stderr.write(`provider.mjs: listen on ${host}:${port} failed: ${err.code || err.message}\n`);
      process.exit(3);
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const boundPort = server.address().port;
  const issuer = values.issuer || `http://127.0.0.1:${boundPort}`;
  if (!URL.canParse(issuer)) fail(`--issuer is not an absolute URI: ${issuer}`);
  const testEndpoints = host === '127.0.0.1' || host === '::1' || host === 'localhost';
  const scope = 'orders:read orders:write';
  const jwtServer = (audience) => ({
    audience,
    scope,
    accessTokenFormat: 'jwt',
    accessTokenTTL: ttl,
    jwt: { sign: { alg, kid: signing.kid } },
  });
  const resourceServers = {
    'https://orders.test': jwtServer('https://orders.test'),
    'https://other.test': jwtServer('https://other.test'),
  };
  // Token requests whose resource was defaulted (none was sent): opaque tokens.
  const defaulted = new WeakSet();

  const provider = new Provider(issuer, {
    jwks,
    clients: [
      {
        client_id: 'authgate',
        client_secret: values.secret,
        grant_types: ['client_credentials', 'authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: redirectUris.length ? redirectUris : ['http://127.0.0.1/cb'],
        post_logout_redirect_uris: postLogoutUris,
        token_endpoint_auth_method: 'client_secret_basic',
      },
      {
        client_id: 'orders-cli',
        client_secret: values['cli-secret'] || values.secret,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
      },
      {
        // RFC 8705 §3: its access tokens are bound to the client certificate of the token request
        // (cnf.x5t#S256), which the test sends in X-SSL-Client-Cert (see features.mTLS).
        client_id: 'orders-mtls',
        client_secret: values['cli-secret'] || values.secret,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
        tls_client_certificate_bound_access_tokens: true,
      },
    ],
    clientDefaults: { id_token_signed_response_alg: alg },
    // ID tokens carry the granted scopes' claims (name, email, ...) even when an access
    // token for userinfo is issued too (oidc-provider's default then leaves them out).
    conformIdTokenClaims: false,
    cookies: { keys: [`cookie-key-${boundPort}-${process.pid}`] },
    claims: {
      openid: ['sub'],
      profile: ['name'],
      email: ['email', 'email_verified'],
    },
    async findAccount(ctx, sub) {
      return {
        accountId: sub,
        async claims() {
          return { sub, name: displayName(sub), email: `${sub}@example.test`, email_verified: true };
        },
      };
    },
    // The code flow of the gateway client always uses PKCE (only S256 exists in oidc-provider 9).
    pkce: { required: (ctx, client) => client.clientId === 'authgate' },
    // Refresh tokens: issued on every code exchange of a client allowed the refresh_token
    // grant (oidc-provider's default needs offline_access, which it drops unless prompt is
    // absent or includes consent), and rotated on every use: the presented token is
    // consumed, a new one returned; presenting a consumed one revokes the whole grant.
    issueRefreshToken: async (ctx, client, code) => client.grantTypeAllowed('refresh_token')
      && (client.clientId === 'authgate' || code.scopes.has('offline_access')),
    rotateRefreshToken: (ctx) => ctx.oidc.client?.clientId === 'authgate',
    // oidc-provider drops offline_access from authorization requests unless prompt
    // includes consent, and ties tokens without it to the provider's login session (a
    // logout at /session/end would revoke them). The gateway's grants outlive that session
    // instead, as offline_access would: only an RFC 7009 revocation (or reuse) ends them.
    expiresWithSession: async (ctx, code) => ctx.oidc.client?.clientId !== 'authgate'
      && !code.scopes.has('offline_access'),
    ttl: {
      ClientCredentials: ttl,
      AccessToken: ttl,
      AuthorizationCode: 120,
      IdToken: 3600,
      RefreshToken: 24 * 3600,
      Interaction: 600,
      Session: 24 * 3600,
      Grant: 24 * 3600,
    },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}`, policy },
    acrValues: [kAcrPwd, kAcrMfa],
    // JWT access tokens of a user's grant carry the login's acr and auth_time (RFC 9068 §2.2.1), from
    // the code or the refresh token they were issued for, so a resource server can ask for a step-up.
    async extraTokenClaims(ctx, token) {
      if (token.kind !== 'AccessToken') return undefined;
      const from = ctx.oidc.entities.AuthorizationCode || ctx.oidc.entities.RefreshToken;
      if (!from || !from.acr) return undefined;
      return { acr: from.acr, auth_time: from.authTime };
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      // RFC 9449: a token request with a DPoP proof gets a DPoP-bound token (JWT access
      // tokens carry cnf.jkt); no server nonce.
      dPoP: { enabled: true },
      introspection: {
        enabled: true,
        // The gateway client may introspect every token; any other client only its own.
        allowedPolicy: (ctx, client, token) => client.clientId === 'authgate' || client.clientId === token.clientId,
      },
      revocation: { enabled: true },
      // The provider listens on plain http: as behind a TLS-terminating proxy, the client
      // certificate arrives URL-encoded in a header (nginx's $ssl_client_escaped_cert).
      mTLS: {
        enabled: true,
        certificateBoundAccessTokens: true,
        getCertificate(ctx) {
          const escaped = ctx.get('x-ssl-client-cert');
          return escaped ? decodeURIComponent(escaped) : undefined;
        },
      },
      rpInitiatedLogout: {
        enabled: true,
        // oidc-provider's page auto-submits with JavaScript and needs the "Yes" button's
        // logout=yes; this form carries it, so a client without JavaScript just POSTs it.
        async logoutSource(ctx, form) {
          ctx.body = `<!DOCTYPE html><html><head><title>Logout Request</title></head><body>${
            form.replace('</form>', '<input type="hidden" name="logout" value="yes"/></form>')
          }</body></html>`;
        },
        async postLogoutSuccessSource(ctx) {
          ctx.body = '<!DOCTYPE html><html><head><title>Sign-out Success</title></head><body>signed out</body></html>';
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource(ctx, client, oneOf) {
          if (oneOf) return oneOf;
          if (ctx.oidc.route !== 'token') {
            // Authorization requests: only when an API scope is asked for.
            const scopes = String(ctx.oidc.params?.scope || '').split(' ');
            return scopes.some((s) => s.startsWith('orders:')) ? 'https://orders.test' : undefined;
          }
          defaulted.add(ctx);
          return 'https://orders.test';
        },
        // Code exchange and refresh without `resource`: the resource of the authorization.
        useGrantedResource: () => true,
        getResourceServerInfo(ctx, resourceIndicator) {
          const info = resourceServers[resourceIndicator];
          if (!info) throw new errors.InvalidTarget();
          if (defaulted.has(ctx)) return { ...info, accessTokenFormat: 'opaque', jwt: undefined };
          return info;
        },
      },
    },
  });

  // ---- test harness: counters, login behaviour, token endpoint failure injection ----
  let stats = newStats();
  const login = { account: 'alice', error: undefined };
  const tokenEndpoint = { mode: 'ok', delayMs: 0 };
  const hanging = new Set();  // release functions of held token requests

  const grantTypeOf = (ctx) => ctx.oidc?.params?.grant_type || 'unknown';
  const grantCounter = (gt) => {
    stats.grants[gt] ||= { success: 0, error: 0 };
    return stats.grants[gt];
  };
  provider.on('grant.success', (ctx) => { grantCounter(grantTypeOf(ctx)).success += 1; });
  provider.on('grant.error', (ctx, err) => {
    grantCounter(grantTypeOf(ctx)).error += 1;
    bump(stats.grant_errors, err.error || 'unknown');
    if (err.error_detail) bump(stats.grant_error_details, err.error_detail);
    if (err.error === 'invalid_grant' && err.error_detail === 'refresh token already used') {
      stats.refresh_token_reuse += 1;
    }
  });
  provider.on('grant.revoked', (ctx) => {
    stats.grants_revoked += 1;
    bump(stats.grants_revoked_by_route, ctx.oidc?.route || 'unknown');
  });
  provider.on('authorization.success', () => { stats.authorizations.success += 1; });
  provider.on('authorization.error', () => { stats.authorizations.error += 1; });
  provider.on('end_session.success', () => { stats.end_session += 1; });
  provider.on('server_error', (ctx, err) => {
    stats.server_errors += 1;
    process.stderr.write(`provider.mjs: server_error on ${ctx.method} ${ctx.path}: ${err.stack || err}\n`);
  });

  const json = (ctx, status, body) => {
    ctx.status = status;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = body;
  };

  async function testRoute(ctx) {
    let body = {};
    if (ctx.method === 'POST') {
      const text = await readBody(ctx.req);
      try {
        body = text ? JSON.parse(text) : {};
      } catch {
        return json(ctx, 400, { error: 'body is not JSON' });
      }
    }
    const route = `${ctx.method} ${ctx.path}`;
    if (route === 'GET /__test/stats') {
      return json(ctx, 200, { ...stats, token_endpoint: { ...stats.token_endpoint, mode: tokenEndpoint.mode, delay_ms: tokenEndpoint.delayMs } });
    }
    if (route === 'POST /__test/reset-stats') {
      stats = newStats();
      return json(ctx, 200, { ok: true });
    }
    if (route === 'POST /__test/token-endpoint') {
      const mode = String(body.mode ?? 'ok');
      const delayMs = Number(body.delay_ms ?? 0);
      if (!['ok', '503', 'hang', '500', 'garbage', 'huge'].includes(mode)) return json(ctx, 400, { error: `unknown mode ${mode}` });
      if (!Number.isInteger(delayMs) || delayMs < 0) return json(ctx, 400, { error: 'delay_ms must be an integer >= 0' });
      tokenEndpoint.mode = mode;
      tokenEndpoint.delayMs = delayMs;
      if (mode !== 'hang') for (const release of [...hanging]) release();
      return json(ctx, 200, { mode, delay_ms: delayMs });
    }
    if (route === 'POST /__test/login') {
      login.account = typeof body.account === 'string' && body.account ? body.account : 'alice';
      login.error = typeof body.error === 'string' && body.error ? body.error : undefined;
      return json(ctx, 200, { account: login.account, error: login.error ?? null });
    }
    return json(ctx, 404, { error: `no test route ${route}` });
  }

  // GET /interaction/:uid - finishes the prompt at once and sends the client back (303).
  async function autoInteraction(ctx) {
    let details;
    try {
      details = await provider.interactionDetails(ctx.req, ctx.res);
    } catch (err) {
      ctx.status = 400;
      ctx.type = 'text';
      ctx.body = `interaction failed: ${err.error_description || err.message}\n`;
      return;
    }
    const { prompt, params, session } = details;
    let result;
    if (login.error) {
      stats.interactions.denied += 1;
      result = { error: login.error, error_description: 'refused by the test harness (/__test/login)' };
    } else if (prompt.name === 'login') {
      stats.interactions.login += 1;
      const acr = requestedAcrs(params).includes(kAcrMfa) ? kAcrMfa : kAcrPwd;
      stats.interactions.logins_by_acr[acr] = (stats.interactions.logins_by_acr[acr] || 0) + 1;
      result = { login: { accountId: params.login_hint || login.account, acr } };
    } else if (prompt.name === 'consent') {
      stats.interactions.consent += 1;
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
      const d = prompt.details;
      if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
      if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(d.missingResourceScopes || {})) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
      const grantId = await grant.save();
      result = { consent: details.grantId ? {} : { grantId } };
    } else {
      stats.interactions.denied += 1;
      result = { error: 'access_denied', error_description: `prompt ${prompt.name} is not supported here` };
    }
    const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: true });
    ctx.status = 303;
    ctx.redirect(returnTo);
  }

  // Before oidc-provider's own routes (provider.use inserts ahead of them).
  provider.use(async (ctx, next) => {
    if (ctx.path.startsWith('/__test/') && testEndpoints) return testRoute(ctx);
    if (ctx.method === 'GET' && /^\/interaction\/[^/]+$/.test(ctx.path)) return autoInteraction(ctx);

    if (ctx.method === 'POST' && ctx.path === '/token') {
      stats.token_endpoint.requests += 1;
      if (tokenEndpoint.mode !== 'ok') {
        const gt = new URLSearchParams(await readBody(ctx.req).catch(() => '')).get('grant_type') || 'unknown';
        bump(stats.token_endpoint.injected, gt);
        if (tokenEndpoint.mode === '500') {
          return json(ctx, 500, { error: 'server_error', error_description: 'token endpoint failing on purpose (test harness)' });
        }
        if (tokenEndpoint.mode === 'garbage') {
          ctx.status = 200;
          ctx.set('Cache-Control', 'no-store');
          ctx.type = 'application/json';
          ctx.body = '{"access_token":"x","token_type":"Bear';
          return undefined;
        }
        if (tokenEndpoint.mode === 'huge') {
          return json(ctx, 200, {
            access_token: 'x', token_type: 'Bearer', expires_in: 300, refresh_token: 'y',
            padding: 'A'.repeat(2 * 1024 * 1024),
          });
        }
        if (tokenEndpoint.mode === '503') {
          stats.token_endpoint.unavailable += 1;
          ctx.set('Retry-After', '1');
          return json(ctx, 503, { error: 'temporarily_unavailable', error_description: 'token endpoint disabled by the test harness' });
        }
        stats.token_endpoint.hung += 1;
        await new Promise((resolve) => {
          const timer = setTimeout(() => release(), 600_000);
          function release() {
            clearTimeout(timer);
            hanging.delete(release);
            resolve();
          }
          hanging.add(release);
          ctx.res.once('close', release);
        });
        ctx.respond = false;
        ctx.req.socket.destroy();
        return undefined;
      }
      if (tokenEndpoint.delayMs > 0) {
        // A client that goes away during the delay (a gateway killed mid-grant) is not
        // served: the grant is never processed, as if the request had not arrived.
        let gone = false;
        const onClose = () => { gone = true; };
        ctx.req.socket.once('close', onClose);
        await new Promise((r) => { setTimeout(r, tokenEndpoint.delayMs); });
        ctx.req.socket.off('close', onClose);
        if (gone || ctx.req.socket.destroyed) {
          stats.token_endpoint.abandoned += 1;
          ctx.respond = false;
          return undefined;
        }
      }
    }

    await next();

    if (ctx.method === 'POST' && ctx.path === '/token/revocation') {
      if (ctx.status === 200) {
        stats.revocations.success += 1;
        const e = ctx.oidc?.entities || {};
        if (e.RefreshToken) stats.revocations.refresh_token += 1;
        if (e.AccessToken) stats.revocations.access_token += 1;
        if (e.ClientCredentials) stats.revocations.client_credentials += 1;
      } else {
        stats.revocations.error += 1;
      }
    }
    return undefined;
  });

  server.off('request', notYet);
  server.on('request', provider.callback());
  process.stdout.write(`READY ${issuer} ${host}:${boundPort}\n`);

  const stop = () => {
    for (const release of [...hanging]) release();
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

const argv = process.argv.slice(2);
if (argv[0] === 'genkey') {
  genkey(argv.slice(1));
} else {
  await serve(argv);
}
