"""Serve auto-train's models from a Python backend (standard library only).

auto-train writes its model files as pickles of plain data (dicts, lists, floats, strings) and
keeps refreshed versions in ``leagues/<league>/<type>@<n>/`` directories listed in the
append-only registry. This module finds a league's current version the registry's way, checks
its files against the SHA-256 hashes recorded when it was published, and gives the old service's
methods:

    import auto_train_models as atm
    poisson = atm.load_current("models", "registry.json", "premier_league", "poisson_v2")
    poisson.predict_match("Arsenal", "Chelsea")   # lambda_home, ..., poisson_p_home, ...
    one_x_two = atm.load_current("models", "registry.json", "premier_league", "1x2_v2")
    one_x_two.predict_proba(features)             # [home, draw, away]
    one_x_two.predict_fixture(row, history)       # the same, from a fixture row and the history

``predict_proba`` takes the pre-match features of a fixture as ``auto-train predict --features``
writes them (``feature_market`` and ``feature_<name>`` columns; the names without ``feature_``
work too). ``predict_fixture(row, history)`` computes them as ``auto-train predict`` does, from
the fixture row (``Date``, ``HomeTeam``, ``AwayTeam`` and its pre-match odds columns) and the
finished matches of every league (``history``: dicts with ``date`` ``YYYY-MM-DD``, ``league``
slug, ``home``, ``away``, ``home_goals``, ``away_goals`` and, when known, shots on target
``HST``/``AST``), of which it uses those dated before the fixture. Every number equals what
``auto-train predict`` prints (same operations in the same order on IEEE doubles).

Current version (the lineage rule): among the registry entries of the league and model type
(key ``<type>_<league>_<version>`` for the first publication, ``...@<n>`` for the n-th), the one
with the highest number whose lineage is consistent (each ``supersedes`` step names an entry of
the same league and type with a lower number) and whose directory is intact (every file present
with the hash the registry recorded, the manifest naming this entry). Versions a killed run
published but did not register are not seen here; the next ``auto-train`` run registers them.
"""

import datetime
import hashlib
import json
import math
import os
import pickle
import struct

__all__ = [
    "load_current",
    "ModelNotFound",
    "PoissonModel",
    "OneXTwoModel",
    "DrawSpecialistModel",
    "fixture_features",
    "espn_history",
]

MANIFEST = "auto_train_manifest.json"
MAX_GOALS = 14

# Model type -> (registry version suffix, files a complete directory holds).
MODEL_TYPES = {
    "1x2_v2": (
        "v2",
        [
            "home_model.pkl",
            "draw_model.pkl",
            "away_model.pkl",
            "calibrator.pkl",
            "feature_list.json",
            "metrics.json",
        ],
    ),
    "poisson_v2": ("v2", ["poisson_model.pkl", "metrics.json"]),
    "draw_specialist": ("v1", ["draw_model.pkl", "metrics.json"]),
}

# Model type -> the directory of its first version (later ones add ``@<n>``).
DIR_NAMES = {"1x2_v2": "1x2_v2", "poisson_v2": "poisson_v2", "draw_specialist": "draw_specialist_v1"}


class ModelNotFound(LookupError):
    """No usable version of a league and model type (the message says why)."""


class _PlainData(pickle.Unpickler):
    """Refuses every global: an auto-train pickle is plain data, and a pickle that needs an
    import (a joblib/LightGBM model of another tool, or a tampered file) could run code."""

    def find_class(self, module, name):
        raise pickle.UnpicklingError(
            "not an auto-train file: the pickle needs %s.%s" % (module, name)
        )


def _read_pickle(path):
    with open(path, "rb") as f:
        return _PlainData(f).load()


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return "sha256:" + h.hexdigest()


def _number(seed_key, key):
    """1 for the seed's key, n for ``<seed>@n`` (n >= 2), else None."""
    if key == seed_key:
        return 1
    prefix = seed_key + "@"
    if key.startswith(prefix):
        digits = key[len(prefix):]
        if digits.isdigit() and str(int(digits)) == digits and int(digits) >= 2:
            return int(digits)
    return None


