import type { JsonObject } from '../../openai.types';
import { toGeminiParameters, toGeminiResponseJsonSchema, toGeminiSchema } from './gemini.schema';

describe('toGeminiSchema: JSON Schema -> the OpenAPI subset of `parameters` (wire-formats.md §3.4, §5.6)', () => {
  it.each<[string, JsonObject, object]>([
    ['uppercases types and keeps the allowed keys', { type: 'string', description: 'd', title: 't', pattern: '^a', minLength: 1, maxLength: 9 }, { type: 'STRING', description: 'd', title: 't', pattern: '^a', minLength: 1, maxLength: 9 }],
    ['drops what Gemini rejects ($schema, additionalProperties, propertyNames, $id, strict)', { $schema: 'x', $id: 'y', type: 'object', additionalProperties: false, propertyNames: { pattern: 'a' }, strict: true, properties: { a: { type: 'string' } } }, { type: 'OBJECT', properties: { a: { type: 'STRING' } } }],
    ['turns a type array with null into nullable', { type: ['string', 'null'] }, { type: 'STRING', nullable: true }],
    ['turns a multi-type array into anyOf', { type: ['string', 'number'], description: 'v' }, { description: 'v', anyOf: [{ type: 'STRING' }, { type: 'NUMBER' }] }],
    ['turns anyOf [X, null] into nullable X', { anyOf: [{ type: 'integer' }, { type: 'null' }], description: 'n' }, { type: 'INTEGER', description: 'n', nullable: true }],
    ['keeps a real anyOf, converted', { oneOf: [{ type: 'string' }, { type: 'object', properties: { x: { type: 'boolean' } } }] }, { anyOf: [{ type: 'STRING' }, { type: 'OBJECT', properties: { x: { type: 'BOOLEAN' } } }] }],
    ['turns const into a one-value enum', { type: 'string', const: 'fixed' }, { type: 'STRING', enum: ['fixed'] }],
    ['keeps numeric enums as prose instead of a rejected enum', { type: 'integer', enum: [1, 2, 3], description: 'Level.' }, { type: 'INTEGER', description: 'Level. Allowed values: 1, 2, 3.' }],
    ['drops formats other than enum/date-time on strings', { type: 'string', format: 'uri' }, { type: 'STRING' }],
    ['keeps date-time', { type: 'string', format: 'date-time' }, { type: 'STRING', format: 'date-time' }],
    ['maps exclusive bounds to inclusive ones', { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 10 }, { type: 'NUMBER', minimum: 0, maximum: 10 }],
    ['gives an array without items string items', { type: 'array' }, { type: 'ARRAY', items: { type: 'STRING' } }],
    ['keeps the first tuple item', { type: 'array', prefixItems: [{ type: 'number' }, { type: 'string' }] }, { type: 'ARRAY', items: { type: 'NUMBER' } }],
    ['infers a missing type', { properties: { a: { enum: ['x', 'y'] } } }, { type: 'OBJECT', properties: { a: { type: 'STRING', enum: ['x', 'y'] } } }],
    ['treats an empty schema (any) as a string', {}, { type: 'STRING' }],
    ['filters required to existing properties', { type: 'object', properties: { a: { type: 'string' } }, required: ['a', 'ghost'] }, { type: 'OBJECT', properties: { a: { type: 'STRING' } }, required: ['a'] }],
    ['drops empty properties of nested objects', { type: 'object', properties: { meta: { type: 'object', properties: {} } } }, { type: 'OBJECT', properties: { meta: { type: 'OBJECT' } } }],
    [
      'ignores an anyOf that only adds constraints to a typed node',
      { type: 'object', properties: { a: { type: 'string' }, b: { type: 'string' } }, anyOf: [{ required: ['a'] }, { required: ['b'] }] },
      { type: 'OBJECT', properties: { a: { type: 'STRING' }, b: { type: 'STRING' } } },
    ],
    [
      'merges an allOf member that is itself an allOf behind a $ref (its required kept)',
      { type: 'object', properties: { a: { allOf: [{ $ref: '#/$defs/B' }] } }, $defs: { B: { allOf: [{ $ref: '#/$defs/C' }], properties: { b: { type: 'string' } } }, C: { type: 'object', properties: { c: { type: 'string' } }, required: ['c'] } } },
      { type: 'OBJECT', properties: { a: { type: 'OBJECT', properties: { b: { type: 'STRING' }, c: { type: 'STRING' } }, required: ['c'] } } },
    ],
    [
      'survives an allOf that refers back to itself (a hostile or broken schema)',
      { allOf: [{ $ref: '#' }, { type: 'object', properties: { a: { type: 'string' } } }] },
      { type: 'OBJECT', properties: { a: { type: 'STRING' } } },
    ],
    [
      "keeps a typed node's own properties and required in every branch of its union",
      {
        type: 'object',
        properties: { query: { type: 'string' }, limit: { type: 'integer' } },
        required: ['query'],
        anyOf: [{ properties: { by: { const: 'date' } } }, { properties: { by: { const: 'score' }, min: { type: 'number' } } }],
      },
      {
        anyOf: [
          { type: 'OBJECT', properties: { query: { type: 'STRING' }, limit: { type: 'INTEGER' }, by: { type: 'STRING', enum: ['date'] } }, required: ['query'] },
          { type: 'OBJECT', properties: { query: { type: 'STRING' }, limit: { type: 'INTEGER' }, by: { type: 'STRING', enum: ['score'] }, min: { type: 'NUMBER' } }, required: ['query'] },
        ],
      },
    ],
    [
      'merges allOf members',
      { allOf: [{ type: 'object', properties: { a: { type: 'string' } }, required: ['a'] }, { properties: { b: { type: 'number' } } }] },
      { type: 'OBJECT', properties: { a: { type: 'STRING' }, b: { type: 'NUMBER' } }, required: ['a'] },
    ],
    ['keeps default and the first example', { type: 'integer', default: 3, examples: [5, 6] }, { type: 'INTEGER', default: 3, example: 5 }],
  ])('%s', (_name, input, expected) => {
    expect(toGeminiSchema(input)).toEqual(expected);
  });

  it('bounds the work of a small schema that expands exponentially (typed unions of references, 24 levels)', () => {
    const $defs: JsonObject = {};
    for (let i = 0; i < 24; i++) {
      const next = i + 1 < 24 ? [{ $ref: `#/$defs/L${i + 1}` }, { $ref: `#/$defs/L${i + 1}` }, { $ref: `#/$defs/L${i + 1}` }] : [{ type: 'string' }, { type: 'integer' }];
      $defs[`L${i}`] = { type: 'object', properties: { v: { type: 'string' } }, anyOf: next };
    }
    const out = toGeminiSchema({ $defs, $ref: '#/$defs/L0' });
    const nodes = (JSON.stringify(out).match(/"type"/g) ?? []).length;
    // At most MAX_NODES (1,000) converted nodes, each at most a few output nodes: not 3^24.
    expect(nodes).toBeLessThan(5_000);
  });

  it('inlines $ref/$defs and cuts recursion', () => {
    const schema: JsonObject = {
      type: 'object',
      $defs: { node: { type: 'object', description: 'A node', properties: { name: { type: 'string' }, child: { $ref: '#/$defs/node' } } } },
      properties: { root: { $ref: '#/$defs/node' }, legacy: { $ref: '#/definitions/missing' } },
    };
    expect(toGeminiSchema(schema)).toEqual({
      type: 'OBJECT',
      properties: {
        root: { type: 'OBJECT', description: 'A node', properties: { name: { type: 'STRING' }, child: { type: 'OBJECT' } } },
        legacy: { type: 'OBJECT' },
      },
    });
  });

  it('omits parameters for tools without arguments (an empty OBJECT is a 400)', () => {
    expect(toGeminiParameters({ type: 'object', properties: {} })).toBeUndefined();
    expect(toGeminiParameters({ type: 'object' })).toBeUndefined();
    expect(toGeminiParameters(undefined)).toBeUndefined();
    expect(toGeminiParameters({ type: 'object', properties: { q: { type: 'string' } } })).toEqual({ type: 'OBJECT', properties: { q: { type: 'STRING' } } });
  });

  it('sanitizes what a zod-generated MCP schema (Claude Code tools) carries', () => {
    const zod: JsonObject = {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      additionalProperties: false,
      properties: {
        path: { type: 'string', description: 'File' },
        limit: { type: ['integer', 'null'], exclusiveMinimum: 0 },
        mode: { anyOf: [{ const: 'read' }, { const: 'write' }] },
      },
      required: ['path'],
    };
    expect(toGeminiParameters(zod)).toEqual({
      type: 'OBJECT',
      properties: {
        path: { type: 'STRING', description: 'File' },
        limit: { type: 'INTEGER', nullable: true, minimum: 0 },
        mode: { anyOf: [{ type: 'STRING', enum: ['read'] }, { type: 'STRING', enum: ['write'] }] },
      },
      required: ['path'],
    });
  });
});

