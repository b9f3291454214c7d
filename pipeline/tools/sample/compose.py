"""Mention texts: template values drawn on first use (Params) and the TextComposer of posts, mails, tickets."""
from __future__ import annotations

from datetime import datetime, timedelta
from random import Random
from typing import Any, Callable, Optional

from pipeline.tools.sample.brands import Brand, Issue
from pipeline.tools.sample.config import MAIL_CHANNELS
from pipeline.tools.sample.helpers import cap, random_code
from pipeline.tools.sample.vocabulary import (
    CITIES, CODE_CHARS, COMPLAINT_EXTRAS, DIRECT_FRAMES, DRINKS, EMAIL_GREETINGS, EMAIL_NEUTRAL, EMAIL_REQUESTS,
    EMAIL_SIGNOFFS, GENERIC_NEUTRAL, INTENT_EMOJI, INTENT_TAGS, ITEMS, NEGATIVE_OTHER, POLITE_FRAMES, PRAISE_FRAMES,
    QUESTION_FRAMES, REVIEW_COMPLAINT, REVIEW_NEUTRAL, REVIEW_PRAISE, SARCASTIC_FRAMES, STREETS, WEEKDAYS,
)


_PARAM_GENERATORS: dict[str, Callable[[Random, dict], str]] = {
    "city": lambda r, p: r.choice(CITIES),
    "city_tag": lambda r, p: p["city"].lower(),
    "flight": lambda r, p: f"AX{r.randint(100, 2999)}",
    "hours": lambda r, p: str(r.choice((2, 3, 3, 4, 5, 6, 7, 9))),
    "order": lambda r, p: f"#{r.randint(10_000_000, 99_999_999)}",
    "amount": lambda r, p: r.choice(("12.99", "19.90", "24.50", "39.99", "49.00", "59.99", "89.00", "129.00",
                                     "240.00", "412.30")),
    "cur": lambda r, p: r.choice(("€", "€", "$", "£")),
    "item": lambda r, p: r.choice(ITEMS),
    "drink": lambda r, p: r.choice(DRINKS),
    "street": lambda r, p: r.choice(STREETS),
    "ref": lambda r, p: random_code(r, 6),
    "code": lambda r, p: f"E-{r.randint(100, 9999)}",
    "years": lambda r, p: str(r.randint(2, 15)),
    "mins": lambda r, p: str(r.randint(10, 50)),
    "date": lambda r, p: (p["_ts"] - timedelta(days=r.randint(0, 2))).strftime("%d %b").lstrip("0"),
    "weekday": lambda r, p: WEEKDAYS[(p["_ts"] - timedelta(days=r.randint(1, 3))).weekday()],
    "time": lambda r, p: (p["_ts"] - timedelta(minutes=r.randint(15, 90))).strftime("%H:%M"),
    "news_url": lambda r, p: f"https://news.example.org/{p['brand'].lower()}-{r.randint(1000, 9999)}",
}


class Params(dict):
    """Template values, drawn from the rng on first use; a case shares one instance so its details stay the same."""

    def __init__(self, rng: Random, **values: Any):
        super().__init__(**values)
        self.rng = rng

    def __missing__(self, key: str) -> str:
        gen = _PARAM_GENERATORS.get(key)
        if gen is None:
            raise KeyError(key)
        value = gen(self.rng, self)
        self[key] = value
        return value


def render(template: str, p: Params) -> str:
    return template.format_map(p)


