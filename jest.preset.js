/** Shared Jest setup: @swc/jest down-levels TypeScript and the ESM-only Nest 12 packages. */
module.exports = {
  testEnvironment: 'node',
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
  testEnvironmentOptions: { customExportConditions: ['@gw/source', 'node', 'require', 'default'] },
  // @opentelemetry: its OTLP exporter loads node:http with import(), which Jest's CommonJS runtime refuses.
  transformIgnorePatterns: ['/node_modules/(?!(@nestjs|cookie|file-type|load-esm|uid|@standard-schema|@anthropic-ai|openai|@opentelemetry)/)'],
  transform: {
    '^.+\\.(ts|m?js)$': [
      '@swc/jest',
      {
        swcrc: false,
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
        },
        module: { type: 'commonjs' },
        sourceMaps: 'inline',
      },
    ],
  },
  setupFiles: [require.resolve('./test/support/worker-env.js')],
  setupFilesAfterEnv: [require.resolve('./test/support/worker-db.js')],
};
