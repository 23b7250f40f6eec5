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

``predict_proba`` takes the pre-match features of a fixture as ``auto-train predict --features``
writes them (``feature_market`` and ``feature_<name>`` columns; the names without ``feature_``
work too): the features follow each club through the match history, which this module does not
recompute. Every number equals what ``auto-train predict`` prints (same operations in the same
order on IEEE doubles).

Current version (the lineage rule): among the registry entries of the league and model type
(key ``<type>_<league>_<version>`` for the first publication, ``...@<n>`` for the n-th), the one
with the highest number whose lineage is consistent (each ``supersedes`` step names an entry of
the same league and type with a lower number) and whose directory is intact (every file present
with the hash the registry recorded, the manifest naming this entry). Versions a killed run
published but did not register are not seen here; the next ``auto-train`` run registers them.
"""

import hashlib
import json
import math
import os
import pickle

__all__ = [
    "load_current",
    "ModelNotFound",
    "PoissonModel",
    "OneXTwoModel",
    "DrawSpecialistModel",
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
    path = entry.get("path")
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
            and _number(seed_key, e["key"]) is not None
        ):
            entries[e["key"]] = e

    def consistent(entry):
        n = _number(seed_key, entry["key"])
        while entry.get("supersedes") is not None:
            before = entries.get(entry["supersedes"])
            if before is None:
                return False
            m = _number(seed_key, before["key"])
            if m is None or m >= n:
                return False
            entry, n = before, m
        return True

    problems = []
    for entry in sorted(entries.values(), key=lambda e: -_number(seed_key, e["key"])):
        if not consistent(entry):
            problems.append("%s: its supersedes chain is broken" % entry["key"])
            continue
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
    directory = os.path.join(models_dir, *entry["path"].split("/"))
    cls = {
        "poisson_v2": PoissonModel,
        "1x2_v2": OneXTwoModel,
        "draw_specialist": DrawSpecialistModel,
    }[model_type]
    model = cls(directory, league)
    model.key = entry["key"]
    model.path = entry["path"]
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
        home, away = _pmf(lam), _pmf(mu)
        size = MAX_GOALS + 1
        grid = [
            max(home[i] * away[j] * _tau(lam, mu, self.rho, i, j), 0.0)
            for i in range(size)
            for j in range(size)
        ]
        total = _sum(grid)
        if total > 0.0:
            grid = [p / total for p in grid]
        cells = [(i, j, grid[i * size + j]) for i in range(size) for j in range(size)]
        out = [0.0, 0.0, 0.0]
        for i, j, p in cells:
            out[0 if i > j else 1 if i == j else 2] += p
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
        self.main = ([_Linear(p["model"]) for p in parts], cal["temperature"])
        self.fallback = None
        if parts[0].get("fallback") is not None:
            self.fallback = (
                [_Linear(p["fallback"]) for p in parts],
                cal["fallback_temperature"],
            )

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
        self.main = (_Linear(d), d["platt_a"], d["platt_b"])
        fb = d.get("fallback")
        self.fallback = None if fb is None else (_Linear(fb), fb["platt_a"], fb["platt_b"])

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
