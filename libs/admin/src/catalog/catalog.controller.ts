import { Body, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiParam } from '@nestjs/swagger';
import { DomainError, ErrorCode, microsToUsdText } from '@gw/core';
import { CatalogRepository, Prisma, type CatalogSeedRow } from '@gw/db';
import { InvalidationBus } from '@gw/metering';
import { AdminController } from '../common/admin-controller.decorator';
import { ListQueryDto, listOf } from '../common/pagination.dto';
import { CurrentPrincipal, OperatorOnly, type Principal } from '../auth/principal';
import { PROVIDER_IDS } from '../provider-keys/provider-keys.dto';
import { CreateCatalogModelDto, UpdateCatalogModelDto } from './catalog.dto';
import { pricesFromUsd } from './catalog-file';

/** Swagger names the trailing wildcard `path`. */
const ModelIdParam = () => ApiParam({ name: 'path', description: 'The model id, provider/model (its slashes as they are)', example: 'openai/gpt-4o-mini' });

type CatalogRow = Awaited<ReturnType<CatalogRepository['listAll']>>[number];

/** A catalog row as the API shows it: prices in USD per million tokens, as strings (like /v1/models). */
export function catalogModelView(m: CatalogRow) {
  return {
    id: m.id,
    provider: m.provider,
    upstream_id: m.upstreamId,
    canonical: m.canonicalId,
    name: m.name,
    context_length: m.contextLength,
    max_output_tokens: m.maxOutputTokens,
    pricing: {
      input: microsToUsdText(m.inputPrice),
      output: microsToUsdText(m.outputPrice),
      cache_read: microsToUsdText(m.cacheReadPrice),
      cache_write: microsToUsdText(m.cacheWritePrice),
      cache_write_1h: microsToUsdText(m.cacheWrite1hPrice),
    },
    capabilities: m.capabilities,
    enabled: m.enabled,
    verified: m.verified,
    source: m.source,
    as_of: m.asOf ? m.asOf.toISOString().slice(0, 10) : null,
    operator_edited: m.operatorEdited,
    updated_at: m.updatedAt.toISOString(),
  };
}

/**
 * The model catalog: everyone signed in reads it (tenants see the enabled models), operators add
 * and change models. An operator's edit survives re-seeding from prisma/catalog.json and reaches
 * every gateway within a second (catalog invalidation).
 */
@AdminController('api/models')
export class CatalogController {
  constructor(
    private readonly catalog: CatalogRepository,
    private readonly bus: InvalidationBus,
  ) {}

  @Get()
  @ApiOperation({ summary: 'The catalog with prices (USD per million tokens), in id order; operators also see disabled models' })
  async list(@CurrentPrincipal() p: Principal, @Query() q: ListQueryDto) {
    return listOf(await this.catalog.page(q, p.kind === 'operator'), catalogModelView);
  }

  @Get('*')
  @ModelIdParam()
  @ApiOperation({ summary: 'One model, by its provider/model id' })
  async get(@CurrentPrincipal() p: Principal, @Param('*') raw: string) {
    const id = idOf(raw);
    const m = await this.catalog.findById(id);
    if (!m || (!m.enabled && p.kind !== 'operator')) throw notFound(id);
    return catalogModelView(m);
  }

