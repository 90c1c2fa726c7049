export {
  CARD_SCHEMA_VERSION,
  ModelCardSchema,
  type ModelCard,
  type ModelCardOwner,
  type ModelCardVersion,
  type ModelCardLicense,
  type ModelCardReference,
  type ModelCardCitation,
  type ModelCardGraphic,
  type ModelCardGraphicsCollection,
  type ModelCardDataset,
  type ModelCardPerformanceMetric,
  type ModelCardRisk,
} from './card-schema.js';
export { parseCard, validateCard, type CardProblem } from './parse-card.js';
export { renderCardMarkdown, type CardRenderContext } from './render-card.js';
export { diffCards, metricDeltas, type CardChange, type MetricDelta } from './diff-cards.js';
