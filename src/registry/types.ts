// What the registry returns: plain JSON-serialisable view models, the same through the API, the CLI and the UI.
import type { Role } from '../governance/roles.js';
import type { OnnxModelInfo, Signature, SignatureChange } from './signature.js';

export type MetadataValue = string | number | boolean;

export interface Owner {
  team: string;
  contact: string | null;
}

export interface ModelSummary {
  name: string;
  owner: Owner;
  latestVersion: number | null;
  versions: number;
  aliases: Record<string, number>;
  createdAt: string;
  createdBy: string;
}

export interface ModelVersionInfo {
  model: string;
  version: number;
  status: 'active' | 'archived';
  format: 'onnx' | 'js';
  artifact: { sha256: string; size: number };
  signature: Signature;
  /** What the ONNX file says about itself; null for js modules. */
  formatInfo: OnnxModelInfo | null;
  /** Feature names in input-tensor order, for tabular models. */
  features: string[] | null;
  metadata: Record<string, MetadataValue>;
  parentVersion: number | null;
  owner: Owner;
  aliases: string[];
  card: { revision: number; updatedAt: string } | null;
  reference: { rows: number; features: number; label: string | null; sha256: string } | null;
  createdAt: string;
  createdBy: string;
  archivedAt: string | null;
  archivedBy: string | null;
}

export interface ModelDetail extends ModelSummary {
  versionList: ModelVersionInfo[];
}

export interface AliasInfo {
  alias: string;
  version: number;
  updatedAt: string;
  updatedBy: string;
}

export interface AliasHistoryEntry {
  alias: string;
  fromVersion: number | null;
  toVersion: number | null;
  at: string;
  actor: string;
}

export interface CardRevisionInfo {
  revision: number;
  reason: string | null;
  createdAt: string;
  createdBy: string;
}

export interface VersionDiff {
  model: string;
  a: number;
  b: number;
  artifact: { a: string; b: string; same: boolean; sizeA: number; sizeB: number };
  format: { a: string; b: string };
  signature: { changes: SignatureChange[]; breaking: boolean };
  metadata: { key: string; a: MetadataValue | null; b: MetadataValue | null; delta: number | null }[];
  cardChanges: { path: string; change: 'added' | 'removed' | 'changed'; before?: unknown; after?: unknown }[];
  cardMetricDeltas: { type: string; slice?: string | undefined; before: number; after: number; delta: number }[];
  features: { a: string[] | null; b: string[] | null };
  /** Per-feature PSI between the two reference profiles; null when either version has none. */
  referenceShift: { name: string; psi: number | null; status: string; label: boolean }[] | null;
}

export interface WhoAmI {
  actor: string;
  role: Role;
  modelPatterns: string[];
}