  @Post()
  @OperatorOnly()
  @ApiOperation({ summary: 'Operators: add a model (every gateway serves it within a second)' })
  async create(@Body() dto: CreateCatalogModelDto) {
    const provider = dto.id.slice(0, dto.id.indexOf('/'));
    if (!PROVIDER_IDS.includes(provider)) {
      throw new DomainError(ErrorCode.InvalidBody, `Unknown provider "${provider}" (one of ${PROVIDER_IDS.join(', ')})`, { param: 'id' });
    }
    assertOutputFits(dto.context_length, dto.max_output_tokens);
    await this.assertCanonical(dto.canonical, dto.id);
    const row: CatalogSeedRow & { enabled: boolean } = {
      id: dto.id,
      provider,
      upstreamId: dto.upstream_id,
      canonicalId: dto.canonical ?? null,
      name: dto.name ?? dto.id,
      contextLength: dto.context_length,
      maxOutputTokens: dto.max_output_tokens,
      ...pricesFromUsd(dto.pricing),
      capabilities: dto.capabilities ?? [],
      source: null,
      asOf: null,
      verified: false,
      enabled: dto.enabled ?? true,
    };
    try {
      const created = await this.catalog.create(row);
      await this.bus.publish({ type: 'catalog' });
      return catalogModelView(created);
    } catch (e) {
      if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === 'P2002') {
        throw new DomainError(ErrorCode.Conflict, `Model ${dto.id} already exists; change it with PATCH /api/models/${dto.id}`, { param: 'id' });
      }
      throw e;
    }
  }

  @Patch('*')
  @ModelIdParam()
  @OperatorOnly()
  @ApiOperation({ summary: 'Operators: change a model (prices, limits, enabled); kept across re-seeding' })
  async update(@Param('*') raw: string, @Body() dto: UpdateCatalogModelDto) {
    const id = idOf(raw);
    const current = await this.catalog.findById(id);
    if (!current) throw notFound(id);
    // Nothing to change: the row stays as it is, and keeps taking the seed's updates.
    if (Object.values(dto).every((v) => v === undefined)) return catalogModelView(current);
    assertOutputFits(dto.context_length ?? current.contextLength, dto.max_output_tokens ?? current.maxOutputTokens);
    await this.assertCanonical(dto.canonical, id);
    if (dto.canonical !== undefined && dto.canonical !== null) await this.assertNotNamedCanonical(id);
    const changed = await this.catalog.update(id, {
      upstreamId: dto.upstream_id,
      name: dto.name,
      canonicalId: dto.canonical,
      contextLength: dto.context_length,
      maxOutputTokens: dto.max_output_tokens,
      ...(dto.pricing ? pricesFromUsd(dto.pricing) : {}),
      capabilities: dto.capabilities,
      enabled: dto.enabled,
    });
    await this.bus.publish({ type: 'catalog' });
    return catalogModelView(changed);
  }

  /**
   * A canonical id names another model of the catalog, itself canonical (routing groups models
   * by it: a chain would split the group).
   */
  private async assertCanonical(canonical: string | null | undefined, id: string): Promise<void> {
    if (canonical === undefined || canonical === null) return;
    if (canonical === id) throw new DomainError(ErrorCode.InvalidBody, 'canonical must name another model', { param: 'canonical' });
    const target = await this.catalog.findById(canonical);
    if (!target) throw new DomainError(ErrorCode.InvalidBody, `canonical: no model ${canonical} in the catalog`, { param: 'canonical' });
    if (target.canonicalId !== null && target.canonicalId !== target.id) {
      throw new DomainError(ErrorCode.InvalidBody, `canonical: ${canonical} is itself the same model as ${target.canonicalId}; name that one`, { param: 'canonical' });
    }
  }

  /**
   * The other end of the same rule: a model that others name as their canonical stays canonical
   * itself, or they would chain through it. The catalog is a few hundred rows, read once per
   * operator edit.
   */
  private async assertNotNamedCanonical(id: string): Promise<void> {
    const naming = (await this.catalog.listAll()).filter((m) => m.canonicalId === id && m.id !== id).map((m) => m.id);
    if (naming.length > 0) {
      const some = naming.slice(0, 3).join(', ') + (naming.length > 3 ? ` and ${naming.length - 3} more` : '');
      throw new DomainError(ErrorCode.InvalidBody, `canonical: ${id} is the canonical model of ${some}; it cannot name another`, { param: 'canonical' });
    }
  }
}

/** The id is the rest of the path (`/api/models/openrouter/anthropic/claude-haiku-4.5`), decoded by Fastify. */
function idOf(raw: string): string {
  return raw.replace(/\/+$/, '');
}

function notFound(id: string): DomainError {
  return new DomainError(ErrorCode.ModelNotFound, `No model ${id} in the catalog`, { param: 'id' });
}

function assertOutputFits(contextLength: number, maxOutput: number): void {
  if (maxOutput > contextLength) {
    throw new DomainError(ErrorCode.InvalidBody, `max_output_tokens (${maxOutput}) must not exceed context_length (${contextLength})`, { param: 'max_output_tokens' });
  }
}

