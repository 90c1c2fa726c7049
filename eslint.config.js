// Lint runs on the TypeScript sources only; dist/ is the compiler's output.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.modelgate/**', '.tmp/**', 'bin/**', 'scripts/*.mjs'] },
  js.configs.recommended,
  { files: ['**/*.mjs'], languageOptions: { globals: { setTimeout: 'readonly', console: 'readonly' } } },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
      eqeqeq: ['error', 'smart'],
    },
  },
);
