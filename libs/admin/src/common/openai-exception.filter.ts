import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { DomainError, ErrorCode, describeError } from '@gw/core';

/** The admin API's edge: every error leaves in OpenAI's shape with the status of its code. */
@Catch()
export class OpenAiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('admin');

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const err = toDomainError(exception);
    if (err.code === ErrorCode.Internal) this.logger.error(exception instanceof Error ? exception.stack : String(exception));
    const d = describeError(err);
    void reply.status(d.status).headers(d.headers).send(d.body);
  }
}

function toDomainError(e: unknown): DomainError {
  if (e instanceof DomainError) return e;
  if (e instanceof HttpException) {
    const status = e.getStatus();
    const res = e.getResponse() as { message?: string | string[] } | string;
    const message = typeof res === 'string' ? res : Array.isArray(res.message) ? res.message.join('; ') : (res.message ?? e.message);
    const code =
      status === 400 ? ErrorCode.InvalidBody
      : status === 401 ? ErrorCode.Unauthorized
      : status === 403 ? ErrorCode.Forbidden
      : status === 404 ? ErrorCode.NotFound
      : status === 409 ? ErrorCode.Conflict
      : status === 413 ? ErrorCode.RequestTooLarge
      : status === 429 ? ErrorCode.RateLimited
      : ErrorCode.Internal;
    return new DomainError(code, message);
  }
  return new DomainError(ErrorCode.Internal, 'Internal error');
}
