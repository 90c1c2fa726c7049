# Reference values for reference.test.ts, computed once with numpy and scipy and pasted into the test file.
# Re-run from the repository root with `python3 src/monitoring/quality/reference-values.py` (written against
# numpy 2.4 and scipy 1.17.1); it prints the TypeScript block that replaces the one between the REFERENCE
# markers in reference.test.ts.
#
# scikit-learn and fairlearn are not installed, so their definitions are written out below with numpy, each
# next to the library function it stands for: accuracy_score, precision/recall/f1_score (pos_label, and
# average='macro' over unique_labels(y_true, y_pred), zero_division left at its default, which warns and
# gives 0), roc_auc_score (through roc_curve's distinct thresholds and the trapezoid rule; checked against
# scipy.stats.mannwhitneyu's U / (n1 n0)), calibration_curve(strategy='uniform') and fairlearn's
# selection_rate, demographic_parity_difference/ratio and equalized_odds_difference (agg='between_groups').
#
# The records are not stored: both sides rebuild them from the same Park-Miller generator (minstd, 48271) and
# use only +, *, / and floor on its output, which IEEE 754 rounds identically in Python and in V8. Keep
# `binary_records`, `multiclass_records` and `regression_records` in step with their twins in
# test-fixtures.ts.
import math

import numpy as np
from scipy import stats

MOD = 2147483647
MUL = 48271


def uniform(seed, count):
    state = seed
    out = []
    for _ in range(count):
        state = state * MUL % MOD
        out.append(state / MOD)
    return out


REGIONS = ['eu', 'us', 'apac']
DEVICES = ['mobile', 'desktop']
GROUPS = ['a', 'b', 'c']


def binary_records():
    """60 records: scores in steps of 0.05 (ties, and values on the bin edges), every 10th one unscored, the
    device unknown on every 15th; labels follow the score, predictions are score >= 0.5 with 10% flipped."""
    u = uniform(101, 60 * 6)
    out = []
    for i in range(60):
        u0, u1, u2, u3, u4, u5 = u[6 * i:6 * i + 6]
        score = math.floor(u0 * 21) / 20
        label = 1 if u1 < 0.15 + 0.7 * score else 0
        prediction = 1 if score >= 0.5 else 0
        if u2 < 0.1:
            prediction = 1 - prediction
        sl = {'region': REGIONS[math.floor(u3 * 3)], 'group': GROUPS[math.floor(u5 * 3)]}
        if i % 15 != 4:
            sl['device'] = DEVICES[math.floor(u4 * 2)]
        out.append({'prediction': prediction, 'label': label, 'score': None if i % 10 == 7 else score, 'slice': sl})
    return out


CLASSES = ['cat', 'dog', 'bird']


def multiclass_records():
    """36 records over cat/dog/bird, with 'fish' predicted now and then but never a label; score = P(cat)."""
    u = uniform(202, 36 * 5)
    out = []
    for i in range(36):
        u0, u1, u2, u3, u4 = u[5 * i:5 * i + 5]
        label = CLASSES[math.floor(u0 * 3)]
        if u1 < 0.6:
            prediction = label
        elif u2 < 0.2:
            prediction = 'fish'
        else:
            prediction = CLASSES[math.floor(u3 * 3)]
        base = math.floor(u4 * 10) / 20
        score = 0.5 + base if prediction == 'cat' else base
        out.append({'prediction': prediction, 'label': label, 'score': score})
    return out


def regression_records():
    """50 records: labels in steps of 0.1 on [0, 100), predictions off by -8 to +12 (a positive bias)."""
    u = uniform(303, 50 * 2)
    out = []
    for i in range(50):
        label = math.floor(u[2 * i] * 1000) / 10
        prediction = label + math.floor(u[2 * i + 1] * 200) / 10 - 8
        out.append({'prediction': prediction, 'label': label})
    return out


def roc_auc_trapezoid(y_score, y_true):
    """sklearn's roc_auc_score: roc_curve at the distinct thresholds (ties move together), then auc()."""
    order = np.argsort(-y_score, kind='mergesort')
    s = y_score[order]
    t = y_true[order].astype(float)
    distinct = np.where(np.diff(s))[0]
    idx = np.r_[distinct, t.size - 1]
    tps = np.cumsum(t)[idx]
    fps = 1 + idx - tps
    tpr = np.r_[0, tps] / tps[-1]
    fpr = np.r_[0, fps] / fps[-1]
    return float(np.trapezoid(tpr, fpr))


