// The model registry: models, immutable versions, aliases, cards and diffs. Every change is one transaction
// that also appends its audit event; every operation checks the caller's role and model scope.
import { readFile, stat } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import type { Kysely, Selectable, Transaction } from 'kysely';
import { ModelgateError } from '../errors/index.js';
import { appendAudit } from '../governance/audit.js';
import { canSeeModel, requireModel, requireRole, type Principal } from '../governance/keys.js';
import type { Store } from '../store/database.js';
import type { Tables } from '../store/tables.js';
import type { ArtifactStore} from './artifact-store.js';
import { sha256Hex } from './artifact-store.js';
import { diffCards, metricDeltas, parseCard, renderCardMarkdown, validateCard, type ModelCard } from './card/index.js';
import { checkAlias, checkModelName, formatSelector, parseModelRef, parseVersionSelector, type VersionSelector } from './names.js';
import { readOnnxModel } from './onnx/read-onnx.js';
import { readJsModelSignature } from '../runtime/js/read-js-signature.js';
import { diffSignatures } from './onnx/signature-diff.js';
import { comparePsi, computeReferenceProfile, readTable, type ReferenceProfile } from './profile/index.js';
import type { OnnxModelInfo, Signature } from './signature.js';
import type {
  AliasHistoryEntry,
  AliasInfo,
  CardRevisionInfo,
  MetadataValue,
  ModelDetail,
  ModelSummary,
  ModelVersionInfo,
  Owner,
  VersionDiff,
} from './types.js';

export interface RegisterInput {
  name: string;
  artifact: { path: string } | { bytes: Uint8Array };
  format?: string | undefined;
  /** Model card text (YAML or JSON) and where it came from, for error messages. */
  card?: { text: string; source: string } | undefined;
  /** Reference data file (.csv, .jsonl); its extension selects the parser. */
  reference?: { path: string } | undefined;
  /** Label column in the reference data (default: the model's `modelgate.label` metadata, when that column exists). */
  label?: string | undefined;
  /** Feature names in input order (default: the model's `modelgate.features` metadata). */
  features?: string[] | undefined;
  metadata?: Record<string, string> | undefined;
  parent?: string | undefined;
  owner?: string | undefined;
}

export interface RegistryOptions {
  maxArtifactBytes: number;
  maxReferenceBytes: number;
  /** js modules are loaded under the serving limits at registration, so one that cannot serve is refused now. */
  jsLimits?: { timeoutMs: number; maxOldGenerationSizeMb: number } | undefined;
  /** Owner for models registered without one (from configuration). */
  defaultOwner?: { team?: string | undefined; contact?: string | undefined } | undefined;
}

type VersionRow = Selectable<Tables['model_versions']>;
type ModelRow = Selectable<Tables['models']>;

const METADATA_KEY_RE = /^[A-Za-z0-9._/-]{1,128}$/;
const OWNER_RE = /^([A-Za-z0-9][A-Za-z0-9 ._-]{0,127}?)\s*(?:<([^<>\s]{1,256})>)?$/;

export function parseOwner(s: string): Owner {
  const m = OWNER_RE.exec(s.trim());
  if (!m?.[1]) throw new ModelgateError('MG_ERR_MODEL_INVALID_OWNER', `Invalid owner "${s}": use "team" or "team <contact>", e.g. "risk-ml <risk-ml@example.com>".`);
  return { team: m[1].trim(), contact: m[2] ?? null };
}

export function parseMetadata(pairs: Record<string, string>): Record<string, MetadataValue> {
  const out: Record<string, MetadataValue> = {};
  for (const [key, raw] of Object.entries(pairs)) {
    if (!METADATA_KEY_RE.test(key)) {
      throw new ModelgateError('MG_ERR_MODEL_INVALID_METADATA', `Invalid metadata key "${key}": keys are 1 to 128 letters, digits, dots, dashes, underscores or slashes.`);
    }
    out[key] = coerceMetadataValue(raw);
  }
  return out;
}

/** `--metadata k=v` values arrive as text: numbers and booleans become typed so diffs can compute deltas. */
function coerceMetadataValue(raw: string): MetadataValue {
  if (/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw.trim())) {
    const n = Number(raw);
    if (Number.isFinite(n)) return n;
  }
  if (raw === 'true' || raw === 'false') return raw === 'true';
  return raw;
}

