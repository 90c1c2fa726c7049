// Sample cards shared by the card tests: a rain/no-rain classifier trained on the Seattle daily weather
// data (vega-datasets seattle-weather.csv, 2012–2015).

export const RAIN_CARD_YAML = `# Model card for the next-day rain classifier
schema_version: "0.0.2"
model_details:
  name: Seattle next-day rain classifier
  overview: Predicts whether it will rain in Seattle tomorrow from today's weather observations.
  documentation: |
    A gradient-boosted tree classifier. Each example is one day; the label is whether the
    *following* day's weather was recorded as rain or drizzle.

    Features: precipitation (mm), temp_max and temp_min (°C), wind (m/s) and day of year.
  owners:
    - name: Forecasting ML team
      contact: forecasting-ml@example.com
    - name: Dana Whitfield
      contact: dana.whitfield@example.com
  version:
    name: 1.2.0
    date: 2024-05-02
    diff: Added day-of-year feature; retrained on 2012-2014, evaluated on 2015.
  licenses:
    - identifier: Apache-2.0
  references:
    - reference: https://github.com/vega/vega-datasets/blob/main/data/seattle-weather.csv
    - reference: https://xgboost.readthedocs.io/
  citations:
    - style: APA
      citation: Forecasting ML team (2024). Seattle next-day rain classifier, version 1.2.0.
model_parameters:
  model_architecture: Gradient-boosted decision trees (200 trees, depth 4), exported to ONNX
  input_format: "float32 tensor [batch, 5]: precipitation, temp_max, temp_min, wind, day_of_year"
  output_format: "label int64 [batch] (1 = rain) and probabilities float32 [batch, 2]"
  data:
    - name: Seattle weather 2012-2014 (training)
      link: https://github.com/vega/vega-datasets/blob/main/data/seattle-weather.csv
      sensitive:
        sensitive_data: []
      description: 1,096 daily observations from 2012 to 2014; half of the days are rain or drizzle.
    - name: Seattle weather 2015 (evaluation)
      link: https://github.com/vega/vega-datasets/blob/main/data/seattle-weather.csv
      description: 365 daily observations from 2015 (41% rain or drizzle), held out for evaluation.
      graphics:
        description: Class balance of the evaluation set.
        collection:
          - name: Rain vs. dry days
            image: iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==
quantitative_analysis:
  performance_metrics:
    - type: accuracy
      value: 0.81
      confidence_interval:
        lower_bound: 0.77
        upper_bound: 0.85
    - type: auc
      value: 0.87
    - type: accuracy
      slice: winter
      value: 0.76
    - type: recall
      slice: winter
      value: 0.89
    - type: false positive rate
      value: 0.14
  graphics:
    description: Evaluation on 2015.
    collection:
      - name: ROC curve
        image: iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==
considerations:
  users:
    - description: Event planners in the Seattle area deciding on outdoor set-ups.
  use_cases:
    - description: Ranking the next days by chance of rain for scheduling.
  limitations:
    - description: Trained on four years of a single weather station; it does not generalise to other cities.
    - description: Snow and fog days are rare (under 9% combined) and treated as dry.
  tradeoffs:
    - description: The decision threshold of 0.4 favours recall of rain over precision.
  ethical_considerations:
    - name: Over-reliance for safety decisions
      mitigation_strategy: The output is labelled as a planning aid; severe-weather warnings come from the National Weather Service.
`;

export const RAIN_CARD_JSON = `{
  "model_details": {
    "name": "Seattle next-day rain classifier",
    "owners": [{ "name": "Forecasting ML team", "contact": "forecasting-ml@example.com" }],
    "version": { "name": "1.1.0", "date": "2024-02-12" },
    "licenses": [{ "identifier": "Apache-2.0" }]
  },
  "quantitative_analysis": {
    "performance_metrics": [
      { "type": "accuracy", "value": 0.78 },
      { "type": "accuracy", "slice": "winter", "value": 0.74 }
    ]
  }
}`;