def roc_auc(y_score, y_true):
    y_score = np.asarray(y_score, dtype=float)
    y_true = np.asarray(y_true, dtype=bool)
    n1, n0 = int(y_true.sum()), int((~y_true).sum())
    if n1 == 0 or n0 == 0:
        return None  # sklearn raises ValueError; the TS side returns null
    auc = roc_auc_trapezoid(y_score, y_true)
    u = stats.mannwhitneyu(y_score[y_true], y_score[~y_true]).statistic
    assert abs(auc - u / (n1 * n0)) < 1e-12, (auc, u / (n1 * n0))
    return auc


def calibration(y_prob, y_true, n_bins):
    """sklearn's calibration_curve(strategy='uniform') bins, plus ECE = sum_b (n_b / N) |prob_true_b - prob_pred_b|."""
    y_prob = np.asarray(y_prob, dtype=float)
    y_true = np.asarray(y_true, dtype=float)
    bins = np.linspace(0.0, 1.0, n_bins + 1)
    binids = np.searchsorted(bins[1:-1], y_prob)
    bin_sums = np.bincount(binids, weights=y_prob, minlength=len(bins))
    bin_true = np.bincount(binids, weights=y_true, minlength=len(bins))
    bin_total = np.bincount(binids, minlength=len(bins))
    nonzero = bin_total != 0
    prob_true = bin_true[nonzero] / bin_total[nonzero]
    prob_pred = bin_sums[nonzero] / bin_total[nonzero]
    ece = float(np.sum(np.abs(prob_true - prob_pred) * (bin_total[nonzero] / len(y_prob)))) if len(y_prob) else None
    out = []
    for b in range(n_bins):
        n = int(bin_total[b])
        out.append({'count': n, 'mean_score': bin_sums[b] / n if n else None, 'positive_rate': bin_true[b] / n if n else None})
    return ece, out


def safe_div(a, b):
    return a / b if b else 0.0  # sklearn's zero_division default: warn, return 0


def classification(records, positive, n_bins=10):
    n = len(records)
    y_true = np.array([str(r['label']) for r in records])
    y_pred = np.array([str(r['prediction']) for r in records])
    pos = str(positive)
    t, p = y_true == pos, y_pred == pos
    tp, fp, fn, tn = int(np.sum(t & p)), int(np.sum(~t & p)), int(np.sum(t & ~p)), int(np.sum(~t & ~p))
    labels = np.unique(np.concatenate([y_true, y_pred]))  # sklearn's unique_labels: sorted union
    per_p, per_r, per_f = [], [], []
    for c in labels:
        tc, pc = y_true == c, y_pred == c
        tpc = int(np.sum(tc & pc))
        per_p.append(safe_div(tpc, int(pc.sum())))
        per_r.append(safe_div(tpc, int(tc.sum())))
        per_f.append(safe_div(2 * tpc, int(pc.sum()) + int(tc.sum())))
    scored = [r for r in records if r.get('score') is not None]
    s = np.array([r['score'] for r in scored], dtype=float)
    st = np.array([str(r['label']) == pos for r in scored], dtype=bool)
    ece, _ = calibration(s, st, n_bins) if len(scored) else (None, None)
    return {
        'count': n,
        'accuracy': float(np.mean(y_true == y_pred)),
        'precision': safe_div(tp, tp + fp),
        'recall': safe_div(tp, tp + fn),
        'f1': safe_div(2 * tp, 2 * tp + fp + fn),  # sklearn >= 1.3's form, no 0/0 through precision and recall
        'roc_auc': roc_auc(s, st) if len(scored) else None,
        'ece': ece,
        'positive_rate': float(np.mean(p)),
        'label_positive_rate': float(np.mean(t)),
        'scored': len(scored),
        'classes': int(labels.size),
        'macro_precision': float(np.mean(per_p)),
        'macro_recall': float(np.mean(per_r)),
        'macro_f1': float(np.mean(per_f)),
        'confusion': {'tp': tp, 'fp': fp, 'fn': fn, 'tn': tn},
    }


def regression(records):
    err = np.array([r['prediction'] for r in records], dtype=float) - np.array([r['label'] for r in records], dtype=float)
    return {'count': len(records), 'mae': float(np.mean(np.abs(err))), 'rmse': float(np.sqrt(np.mean(err ** 2))),
            'mean_error': float(np.mean(err))}