def _check_dir(models_dir, entry, model_type):
    """Why the entry's directory is not intact, or None when it is."""
    # An entry without a path (the old pipeline's) names the first version's directory.
    path = entry.get("path", "leagues/%s/%s" % (entry.get("league"), DIR_NAMES[model_type]))
    if not isinstance(path, str) or not path.startswith("leagues/") or ".." in path.split("/"):
        return "no usable path %r" % (path,)
    directory = os.path.join(models_dir, *path.split("/"))
    if not os.path.isdir(directory):
        return "%s is not there" % path
    for name in MODEL_TYPES[model_type][1]:
        f = os.path.join(directory, name)
        if not os.path.isfile(f) or os.path.getsize(f) == 0:
            return "%s/%s is missing or empty" % (path, name)
    try:
        with open(os.path.join(directory, MANIFEST), encoding="utf-8") as f:
            manifest = json.load(f)["registry_entry"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        return "%s/%s cannot be read: %s" % (path, MANIFEST, e)
    if manifest.get("key") != entry["key"]:
        return "%s holds %r, not %r" % (path, manifest.get("key"), entry["key"])
    hashes = entry.get("files") or manifest.get("files") or {}
    missing = [n for n in MODEL_TYPES[model_type][1] if n not in hashes]
    if missing:
        return "no recorded hash for %s" % ", ".join(missing)
    for name, digest in sorted(hashes.items()):
        if name == MANIFEST and not entry.get("files"):
            continue
        f = os.path.join(directory, name)
        if not os.path.isfile(f):
            return "%s/%s is missing" % (path, name)
        if _sha256(f) != digest:
            return "%s/%s changed since it was published" % (path, name)
    return None


def _current_entry(models_dir, registry_path, league, model_type):
    version = MODEL_TYPES[model_type][0]
    seed_key = "%s_%s_%s" % (model_type, league, version)
    with open(registry_path, encoding="utf-8") as f:
        registry = json.load(f)
    entries = {}
    for e in registry.get("models", []):
        if (
            isinstance(e, dict)
            and e.get("league") == league
            and e.get("model_type") == model_type
            and isinstance(e.get("key"), str)
        ):
            entries[e["key"]] = e
    # The entries must form one lineage (as auto-train's rule): every key numbered as the
    # lineage's keys are, every `supersedes` naming an earlier entry. Otherwise nothing is guessed.
    broken = "the registry's %s %s entries do not form one lineage" % (league, model_type)
    for key, entry in entries.items():
        n = _number(seed_key, key)
        if n is None:
            raise ModelNotFound("%s: key %r is not numbered as the lineage's keys are" % (broken, key))
        old = entry.get("supersedes")
        if old is None:
            continue
        before = entries.get(old)
        if before is None:
            raise ModelNotFound("%s: %s supersedes %s, which is not an entry" % (broken, key, old))
        m = _number(seed_key, old)
        if m is None or m >= n:
            raise ModelNotFound("%s: %s supersedes %s, not an earlier version" % (broken, key, old))

    problems = []
    for entry in sorted(entries.values(), key=lambda e: -_number(seed_key, e["key"])):
        why = _check_dir(models_dir, entry, model_type)
        if why is None:
            return entry
        problems.append("%s: %s" % (entry["key"], why))
    raise ModelNotFound(
        "no intact %s version of %s in %s: %s"
        % (model_type, league, registry_path, "; ".join(problems) or "no registry entry")
    )


def _checked(data, path, fmt, model_type, league):
    """The artifact's header says auto-train wrote it as ``fmt`` for this type and league."""
    producer = data.get("producer", "")
    kind = data.get("format", "")
    if data.get("format_version") is None and kind.endswith("/v1"):
        kind = kind[: -len("/v1")]
    if not (producer == "auto-train" or producer.startswith("auto-train ")) or kind != fmt:
        raise ModelNotFound("%s is not a %s file written by auto-train" % (path, fmt))
    if data.get("model_type") != model_type:
        raise ModelNotFound("%s records model type %r" % (path, data.get("model_type")))
    if data.get("league") not in (None, league):
        raise ModelNotFound("%s records league %r, not %r" % (path, data.get("league"), league))
    return data


def load_current(models_dir, registry_path, league, model_type):
    """The current version of ``league`` x ``model_type`` (``1x2_v2``, ``poisson_v2`` or
    ``draw_specialist``), loaded. Raises ModelNotFound when none is intact."""
    if model_type not in MODEL_TYPES:
        raise ValueError("unknown model type %r" % (model_type,))
    entry = _current_entry(models_dir, registry_path, league, model_type)
    path = entry.get("path", "leagues/%s/%s" % (league, DIR_NAMES[model_type]))
    directory = os.path.join(models_dir, *path.split("/"))
    cls = {
        "poisson_v2": PoissonModel,
        "1x2_v2": OneXTwoModel,
        "draw_specialist": DrawSpecialistModel,
    }[model_type]
    model = cls(directory, league)
    model.key = entry["key"]
    model.path = path
    return model


def _sum(values):
    """Left-to-right float sum (Python's ``sum`` compensates rounding; Rust's does not)."""
    total = 0.0
    for v in values:
        total += v
    return total


def _pmf(rate):
    p = []
    term = math.exp(-rate)
    for k in range(MAX_GOALS + 1):
        if k > 0:
            term *= rate / k
        p.append(term)
    return p


def _tau(lam, mu, rho, i, j):
    if (i, j) == (0, 0):
        return 1.0 - lam * mu * rho
    if (i, j) == (0, 1):
        return 1.0 + lam * rho
    if (i, j) == (1, 0):
        return 1.0 + mu * rho
    if (i, j) == (1, 1):
        return 1.0 - rho
    return 1.0


def _grid(lam, mu, rho):
    """The normalised Dixon-Coles scoreline grid as (home goals, away goals, probability)."""
    home, away = _pmf(lam), _pmf(mu)
    size = MAX_GOALS + 1
    grid = [
        max(home[i] * away[j] * _tau(lam, mu, rho, i, j), 0.0)
        for i in range(size)
        for j in range(size)
    ]
    total = _sum(grid)
    if total > 0.0:
        grid = [p / total for p in grid]
    return [(i, j, grid[i * size + j]) for i in range(size) for j in range(size)]


def _one_x_two(cells):
    out = [0.0, 0.0, 0.0]
    for i, j, p in cells:
        out[0 if i > j else 1 if i == j else 2] += p
    return out


def _grid_1x2(lam, mu, rho):
    return _one_x_two(_grid(lam, mu, rho))


class PoissonModel:
    """``poisson_v2``: Dixon-Coles scorelines of a league."""

    def __init__(self, directory, league):
        path = os.path.join(directory, "poisson_model.pkl")
        d = _checked(_read_pickle(path), path, "auto-train/poisson_v2", "poisson_v2", league)
        self.teams = {t: (s["attack"], s["defence"]) for t, s in d["teams"].items()}
        self.prior = (d["promoted_prior"]["attack"], d["promoted_prior"]["defence"])
        self.home_advantage = d["home_advantage"]
        self.rho = d["rho"]

    def rates(self, home_team, away_team):
        ah, dh = self.teams.get(home_team, self.prior)
        aa, da = self.teams.get(away_team, self.prior)
        return math.exp(self.home_advantage + ah + da), math.exp(aa + dh)

    def predict_match(self, home_team, away_team):
        """Expected goals and the markets of the scoreline grid, as ``auto-train predict``
        prints them (a club the model has not seen gets the promoted-club prior)."""
        lam, mu = self.rates(home_team, away_team)
        cells = _grid(lam, mu, self.rho)
        out = _one_x_two(cells)
        return {
            "lambda_home": lam,
            "lambda_away": mu,
            "poisson_p_home": out[0],
            "poisson_p_draw": out[1],
            "poisson_p_away": out[2],
            "over_2_5": _sum(p for i, j, p in cells if i + j > 2.5),
            "btts": _sum(p for i, j, p in cells if i > 0 and j > 0),
        }


def _sigmoid(z):
    if z >= 0.0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _log_sigmoid(z):
    if z > 0.0:
        return -math.log1p(math.exp(-z))
    return z - math.log1p(math.exp(z))


class _Linear:
    """A standardised linear score: intercept + coef . ((x - mean) / std)."""

    def __init__(self, part):
        self.names = list(part["features"])
        self.mean, self.std = part["mean"], part["std"]
        self.coef, self.intercept = part["coef"], part["intercept"]

    def score(self, features):
        s = 0.0
        for name, m, sd, c in zip(self.names, self.mean, self.std, self.coef):
            s += c * ((_feature(features, name) - m) / sd)
        return self.intercept + s


def _feature(features, name):
    value = features.get("feature_" + name, features.get(name))
    if value is None:
        raise KeyError("feature %r is missing" % name)
    return float(value)


def _has_market(features):
    value = features.get("feature_market", features.get("market"))
    if value is None:
        raise KeyError("feature 'market' (1 when the fixture's odds gave market probabilities)")
    return float(value) != 0.0


class OneXTwoModel:
    """``1x2_v2``: one-vs-rest logistic models, temperature-calibrated."""

    def __init__(self, directory, league):
        parts = []
        for target in ("home", "draw", "away"):
            path = os.path.join(directory, target + "_model.pkl")
            d = _checked(
                _read_pickle(path), path, "auto-train/1x2_v2/binary_logistic", "1x2_v2", league
            )
            if d["target"] != target:
                raise ModelNotFound("%s holds the %r model" % (path, d["target"]))
            parts.append(d)
        path = os.path.join(directory, "calibrator.pkl")
        cal = _checked(
            _read_pickle(path), path, "auto-train/1x2_v2/temperature_calibrator", "1x2_v2", league
        )
        self.league = league
        self.main = ([_Linear(p["model"]) for p in parts], cal["temperature"])
        self.fallback = None
        if parts[0].get("fallback") is not None:
            self.fallback = (
                [_Linear(p["fallback"]) for p in parts],
                cal["fallback_temperature"],
            )

    def predict_fixture(self, row, history):
        """[P(home win), P(draw), P(away win)] of a fixture row, its features computed from
        ``history`` (see the module's doc)."""
        return self.predict_proba(fixture_features(history, self.league, [row])[0])

    def predict_proba(self, features):
        """[P(home win), P(draw), P(away win)] from a fixture's features (a mapping, e.g. a row
        of ``auto-train predict --features``)."""
        linears, t = self.main
        if self.fallback is not None and not _has_market(features):
            linears, t = self.fallback
        h = [t * _log_sigmoid(lin.score(features)) for lin in linears]
        m = max(max(h[0], h[1]), h[2])
        e = [math.exp(x - m) for x in h]
        s = e[0] + e[1] + e[2]
        p0, p1 = e[0] / s, e[1] / s
        return [p0, p1, 1.0 - p0 - p1]


class DrawSpecialistModel:
    """``draw_specialist``: a Platt-scaled logistic draw model."""

    def __init__(self, directory, league):
        path = os.path.join(directory, "draw_model.pkl")
        d = _checked(
            _read_pickle(path),
            path,
            "auto-train/draw_specialist/platt_logistic",
            "draw_specialist",
            league,
        )
        self.league = league
        self.main = (_Linear(d), d["platt_a"], d["platt_b"])
        fb = d.get("fallback")
        self.fallback = None if fb is None else (_Linear(fb), fb["platt_a"], fb["platt_b"])

    def predict_fixture(self, row, history):
        """P(draw) of a fixture row, its features computed from ``history``."""
        return self.predict_draw(fixture_features(history, self.league, [row])[0])

    def predict_draw(self, features):
        """P(draw) from a fixture's features."""
        lin, a, b = self.main
        if self.fallback is not None and not _has_market(features):
            lin, a, b = self.fallback
        return _sigmoid(a * lin.score(features) + b)

    def predict_proba(self, features):
        """[P(no draw), P(draw)], as a binary classifier's ``predict_proba`` row."""
        p = self.predict_draw(features)
        return [1.0 - p, p]


# --- The feature pass (src/features/mod.rs), for predict_fixture ---------------------------------

_ELO_K, _ELO_HA0, _ELO_HA_K = 20.0, 60.0, 1.0
_GOAL_ETA, _SOT_ETA, _MU_ETA = 0.07, 0.05, 0.004
_SEASON_SHRINK, _NEW_BOOST, _NEW_MATCHES = 0.8, 1.6, 10
_FORM_N, _DRAW_N, _LEAGUE_WARM = 6, 10, 150
_PRIOR_AFTER, _PRIOR_WEIGHT, _DRAW_EMA = 19, 0.3, 0.004
_LN_10 = 2.302585092994046
_PRE_MATCH_ODDS = [
    (p + "H", p + "D", p + "A")
    for p in ("PS", "Avg", "BbAv", "B365", "BW", "IW", "WH", "VC", "LB", "GB", "SJ", "BS")
]
_RATINGS = ("elo", "att", "def", "satt", "sdef")
FEATURE_NAMES = [
    "elo_diff", "elo_abs_diff", "xg_home_log", "xg_away_log", "xg_total", "xg_abs_diff",
    "pois_home_logit", "pois_draw_logit", "pois_away_logit", "sot_home_log", "sot_away_log",
    "form_pts_diff", "form_gd_diff", "form_sot_diff", "draw_rate_home", "draw_rate_away",
    "league_draw_rate", "rest_home", "rest_away", "new_home", "new_away", "mkt_home_logit",
    "mkt_draw_logit", "mkt_away_logit", "mkt_abs_diff", "mkt_absent",
]


def _f32(x):
    """A number as auto-train keeps a data cell: a 32-bit float."""
    return struct.unpack("f", struct.pack("f", x))[0]


def _cell_number(row, name):
    value = row.get(name)
    if value is None or str(value).strip() == "":
        return None
    try:
        v = float(str(value).strip())
    except ValueError:
        return None
    return _f32(v) if math.isfinite(v) and abs(v) < 3.4028234663852886e38 else None


def _logit(p):
    p = min(max(p, 1e-9), 1.0 - 1e-9)
    return math.log(p / (1.0 - p))


def _market(row):
    for cols in _PRE_MATCH_ODDS:
        inv = []
        for c in cols:
            o = _cell_number(row, c)
            if o is None or not (math.isfinite(o) and 1.0 < o < 1000.0):
                break
            inv.append(1.0 / o)
        if len(inv) < 3:
            continue
        s = inv[0] + inv[1] + inv[2]
        if not 0.9 <= s <= 1.5:
            continue
        return [inv[0] / s, inv[1] / s, inv[2] / s]
    return None


def _day(text):
    """Days since 1970-01-01 of ``YYYY-MM-DD`` (a longer text: its first ten characters), or of
    ``dd/mm/yy``/``dd/mm/yyyy`` as the data files write it."""
    text = str(text).strip()
    if len(text) >= 10 and text[4] == "-":
        y, m, d = int(text[0:4]), int(text[5:7]), int(text[8:10])
    else:
        d, m, y = (int(x) for x in text.split("/"))
        if y < 100:
            y += 2000 if y < 70 else 1900
    return (datetime.date(y, m, d) - datetime.date(1970, 1, 1)).days


def _season(day):
    date = datetime.date(1970, 1, 1) + datetime.timedelta(days=day)
    return date.year if date.month >= 7 else date.year - 1


class _League:
    def __init__(self):
        self.n = 0
        self.home_adv = _ELO_HA0
        self.mu_h, self.mu_a = math.log(1.5), math.log(1.15)
        self.smu_h, self.smu_a = math.log(4.8), math.log(3.9)
        self.draw_rate = 0.26
        self.prior = {"elo": -40.0, "att": -0.1, "def": -0.1, "satt": -0.1, "sdef": -0.1}


class _Team:
    def __init__(self):
        self.league = None
        self.pool_matches = 0
        self.newcomer = False
        self.season = 0
        self.r = dict.fromkeys(_RATINGS, 0.0)
        self.last_day = None
        self.recent = []


class _Engine:
    def __init__(self):
        self.leagues, self.teams = {}, {}

    def view(self, team, league, season):
        fresh = dict(league.prior) if league.n >= _LEAGUE_WARM * 2 else dict.fromkeys(_RATINGS, 0.0)
        if team is not None and team.league is league:
            if team.season != season and team.pool_matches > 0:
                r = {k: v * _SEASON_SHRINK for k, v in team.r.items()}
            else:
                r = team.r
            return r, team.pool_matches < _NEW_MATCHES
        return fresh, True

    def features(self, day, league_slug, home, away, row):
        league = self.leagues.get(league_slug)
        th, ta = self.teams.get(home), self.teams.get(away)
        season = _season(day)
        if league is None:
            league = _League()
            vh, new_h = dict.fromkeys(_RATINGS, 0.0), True
            va, new_a = dict.fromkeys(_RATINGS, 0.0), True
        else:
            vh, new_h = self.view(th, league, season)
            va, new_a = self.view(ta, league, season)
        elo_diff = (vh["elo"] + league.home_adv - va["elo"]) / 400.0 * _LN_10
        lh = league.mu_h + vh["att"] - va["def"]
        la = league.mu_a + va["att"] - vh["def"]
        pois = _grid_1x2(min(max(math.exp(lh), 0.05), 8.0), min(max(math.exp(la), 0.05), 8.0), 0.0)

        def form(t):
            recent = list(reversed(t.recent))[:_FORM_N] if t is not None else []
            if not recent:
                return 1.35, 0.0, 0.0
            n = float(len(recent))
            sots = [r["sot"][0] - r["sot"][1] for r in recent if r["sot"] is not None]
            return (
                _sum(r["pts"] for r in recent) / n,
                _sum(r["gf"] - r["ga"] for r in recent) / n,
                _sum(sots) / float(len(sots)) if sots else 0.0,
            )

        def draw_rate(t):
            d, n = 0.0, 0.0
            if t is not None:
                r = list(reversed(t.recent))[:_DRAW_N]
                d, n = float(sum(1 for x in r if x["draw"])), float(len(r))
            return (d + 3.0 * league.draw_rate) / (n + 3.0)

        def rest(t):
            days = 21
            if t is not None and t.last_day is not None:
                days = min(max(day - t.last_day, 1), 21)
            return math.log(float(days))

        market = _market(row)
        fh, fa = form(th), form(ta)
        xh, xa = math.exp(lh), math.exp(la)
        m = market
        values = [
            elo_diff, abs(elo_diff), lh, la, math.exp(lh) + math.exp(la), abs(xh - xa),
            _logit(pois[0]), _logit(pois[1]), _logit(pois[2]),
            league.smu_h + vh["satt"] - va["sdef"], league.smu_a + va["satt"] - vh["sdef"],
            fh[0] - fa[0], fh[1] - fa[1], fh[2] - fa[2],
            draw_rate(th), draw_rate(ta), league.draw_rate, rest(th), rest(ta),
            1.0 if new_h else 0.0, 1.0 if new_a else 0.0,
            _logit(m[0]) if m else 0.0, _logit(m[1]) if m else 0.0, _logit(m[2]) if m else 0.0,
            abs(_logit(m[0]) - _logit(m[2])) if m else 0.0, 0.0 if m else 1.0,
        ]
        out = {"feature_" + n: v for n, v in zip(FEATURE_NAMES, values)}
        out["feature_market"] = 1.0 if market is not None else 0.0
        return out

    def enter(self, t, league, season):
        if t.league is not league:
            t.league = league
            t.pool_matches = 0
            t.newcomer = league.n >= _LEAGUE_WARM * 2
            t.r = dict(league.prior) if t.newcomer else dict.fromkeys(_RATINGS, 0.0)
            t.season = season
        elif t.season != season:
            if t.pool_matches > 0:
                t.r = {k: v * _SEASON_SHRINK for k, v in t.r.items()}
            t.season = season

    def apply(self, m):
        league = self.leagues.setdefault(m["league"], _League())
        h = self.teams.setdefault(m["home"], _Team())
        a = self.teams.setdefault(m["away"], _Team())
        if h is a:
            return
        season = _season(m["day"])
        self.enter(h, league, season)
        self.enter(a, league, season)
        gh, ga = float(m["home_goals"]), float(m["away_goals"])
        sot = m["sot"]
        rh, ra = dict(h.r), dict(a.r)

        def boost(t):
            return _NEW_BOOST if t.pool_matches < _NEW_MATCHES and t.newcomer else 1.0

        bh, ba = boost(h), boost(a)
        d = rh["elo"] + league.home_adv - ra["elo"]
        expected = 1.0 / (1.0 + 10.0 ** (-d / 400.0))
        outcome = 0 if gh > ga else 1 if gh == ga else 2
        score = (1.0, 0.5, 0.0)[outcome]
        margin = abs(gh - ga)
        g = 1.0 if margin <= 1.0 else 1.5 if margin == 2.0 else (11.0 + margin) / 8.0
        delta = _ELO_K * g * (score - expected)
        league.home_adv += _ELO_HA_K * (score - expected)
        lh = math.exp(league.mu_h + rh["att"] - ra["def"])
        la = math.exp(league.mu_a + ra["att"] - rh["def"])
        eh, ea = (gh - lh) / math.exp(league.mu_h), (ga - la) / math.exp(league.mu_a)
        league.mu_h += _MU_ETA * (gh - lh)
        league.mu_a += _MU_ETA * (ga - la)
        esh = esa = 0.0
        if sot is not None:
            sh, sa = sot
            slh = math.exp(league.smu_h + rh["satt"] - ra["sdef"])
            sla = math.exp(league.smu_a + ra["satt"] - rh["sdef"])
            esh = (sh - slh) / math.exp(league.smu_h)
            esa = (sa - sla) / math.exp(league.smu_a)
            league.smu_h += _MU_ETA * (sh - slh) / math.exp(league.smu_h)
            league.smu_a += _MU_ETA * (sa - sla) / math.exp(league.smu_a)
        league.draw_rate += _DRAW_EMA * ((1.0 if outcome == 1 else 0.0) - league.draw_rate)
        league.n += 1
        h.r["elo"] += delta * bh
        h.r["att"] += _GOAL_ETA * bh * eh
        h.r["def"] -= _GOAL_ETA * bh * ea
        h.r["satt"] += _SOT_ETA * bh * esh
        h.r["sdef"] -= _SOT_ETA * bh * esa
        a.r["elo"] -= delta * ba
        a.r["att"] += _GOAL_ETA * ba * ea
        a.r["def"] -= _GOAL_ETA * ba * eh
        a.r["satt"] += _SOT_ETA * ba * esa
        a.r["sdef"] -= _SOT_ETA * ba * esh
        pts = {1.0: 3.0, 0.5: 1.0, 0.0: 0.0}
        draw = outcome == 1
        items = [
            (h, {"pts": pts[score], "gf": gh, "ga": ga, "sot": sot, "draw": draw}),
            (a, {"pts": pts[1.0 - score], "gf": ga, "ga": gh,
                 "sot": None if sot is None else (sot[1], sot[0]), "draw": draw}),
        ]
        for t, rec in items:
            t.recent.append(rec)
            if len(t.recent) > max(_DRAW_N, _FORM_N):
                t.recent.pop(0)
            t.last_day = m["day"]
            t.pool_matches += 1
            if t.newcomer and t.pool_matches == _PRIOR_AFTER:
                league.prior = {
                    k: league.prior[k] + _PRIOR_WEIGHT * (t.r[k] - league.prior[k])
                    for k in _RATINGS
                }


def _history_match(m):
    hst, ast = m.get("HST"), m.get("AST")
    sot = None
    if hst not in (None, "") and ast not in (None, ""):
        x, y = _f32(float(hst)), _f32(float(ast))
        if 0.0 <= x < 100.0 and 0.0 <= y < 100.0:
            sot = (x, y)
    return {
        "day": _day(m["date"]),
        "league": m["league"],
        "home": m["home"],
        "away": m["away"],
        "home_goals": int(m["home_goals"]),
        "away_goals": int(m["away_goals"]),
        "sot": sot,
    }


def fixture_features(history, league, rows):
    """The pre-match features of fixture ``rows`` of ``league`` (one dict a row, keyed as
    ``auto-train predict --features`` writes them), each from the matches of ``history`` dated
    strictly before it."""
    matches = sorted(
        (_history_match(m) for m in history),
        key=lambda m: (m["day"], m["league"], m["home"], m["away"]),
    )
    queries = sorted(range(len(rows)), key=lambda i: _day(rows[i]["Date"]))
    out = [None] * len(rows)
    engine = _Engine()
    nxt = 0
    for m in matches:
        while nxt < len(queries) and _day(rows[queries[nxt]]["Date"]) <= m["day"]:
            i = queries[nxt]
            row = rows[i]
            out[i] = engine.features(_day(row["Date"]), league, row["HomeTeam"], row["AwayTeam"], row)
            nxt += 1
        engine.apply(m)
    for i in queries[nxt:]:
        row = rows[i]
        out[i] = engine.features(_day(row["Date"]), league, row["HomeTeam"], row["AwayTeam"], row)
    return out


# --- History from the ESPN dataset (src/data/espn.rs's rules), for predict_fixture ---------------

# ESPN league id -> slug, as src/data/espn.rs names them (the seed leagues and the
# football-data.co.uk main divisions).
ESPN_LEAGUE_SLUGS = {
    "700": "premier_league", "740": "la_liga", "730": "serie_a", "720": "bundesliga",
    "710": "ligue_1", "725": "eredivisie", "715": "primeira_liga", "3914": "championship",
    "3915": "league_one", "3916": "league_two", "3917": "national_league",
    "735": "scottish_premiership", "3940": "scottish_championship",
    "3941": "scottish_league_one", "3942": "scottish_league_two", "3927": "bundesliga_2",
    "3931": "serie_b", "3921": "la_liga_2", "3926": "ligue_2", "3901": "belgian_pro_league",
    "3946": "super_lig", "3955": "greek_super_league",
}
_FINAL = {"STATUS_FULL_TIME", "STATUS_FINAL_AET", "STATUS_FINAL_AGT", "STATUS_FINAL_PEN"}
# src/data/leagues.rs's MAX_SLUG_BYTES.
_MAX_SLUG_BYTES = 255
# ESPN country code -> (country, the adjective its leagues' names start with), as
# src/data/espn.rs's COUNTRIES: "BRA.1" "Brazilian Serie A" is brazil_serie_a.
ESPN_COUNTRIES = {
    "ARG": ("Argentina", "Argentine"), "AUS": ("Australia", "Australian"),
    "AUT": ("Austria", "Austrian"), "BEL": ("Belgium", "Belgian"), "BOL": ("Bolivia", "Bolivian"),
    "BRA": ("Brazil", "Brazilian"), "CHI": ("Chile", "Chilean"), "CHN": ("China", "Chinese"),
    "COL": ("Colombia", "Colombian"), "CRC": ("Costa Rica", "Costa Rican"),
    "CYP": ("Cyprus", "Cypriot"), "DEN": ("Denmark", "Danish"), "ECU": ("Ecuador", "Ecuadorian"),
    "ENG": ("England", "English"), "ESP": ("Spain", "Spanish"), "FIN": ("Finland", "Finnish"),
    "FRA": ("France", "French"), "GER": ("Germany", "German"), "GHA": ("Ghana", "Ghanaian"),
    "GRE": ("Greece", "Greek"), "GUA": ("Guatemala", "Guatemalan"),
    "HON": ("Honduras", "Honduran"), "IDN": ("Indonesia", "Indonesian"),
    "IND": ("India", "Indian"), "IRL": ("Ireland", "Irish"), "ISR": ("Israel", "Israeli"),
    "ITA": ("Italy", "Italian"), "JPN": ("Japan", "Japanese"), "KEN": ("Kenya", "Kenyan"),
    "KSA": ("Saudi Arabia", "Saudi"), "MEX": ("Mexico", "Mexican"), "MLT": ("Malta", "Maltese"),
    "MYS": ("Malaysia", "Malaysian"), "NED": ("Netherlands", "Dutch"),
    "NGA": ("Nigeria", "Nigerian"), "NIR": ("Northern Ireland", "Northern Irish"),
    "NOR": ("Norway", "Norwegian"), "PAR": ("Paraguay", "Paraguayan"), "PER": ("Peru", "Peruvian"),
    "POL": ("Poland", "Polish"), "POR": ("Portugal", "Portuguese"), "ROU": ("Romania", "Romanian"),
    "RSA": ("South Africa", "South African"), "RUS": ("Russia", "Russian"),
    "SCO": ("Scotland", "Scottish"), "SGP": ("Singapore", "Singaporean"),
    "SLV": ("El Salvador", "Salvadoran"), "SUI": ("Switzerland", "Swiss"),
    "SWE": ("Sweden", "Swedish"), "THA": ("Thailand", "Thai"), "TUR": ("Turkey", "Turkish"),
    "UGA": ("Uganda", "Ugandan"), "URU": ("Uruguay", "Uruguayan"), "USA": ("USA", "American"),
    "VEN": ("Venezuela", "Venezuelan"), "WAL": ("Wales", "Welsh"), "ZAM": ("Zambia", "Zambian"),
    "ZIM": ("Zimbabwe", "Zimbabwean"),
}
# The dataset's status.csv (statusId -> name), used when a folder has none (src/data/espn.rs's
# STATUSES).
ESPN_STATUSES = {
    "1": "STATUS_SCHEDULED", "2": "STATUS_IN_PROGRESS", "5": "STATUS_CANCELED",
    "6": "STATUS_POSTPONED", "7": "STATUS_DELAYED", "8": "STATUS_SUSPENDED",
    "23": "STATUS_HALFTIME", "24": "STATUS_OVERTIME", "25": "STATUS_FIRST_HALF",
    "26": "STATUS_SECOND_HALF", "27": "STATUS_ABANDONED", "28": "STATUS_FULL_TIME",
    "44": "STATUS_SHOOTOUT", "45": "STATUS_FINAL_AET", "46": "STATUS_FINAL_AGT",
    "47": "STATUS_FINAL_PEN", "51": "STATUS_FINAL_ABANDONED", "53": "STATUS_END_OF_REGULATION",
    "54": "STATUS_END_OF_EXTRATIME",
}


def _normalise_slug(name):
    """src/data/leagues.rs's normalise_slug: lowercase, every run of characters other than
    letters, digits and ``_`` one ``_``, none at either end."""
    out = []
    for ch in name.strip().lower():
        if ch.isalnum() or ch == "_":
            out.append(ch)
        elif out and out[-1] != "_":
            out.append("_")
    return "".join(out).rstrip("_")


def espn_league_slug(league_id, code, name):
    """The slug auto-train gives an ESPN league (src/data/espn.rs's league_slug): the id table's,
    else from its ``leagues.csv`` code and name, country-aware (``630``, ``BRA.1``, "Brazilian
    Serie A": ``brazil_serie_a``)."""
    if league_id in ESPN_LEAGUE_SLUGS:
        return ESPN_LEAGUE_SLUGS[league_id]
    prefix = code.split(".")[0]
    if prefix in ESPN_COUNTRIES:
        country, adjective = ESPN_COUNTRIES[prefix]
        rest = name.strip()
        if rest.startswith(adjective) and rest[len(adjective):].startswith(" "):
            rest = rest[len(adjective):]
        return _normalise_slug(country.strip() + " " + rest.strip())
    return _normalise_slug(prefix + " " + name)


def _is_league_code(code):
    country, dot, tier = code.partition(".")
    return bool(dot) and len(country) == 3 and country.isascii() and country.isupper() \
        and country.isalpha() and tier.isdigit() and tier.isascii()


def _id_text(cell):
    cell = (cell or "").strip()
    if cell.endswith(".0") and cell[:-2].isdigit():
        return cell[:-2]
    return cell


def _read_csv(path):
    import csv

    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        return [{k.lstrip("\ufeff").strip(): (v or "").strip() for k, v in r.items() if k}
                for r in csv.DictReader(f)]


def _table(base_data, name):
    path = os.path.join(base_data, name)
    return _read_csv(path) if os.path.isfile(path) else None


def espn_history(base_data, today=None):
    """The finished league matches of an ESPN ``base_data`` directory (``fixtures.csv``, and
    ``teams.csv``, ``leagues.csv``, ``status.csv`` when present) as ``predict_fixture``'s
    history, by the rules ``auto-train`` reads them with: final scores only (after extra time or
    penalties too; without ``status.csv`` the dataset's own status table), leagues only (the ids
    above, or a ``leagues.csv`` ``midsizeName`` ``CCC.N``) under the slugs auto-train gives them
    (``espn_league_slug``), team names from ``teams.csv`` (the id when missing), nothing dated
    after ``today`` (``YYYY-MM-DD``, default today UTC), the same (league, date, home, away)
    once."""
    teams = {}
    for r in _table(base_data, "teams.csv") or []:
        if r.get("displayName"):
            teams.setdefault(_id_text(r.get("teamId")), r["displayName"])
    leagues = {}
    for r in _table(base_data, "leagues.csv") or []:
        leagues.setdefault(r.get("leagueId", ""), (r.get("midsizeName", ""), r.get("leagueName", "")))
    status_rows = _table(base_data, "status.csv")
    if status_rows is None:
        statuses = dict(ESPN_STATUSES)
    else:
        statuses = {r["statusId"]: r["name"] for r in status_rows}
    if today is None:
        today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    last = _day(today)
    slugs = {}

    def slug_of(league):
        if league not in slugs:
            code, name = leagues.get(league, ("", ""))
            slug = None
            if league in ESPN_LEAGUE_SLUGS or _is_league_code(code):
                slug = espn_league_slug(league, code, name)
            # auto-train's is_valid_slug: a usable directory name.
            valid = slug and slug not in (".", "..") and len(slug.encode()) <= _MAX_SLUG_BYTES
            slugs[league] = slug if valid else None
        return slugs[league]

    out, seen = [], set()
    for r in _read_csv(os.path.join(base_data, "fixtures.csv")):
        league = slug_of(_id_text(r.get("leagueId")))
        if league is None or statuses.get(_id_text(r.get("statusId"))) not in _FINAL:
            continue
        home, away = _id_text(r.get("homeTeamId")), _id_text(r.get("awayTeamId"))
        try:
            day = _day(r["date"])
            hg, ag = float(r["homeTeamScore"]), float(r["awayTeamScore"])
        except (KeyError, ValueError):
            continue
        if day > last or not home or not away or home == away:
            continue
        if hg != int(hg) or ag != int(ag) or not (0 <= hg <= 255 and 0 <= ag <= 255):
            continue
        m = {
            "date": r["date"][:10],
            "league": league,
            "home": teams.get(home, home),
            "away": teams.get(away, away),
            "home_goals": int(hg),
            "away_goals": int(ag),
        }
        key = (m["league"], m["date"], m["home"], m["away"])
        if key not in seen:
            seen.add(key)
            out.append(m)
    return out
