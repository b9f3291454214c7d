"""Who writes the mentions: activity-weighted pools of known customers, unknown prospects, and the author fields."""
from __future__ import annotations

import math
from dataclasses import dataclass
from random import Random
from typing import Any, Optional

from pipeline.contract.records import Customer
from pipeline.tools.sample.config import (
    CHANNEL_SHARE, CHANNELS, EMAIL_DOMAINS, KNOWN_AUTHOR_SHARE, MAIL_CHANNELS, SOCIAL_CHANNELS,
)
from pipeline.tools.sample.helpers import cap, cumulative, slug
from pipeline.tools.sample.people import email_local, handle_norm, person_handle, unique
from pipeline.tools.sample.vocabulary import FIRST_NAMES, HANDLE_WORDS, LAST_NAMES


@dataclass
class Prospect:
    channel: str
    handle: str
    name: str
    followers: Optional[int]


class AuthorPool:
    """Picks authors and renders their fields. Holds the pools and the rng; all draws happen in a fixed order."""

    def __init__(self, rng: Random, customers: list[Customer], n: int):
        self.rng = rng
        self.customers = customers
        # who posts how much: a log-normal activity level per customer; influencers post more
        self.activity = {c.customer_id: rng.lognormvariate(0, 1.0) * (3 if (c.followers or 0) >= 50_000 else 1)
                         for c in customers}
        self.pools: dict[str, tuple[list[Customer], list[float]]] = {}
        for ch in SOCIAL_CHANNELS:
            pool = [c for c in customers if any(i.channel == ch for i in c.identities)]
            self.pools[ch] = (pool, cumulative([self.activity[c.customer_id] for c in pool]))
        everyone = [c for c in customers if c.emails]
        for ch in MAIL_CHANNELS:
            self.pools[ch] = (everyone, cumulative([self.activity[c.customer_id] for c in everyone]))
        self.social_followers: dict[str, int] = {}
        self.prospects = self._make_prospects(n)

    def _make_prospects(self, n: int) -> dict[str, tuple[list[Prospect], list[float]]]:
        rng = self.rng
        taken: dict[str, dict[str, None]] = {ch: {} for ch in CHANNELS}
        for c in self.customers:
            for ident in c.identities:
                taken[ident.channel][handle_norm(ident.handle)] = None
            for e in c.emails:
                taken["email"][e.lower()] = None
        taken["support"] = taken["email"]
        out = {}
        for ch in CHANNELS:
            expected = n * CHANNEL_SHARE[ch] * (1 - KNOWN_AUTHOR_SHARE)
            size = max(5, int(expected * 0.55))
            pool, weights = [], []
            for k in range(size):
                first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                if ch in MAIL_CHANNELS:
                    local = email_local(rng, first, last) if rng.random() < 0.7 else (
                        f"{rng.choice(HANDLE_WORDS)}{slug(first)}{rng.randint(1, 999)}")
                    domain = rng.choice(EMAIL_DOMAINS)
                    handle = f"{local}@{domain}"
                    while handle.lower() in taken[ch]:
                        handle = f"{local}{rng.randint(1, 999)}@{domain}"
                    taken[ch][handle.lower()] = None
                else:
                    base = person_handle(rng, first, last, ch) if rng.random() < 0.6 else (
                        f"{rng.choice(HANDLE_WORDS)}_{slug(first)}{rng.randint(1, 99)}")
                    handle = unique(rng, base, taken[ch], key=handle_norm)
                followers = None
                if ch in ("twitter", "instagram", "facebook"):
                    if rng.random() < 0.015:
                        followers = int(round(math.exp(rng.uniform(math.log(50_000), math.log(2_000_000))), -2))
                    else:
                        followers = min(45_000, int(rng.lognormvariate(math.log(180), 1.4)))
                pool.append(Prospect(ch, handle, f"{first} {last}", followers))
                weights.append((1.0 / (k + 1) ** 0.35) * (2.0 if (followers or 0) >= 50_000 else 1.0))
            out[ch] = (pool, cumulative(weights))
        return out

    def pick_customer(self, channel: str) -> Optional[Customer]:
        pool, cum = self.pools[channel]
        return self.rng.choices(pool, cum_weights=cum)[0] if pool else None

    def pick_prospect(self, channel: str) -> Prospect:
        pool, cum = self.prospects[channel]
        return self.rng.choices(pool, cum_weights=cum)[0]

    def _handle_variant(self, handle: str, channel: str) -> str:
        """The author as the channel delivers it: usually as in the CRM, sometimes in another case or with/without @."""
        r = self.rng.random()
        bare = handle.lstrip("@")
        if r < 0.06:
            return bare.lower() if bare != bare.lower() else cap(bare)
        if r < 0.10 and channel in ("twitter", "instagram"):
            return bare if handle.startswith("@") else "@" + bare
        if r < 0.11:
            return bare.upper()
        if r < 0.115:
            return f" {handle} "  # stray whitespace from a sloppy producer; normalisation strips it
        return handle

    def _email_variant(self, address: str) -> str:
        r = self.rng.random()
        if r < 0.06:
            local, _, domain = address.partition("@")
            return f"{cap(local)}@{cap(domain)}"
        if r < 0.08:
            return address.upper()
        if r < 0.085:
            return "mailto:" + address
        return address

    def author_fields(self, channel: str, customer: Optional[Customer], prospect: Optional[Prospect]
                      ) -> dict[str, Any]:
        rng = self.rng
        d: dict[str, Any] = {}
        if customer is not None:
            if channel in MAIL_CHANNELS:
                address = customer.emails[0] if len(customer.emails) == 1 or rng.random() < 0.8 else customer.emails[1]
                d["author"] = self._email_variant(address)
                if rng.random() < 0.7:
                    d["author_name"] = customer.name
            else:
                handle = next(i.handle for i in customer.identities if i.channel == channel)
                d["author"] = self._handle_variant(handle, channel)
                name_p = 0.3 if channel == "reviews" else 0.6
                if rng.random() < name_p:
                    first, _, last = customer.name.partition(" ")
                    d["author_name"] = f"{first} {last[:1]}." if channel == "reviews" else customer.name
                if channel != "reviews":
                    followers = customer.followers
                    if followers is None:
                        followers = self.social_followers.get(customer.customer_id)
                        if followers is None:
                            followers = min(20_000, int(rng.lognormvariate(math.log(150), 1.2)))
                            self.social_followers[customer.customer_id] = followers
                    if rng.random() < (0.4 if channel == "facebook" else 0.9):
                        d["author_followers"] = followers
                if customer.emails and rng.random() < 0.15:
                    d["author_email"] = customer.emails[0]
        else:
            assert prospect is not None
            d["author"] = prospect.handle
            if rng.random() < (0.7 if channel in MAIL_CHANNELS else 0.5):
                d["author_name"] = prospect.name
            if prospect.followers is not None and rng.random() < (0.4 if channel == "facebook" else 0.9):
                d["author_followers"] = prospect.followers
        return d
