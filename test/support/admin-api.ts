import { RequestMethod } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { IS_PUBLIC, OPERATOR_ONLY, REQUIRES } from '@gw/admin';

// Tests read answers loosely (res.body.error.param); the assertions are the type check.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface ApiAnswer<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** One JSON call to the admin API. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function call<T = any>(
  base: string,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string>; raw?: string } = {},
): Promise<ApiAnswer<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const hasBody = opts.body !== undefined || opts.raw !== undefined;
  if (hasBody) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, { method, headers, body: opts.raw ?? (opts.body !== undefined ? JSON.stringify(opts.body) : undefined) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: body as T, headers: res.headers };
}

/** An admin route as Nest registered it. */
export interface AdminRoute {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** With Nest's `:param` placeholders, e.g. `/api/keys/:id/rotate`. */
  path: string;
  params: string[];
  isPublic: boolean;
  operatorOnly: boolean;
  requires: string[];
}

const METHODS: Partial<Record<RequestMethod, AdminRoute['method']>> = {
  [RequestMethod.GET]: 'GET',
  [RequestMethod.POST]: 'POST',
  [RequestMethod.PUT]: 'PUT',
  [RequestMethod.PATCH]: 'PATCH',
  [RequestMethod.DELETE]: 'DELETE',
};

const join = (...parts: string[]) => `/${parts.flatMap((p) => p.split('/')).filter(Boolean).join('/')}`;

/**
 * The route table of the running app, read from Nest's own controller metadata (what its router
 * registers), restricted to /api. Tests generated from it cover routes added later automatically.
 */
export function adminRoutes(app: NestFastifyApplication): AdminRoute[] {
  const routes = new Map<string, AdminRoute>();
  for (const mod of app.get(ModulesContainer).values()) {
    for (const wrapper of mod.controllers.values()) {
      const cls = wrapper.metatype as (new (...args: never[]) => unknown) | undefined;
      if (!cls) continue;
      const bases = [Reflect.getMetadata('path', cls) as string | string[] | undefined].flat().filter((b): b is string => b !== undefined);
      for (const name of Object.getOwnPropertyNames(cls.prototype)) {
        const handler = (cls.prototype as Record<string, unknown>)[name];
        if (name === 'constructor' || typeof handler !== 'function') continue;
        const m = Reflect.getMetadata('method', handler) as RequestMethod | undefined;
        const sub = Reflect.getMetadata('path', handler) as string | string[] | undefined;
        const method = m === undefined ? undefined : METHODS[m];
        if (!method || sub === undefined) continue;
        const meta = <T>(key: string): T | undefined => (Reflect.getMetadata(key, handler) ?? Reflect.getMetadata(key, cls)) as T | undefined;
        for (const base of bases) {
          for (const s of [sub].flat()) {
            const path = join(base, s);
            if (!path.startsWith('/api/')) continue;
            routes.set(`${method} ${path}`, {
              method,
              path,
              params: [...path.matchAll(/:([A-Za-z0-9_]+)/g)].map((x) => x[1]!),
              isPublic: meta<boolean>(IS_PUBLIC) === true,
              operatorOnly: meta<boolean>(OPERATOR_ONLY) === true,
              requires: meta<string[]>(REQUIRES) ?? [],
            });
          }
        }
      }
    }
  }
  return [...routes.values()].sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
}
