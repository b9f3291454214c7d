"""pipeline/domain/identity.py: handle/e-mail normalisation, identity keys, resolution, prospects, influence."""
from __future__ import annotations

import hashlib
import re

import pytest

from pipeline.domain.identity import (author_key, candidate_keys, email_key, engagement_of, handle_key, identities_of,
                               influence, is_email, is_prospect_id, keys_of_customer, normalise_email,
                               normalise_handle, prospect_id, resolve_author)
from pipeline.contract.records import Customer, Identity, IdentityRef, RawMention


def mention(channel="twitter", author="bob", **extra) -> RawMention:
    return RawMention(id="1", channel=channel, author=author, text="hello", **extra)


def ident(key: str, customer_id="C1", **extra) -> Identity:
    return Identity(key=key, customer_id=customer_id, **extra)


# --- normalisation ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw,expected", [
    ("bob", "bob"),
    ("Bob", "bob"),
    ("BOB_Smith", "bob_smith"),
    ("  bob  ", "bob"),
    ("@bob", "bob"),
    ("  @BobSmith ", "bobsmith"),
    ("@ Bob", "bob"),
    ("@@bob", "@bob"),  # only one leading @ is removed
    ("bob@", "bob@"),
    ("Straße", "strasse"),  # case folding, not just lower()
    ("", ""),
    ("@", ""),
])
def test_normalise_handle(raw, expected):
    assert normalise_handle(raw) == expected


@pytest.mark.parametrize("raw,expected", [
    ("Bob@Example.COM", "bob@example.com"),
    ("  bob@example.com\t", "bob@example.com"),
    ("mailto:Bob@Example.com", "bob@example.com"),
    ("MAILTO: bob@example.com", "bob@example.com"),
    ("bob.smith+tag@gmail.com", "bob.smith+tag@gmail.com"),  # no provider rewrites
])
def test_normalise_email(raw, expected):
    assert normalise_email(raw) == expected


@pytest.mark.parametrize("value,ok", [
    ("bob@example.com", True), (" bob@example.com ", True), ("bob@example", False), ("bob", False),
    ("@bob", False), ("bob@@example.com", False), ("bob smith@example.com", False),
])
def test_is_email(value, ok):
    assert is_email(value) is ok


# --- keys ---------------------------------------------------------------------------------------------------------

def test_handle_and_email_keys():
    assert handle_key("twitter", " @Bob ") == "twitter:bob"
    assert email_key(" Bob@Example.com") == "email:bob@example.com"


def test_author_key_handle():
    assert author_key("twitter", "@Bob") == "twitter:bob"
    assert author_key("instagram", "Bob") == "instagram:bob"


def test_author_key_email_author_on_any_channel():
    assert author_key("support", "Bob@Example.com") == "email:bob@example.com"
    assert author_key("email", "bob@example.com") == "email:bob@example.com"
    assert author_key("reviews", "bob@example.com") == "email:bob@example.com"


def test_candidate_keys_without_email():
    assert candidate_keys(mention(author="@Bob")) == ["twitter:bob"]


def test_candidate_keys_with_author_email():
    m = mention(channel="facebook", author="Bob", author_email="BOB@example.com")
    assert candidate_keys(m) == ["facebook:bob", "email:bob@example.com"]


def test_candidate_keys_no_duplicate_when_author_is_the_email():
    m = mention(channel="support", author="bob@example.com", author_email="Bob@Example.com")
    assert candidate_keys(m) == ["email:bob@example.com"]


def test_candidate_keys_ignore_invalid_author_email():
    assert candidate_keys(mention(author="bob", author_email="not-an-email")) == ["twitter:bob"]


# --- resolution ---------------------------------------------------------------------------------------------------

def lookup_from(table: dict[str, Identity]):
    return table.get


def test_resolve_known_handle():
    table = {"twitter:bob": ident("twitter:bob", "C42", tier="gold", lifetime_value=1234.5, followers=10_000)}
    r = resolve_author(mention(author="@BOB"), lookup_from(table))
    assert r.customer_id == "C42"
    assert r.is_prospect is False
    assert r.matched_key == "twitter:bob"
    assert r.author_key == "twitter:bob"
    assert r.context.tier == "gold"
    assert r.context.lifetime_value == 1234.5
    assert r.context.influence == 0.6667


def test_handle_matches_only_on_its_own_channel():
    table = {"twitter:bob": ident("twitter:bob", "C42", tier="gold")}
    r = resolve_author(mention(channel="facebook", author="bob"), lookup_from(table))
    assert r.is_prospect is True
    assert r.customer_id == prospect_id("facebook:bob")
    assert r.matched_key is None
    assert r.author_key == "facebook:bob"
    assert r.context.tier == "prospect"
    assert r.context.lifetime_value == 0.0


def test_resolve_by_author_email_when_handle_unknown():
    table = {"email:bob@example.com": ident("email:bob@example.com", "C7", tier="standard")}
    m = mention(channel="facebook", author="bobby", author_email="Bob@Example.com")
    r = resolve_author(m, lookup_from(table))
    assert r.customer_id == "C7"
    assert r.matched_key == "email:bob@example.com"
    assert r.author_key == "facebook:bobby"


def test_resolve_prefers_handle_over_email():
    table = {"twitter:bob": ident("twitter:bob", "C1"), "email:bob@example.com": ident("email:bob@example.com", "C2")}
    r = resolve_author(mention(author="bob", author_email="bob@example.com"), lookup_from(table))
    assert r.customer_id == "C1"


def test_resolve_uses_larger_follower_count():
    table = {"twitter:bob": ident("twitter:bob", "C1", followers=100)}
    r = resolve_author(mention(author="bob", author_followers=1_000_000), lookup_from(table))
    assert r.context.influence == 1.0
    r = resolve_author(mention(author="bob", author_followers=5), lookup_from(table))
    assert r.context.influence == influence(100) == 0.3341