export function parseMetadataPairs(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new ModelgateError('MG_ERR_MODEL_INVALID_METADATA', `Invalid metadata "${p}": use key=value, e.g. metrics.auc=0.91.`);
    out[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return out;
}

export function createRegistry(store: Store, artifacts: ArtifactStore, options: RegistryOptions) {
  const db = store.db;

  async function defaultOwner(): Promise<Owner> {
    if (options.defaultOwner?.team) return { team: options.defaultOwner.team, contact: options.defaultOwner.contact ?? null };
    const row = await db.selectFrom('settings').select('value').where('key', '=', 'default_owner').executeTakeFirst();
    if (row) return JSON.parse(row.value) as Owner;
    return fallbackOwner();
  }

  async function findModel(q: Kysely<Tables> | Transaction<Tables>, name: string): Promise<ModelRow> {
    const row = await q.selectFrom('models').selectAll().where('name', '=', name).executeTakeFirst();
    if (!row) throw new ModelgateError('MG_ERR_MODEL_NOT_FOUND', `No model named "${name}". List models with \`modelgate models list\`.`, { model: name });
    return row;
  }

  async function findVersion(q: Kysely<Tables> | Transaction<Tables>, model: ModelRow, selector: VersionSelector): Promise<VersionRow> {
    let version: number | undefined;
    if (selector.kind === 'number') version = selector.version;
    else if (selector.kind === 'alias') {
      const a = await q.selectFrom('aliases').select('version').where('model_id', '=', model.id).where('alias', '=', selector.alias).executeTakeFirst();
      if (!a) {
        throw new ModelgateError('MG_ERR_MODEL_ALIAS_NOT_FOUND', `Model "${model.name}" has no alias "${selector.alias}". List aliases with \`modelgate models alias list ${model.name}\`.`, { model: model.name, alias: selector.alias });
      }
      version = a.version;
    } else {
      const latest = await q.selectFrom('model_versions').select((eb) => eb.fn.max('version').as('v')).where('model_id', '=', model.id).where('status', '=', 'active').executeTakeFirst();
      if (latest?.v == null) throw new ModelgateError('MG_ERR_MODEL_VERSION_NOT_FOUND', `Model "${model.name}" has no active version.`, { model: model.name });
      version = Number(latest.v);
    }
    const row = await q.selectFrom('model_versions').selectAll().where('model_id', '=', model.id).where('version', '=', version).executeTakeFirst();
    if (!row) {
      throw new ModelgateError('MG_ERR_MODEL_VERSION_NOT_FOUND', `Model "${model.name}" has no version ${version}. List its versions with \`modelgate models show ${model.name}\`.`, { model: model.name, version });
    }
    return row;
  }

  async function resolve(principal: Principal, ref: string): Promise<{ model: ModelRow; row: VersionRow }> {
    const parsed = parseModelRef(ref);
    requireModel(principal, parsed.model);
    const model = await findModel(db, parsed.model);
    return { model, row: await findVersion(db, model, parsed.selector) };
  }

  async function toVersionInfo(model: ModelRow, row: VersionRow): Promise<ModelVersionInfo> {
    const [aliases, card] = await Promise.all([
      db.selectFrom('aliases').select('alias').where('model_id', '=', model.id).where('version', '=', row.version).orderBy('alias').execute(),
      db.selectFrom('model_cards').select(['revision', 'created_at']).where('version_id', '=', row.id).orderBy('revision', 'desc').limit(1).executeTakeFirst(),
    ]);
    return versionInfo(model, row, aliases.map((a) => a.alias), card ? { revision: card.revision, updatedAt: card.created_at } : null);
  }

  return {
    artifacts,

    async register(principal: Principal, input: RegisterInput): Promise<ModelVersionInfo> {
      requireRole(principal, 'operator');
      const name = checkModelName(input.name);
      requireModel(principal, name);
      const format = input.format ?? formatFromPath(input.artifact);
      if (format !== 'onnx' && format !== 'js') throw new ModelgateError('MG_ERR_ARTIFACT_UNSUPPORTED_FORMAT', `Format "${format}" is not supported. Supported formats: onnx, js.`);
      // A js model is code that runs inside the gateway: only an admin may register one.
      if (format === 'js') requireRole(principal, 'admin');
      const owner = input.owner !== undefined ? parseOwner(input.owner) : undefined;
      const metadata = parseMetadata(input.metadata ?? {});
      const parentSelector = input.parent !== undefined ? parseVersionSelector(input.parent) : undefined;

      // Everything that can be checked is checked before anything is written.
      const bytes = await readArtifact(input.artifact, options.maxArtifactBytes);
      const { signature, info } = format === 'js'
        ? { signature: await readJsModelSignature(bytes, options.jsLimits), info: null }
        : readOnnxModel(bytes);
      const features = input.features ?? featuresFromModel(info);
      const card = input.card ? parseCard(input.card.text, input.card.source) : undefined;
      let profile: ReferenceProfile | undefined;
      if (input.reference) {
        // A label the caller names must exist; the one the model declares is used only when the data has it.
        const declared = info?.metadataProps['modelgate.label'];
        const label = input.label ?? (declared && (await columnsOf(input.reference.path)).includes(declared) ? declared : undefined);
        profile = await computeReferenceProfile(input.reference.path, {
          ...(features ? { features, numericFeatures: numericFeatureNames(signature, features) } : {}),
          ...(label ? { label } : {}),
          maxBytes: options.maxReferenceBytes,
        });
      }
      const ownerForNew = owner ?? (await defaultOwner());

      const blob = await artifacts.put(bytes);
      try {
        return await db.transaction().execute(async (trx) => {
          const now = new Date().toISOString();
          const existing = await trx.selectFrom('models').select('id').where('name', '=', name).executeTakeFirst();
          // ON CONFLICT DO NOTHING: a concurrent first registration of the same name waits for the other and joins it.
          const created = existing
            ? undefined
            : await trx.insertInto('models').values({ name, owner_team: ownerForNew.team, owner_contact: ownerForNew.contact, created_at: now, created_by: principal.actor })
              .onConflict((oc) => oc.column('name').doNothing()).returning('id').executeTakeFirst();
          // Touching the model row takes its lock, so concurrent registrations number versions in turn;
          // the row is read again after the lock so the owner check sees the latest committed state.
          await trx.updateTable('models').set((eb) => ({ owner_team: eb.ref('owner_team') })).where('name', '=', name).execute();
          let model = await findModel(trx, name);
          if (created) {
            await appendAudit(trx, { actor: principal.actor, action: 'model.create', target: `model/${name}`, details: { owner: ownerForNew } }, now);
          } else if (owner && (owner.team !== model.owner_team || owner.contact !== model.owner_contact)) {
            await trx.updateTable('models').set({ owner_team: owner.team, owner_contact: owner.contact }).where('id', '=', model.id).execute();
            await appendAudit(trx, { actor: principal.actor, action: 'model.owner.set', target: `model/${name}`, details: { from: { team: model.owner_team, contact: model.owner_contact }, to: owner } }, now);
            model = { ...model, owner_team: owner.team, owner_contact: owner.contact };
          }
          const max = await trx.selectFrom('model_versions').select((eb) => eb.fn.max('version').as('v')).where('model_id', '=', model.id).executeTakeFirst();
          const version = Number(max?.v ?? 0) + 1;
          let parentVersion: number | null = null;
          if (parentSelector) {
            try {
              parentVersion = (await findVersion(trx, model, parentSelector)).version;
            } catch (e) {
              if (e instanceof ModelgateError && e.status === 404) {
                throw new ModelgateError('MG_ERR_MODEL_PARENT_NOT_FOUND', `--parent ${formatSelector(parentSelector)}: model "${name}" has no such version or alias.`);
              }
              throw e;
            }
          }
          const versionOwner = owner ?? { team: model.owner_team, contact: model.owner_contact };
          const row = {
            model_id: model.id,
            version,
            format,
            artifact_sha256: blob.sha256,
            artifact_size: blob.size,
            signature: JSON.stringify(signature),
            format_info: JSON.stringify(info),
            features: features ? JSON.stringify(features) : null,
            metadata: JSON.stringify(metadata),
            reference_profile: profile ? JSON.stringify(profile) : null,
            parent_version: parentVersion,
            owner_team: versionOwner.team,
            owner_contact: versionOwner.contact,
            status: 'active' as const,
            archived_at: null,
            archived_by: null,
            created_at: now,
            created_by: principal.actor,
          };
          await trx.insertInto('model_versions').values(row).execute();
          const inserted = await findVersion(trx, model, { kind: 'number', version });
          if (card) {
            await trx.insertInto('model_cards').values({ version_id: inserted.id, revision: 1, card: JSON.stringify(card), reason: 'registered', created_at: now, created_by: principal.actor }).execute();
          }
          await appendAudit(trx, {
            actor: principal.actor,
            action: 'model.version.register',
            target: `model/${name}@${version}`,
            details: { sha256: blob.sha256, size: blob.size, format, parentVersion, card: card ? 1 : null, reference: profile ? { rows: profile.rows, sha256: profile.source.sha256 } : null, metadata },
          }, now);
          return versionInfo(model, inserted, [], card ? { revision: 1, updatedAt: now } : null);
        });
      } catch (e) {
        // No orphan blobs: remove what this call stored unless another version (committed meanwhile) uses it.
        if (blob.created) {
          const used = await db.selectFrom('model_versions').select('id').where('artifact_sha256', '=', blob.sha256).limit(1).executeTakeFirst();
          if (!used) await artifacts.remove(blob.sha256);
        }
        throw mapConflict(e);
      }
    },

    async listModels(principal: Principal): Promise<ModelSummary[]> {
      requireRole(principal, 'viewer');
      const models = await db.selectFrom('models').selectAll().orderBy('name').execute();
      const visible = models.filter((m) => canSeeModel(principal, m.name));
      const [counts, aliases] = await Promise.all([
        db.selectFrom('model_versions').select(['model_id', (eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.max('version').as('latest')]).groupBy('model_id').execute(),
        db.selectFrom('aliases').select(['model_id', 'alias', 'version']).execute(),
      ]);
      return visible.map((m) => {
        const c = counts.find((x) => x.model_id === m.id);
        return summary(m, Number(c?.n ?? 0), c?.latest == null ? null : Number(c.latest), aliases.filter((a) => a.model_id === m.id));
      });
    },

    async getModel(principal: Principal, name: string): Promise<ModelDetail> {
      requireRole(principal, 'viewer');
      checkModelName(name);
      requireModel(principal, name);
      const model = await findModel(db, name);
      const [rows, aliases, cards] = await Promise.all([
        db.selectFrom('model_versions').selectAll().where('model_id', '=', model.id).orderBy('version').execute(),
        db.selectFrom('aliases').select(['model_id', 'alias', 'version']).where('model_id', '=', model.id).orderBy('alias').execute(),
        db.selectFrom('model_cards').innerJoin('model_versions', 'model_versions.id', 'model_cards.version_id')
          .select(['model_cards.version_id', (eb) => eb.fn.max('model_cards.revision').as('rev'), (eb) => eb.fn.max('model_cards.created_at').as('at')])
          .where('model_versions.model_id', '=', model.id).groupBy('model_cards.version_id').execute(),
      ]);
      const versionList = rows.map((r) => {
        const c = cards.find((x) => x.version_id === r.id);
        return versionInfo(model, r, aliases.filter((a) => a.version === r.version).map((a) => a.alias), c ? { revision: Number(c.rev), updatedAt: String(c.at) } : null);
      });
      const latest = rows.length ? Math.max(...rows.map((r) => r.version)) : null;
      return { ...summary(model, rows.length, latest, aliases), versionList };
    },

    async getVersion(principal: Principal, ref: string): Promise<ModelVersionInfo> {
      requireRole(principal, 'viewer');
      const { model, row } = await resolve(principal, ref);
      return toVersionInfo(model, row);
    },

    /** The artifact's bytes, hash-checked. */
    async readArtifact(principal: Principal, ref: string): Promise<{ info: ModelVersionInfo; bytes: Buffer }> {
      requireRole(principal, 'viewer');
      const { model, row } = await resolve(principal, ref);
      return { info: await toVersionInfo(model, row), bytes: await artifacts.read(row.artifact_sha256) };
    },

    async getReferenceProfile(principal: Principal, ref: string): Promise<ReferenceProfile | null> {
      requireRole(principal, 'viewer');
      const { row } = await resolve(principal, ref);
      return row.reference_profile ? (JSON.parse(row.reference_profile) as ReferenceProfile) : null;
    },

    async archive(principal: Principal, ref: string): Promise<ModelVersionInfo> {
      requireRole(principal, 'operator');
      const parsed = parseModelRef(ref);
      if (parsed.selector.kind !== 'number') {
        throw new ModelgateError('MG_ERR_MODEL_INVALID_REF', `Archive names a version by number (e.g. ${parsed.model}@3), so an alias move cannot change what is archived.`);
      }
      requireModel(principal, parsed.model);
      return db.transaction().execute(async (trx) => {
        const model = await findModel(trx, parsed.model);
        const row = await findVersion(trx, model, parsed.selector);
        if (row.status === 'archived') return toVersionInfo(model, row);
        const pointing = await trx.selectFrom('aliases').select('alias').where('model_id', '=', model.id).where('version', '=', row.version).execute();
        if (pointing.length) {
          throw new ModelgateError('MG_ERR_MODEL_VERSION_ALIASED', `${model.name}@${row.version} is still the target of alias ${pointing.map((p) => p.alias).join(', ')}. Move or unset the alias first.`, { aliases: pointing.map((p) => p.alias) });
        }
        const now = new Date().toISOString();
        await trx.updateTable('model_versions').set({ status: 'archived', archived_at: now, archived_by: principal.actor }).where('id', '=', row.id).execute();
        await appendAudit(trx, { actor: principal.actor, action: 'model.version.archive', target: `model/${model.name}@${row.version}`, details: {} }, now);
        return versionInfo(model, { ...row, status: 'archived', archived_at: now, archived_by: principal.actor }, [], null);
      });
    },

    async setAlias(principal: Principal, name: string, alias: string, target: string): Promise<AliasInfo & { previousVersion: number | null }> {
      requireRole(principal, 'operator');
      checkModelName(name);
      checkAlias(alias);
      requireModel(principal, name);
      const selector = parseVersionSelector(target);
      return db.transaction().execute(async (trx) => {
        const model = await findModel(trx, name);
        const row = await findVersion(trx, model, selector);
        if (row.status === 'archived') {
          throw new ModelgateError('MG_ERR_MODEL_VERSION_ARCHIVED', `${name}@${row.version} is archived and cannot be the target of an alias. Pick an active version.`);
        }
        return writeAlias(trx, model, alias, row.version, principal.actor, new Date().toISOString());
      });
    },

    async unsetAlias(principal: Principal, name: string, alias: string): Promise<{ alias: string; previousVersion: number }> {
      requireRole(principal, 'operator');
      checkModelName(name);
      checkAlias(alias);
      requireModel(principal, name);
      return db.transaction().execute(async (trx) => {
        const model = await findModel(trx, name);
        const existing = await trx.selectFrom('aliases').selectAll().where('model_id', '=', model.id).where('alias', '=', alias).executeTakeFirst();
        if (!existing) throw new ModelgateError('MG_ERR_MODEL_ALIAS_NOT_FOUND', `Model "${name}" has no alias "${alias}".`);
        const now = new Date().toISOString();
        await trx.deleteFrom('aliases').where('model_id', '=', model.id).where('alias', '=', alias).execute();
        await trx.insertInto('alias_history').values({ model_id: model.id, alias, from_version: existing.version, to_version: null, at: now, actor: principal.actor }).execute();
        await appendAudit(trx, { actor: principal.actor, action: 'model.alias.unset', target: `model/${name}`, details: { alias, from: existing.version } }, now);
        return { alias, previousVersion: existing.version };
      });
    },

    async listAliases(principal: Principal, name: string): Promise<{ aliases: AliasInfo[]; history: AliasHistoryEntry[] }> {
      requireRole(principal, 'viewer');
      checkModelName(name);
      requireModel(principal, name);
      const model = await findModel(db, name);
      const [aliases, history] = await Promise.all([
        db.selectFrom('aliases').selectAll().where('model_id', '=', model.id).orderBy('alias').execute(),
        db.selectFrom('alias_history').selectAll().where('model_id', '=', model.id).orderBy('id', 'asc').execute(),
      ]);
      return {
        aliases: aliases.map((a) => ({ alias: a.alias, version: a.version, updatedAt: a.updated_at, updatedBy: a.updated_by })),
        history: history.map((h) => ({ alias: h.alias, fromVersion: h.from_version, toVersion: h.to_version, at: h.at, actor: h.actor })),
      };
    },

    async getCard(principal: Principal, ref: string, revision?: number): Promise<{ model: string; version: number; revision: number; card: ModelCard; markdown: string } & CardRevisionInfo> {
      requireRole(principal, 'viewer');
      const { model, row } = await resolve(principal, ref);
      let q = db.selectFrom('model_cards').selectAll().where('version_id', '=', row.id);
      q = revision !== undefined ? q.where('revision', '=', revision) : q.orderBy('revision', 'desc').limit(1);
      const c = await q.executeTakeFirst();
      if (!c) {
        if (revision !== undefined) {
          throw new ModelgateError('MG_ERR_CARD_REVISION_NOT_FOUND', `${model.name}@${row.version} has no card revision ${revision}. \`modelgate models card ${model.name}@${row.version} --history\` lists them.`);
        }
        throw new ModelgateError('MG_ERR_CARD_NOT_FOUND', `${model.name}@${row.version} has no model card. Add one with \`modelgate models card set ${model.name}@${row.version} card.yaml\`.`);
      }
      const card = JSON.parse(c.card) as ModelCard;
      return {
        model: model.name,
        version: row.version,
        revision: c.revision,
        reason: c.reason,
        createdAt: c.created_at,
        createdBy: c.created_by,
        card,
        markdown: renderCardMarkdown(card, { model: model.name, version: row.version, revision: c.revision }),
      };
    },

    async cardHistory(principal: Principal, ref: string): Promise<CardRevisionInfo[]> {
      requireRole(principal, 'viewer');
      const { row } = await resolve(principal, ref);
      const rows = await db.selectFrom('model_cards').select(['revision', 'reason', 'created_at', 'created_by']).where('version_id', '=', row.id).orderBy('revision').execute();
      return rows.map((r) => ({ revision: r.revision, reason: r.reason, createdAt: r.created_at, createdBy: r.created_by }));
    },

    /** Adds a card revision (the artifact and signature never change; the card may). */
    async reviseCard(principal: Principal, ref: string, card: { text: string; source: string } | { value: unknown }, reason?: string): Promise<CardRevisionInfo & { model: string; version: number }> {
      requireRole(principal, 'operator');
      const parsedCard = 'text' in card ? parseCard(card.text, card.source) : validateCard(card.value);
      const parsed = parseModelRef(ref);
      requireModel(principal, parsed.model);
      return db.transaction().execute(async (trx) => {
        const model = await findModel(trx, parsed.model);
        const row = await findVersion(trx, model, parsed.selector);
        const max = await trx.selectFrom('model_cards').select((eb) => eb.fn.max('revision').as('r')).where('version_id', '=', row.id).executeTakeFirst();
        const revision = Number(max?.r ?? 0) + 1;
        const now = new Date().toISOString();
        await trx.insertInto('model_cards').values({ version_id: row.id, revision, card: JSON.stringify(parsedCard), reason: reason ?? null, created_at: now, created_by: principal.actor }).execute();
        await appendAudit(trx, { actor: principal.actor, action: 'model.card.revise', target: `model/${model.name}@${row.version}`, details: { revision, reason: reason ?? null, sha256: sha256Hex(Buffer.from(JSON.stringify(parsedCard))) } }, now);
        return { model: model.name, version: row.version, revision, reason: reason ?? null, createdAt: now, createdBy: principal.actor };
      });
    },

    async diff(principal: Principal, name: string, a: string, b: string): Promise<VersionDiff> {
      requireRole(principal, 'viewer');
      checkModelName(name);
      requireModel(principal, name);
      const model = await findModel(db, name);
      const [ra, rb] = await Promise.all([findVersion(db, model, parseVersionSelector(a)), findVersion(db, model, parseVersionSelector(b))]);
      const latestCard = async (id: number): Promise<ModelCard | null> => {
        const c = await db.selectFrom('model_cards').select('card').where('version_id', '=', id).orderBy('revision', 'desc').limit(1).executeTakeFirst();
        return c ? (JSON.parse(c.card) as ModelCard) : null;
      };
      const [ca, cb] = await Promise.all([latestCard(ra.id), latestCard(rb.id)]);
      const changes = diffSignatures(JSON.parse(ra.signature) as Signature, JSON.parse(rb.signature) as Signature);
      const ma = JSON.parse(ra.metadata) as Record<string, MetadataValue>;
      const mb = JSON.parse(rb.metadata) as Record<string, MetadataValue>;
      const keys = [...new Set([...Object.keys(ma), ...Object.keys(mb)])].sort();
      const metadata = keys
        .filter((k) => ma[k] !== mb[k])
        .map((k) => {
          const va = ma[k] ?? null;
          const vb = mb[k] ?? null;
          return { key: k, a: va, b: vb, delta: typeof va === 'number' && typeof vb === 'number' ? vb - va : null };
        });
      const pa = ra.reference_profile ? (JSON.parse(ra.reference_profile) as ReferenceProfile) : null;
      const pb = rb.reference_profile ? (JSON.parse(rb.reference_profile) as ReferenceProfile) : null;
      return {
        model: name,
        a: ra.version,
        b: rb.version,
        artifact: { a: ra.artifact_sha256, b: rb.artifact_sha256, same: ra.artifact_sha256 === rb.artifact_sha256, sizeA: ra.artifact_size, sizeB: rb.artifact_size },
        format: { a: ra.format, b: rb.format },
        signature: { changes, breaking: changes.some((c) => c.breaking) },
        metadata,
        cardChanges: diffCards(ca, cb),
        cardMetricDeltas: ca && cb ? metricDeltas(ca, cb) : [],
        features: { a: ra.features ? (JSON.parse(ra.features) as string[]) : null, b: rb.features ? (JSON.parse(rb.features) as string[]) : null },
        referenceShift: pa && pb ? referenceShift(pa, pb) : null,
      };
    },

    /** Fixes the default owner on first start (configuration first, else the OS user), so nothing is unowned. */
    async ensureDefaultOwner(): Promise<Owner> {
      const row = await db.selectFrom('settings').select('value').where('key', '=', 'default_owner').executeTakeFirst();
      if (row) return JSON.parse(row.value) as Owner;
      const owner: Owner = options.defaultOwner?.team ? { team: options.defaultOwner.team, contact: options.defaultOwner.contact ?? null } : fallbackOwner();
      await db.insertInto('settings').values({ key: 'default_owner', value: JSON.stringify(owner) }).onConflict((oc) => oc.column('key').doNothing()).execute();
      return owner;
    },

    async countModels(): Promise<number> {
      const r = await db.selectFrom('models').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
      return Number(r?.n ?? 0);
    },
  };
}

export type Registry = ReturnType<typeof createRegistry>;

/**
 * Points an alias at a version inside the caller's transaction, with its history row and audit event. The
 * caller has checked the version exists and is active. Rollouts use it to promote and roll back.
 */
export async function writeAlias(trx: Transaction<Tables>, model: { id: number; name: string }, alias: string, version: number, actor: string, now: string): Promise<AliasInfo & { previousVersion: number | null }> {
  const existing = await trx.selectFrom('aliases').selectAll().where('model_id', '=', model.id).where('alias', '=', alias).executeTakeFirst();
  if (existing?.version === version) {
    return { alias, version, updatedAt: existing.updated_at, updatedBy: existing.updated_by, previousVersion: version };
  }
  if (existing) {
    await trx.updateTable('aliases').set({ version, updated_at: now, updated_by: actor }).where('model_id', '=', model.id).where('alias', '=', alias).execute();
  } else {
    await trx.insertInto('aliases').values({ model_id: model.id, alias, version, updated_at: now, updated_by: actor }).execute();
  }
  await trx.insertInto('alias_history').values({ model_id: model.id, alias, from_version: existing?.version ?? null, to_version: version, at: now, actor }).execute();
  await appendAudit(trx, { actor, action: 'model.alias.set', target: `model/${model.name}`, details: { alias, from: existing?.version ?? null, to: version } }, now);
  return { alias, version, updatedAt: now, updatedBy: actor, previousVersion: existing?.version ?? null };
}

function referenceShift(a: ReferenceProfile, b: ReferenceProfile): VersionDiff['referenceShift'] {
  return comparePsi(a, b).map((f) => ({ name: f.name, psi: f.psi ?? null, status: f.status, label: f.role === 'label' }));
}

function fallbackOwner(): Owner {
  let user = 'modelgate';
  try {
    user = userInfo().username || user;
  } catch {
    // no passwd entry (some containers): keep the default
  }
  return { team: user, contact: `${user}@${hostname()}` };
}

async function readArtifact(a: RegisterInput['artifact'], max: number): Promise<Uint8Array> {
  if ('bytes' in a) {
    if (a.bytes.byteLength > max) throw tooLarge(a.bytes.byteLength, max);
    return a.bytes;
  }
  try {
    const s = await stat(a.path);
    if (!s.isFile()) throw new ModelgateError('MG_ERR_ARTIFACT_UNREADABLE', `${a.path} is not a file.`);
    if (s.size > max) throw tooLarge(s.size, max);
    return await readFile(a.path);
  } catch (e) {
    if (e instanceof ModelgateError) throw e;
    throw new ModelgateError('MG_ERR_ARTIFACT_UNREADABLE', `Cannot read artifact ${a.path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}. Check the path and permissions.`);
  }
}

function tooLarge(size: number, max: number): ModelgateError {
  return new ModelgateError('MG_ERR_ARTIFACT_TOO_LARGE', `The artifact is ${size} bytes; registry.maxArtifactBytes is ${max}.`);
}

async function columnsOf(path: string): Promise<readonly string[]> {
  const reader = readTable(path);
  for await (const _row of reader) break;
  return reader.columns;
}

function formatFromPath(a: RegisterInput['artifact']): string {
  return 'path' in a && /\.m?js$/i.test(a.path) ? 'js' : 'onnx';
}

function featuresFromModel(info: OnnxModelInfo | null): string[] | undefined {
  const raw = info?.metadataProps['modelgate.features'];
  if (!raw) return undefined;
  try {
    const v = JSON.parse(raw) as unknown;
    if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string')) return v;
  } catch {
    // not our JSON: ignore it rather than refuse a third-party model
  }
  return undefined;
}

/** Tabular models take one 2-D numeric tensor: then every feature must be numeric in the reference data. */
function numericFeatureNames(signature: Signature, features: string[]): string[] {
  const numeric = signature.inputs.length === 1 && signature.inputs[0]!.datatype !== null && signature.inputs[0]!.datatype !== 'BYTES' && signature.inputs[0]!.datatype !== 'BOOL';
  return numeric ? features : [];
}

function summary(m: ModelRow, versions: number, latest: number | null, aliases: { alias: string; version: number }[]): ModelSummary {
  return {
    name: m.name,
    owner: { team: m.owner_team, contact: m.owner_contact },
    latestVersion: latest,
    versions,
    aliases: Object.fromEntries(aliases.map((a) => [a.alias, a.version])),
    createdAt: m.created_at,
    createdBy: m.created_by,
  };
}

function versionInfo(model: ModelRow, r: VersionRow, aliases: string[], card: ModelVersionInfo['card']): ModelVersionInfo {
  const profile = r.reference_profile ? (JSON.parse(r.reference_profile) as ReferenceProfile) : null;
  return {
    model: model.name,
    version: r.version,
    status: r.status,
    format: r.format as 'onnx' | 'js',
    artifact: { sha256: r.artifact_sha256, size: Number(r.artifact_size) },
    signature: JSON.parse(r.signature) as Signature,
    formatInfo: JSON.parse(r.format_info) as OnnxModelInfo | null,
    features: r.features ? (JSON.parse(r.features) as string[]) : null,
    metadata: JSON.parse(r.metadata) as Record<string, MetadataValue>,
    parentVersion: r.parent_version,
    owner: { team: r.owner_team, contact: r.owner_contact },
    aliases,
    card,
    reference: profile ? { rows: profile.rows, features: profile.features.length, label: profile.label?.name ?? null, sha256: profile.source.sha256 } : null,
    createdAt: r.created_at,
    createdBy: r.created_by,
    archivedAt: r.archived_at,
    archivedBy: r.archived_by,
  };
}

function mapConflict(e: unknown): unknown {
  const msg = (e as { message?: string; code?: string }).message ?? '';
  const code = (e as { code?: string }).code ?? '';
  if (code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || /UNIQUE constraint failed/.test(msg)) {
    return new ModelgateError('MG_ERR_STORE_CONFLICT', 'Another registration of the same model happened at the same moment. Retry the command.', undefined, { cause: e });
  }
  return e;
}
