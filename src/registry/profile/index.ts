// Reference data profiles: reading the data, profiling it, and comparing profiles.
export * from './types.js';
export { readTable, tableFormatOf, CSV_NULL_TOKENS, type CellValue, type TableRecord, type TableReader, type ReadTableOptions } from './read-table.js';
export {
  computeReferenceProfile,
  cellNumber,
  cellCategory,
  numericalStats,
  categoricalStats,
  histogramEdges,
  sortedQuantile,
  type ComputeProfileOptions,
} from './compute-profile.js';
export { psi, psiOf, comparePsi, PSI_EPSILON, type PsiOptions, type CdfInterpolation, type PsiResult, type PsiStatus, type FeaturePsi } from './psi.js';
