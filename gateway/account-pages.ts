import type { RouteHandler } from '../foundation/http/server.js';

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title} · Fixup</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem}input,button{font:inherit;padding:.4rem;margin:.3rem 0;width:100%}#out{margin-top:1rem}</style></head>
<body><h1>${title}</h1>${body}<p id="out" role="status"></p><script src="/account/account.js"></script></body>
</html>
`;
}

const SCRIPT = `
const token = new URLSearchParams(location.search).get('token') || '';
const out = document.getElementById('out');
async function call(query, variables) {
  const res = await fetch('/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  const body = await res.json();
  if (body.errors) throw new Error(body.errors[0].message);
  return body.data;
}
document.getElementById('go').addEventListener('click', async () => {
  out.textContent = 'Working…';
  try {
    if (location.pathname === '/sign-in') {
      const data = await call('mutation($t: String!) { signInWithLink(token: $t) { user { displayName } } }', { t: token });
      out.textContent = 'You are signed in as ' + data.signInWithLink.user.displayName + '. A frontend would keep this session; this page does not.';
    } else if (document.getElementById('password') === null) {
      await call('mutation($t: String!) { verifyEmail(token: $t) { id emailVerified } }', { t: token });
      out.textContent = 'Your email address is confirmed.';
    } else {
      const password = document.getElementById('password').value;
      await call('mutation($t: String!, $p: String!) { resetPassword(token: $t, newPassword: $p) }', { t: token, p: password });
      out.textContent = 'Your password is changed. Sign in with it.';
    }
  } catch (err) {
    out.textContent = err.message;
  }
});
`;

/**
 * accountPages serve what mailed links open when no frontend is configured
 * (development): a page that confirms the address, one that sets a new
 * password, and one that signs in with a mailed link. Each calls the gateway's own mutation on a click, never on load,
 * so a mail scanner that fetches the link changes nothing.
 */
export function accountPages(): Record<string, RouteHandler> {
  const html =
    (title: string, body: string): RouteHandler =>
    (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', ...SECURITY_HEADERS });
      res.end(page(title, body));
    };
  return {
    'GET /verify-email': html('Confirm your email', '<button id="go">Confirm my email address</button>'),
    'GET /sign-in': html('Sign in to Fixup', '<button id="go">Sign me in</button>'),
    'GET /reset-password': html(
      'Choose a new password',
      '<label>New password (10 to 256 characters)<input id="password" type="password" minlength="10" maxlength="256" autocomplete="new-password"></label><button id="go">Set my password</button>',
    ),
    'GET /account/account.js': (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', ...SECURITY_HEADERS });
      res.end(SCRIPT);
    },
  };
}
