// The model card, as defined by the Model Card Toolkit (MCT) JSON schema v0.0.2:
// tensorflow/model-card-toolkit, model_card_toolkit/schema/v0.0.2/model_card.schema.json
// (read at commit 4161ebb359936c38685921e457991d52030ea618). Field names, nesting and types follow that
// file. Where this schema departs from it, the comment at the field says so and why:
//  - every object is closed (additionalProperties: false), not only the top level as in MCT, so that a
//    typo such as `model_detials` or `contcat` is reported instead of being silently dropped;
//  - performance_metrics[].type is required, because a metric is identified by its type (and slice)
//    when cards are compared and rendered;
//  - performance_metrics[].confidence_interval is accepted: it is not in that schema file, but MCT's own
//    model card API (ConfidenceInterval: lower_bound, upper_bound) writes it into v0.0.2 cards;
//  - schema_version may only be "0.0.2", since this is the only version validated here;
//  - the "date" and "uri" formats are kept as documentation only: MCT validates without a format checker,
//    so it accepts e.g. "08/28/2020" or a relative link, and so does Modelgate.
import { Type, type Static, type TSchema } from '@sinclair/typebox';

export const CARD_SCHEMA_VERSION = '0.0.2';

const closed = { additionalProperties: false } as const;
const text = (description: string) => Type.String({ description });
const list = <T extends TSchema>(item: T, description: string) => Type.Array(item, { description });

export const OwnerSchema = Type.Object(
  {
    name: Type.Optional(Type.String({ description: 'Name of the person or team that owns the model.' })),
    contact: Type.Optional(Type.String({ description: 'How to reach the owner, e.g. an e-mail address.' })),
  },
  closed,
);

export const VersionSchema = Type.Object(
  {
    name: Type.Optional(Type.String({ description: 'Name of this version of the model.' })),
    date: Type.Optional(Type.String({ description: 'Release date of this version (MCT suggests an ISO 8601 date, format "date").' })),
    diff: Type.Optional(Type.String({ description: 'What changed since the previous version.' })),
  },
  { ...closed, description: 'The version of the model.' },
);

// MCT says `oneOf: [required identifier, required custom_text]`; with closed objects that is exactly
// "one of the two, not both", which a union of two single-field objects expresses directly.
export const LicenseSchema = Type.Union(
  [
    Type.Object(
      { identifier: Type.String({ description: 'An SPDX license identifier (https://spdx.org/licenses/), or "proprietary".' }) },
      closed,
    ),
    Type.Object({ custom_text: Type.String({ description: 'The text of a custom license.' }) }, closed),
  ],
  { description: 'Exactly one of identifier or custom_text.' },
);

export const ReferenceSchema = Type.Object(
  { reference: Type.Optional(Type.String({ description: 'A link to a resource about the model (MCT format "uri").' })) },
  closed,
);

export const CitationSchema = Type.Object(
  {
    style: Type.Optional(Type.String({ description: 'The citation style, e.g. APA or BibTeX.' })),
    citation: Type.Optional(Type.String({ description: 'The citation itself.' })),
  },
  closed,
);

export const GraphicSchema = Type.Object(
  {
    name: Type.Optional(Type.String({ description: 'Name of the graphic.' })),
    image: Type.Optional(
      Type.String({ description: 'The image, base64-encoded PNG.', contentEncoding: 'base64', contentMediaType: 'image/png' }),
    ),
  },
  closed,
);

export const GraphicsCollectionSchema = Type.Object(
  {
    description: Type.Optional(Type.String({ description: 'What the graphics show.' })),
    collection: Type.Optional(list(GraphicSchema, 'The graphics.')),
  },
  closed,
);

export const SensitiveDataSchema = Type.Object(
  {
    sensitive_data: Type.Optional(
      list(Type.String(), 'The kinds of sensitive data (PII, location, …) present in the data set.'),
    ),
  },
  closed,
);

export const DatasetSchema = Type.Object(
  {
    name: Type.Optional(Type.String({ description: 'Name of the data set.' })),
    link: Type.Optional(Type.String({ description: 'Where the data set can be found (MCT format "uri").' })),
    sensitive: Type.Optional(SensitiveDataSchema),
    graphics: Type.Optional(GraphicsCollectionSchema),
    description: Type.Optional(
      Type.String({ description: 'What the data set is: size, and whether it is used for training, testing or validation.' }),
    ),
  },
  closed,
);

export const ConfidenceIntervalSchema = Type.Object(
  {
    // MCT's Python API types the bounds as strings, but this schema version types metric values as
    // numbers; the bounds are numbers too so that a value and its interval are written the same way.
    lower_bound: Type.Optional(Type.Number({ description: 'Lower bound of the metric.' })),
    upper_bound: Type.Optional(Type.Number({ description: 'Upper bound of the metric.' })),
  },
  { ...closed, description: 'Confidence interval of the metric (from MCT\'s model card API, not its v0.0.2 JSON file).' },
);

