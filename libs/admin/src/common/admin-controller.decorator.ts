import { applyDecorators, Controller, UseFilters, UseGuards, UsePipes } from '@nestjs/common';
import { AdminAuthGuard } from '../auth/admin-auth.guard';
import { OpenAiExceptionFilter } from './openai-exception.filter';
import { createValidationPipe } from './validation';

/**
 * An /api controller: bearer authentication (unless @Public), DTO validation and OpenAI-shaped
 * errors. Applied per controller rather than globally so the gateway's and ops routes, which share
 * the process in standalone mode, are untouched.
 */
export function AdminController(path: string) {
  return applyDecorators(
    Controller(path),
    UseGuards(AdminAuthGuard),
    UseFilters(OpenAiExceptionFilter),
    UsePipes(createValidationPipe()),
  );
}
