import { BoundedMemo } from '@gw/core';

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
  if (query === undefined) return pathUrl(base, path, model);
  const url = pathUrl(base, path, model);
  const q = new URLSearchParams(query).toString();
  if (q === '') return url;
  return `${url}${url.includes('?') ? '&' : '?'}${q}`;
}

/** Joined URLs by base, path and model: every request of a route builds the same one. */
const joined = new BoundedMemo<string>(10_000);

function pathUrl(base: string, path: string, model: string): string {
  return joined.get(`${base}\n${path}\n${model}`, () => joinUrl(base, path.split('{model}').join(encodeURIComponent(model))));
}
