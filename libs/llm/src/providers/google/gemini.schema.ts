import type { JsonObject, JsonValue } from '../../openai.types';
import { isRecord } from '../../upstream-errors';
import type { GeminiSchema, GeminiSchemaType } from './gemini.types';

/**
 * JSON Schema -> the schemas Gemini accepts (wire-formats.md §3.4, §5.6).
 *
 * Tool parameters go to `parameters` (the OpenAPI 3.0 subset), converted through an allowlist of
 * the SDK `Schema` keys, rather than to `parametersJsonSchema`: that field still answers 400 to
 * `$schema` (QwenLM/qwen-code#1186) and which keywords it takes is undocumented, while every
 * `parameters` failure seen in the field has a deterministic fix here (the allowlist approach is
 * what @langchain/google settled on, langchain-ai/langchainjs#11606). Structured output goes to
 * `responseJsonSchema`, whose keyword list the SDK documents, filtered to that list.
 */

const MAX_DEPTH = 24;
/**
 * Nodes one conversion may produce. `$ref`s are expanded inline and a union repeats its node's
 * own properties in every branch, so a small hostile schema could otherwise grow exponentially
 * and hold the event loop; past the budget, nodes become open objects.
 */
const MAX_NODES = 1_000;

const TYPES: Record<string, GeminiSchemaType> = {
  string: 'STRING',
  number: 'NUMBER',
  integer: 'INTEGER',
  boolean: 'BOOLEAN',
  array: 'ARRAY',
  object: 'OBJECT',
  null: 'NULL',
};

/** `format` values Gemini takes per type; others answer 400 ("only 'enum' and 'date-time' are supported for STRING"). */
const FORMATS: Partial<Record<GeminiSchemaType, ReadonlySet<string>>> = {
  STRING: new Set(['enum', 'date-time']),
  NUMBER: new Set(['float', 'double']),
  INTEGER: new Set(['int32', 'int64']),
};

interface Walk {
  root: JsonObject;
  /** `$ref`s being expanded, to cut recursive schemas. */
  stack: string[];
  /** Nodes converted so far (MAX_NODES). */
  nodes: number;
}

/**
 * Tool `parameters`: undefined when the tool takes no arguments, because Gemini rejects an OBJECT
 * with empty `properties` ("should be non-empty for OBJECT type").
 */
export function toGeminiParameters(schema: JsonObject | undefined): GeminiSchema | undefined {
  if (schema === undefined) return undefined;
  const out = convert(schema, { root: schema, stack: [], nodes: 0 }, 0);
  if (out.type === 'OBJECT' && out.properties === undefined) return undefined;
  return out;
}

/** One JSON Schema node -> the OpenAPI subset. Exported for tests. */
export function toGeminiSchema(schema: JsonValue): GeminiSchema {
  const root = isRecord(schema) ? (schema as JsonObject) : {};
  return convert(schema, { root, stack: [], nodes: 0 }, 0);
}

