"""Mention events: the MentionFactory draws background mentions, unresolved complaint cases and the outage spike."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from random import Random
from typing import Any, Optional

from pipeline.contract.records import Customer
from pipeline.tools.sample.authors import AuthorPool
from pipeline.tools.sample.brands import BRANDS, Brand
from pipeline.tools.sample.compose import Params, TextComposer, render
from pipeline.tools.sample.config import (
    CHANNEL_SHARE, CHANNELS, HOUR_WEIGHTS, INTENTS, KNOWN_AUTHOR_SHARE, MAIL_CHANNELS, NON_ENGLISH_SHARE, PRIOR_ACTION,
)
from pipeline.tools.sample.helpers import ago, cumulative, iso, ordinal, random_code, since
from pipeline.tools.sample.vocabulary import (
    CITIES, CODE_CHARS, CROSS_FOLLOWUP_FRAMES, FOLLOWUP_FRAMES, FOREIGN, SPIKE_FOREIGN, SPIKE_TEXTS,
)


@dataclass
class Event:
    ts: datetime
    seq: int
    channel: str
    brand: Brand
    intent: str
    customer: Optional[Customer]
    record: dict[str, Any]
    reply_to: Optional["Event"] = None
    junk: Optional[str] = None
    id: str = ""


def intent_weights(channel: str, brand: Brand) -> dict[str, float]:
    if channel in MAIL_CHANNELS:
        w = {"complaint": 0.40, "praise": 0.06, "question": 0.36, "neutral": 0.18, "negative_other": 0.0}
    elif channel == "reviews":
        w = {"complaint": 0.34, "praise": 0.46, "question": 0.0, "neutral": 0.20, "negative_other": 0.0}
    else:
        w = {"complaint": 0.20, "praise": 0.31, "question": 0.17, "neutral": 0.21, "negative_other": 0.11}
    w["complaint"] *= brand.complaint_bias
    return w


class MentionFactory:
    """Builds mention events from the rng, the time slots, the authors and the texts; draws come in a fixed order."""

    def __init__(self, rng: Random, customers: list[Customer], n: int, start: datetime, days: int):
        self.rng = rng
        self.start = start if start.tzinfo else start.replace(tzinfo=UTC)
        self.days = max(1, days)
        self.end = self.start + timedelta(days=self.days)
        self.seq = 0
        day_factors = [rng.uniform(0.9, 1.1) for _ in range(self.days)]
        self.slot_weights = [day_factors[d] * HOUR_WEIGHTS[h] for d in range(self.days) for h in range(24)]
        self.slot_cum = cumulative(self.slot_weights)
        self.brand_cum = cumulative([b.share for b in BRANDS])
        self.channel_cum = cumulative([CHANNEL_SHARE[c] for c in CHANNELS])
        self.authors = AuthorPool(rng, customers, n)
        self.text = TextComposer(rng)

    # -- time
    def random_ts(self) -> datetime:
        slot = self.rng.choices(range(len(self.slot_weights)), cum_weights=self.slot_cum)[0]
        return self.start + timedelta(hours=slot, seconds=self.rng.randrange(3600))

    # -- records
    def new_event(self, ts: datetime, brand: Brand, channel: str, intent: str, customer: Optional[Customer],
                  text: str, author: dict[str, Any], lang: Optional[str] = None) -> Event:
        rng = self.rng
        rec: dict[str, Any] = {"channel": channel, "text": text, "created_at": iso(ts), "brand": brand.name}
        rec.update(author)
        if lang:
            rec["lang"] = lang
        elif channel == "twitter" and rng.random() < 0.6:
            rec["lang"] = "en"
        bare = str(author["author"]).strip().lstrip("@")
        if channel == "twitter" and rng.random() < 0.7:
            rec["url"] = f"https://x.example.com/{bare}/status/{rng.randint(10**17, 10**18 - 1)}"
        elif channel == "facebook" and rng.random() < 0.5:
            rec["url"] = f"https://facebook.example.com/{brand.handle}/posts/{rng.randint(10**14, 10**15 - 1)}"
        elif channel == "instagram" and rng.random() < 0.6:
            rec["url"] = f"https://instagram.example.com/p/{random_code(rng, 11, CODE_CHARS)}"
        elif channel == "reviews" and rng.random() < 0.8:
            rec["url"] = f"https://reviews.example.org/{brand.handle}/{rng.randint(100000, 999999)}"
        elif channel == "support" and rng.random() < 0.4:
            rec["url"] = f"https://support.example.com/tickets/{rng.randint(100000, 999999)}"
        meta = self.metadata(channel, intent, author.get("author_followers"))
        if meta is not None:
            rec["metadata"] = meta
        self.seq += 1
        return Event(ts=ts, seq=self.seq, channel=channel, brand=brand, intent=intent, customer=customer, record=rec)

    def metadata(self, channel: str, intent: str, followers: Optional[int]) -> Optional[dict[str, Any]]:
        rng = self.rng
        if channel == "reviews":
            rating = {"complaint": rng.choice((1, 1, 2)), "praise": rng.choice((4, 5, 5)),
                      "neutral": 3, "question": 3}.get(intent, 3)
            return {"rating": rating}
        if channel == "support" and rng.random() < 0.5:
            prio = "high" if intent == "complaint" and rng.random() < 0.3 else "normal"
            return {"queue": rng.choice(("billing", "technical", "general")), "priority": prio}
        if channel in ("twitter", "facebook", "instagram") and rng.random() < 0.25:
            reach = math.log1p((followers or 50) / 100)
            likes = int(rng.lognormvariate(reach, 1.0))
            second = "comments" if channel == "instagram" else "shares"
            return {"likes": likes, second: int(likes * rng.uniform(0, 0.3))}
        return None

    def base_event(self) -> Event:
        rng = self.rng
        ts = self.random_ts()
        brand = rng.choices(BRANDS, cum_weights=self.brand_cum)[0]
        channel = rng.choices(CHANNELS, cum_weights=self.channel_cum)[0]
        customer = self.authors.pick_customer(channel) if rng.random() < KNOWN_AUTHOR_SHARE else None
        prospect = None if customer is not None else self.authors.pick_prospect(channel)
        author = self.authors.author_fields(channel, customer, prospect)
        name = author.get("author_name")
        p = self.text.params(brand, channel, ts)
        if channel != "email" and rng.random() < NON_ENGLISH_SHARE / (1 - CHANNEL_SHARE["email"]):
            lang = rng.choice(("es", "es", "fr", "de"))
            intent = rng.choices(("complaint", "praise", "question"), weights=(35, 35, 30))[0]
            text = self.text.decorate(render(rng.choice(FOREIGN[lang][intent]), p), brand, intent, channel)
            return self.new_event(ts, brand, channel, intent, customer, text, author, lang)
        w = intent_weights(channel, brand)
        intent = rng.choices(INTENTS, weights=[w[i] for i in INTENTS])[0]
        text = self.text.decorate(self.text.text_for(brand, intent, channel, p, name), brand, intent, channel)
        return self.new_event(ts, brand, channel, intent, customer, text, author)

    # -- scenarios
    def case_events(self, customer: Customer, kind: str) -> list[Event]:
        """A customer's complaint that is not resolved: repeated on one channel, or moved from public to e-mail."""
        rng = self.rng
        brand = rng.choices(BRANDS, cum_weights=self.brand_cum)[0]
        issue = rng.choices(brand.issues, weights=[i.weight if i.key != "outage" else 0 for i in brand.issues])[0]
        socials = [i.channel for i in customer.identities if i.channel != "reviews"] or [customer.identities[0].channel]
        public = rng.choice(socials)
        if kind == "repeat":
            plan = [public] * rng.choices((2, 3, 4, 5), weights=(35, 35, 20, 10))[0]
        elif kind == "cross":
            plan = [public, rng.choice(MAIL_CHANNELS)] + ([public] if rng.random() < 0.35 else [])
        else:  # mixed: back and forth
            mail = rng.choice(MAIL_CHANNELS)
            plan = [public, public, mail] + rng.sample([public, mail], rng.randint(0, 2))
        total_h = self.days * 24
        t = self.start + timedelta(hours=rng.uniform(0, total_h * 0.55))
        first_ts = t
        case = Params(rng)
        events: list[Event] = []
        for step, channel in enumerate(plan):
            if step:
                gap_h = rng.uniform(0.25, 6) if channel != plan[step - 1] else rng.uniform(2, max(3.0, total_h * 0.22))
                t = t + timedelta(hours=gap_h)
                if t >= self.end:
                    if len(events) >= 2:
                        break
                    t = self.end - timedelta(minutes=rng.randint(1, 30))
            ts = t.replace(microsecond=0)
            author = self.authors.author_fields(channel, customer, None)
            p = self.text.params(brand, channel, ts, case)
            prev = events[-1] if events else None
            if prev is None:
                if channel in MAIL_CHANNELS:
                    text = self.text.mail_complaint(issue, p, channel, author.get("author_name"))
                else:
                    text = self.text.decorate(self.text.social_complaint(brand, issue, p, channel), brand,
                                              "complaint", channel)
            else:
                self.text.complaint_phrases(issue, p)
                p["day"] = str((ts - first_ts).days + 1)
                p["nth"] = ordinal(step + 1)
                p["since"] = since(ts - first_ts)
                p["prior_action"] = PRIOR_ACTION[prev.channel]
                p["ago"] = ago(ts - prev.ts)
                if channel in MAIL_CHANNELS:
                    if prev.channel != channel:
                        prior = f" I already {p['prior_action']} {p['ago']} but nobody got back to me."
                    else:
                        prior = f" This is my {p['nth']} message about this and I still have no answer."
                    text = self.text.mail_complaint(issue, p, channel, author.get("author_name"), prior)
                    if channel == "email" and prev.channel == "email":
                        text = "Subject: Re: " + text[len("Subject: "):]
                elif prev.channel != channel:
                    text = self.text.decorate(render(rng.choice(CROSS_FOLLOWUP_FRAMES), p), brand, "complaint", channel)
                else:
                    frames = [fr for fr in FOLLOWUP_FRAMES if "{day}" not in fr or (ts - first_ts).days >= 1]
                    text = self.text.decorate(render(rng.choice(frames), p), brand, "complaint", channel)
            ev = self.new_event(ts, brand, channel, "complaint", customer, text, author)
            if prev is not None and prev.channel == channel and (channel in MAIL_CHANNELS or rng.random() < 0.6):
                ev.reply_to = prev
            events.append(ev)
        return events

    def spike_events(self, brand: Brand, hour_start: datetime, count: int) -> list[Event]:
        """An outage: `count` complaints within one hour, front-loaded (most in the first 20 minutes)."""
        rng = self.rng
        outage = next(i for i in brand.issues if i.key == "outage")
        weights = {"twitter": 60, "facebook": 10, "instagram": 5, "support": 20, "email": 5}
        chans, cw = list(weights), list(weights.values())
        events = []
        cities = rng.sample(CITIES, 3)  # the region that is down
        for _ in range(count):
            ts = hour_start + timedelta(seconds=int(rng.triangular(0, 3599, 600)))
            channel = rng.choices(chans, weights=cw)[0]
            customer = self.authors.pick_customer(channel) if rng.random() < 0.55 else None
            prospect = None if customer is not None else self.authors.pick_prospect(channel)
            author = self.authors.author_fields(channel, customer, prospect)
            p = self.text.params(brand, channel, ts)
            p["city"] = rng.choice(cities)
            p["mins"] = str(max(5, int((ts - hour_start).total_seconds() // 60) + 5))
            p["time"] = hour_start.strftime("%H:%M")
            lang = None
            if channel in MAIL_CHANNELS:
                text = self.text.mail_complaint(outage, p, channel, author.get("author_name"))
            elif rng.random() < 0.04:
                lang = rng.choice(("es", "fr", "de"))
                text = render(rng.choice(SPIKE_FOREIGN[lang]), p)
            elif rng.random() < 0.7:
                text = self.text.decorate(render(rng.choice(SPIKE_TEXTS), p), brand, "complaint", channel)
            else:
                text = self.text.decorate(self.text.social_complaint(brand, outage, p, channel), brand,
                                          "complaint", channel)
            events.append(self.new_event(ts, brand, channel, "complaint", customer, text, author, lang))
        return events

    def expected_complaints_in_slot(self, brand: Brand, n_base: int, slot: int) -> float:
        p_c = sum(CHANNEL_SHARE[ch] * intent_weights(ch, brand)["complaint"] / sum(intent_weights(ch, brand).values())
                  for ch in CHANNELS)
        return n_base * brand.share * p_c * self.slot_weights[slot] / sum(self.slot_weights)
