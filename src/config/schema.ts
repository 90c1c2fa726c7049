// The typed configuration: one TypeBox schema gives the defaults, the validation and the static type.
import { Type, type Static } from '@sinclair/typebox';

export const ConfigSchema = Type.Object(
  {
    home: Type.String({ minLength: 1, default: './.modelgate', description: 'Holds the SQLite database, the artifacts and admin.key.' }),
    databaseUrl: Type.Optional(
      Type.String({ pattern: '^postgres(ql)?://', description: 'postgres://… switches the store from SQLite to PostgreSQL.' }),
    ),
    server: Type.Object(
      {
        host: Type.String({ default: '127.0.0.1' }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
        bodyLimit: Type.Integer({ minimum: 1024, default: 8 * 1024 * 1024, description: 'Largest JSON body, in bytes.' }),
      },
      { default: {}, additionalProperties: false },
    ),
    registry: Type.Object(
      {
        maxArtifactBytes: Type.Integer({ minimum: 1, default: 2 * 1024 * 1024 * 1024 }),
        maxReferenceBytes: Type.Integer({ minimum: 1, default: 512 * 1024 * 1024 }),
      },
      { default: {}, additionalProperties: false },
    ),
    owner: Type.Object(
      {
        team: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
        contact: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
      },
      { default: {}, additionalProperties: false, description: 'Default owner of models registered without --owner; fixed on first start.' },
    ),
    log: Type.Object(
      {
        level: Type.Union(
          ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
          { default: 'info' },
        ),
      },
      { default: {}, additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