function convert(input: JsonValue | undefined, w: Walk, depth: number): GeminiSchema {
  // `true`, `{}`: any value. Gemini has no "any" type; a string lets the model still say anything.
  if (!isRecord(input)) return { type: 'STRING' };
  if (depth > MAX_DEPTH || ++w.nodes > MAX_NODES) return describe({ type: 'OBJECT' }, input);
  let node = input as JsonObject;

  if (typeof node.$ref === 'string') {
    const ref = node.$ref;
    const target = w.stack.includes(ref) ? undefined : lookup(w.root, ref);
    // A recursive or unresolvable reference ends as an open object; Gemini has no $ref here.
    if (target === undefined) return describe({ type: 'OBJECT' }, node);
    const { $ref: _ref, ...siblings } = node;
    w.stack.push(ref);
    const out = convert({ ...target, ...siblings }, w, depth + 1);
    w.stack.pop();
    return out;
  }
  if (Array.isArray(node.allOf)) node = mergeAllOf(node, resolvedIn(w));

  let nullable = node.nullable === true;
  let types = typeof node.type === 'string' ? [node.type] : Array.isArray(node.type) ? node.type.filter((t): t is string => typeof t === 'string') : [];
  // Type arrays are "Proto field is not repeating" (zed-industries/zed#53919): null becomes nullable.
  if (types.length > 1 && types.includes('null')) {
    nullable = true;
    types = types.filter((t) => t !== 'null');
  }

  const union = Array.isArray(node.anyOf) ? node.anyOf : Array.isArray(node.oneOf) ? node.oneOf : undefined;
  if (union !== undefined && !constraintsOnly(node, union)) {
    const branches = union.filter((b) => !(isRecord(b) && b.type === 'null'));
    if (branches.length < union.length) nullable = true;
    // A typed node's own shape (its type, properties and required) holds in every branch: each
    // branch is the node and the branch merged, or the node's own properties would be lost.
    const { anyOf: _a, oneOf: _o, title: _t, description: _d, ...shared } = node;
    const own = typed(node) ? shared : undefined;
    const branchOf = (b: JsonValue) => convert(own === undefined ? b : { ...own, allOf: [b] }, w, depth + 1);
    if (branches.length === 1) {
      const inner = branchOf(branches[0]);
      return withNullable(describe(inner, node), nullable);
    }
    if (branches.length > 1) {
      const out = describe({ anyOf: branches.map(branchOf) }, node);
      return withNullable(out, nullable);
    }
    types = ['null'];
  }
  if (types.length > 1) {
    const { type: _t, title: _ti, description: _d, ...rest } = node;
    return withNullable(describe({ anyOf: types.map((t) => convert({ ...rest, type: t }, w, depth + 1)) }, node), nullable);
  }

  const type = TYPES[types[0] ?? inferType(node)] ?? 'STRING';
  const out: GeminiSchema = describe({ type }, node);
  if (nullable) out.nullable = true;

  const values = Array.isArray(node.enum) ? node.enum : node.const !== undefined ? [node.const] : undefined;
  if (values !== undefined) {
    const present = values.filter((v) => v !== null);
    if (present.length < values.length) out.nullable = true;
    if (type === 'STRING' && present.every((v) => typeof v === 'string')) {
      out.enum = present as string[];
    } else {
      // Gemini enums are strings only ("Invalid value ... (TYPE_STRING)", microsoft/azure-devops-mcp#145):
      // keep the constraint as prose rather than change the type the client's tool expects.
      out.description = appendSentence(out.description, `Allowed values: ${present.map((v) => JSON.stringify(v)).join(', ')}.`);
    }
  }
  if (typeof node.format === 'string' && FORMATS[type]?.has(node.format)) out.format = node.format;

  switch (type) {
    case 'STRING':
      copyCount(node, out, 'minLength');
      copyCount(node, out, 'maxLength');
      if (typeof node.pattern === 'string') out.pattern = node.pattern;
      break;
    case 'NUMBER':
    case 'INTEGER':
      if (typeof node.minimum === 'number') out.minimum = node.minimum;
      else if (typeof node.exclusiveMinimum === 'number') out.minimum = node.exclusiveMinimum;
      if (typeof node.maximum === 'number') out.maximum = node.maximum;
      else if (typeof node.exclusiveMaximum === 'number') out.maximum = node.exclusiveMaximum;
      break;
    case 'ARRAY': {
      // An array without `items` is "missing field" (cline/cline#7339); tuples keep their first item.
      const items = Array.isArray(node.items) ? node.items[0] : Array.isArray(node.prefixItems) ? node.prefixItems[0] : node.items;
      out.items = items === undefined ? { type: 'STRING' } : convert(items, w, depth + 1);
      copyCount(node, out, 'minItems');
      copyCount(node, out, 'maxItems');
      break;
    }
    case 'OBJECT': {
      const props = isRecord(node.properties) ? (node.properties as JsonObject) : undefined;
      if (props !== undefined && Object.keys(props).length > 0) {
        out.properties = {};
        for (const [k, v] of Object.entries(props)) out.properties[k] = convert(v, w, depth + 1);
        const required = Array.isArray(node.required) ? node.required.filter((r): r is string => typeof r === 'string' && r in props) : [];
        if (required.length > 0) out.required = [...new Set(required)];
        const ordering = Array.isArray(node.propertyOrdering) ? node.propertyOrdering.filter((r): r is string => typeof r === 'string' && r in props) : [];
        if (ordering.length > 0) out.propertyOrdering = ordering;
      }
      copyCount(node, out, 'minProperties');
      copyCount(node, out, 'maxProperties');
      break;
    }
    default:
      break;
  }
  if (node.default !== undefined) out.default = node.default;
  const example = node.example ?? (Array.isArray(node.examples) ? node.examples[0] : undefined);
  if (example !== undefined) out.example = example;
  return out;
}

