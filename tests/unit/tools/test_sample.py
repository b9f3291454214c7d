"""The seeded sample data (pipeline/tools/sample/generator.py) and the shipped copy in pipeline/data/sample/."""
from __future__ import annotations

import gzip
import json
import random
import statistics
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

import msgspec
import pytest

from pipeline.contract.records import Customer, RawMention
from pipeline.tools.sample import generator as sample

SMALL = dict(seed=3, customers=300, mentions=3000, days=5)
DECODE_ERRORS = (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError)


@pytest.fixture(scope="module")
def small() -> sample.Sample:
    return sample.build_sample(**SMALL)


@pytest.fixture(scope="module")
def default() -> sample.Sample:
    return sample.build_sample()


def _decodes(line: bytes) -> bool:
    try:
        msgspec.json.decode(line, type=RawMention)
    except DECODE_ERRORS:
        return False
    return True


def _valid(s: sample.Sample) -> list[dict]:
    junk = set(s.junk_lines)
    return [json.loads(line) for i, line in enumerate(s.mention_lines) if i not in junk]


def _norm_author(author: str) -> str:
    a = author.strip()
    if a.lower().startswith("mailto:"):
        a = a[7:]
    return a.lstrip("@").strip().lower()


# ----------------------------------------------------------------------------------------------- reproducibility
def test_same_seed_gives_identical_bytes(tmp_path):
    s1 = sample.write_sample(tmp_path / "a", **SMALL)
    s2 = sample.write_sample(tmp_path / "b", **SMALL)
    for name in (sample.CUSTOMERS_FILE, sample.MENTIONS_FILE):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert s1 == s2
    assert s1.files[sample.MENTIONS_FILE] == (tmp_path / "a" / sample.MENTIONS_FILE).stat().st_size


def test_other_seed_gives_other_data(tmp_path):
    sample.write_sample(tmp_path / "a", **SMALL)
    sample.write_sample(tmp_path / "b", **{**SMALL, "seed": 4})
    assert (tmp_path / "a" / sample.MENTIONS_FILE).read_bytes() != (tmp_path / "b" / sample.MENTIONS_FILE).read_bytes()


def test_shipped_files_equal_a_fresh_generation(default):
    # Compared after decompression: the content is the contract; the compressed bytes also depend on the zlib build.
    folder = sample.sample_dir()
    assert folder == Path(sample.__file__).resolve().parents[2] / "data" / "sample"
    assert list(sample.iter_lines(folder / sample.CUSTOMERS_FILE)) == default.customer_lines
    assert list(sample.iter_lines(folder / sample.MENTIONS_FILE)) == default.mention_lines
    total = sum((folder / name).stat().st_size for name in (sample.CUSTOMERS_FILE, sample.MENTIONS_FILE))
    assert total < 5_000_000


def test_files_are_gzip_jsonl_with_sorted_keys(tmp_path):
    sample.write_sample(tmp_path, **{**SMALL, "mentions": 500, "customers": 60})
    raw = gzip.decompress((tmp_path / sample.CUSTOMERS_FILE).read_bytes())
    first = raw.split(b"\n", 1)[0]
    assert list(json.loads(first)) == sorted(json.loads(first))
    assert raw.endswith(b"\n")


# ------------------------------------------------------------------------------------------------- validity
@pytest.mark.parametrize("which", ["small", "default"])
def test_every_line_but_the_junk_decodes(which, request):
    s: sample.Sample = request.getfixturevalue(which)
    junk = set(s.junk_lines)
    for i, line in enumerate(s.mention_lines):
        assert _decodes(line) == (i not in junk), (i, line[:200])
    for line in s.customer_lines:
        msgspec.json.decode(line, type=Customer)
    assert len(s.mention_lines) == s.summary.lines == s.summary.mentions + s.summary.duplicates + s.summary.junk


