// Live monitoring profiles: mergeable per-window profiles folded from request data, and drift computed from them.
export { QuantileSketch, DEFAULT_BIN_LIMIT, DEFAULT_RELATIVE_ACCURACY, type SketchCells, type SketchData, type SketchOptions, type SketchStoreData } from './sketch.js';
export {
  layoutFromReference,
  mergeProfiles,
  ProfileAccumulator,
  DEFAULT_NEW_CATEGORIES,
  DEFAULT_RANGE_TOLERANCE,
  type BinSource,
  type CategoricalLayoutFeature,
  type CategoricalWindowFeature,
  type ExtraFeature,
  type FeatureKind,
  type LayoutFeature,
  type LayoutOptions,
  type NumericalLayoutFeature,
  type NumericalWindowFeature,
  type ProfileLayout,
  type WindowFeature,
  type WindowProfile,
} from './profile.js';
export { driftBetweenWindows, driftFromProfiles, referenceFallbacks, type ProfileDriftOptions } from './profile-drift.js';
