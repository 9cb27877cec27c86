import { ValidationError, ValidationPipe, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { DomainError, ErrorCode } from '@gw/core';

/** DTO validation for the admin API: unknown fields rejected, the first bad field named. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: (errors) => {
      const [path, message] = firstProblem(errors);
      return new DomainError(ErrorCode.InvalidBody, message, { param: path });
    },
  });
}

function firstProblem(errors: ValidationError[], parent = ''): [string, string] {
  for (const e of errors) {
    const path = parent ? `${parent}.${e.property}` : e.property;
    if (e.constraints) {
      const msg = Object.values(e.constraints)[0] ?? 'is invalid';
      return [path, msg.startsWith(e.property) ? msg.replace(e.property, path) : `${path}: ${msg}`];
    }
    if (e.children?.length) return firstProblem(e.children, path);
  }
  return ['body', 'invalid body'];
}

/**
 * Postgres text and jsonb refuse NUL characters: a body, query or path value carrying one is a
 * 400 naming the field, not a 500 from the database.
 */
export class RejectNulPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    const where = nulAt(value, metadata.data ?? '');
    if (where !== undefined) {
      const param = where || metadata.type;
      throw new DomainError(ErrorCode.InvalidBody, `${param}: must not contain NUL characters`, { param });
    }
    return value;
  }
}

function nulAt(v: unknown, path: string): string | undefined {
  if (typeof v === 'string') return v.includes('\0') ? path : undefined;
  if (Array.isArray(v)) {
    for (const [i, x] of v.entries()) {
      const at = nulAt(x, `${path}[${i}]`);
      if (at !== undefined) return at;
    }
  } else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      const at = k.includes('\0') ? (path ? `${path}.${k}` : k) : nulAt(x, path ? `${path}.${k}` : k);
      if (at !== undefined) return at;
    }
  }
  return undefined;
}
