import { ValidationError, ValidationPipe } from '@nestjs/common';
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
