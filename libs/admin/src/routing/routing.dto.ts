import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ALIAS_STRATEGIES, SORTS } from '@gw/routing';
import { PROVIDER_IDS } from '../provider-keys/provider-keys.dto';

/**
 * OpenAPI description of the routing document. The document is validated by
 * `validateRoutingDocument` (@gw/routing), not by class-validator: it is one JSON object with
 * maps keyed by alias name, and its error paths (`aliases.my-fast.targets[0].model`) are exact.
 */
class AliasTargetDoc {
  @ApiProperty({ example: 'openai/gpt-4o-mini', description: 'provider/model' }) model!: string;
  @ApiPropertyOptional({ minimum: 1, maximum: 1000, description: 'weighted aliases only' }) weight?: number;
}

class AliasDoc {
  @ApiPropertyOptional({ enum: ALIAS_STRATEGIES, default: 'ordered' }) strategy?: string;
  @ApiProperty({ type: [AliasTargetDoc], minItems: 1, maxItems: 10 }) targets!: AliasTargetDoc[];
}

class MaxPriceDoc {
  @ApiPropertyOptional({ description: 'USD per million prompt tokens' }) prompt?: number;
  @ApiPropertyOptional({ description: 'USD per million completion tokens' }) completion?: number;
}

class ProviderPreferencesDoc {
  @ApiPropertyOptional({ type: [String], enum: PROVIDER_IDS }) order?: string[];
  @ApiPropertyOptional({ type: [String], enum: PROVIDER_IDS }) only?: string[];
  @ApiPropertyOptional({ type: [String], enum: PROVIDER_IDS }) ignore?: string[];
  @ApiPropertyOptional() allow_fallbacks?: boolean;
  @ApiPropertyOptional({ enum: SORTS }) sort?: string;
  @ApiPropertyOptional({ type: MaxPriceDoc }) max_price?: MaxPriceDoc;
}

class DataPolicyDoc {
  @ApiProperty({ type: [String], enum: PROVIDER_IDS, description: 'Providers this tenant never uses.' }) excluded_providers!: string[];
}

class RoutingRuleDoc {
  @ApiProperty({ enum: ['size', 'max_cost', 'split'] }) type!: string;
  @ApiPropertyOptional({ maxLength: 100 }) name?: string;
  @ApiPropertyOptional({ type: [String], description: 'Requested models the rule applies to (models, aliases, prefixes ending in *).' }) models?: string[];
  @ApiPropertyOptional({ description: 'size' }) min_prompt_tokens?: number;
  @ApiPropertyOptional({ description: 'size' }) max_prompt_tokens?: number;
  @ApiPropertyOptional({ description: 'size: provider/model or an alias' }) target?: string;
  @ApiPropertyOptional({ description: 'max_cost: USD per request' }) max_usd?: number;
  @ApiPropertyOptional({ type: [AliasTargetDoc], description: 'split: weighted targets' }) targets?: AliasTargetDoc[];
}

export class RoutingDocumentDoc {
  @ApiPropertyOptional({ enum: [1], default: 1 }) version?: number;
  @ApiPropertyOptional({ type: 'object', additionalProperties: { $ref: '#/components/schemas/AliasDoc' }, example: { 'my-fast': { strategy: 'ordered', targets: [{ model: 'openai/gpt-4o-mini' }, { model: 'anthropic/claude-haiku-4.5' }] } } })
  aliases?: Record<string, AliasDoc>;
  @ApiPropertyOptional({ type: ProviderPreferencesDoc }) provider_preferences?: ProviderPreferencesDoc;
  @ApiPropertyOptional({ enum: ['reject', 'drop'], default: 'reject', description: 'Parameters the chosen provider cannot honour: 400, or dropped.' }) unsupported_params?: string;
  @ApiPropertyOptional({ type: DataPolicyDoc }) data_policy?: DataPolicyDoc;
  @ApiPropertyOptional({ type: [RoutingRuleDoc] }) rules?: RoutingRuleDoc[];
  @ApiPropertyOptional({ default: false, description: "When a provider refuses one of your own keys (401, 403, 402, 429), serve the request on the platform's capacity and your credits instead of returning the error." })
  byok_fallback_to_platform?: boolean;
}

export const ROUTING_EXTRA_MODELS = [AliasDoc];
