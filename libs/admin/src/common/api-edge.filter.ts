import { ArgumentsHost, Catch } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { OpenAiExceptionFilter } from './openai-exception.filter';

/**
 * Global filter for what happens before a controller runs (malformed JSON, body too large,
 * unknown /api paths): under /api it answers in the OpenAI error shape like the controllers do;
 * elsewhere (the gateway's own routes, ops endpoints) Nest's default handling is untouched.
 */
@Catch()
export class ApiEdgeFilter extends BaseExceptionFilter {
  private readonly openAi = new OpenAiExceptionFilter();

  override catch(exception: unknown, host: ArgumentsHost): void {
    const url = host.switchToHttp().getRequest<{ url?: string }>().url ?? '';
    if (url === '/api' || url.startsWith('/api/') || url.startsWith('/api?')) return this.openAi.catch(exception, host);
    super.catch(exception, host);
  }
}