def test_shipped_mentions_junk_count_matches_summary(default):
    bad = sum(not _decodes(line) for line in sample.iter_lines(sample.sample_dir() / sample.MENTIONS_FILE))
    assert bad == default.summary.junk


def test_junk_is_about_one_percent_and_varied(small):
    s = small
    assert 0.006 <= s.summary.junk / s.summary.lines <= 0.015
    junk = [s.mention_lines[i] for i in s.junk_lines]
    not_json = 0
    for line in junk:
        try:
            json.loads(line)
        except ValueError:
            not_json += 1
    assert 0 < not_json < len(junk)  # both unparseable lines and well-formed JSON with a broken schema


def test_duplicate_deliveries_repeat_an_earlier_line(small):
    s = small
    assert s.summary.duplicates >= 0.004 * s.summary.mentions
    junk = set(s.junk_lines)
    seen: dict[tuple[str, str], bytes] = {}
    repeats = 0
    for i, line in enumerate(s.mention_lines):
        if i in junk:
            continue
        d = json.loads(line)
        key = (d["channel"], d["id"])
        if key in seen:
            assert seen[key] == line and i in s.duplicate_lines
            repeats += 1
        seen[key] = line
    assert repeats == s.summary.duplicates == len(s.duplicate_lines)
    assert len(seen) == s.summary.mentions


def test_mentions_sorted_by_created_at(small):
    stamps = [d["created_at"] for d in _valid(small)]
    assert stamps == sorted(stamps)
    assert all(t.endswith("Z") for t in stamps)
    first, last = datetime.fromisoformat(stamps[0]), datetime.fromisoformat(stamps[-1])
    assert first >= sample.DEFAULT_START and (last - sample.DEFAULT_START).days < SMALL["days"]


# ------------------------------------------------------------------------------------------------- customers
def test_customers(default):
    cs = default.customers
    assert len(cs) == 3000 and cs[0].customer_id == "C000001"
    tiers = Counter(c.tier for c in cs)
    assert 0.75 < tiers["standard"] / len(cs) < 0.85 and 0.02 < tiers["platinum"] / len(cs) < 0.08
    by_tier = defaultdict(list)
    for c in cs:
        by_tier[c.tier].append(c.lifetime_value)
    assert statistics.median(by_tier["standard"]) < statistics.median(by_tier["gold"]) < statistics.median(
        by_tier["platinum"])
    handles: dict[str, str] = {}
    for c in cs:
        assert 2 <= len(c.identities) <= 4
        channels = [i.channel for i in c.identities]
        assert len(set(channels)) == len(channels) and set(channels) <= {"twitter", "facebook", "instagram", "reviews"}
        assert 1 <= len(c.emails) <= 2
        for e in c.emails:
            assert e.split("@")[1].lower() in sample.EMAIL_DOMAINS
            assert handles.setdefault("email:" + e.lower(), c.customer_id) == c.customer_id
        for i in c.identities:
            assert handles.setdefault(f"{i.channel}:{_norm_author(i.handle)}", c.customer_id) == c.customer_id
    raw = [i.handle for c in cs for i in c.identities]
    assert any(h.startswith("@") for h in raw) and any(h != h.lower() for h in raw)
    influencers = [c for c in cs if (c.followers or 0) >= 50_000]
    assert 10 <= len(influencers) <= 60 and max(c.followers for c in influencers) <= 2_000_000


# -------------------------------------------------------------------------------------------------- mentions
def test_mention_mix(default):
    s = default
    rows = _valid(s)
    n = s.summary.mentions
    assert {d["brand"] for d in rows} == {b.name for b in sample.BRANDS}
    assert {d["channel"] for d in rows} == set(sample.CHANNELS)
    assert 0.25 <= s.summary.complaints / n <= 0.31
    assert 0.55 <= s.summary.known_author_mentions / n <= 0.65
    assert 0.015 <= s.summary.non_english / n <= 0.03
    assert {d.get("lang") for d in rows} >= {"es", "fr", "de", "en"}
    for d in rows:
        if d["channel"] in ("email", "support"):
            assert "@" in d["author"].strip("@ ")
    assert any(d["text"] == "" for d in rows)
    assert any("in_reply_to" in d for d in rows) and any("metadata" in d for d in rows)
    assert any(d["text"].startswith(("@aerolux", "Thanks @aerolux")) for d in rows)
    unknown_influencers = [d for d in rows if (d.get("author_followers") or 0) >= 50_000
                           and s.authors[f"{d['channel']}:{d['id']}"] is None]
    assert unknown_influencers