/**
 * `{type:"object", properties, anyOf:[{required:["a"]},{required:["b"]}]}`: the union only adds
 * constraints to a typed node. Gemini cannot express them; the node itself is kept.
 */
function constraintsOnly(node: JsonObject, union: JsonValue[]): boolean {
  const shapes = ['type', '$ref', 'properties', 'items', 'enum', 'const', 'anyOf', 'oneOf', 'allOf'];
  return typed(node) && union.every((b) => isRecord(b) && shapes.every((k) => (b as JsonObject)[k] === undefined));
}

/** A node with a type of its own (not null) or properties. */
function typed(node: JsonObject): boolean {
  return (typeof node.type === 'string' && node.type !== 'null') || isRecord(node.properties);
}

function inferType(node: JsonObject): string {
  if (isRecord(node.properties)) return 'object';
  if (node.items !== undefined || node.prefixItems !== undefined) return 'array';
  const values = Array.isArray(node.enum) ? node.enum : node.const !== undefined ? [node.const] : [];
  if (values.length > 0 && values.every((v) => typeof v === 'number')) return values.every(Number.isInteger) ? 'integer' : 'number';
  if (values.length > 0 && values.every((v) => typeof v === 'boolean')) return 'boolean';
  return 'string';
}

/** An `allOf` member as merged: for `parameters`, a `$ref` is resolved (Gemini has none there). */
function resolvedIn(w: Walk): (member: JsonObject) => JsonObject {
  return (m) => (typeof m.$ref === 'string' && !w.stack.includes(m.$ref) ? (lookup(w.root, m.$ref) ?? {}) : m);
}

/**
 * `allOf` members merged into their node, in order: properties and required united, any other
 * key kept from the node first, then from the first member that has it (for `responseJsonSchema`,
 * where `$ref` stays, a second `$ref` among the members is lost: its keywords cannot say "both").
 */
function mergeAllOf(node: JsonObject, resolve: (member: JsonObject) => JsonObject = (m) => m, seen = new Set<JsonObject>([node])): JsonObject {
  const { allOf, ...rest } = node;
  const merged: JsonObject = { ...rest };
  const props: JsonObject = isRecord(rest.properties) ? { ...(rest.properties as JsonObject) } : {};
  const required = new Set<string>(Array.isArray(rest.required) ? rest.required.filter((r): r is string => typeof r === 'string') : []);
  for (const m of Array.isArray(allOf) ? allOf : []) {
    if (!isRecord(m)) continue;
    const member = resolve(m as JsonObject);
    // A member that is itself an allOf (often through a $ref) is merged first: its required
    // survive. One already being merged (an allOf that refers back to itself) adds nothing.
    if (seen.has(member)) continue;
    seen.add(member);
    const mo = Array.isArray(member.allOf) ? mergeAllOf(member, resolve, seen) : member;
    if (isRecord(mo.properties)) Object.assign(props, mo.properties);
    if (Array.isArray(mo.required)) for (const r of mo.required) if (typeof r === 'string') required.add(r);
    for (const [k, v] of Object.entries(mo)) if (k !== 'properties' && k !== 'required' && merged[k] === undefined) merged[k] = v;
  }
  if (Object.keys(props).length > 0) merged.properties = props;
  if (required.size > 0) merged.required = [...required];
  return merged;
}

