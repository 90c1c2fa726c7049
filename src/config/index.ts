export { ConfigSchema, type Config } from './schema.js';
export { loadConfig, type LoadConfigOptions, type DeepPartial } from './load-config.js';