def test_prospect_influence_from_mention():
    r = resolve_author(mention(author="nobody", author_followers=10_000, metadata={"likes": 1000}), lookup_from({}))
    assert r.is_prospect
    assert r.context.influence == 0.9167


# --- prospects ----------------------------------------------------------------------------------------------------

def test_prospect_id_is_stable_and_prefixed():
    pid = prospect_id("twitter:bob")
    assert pid == prospect_id("twitter:bob")
    assert pid == "P-" + hashlib.blake2b(b"twitter:bob", digest_size=8).hexdigest()
    assert pid == "P-12c70ffeb84b59ac"
    assert re.fullmatch(r"P-[0-9a-f]{16}", pid)
    assert prospect_id("facebook:bob") != pid
    assert is_prospect_id(pid)
    assert not is_prospect_id("C42")


def test_prospect_id_same_for_equivalent_authors():
    a = resolve_author(mention(author="@Bob "), lookup_from({}))
    b = resolve_author(mention(author="bob"), lookup_from({}))
    assert a.customer_id == b.customer_id == prospect_id("twitter:bob")


# --- influence ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("followers,engagement,expected", [
    (0, 0, 0.0),
    (None, 0, 0.0),
    (-10, 0, 0.0),
    (100, 0, 0.3341),
    (10_000, 0, 0.6667),
    (1_000_000, 0, 1.0),
    (100_000_000, 0, 1.0),
    (0, 1000, 0.25),
    (10_000, 1000, 0.9167),
    (0, -5, 0.0),
])
def test_influence_values(followers, engagement, expected):
    assert influence(followers, engagement) == expected


def test_engagement_adds_to_influence():
    assert influence(10_000, 10) > influence(10_000)


def test_engagement_of_metadata():
    assert engagement_of(None) == 0
    assert engagement_of({}) == 0
    # bools, negatives and unknown counters are ignored; floats are truncated
    assert engagement_of({"likes": 10, "shares": 5, "retweets": True, "comments": -3, "replies": 2.7,
                          "views": 1000, "text": "x"}) == 17


# --- identities_of ------------------------------------------------------------------------------------------------

def test_identities_of_dedupes_and_skips_blank_and_invalid():
    c = Customer(customer_id="C1", name="Bob", tier=" Gold ", lifetime_value=250, followers=12,
                 emails=["Bob@Example.com", "bob@example.com", "not-an-email"],
                 identities=[IdentityRef(channel="twitter", handle="@Bob"),
                             IdentityRef(channel="twitter", handle="bob"),
                             IdentityRef(channel="instagram", handle="@"),
                             IdentityRef(channel="instagram", handle="  "),
                             IdentityRef(channel="facebook", handle="Bob.S")])
    items = identities_of(c, "2024-01-01T00:00:00.000Z")
    assert [k for k, _ in items] == ["twitter:bob", "facebook:bob.s", "email:bob@example.com"]
    for key, value in items:
        assert value == Identity(key=key, customer_id="C1", tier="gold", lifetime_value=250.0, followers=12,
                                 name="Bob", updated_at="2024-01-01T00:00:00.000Z")
        assert isinstance(value.lifetime_value, float)


def test_identities_of_tier_lower_cased_and_defaulted():
    c = Customer(customer_id="C2", tier="PLATINUM", identities=[IdentityRef(channel="twitter", handle="x")])
    assert identities_of(c, "t")[0][1].tier == "platinum"
    c = Customer(customer_id="C3", tier="  ", identities=[IdentityRef(channel="twitter", handle="x")])
    assert identities_of(c, "t")[0][1].tier == "standard"


def test_identities_of_customer_without_identities():
    assert identities_of(Customer(customer_id="C4", emails=["nope"]), "t") == []


def test_keys_of_customer():
    items = [("twitter:bob", ident("twitter:bob", "C1")), ("email:a@b.co", ident("email:a@b.co", "C2")),
             ("facebook:bob", ident("facebook:bob", "C1"))]
    assert keys_of_customer(items, "C1") == ["twitter:bob", "facebook:bob"]
    assert keys_of_customer(items, "C9") == []


# --- manual links -------------------------------------------------------------------------------------------------

def test_identity_key_of_what_an_operator_types():
    from pipeline.domain.identity import identity_key_of

    assert identity_key_of("twitter", " @BobSmith ") == "twitter:bobsmith"
    assert identity_key_of("Email", "Bob@Example.COM") == "email:bob@example.com"
    for channel, handle, fragment in (("twitter", " @ ", "empty"), ("Twit ter", "bob", "lowercase word"),
                                      ("email", "bob", "e-mail address")):
        with pytest.raises(ValueError, match=fragment):
            identity_key_of(channel, handle)


def test_masking_keeps_enough_to_recognise():
    from pipeline.domain.identity import mask_email, mask_key

    assert mask_email("alice@example.com") == "a***@example.com"
    assert mask_email("not-an-address") == "not-an-address"
    assert mask_key("email:alice@example.com") == "email:a***@example.com"
    assert mask_key("twitter:alice") == "twitter:alice"


def test_linked_identity_carries_the_customer_attributes():
    from pipeline.domain.identity import linked_identity

    ident = linked_identity("twitter:bob", "C-2", tier=" Gold ", lifetime_value=12, followers=None, name="Bob",
                            updated_at="2026-12-01T00:00:00.000Z")
    assert (ident.key, ident.customer_id, ident.tier, ident.lifetime_value, ident.name) == \
        ("twitter:bob", "C-2", "gold", 12.0, "Bob")
