#!/usr/bin/env python3
"""An independent implementation of docs/golden-format.md (sections 2-7) in plain Python, checked
against docs/golden-vectors.json: it shares no code with the Java engine, so passing shows the
spec is enough to compute the same canonical bytes, hashes and classifications elsewhere.

    python3 docs/golden-vectors-check.py [docs/golden-vectors.json]

Prints one line per failed vector and a total; exits 1 when any failed. Error codes are checked
for the errors plain JSON parsing can tell apart (the rest only as "refused").
"""
import base64
import decimal
import hashlib
import json
import math
import re
import sys

DEFAULT_VOLATILE = ["timestamp", "duration_ms", "elapsed_ms", "started_at", "finished_at", "created_at"]
DEFAULT_MAPPING = {"run_id": "/run_id", "workflow": "/workflow", "role": "/role", "seed": "/seed",
                   "run_hash": "/hash", "output": "/output", "steps": "/steps", "step_index": "/index",
                   "step_name": "/name", "step_kind": "/kind", "step_hash": "/hash", "rng_keys": ["rng"],
                   "response_key": "response"}


class Refused(Exception):
    def __init__(self, code):
        super().__init__(code)
        self.code = code


class Int(int):
    """An integer literal: written with its exact digits."""


def parse(data, limits):
    if len(data) > limits.get("max_bytes", 64 << 20):
        raise Refused("TOO_LARGE")
    try:
        text = data.decode("utf-8", errors="strict")
    except UnicodeDecodeError:
        raise Refused("INVALID_UTF8")
    if "\x00" in text:
        raise Refused("NOT_JSON")
    if not text.strip():
        raise Refused("TRUNCATED")
    limit = limits.get("max_string_length", 16 << 20)
    for token in re.finditer(rb'"(?:[^"\\]|\\.)*"', data):  # every string token, as written
        if len(token.group()) - 2 > limit:
            raise Refused("STRING_TOO_LONG")

    def pairs(items):
        keys = [k for k, _ in items]
        if len(set(keys)) != len(keys):
            raise Refused("DUPLICATE_KEY")
        return dict(items)

    def number(s):
        d = float(s)  # correctly rounded
        if math.isinf(d):
            raise Refused("NON_FINITE_NUMBER")
        if d == 0 and re.search(r"[1-9]", re.split(r"[eE]", s)[0]):
            raise Refused("NON_FINITE_NUMBER")
        if len(s) > 1000:
            raise Refused("NOT_JSON")
        return d

    def constant(name):
        raise Refused("NON_FINITE_NUMBER")

    try:
        value = json.loads(text, object_pairs_hook=pairs, parse_int=lambda s: Int(int(s)), parse_float=number,
                           parse_constant=constant)
    except Refused:
        raise
    except json.JSONDecodeError as e:
        raise Refused("TRUNCATED" if e.pos >= len(text.rstrip()) else "NOT_JSON")
    check(value, limits, 1, text)
    if not isinstance(value, dict):
        raise Refused("NOT_AN_OBJECT")
    return value


def check(v, limits, depth, text):
    """Depth and lone surrogates (string lengths were checked on the raw text)."""
    if isinstance(v, (dict, list)):
        if depth > limits.get("max_depth", 512):
            raise Refused("TOO_DEEP")
        items = v.items() if isinstance(v, dict) else enumerate(v)
        for k, x in items:
            if isinstance(k, str):
                check_string(k)
            check(x, limits, depth + 1, text)
    elif isinstance(v, str):
        check_string(v)


def check_string(s):
    if re.search("[\ud800-\udfff]", s):
        raise Refused("INVALID_UTF8")


# ---- canonical form (section 4) ------------------------------------------------------------------

def es6(d):
    """ES6 Number::toString for a finite double that is not a whole number below 1e21."""
    r = repr(d)  # Python's repr is the shortest round-trip digits too
    sign = "-" if r.startswith("-") else ""
    r = r.lstrip("-")
    mant, _, exp = r.partition("e")
    digits = mant.replace(".", "")
    point = (mant.index(".") if "." in mant else len(mant)) + (int(exp) if exp else 0)
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    digits = stripped.rstrip("0") or "0"
    k, n = len(digits), point
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * -n + digits
    e = n - 1
    return sign + digits[0] + ("." + digits[1:] if k > 1 else "") + "e" + ("+" if e >= 0 else "-") + str(abs(e))