class TextComposer:
    """Writes the text of a mention for a brand, intent and channel. All draws come from `rng`, in a fixed order."""

    def __init__(self, rng: Random):
        self.rng = rng

    def brand_ref(self, brand: Brand, channel: str) -> str:
        r = self.rng.random()
        if channel in ("reviews",) or channel in MAIL_CHANNELS:
            return brand.name
        if channel == "facebook":
            return "@" + brand.handle if r < 0.5 else brand.name
        if r < 0.85:
            return "@" + brand.handle
        if r < 0.90:
            return "@" + brand.name
        return brand.name

    def params(self, brand: Brand, channel: str, ts: datetime, base: Optional[Params] = None) -> Params:
        p = Params(self.rng) if base is None else base
        p["_ts"] = ts
        p["brand"] = brand.name
        p["h"] = self.brand_ref(brand, channel)
        return p

    def complaint_phrases(self, issue: Issue, p: Params) -> None:
        for key in ("clause", "sarcasm"):
            if f"_{key}" not in p:  # a case keeps its wording across follow-ups
                p[f"_{key}"] = self.rng.choice(getattr(issue, key))
            p[key] = render(p[f"_{key}"], p)
        p["Clause"] = cap(p["clause"])
        p["noun"] = render(issue.noun, p)
        p["subject"] = render(issue.subject, p)
        p["formal"] = render(issue.formal, p)
        p["Extra"] = render(self.rng.choice(COMPLAINT_EXTRAS), p)

    def social_complaint(self, brand: Brand, issue: Issue, p: Params, channel: str) -> str:
        rng = self.rng
        self.complaint_phrases(issue, p)
        if channel == "reviews":
            return render(rng.choice(REVIEW_COMPLAINT), p)
        r = rng.random()
        if r < 0.15 and issue.direct:
            text = render(rng.choice(issue.direct), p)
        elif r < 0.55:
            text = render(rng.choice(DIRECT_FRAMES), p)
        elif r < 0.80:
            text = render(rng.choice(POLITE_FRAMES), p)
        else:
            text = render(rng.choice(SARCASTIC_FRAMES), p)
        if rng.random() < 0.25:
            text = f"{text}{'' if text[-1:] in '.!?' else '.'} {p['Extra']}"
        if rng.random() < 0.03:
            text = text.lower().rstrip(".!")
        return text

    def mail_complaint(self, issue: Issue, p: Params, channel: str, author_name: Optional[str],
                       prior: str = "") -> str:
        rng = self.rng
        self.complaint_phrases(issue, p)
        request = rng.choice(EMAIL_REQUESTS)
        if channel == "support":
            if rng.random() < 0.5:
                return f"{p['formal']}{prior} {request}"
            return f"Hi, {p['clause']}.{prior} {request}"
        signature = f"\n{author_name}" if author_name else ""
        return (f"Subject: {p['subject']}\n\n{render(rng.choice(EMAIL_GREETINGS), p)}\n\n{p['formal']}{prior}\n\n"
                f"{request}\n\n{rng.choice(EMAIL_SIGNOFFS)}{signature}")

    def text_for(self, brand: Brand, intent: str, channel: str, p: Params, author_name: Optional[str]) -> str:
        rng = self.rng
        if intent == "complaint":
            issue = rng.choices(brand.issues, weights=[i.weight for i in brand.issues])[0]
            if channel in MAIL_CHANNELS:
                return self.mail_complaint(issue, p, channel, author_name)
            return self.social_complaint(brand, issue, p, channel)
        if intent == "praise":
            p["praise"] = render(rng.choice(brand.praise), p)
            p["Praise"] = cap(p["praise"])
            if channel == "reviews":
                return render(rng.choice(REVIEW_PRAISE), p)
            if channel in MAIL_CHANNELS:
                body = f"Just wanted to say thank you: {p['praise']}."
                if channel == "support":
                    return f"Hi, {body[0].lower()}{body[1:]}"
                sig = f"\n{author_name}" if author_name else ""
                return f"Subject: Thank you\n\nHi {brand.name} team,\n\n{body}\n\nBest,{sig}"
            return render(rng.choice(PRAISE_FRAMES), p)
        if intent == "question":
            p["question"] = render(rng.choice(brand.questions), p)
            p["Question"] = cap(p["question"])
            if channel in MAIL_CHANNELS:
                if channel == "support":
                    return p["Question"] if rng.random() < 0.6 else f"Hi, {p['question']}"
                sig = f"\n{author_name}" if author_name else ""
                return f"Subject: Question\n\nHello,\n\n{p['Question']}\n\nThanks,{sig}"
            return render(rng.choice(QUESTION_FRAMES), p)
        if intent == "neutral":
            if channel in MAIL_CHANNELS:
                body = render(rng.choice(EMAIL_NEUTRAL), p)
                if channel == "support":
                    return body
                sig = f"\n{author_name}" if author_name else ""
                return f"Subject: My account\n\nHello,\n\n{body}\n\nThank you,{sig}"
            if channel == "reviews":
                p["question_plain"] = cap(render(rng.choice(brand.questions), p))
                return render(rng.choice(REVIEW_NEUTRAL), p)
            r = rng.random()
            if r < 0.004 and channel == "instagram":
                return ""  # a photo without a caption: empty text is valid
            if r < 0.01:
                return rng.choice(("🔥🔥🔥", "👀", "☕☕", "✈️✈️", "📦"))
            tpl = rng.choice(brand.neutral) if r < 0.75 else rng.choice(GENERIC_NEUTRAL)
            return render(tpl, p)
        # negative_other: negative words, but not a complaint about the brand
        return render(rng.choice(NEGATIVE_OTHER), p)

    def decorate(self, text: str, brand: Brand, intent: str, channel: str) -> str:
        """Emoji, hashtags and links as people add them on social channels."""
        rng = self.rng
        if channel not in ("twitter", "facebook", "instagram") or not text:
            return text
        if rng.random() < 0.30:
            text += " " + rng.choice(INTENT_EMOJI[intent] + brand.emoji)
        tag_p = 0.6 if channel == "instagram" else 0.22
        if rng.random() < tag_p:
            tags = [rng.choice(brand.tags)]
            if rng.random() < 0.4:
                tags.append(rng.choice(INTENT_TAGS[intent]))
            text += " " + " ".join(tags)
        if rng.random() < 0.06:
            text += f" https://pics.example.com/{random_code(rng, 8, CODE_CHARS[:62])}"
        return text