/** `#/$defs/X`, `#/definitions/X` or any JSON pointer into the root schema. */
function lookup(root: JsonObject, ref: string): JsonObject | undefined {
  if (ref === '#') return root;
  if (!ref.startsWith('#/')) return undefined;
  let at: JsonValue | undefined = root;
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (!isRecord(at)) return undefined;
    at = (at as JsonObject)[key];
  }
  return isRecord(at) ? (at as JsonObject) : undefined;
}

function describe(out: GeminiSchema, node: JsonObject): GeminiSchema {
  if (typeof node.title === 'string' && out.title === undefined) out.title = node.title;
  if (typeof node.description === 'string' && out.description === undefined) out.description = node.description;
  return out;
}

function withNullable(out: GeminiSchema, nullable: boolean): GeminiSchema {
  if (nullable) out.nullable = true;
  return out;
}

function appendSentence(text: string | undefined, sentence: string): string {
  return text === undefined || text === '' ? sentence : `${text.trimEnd()} ${sentence}`;
}

type CountKey = 'minLength' | 'maxLength' | 'minItems' | 'maxItems' | 'minProperties' | 'maxProperties';

function copyCount(node: JsonObject, out: GeminiSchema, key: CountKey): void {
  const v = node[key];
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) out[key] = v;
}

// ---------------------------------------------------------------------------------------------
// responseJsonSchema
// ---------------------------------------------------------------------------------------------

/** Keywords the SDK documents for `responseJsonSchema` (wire-formats.md §3.4). */
const JSON_SCHEMA_KEYS = new Set([
  '$id',
  '$defs',
  '$ref',
  '$anchor',
  'type',
  'format',
  'title',
  'description',
  'enum',
  'items',
  'prefixItems',
  'minItems',
  'maxItems',
  'minimum',
  'maximum',
  'anyOf',
  'oneOf',
  'properties',
  'additionalProperties',
  'required',
  'propertyOrdering',
]);

/** JSON Schema for `responseJsonSchema`: documented keywords only; `const` becomes a one-value `enum`. */
export function toGeminiResponseJsonSchema(schema: JsonObject): JsonObject {
  return filterJsonSchema(schema, 0) as JsonObject;
}

function filterJsonSchema(node: JsonValue, depth: number): JsonValue {
  if (!isRecord(node) || depth > MAX_DEPTH) return node;
  // `allOf` is not among the documented keywords: its members are merged into the node (what
  // Pydantic writes for a described reference, `{allOf:[{$ref}], description}`, becomes
  // `{$ref, description}`), rather than dropped with the constraint they carry.
  const src = Array.isArray((node as JsonObject).allOf) ? mergeAllOf(node as JsonObject) : (node as JsonObject);
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(src)) {
    if (key === 'definitions' && isRecord(value)) {
      out.$defs = mapValues(value as JsonObject, depth);
      continue;
    }
    if (key === 'const' && src.enum === undefined) {
      out.enum = [value];
      continue;
    }
    if (!JSON_SCHEMA_KEYS.has(key)) continue;
    if (key === '$ref' && typeof value === 'string') out.$ref = value.replace(/^#\/definitions\//, '#/$defs/');
    else if ((key === 'properties' || key === '$defs') && isRecord(value)) out[key] = mapValues(value as JsonObject, depth);
    else if ((key === 'anyOf' || key === 'oneOf' || key === 'prefixItems') && Array.isArray(value)) out[key] = value.map((v) => filterJsonSchema(v, depth + 1));
    else if ((key === 'items' || key === 'additionalProperties') && isRecord(value)) out[key] = filterJsonSchema(value, depth + 1);
    else out[key] = value;
  }
  return out;
}

function mapValues(obj: JsonObject, depth: number): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(obj)) out[k] = filterJsonSchema(v, depth + 1);
  return out;
}
