// The snippet travels in the URL fragment (never sent to the server):
// #lang=python&code=...&stdin=...&args=... (URLSearchParams encoding).

export function readFragment(hash = location.hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const out = {};
  for (const key of ['lang', 'code', 'stdin', 'args', 'mode']) {
    const v = params.get(key);
    if (v !== null) out[key] = v;
  }
  return out;
}

export function fragmentFor({ lang, code, stdin, args, mode }) {
  const params = new URLSearchParams();
  params.set('lang', lang);
  params.set('code', code);
  if (stdin) params.set('stdin', stdin);
  if (args) params.set('args', args);
  if (mode && mode !== 'run') params.set('mode', mode);
  return '#' + params.toString();
}

export function shareUrl(state) {
  return location.origin + location.pathname + fragmentFor(state);
}
