import { applyDecorators, Controller, UseFilters, UseGuards, UsePipes } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AdminAuthGuard } from '../auth/admin-auth.guard';
import { OpenAiExceptionFilter } from './openai-exception.filter';
import { createValidationPipe, RejectNulPipe } from './validation';

/**
 * An /api controller: bearer authentication (unless @Public), DTO validation and OpenAI-shaped
 * errors, documented in OpenAPI under a tag derived from the path (`api/keys` -> `keys`,
 * `api/admin/tenants` -> `admin`). Applied per controller rather than globally so the gateway's and
 * ops routes, which share the process in standalone mode, are untouched.
 */
export function AdminController(path: string) {
  const tag = path.replace(/^api\/?/, '').split('/')[0] || 'api';
  return applyDecorators(
    Controller(path),
    ApiTags(tag),
    ApiBearerAuth(),
    UseGuards(AdminAuthGuard),
    UseFilters(OpenAiExceptionFilter),
    UsePipes(new RejectNulPipe(), createValidationPipe()),
  );
}
