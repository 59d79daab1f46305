// ESLint with typescript-eslint's recommended rules, the ecosystem's defaults; `npm test` runs it.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', '.cache/', 'dist/', 'provider/bindings/', 'cdktf.out/', 'stacks/**/cdktf.out/', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // Schema types are generic over attribute types: `any` in their constraints (and `{}` as an empty
    // default) is how TypeScript says "a schema of any attributes"; `unknown` would reject them by variance.
    files: ['provider/protocol/schema.ts', 'provider/framework/schema-builder.ts', 'provider/framework/resource.ts', 'provider/framework/data-source.ts', 'provider/framework/provider-definition.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-empty-object-type': 'off' },
  },
  {
    // Tests read synthesized JSON and terraform's answers as they come.
    files: ['**/*.test.ts', 'test/**', 'bench/**', 'constructs/test-fixtures.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    rules: {
      // `_`-prefixed names are deliberately unused (destructuring to drop a field, ignored parameters).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
);