describe('toGeminiResponseJsonSchema', () => {
  it('keeps documented JSON Schema keywords (additionalProperties, $defs, $ref) and drops the rest', () => {
    const schema: JsonObject = {
      $schema: 'x',
      type: 'object',
      additionalProperties: false,
      properties: { kind: { const: 'a' }, item: { $ref: '#/definitions/item' }, tags: { type: 'array', items: { type: 'string', uniqueItems: true } } },
      definitions: { item: { type: 'object', properties: { id: { type: 'integer', multipleOf: 2 } } } },
      required: ['kind'],
    };
    expect(toGeminiResponseJsonSchema(schema)).toEqual({
      type: 'object',
      additionalProperties: false,
      properties: { kind: { enum: ['a'] }, item: { $ref: '#/$defs/item' }, tags: { type: 'array', items: { type: 'string' } } },
      $defs: { item: { type: 'object', properties: { id: { type: 'integer' } } } },
      required: ['kind'],
    });
  });

  it('merges allOf into its node instead of dropping it (a described reference, merged members)', () => {
    const schema: JsonObject = {
      type: 'object',
      properties: {
        addr: { allOf: [{ $ref: '#/$defs/Address' }], description: 'home address' },
        both: { allOf: [{ type: 'object', properties: { a: { type: 'string' } }, required: ['a'] }, { properties: { b: { type: 'number' } }, required: ['b'] }] },
      },
      required: ['addr'],
      $defs: { Address: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
    };
    expect(toGeminiResponseJsonSchema(schema).properties).toEqual({
      addr: { $ref: '#/$defs/Address', description: 'home address' },
      both: { type: 'object', properties: { a: { type: 'string' }, b: { type: 'number' } }, required: ['a', 'b'] },
    });
  });
});