export const PerformanceMetricSchema = Type.Object(
  {
    type: Type.String({ description: 'The kind of metric, e.g. accuracy, auc, f1.' }),
    value: Type.Optional(Type.Number({ description: 'The value of the metric.' })),
    slice: Type.Optional(Type.String({ description: 'The slice of the data the metric was computed on; absent means all data.' })),
    confidence_interval: Type.Optional(ConfidenceIntervalSchema),
  },
  closed,
);

const describedItem = (description: string) =>
  Type.Object({ description: Type.Optional(Type.String({ description })) }, closed);

export const UserSchema = describedItem('Who the intended user is.');
export const UseCaseSchema = describedItem('An intended use of the model.');
export const LimitationSchema = describedItem('A known technical limitation of the model.');
export const TradeoffSchema = describedItem('A known accuracy or performance tradeoff.');

export const RiskSchema = Type.Object(
  {
    name: Type.Optional(Type.String({ description: 'The ethical or environmental risk.' })),
    mitigation_strategy: Type.Optional(Type.String({ description: 'How the risk is addressed.' })),
  },
  closed,
);

export const ModelDetailsSchema = Type.Object(
  {
    name: Type.Optional(text('Name of the model.')),
    overview: Type.Optional(text('A brief, one-line description of the model.')),
    documentation: Type.Optional(text('A thorough description of the model and how to use it.')),
    owners: Type.Optional(list(OwnerSchema, 'The people or teams who own the model.')),
    version: Type.Optional(VersionSchema),
    licenses: Type.Optional(list(LicenseSchema, 'The licenses the model may be used under.')),
    references: Type.Optional(list(ReferenceSchema, 'Links with more information about the model.')),
    citations: Type.Optional(list(CitationSchema, 'How to cite the model.')),
  },
  { ...closed, description: 'Metadata about the model.' },
);

export const ModelParametersSchema = Type.Object(
  {
    model_architecture: Type.Optional(text('The architecture of the model.')),
    data: Type.Optional(list(DatasetSchema, 'The data sets used to train and evaluate the model.')),
    input_format: Type.Optional(text('The format of the model\'s inputs.')),
    output_format: Type.Optional(text('The format of the model\'s outputs.')),
  },
  { ...closed, description: 'How the model was built.' },
);

export const QuantitativeAnalysisSchema = Type.Object(
  {
    performance_metrics: Type.Optional(list(PerformanceMetricSchema, 'The reported performance metrics.')),
    graphics: Type.Optional(GraphicsCollectionSchema),
  },
  { ...closed, description: 'Quantitative analysis of the model.' },
);

export const ConsiderationsSchema = Type.Object(
  {
    users: Type.Optional(list(UserSchema, 'The intended users of the model.')),
    use_cases: Type.Optional(list(UseCaseSchema, 'The intended use cases of the model.')),
    limitations: Type.Optional(list(LimitationSchema, 'Known technical limitations: data it does poorly on, factors that degrade it.')),
    tradeoffs: Type.Optional(list(TradeoffSchema, 'Known accuracy/performance tradeoffs.')),
    ethical_considerations: Type.Optional(list(RiskSchema, 'Ethical (or environmental) risks of applying the model.')),
  },
  { ...closed, description: 'What to take into account about the model\'s construction, training and application.' },
);

export const ModelCardSchema = Type.Object(
  {
    schema_version: Type.Optional(Type.Literal(CARD_SCHEMA_VERSION, { description: 'The version of the card schema.' })),
    model_details: Type.Optional(ModelDetailsSchema),
    model_parameters: Type.Optional(ModelParametersSchema),
    quantitative_analysis: Type.Optional(QuantitativeAnalysisSchema),
    considerations: Type.Optional(ConsiderationsSchema),
  },
  { ...closed, title: 'Model Card', description: 'A model card following the Model Card Toolkit schema v0.0.2.' },
);

export type ModelCard = Static<typeof ModelCardSchema>;
export type ModelCardOwner = Static<typeof OwnerSchema>;
export type ModelCardVersion = Static<typeof VersionSchema>;
export type ModelCardLicense = Static<typeof LicenseSchema>;
export type ModelCardReference = Static<typeof ReferenceSchema>;
export type ModelCardCitation = Static<typeof CitationSchema>;
export type ModelCardGraphic = Static<typeof GraphicSchema>;
export type ModelCardGraphicsCollection = Static<typeof GraphicsCollectionSchema>;
export type ModelCardDataset = Static<typeof DatasetSchema>;
export type ModelCardPerformanceMetric = Static<typeof PerformanceMetricSchema>;
export type ModelCardRisk = Static<typeof RiskSchema>;