def fairness(records, attribute, positive):
    """fairlearn's MetricFrame over selection_rate, true_positive_rate and false_positive_rate, with
    difference() = max - min and ratio() = min / max across groups. Every group of the fixture holds both
    classes, so fairlearn's 0-for-0/0 rates (confusion_matrix normalize='true') never arise here."""
    pos = str(positive)
    values = sorted({r['slice'][attribute] for r in records if attribute in r['slice']})
    groups, sel, tprs, fprs = [], [], [], []
    for v in values:
        g = [r for r in records if r['slice'].get(attribute) == v]
        t = np.array([str(r['label']) == pos for r in g])
        p = np.array([str(r['prediction']) == pos for r in g])
        assert t.any() and (~t).any()
        tpr = float(np.sum(t & p) / np.sum(t))
        fpr = float(np.sum(~t & p) / np.sum(~t))
        sel.append(float(np.mean(p)))
        tprs.append(tpr)
        fprs.append(fpr)
        groups.append({'value': v, 'count': len(g), 'selection_rate': sel[-1], 'true_positive_rate': tpr, 'false_positive_rate': fpr})
    tpr_diff, fpr_diff = max(tprs) - min(tprs), max(fprs) - min(fprs)
    return {
        'attribute': attribute,
        'count': len(records),
        'missing': sum(1 for r in records if attribute not in r['slice']),
        'groups': groups,
        'demographic_parity_difference': max(sel) - min(sel),
        'demographic_parity_ratio': min(sel) / max(sel),
        'true_positive_rate_difference': tpr_diff,
        'false_positive_rate_difference': fpr_diff,
        'equalized_odds_difference': max(tpr_diff, fpr_diff),
    }


def slices(records, keys, fn):
    out = [{'slice': {}, 'metrics': fn(records)}]
    for k in keys:
        for v in sorted({r['slice'][k] for r in records if k in r['slice']}):
            out.append({'slice': {k: v}, 'metrics': fn([r for r in records if r['slice'].get(k) == v])})
    return out


def ts(x):
    if x is None:
        return 'null'
    if isinstance(x, bool):
        return 'true' if x else 'false'
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (float, np.floating)):
        x = float(x)
        assert math.isfinite(x)
        return repr(x)
    if isinstance(x, str):
        return "'" + x + "'"
    if isinstance(x, dict):
        return '{ ' + ', '.join(f'{k}: {ts(v)}' for k, v in x.items()) + ' }' if x else '{}'
    if isinstance(x, list):
        return '[' + ', '.join(ts(v) for v in x) + ']'
    raise TypeError(type(x))


binary = binary_records()
multiclass = multiclass_records()
regr = regression_records()
scored = [r for r in binary if r['score'] is not None]
scores = [r['score'] for r in scored]
positives = [r['label'] == 1 for r in scored]

lines = ['// REFERENCE: generated by reference-values.py; do not edit by hand.']
lines.append(f'const BINARY_REFERENCE: ClassificationMetrics = {ts(classification(binary, 1))};')
lines.append(f'const MULTICLASS_REFERENCE: ClassificationMetrics = {ts(classification(multiclass, "cat"))};')
lines.append(f'const REGRESSION_REFERENCE: RegressionMetrics = {ts(regression(regr))};')
lines.append(f'const ROC_AUC_REFERENCE = {ts(roc_auc(scores, positives))};')
lines.append('const CALIBRATION_REFERENCE: Record<number, { ece: number; bins: Omit<CalibrationBin, \'lower\' | \'upper\'>[] }> = {')
for n_bins in (10, 5, 3):
    ece, bins = calibration(scores, positives, n_bins)
    lines.append(f'  {n_bins}: {{ ece: {ts(ece)}, bins: [')
    for b in bins:
        lines.append(f'    {ts(b)},')
    lines.append('  ] },')
lines.append('};')
lines.append('const SLICE_REFERENCE: SliceMetrics<ClassificationMetrics>[] = [')
for s in slices(binary, ['region', 'device'], lambda rs: classification(rs, 1)):
    lines.append(f'  {ts(s)},')
lines.append('];')
lines.append(f'const FAIRNESS_REFERENCE: FairnessReport = {ts(fairness(binary, "group", 1))};')
lines.append('// END REFERENCE')
print('\n'.join(lines))
