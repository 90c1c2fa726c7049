# Reference values for statistics.test.ts, computed once with scipy and numpy and pasted into the test file.
# Re-run from the repository root with `python3 src/rollout/analysis/reference-values.py` (written against
# scipy 1.17.1 and numpy 2.4; it reads scipy's private _MWU for the exact null distribution); it prints the
# TypeScript block that replaces the one between the REFERENCE markers in the test, byte for byte.
#
# The samples are not stored: both sides rebuild them from the same Park-Miller generator (minstd, 48271) and
# use only +, *, / and floor on its output, which IEEE 754 rounds identically in Python and in V8. Keep
# `uniform`, `continuous` and `integers` in step with their twins in statistics.test.ts.
import math

import numpy as np
from scipy import stats
from scipy.optimize import brentq
from scipy.stats._mannwhitneyu import _MWU

MOD = 2147483647
MUL = 48271


def uniform(seed, count):
    state = seed
    out = []
    for _ in range(count):
        state = state * MUL % MOD
        out.append(state / MOD)
    return out


def continuous(seed, n, base, spread):
    u = uniform(seed, 2 * n)
    return np.array([base + spread * u[2 * i] + spread * u[2 * i + 1] * u[2 * i + 1] for i in range(n)])


def integers(seed, n, k, offset):
    return np.array([float(math.floor(v * k) + offset) for v in uniform(seed, n)])


SAMPLES = {
    'smallContinuous': (continuous(11, 9, 10, 5), continuous(12, 11, 11, 5)),
    'smallTied': (integers(21, 12, 8, 0), integers(22, 15, 8, 1)),
    'largeContinuous': (continuous(31, 1000, 100, 40), continuous(32, 1200, 103, 40)),
    'largeTied': (integers(41, 1000, 50, 0), integers(42, 900, 50, 2)),
    'mediumContinuous': (continuous(51, 20, 50, 10), continuous(52, 30, 45, 10)),
    'justAboveExact': (continuous(61, 60, 20, 8), continuous(62, 70, 21, 8)),
}


def mann_whitney():
    rows = []
    for name, (x, y) in SAMPLES.items():
        for alternative in ('two-sided', 'greater', 'less'):
            for continuity in (True, False):
                r = stats.mannwhitneyu(x, y, alternative=alternative, use_continuity=continuity, method='asymptotic')
                rows.append(f"  {{ sample: '{name}', alternative: '{alternative}', continuity: {str(continuity).lower()}, "
                            f"u1: {float(r.statistic)!r}, pValue: {float(r.pvalue)!r} }},")
    return 'const MANN_WHITNEY: MannWhitneyCase[] = [\n' + '\n'.join(rows) + '\n];'


def exact_ci(control, experiment, confidence):
    """R's wilcox.test(experiment, control, conf.int=TRUE, exact=TRUE), with scipy's own null distribution."""
    n, m = len(experiment), len(control)
    diffs = np.sort(np.subtract.outer(experiment, control).ravel())
    alpha = 1 - confidence
    cdf = _MWU(n, m)
    qu = 0
    while cdf.cdf(np.array([qu]))[0] < alpha / 2 - 10 * np.finfo(float).eps:
        qu += 1
    if qu == 0:
        qu = 1
    ql = n * m - qu
    return diffs[qu - 1], diffs[ql]


def asymptotic_ci(control, experiment, confidence):
    """R's wilcox.test(experiment, control, conf.int=TRUE, exact=FALSE, correct=TRUE): root of the standardised
    rank-sum as a function of the shift, found by bracketing (R uses uniroot with tol=1e-4; brentq goes to 1e-13)."""
    x, y = experiment, control
    nx, ny = len(x), len(y)
    alpha = 1 - confidence
    mumin, mumax = x.min() - y.max(), x.max() - y.min()

    def wdiff(d, zq):
        dr = stats.rankdata(np.concatenate([x - d, y]))
        _, nties = np.unique(dr, return_counts=True)
        dz = dr[:nx].sum() - nx * (nx + 1) / 2 - nx * ny / 2
        sigma = math.sqrt(nx * ny / 12 * ((nx + ny + 1) - (nties ** 3 - nties).sum() / ((nx + ny) * (nx + ny - 1))))
        return (dz - np.sign(dz) * 0.5) / sigma - zq

    def root(zq):
        if wdiff(mumin, zq) <= 0:
            return mumin
        if wdiff(mumax, zq) >= 0:
            return mumax
        return brentq(wdiff, mumin, mumax, args=(zq,), xtol=1e-13)

    return root(stats.norm.isf(alpha / 2)), root(stats.norm.ppf(alpha / 2))


