// Lint: the Nx module-boundary rule keeps the arrows one-way (apps -> feature libs -> core), plus
// the few typescript-eslint rules the style guide asks for (no floating promises, no `any` in the
// provider layer).
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

export default [
  { ignores: ['**/dist/**', '**/node_modules/**', '**/generated/**', '.nx/**', '.data/**', 'bench/results/**', '**/*.cjs', '**/*.mjs', '**/*.js'] },
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  {
    files: ['**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'scope:app', onlyDependOnLibsWithTags: ['scope:feature', 'scope:data', 'scope:core', 'scope:testing'] },
            { sourceTag: 'scope:feature', onlyDependOnLibsWithTags: ['scope:feature', 'scope:data', 'scope:core'] },
            { sourceTag: 'scope:data', onlyDependOnLibsWithTags: ['scope:core'] },
            { sourceTag: 'scope:testing', onlyDependOnLibsWithTags: ['scope:feature', 'scope:core'] },
            { sourceTag: 'scope:core', onlyDependOnLibsWithTags: [] },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Specs may use the fakes of libs/testing; production code of a feature lib may not.
    files: ['**/*.spec.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          depConstraints: [{ sourceTag: '*', onlyDependOnLibsWithTags: ['*'] }],
        },
      ],
    },
  },
  {
    files: ['libs/*/src/**/*.ts', 'apps/*/src/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: { '@typescript-eslint/no-floating-promises': 'error' },
  },
  {
    files: ['libs/llm/src/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'error' },
  },
];
