"""The fictional CRM: customers with tiers, lifetime values, e-mail addresses, social handles and follower counts."""
from __future__ import annotations

import math
from random import Random
from typing import Any, Callable, Optional

from pipeline.contract.records import Customer, IdentityRef
from pipeline.tools.sample.config import EMAIL_DOMAINS, SOCIAL_CHANNELS
from pipeline.tools.sample.helpers import cap, slug
from pipeline.tools.sample.vocabulary import CITIES, FIRST_NAMES, HANDLE_WORDS, LAST_NAMES


def unique(rng: Random, base: str, taken: dict[str, None], *, max_len: int = 30, key: Callable[[str], str] = str.lower
            ) -> str:
    candidate = base[:max_len]
    while key(candidate) in taken or not candidate.lstrip("@"):
        candidate = base[: max_len - 4] + str(rng.randint(1, 9999))
    taken[key(candidate)] = None
    return candidate


def handle_norm(handle: str) -> str:
    return handle.strip().lstrip("@").lower()


def person_handle(rng: Random, first: str, last: str, channel: str) -> str:
    f, l = slug(first) or "user", slug(last) or "x"
    nn = str(rng.randint(1, 99))
    if channel == "twitter":
        parts = rng.choice(([f, l], [f, "_", l], [f[0], l], [f, l[0], nn], [f, "_", nn], [l, f[0]],
                            ["the", f, l[0]], [f, l, str(rng.randint(70, 99))], [rng.choice(HANDLE_WORDS), f]))
        style = rng.random()
        if style < 0.35:
            return "".join(p.capitalize() for p in parts)[:15]
        if style < 0.40:
            return "".join(parts).upper()[:15]
        return "".join(parts)[:15]
    if channel == "instagram":
        return rng.choice((f"{f}.{l}", f"{f}_{l}", f"{f}.{l}{nn}", f"{f}{l[0]}.{nn}", f"{rng.choice(HANDLE_WORDS)}.{f}",
                           f"{f}_{rng.choice(HANDLE_WORDS)}"))
    if channel == "facebook":
        return rng.choice((f"{f}.{l}", f"{f}.{l}.{rng.randint(1, 999)}", f"{f}{l}", f"{cap(f)}{cap(l)}"))
    # reviews
    return rng.choice((f"{cap(f)}{cap(l[0])}", f"{f}_{l}{nn}", f"{cap(f)}{nn}",
                       f"{f}{l[0]}_{rng.choice(CITIES).lower()}"))


def email_local(rng: Random, first: str, last: str) -> str:
    f, l = slug(first) or "user", slug(last) or "x"
    return rng.choice((f"{f}.{l}", f"{f}{l}", f"{f[0]}.{l}", f"{f}.{l}{rng.randint(1, 99)}", f"{f}_{l[0]}",
                       f"{l}.{f}"))


def generate_customers(rng: Random, n: int) -> list[Customer]:
    """`n` fictional CRM records `C000001`…: tiers ~80/15/5 % standard/gold/platinum, log-normal lifetime values per
    tier, 1–2 e-mails on reserved domains, handles on 2–4 social channels, followers for most (~1 % influencers)."""
    taken: dict[str, dict[str, None]] = {ch: {} for ch in SOCIAL_CHANNELS}
    emails_taken: dict[str, None] = {}
    n_influencers = max(1, round(n * 0.01)) if n >= 20 else (1 if n else 0)
    influencers = set(rng.sample(range(n), n_influencers)) if n else set()
    out: list[Customer] = []
    for i in range(n):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        tier = rng.choices(("standard", "gold", "platinum"), weights=(80, 15, 5))[0]
        mu, sigma = {"standard": (math.log(320), 0.8), "gold": (math.log(2400), 0.6),
                     "platinum": (math.log(11000), 0.5)}[tier]
        ltv = round(rng.lognormvariate(mu, sigma), 2)
        emails = []
        for k in range(1 if rng.random() < 0.7 else 2):
            local = email_local(rng, first, last)
            domain = EMAIL_DOMAINS[k] if k else rng.choices(EMAIL_DOMAINS, weights=(5, 3, 2))[0]
            address = f"{local}@{domain}"
            while address.lower() in emails_taken:
                address = f"{local}{rng.randint(1, 999)}@{domain}"
            emails_taken[address.lower()] = None
            if rng.random() < 0.05:  # typed by hand into the CRM: matched case-insensitively
                mailbox, _, host = address.partition("@")
                address = ".".join(cap(part) for part in mailbox.split(".")) + "@" + host
            emails.append(address)
        is_influencer = i in influencers
        k_channels = rng.choices((2, 3, 4), weights=(50, 35, 15))[0]
        channels = rng.sample(SOCIAL_CHANNELS, k_channels)
        if is_influencer and "twitter" not in channels and "instagram" not in channels:
            channels[0] = rng.choice(("twitter", "instagram"))
        channels.sort(key=SOCIAL_CHANNELS.index)
        identities = []
        for ch in channels:
            handle = unique(rng, person_handle(rng, first, last, ch), taken[ch], key=handle_norm)
            if ch in ("twitter", "instagram") and rng.random() < 0.10:
                handle = "@" + handle
            identities.append(IdentityRef(channel=ch, handle=handle))
        if is_influencer:
            followers: Optional[int] = int(round(math.exp(rng.uniform(math.log(50_000), math.log(2_000_000))), -2))
        elif rng.random() < 0.65:
            followers = min(40_000, int(rng.lognormvariate(math.log(250), 1.3)))
        else:
            followers = None
        out.append(Customer(customer_id=f"C{i + 1:06d}", name=f"{first} {last}", emails=emails, tier=tier,
                            lifetime_value=ltv, identities=identities, followers=followers))
    return out


def customer_dict(c: Customer) -> dict[str, Any]:
    d: dict[str, Any] = {"customer_id": c.customer_id, "name": c.name, "emails": list(c.emails), "tier": c.tier,
                         "lifetime_value": c.lifetime_value,
                         "identities": [{"channel": i.channel, "handle": i.handle} for i in c.identities]}
    if c.followers is not None:
        d["followers"] = c.followers
    return d