def test_known_authors_resolve_to_their_customer(small):
    s = small
    owner: dict[str, str] = {}
    for c in s.customers:
        for e in c.emails:
            owner[f"email:{e.lower()}"] = c.customer_id
        for i in c.identities:
            owner[f"{i.channel}:{_norm_author(i.handle)}"] = c.customer_id
    variants = 0
    for d in _valid(s):
        key = f"{d['channel']}:{d['id']}"
        a = _norm_author(d["author"])
        lookup = f"email:{a}" if d["channel"] in ("email", "support") else f"{d['channel']}:{a}"
        assert owner.get(lookup) == s.authors[key], d
        variants += s.authors[key] is not None and d["author"] != d["author"].strip().lower()
    assert variants > 0


def test_repeat_and_cross_channel_complainers(small):
    s = small
    complaints: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for d in _valid(s):
        key = f"{d['channel']}:{d['id']}"
        if s.intents[key] == "complaint" and s.authors[key] is not None:
            complaints[(s.authors[key], d["brand"])].append((d["created_at"], d["channel"]))
    repeat = {cid for (cid, _), v in complaints.items() if len(v) >= 2}
    # cross-channel: a public complaint followed by e-mail or a support ticket about the same brand
    cross = {cid for (cid, _), v in complaints.items()
             if any(ch in ("twitter", "facebook", "instagram") and any(t2 > t and ch2 in ("email", "support")
                                                                      for t2, ch2 in v) for t, ch in v)}
    assert len(repeat) == s.summary.repeat_complainers > 0
    assert cross and s.summary.cross_channel_complainers >= len(cross)
    assert any("I already" in d["text"] for d in _valid(s))


@pytest.mark.parametrize("which", ["small", "default"])
def test_complaint_spike(which, request):
    s: sample.Sample = request.getfixturevalue(which)
    spike = s.summary.spike
    assert spike is not None and spike.brand == "NimbusMobile" and spike.start.startswith("2026-11-19T14")
    assert 8 <= spike.ratio <= 12
    per_hour: Counter[str] = Counter()
    complaints_at_14: Counter[str] = Counter()
    for d in _valid(s):
        if d["brand"] != spike.brand:
            continue
        hour = d["created_at"][:13]
        per_hour[hour] += 1
        if s.intents[f"{d['channel']}:{d['id']}"] == "complaint" and hour.endswith("T14"):
            complaints_at_14[hour[:10]] += 1
    # visible from the data alone: the busiest hour of the brand by far
    (top, top_n), (_, second_n) = per_hour.most_common(2)
    assert top == spike.start[:13] and top_n >= 2 * second_n
    others = [v for day, v in complaints_at_14.items() if day != spike.start[:10]]
    assert complaints_at_14[spike.start[:10]] >= 8 * statistics.mean(others)


def test_mention_api_returns_dicts_sorted():
    rng = random.Random(1)
    crm = sample.generate_customers(rng, 50)
    rows = sample.generate_mentions(rng, crm, 400, sample.DEFAULT_START, 2)
    assert all(isinstance(r, dict) for r in rows)
    stamps = [r["created_at"] for r in rows if isinstance(r.get("created_at"), str)]
    assert stamps == sorted(stamps)
    assert 400 <= sum(_decodes(json.dumps(r).encode()) for r in rows) < len(rows)  # + duplicates, - broken records