def hodges_lehmann():
    rows = []
    cases = [
        ('smallContinuous', 0.95, 'exact'), ('smallContinuous', 0.8, 'exact'),
        ('mediumContinuous', 0.95, 'exact'), ('mediumContinuous', 0.98, 'exact'),
        ('smallTied', 0.95, 'asymptotic'), ('justAboveExact', 0.95, 'asymptotic'),
        # At 0.919 the lower bound moves from -2 to -1 if sigma wrongly counted the ties across samples at d = 0.
        ('smallTied', 0.919, 'asymptotic'),
        ('largeContinuous', 0.98, 'asymptotic'), ('largeContinuous', 0.9, 'asymptotic'),
        ('largeTied', 0.98, 'asymptotic'), ('largeTied', 0.95, 'asymptotic'),
    ]
    for name, confidence, method in cases:
        experiment, control = SAMPLES[name]
        estimate = float(np.median(np.subtract.outer(experiment, control).ravel()))
        lower, upper = (exact_ci if method == 'exact' else asymptotic_ci)(control, experiment, confidence)
        rows.append(f"  {{ sample: '{name}', confidence: {confidence!r}, method: '{method}', "
                    f"estimate: {estimate!r}, lower: {float(lower)!r}, upper: {float(upper)!r} }},")
    return 'const HODGES_LEHMANN: HodgesLehmannCase[] = [\n' + '\n'.join(rows) + '\n];'


def chi_square():
    cases = [
        ([9050, 950], [0.9, 0.1]),
        ([850, 150], [0.9, 0.1]),
        ([700, 300], [0.9, 0.1]),
        ([7000, 3000], [0.9, 0.1]),
        ([100, 120, 80], [1 / 3, 1 / 3, 1 / 3]),
        ([30, 45, 15, 10], [0.4, 0.3, 0.2, 0.1]),
        ([200, 260, 140, 90, 40, 270], [0.2, 0.2, 0.2, 0.1, 0.1, 0.2]),
        ([12, 9, 11, 8, 10, 13, 7, 10, 9, 11, 10], [1 / 11] * 11),
    ]
    rows = []
    for observed, shares in cases:
        total = sum(observed)
        r = stats.chisquare(observed, f_exp=[s * total for s in shares])
        shares_ts = ', '.join(repr(s) for s in shares)
        rows.append(f"  {{ observed: {observed}, shares: [{shares_ts}], statistic: {float(r.statistic)!r}, "
                    f"df: {len(observed) - 1}, pValue: {float(r.pvalue)!r} }},")
    return 'const CHI_SQUARE: ChiSquareCase[] = [\n' + '\n'.join(rows) + '\n];'


def z_test():
    """statsmodels' proportions_ztest (pooled variance) by hand; z is (p2 - p1) / se, so 'greater' is p2 > p1."""
    rows = []
    for x1, n1, x2, n2 in [(50, 1000, 80, 1000), (10, 2000, 100, 1000), (5, 10000, 312, 1000), (120, 5000, 110, 5000),
                           (0, 200, 3, 150)]:
        p1, p2 = x1 / n1, x2 / n2
        pooled = (x1 + x2) / (n1 + n2)
        z = (p2 - p1) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        for alternative, p in (('two-sided', 2 * stats.norm.sf(abs(z))), ('greater', stats.norm.sf(z)),
                               ('less', stats.norm.cdf(z))):
            rows.append(f"  {{ x1: {x1}, n1: {n1}, x2: {x2}, n2: {n2}, alternative: '{alternative}', "
                        f"z: {z!r}, pValue: {float(p)!r} }},")
    return 'const Z_TEST: ZTestCase[] = [\n' + '\n'.join(rows) + '\n];'


print('// REFERENCE BEGIN: generated by reference-values.py, do not edit by hand')
print(mann_whitney())
print(hodges_lehmann())
print(chi_square())
print(z_test())
print('// REFERENCE END')
