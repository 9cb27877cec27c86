/** Joins a configured base URL and an API path without doubling or losing the slash. */
export function joinUrl(base: string, path: string): string {
  const b = base.endsWith('/') ? base.slice(0, -1) : base;
  const p = path.startsWith('/') ? path : `/${path}`;
  return b + p;
}

/**
 * `base` + `path` + query. `{model}` in the path becomes the URL-encoded upstream model id, so
 * vendors that put the model (or an Azure deployment) in the path stay plain data.
 */
export function upstreamUrl(base: string, path: string, model: string, query?: Readonly<Record<string, string>>): string {
  const url = joinUrl(base, path.split('{model}').join(encodeURIComponent(model)));
  if (query === undefined) return url;
  const q = new URLSearchParams(query).toString();
  if (q === '') return url;
  return `${url}${url.includes('?') ? '&' : '?'}${q}`;
}
