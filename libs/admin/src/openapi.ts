import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';

/**
 * The admin API's OpenAPI document, generated from the controllers and their DTOs
 * (class-validator constraints described with @nestjs/swagger decorators), served as a UI at
 * /api/docs and as JSON at /api/docs-json. Only /api paths are documented: the data plane is
 * OpenAI's API and registers plain Fastify routes anyway. Call before `app.listen()`.
 */
export function buildAdminOpenApi(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('LLM gateway admin API')
    .setDescription(
      'The control plane: accounts and teams, API keys, BYOK provider keys, routing, billing and operators. ' +
        'Authenticate with `Authorization: Bearer <JWT | management key | ADMIN_TOKEN>`. Errors use the OpenAI shape ' +
        '`{"error": {"message", "type", "code", "param"}}`; lists page with `limit` and `cursor` and answer `{data, next_cursor}`.',
    )
    .setVersion('1')
    .addBearerAuth()
    .build();
  const doc = SwaggerModule.createDocument(app, config);
  doc.paths = Object.fromEntries(Object.entries(doc.paths).filter(([path]) => path.startsWith('/api/')));
  return doc;
}

/**
 * Serves the document. `ui: false` serves only the JSON: the UI's assets come through
 * @fastify/static, whose ESM dependencies Jest's CommonJS sandbox cannot load (Node can).
 */
export function setupAdminOpenApi(app: INestApplication, opts: { ui?: boolean } = {}): OpenAPIObject {
  const doc = buildAdminOpenApi(app);
  SwaggerModule.setup('api/docs', app, doc, { jsonDocumentUrl: 'api/docs-json', ui: opts.ui ?? true, raw: ['json'] });
  return doc;
}