def number(v):
    if isinstance(v, Int):
        return str(int(v))
    if v == 0:
        return "0"
    if abs(v) < 1e21 and v == math.floor(v):
        return str(int(decimal.Decimal(v)))
    return es6(v)


def string(s):
    out = ['"']
    for ch in s:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch in "\b\t\n\f\r":
            out.append({"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}[ch])
        elif ord(ch) < 0x20:
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def utf16(s):
    return s.encode("utf-16-be")


def canonical(v, mask=None, path=()):
    if isinstance(v, dict):
        keys = sorted((k for k in v if mask is None or not mask(path, k)), key=utf16)
        return "{" + ",".join(string(k) + ":" + canonical(v[k], mask, path + (k,)) for k in keys) + "}"
    if isinstance(v, list):
        return "[" + ",".join(canonical(x, mask, path + (i,)) for i, x in enumerate(v)) + "]"
    if isinstance(v, str):
        return string(v)
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "null"
    return number(v)


def sha(text):
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


# ---- masking (section 3) --------------------------------------------------------------------------

def split(pointer):
    if not pointer:
        return []
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]


def glob_matches(glob, path):
    def go(g, p):
        if not g:
            return not p
        if g[0] == "**":
            return any(go(g[1:], p[i:]) for i in range(len(p) + 1))
        if not p:
            return False
        seg = p[0]
        ok = g[0] in ("*", "\0element") and (g[0] == "*" or isinstance(seg, int)) or \
            (not isinstance(seg, int) and g[0] == seg) or \
            (isinstance(seg, int) and g[0] == str(seg) and (g[0] == "0" or not g[0].startswith("0")))
        return ok and go(g[1:], p[1:])
    return go(glob, list(path))


def content_mask(cfg):
    m = cfg["mapping"]
    globs = [split(g) for g in cfg["pointers"]]
    globs += [split(m["role"]), split(m["run_hash"])]
    if m["steps"] and m["step_hash"]:
        globs.append(split(m["steps"]) + ["\0element"] + split(m["step_hash"]))
    names = set(cfg["names"])

    def mask(path, key):
        return key in names or any(g and glob_matches(g, list(path) + [key]) for g in globs)
    return mask


def config(section):
    section = section or {}
    vol = section.get("volatile", {})
    names = ([] if vol.get("replace_defaults") else list(DEFAULT_VOLATILE)) + list(vol.get("names", []))
    mapping = dict(DEFAULT_MAPPING)
    mapping.update(section.get("mapping", {}))
    if isinstance(mapping["rng_keys"], str):
        mapping["rng_keys"] = [mapping["rng_keys"]]
    for key, value in mapping.items():
        for v in value if isinstance(value, list) else [value]:
            if any(seg in ("*", "**") for seg in v.split("/")):
                raise ValueError("mapping.%s must be literal: '*' and '**' are wildcards only in"
                                 " volatile.pointers, got %r" % (key, v))
    return {"names": names, "pointers": list(vol.get("pointers", [])), "mapping": mapping,
            "limits": section.get("limits", {})}


# ---- summary (sections 5 and 6) -------------------------------------------------------------------

MISSING = object()


def lookup(base, path_to_base, pointer_or_key, mask, skip_last):
    """The value at a pointer (or member name) below base, or MISSING; a masked member on the way
    (the last one too unless skip_last) hides it."""
    segs = split(pointer_or_key) if pointer_or_key.startswith("/") else [pointer_or_key]
    v, path = base, list(path_to_base)
    for i, s in enumerate(segs):
        if isinstance(v, dict):
            if s not in v:
                return MISSING
            if mask(path, s) and not (skip_last and i == len(segs) - 1):
                return MISSING
            v = v[s]
            path.append(s)
        elif isinstance(v, list) and re.fullmatch(r"0|[1-9][0-9]*", s) and int(s) < len(v):
            v = v[int(s)]
            path.append(int(s))
        else:
            return MISSING
    return v


def text(v):
    if v is MISSING or v is None or isinstance(v, (dict, list)):
        return ""
    if isinstance(v, str):
        return v
    if v is True or v is False:
        return "true" if v else "false"
    return number(v)


# What "surrounding spaces" of a seed string are: U+0000 to U+0020 (Java's String.trim), not Python's
# str.strip() whitespace (that would also take U+00A0, U+2028... and leave U+0000).
SEED_SPACES = "".join(chr(c) for c in range(0x21))


def summarize(doc, source, cfg):
    m, mask = cfg["mapping"], content_mask(cfg)

    def at(pointer, skip_last=True):
        return lookup(doc, [], pointer, mask, skip_last) if pointer else MISSING
    run_id = text(at(m["run_id"]))
    if not run_id:
        raise Refused("MISSING_FIELD")
    role = text(at(m["role"]))
    if not role:
        found = re.fullmatch(r"(?:.*\.)?([^./\\]+)\.golden\.json", source.rsplit("/", 1)[-1])
        role = found.group(1) if found else ""
    seed = at(m["seed"])
    if seed is MISSING or seed is None:
        seed_text = None
    else:
        t = seed.strip(SEED_SPACES) if isinstance(seed, str) else (number(seed) if isinstance(seed, (int, float)) and
                                                          not isinstance(seed, bool) else None)
        if t is None or not re.fullmatch(r"[+-]?[0-9]+", t) or not -(1 << 63) <= int(t) < (1 << 64):
            raise Refused("MISSING_FIELD")
        seed_text = str(int(t) % (1 << 64))
    steps = at(m["steps"], skip_last=False)
    if steps is not MISSING and steps is not None and not isinstance(steps, list):
        raise Refused("MISSING_FIELD")
    output = at(m["output"], skip_last=False)
    out = {"run_id": run_id, "workflow": text(at(m["workflow"])), "role": role, "seed": seed_text,
           "hash": sha(canonical(doc, mask)), "engine_hash": text(at(m["run_hash"])),
           "output_hash": "" if output is MISSING else sha(canonical(output, mask, tuple(split(m["output"])))),
           "steps": []}
    base = split(m["steps"])
    for i, step in enumerate(steps if isinstance(steps, list) else []):
        where = base + [i]
        h = sha(canonical(step, mask, tuple(where)))
        if not isinstance(step, dict):
            out["steps"].append({"index": i, "name": "", "kind": "", "external": False, "hash": h,
                                 "engine_hash": "", "rng_hash": "", "response_hash": ""})
            continue

        def part(key, skip_last=True):
            return lookup(step, where, key, mask, skip_last) if key else MISSING
        index = part(m["step_index"])
        idx = i
        if isinstance(index, (int, float)) and not isinstance(index, bool):
            t = number(index)
            if re.fullmatch(r"-?[0-9]+", t) and -(1 << 31) <= int(t) < (1 << 31):
                idx = int(t)
        kind = text(part(m["step_kind"]))
        response_visible = part(m["response_key"], skip_last=False)
        response_present = part(m["response_key"]) is not MISSING
        rkey = m["response_key"]
        rpath = tuple(where + (split(rkey) if rkey.startswith("/") else [rkey]))
        rngs = []
        for key in m["rng_keys"]:
            v = part(key, skip_last=False)
            if v is not MISSING:
                rngs.append((key, sha(canonical(v, mask, tuple(where + (split(key) if key.startswith("/") else [key]))))))
        if len(m["rng_keys"]) == 1:
            rng_hash = rngs[0][1] if rngs else ""
        else:
            rng_hash = sha("".join("%s:%s," % kv for kv in rngs)) if rngs else ""
        out["steps"].append({
            "index": idx, "name": text(part(m["step_name"])), "kind": kind,
            "external": kind == "external" or response_present, "hash": h,
            "engine_hash": text(part(m["step_hash"])), "rng_hash": rng_hash,
            "response_hash": "" if response_visible is MISSING else sha(canonical(response_visible, mask, rpath))})
    return out


# ---- classification (section 7) -------------------------------------------------------------------

def classify(a, b):
    by_a, by_b = {}, {}
    for pos, s in enumerate(a["steps"]):
        by_a.setdefault(s["index"], []).append(pos)
    for pos, s in enumerate(b["steps"]):
        by_b.setdefault(s["index"], []).append(pos)
    pairs = []
    for idx in sorted(set(by_a) | set(by_b)):
        pa, pb = by_a.get(idx, []), by_b.get(idx, [])
        for k in range(max(len(pa), len(pb))):
            pairs.append((pa[k] if k < len(pa) else None, pb[k] if k < len(pb) else None))

    def ref(s):
        return {"index": s["index"], "name": s["name"]}
    leaks = [ref(a["steps"][x]) for x, y in pairs if x is not None and y is not None
             and a["steps"][x]["hash"] == b["steps"][y]["hash"]
             and a["steps"][x]["engine_hash"] != b["steps"][y]["engine_hash"]]
    findings = [{"category": "VOLATILE_LEAK", "steps": leaks}] if leaks else []
    if a["seed"] != b["seed"]:
        return False, "SEED_MISMATCH", None, findings
    if a["hash"] == b["hash"]:
        if a["engine_hash"] == b["engine_hash"] and not leaks:
            return True, None, None, []
        return False, "VOLATILE_LEAK", leaks[0] if leaks else None, []
    for x, y in pairs:
        sa = a["steps"][x] if x is not None else None
        sb = b["steps"][y] if y is not None else None
        if sa is None or sb is None or sa["hash"] != sb["hash"]:
            first = ref(sa or sb)
            if sa is None or sb is None:
                return False, "DETERMINISM_VIOLATION", first, findings
            if (sa["external"] or sb["external"]) and sa["response_hash"] != sb["response_hash"]:
                return False, "EXTERNAL_CALL", first, findings
            if sa["rng_hash"] != sb["rng_hash"]:
                return False, "UNSEEDED_RNG", first, findings
            return False, "DETERMINISM_VIOLATION", first, findings
    return False, "DETERMINISM_VIOLATION", None, findings


# ---- the check ------------------------------------------------------------------------------------

CODES_TOLD_APART = {"NON_FINITE_NUMBER", "DUPLICATE_KEY", "NOT_AN_OBJECT", "MISSING_FIELD", "TOO_DEEP",
                    "STRING_TOO_LONG", "INVALID_UTF8"}


def main(path):
    vectors = json.load(open(path, encoding="utf-8"))
    failed, summaries = 0, {}
    for v in vectors["documents"]:
        data = base64.b64decode(v["input_base64"]) if "input_base64" in v else v["input"].encode("utf-8")
        cfg = config(v.get("config"))
        try:
            doc = parse(data, cfg["limits"])
            got = {"canonical": canonical(doc), "masked": canonical(doc, content_mask(cfg)),
                   "summary": summarize(doc, v["source"], cfg)}
        except Refused as e:
            if "error" not in v:
                print("FAIL %s: refused (%s), expected a summary" % (v["name"], e.code))
                failed += 1
            elif e.code in CODES_TOLD_APART and e.code != v["error"]["code"] \
                    and v["error"]["code"] in CODES_TOLD_APART:
                print("FAIL %s: refused as %s, expected %s" % (v["name"], e.code, v["error"]["code"]))
                failed += 1
            continue
        if "error" in v:
            print("FAIL %s: accepted, expected %s" % (v["name"], v["error"]["code"]))
            failed += 1
            continue
        summaries[v["name"]] = got["summary"]
        for field in ("canonical", "masked", "summary"):
            if got[field] != v[field]:
                print("FAIL %s: %s\n  got      %s\n  expected %s" % (v["name"], field, got[field], v[field]))
                failed += 1
                break
    for p in vectors["pairs"]:
        match, category, first, findings = classify(summaries[p["a"]], summaries[p["b"]])
        got = (match, category, first, findings)
        expected = (p["match"], p["category"], p["first_divergent_step"], p["findings"])
        if got != expected:
            print("FAIL pair %s: got %s, expected %s" % (p["name"], got, expected))
            failed += 1
    total = len(vectors["documents"]) + len(vectors["pairs"])
    print("%d of %d vectors reproduced" % (total - failed, total))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "docs/golden-vectors.json"))
