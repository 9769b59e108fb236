import type { CodegenConfig } from '@graphql-codegen/cli';

// Operation types come from the repository's schema.graphql: an operation that no longer
// matches the schema fails codegen, and a changed result shape fails `tsc` — so `npm run build`
// breaks when the API changes under the UI.
const config: CodegenConfig = {
  // OBSERVATORY_SCHEMA: check the UI against another SDL (e.g. a proposed schema change).
  schema: process.env.OBSERVATORY_SCHEMA ?? '../schema.graphql',
  documents: ['src/**/*.{ts,tsx}', '!src/gql/**/*'],
  ignoreNoDocuments: false,
  errorsOnly: true,
  generates: {
    './src/gql/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        strictScalars: true,
        useTypeImports: true,
        enumsAsTypes: true,
        avoidOptionals: { field: true, inputValue: false, object: true, defaultValue: false },
        scalars: {
          DateTime: 'string',
          Date: 'string',
          Decimal: 'string',
          JSON: 'unknown',
          UUID: 'string',
          BigInt: 'number',
        },
      },
    },
  },
  hooks: {},
};

export default config;
