// A real OpenID Provider (oidc-provider 9) for authgate's integration tests.
// Listens on 127.0.0.1 only, plain http, issuer http://127.0.0.1:<port>.
//
//   node provider.mjs --port 4100 --jwks keys.json [--alg RS256] [--at-ttl 600]
//       secrets: OIDC_CLIENT_SECRET (client "authgate"), OIDC_CLI_SECRET (client "orders-cli",
//       defaults to OIDC_CLIENT_SECRET); --secret / --cli-secret override them.
//       Prints "READY <issuer>" on stdout once listening; exits 0 on SIGTERM / SIGINT.
//   node provider.mjs genkey --alg RS256|PS256|ES256 --kid KID
//       Prints one private JWK (with kid, alg, use "sig") as JSON on stdout.
//
// Clients (both confidential; oidc-provider accepts client_secret_basic and
// client_secret_post for either, whichever of the two is registered):
//   authgate    client_credentials + authorization_code (redirect http://127.0.0.1/cb).
//               The gateway's introspection client.
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
//   (no resource)         defaulted to https://orders.test, but the access token is OPAQUE;
//                         introspection shows aud https://orders.test and the granted scope.
// JWT access tokens are signed with --alg using the first key of that alg in the JWKS
// file, so a key set [new, old] signs with the new key while publishing both.
// Structured (JWT) tokens cannot be introspected or revoked at oidc-provider's endpoints.
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
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
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail('--port (or OIDC_PORT) must be 1..65535');
  if (!values.jwks) fail('--jwks (or OIDC_JWKS_FILE) is required');
  if (!values.secret) fail('--secret (or OIDC_CLIENT_SECRET) is required');
  const alg = checkAlg(values.alg);
  const ttl = Number(values['at-ttl']);
  if (!Number.isInteger(ttl) || ttl < 1) fail('--at-ttl must be a positive number of seconds');

  const jwks = JSON.parse(readFileSync(values.jwks, 'utf8'));
  const signing = (jwks.keys || []).find((k) => k.alg === alg);
  if (!signing) fail(`${values.jwks} has no key with "alg":"${alg}"`);

  const { default: Provider, errors } = await import('oidc-provider');

  const issuer = `http://127.0.0.1:${port}`;
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
        grant_types: ['client_credentials', 'authorization_code'],
        response_types: ['code'],
        redirect_uris: ['http://127.0.0.1/cb'],
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
    ],
    clientDefaults: { id_token_signed_response_alg: alg },
    cookies: { keys: [`cookie-key-${port}-${process.pid}`] },
    ttl: { ClientCredentials: ttl, AccessToken: ttl },
    features: {
      clientCredentials: { enabled: true },
      introspection: {
        enabled: true,
        // The gateway client may introspect every token; any other client only its own.
        allowedPolicy: (ctx, client, token) => client.clientId === 'authgate' || client.clientId === token.clientId,
      },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource(ctx, client, oneOf) {
          if (oneOf) return oneOf;
          defaulted.add(ctx);
          return 'https://orders.test';
        },
        getResourceServerInfo(ctx, resourceIndicator) {
          const info = resourceServers[resourceIndicator];
          if (!info) throw new errors.InvalidTarget();
          if (defaulted.has(ctx)) return { ...info, accessTokenFormat: 'opaque', jwt: undefined };
          return info;
        },
      },
    },
  });

  const server = provider.listen(port, '127.0.0.1');
  server.on('error', (err) => {
    process.stderr.write(`provider.mjs: listen on 127.0.0.1:${port} failed: ${err.code || err.message}\n`);
    process.exit(3);
  });
  server.on('listening', () => process.stdout.write(`READY ${issuer}\n`));

  const stop = () => {
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
